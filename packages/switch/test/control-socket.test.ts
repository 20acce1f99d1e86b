// The control socket: every method round-trips through msgpack over a unix socket (bigints,
// Uint32Array keys and matches, frames), errors come back as replies, malformed input and
// vanishing clients leave the server and other clients alone, and clients reconnect.
import t from 'tap';
import type { Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'msgpackr';
import type { PacketIn, PortSink } from '../src/datapath/types.js';
import { SwitchClient } from '../src/control/client.js';
import { decodeBody, encodeFrame, FrameReader } from '../src/control/codec.js';
import { ControlError } from '../src/control/protocol.js';
import { ControlServer } from '../src/control/server.js';
import { parseFlowMod } from '../src/flow/syntax.js';
import { matchEqual } from '../src/flow/match.js';
import { buildUdp4 } from '../src/packet/build.js';
import { Switch, type ConntrackRecord } from '../src/switch.js';
import { FakeDatapath, until } from './ports-fake-datapath.js';

class CtDatapath extends FakeDatapath {
  dumpConntrack(zone?: number): readonly (string | ConntrackRecord)[] {
    const all: (string | ConntrackRecord)[] = [
      { proto: 'udp', orig: { src: 0x0a000001, dst: 0x0a000002, sport: 1234, dport: 53 }, reply: { src: 0x0a000002, dst: 0x0a000001, sport: 53, dport: 1234 }, zone: 5, mark: 3 },
      { proto: 6, orig: { src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 80 }, reply: { src: '10.0.0.2', dst: '10.0.0.1', sport: 80, dport: 40000 }, zone: 7, labels: 0x1234n, state: 'SYN_SENT' },
      { proto: 1, orig: { src: 0x0a000001, dst: 0x0a000002, id: 77, type: 8, code: 0 }, reply: { src: 0x0a000002, dst: 0x0a000063, id: 77, type: 0, code: 0 } },
      'udp,orig=(src=fe80::1,dst=fe80::2,sport=1,dport=2),reply=(src=fe80::2,dst=fe80::1,sport=2,dport=1),zone=9',
    ];
    return zone === undefined ? all : all.filter((r) => typeof r !== 'string' && (r.zone ?? 0) === zone);
  }
}

const frame = (n = 1): Uint8Array =>
  buildUdp4({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' }, { src: '10.0.0.1', dst: '10.0.0.2' }, { srcPort: 1000 + n, dstPort: 53, payload: new Uint8Array(8) });

interface Rig {
  dir: string;
  path: string;
  sw: Switch;
  server: ControlServer;
  dp: CtDatapath;
  vm: Uint8Array[];
}

async function rig(t: Test): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-ctl-'));
  const path = join(dir, 'br-int.ctl');
  let dp!: CtDatapath;
  const sw = new Switch({ name: 'br-int', datapath: (s: PortSink) => (dp = new CtDatapath(s)), expireIntervalMs: 0 });
  const vm: Uint8Array[] = [];
  await sw.addPort({ name: 'vm1', type: 'internal' }, (f) => vm.push(f));
  const server = new ControlServer(sw);
  await server.listen(`punix:${path}`);
  t.teardown(async () => {
    await server.close();
    await sw.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, path, sw, server, dp, vm };
}

/** A raw connection that collects decoded replies. */
async function raw(path: string): Promise<{ sock: Socket; msgs: unknown[]; errors: Error[] }> {
  const sock = connect(path);
  const msgs: unknown[] = [];
  const errors: Error[] = [];
  const reader = new FrameReader();
  sock.on('data', (c) => reader.push(c, (m) => msgs.push(m), (e) => errors.push(e)));
  sock.on('error', () => undefined);
  await new Promise((r) => sock.once('connect', r));
  return { sock, msgs, errors };
}

function frameOf(body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(body.length);
  return Buffer.concat([h, body]);
}

t.test('codec: bigints of every width, Uint32Array, frames, split and joined chunks', async (t) => {
  const v = {
    small: 5n, neg: -3n, u64: 0xffffffffffffffffn, u128: (1n << 127n) | 5n, num: 2 ** 40, f: 1.5,
    key: new Uint32Array([0, 0, 7, 0, 0xffffffff, 0, 0, 0]), dense: new Uint32Array([1, 2, 3]), empty: new Uint32Array(0),
    bytes: new Uint8Array([1, 2, 3]), none: undefined, nil: null, list: [1n, { x: -1n }],
  };
  const enc = encodeFrame(v);
  t.same(decodeBody(enc.subarray(4)), { ...v, bytes: Buffer.from([1, 2, 3]) });
  const d = decodeBody(enc.subarray(4)) as typeof v;
  t.equal(typeof d.small, 'bigint');
  t.equal(typeof d.num, 'number', 'numbers stay numbers');
  t.ok(d.key instanceof Uint32Array);
  // Byte by byte, then three frames in one chunk.
  const r = new FrameReader();
  const got: unknown[] = [];
  for (const b of enc) r.push(Buffer.from([b]), (m) => got.push(m), (e) => t.fail(e.message));
  r.push(Buffer.concat([enc, encodeFrame(1), encodeFrame('x')]), (m) => got.push(m), (e) => t.fail(e.message));
  t.equal(got.length, 4);
  t.same(got.slice(2), [1, 'x']);
});

t.test('every method round-trips', async (t) => {
  const r = await rig(t);
  const c = await SwitchClient.connect(`unix:${r.path}`);
  t.teardown(() => c.close());

  t.match(await c.show(), { name: 'br-int', nTables: 255, ports: 2 });

  // flow_mod: structured, with bigints at full width, and as text.
  const mod = parseFlowMod('table=1,priority=7,cookie=0xfedcba9876543210,reg3=0x80000000/0x80000000,xxreg0=0x1,actions=set_field:0xffffffffffffffffffffffffffffffff->xxreg1,load:0xffffffff->NXM_NX_REG0[],resubmit(,2)');
  t.same(await c.flowMod(mod), { added: 1, modified: 0, removed: 0 });
  t.same(await c.flowMod('table=2,priority=9,in_port=vm1,actions=output:vm1'), { added: 1, modified: 0, removed: 0 }, 'text with port names');
  t.same(await c.flowMod('table=2,in_port=1,actions=drop', 'modify_strict'), { added: 0, modified: 0, removed: 0 }, 'strict: priority differs');
  t.same(await c.flowMod('table=2,priority=9,in_port=1,actions=drop', 'modify_strict'), { added: 0, modified: 1, removed: 0 });

  const dump = await c.dumpFlows({ table: 1 });
  t.equal(dump.flows.length, 1);
  const e = dump.flows[0]!;
  t.equal(e.cookie, 0xfedcba9876543210n, 'a 64-bit cookie survives');
  t.ok(e.match.value instanceof Uint32Array && e.match.mask instanceof Uint32Array);
  t.ok(matchEqual(e.match, mod.match), 'the match survives');
  t.same(e.actions, mod.actions, 'actions with 128-bit values survive');
  t.ok(Math.abs(dump.now - Date.now()) < 5000, 'the switch clock comes along');
  t.equal((await c.dumpFlows('table=2,in_port=vm1')).flows.length, 1, 'text flow spec with port names');
  t.equal((await c.dumpFlows('table=2,priority=8,in_port=1', true)).flows.length, 0, 'strict spec');
  t.equal((await c.dumpFlows('cookie=0xfedcba9876543210/-1')).flows.length, 1, 'cookie filter');

  // bundle: atomic, with the failing index.
  t.same(await c.bundle(['table=5,actions=drop', mod]), { added: 1, modified: 1, removed: 0 });
  const bad = await c.bundle(['table=6,actions=drop', 'table=5,priority=32768,check_overlap,ip,actions=drop']).catch((x: unknown) => x);
  t.ok(bad instanceof ControlError);
  t.match(bad, { code: 'OFPFMFC_OVERLAP', index: 1 });
  t.equal((await c.dumpFlows({ table: 6 })).flows.length, 0, 'nothing of a failed bundle stays');
  t.match(await c.bundle(['table=7,actions=drop', 'table=7,bogus=1,actions=drop']).catch((x: unknown) => x), { index: 1, message: /bundle message 1: unknown keyword bogus/ });

  // group_mod, structured and as text; dump_groups.
  t.same(await c.groupMod({ command: 'add', group: { id: 1, type: 'select', selectionMethod: 'dp_hash', buckets: [{ id: 0, weight: 100, actions: [{ type: 'output', port: 1 }] }] } }), { count: 1 });
  t.same(await c.groupModText('add', 'group_id=2,type=all,bucket=output:vm1'), { count: 1 });
  t.match(await c.groupModText('add', 'group_id=2,type=all,bucket=output:1').catch((x: unknown) => x), { code: 'OFPGMFC_GROUP_EXISTS' });
  t.match(await c.groupModText('modify', 'group_id=3,type=all').catch((x: unknown) => x), { code: 'OFPGMFC_UNKNOWN_GROUP' });
  t.same(await c.groupModText('modify', 'group_id=3,type=all', true), { count: 1 });
  t.same((await c.dumpGroups()).map((g) => g.id), [1, 2, 3]);
  t.match(await c.dumpGroups(2), [{ id: 2, type: 'all', buckets: [{ actions: [{ type: 'output', port: 1 }] }] }]);
  t.same(await c.groupModText('delete', 'group_id=3'), { count: 1 });
  t.same(await c.groupModText('delete', ''), { count: 2 });

  // ports
  const added = await c.addPort({ name: 'tap0', type: 'dgram', local: '127.0.0.1:0' });
  t.match(added, { ofport: 2, name: 'tap0', type: 'dgram', linkUp: true, stats: { rxPackets: 0 } });
  t.match(await c.addPort({ name: 'tap0', type: 'internal' }).catch((x: unknown) => x), { message: /already exists/ });
  t.same((await c.dumpPorts()).map((p) => p.name), ['vm1', 'tap0', 'br-int']);
  t.same((await c.dumpPorts('tap0')).map((p) => p.ofport), [2]);
  t.same((await c.dumpPorts(1)).map((p) => p.name), ['vm1']);
  t.same(await c.dumpPorts(99), []);
  t.equal(await c.delPort('tap0'), true);
  t.equal(await c.delPort('tap0'), false);

  // tables and conntrack
  const tables = await c.dumpTables();
  t.equal(tables.length, 255);
  t.match(tables[1], { table: 1, active: 1 });
  t.same(await c.dumpConntrack(), [
    'udp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1234,dport=53),reply=(src=10.0.0.2,dst=10.0.0.1,sport=53,dport=1234),zone=5,mark=3',
    'tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=40000,dport=80),reply=(src=10.0.0.2,dst=10.0.0.1,sport=80,dport=40000),zone=7,labels=0x1234,protoinfo=(state=SYN_SENT)',
    'icmp,orig=(src=10.0.0.1,dst=10.0.0.2,id=77,type=8,code=0),reply=(src=10.0.0.2,dst=10.0.0.99,id=77,type=0,code=0)',
    'udp,orig=(src=fe80::1,dst=fe80::2,sport=1,dport=2),reply=(src=fe80::2,dst=fe80::1,sport=2,dport=1),zone=9',
  ]);
  t.equal((await c.dumpConntrack(5)).length, 1);

  // trace: a frame on a port (by name), and a flow description.
  await c.flowMod('priority=10,in_port=1,udp,actions=output:1');
  const tr = await c.trace({ inPort: 'vm1', frame: frame() });
  t.match(tr, { inPort: 1, steps: [{ table: 0, flow: 'priority=10,udp,in_port=1 actions=output:1' }] });
  const tr2 = await c.trace({ flow: 'in_port=1,udp,nw_dst=10.0.0.9,tp_dst=53' });
  t.match(tr2, { flow: 'in_port=1,udp,nw_dst=10.0.0.9,tp_dst=53', steps: [{ flow: /actions=output:1/ }] });
  t.match(await c.trace({ flow: 'tcp' }).catch((x: unknown) => x), { message: /in_port/ });

  // packet_out with structured and text actions; packet-in pushes; resume.
  await c.packetOut(frame(2), [{ type: 'output', port: 1 }]);
  await c.packetOut(frame(3), 'output:vm1', { inPort: 'LOCAL' });
  t.equal(r.vm.length, 2);
  t.same(Buffer.from(r.vm[1]!), Buffer.from(frame(3)));
  const pins: PacketIn[] = [];
  const stop = await c.onPacketIn((p) => pins.push(p));
  await c.flowMod('table=0,priority=20,in_port=1,actions=load:0x5->NXM_NX_REG14[],controller(userdata=00.01.02,pause)');
  await c.flowMod('table=0,priority=20,in_port=1,cookie=0x8000000000000001,actions=load:0x5->NXM_NX_REG14[],controller(userdata=00.01.02,pause)');
  r.sw.ports.send('vm1', frame(4));
  await until(() => pins.length === 1, 3000, 'the packet-in');
  const pin = pins[0]!;
  t.equal(pin.cookie, 0x8000000000000001n);
  t.equal(pin.userdata, '000102');
  t.ok(pin.key instanceof Uint32Array);
  t.equal(pin.key[0], 1, 'in_port in the key');
  t.same(Buffer.from(pin.frame), Buffer.from(frame(4)));
  t.same(pin.continuation, { id: 7 });
  await c.resume(pin.continuation!, pin.frame, pin.key);
  t.same(r.dp.resumed, [{ id: 7 }]);
  await stop();
  r.sw.ports.send('vm1', frame(5));
  await c.show();
  t.equal(pins.length, 1, 'no packet-ins after unsubscribing');
});

t.test('bad requests get error replies; the connection and other clients carry on', async (t) => {
  const r = await rig(t);
  const c = await SwitchClient.connect(r.path);
  t.teardown(() => c.close());
  t.match(await c.request('nope' as 'show', undefined).catch((x: unknown) => x), { message: 'unknown method "nope"' });
  t.match(await c.request('flow_mod', { text: 'table=1,actions=bogus' }).catch((x: unknown) => x), { message: /bogus/ });
  t.match(await c.request('flow_mod', {} as never).catch((x: unknown) => x), { message: /needs "mod" or "text"/ });
  t.match(await c.request('flow_mod', { text: 'table=300,actions=drop' }).catch((x: unknown) => x), { message: /table/ });
  t.match(await c.request('add_port', { name: 'x' } as never).catch((x: unknown) => x), { message: /type must be a string/ });
  t.match(await c.request('packet_out', { frame: 'x', actions: [] } as never).catch((x: unknown) => x), { message: /frame must be binary/ });
  t.match(await c.request('subscribe', { events: ['flows'] } as never).catch((x: unknown) => x), { message: /packet_in/ });

  const w = await raw(r.path);
  t.teardown(() => w.sock.destroy());
  w.sock.write(frameOf(Buffer.from([0xc1, 0xc1, 0xc1]))); // 0xc1 is never valid msgpack
  w.sock.write(frameOf(encode([1, 2, 3])));
  w.sock.write(frameOf(encode({ id: 9, method: 42 })));
  w.sock.write(encodeFrame({ id: 10, method: 'show' }));
  await until(() => w.msgs.length === 4, 3000, 'four replies');
  t.match(w.msgs[0], { id: null, error: { message: /undecodable msgpack/ } });
  t.match(w.msgs[1], { id: null, error: { message: /malformed request/ } });
  t.match(w.msgs[2], { id: 9, error: { message: /malformed request/ } });
  t.match(w.msgs[3], { id: 10, result: { name: 'br-int' } });

  // A length beyond the limit cannot be skipped: that connection ends, the others do not.
  const huge = Buffer.alloc(4);
  huge.writeUInt32BE(0xffffffff);
  w.sock.write(huge);
  await until(() => w.sock.destroyed || w.sock.readableEnded, 3000, 'the connection to end');
  t.match(await c.show(), { name: 'br-int' }, 'other clients unaffected');
});

t.test('a client that vanishes mid-request disturbs nobody', async (t) => {
  const r = await rig(t);
  const c = await SwitchClient.connect(r.path);
  t.teardown(() => c.close());
  const pins: PacketIn[] = [];
  await c.onPacketIn((p) => pins.push(p));
  for (let i = 0; i < 5; i++) {
    const w = await raw(r.path);
    // Subscribed, asked for a port (an asynchronous socket bind) and a dump, and gone before the answers.
    w.sock.write(encodeFrame({ id: 1, method: 'subscribe', params: { events: ['packet_in'] } }));
    w.sock.write(encodeFrame({ id: 2, method: 'add_port', params: { name: `tap${i}`, type: 'dgram', local: '127.0.0.1:0' } }));
    w.sock.write(encodeFrame({ id: 3, method: 'dump_flows', params: {} }));
    w.sock.write(encodeFrame({ id: 4, method: 'show' }).subarray(0, 5)); // half a frame
    w.sock.destroy();
  }
  await until(() => r.server.connections === 1, 3000, 'the dead connections to go');
  await until(() => r.sw.dumpPorts().length === 7, 3000, 'the port adds to finish');
  await c.flowMod('in_port=1,actions=controller(userdata=01)');
  r.sw.ports.send('vm1', frame());
  await until(() => pins.length === 1, 3000, 'the packet-in');
  t.match(await c.show(), { ports: 7 }, 'the switch still serves');
  t.equal(r.server.connections, 1);
});

t.test('reconnect: requests wait, in-flight ones fail, subscriptions are renewed', async (t) => {
  const r = await rig(t);
  const states: boolean[] = [];
  const c = await SwitchClient.connect(r.path, { reconnect: true, maxBackoffMs: 50, onStateChange: (up) => states.push(up) });
  t.teardown(() => c.close());
  const pins: PacketIn[] = [];
  await c.onPacketIn((p) => pins.push(p));
  await r.server.close();
  await until(() => !c.isConnected, 3000, 'the client to notice');
  const waiting = c.show();
  const server2 = new ControlServer(r.sw);
  await server2.listen(r.path);
  t.teardown(() => server2.close());
  t.match(await waiting, { name: 'br-int' }, 'the request made while down is answered');
  t.same(states.slice(0, 3), [true, false, true]);
  await c.flowMod('in_port=1,actions=controller(userdata=02)');
  // The renewed subscription is sent before the flow mod, so it is in place by now.
  r.sw.ports.send('vm1', frame());
  await until(() => pins.length === 1, 3000, 'a packet-in over the new connection');

  const plain = await SwitchClient.connect(r.path);
  await server2.close();
  await until(() => !plain.isConnected, 3000, 'the plain client to notice');
  t.match(await plain.show().catch((x: unknown) => x), { message: /not connected/ }, 'without reconnect requests fail');
  plain.close();
  t.match(await SwitchClient.connect(join(r.dir, 'missing.sock')).catch((x: unknown) => x), { message: /no such switch socket/ });
  t.throws(() => new SwitchClient('tcp:127.0.0.1:6653'), /only unix/);
});

t.test('listen: a stale socket file is replaced, a live one is refused', async (t) => {
  const r = await rig(t);
  const other = new ControlServer(r.sw);
  await t.rejects(other.listen(r.path), /another process is listening/);
  const stale = join(r.dir, 'stale.ctl');
  writeFileSync(stale, '');
  const s2 = new ControlServer(r.sw);
  await s2.listen(stale);
  const c = await SwitchClient.connect(stale);
  t.match(await c.show(), { name: 'br-int' });
  c.close();
  await s2.close();
});

t.test('with the project datapath: trace text, conntrack, packet-ins over the socket', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-ctl-'));
  const path = join(dir, 'br-int.ctl');
  const sw = await Switch.create({ name: 'br-int', expireIntervalMs: 0 });
  const vm2: Uint8Array[] = [];
  await sw.addPort({ name: 'vm1', type: 'internal' });
  await sw.addPort({ name: 'vm2', type: 'internal' }, (f) => vm2.push(f));
  const server = new ControlServer(sw);
  await server.listen(path);
  const c = await SwitchClient.connect(path);
  t.teardown(async () => {
    c.close();
    await server.close();
    await sw.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await c.bundle([
    'table=0,priority=100,in_port=vm1,actions=load:0x5->NXM_NX_REG14[],resubmit(,8)',
    'table=8,priority=50,udp,actions=ct(commit,zone=5),output:vm2',
    'table=8,priority=60,udp,tp_dst=67,actions=controller(userdata=00.00.00.02,pause)',
  ]);
  sw.ports.send('vm1', frame(1));
  t.equal(vm2.length, 1);
  t.same(await c.dumpConntrack(5), ['udp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1001,dport=53),reply=(src=10.0.0.2,dst=10.0.0.1,sport=53,dport=1001),zone=5']);
  const tr = await c.trace({ flow: 'in_port=1,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=1001,tp_dst=53' });
  t.match(tr.text, /^Flow: udp,in_port=1,.*\n\nbridge\("br-int"\)\n-+\n 0\. in_port=1, priority 100\n/);
  t.match(tr.text, /Datapath actions: .*ct\(commit,zone=5\),2/);
  t.same(tr.steps.map((s) => s.table), [0, 8]);
  t.equal(vm2.length, 1, 'tracing sends nothing');
  t.match((await c.dumpTables())[8], { active: 2, matched: 1 });

  const pins: PacketIn[] = [];
  await c.onPacketIn((p) => pins.push(p));
  const dhcp = buildUdp4({ src: '02:00:00:00:00:01', dst: 'ff:ff:ff:ff:ff:ff' }, { src: '0.0.0.0', dst: '255.255.255.255' }, { srcPort: 68, dstPort: 67, payload: new Uint8Array(8) });
  sw.ports.send('vm1', dhcp);
  await until(() => pins.length === 1, 3000, 'the packet-in');
  const pin = pins[0]!;
  t.equal(pin.userdata, '00000002');
  t.equal(pin.table, 8);
  t.ok(pin.continuation, 'paused');
  // The controller answers by resuming with the packet sent back out to vm1's peer.
  await c.resume(pin.continuation!, pin.frame, pin.key);
  t.match(await c.show(), { datapath: { received: 2 } });
});
