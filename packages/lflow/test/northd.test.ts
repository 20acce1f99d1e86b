// Acceptance: every logical-flow match real ovn-northd 23.03 writes for the oracle scenarios
// (../shared/oracle/scenarios) parses, prints back to an equal AST, and normalizes. Address
// sets and port groups come from the SB Address_Set / Port_Group tables, and `$svc_monitor_mac`
// from SB_Global options, as ovn-controller resolves them.
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalize, parseActions, parseMatch, printActions, printMatch, type MatchLookup } from '../src/index.js';
import { northdMissing, southboundFor, type SouthboundMatches } from '@ovnts/testkit';
import { astEqual } from './helpers.js';

const SCENARIOS = '/work/shared/oracle/scenarios';
const missing = northdMissing() ?? (existsSync(SCENARIOS) ? undefined : `${SCENARIOS} not found`);

interface Scenario {
  readonly name: string;
  readonly nbctl: string[][];
  /** ovn-sbctl lines (the oracle calls them chassis lines: what ovn-controller would write). */
  readonly chassis?: string[][];
}

function lookupFor(sb: SouthboundMatches): MatchLookup {
  const sets = new Map(sb.addressSets);
  const mac = sb.options.get('svc_monitor_mac');
  if (mac !== undefined) sets.set('svc_monitor_mac', [mac]);
  // Northd 23.03 writes one SB Port_Group per datapath, named "<datapath key>_<name>", and
  // ovn-controller picks the one of the flow's datapath; for parsing, the union of them will do.
  const groups = new Map<string, string[]>();
  for (const [full, ports] of sb.portGroups) {
    const name = /^\d+_(.*)$/.exec(full)?.[1] ?? full;
    groups.set(name, [...(groups.get(name) ?? []), ...ports]);
  }
  return { addressSet: (n) => sets.get(n), portGroup: (n) => groups.get(n) };
}

/** Beyond the oracle topologies: port groups, address sets, a gateway port (is_chassis_resident), LB, DHCP. */
const EXTRA: Scenario = {
  name: 'lflow-extra',
  nbctl: [
    ['ls-add', 'sw0'],
    ['lsp-add', 'sw0', 'vm1', '--', 'lsp-set-addresses', 'vm1', '00:00:00:00:00:01 10.0.0.11 fd00::11'],
    ['lsp-add', 'sw0', 'vm2', '--', 'lsp-set-addresses', 'vm2', '00:00:00:00:00:02 10.0.0.12', '--', 'lsp-set-port-security', 'vm2', '00:00:00:00:00:02 10.0.0.12'],
    ['lr-add', 'lr0'],
    ['lrp-add', 'lr0', 'lr0-sw0', '00:00:00:00:ff:01', '10.0.0.1/24', 'fd00::1/64'],
    ['lrp-add', 'lr0', 'lr0-pub', '00:00:00:00:ff:02', '172.16.0.1/24'],
    ['lrp-set-gateway-chassis', 'lr0-pub', 'hv1', '10'],
    ['lsp-add', 'sw0', 'sw0-lr0', '--', 'lsp-set-type', 'sw0-lr0', 'router', '--', 'lsp-set-addresses', 'sw0-lr0', 'router', '--', 'lsp-set-options', 'sw0-lr0', 'router-port=lr0-sw0'],
    ['lr-nat-add', 'lr0', 'dnat_and_snat', '172.16.0.100', '10.0.0.11', 'vm1', '00:00:00:00:ee:01'],
    ['pg-add', 'pg_web', 'vm1', 'vm2'],
    ['create', 'Address_Set', 'name=as_clients', 'addresses="10.1.0.0/16","192.168.7.7"'],
    ['--type=port-group', 'acl-add', 'pg_web', 'to-lport', '1000', 'outport == @pg_web && ip4.src == $as_clients && tcp.dst == {80, 443}', 'allow-related'],
    ['--type=port-group', 'acl-add', 'pg_web', 'from-lport', '900', 'inport == @pg_web && ip4 && tcp.dst >= 1000 && tcp.dst <= 2000', 'drop'],
    ['lb-add', 'lb0', '10.0.0.100:80', '10.0.0.11:8080,10.0.0.12:8080', 'tcp'],
    ['ls-lb-add', 'sw0', 'lb0'],
    ['--id=@d', 'create', 'DHCP_Options', 'cidr=10.0.0.0/24', 'options="lease_time"="3600" "router"="10.0.0.1" "server_id"="10.0.0.1" "server_mac"="00:00:00:00:ff:01"', '--', 'set', 'Logical_Switch_Port', 'vm1', 'dhcpv4_options=@d'],
  ],
};

t.test('real ovn-northd matches', { skip: missing ? `real OVN unavailable: ${missing}` : false }, async (t) => {
  const files = readdirSync(SCENARIOS).filter((f) => f.endsWith('.json')).sort();
  const scenarios = [...files.map((f) => JSON.parse(readFileSync(join(SCENARIOS, f), 'utf8')) as Scenario), EXTRA];
  // Two sandboxes at a time: the machine has two cores.
  const results: { name: string; sb: SouthboundMatches }[] = [];
  const queue = [...scenarios];
  await Promise.all([0, 1].map(async () => {
    for (let s = queue.shift(); s; s = queue.shift()) results.push({ name: s.name, sb: await southboundFor(s.nbctl, s.chassis ?? []) });
  }));
  const distinct = new Set<string>();
  const failures: string[] = [];
  let total = 0;
  for (const { name, sb } of results) {
    const lookup = lookupFor(sb);
    for (const m of sb.matches) {
      total++;
      try {
        const e = parseMatch(m, { lookup });
        const again = parseMatch(printMatch(e), { lookup });
        if (!astEqual(e, again)) failures.push(`${name}: round trip changed ${m} -> ${printMatch(e)}`);
        normalize(e, { isChassisResident: () => true });
        distinct.add(m);
      } catch (err) {
        failures.push(`${name}: ${m}: ${(err as Error).message}`);
      }
    }
  }
  t.same(failures, [], 'every match parses, round-trips and normalizes');
  const actionFailures: string[] = [];
  const distinctActions = new Set<string>();
  for (const { name, sb } of results) {
    for (const a of sb.actions) {
      try {
        const parsed = parseActions(a);
        const printed = printActions(parsed);
        if (printActions(parseActions(printed)) !== printed) actionFailures.push(`${name}: printing is not stable for ${a}`);
        distinctActions.add(a);
      } catch (err) {
        actionFailures.push(`${name}: ${a}: ${(err as Error).message}`);
      }
    }
  }
  t.same(actionFailures, [], 'every action list parses and prints stably');
  t.ok(distinctActions.size > 100, `parsed ${distinctActions.size} distinct action lists`);
  t.ok(distinct.size > 200, `parsed ${distinct.size} distinct matches (${total} flows, ${scenarios.length} scenarios)`);
  t.comment(`real northd: ${distinct.size} distinct matches parsed from ${total} logical flows of ${scenarios.length} scenarios`);
});
