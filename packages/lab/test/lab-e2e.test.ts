// End to end through the lab: separate processes for the databases, northd, and per host a
// local database, a switch and a controller; simulated VMs plugged in as dgram VIFs. Checks
// same-switch and cross-host ping, routing with TTL decrement, an ACL drop, tenant isolation
// with overlapping addresses, a DHCP lease from OVN's native DHCP, and that `lab down` stops
// everything it started.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
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
    ['--id=@d', 'create', 'DHCP_Options', 'cidr=10.0.1.0/24', 'options="lease_time"="3600" "router"="10.0.1.1" "server_id"="10.0.1.1" "server_mac"="00:00:00:00:ff:01"', '--', 'set', 'Logical_Switch_Port', 'dh', 'dhcpv4_options=@d'],
  ],
  vms: [
    { name: 'a', host: 'hv1', switch: 'sw1', mac: '00:00:00:00:01:11', ip: '10.0.1.11/24', gw: '10.0.1.1' },
    { name: 'b', host: 'hv2', switch: 'sw1', mac: '00:00:00:00:01:12', ip: '10.0.1.12/24', gw: '10.0.1.1' },
    { name: 'c', host: 'hv2', switch: 'sw2', mac: '00:00:00:00:02:21', ip: '10.0.2.21/24', gw: '10.0.2.1' },
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
  ],
};

t.test('a two-host lab carries traffic as the Northbound DB says', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-lab-test-'));
  t.teardown(async () => {
    await labDown(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  const state = await labUp({ hosts: 2, dir });
  t.equal(state.hosts.length, 2, 'two hosts');
  process.env['OVNTS_LAB_DIR'] = dir;
  await applyTopology(state, TOPOLOGY);
  const results = await runChecks(state, TOPOLOGY.checks ?? []);
  for (const r of results) t.ok(r.ok, `${r.from} -> ${r.to}: expected ${r.expect}, ${r.reached ? 'reached' : 'blocked'} (${r.detail})`);
  const routed = await vmPing('a', 'c', { count: 1 }, state);
  t.equal(routed.probes[0]?.ttl, 63, 'one router hop decrements the TTL');
  // The VM without an address got one from OVN's native DHCP (controller pinctrl).
  let lease: { ip?: string } | undefined;
  for (let i = 0; i < 100 && !lease?.ip; i++) {
    lease = ((await vmRequest(state.vms.find((v) => v.name === 'dh')!.control, { op: 'status' })) as { lease?: { ip?: string } }).lease;
    if (!lease?.ip) await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(lease?.ip, '10.0.1.50', 'DHCP lease from the logical switch');
  const pids = state.daemons.map((d) => d.pid);
  await labDown(dir);
  t.same(pids.filter(isAlive), [], 'lab down stops every process it started');
});
