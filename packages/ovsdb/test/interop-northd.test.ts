// Real ovn-northd against the ovnts server (serving NB and SB): it must compile the same
// logical flows as it does against a real ovsdb-server given the same NB contents, and
// `ovn-nbctl --wait=sb sync` must return.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { setLogLevel } from '../src/index.js';
import { RawClient, Sandbox, missingTools, type Background } from './helpers/real-tools.js';

setLogLevel('off');

const skip = missingTools('ovn-northd', 'ovn-nbctl', 'ovsdb-server', 'ovsdb-tool');

/** A small topology: two switches behind a router, VIFs, ACLs (one logged), a port group, a load balancer, NAT, DHCP. */
const NB_SCRIPT: string[][] = [
  ['ls-add', 'sw0'],
  ['ls-add', 'sw1'],
  ['lsp-add', 'sw0', 'vm1', '--', 'lsp-set-addresses', 'vm1', '00:00:00:00:00:01 10.0.0.11'],
  ['lsp-add', 'sw0', 'vm2', '--', 'lsp-set-addresses', 'vm2', '00:00:00:00:00:02 10.0.0.12', '--', 'lsp-set-port-security', 'vm2', '00:00:00:00:00:02 10.0.0.12'],
  ['lsp-add', 'sw1', 'vm3', '--', 'lsp-set-addresses', 'vm3', '00:00:00:00:00:03 10.0.1.13'],
  ['lr-add', 'lr0'],
  ['lrp-add', 'lr0', 'lr0-sw0', '00:00:00:00:ff:01', '10.0.0.1/24'],
  ['lrp-add', 'lr0', 'lr0-sw1', '00:00:00:00:ff:02', '10.0.1.1/24'],
  ['lsp-add', 'sw0', 'sw0-lr0', '--', 'lsp-set-type', 'sw0-lr0', 'router', '--', 'lsp-set-addresses', 'sw0-lr0', 'router', '--', 'lsp-set-options', 'sw0-lr0', 'router-port=lr0-sw0'],
  ['lsp-add', 'sw1', 'sw1-lr0', '--', 'lsp-set-type', 'sw1-lr0', 'router', '--', 'lsp-set-addresses', 'sw1-lr0', 'router', '--', 'lsp-set-options', 'sw1-lr0', 'router-port=lr0-sw1'],
  ['lr-route-add', 'lr0', '0.0.0.0/0', '10.0.1.254'],
  ['lr-nat-add', 'lr0', 'snat', '10.0.1.1', '10.0.0.0/24'],
  ['acl-add', 'sw0', 'to-lport', '1001', 'ip4 && tcp.dst == 22', 'drop'],
  ['--log', '--name=udp-in', '--severity=alert', 'acl-add', 'sw0', 'from-lport', '1002', 'ip4 && udp', 'allow-related'],
  ['pg-add', 'pg_web', 'vm1', 'vm3'],
  ['--type=port-group', 'acl-add', 'pg_web', 'to-lport', '1000', 'outport == @pg_web && ip4 && tcp.dst == 80', 'allow-related'],
  ['lb-add', 'lb0', '10.0.0.100:80', '10.0.0.11:8080,10.0.1.13:8080', 'tcp'],
  ['ls-lb-add', 'sw0', 'lb0'],
  ['lr-lb-add', 'lr0', 'lb0'],
  ['--id=@d', 'create', 'DHCP_Options', 'cidr=10.0.0.0/24', 'options="lease_time"="3600" "router"="10.0.0.1" "server_id"="10.0.0.1" "server_mac"="00:00:00:00:ff:01"', '--', 'set', 'Logical_Switch_Port', 'vm1', 'dhcpv4_options=@d'],
];

interface Flow {
  readonly dp: string;
  readonly pipeline: string;
  readonly table: number;
  readonly priority: number;
  readonly match: string;
  readonly actions: string;
}

/** The Southbound contents that matter: datapaths, port bindings and logical flows, named without UUIDs. */
async function southbound(remote: string): Promise<{ datapaths: string[]; ports: string[]; flows: string[] }> {
  const c = await RawClient.connect(remote);
  try {
    const sel = (table: string, columns: string[]): unknown => ({ op: 'select', table, where: [], columns });
    const r = await c.request(
      'transact',
      [
        'OVN_Southbound',
        sel('Datapath_Binding', ['_uuid', 'external_ids']),
        sel('Port_Binding', ['logical_port', 'type', 'datapath']),
        sel('Logical_DP_Group', ['_uuid', 'datapaths']),
        sel('Logical_Flow', ['logical_datapath', 'logical_dp_group', 'pipeline', 'table_id', 'priority', 'match', 'actions']),
      ],
      'sb',
      15000,
    );
    const [dps, pbs, groups, lflows] = (r.result as { rows: Record<string, unknown>[] }[]).map((x) => x.rows);
    const uuid = (v: unknown): string => (Array.isArray(v) && v[0] === 'uuid' ? (v[1] as string) : '');
    const dpName = new Map<string, string>();
    for (const d of dps!) {
      const ids = new Map((d['external_ids'] as [string, [string, string][]])[1]);
      dpName.set(uuid(d['_uuid']), ids.get('name') ?? '?');
    }
    const setOf = (v: unknown): unknown[] => (Array.isArray(v) && v[0] === 'set' ? (v[1] as unknown[]) : [v]);
    const groupName = new Map<string, string>();
    for (const g of groups!) groupName.set(uuid(g['_uuid']), `{${setOf(g['datapaths']).map((d) => dpName.get(uuid(d)) ?? '?').sort().join(',')}}`);
    const flows = lflows!.map((f) => {
      const dp = uuid(f['logical_datapath']) ? dpName.get(uuid(f['logical_datapath'])) : groupName.get(uuid(f['logical_dp_group']));
      const flow: Flow = { dp: dp ?? '?', pipeline: f['pipeline'] as string, table: f['table_id'] as number, priority: f['priority'] as number, match: f['match'] as string, actions: f['actions'] as string };
      return JSON.stringify(flow);
    });
    return {
      datapaths: [...dpName.values()].sort(),
      ports: pbs!.map((p) => `${dpName.get(uuid(p['datapath']))}/${p['logical_port'] as string}/${p['type'] as string}`).sort(),
      flows: flows.sort(),
    };
  } finally {
    c.close();
  }
}

t.test('real ovn-northd compiles the same logical flows against ovnts as against ovsdb-server', { skip }, async (t) => {
  const sb = new Sandbox();
  t.teardown(() => sb.close());
  const servers = {
    real: await sb.startRealServer('real', ['ovn-nb', 'ovn-sb']),
    ovnts: (await sb.startTsServer('ts', ['ovn-nb', 'ovn-sb'])).remote,
  };
  const northds: Record<string, Background> = {};
  for (const [name, remote] of Object.entries(servers)) {
    northds[name] = sb.spawn('ovn-northd', [
      `--ovnnb-db=${remote}`,
      `--ovnsb-db=${remote}`,
      '--no-chdir',
      `--pidfile=${sb.path(`northd-${name}.pid`)}`,
      `--log-file=${sb.path(`northd-${name}.log`)}`,
      `--unixctl=${sb.path(`northd-${name}.ctl`)}`,
      '-vconsole:off',
    ]);
  }
  const results: Record<string, Awaited<ReturnType<typeof southbound>>> = {};
  for (const [name, remote] of Object.entries(servers)) {
    // The whole script as one ovn-nbctl invocation (one transaction).
    const r = await sb.run('ovn-nbctl', [`--db=${remote}`, ...NB_SCRIPT.flatMap((step, i) => (i === 0 ? step : ['--', ...step]))]);
    t.equal(r.code, 0, `${name}: the ovn-nbctl script${r.code === 0 ? '' : `: ${r.stderr}`}`);
    const sync = await sb.run('ovn-nbctl', [`--db=${remote}`, '--timeout=30', '--wait=sb', 'sync'], { timeoutMs: 40000 });
    t.equal(sync.code, 0, `${name}: ovn-nbctl --wait=sb sync returns${sync.code === 0 ? '' : `: ${sync.stderr}`}`);
    t.ok(northds[name]!.running, `${name}: ovn-northd is still running`);
    results[name] = await southbound(remote);
  }
  const real = results['real']!;
  const ovnts = results['ovnts']!;
  t.same(real.datapaths, ['lr0', 'sw0', 'sw1'], 'real: Datapath_Binding rows');
  t.same(ovnts.datapaths, real.datapaths, 'ovnts: the same Datapath_Binding rows');
  t.ok(real.ports.length >= 7, 'real: Port_Binding rows');
  t.same(ovnts.ports, real.ports, 'ovnts: the same Port_Binding rows');
  t.ok(real.flows.length > 100, `real: ${real.flows.length} logical flows`);
  t.equal(ovnts.flows.length, real.flows.length, 'ovnts: the same number of logical flows');
  const realSet = new Set(real.flows);
  const tsSet = new Set(ovnts.flows);
  t.same(ovnts.flows.filter((f) => !realSet.has(f)).slice(0, 20), [], 'no flow only in the ovnts-served SB');
  t.same(real.flows.filter((f) => !tsSet.has(f)).slice(0, 20), [], 'no flow missing from the ovnts-served SB');
  t.same(ovnts.flows, real.flows, 'identical (pipeline, table_id, priority, match, actions) multisets, per datapath');
  // An incremental change propagates too.
  for (const [name, remote] of Object.entries(servers)) {
    const r = await sb.run('ovn-nbctl', [`--db=${remote}`, '--timeout=30', '--wait=sb', 'lsp-del', 'vm2'], { timeoutMs: 40000 });
    t.equal(r.code, 0, `${name}: lsp-del with --wait=sb`);
    results[name] = await southbound(remote);
  }
  t.notOk(results['ovnts']!.ports.some((p) => p.includes('/vm2/')), 'ovnts: vm2 Port_Binding removed');
  t.same(results['ovnts']!.flows, results['real']!.flows, 'identical flows after deleting a port');
  // ovn-northd complains about nothing it does not also complain about with ovsdb-server.
  const complaints = (name: string): string[] =>
    readFileSync(sb.path(`northd-${name}.log`), 'utf8')
      .split('\n')
      .filter((l) => /\|(WARN|ERR|EMER)\|/.test(l))
      .map((l) => l.replace(/^[^|]*\|\d+\|/, '').replaceAll(servers[name as keyof typeof servers], 'REMOTE'));
  t.same(complaints('ovnts'), complaints('real'), 'the same warnings and errors in the ovn-northd logs');
});
