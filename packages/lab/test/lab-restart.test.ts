// Restarts without disruption: while one VM pings another across hosts through a stateful ACL
// (the replies pass only as part of an established connection), the controllers of both hosts
// and northd are killed and started again (`lab restart`); then a VM migrates between hosts. Every echo must be answered: the
// switches keep forwarding, a restarted controller finds its flows and conntrack zones in place
// and changes nothing, and northd takes its work back without rewriting the Southbound DB.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyTopology, labDown, labRestart, labUp, sleep, vmControl, vmMigrate, vmPing, vmRequest, type Topology } from '../src/index.js';
import type { PingResult } from '../src/vm/index.js';

const TOPOLOGY: Topology = {
  nbctl: [
    ['ls-add', 'sw1'],
    // Only new pings to b are allowed; anything else reaching a VM is dropped unless it belongs
    // to an established connection, which lives in conntrack under the port's zone.
    ['acl-add', 'sw1', 'to-lport', '1000', 'outport == "b" && icmp4', 'allow-related'],
    ['acl-add', 'sw1', 'to-lport', '900', 'ip4', 'drop'],
  ],
  vms: [
    { name: 'a', host: 'hv1', switch: 'sw1', mac: '00:00:00:00:01:11', ip: '10.0.1.11/24' },
    { name: 'b', host: 'hv2', switch: 'sw1', mac: '00:00:00:00:01:12', ip: '10.0.1.12/24' },
  ],
};

t.test('controllers and northd restart without losing a packet', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-lab-restart-'));
  t.teardown(async () => {
    await labDown(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  const state = await labUp({ hosts: 2, dir });
  await applyTopology(state, TOPOLOGY);
  t.equal((await vmPing('a', 'b', { count: 2 }, state)).received, 2, 'a reaches b before the restarts');
  t.equal((await vmPing('b', 'a', { count: 1 }, state)).received, 0, 'b cannot start a connection to a: the ACL is stateful');

  const pinging = vmRequest(vmControl('a', state), { op: 'ping', dst: '10.0.1.12', count: 50, intervalMs: 100, timeoutMs: 1000 }, 60_000) as Promise<PingResult>;
  await sleep(500);
  for (const name of ['hv1-controller', 'northd', 'hv2-controller']) {
    await labRestart(name, state);
    await sleep(1200);
  }
  const r = await pinging;
  t.equal(r.received, r.transmitted, `${r.received}/${r.transmitted} echoes answered across three restarts`);
  // The restarted controllers are working (not just leaving old flows alone): a new port works.
  await applyTopology(state, { vms: [{ name: 'c', host: 'hv1', switch: 'sw1', mac: '00:00:00:00:01:13', ip: '10.0.1.13/24' }] });
  t.equal((await vmPing('c', 'b', { count: 2 }, state)).received, 2, 'a VM added after the restarts reaches b');
  // Live migration of b to a's host while a pings it: the newest claim wins, loss is bounded.
  const moved = await vmMigrate('b', 'hv1', { pingFrom: 'a' }, state);
  t.ok(moved && moved.transmitted - moved.received <= 3, `migration lost ${moved ? moved.transmitted - moved.received : '?'} of ${moved?.transmitted} echoes (at most 3)`);
  t.equal((await vmPing('c', 'b', { count: 2 }, state)).received, 2, 'b answers on its new host');
});
