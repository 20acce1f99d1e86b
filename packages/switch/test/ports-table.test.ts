// The port table without sockets: ofport allocation, the local port, in-process VIFs, patch
// ports (through the queue, loop-bounded), admin state, counters, and robustness against a
// failing VM or datapath.
import t from 'tap';
import { OFPP } from '../src/flow/actions.js';
import { parseFlowMod } from '../src/flow/syntax.js';
import { buildUdp4 } from '../src/packet/build.js';
import { PortTable } from '../src/ports/table.js';
import { TrackedFlowTables } from '../src/datapath/tables.js';
import { Switch } from '../src/switch.js';
import { fakeDatapath, type FakeDatapath } from './ports-fake-datapath.js';

const frame = (n = 1): Uint8Array =>
  buildUdp4({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' }, { src: '10.0.0.1', dst: '10.0.0.2' }, { srcPort: 1000 + n, dstPort: 53, payload: new Uint8Array(10) });

function newSwitch(): Switch {
  return new Switch({ name: 'br-int', datapath: fakeDatapath, expireIntervalMs: 0 });
}

t.test('ofport allocation: first free from 1, ofport_request honoured, local port', async (t) => {
  const sw = newSwitch();
  t.teardown(() => sw.close());
  const a = await sw.addPort({ name: 'a', type: 'internal' });
  const b = await sw.addPort({ name: 'b', type: 'internal', ofport: 5 });
  const c = await sw.addPort({ name: 'c', type: 'internal' });
  t.same([a.ofport, b.ofport, c.ofport], [1, 5, 2]);
  await t.rejects(sw.addPort({ name: 'd', type: 'internal', ofport: 5 }), /already in use by b/);
  await t.rejects(sw.addPort({ name: 'a', type: 'internal' }), /already exists/);
  await t.rejects(sw.addPort({ name: 'e', type: 'internal', ofport: 0xff00 }), /out of range/);
  await t.rejects(sw.addPort({ name: 'f', type: 'bogus' } as never), /unknown port type/);
  await t.rejects(sw.addPort({ name: 't', type: 'tunnel', remoteIp: '127.0.0.9' }), /no tunnel IP/);
  t.ok(await sw.delPort('a'));
  t.notOk(await sw.delPort('a'), 'deleting twice');
  t.notOk(await sw.delPort('br-int'), 'the local port stays');
  const d = await sw.addPort({ name: 'd', type: 'internal' });
  t.equal(d.ofport, 1, 'a freed number is reused');
  const local = sw.ports.get('br-int')!;
  t.equal(local.ofport, OFPP.LOCAL);
  t.equal(local.type, 'local');
  t.ok(sw.ports.has(OFPP.LOCAL));
  t.same(sw.dumpPorts().map((p) => p.name), ['d', 'c', 'b', 'br-int'], 'by number, LOCAL last');
  t.match(d.mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
  t.equal(parseInt(d.mac.slice(0, 2), 16) & 3, 2, 'locally administered unicast MAC');
  t.equal(sw.ports.names.name(5), 'b');
  t.equal(sw.ports.names.number('c'), 2);
});

t.test('in-process VIFs: frames both ways, counters, flow cache told about port changes', async (t) => {
  const sw = newSwitch();
  t.teardown(() => sw.close());
  const dp = sw.datapath as unknown as FakeDatapath;
  const got: Uint8Array[] = [];
  await sw.addPort({ name: 'vm1', type: 'internal' });
  await sw.addPort({ name: 'vm2', type: 'internal' }, (f) => got.push(f));
  t.ok(dp.invalidations >= 2, 'port adds invalidate the cache');
  sw.flowMod(parseFlowMod('in_port=1,actions=output:2'));
  sw.flowMod(parseFlowMod('in_port=2,actions=output:1'));
  const f = frame();
  sw.ports.send('vm1', f);
  t.equal(got.length, 1);
  t.same(Buffer.from(got[0]!), Buffer.from(f));
  t.not(got[0], f, 'the VM gets its own copy');
  // vm1 has no receiver attached: its frames are dropped and counted.
  sw.ports.send('vm2', f);
  const [p1, p2] = sw.dumpPorts();
  t.match(p1!.stats, { rxPackets: 1, rxBytes: f.length, txPackets: 0, txDropped: 1 });
  t.match(p2!.stats, { rxPackets: 1, txPackets: 1, txBytes: f.length });
  t.equal(p1!.linkUp, false, 'an unattached VIF has no link');
  sw.ports.attach('vm1', (x) => got.push(x));
  t.equal(sw.ports.get('vm1')!.linkUp, true);
  t.throws(() => sw.ports.attach('br-int', () => undefined), /no such internal port/);
  t.throws(() => sw.ports.send('nope', f), /no such port/);
});

t.test('admin down drops both ways', async (t) => {
  const sw = newSwitch();
  t.teardown(() => sw.close());
  const got: Uint8Array[] = [];
  await sw.addPort({ name: 'a', type: 'internal', down: true });
  await sw.addPort({ name: 'b', type: 'internal' }, (f) => got.push(f));
  sw.flowMod(parseFlowMod('actions=output:1,output:2'));
  sw.ports.send('a', frame());
  t.equal(sw.ports.get('a')!.stats.rxDropped, 1);
  sw.ports.send('b', frame());
  t.equal(sw.ports.get('a')!.stats.txDropped, 1);
  t.equal(got.length, 1);
  sw.ports.setAdminUp('a', true);
  sw.ports.send('a', frame());
  t.equal(got.length, 2);
});

t.test('patch ports carry frames to the peer through the queue; loops are bounded', async (t) => {
  const sw = newSwitch();
  t.teardown(() => sw.close());
  const dp = sw.datapath as unknown as FakeDatapath;
  const got: Uint8Array[] = [];
  await sw.addPort({ name: 'vm', type: 'internal' });
  await sw.addPort({ name: 'pa', type: 'patch', peer: 'pb' });
  t.equal(sw.ports.get('pa')!.linkUp, false, 'no peer yet');
  await sw.addPort({ name: 'pb', type: 'patch', peer: 'pa' });
  await sw.addPort({ name: 'out', type: 'internal' }, (f) => got.push(f));
  t.equal(sw.ports.get('pa')!.linkUp, true);
  sw.flowMod(parseFlowMod('in_port=1,actions=output:2'));
  sw.flowMod(parseFlowMod('in_port=3,actions=output:4'));
  sw.ports.send('vm', frame());
  t.equal(got.length, 1, 'vm -> pa ~ pb -> out');
  t.same(dp.received.map((r) => r.inPort), [1, 3]);
  t.match(sw.ports.get('pb')!.stats, { rxPackets: 1 });
  t.match(sw.ports.get('pa')!.stats, { txPackets: 1 });

  // pb sends back into pa, which sends to pb …: a loop, cut after MAX_PATCH_HOPS.
  sw.flowMod(parseFlowMod('in_port=3,actions=output:3'));
  sw.flowMod(parseFlowMod('in_port=2,actions=output:2'));
  // in_port=3 → output:3 would be IN_PORT in OpenFlow; this fake outputs anyway.
  sw.flowMod(parseFlowMod('in_port=1,actions=output:2'));
  const before = dp.received.length;
  sw.ports.send('vm', frame());
  t.ok(sw.ports.loopDrops >= 1, 'the loop was cut');
  t.ok(dp.received.length - before <= 66, `bounded (${dp.received.length - before} receives)`);
});

t.test('a frame sent by a VM while the datapath is busy waits, in order', async (t) => {
  const sw = newSwitch();
  t.teardown(() => sw.close());
  const dp = sw.datapath as unknown as FakeDatapath;
  // vm2 answers synchronously from inside the datapath's output.
  await sw.addPort({ name: 'vm1', type: 'internal' });
  await sw.addPort({ name: 'vm2', type: 'internal' }, () => sw.ports.send('vm2', frame(2)));
  sw.flowMod(parseFlowMod('in_port=1,actions=output:2'));
  let depth = 0;
  let maxDepth = 0;
  const recv = dp.receive.bind(dp);
  dp.receive = (p, f, tn) => {
    depth++;
    maxDepth = Math.max(maxDepth, depth);
    try {
      recv(p, f, tn);
    } finally {
      depth--;
    }
  };
  sw.ports.send('vm1', frame(1));
  t.equal(maxDepth, 1, 'never re-entered');
  t.same(dp.received.map((r) => r.inPort), [1, 2]);
});

t.test('failing VMs and datapaths are counted, not thrown', async (t) => {
  const sw = newSwitch();
  t.teardown(() => sw.close());
  const dp = sw.datapath as unknown as FakeDatapath;
  await sw.addPort({ name: 'vm1', type: 'internal' });
  await sw.addPort({ name: 'vm2', type: 'internal' }, () => {
    throw new Error('guest crashed');
  });
  sw.flowMod(parseFlowMod('in_port=1,actions=output:2'));
  sw.ports.send('vm1', frame());
  t.equal(sw.ports.get('vm2')!.stats.txErrors, 1);
  dp.receive = () => {
    throw new Error('datapath bug');
  };
  sw.ports.send('vm1', frame());
  t.equal(sw.ports.get('vm1')!.stats.rxErrors, 1);
});

t.test('a PortTable made first can be handed to the datapath and the switch', async (t) => {
  const ports = new PortTable({ bridge: 'br-x' });
  const dp = fakeDatapath(ports);
  const sw = new Switch({ name: 'br-x', ports, datapath: dp, expireIntervalMs: 0 });
  t.teardown(() => sw.close());
  t.equal(sw.datapath, dp);
  t.equal(sw.ports, ports);
  const real = new Switch({ name: 'x', expireIntervalMs: 0 });
  t.teardown(() => real.close());
  t.ok(real.datapath.tables instanceof TrackedFlowTables, 'without one, the project datapath');
});

t.test('switch API: flow mods, bundles, groups, tables, conntrack, packet-out, packet-in', async (t) => {
  const sw = newSwitch();
  t.teardown(() => sw.close());
  const dp = sw.datapath as unknown as FakeDatapath;
  const got: Uint8Array[] = [];
  await sw.addPort({ name: 'vm1', type: 'internal' }, (f) => got.push(f));
  const inv = dp.invalidations;
  t.match(sw.flowMod(parseFlowMod('table=3,priority=5,cookie=0xffffffffffffffff,ip,actions=drop')), { added: [{ table: 3 }] });
  t.ok(dp.invalidations > inv, 'flow mods invalidate');
  t.throws(() => sw.bundle([parseFlowMod('table=1,actions=drop'), parseFlowMod('table=254,actions=drop'), parseFlowMod('table=3,priority=5,check_overlap,tcp,actions=drop')]), { code: 'OFPFMFC_OVERLAP', index: 2 });
  t.equal(sw.dumpFlows().length, 1, 'a failed bundle leaves nothing behind');
  t.equal(sw.dumpFlows()[0]!.cookie, 0xffffffffffffffffn);
  t.equal(sw.groupMod({ command: 'add', group: { id: 1, type: 'all', buckets: [] } }), 1);
  t.throws(() => sw.groupMod({ command: 'add', group: { id: 1, type: 'all', buckets: [] } }), /already exists/);
  t.equal(sw.dumpGroups().length, 1);
  t.equal(sw.dumpGroups(2).length, 0);
  t.equal(sw.groupMod({ command: 'delete' }), 1);
  const tables = sw.dumpTables();
  t.equal(tables.length, 255);
  t.same(tables[3], { table: 3, active: 1, lookup: 0, matched: 0 });
  t.same(sw.dumpConntrack(), [], 'no conntrack in this datapath: empty, not an error');
  sw.packetOut(frame(), [{ type: 'output', port: 1 }]);
  t.equal(got.length, 1);
  const pins: unknown[] = [];
  const off = sw.onPacketIn((p) => pins.push(p));
  sw.onPacketIn(() => {
    throw new Error('a bad subscriber');
  });
  sw.packetOut(frame(), [{ type: 'controller', maxLen: 65535, reason: 'action', id: 0, userdata: 'abcd' }]);
  t.match(pins, [{ userdata: 'abcd', reason: 'action' }]);
  off();
  sw.packetOut(frame(), [{ type: 'controller', maxLen: 65535, reason: 'action', id: 0 }]);
  t.equal(pins.length, 1, 'unsubscribed');
  sw.resume({ id: 3 });
  t.same(dp.resumed, [{ id: 3 }]);
  t.match(sw.info(), { name: 'br-int', nTables: 255, ports: 2, tunnelIp: undefined });
  sw.flowMod(parseFlowMod('table=4,hard_timeout=1,actions=drop'));
  const e = sw.dumpFlows({ table: 4 })[0]!;
  e.modified -= 2000;
  t.equal(sw.expire().length, 1, 'timed-out flows go');
});
