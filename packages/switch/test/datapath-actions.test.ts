// The action executor, action by action: outputs and the in_port rule, resubmit (port swap,
// depth limit), goto_table and table misses, set_field/move/load, the stack, dec_ttl, VLANs,
// groups, clone, controller (userdata, pause/resume), exit, drops, counters, tunnels,
// packet-out, and the trace text. Every test runs with and without the megaflow cache.
import t, { type Test } from 'tap';
import { field, getBits, newKey } from '../src/fields.js';
import { OFPP, parseActions } from '../src/flow/index.js';
import { buildArp, verifyChecksums } from '../src/packet/index.js';
import { MAX_DEPTH } from '../src/datapath/index.js';
import { decode, makeDp, ports, udp, type TestDp } from './datapath-helpers.js';
import type { DatapathOptions } from '../src/datapath/index.js';

const reg = (k: Uint32Array, i: number): bigint => getBits(k, field(`reg${i}`));

/** Runs `body` against a datapath built with and without the cache. */
function both(name: string, flows: string, body: (d: TestDp, t: Test) => void, opts: Partial<DatapathOptions> & { groups?: readonly string[]; ports?: Iterable<number> } = {}): void {
  for (const cache of [true, false]) {
    t.test(`${name} (cache ${cache ? 'on' : 'off'})`, async (t) => {
      body(makeDp(flows, { ...opts, cache }), t);
    });
  }
}

both('output sends the frame, unchanged when nothing was set', 'in_port=1,actions=output:2', (d, t) => {
  const f = udp();
  const copy = f.slice();
  d.dp.receive(1, f);
  d.dp.receive(1, udp());
  const s = d.sink.take();
  t.same(ports(s), [2, 2]);
  t.same([...s[0]!.frame], [...copy]);
  t.equal(s[0]!.tunnel, undefined);
});

both('never output to the input port, except to IN_PORT', `
in_port=1,actions=output:1,output:2
in_port=2,actions=output:in_port
in_port=3,actions=load:0->NXM_OF_IN_PORT[],output:3
`, (d, t) => {
  d.dp.receive(1, udp());
  d.dp.receive(2, udp());
  // OVN's table 64: clearing in_port lets the packet hairpin.
  d.dp.receive(3, udp());
  t.same(ports(d.sink.take()), [2, 2, 3]);
});

both('output to a missing port is dropped and counted', 'actions=output:99', (d, t) => {
  d.dp.receive(1, udp());
  t.equal(d.sink.sent.length, 0);
  t.equal(d.dp.stats().portDrops, 1);
  t.equal(d.dp.stats().dropped, 1);
});

both('empty actions drop; counters count per flow', `
priority=10,udp,actions=
priority=5,actions=output:2
`, (d, t) => {
  d.dp.receive(1, udp());
  d.dp.receive(1, udp());
  d.dp.receive(1, buildArp(1, '00:00:00:00:00:01', '10.0.0.1', '00:00:00:00:00:00', '10.0.0.2'));
  t.same(ports(d.sink.take()), [2]);
  const [drop, out] = d.dp.tables.dump();
  t.equal(drop!.nPackets, 2);
  t.equal(drop!.nBytes, 2 * udp().length);
  t.equal(out!.nPackets, 1);
  t.equal(d.dp.stats().dropped, 2);
});

both('resubmit(port,table) looks up with in_port replaced, then restores it', `
table=0,in_port=1,actions=resubmit(5,1),output:in_port
table=1,in_port=5,actions=set_field:7->reg0,resubmit(,2)
table=1,in_port=1,actions=set_field:8->reg0
table=2,reg0=7,actions=output:3
`, (d, t) => {
  d.dp.receive(1, udp());
  // Table 1 matched in_port=5; output:in_port then goes back to port 1.
  t.same(ports(d.sink.take()), [3, 1]);
});

t.test('resubmit depth limit: 64 nested backward resubmits work, 65 drop the packet; forward chains do not deepen', async (t) => {
  for (const cache of [true, false]) {
    for (const depth of [MAX_DEPTH, MAX_DEPTH + 1]) {
      // Each flow resubmits to its own table (which deepens, as in OVS), counting in reg0.
      const lines: string[] = [];
      for (let i = 0; i < depth; i++) lines.push(`table=0,reg0=${i},actions=load:${i + 1}->NXM_NX_REG0[],resubmit(,0)`);
      lines.push(`table=0,reg0=${depth},actions=output:2`);
      const d = makeDp(lines.join('\n'), { cache });
      d.dp.receive(1, udp());
      t.same(ports(d.sink.take()), depth === MAX_DEPTH ? [2] : [], `depth ${depth}`);
      t.equal(d.dp.stats().translationErrors, depth === MAX_DEPTH ? 0 : 1);
    }
  }
  // OVN chains stages with resubmits to the next table: 250 of them nest fine.
  const chain: string[] = [];
  for (let i = 0; i < 250; i++) chain.push(`table=${i},actions=resubmit(,${i + 1})`);
  chain.push('table=250,actions=output:2');
  const c = makeDp(chain.join('\n'));
  c.dp.receive(1, udp());
  t.same(ports(c.sink.take()), [2]);
  // A loop is stopped, by depth.
  const loop = makeDp('table=0,actions=output:2,resubmit(,0)');
  loop.dp.receive(1, udp());
  t.same(ports(loop.sink.take()), []);
  t.ok(loop.dp.traceDetailed(1, udp()).text.includes('over max translation depth'));
});

both('goto_table, and table misses', `
table=0,priority=10,udp,actions=goto_table:3
table=3,tp_dst=2000,actions=output:2
table=3,tp_dst=53,actions=resubmit(,4),output:4
`, (d, t) => {
  d.dp.receive(1, udp());
  d.dp.receive(1, udp('10.0.0.1', '10.0.0.2', 1, 53));
  d.dp.receive(1, udp('10.0.0.1', '10.0.0.2', 1, 54));
  t.same(ports(d.sink.take()), [2, 4]);
});

t.test('table miss to controller, when configured', async (t) => {
  const d = makeDp('table=0,udp,actions=goto_table:1', { tableMiss: 'controller' });
  d.dp.receive(1, udp());
  d.dp.receive(1, buildArp(1, '00:00:00:00:00:01', '10.0.0.1', '00:00:00:00:00:00', '10.0.0.2'));
  t.same(d.packetIns.map((p) => [p.reason, p.table]), [['no_match', 1], ['no_match', 0]]);
});

both('set_field (masked), load and move over bit ranges', `
table=0,actions=set_field:0xab00/0xff00->reg1,load:0x3->NXM_NX_REG2[4..5],move:NXM_NX_REG1[8..15]->NXM_NX_REG3[20..27],move:NXM_OF_IP_SRC[0..7]->NXM_NX_REG4[0..7],move:NXM_NX_REG3[20..27]->NXM_OF_ETH_DST[0..7],set_field:0x1234->xreg3,controller(userdata=01)
`, (d, t) => {
  const f = udp('10.0.0.77');
  d.dp.receive(1, f);
  const k = d.packetIns[0]!.key;
  t.equal(reg(k, 1), 0xab00n);
  t.equal(reg(k, 2), 0x30n);
  t.equal(reg(k, 3), 0xab00000n);
  t.equal(reg(k, 4), 77n);
  t.equal(reg(k, 6), 0n);
  t.equal(reg(k, 7), 0x1234n);
  t.equal(decode(d.packetIns[0]!.frame).eth!.dst, '00:00:00:00:00:ab');
});

both('move between overlapping ranges of one field reads the source first', `
actions=load:0x12345678->NXM_NX_REG0[],move:NXM_NX_REG0[0..15]->NXM_NX_REG0[8..23],controller
`, (d, t) => {
  d.dp.receive(1, udp());
  t.equal(reg(d.packetIns[0]!.key, 0), 0x12567878n);
});

both('push and pop restore saved bits; popping an empty stack does nothing', `
table=0,actions=load:0x11->NXM_NX_REG0[],load:0x22->NXM_NX_REG1[],push:NXM_NX_REG0[],push:NXM_NX_REG1[0..7],load:0->NXM_NX_REG0[],load:0->NXM_NX_REG1[],resubmit(,1),pop:NXM_NX_REG5[0..7],pop:NXM_NX_REG6[],pop:NXM_NX_REG7[],controller
table=1,actions=load:0x99->NXM_NX_REG0[]
`, (d, t) => {
  d.dp.receive(1, udp());
  const k = d.packetIns[0]!.key;
  t.equal(reg(k, 5), 0x22n);
  t.equal(reg(k, 6), 0x11n);
  t.equal(reg(k, 7), 0n);
  t.equal(reg(k, 0), 0x99n);
});

both('dec_ttl decrements with valid checksums; TTL 1 or 0 goes to the controller as invalid_ttl and drops', `
ip,actions=dec_ttl,output:2
arp,actions=dec_ttl,output:3
`, (d, t) => {
  d.dp.receive(1, udp('10.0.0.1', '10.0.0.2', 1, 2, { ttl: 64 }));
  d.dp.receive(1, udp('10.0.0.1', '10.0.0.2', 1, 2, { ttl: 2 }));
  d.dp.receive(1, udp('10.0.0.1', '10.0.0.2', 1, 2, { ttl: 1 }));
  d.dp.receive(1, udp('10.0.0.1', '10.0.0.2', 1, 2, { ttl: 0 }));
  d.dp.receive(1, buildArp(1, '00:00:00:00:00:01', '10.0.0.1', '00:00:00:00:00:00', '10.0.0.2'));
  const s = d.sink.take();
  t.same(ports(s), [2, 2, 3]);
  t.equal(decode(s[0]!.frame).ip4!.ttl, 63);
  t.equal(decode(s[1]!.frame).ip4!.ttl, 1);
  t.same(verifyChecksums(s[0]!.frame), { ip4: true, l4: true });
  t.same(d.packetIns.map((p) => p.reason), ['invalid_ttl', 'invalid_ttl']);
});

both('VLAN push, rewrite and pop', `
in_port=1,actions=push_vlan:0x8100,mod_vlan_vid:10,output:2
in_port=2,actions=strip_vlan,output:3
in_port=3,actions=mod_vlan_vid:20,mod_vlan_pcp:5,output:4
`, (d, t) => {
  d.dp.receive(1, udp());
  d.dp.receive(2, udp('10.0.0.1', '10.0.0.2', 1000, 2000, { vlanTci: 7 }));
  d.dp.receive(3, udp());
  const s = d.sink.take();
  t.equal(decode(s[0]!.frame).eth!.vlanTci, 10);
  t.equal(decode(s[1]!.frame).eth!.vlanTci, undefined);
  t.equal(decode(s[2]!.frame).eth!.vlanTci, (5 << 13) | 20);
  for (const x of s) t.same(verifyChecksums(x.frame), { ip4: true, l4: true });
});

both('clone: changes inside do not leak; outputs get distinct frames', `
actions=clone(mod_nw_dst:10.9.9.9,output:2),mod_tp_dst:99,output:3
`, (d, t) => {
  d.dp.receive(1, udp());
  const s = d.sink.take();
  t.same(ports(s), [2, 3]);
  t.not(s[0]!.frame, s[1]!.frame);
  t.equal(decode(s[0]!.frame).ip4!.dst, '10.9.9.9');
  t.equal(decode(s[0]!.frame).udp!.dstPort, 2000);
  t.equal(decode(s[1]!.frame).ip4!.dst, '10.0.0.2');
  t.equal(decode(s[1]!.frame).udp!.dstPort, 99);
  for (const x of s) t.same(verifyChecksums(x.frame), { ip4: true, l4: true });
});

both('group all: every bucket on its own copy of the packet', 'actions=group:1', (d, t) => {
  d.dp.receive(1, udp());
  const s = d.sink.take();
  t.same(ports(s), [2, 3, 4]);
  t.equal(decode(s[0]!.frame).ip4!.dst, '10.1.1.1');
  t.equal(decode(s[1]!.frame).ip4!.dst, '10.0.0.2');
  t.equal(decode(s[2]!.frame).ip4!.dst, '10.0.0.2');
}, { groups: ['group_id=1,type=all,bucket=actions=mod_nw_dst:10.1.1.1,output:2,bucket=actions=output:3,bucket=actions=output:4'] });

t.test('group select: one bucket per flow, by the 5-tuple hash, spread by weight', async (t) => {
  const d = makeDp('actions=group:7', {
    groups: ['group_id=7,type=select,selection_method=dp_hash,bucket=weight:100,actions=output:2,bucket=weight:100,actions=output:3,bucket=weight:200,actions=output:4'],
  });
  const counts = new Map<number, number>();
  const N = 4000;
  for (let i = 0; i < N; i++) {
    const f = udp('10.0.0.1', '10.0.0.2', 1000 + i, 80);
    d.dp.receive(1, f);
    d.dp.receive(1, udp('10.0.0.1', '10.0.0.2', 1000 + i, 80));
    const s = d.sink.take();
    t.equal(s.length, 2);
    // Same 5-tuple, same bucket.
    if (s[0]!.port !== s[1]!.port) t.fail('a flow changed buckets');
    counts.set(s[0]!.port, (counts.get(s[0]!.port) ?? 0) + 1);
  }
  const share = (p: number): number => (counts.get(p) ?? 0) / N;
  t.ok(Math.abs(share(2) - 0.25) < 0.04, `port 2 share ${share(2)}`);
  t.ok(Math.abs(share(3) - 0.25) < 0.04, `port 3 share ${share(3)}`);
  t.ok(Math.abs(share(4) - 0.5) < 0.04, `port 4 share ${share(4)}`);
  // Cached per 5-tuple: the second packet of each flow hit the cache.
  t.ok(d.dp.stats().cacheHits >= N);
});

both('group indirect and a missing group', `
in_port=1,actions=group:3
in_port=2,actions=group:4,output:5
`, (d, t) => {
  d.dp.receive(1, udp());
  d.dp.receive(2, udp());
  t.same(ports(d.sink.take()), [2, 5]);
}, { groups: ['group_id=3,type=indirect,bucket=actions=output:2'] });

both('exit stops everything, callers included; note does nothing', `
table=0,actions=note:01.02,resubmit(,1),output:4
table=1,actions=output:2,exit,output:3
`, (d, t) => {
  d.dp.receive(1, udp());
  t.same(ports(d.sink.take()), [2]);
});

both('outputs after modifications: each output sees the packet as it is then', `
actions=output:2,mod_dl_src:02:00:00:00:00:01,output:3,mod_nw_src:192.168.0.1,output:4
`, (d, t) => {
  const f = udp();
  d.dp.receive(1, f);
  const s = d.sink.take();
  t.same(ports(s), [2, 3, 4]);
  t.equal(decode(s[0]!.frame).eth!.src, '00:00:00:00:00:0a');
  t.equal(decode(s[1]!.frame).eth!.src, '02:00:00:00:00:01');
  t.equal(decode(s[1]!.frame).ip4!.src, '10.0.0.1');
  t.equal(decode(s[2]!.frame).ip4!.src, '192.168.0.1');
  // The last output owns the received frame; earlier ones got copies.
  t.equal(s[2]!.frame, f);
  t.same(verifyChecksums(s[2]!.frame), { ip4: true, l4: true });
});

both('flood and all go to every port but the input port', `
in_port=1,actions=FLOOD
in_port=2,actions=ALL
`, (d, t) => {
  d.dp.receive(1, udp());
  t.same(ports(d.sink.take()), [2, 3]);
  d.dp.receive(2, udp());
  t.same(ports(d.sink.take()), [1, 3]);
}, { ports: [1, 2, 3] });

both('controller: userdata, the key with registers, the frame with changes applied', `
table=0,cookie=0x42,actions=load:0x7->NXM_NX_REG14[],mod_nw_dst:10.0.0.99,controller(userdata=00.00.00.16.00.00.00.00,max_len=65535)
`, (d, t) => {
  d.dp.receive(1, udp());
  d.dp.receive(1, udp());
  t.equal(d.packetIns.length, 2);
  const p = d.packetIns[0]!;
  t.equal(p.reason, 'action');
  t.equal(p.table, 0);
  t.equal(p.cookie, 0x42n);
  t.equal(p.userdata, '0000001600000000');
  t.equal(reg(p.key, 14), 7n);
  t.equal(getBits(p.key, field('in_port')), 1n);
  t.equal(decode(p.frame).ip4!.dst, '10.0.0.99');
  t.same(verifyChecksums(p.frame), { ip4: true, l4: true });
  t.equal(p.continuation, undefined);
  // Packets to the controller are never cached.
  t.equal(d.dp.stats().cacheEntries, 0);
});

t.test('controller(pause): resume continues right after the action, through the callers', async (t) => {
  const d = makeDp(`
table=0,actions=load:1->NXM_NX_REG1[],resubmit(,1),load:3->NXM_NX_REG3[],output:3
table=1,actions=load:2->NXM_NX_REG2[],clone(output:4),controller(userdata=aa,pause),move:NXM_NX_REG2[]->NXM_NX_REG5[],output:2
`);
  d.dp.receive(1, udp());
  t.same(ports(d.sink.take()), [4]);
  const p = d.packetIns[0]!;
  t.ok(p.continuation);
  t.equal(reg(p.key, 2), 2n);
  // The controller changes a register and the packet, then resumes.
  const key = p.key.slice();
  key[field('reg2').word] = 9;
  const frame = udp('10.0.0.1', '10.0.0.55');
  d.dp.resume(p.continuation!, frame, key);
  const s = d.sink.take();
  t.same(ports(s), [2, 3]);
  t.equal(decode(s[0]!.frame).ip4!.dst, '10.0.0.55');
  // A continuation resumes once.
  t.throws(() => d.dp.resume(p.continuation!));
  // Without a new frame or key, the saved ones are used.
  d.dp.receive(1, udp());
  d.sink.take();
  d.dp.resume(d.packetIns[1]!.continuation!);
  t.same(ports(d.sink.take()), [2, 3]);
});

t.test('controller(pause) inside a clone: resume finishes the clone, then restores the packet', async (t) => {
  const d = makeDp('actions=clone(mod_nw_dst:10.7.7.7,controller(userdata=01,pause),output:3),output:4');
  d.dp.receive(1, udp());
  t.same(ports(d.sink.take()), []);
  d.dp.resume(d.packetIns[0]!.continuation!);
  const s = d.sink.take();
  t.same(ports(s), [3, 4]);
  t.equal(decode(s[0]!.frame).ip4!.dst, '10.7.7.7');
  t.equal(decode(s[1]!.frame).ip4!.dst, '10.0.0.2');
  t.same(verifyChecksums(s[1]!.frame), { ip4: true, l4: true });
});

both('output_reg: to the port a register holds', `
table=0,actions=load:0x3->NXM_NX_REG15[],resubmit(,1)
table=1,actions=output:NXM_NX_REG15[]
`, (d, t) => {
  d.dp.receive(1, udp());
  d.dp.receive(3, udp());
  t.same(ports(d.sink.take()), [3]);
});

t.test('a packet-in handler may send packet-outs (re-entrancy is queued)', async (t) => {
  const d = makeDp('in_port=1,actions=controller(userdata=01)');
  d.dp.onPacketIn((p) => d.dp.packetOut(p.frame, parseActions('output:5')));
  d.dp.receive(1, udp());
  t.same(ports(d.sink.take()), [5]);
});

t.test('a sink that answers synchronously does not disturb the packet being processed', async (t) => {
  const d = makeDp(`
in_port=1,actions=output:2,output:3
in_port=2,actions=output:4
`);
  let inner = false;
  const orig = d.sink.transmit.bind(d.sink);
  d.sink.transmit = (port, frame, tun) => {
    orig(port, frame, tun);
    if (port === 2 && !inner) {
      inner = true;
      d.dp.receive(2, udp('10.0.0.7'));
    }
  };
  d.dp.receive(1, udp());
  t.same(ports(d.sink.take()), [2, 3, 4]);
});

both('packet-out: actions on a frame, with metadata from a key; output:TABLE runs the tables', `
table=0,reg0=5,actions=output:6
`, (d, t) => {
  const key = newKey();
  key[field('reg0').word] = 5;
  d.dp.packetOut(udp(), [{ type: 'output', port: OFPP.TABLE }], { inPort: 2, key });
  d.dp.packetOut(udp(), parseActions('mod_nw_dst:1.2.3.4,output:3'));
  const s = d.sink.take();
  t.same(ports(s), [6, 3]);
  t.equal(decode(s[1]!.frame).ip4!.dst, '1.2.3.4');
});

both('tunnels: received metadata is matched; set metadata goes to the sink', `
in_port=1,tun_id=0x5,tun_metadata0=0x10002,actions=load:0x7->NXM_NX_TUN_ID[0..23],load:0x30004->NXM_NX_TUN_METADATA0[],output:2
`, (d, t) => {
  d.dp.receive(1, udp(), { tunId: 5n, metadata0: 0x10002, src: 0x7f000001, dst: 0x7f000002 });
  d.dp.receive(1, udp(), { tunId: 6n, metadata0: 0x10002 });
  const s = d.sink.take();
  t.same(ports(s), [2]);
  t.same(s[0]!.tunnel, { tunId: 7n, metadata0: 0x30004 });
});

t.test('trace shows the tables, resubmits indented, the megaflow and datapath actions', async (t) => {
  const d = makeDp(`
table=0,priority=100,in_port=1,actions=load:0x5->NXM_NX_REG0[],resubmit(,1)
table=1,priority=10,reg0=5,udp,actions=mod_nw_dst:10.0.0.9,output:2
`);
  const r = d.dp.traceDetailed(1, udp());
  t.same(r.steps.map((s) => [s.depth, s.table]), [[0, 0], [1, 1]]);
  t.match(r.steps[1]!.flow, /priority=10,udp,reg0=0x5 actions=mod_nw_dst:10.0.0.9,output:2/);
  t.same(r.steps[1]!.notes, ['mod_nw_dst:10.0.0.9', 'output:2']);
  t.equal(r.datapathActions, 'set(nw_dst),2');
  t.match(r.megaflow, /^recirc_id=0,udp,.*in_port=1/);
  t.match(r.text, /\n 0\. in_port=1, priority 100\n {4}load:0x5->NXM_NX_REG0\[\]\n {4}resubmit\(,1\)\n {5}1\. udp,reg0=0x5, priority 10\n/);
  t.match(r.text, /Datapath actions: set\(nw_dst\),2/);
  // Tracing sends nothing and counts nothing.
  t.equal(d.sink.sent.length, 0);
  t.equal(d.dp.tables.dump()[0]!.nPackets, 0);
  t.same(d.dp.trace(1, udp()), r.steps);
  const miss = d.dp.traceDetailed(2, udp());
  t.match(miss.text, / 0\. No match\.\n {4}drop/);
  t.equal(miss.datapathActions, 'drop');
});
