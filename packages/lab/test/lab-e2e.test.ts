// End to end through the lab: separate processes for the databases, northd, and per host a
// local database, a switch and a controller; simulated VMs plugged in as dgram VIFs. Checks
// same-switch and cross-host ping, routing with TTL decrement, an ACL drop and an allow-related
// ACL, tenant isolation with overlapping addresses, a DHCP lease from OVN's native DHCP, SNAT and
// a floating IP through a distributed gateway port hosted on the other host, a load balancer
// spreading connections over its backends, and that `lab down` stops everything it started.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyTopology, isAlive, labDown, labUp, runChecks, vmPing, vmRequest, type Topology } from '../src/index.js';

const TOPOLOGY: Topology = {
  nbctl: [
    ['ls-add', 'sw1'],
    ['ls-add', 'sw2'],
    ['lr-add', 'r1'],
    ['lrp-add', 'r1', 'r1-sw1', '00:00:00:00:ff:01', '10.0.1.1/24'],
    ['lrp-add', 'r1', 'r1-sw2', '00:00:00:00:ff:02', '10.0.2.1/24'],
    ['lsp-add', 'sw1', 'sw1-r1', '--', 'lsp-set-type', 'sw1-r1', 'router', '--', 'lsp-set-addresses', 'sw1-r1', 'router', '--', 'lsp-set-options', 'sw1-r1', 'router-port=r1-sw1'],
    ['lsp-add', 'sw2', 'sw2-r1', '--', 'lsp-set-type', 'sw2-r1', 'router', '--', 'lsp-set-addresses', 'sw2-r1', 'router', '--', 'lsp-set-options', 'sw2-r1', 'router-port=r1-sw2'],
    ['acl-add', 'sw1', 'to-lport', '1000', 'ip4.src == 10.0.1.13 && icmp4', 'drop'],
    ['ls-add', 'other'],
    ['lsp-add', 'sw1', 'dh', '--', 'lsp-set-addresses', 'dh', '00:00:00:00:01:50 10.0.1.50'],
    // The outside: a gateway port hosted on hv1, SNAT for sw1 and sw2, a floating IP for c (hv2).
    ['lrp-add', 'r1', 'r1-ext', '00:00:00:00:ff:0e', '172.16.0.1/24'],
    ['ls-add', 'ext'],
    ['lsp-add', 'ext', 'ext-r1', '--', 'lsp-set-type', 'ext-r1', 'router', '--', 'lsp-set-addresses', 'ext-r1', 'router', '--', 'lsp-set-options', 'ext-r1', 'router-port=r1-ext'],
    ['lrp-set-gateway-chassis', 'r1-ext', 'hv1', '10'],
    ['lr-nat-add', 'r1', 'snat', '172.16.0.1', '10.0.0.0/16'],
    ['lr-nat-add', 'r1', 'dnat_and_snat', '172.16.0.21', '10.0.2.21'],
    // A load balancer on sw1 for two backends on sw2, and sw2 admits only TCP 8080 from sw1.
    ['lb-add', 'lb1', '10.0.2.100:8080', '10.0.2.21:8080,10.0.2.22:8080', 'tcp'],
    ['ls-lb-add', 'sw1', 'lb1'],
    ['acl-add', 'sw2', 'to-lport', '1000', 'ip4.src == 10.0.1.0/24 && tcp.dst == 8080', 'allow-related'],
    ['acl-add', 'sw2', 'to-lport', '900', 'ip4.src == 10.0.1.0/24 && tcp', 'drop'],
    ['--id=@d', 'create', 'DHCP_Options', 'cidr=10.0.1.0/24', 'options="lease_time"="3600" "router"="10.0.1.1" "server_id"="10.0.1.1" "server_mac"="00:00:00:00:ff:01"', '--', 'set', 'Logical_Switch_Port', 'dh', 'dhcpv4_options=@d'],
  ],
  vms: [
    { name: 'a', host: 'hv1', switch: 'sw1', mac: '00:00:00:00:01:11', ip: '10.0.1.11/24', gw: '10.0.1.1' },
    { name: 'b', host: 'hv2', switch: 'sw1', mac: '00:00:00:00:01:12', ip: '10.0.1.12/24', gw: '10.0.1.1' },
    { name: 'c', host: 'hv2', switch: 'sw2', mac: '00:00:00:00:02:21', ip: '10.0.2.21/24', gw: '10.0.2.1', serve: [8080, 9090] },
    { name: 'c2', host: 'hv1', switch: 'sw2', mac: '00:00:00:00:02:22', ip: '10.0.2.22/24', gw: '10.0.2.1', serve: [8080] },
    { name: 'inet', host: 'hv1', switch: 'ext', mac: '00:00:00:00:ee:64', ip: '172.16.0.100/24', serve: [80] },
    { name: 'd', host: 'hv1', switch: 'sw1', mac: '00:00:00:00:01:13', ip: '10.0.1.13/24', gw: '10.0.1.1' },
    { name: 'x', host: 'hv1', switch: 'other', mac: '00:00:00:00:09:11', ip: '10.0.1.12/24' },
    { name: 'dh', host: 'hv2', mac: '00:00:00:00:01:50' },
  ],
  checks: [
    { from: 'a', to: 'b', expect: 'reach' },
    { from: 'b', to: 'a', expect: 'reach' },
    { from: 'a', to: 'c', expect: 'reach' },
    { from: 'a', to: '10.0.1.1', expect: 'reach' },
    { from: 'd', to: 'a', expect: 'blocked' },
    { from: 'x', to: 'a', expect: 'blocked' },
    { from: 'a', to: 'c', tcp: 8080, expect: 'reach' },
    { from: 'a', to: 'c', tcp: 9090, expect: 'blocked' },
    { from: 'b', to: 'inet', tcp: 80, seen_as: '172.16.0.1', expect: 'reach' },
    { from: 'c', to: 'inet', tcp: 80, seen_as: '172.16.0.21', expect: 'reach' },
    { from: 'inet', to: '172.16.0.21', tcp: 8080, answered_by: ['c'], seen_as: 'inet', expect: 'reach' },
    { from: 'b', to: '10.0.2.100', tcp: 8080, answered_by: ['c', 'c2'], expect: 'reach' },
  ],
};

t.test('a two-host lab carries traffic as the Northbound DB says', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-lab-test-'));
  t.teardown(async () => {
    await labDown(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  // Verbose daemons: the controllers log what they monitor (checked below).
  const state = await labUp({ hosts: 2, dir, verbose: true });
  t.equal(state.hosts.length, 2, 'two hosts');
  process.env['OVNTS_LAB_DIR'] = dir;
  await applyTopology(state, TOPOLOGY);
  const results = await runChecks(state, TOPOLOGY.checks ?? []);
  for (const r of results) t.ok(r.ok, `${r.from} -> ${r.to}: expected ${r.expect}, ${r.reached ? 'reached' : 'blocked'} (${r.detail})`);
  const routed = await vmPing('a', 'c', { count: 1 }, state);
  t.equal(routed.probes[0]?.ttl, 63, 'one router hop decrements the TTL');
  // The VM without an address got one from OVN's native DHCP (controller pinctrl).
  let lease: { ip?: string } | undefined;
  for (let i = 0; i < 300 && !lease?.ip; i++) {
    lease = ((await vmRequest(state.vms.find((v) => v.name === 'dh')!.control, { op: 'status' })) as { lease?: { ip?: string } }).lease;
    if (!lease?.ip) await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(lease?.ip, '10.0.1.50', 'DHCP lease from the logical switch');
  // The load balancer spreads connections (each from a new source port) over both backends.
  const answered = new Set<string>();
  for (let i = 0; i < 16 && answered.size < 2; i++) {
    const r = (await vmRequest(state.vms.find((v) => v.name === 'a')!.control, { op: 'tcp', dst: '10.0.2.100', port: 8080, payload: 'hi\n' })) as { response: string };
    answered.add(r.response.split(' ')[0]!);
  }
  t.same([...answered].sort(), ['c', 'c2'], 'both backends answer the VIP');
  // Conditional monitoring: hv2 has no port on switch "other" (only x, on hv1), so its
  // controller does not replicate that switch's logical flows; hv1 does.
  const monitored = (host: string): string => {
    const log = readFileSync(state.daemons.find((d) => d.name === `${host}-controller`)!.log, 'utf8');
    return [...log.matchAll(/monitoring the logical flows of \d+ local datapath\(s\): (.*)/g)].at(-1)?.[1] ?? '';
  };
  t.match(monitored('hv2'), /\bsw1\b/, `hv2 monitors its own datapaths (${monitored('hv2')})`);
  t.notMatch(monitored('hv2'), /\bother\b/, 'hv2 does not monitor a switch with no port there');
  t.match(monitored('hv1'), /\bother\b/, `hv1 monitors it (${monitored('hv1')})`);
  const pids = state.daemons.map((d) => d.pid);
  await labDown(dir);
  t.same(pids.filter(isAlive), [], 'lab down stops every process it started');
});
