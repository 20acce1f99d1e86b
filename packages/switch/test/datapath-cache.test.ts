// The megaflow cache property: for random flow tables (resubmits, register and header rewrites,
// moves, the stack, dec_ttl, VLANs, groups, clones, conntrack with recirculation and NAT,
// conjunctions, controller, exit …) and random packets, a datapath with the cache does exactly
// what one without it does: same frames out of the same ports, same packet-ins, same flow
// counters, same conntrack table; also when random flow mods and group mods come between
// packets, i.e. a cached decision never outlives the flows it was derived from.
import t from 'tap';
import fc from 'fast-check';
import { parseFlowMod, parseGroup, type FlowMod } from '../src/flow/index.js';
import { TCP_ACK, TCP_SYN } from '../src/packet/index.js';
import { makeDp, tcp, udp, type TestDp } from './datapath-helpers.js';

const N_TABLES = 5;

const small = (max: number): fc.Arbitrary<number> => fc.integer({ min: 0, max });

const matchItem: fc.Arbitrary<string> = fc.oneof(
  small(3).map((v) => `in_port=${v + 1}`),
  small(3).map((v) => `reg0=${v}`),
  fc.tuple(small(3), fc.constantFrom(1, 2, 3)).map(([v, m]) => `reg1=${v & m}/${m}`),
  small(2).map((v) => `nw_src=10.0.0.${v + 1}`),
  fc.constantFrom('nw_src=10.0.0.0/30', 'nw_dst=10.0.0.8/29', 'nw_dst=192.168.0.0/16'),
  small(3).map((v) => `tp_dst=${v + 1}`),
  small(3).map((v) => `tp_src=${v + 1}`),
  fc.constantFrom('udp', 'tcp', 'ip'),
  fc.constantFrom('nw_ttl=1', 'nw_ttl=64'),
  fc.constantFrom('ct_state=+trk', 'ct_state=-trk', 'ct_state=+new+trk', 'ct_state=+est+trk', 'ct_state=+rpl+trk', 'ct_state=+inv+trk', 'ct_state=+snat'),
  fc.constantFrom('ct_mark=0x1', 'ct_zone=3'),
  small(2).map((v) => `metadata=${v}`),
  fc.constantFrom('vlan_tci=0x1000/0x1000', 'vlan_tci=0'),
  fc.constantFrom('tcp_flags=+syn', 'tcp_flags=+ack'),
);

const matchArb = fc.uniqueArray(matchItem, { maxLength: 3, selector: (s) => s.replace(/[=+].*/, '') }).map((xs) => xs.join(','));

function actionArb(table: number, nested: boolean): fc.Arbitrary<string> {
  const later = table + 1 < N_TABLES ? fc.integer({ min: table + 1, max: N_TABLES - 1 }) : fc.constant(-1);
  const simple: fc.Arbitrary<string>[] = [
    small(4).map((p) => `output:${p + 1}`),
    fc.constant('output:in_port'),
    fc.constant('IN_PORT'),
    small(3).map((v) => `set_field:${v}->reg0`),
    small(15).map((v) => `load:${v}->NXM_NX_REG1[0..3]`),
    fc.constant('move:NXM_NX_REG0[0..1]->NXM_NX_REG1[2..3]'),
    fc.constant('move:NXM_OF_IP_SRC[0..7]->NXM_NX_REG2[0..7]'),
    fc.constant('move:NXM_NX_REG2[0..7]->NXM_OF_IP_DST[0..7]'),
    fc.constant('move:NXM_OF_IP_SRC[0..7]->NXM_OF_IP_DST[0..7]'),
    fc.constant('move:NXM_OF_TCP_SRC[0..1]->NXM_NX_REG0[0..1]'),
    small(3).map((v) => `mod_nw_src:10.0.0.${v + 1}`),
    small(3).map((v) => `mod_tp_dst:${v + 1}`),
    fc.constant('mod_dl_src:02:00:00:00:00:01'),
    fc.constant('dec_ttl'),
    fc.constantFrom('push:NXM_NX_REG0[]', 'push:NXM_OF_IP_SRC[]', 'push:NXM_OF_IP_SRC[],pop:NXM_NX_REG1[]'),
    fc.constantFrom('pop:NXM_NX_REG3[]', 'pop:NXM_NX_REG1[]'),
    fc.constantFrom('mod_vlan_vid:5', 'mod_vlan_pcp:3', 'strip_vlan', 'push_vlan:0x8100'),
    small(2).map((g) => `group:${g + 1}`),
    fc.constant('ct_clear'),
    small(1).map((z) => `ct(commit,zone=${z + 3})`),
    fc.constant('ct(commit,zone=3,exec(load:0x1->NXM_NX_CT_MARK[]))'),
    fc.constant('load:0x1->NXM_NX_TUN_ID[0..23]'),
    fc.constant('note:01'),
  ];
  const rare: fc.Arbitrary<string>[] = [fc.constant('controller(userdata=01.02)'), fc.constant('exit')];
  const withTable: fc.Arbitrary<string>[] = table + 1 < N_TABLES
    ? [
        later.map((n) => `resubmit(,${n})`),
        fc.tuple(small(3), later).map(([p, n]) => `resubmit(${p + 1},${n})`),
        fc.tuple(small(1), later).map(([z, n]) => `ct(zone=${z + 3},table=${n})`),
        later.map((n) => `ct(zone=3,nat,table=${n})`),
        later.map((n) => `ct(commit,zone=4,nat(src=192.168.0.1:100-101),table=${n})`),
        later.map((n) => `ct(commit,zone=4,nat(dst=10.0.0.9:7),table=${n})`),
      ]
    : [];
  const all = [...simple, ...withTable];
  const one = fc.oneof({ weight: 20, arbitrary: fc.oneof(...all) }, { weight: 1, arbitrary: fc.oneof(...rare) });
  if (nested) return one;
  return fc.oneof({ weight: 10, arbitrary: one }, { weight: 1, arbitrary: fc.array(actionArb(table, true), { minLength: 1, maxLength: 3 }).map((xs) => `clone(${xs.join(',')})`) });
}

const flowArb: fc.Arbitrary<string> = small(N_TABLES - 1).chain((table) =>
  fc.oneof(
    {
      weight: 10,
      arbitrary: fc.tuple(small(3), matchArb, fc.array(actionArb(table, false), { maxLength: 4 })).map(
        ([prio, m, acts]) => `table=${table},priority=${prio}${m ? `,${m}` : ''},actions=${acts.length ? acts.join(',') : 'drop'}`,
      ),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(matchArb, fc.integer({ min: 1, max: 2 })).map(([m, k]) => `table=${table},priority=3${m ? `,${m}` : ''},actions=conjunction(7,${k}/2)`),
    },
    { weight: 1, arbitrary: fc.constant(`table=${table},priority=3,conj_id=7,actions=output:4`) },
  ),
);

const groupArb: fc.Arbitrary<string> = fc.tuple(
  small(1),
  fc.constantFrom('all', 'select', 'indirect'),
  fc.array(fc.array(actionArb(N_TABLES - 1, true), { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 3 }),
).map(([id, type, buckets]) => {
  // Each bucket ends in its own port, so the bucket chosen is visible.
  const bs = (type === 'indirect' ? buckets.slice(0, 1) : buckets).map((b, i) => `bucket=actions=${[...b, `output:${i + 1}`].join(',')}`);
  return `group_id=${id + 1},type=${type}${type === 'select' ? ',selection_method=dp_hash' : ''},${bs.join(',')}`;
});

type Pkt = { inPort: number; src: number; dst: number; sport: number; dport: number; ttl: number; vlan: boolean; tcp: number; reply: boolean };
const pktArb: fc.Arbitrary<Pkt> = fc.record({
  inPort: fc.integer({ min: 1, max: 4 }),
  src: small(2),
  dst: small(2),
  sport: small(3),
  dport: small(3),
  ttl: fc.constantFrom(64, 64, 1, 2),
  vlan: small(2).map((v) => v === 0),
  tcp: small(3),
  reply: fc.boolean(),
});

function frame(p: Pkt): Uint8Array {
  const a = `10.0.0.${p.src + 1}`;
  const b = p.dst === 2 ? '10.0.0.9' : `10.0.0.${p.dst + 1}`;
  const [s, d] = p.reply ? [b, a] : [a, b];
  const [sp, dp] = p.reply ? [p.dport + 1, p.sport + 1] : [p.sport + 1, p.dport + 1];
  if (p.tcp === 1) return tcp(s, d, sp, dp, p.reply ? TCP_SYN | TCP_ACK : TCP_SYN, 1, p.reply ? 2 : 0);
  if (p.tcp === 2) return tcp(s, d, sp, dp, TCP_ACK, 2, 2);
  return udp(s, d, sp, dp, { ttl: p.ttl, ...(p.vlan ? { vlanTci: (2 << 13) | 3 } : {}) });
}

type Step =
  | { kind: 'pkt'; p: Pkt; repeat: number }
  | { kind: 'add'; flow: string }
  | { kind: 'del'; index: number; strict: boolean }
  | { kind: 'mod'; index: number; actions: string }
  | { kind: 'group'; group: string };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ kind: fc.constant('pkt' as const), p: pktArb, repeat: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('add' as const), flow: flowArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('del' as const), index: fc.nat(), strict: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('mod' as const), index: fc.nat(), actions: fc.array(actionArb(N_TABLES - 1, true), { maxLength: 2 }).map((a) => a.join(',') || 'drop') }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('group' as const), group: groupArb }) },
);

interface Observed {
  out: string[];
}

function observe(d: TestDp, o: Observed): void {
  for (const s of d.sink.take()) {
    o.out.push(`${s.port} ${Buffer.from(s.frame).toString('hex')} ${s.tunnel ? `${s.tunnel.tunId}/${s.tunnel.metadata0}` : '-'}`);
  }
  for (const p of d.packetIns.splice(0)) {
    o.out.push(`pin ${p.reason} ${p.table} ${p.userdata} ${Buffer.from(p.frame).toString('hex')} ${Buffer.from(p.key.buffer).toString('hex')}`);
  }
}

/** Applies a mod to both datapaths; a mod one of them refuses must be refused by both. */
function apply(ds: readonly TestDp[], mod: FlowMod | undefined): void {
  if (mod === undefined) return;
  const errs = ds.map((d) => {
    try {
      d.dp.tables.apply(mod);
      return 'ok';
    } catch (e) {
      return String(e);
    }
  });
  if (errs[0] !== errs[1]) throw new Error(`mods diverged: ${errs.join(' / ')}`);
}

function runScenario(flows: readonly string[], groups: readonly string[], steps: readonly Step[]): { hits: number } {
  const text = flows.join('\n');
  const opts = { ports: [1, 2, 3, 4], now: () => 0 } as const;
  const cached = makeDp(text, { ...opts, cache: true });
  const plain = makeDp(text, { ...opts, cache: false });
  const ds = [cached, plain];
  for (const g of groups) for (const d of ds) d.dp.groups.modify(parseGroup(g), true);
  const oc: Observed = { out: [] };
  const op: Observed = { out: [] };
  for (const [i, s] of steps.entries()) {
    switch (s.kind) {
      case 'pkt':
        for (let r = 0; r < s.repeat; r++) {
          for (const d of ds) d.dp.receive(s.p.inPort, frame(s.p));
        }
        break;
      case 'add':
        apply(ds, parseFlowMod(s.flow));
        break;
      case 'del':
      case 'mod': {
        const pick = (): FlowMod | undefined => {
          const all = cached.dp.tables.dump();
          if (all.length === 0) return undefined;
          const e = all[s.index % all.length]!;
          if (s.kind === 'del') return { command: s.strict ? 'delete_strict' : 'delete', table: e.table, priority: e.priority, match: e.match };
          return { command: 'modify_strict', table: e.table, priority: e.priority, match: e.match, actions: parseFlowMod(`actions=${s.actions}`).actions! };
        };
        apply(ds, pick());
        break;
      }
      case 'group':
        for (const d of ds) d.dp.groups.modify(parseGroup(s.group), true);
        break;
    }
    observe(cached, oc);
    observe(plain, op);
    if (oc.out.length !== op.out.length || oc.out.some((x, j) => x !== op.out[j])) {
      throw new Error(`diverged after step ${i} (${JSON.stringify(s)}):\n cache:    ${oc.out.slice(-4).join('\n           ')}\n no cache: ${op.out.slice(-4).join('\n           ')}`);
    }
  }
  const ca = cached.dp.tables.dump().map((e) => `${e.table}/${e.priority} ${e.nPackets} ${e.nBytes}`);
  const pa = plain.dp.tables.dump().map((e) => `${e.table}/${e.priority} ${e.nPackets} ${e.nBytes}`);
  if (ca.join() !== pa.join()) throw new Error(`flow counters differ:\n${ca.join('\n')}\n--\n${pa.join('\n')}`);
  if (cached.dp.conntrack.dump().join() !== plain.dp.conntrack.dump().join()) throw new Error('conntrack tables differ');
  const ts = (d: TestDp): string => JSON.stringify(d.dp.tableStats().slice(0, N_TABLES));
  if (ts(cached) !== ts(plain)) throw new Error(`table counters differ:\n${ts(cached)}\n${ts(plain)}`);
  return { hits: cached.dp.stats().cacheHits };
}

t.test('with the cache the datapath does what it does without, through random flow mods', async (t) => {
  let hits = 0;
  fc.assert(
    fc.property(
      fc.array(flowArb, { minLength: 3, maxLength: 25 }),
      fc.array(groupArb, { maxLength: 2 }),
      fc.array(stepArb, { minLength: 5, maxLength: 40 }),
      (flows, groups, steps) => {
        hits += runScenario(flows, groups, steps).hits;
      },
    ),
    { numRuns: 400 },
  );
  t.ok(hits > 1000, `the cache was used (${hits} hits)`);
});

t.test('a flow mod in a table the megaflow visited makes it stale; other tables do not', async (t) => {
  const d = makeDp(`
table=0,in_port=1,actions=resubmit(,1)
table=1,udp,actions=output:2
table=2,actions=output:3
`);
  d.dp.receive(1, udp());
  d.dp.receive(1, udp());
  t.same(d.dp.stats().cacheHits, 1);
  // Table 2 was not visited: the entry stays valid.
  d.dp.tables.apply(parseFlowMod('table=2,priority=5,actions=output:4'));
  d.dp.receive(1, udp());
  t.same([d.dp.stats().cacheHits, d.dp.stats().cacheStale], [2, 0]);
  // Table 1 was: the next packet sees the new flow.
  d.dp.tables.apply(parseFlowMod('table=1,priority=40000,udp,tp_dst=2000,actions=output:4'));
  d.dp.receive(1, udp());
  t.same(d.sink.take().map((s) => s.port), [2, 2, 2, 4]);
  t.equal(d.dp.stats().cacheStale, 1);
  // Group changes invalidate entries that used the group; invalidate() everything.
  d.dp.groups.add(parseGroup('group_id=1,type=all,bucket=actions=output:5'));
  d.dp.tables.apply(parseFlowMod('table=1,priority=50000,udp,actions=group:1'));
  d.dp.receive(1, udp());
  d.dp.groups.modify(parseGroup('group_id=1,type=all,bucket=actions=output:6'));
  d.dp.receive(1, udp());
  d.dp.invalidate();
  d.dp.receive(1, udp());
  t.same(d.sink.take().map((s) => s.port), [5, 6, 6]);
  // Flow expiry counts as a change too.
  let now = 0;
  const e = makeDp('table=0,hard_timeout=1,actions=output:2', { now: () => now });
  e.dp.receive(1, udp());
  now = 1000;
  e.dp.tables.expire();
  e.dp.receive(1, udp());
  t.same(e.sink.take().map((s) => s.port), [2]);
});

t.test('per-table lookup and matched counters count cached packets too', async (t) => {
  const d = makeDp(`
table=0,in_port=1,actions=resubmit(,1),resubmit(,1),resubmit(,2)
table=1,udp,actions=output:2
`);
  for (let i = 0; i < 5; i++) d.dp.receive(1, udp());
  d.dp.receive(2, udp());
  const s = d.dp.tableStats();
  t.same(s.slice(0, 3), [{ lookup: 6, matched: 5 }, { lookup: 10, matched: 10 }, { lookup: 5, matched: 0 }]);
  // Entries that leave the cache keep their counts.
  d.dp.tables.apply(parseFlowMod('table=1,priority=1,actions=drop'));
  d.dp.receive(1, udp());
  t.same(d.dp.tableStats().slice(0, 3), [{ lookup: 7, matched: 6 }, { lookup: 12, matched: 12 }, { lookup: 6, matched: 0 }]);
});

t.test('cache statistics, capacity and megaflow generality', async (t) => {
  const d = makeDp(`
table=0,in_port=1,udp,actions=output:2
table=0,in_port=2,actions=output:1
`, { cacheCapacity: 2 });
  for (let i = 0; i < 10; i++) d.dp.receive(1, udp('10.0.0.1', '10.0.0.2', 1000 + i, 2000 + i));
  // Ports and addresses were never looked at: one megaflow serves all of them.
  t.same([d.dp.stats().cacheMisses, d.dp.stats().cacheHits, d.dp.stats().cacheEntries], [1, 9, 1]);
  d.dp.receive(2, udp());
  d.dp.receive(3, udp());
  d.dp.receive(1, udp());
  const s = d.dp.stats();
  t.equal(s.cacheEntries, 2);
  t.equal(s.cacheEvictions, 2);
});

t.test('megaflows include every bit the translation read', async (t) => {
  const cases: ReadonlyArray<readonly [string, RegExp]> = [
    ['actions=move:NXM_OF_IP_SRC[0..7]->NXM_NX_REG2[0..7],output:2', /nw_src=0\.0\.0\.1\/0\.0\.0\.255/],
    ['actions=push:NXM_OF_IP_SRC[],pop:NXM_NX_REG1[],output:2', /nw_src=10\.0\.0\.1$/],
    ['actions=mod_vlan_vid:5,output:2', /vlan_tci=0x0000\/0xffff|dl_vlan=|vlan_tci=0x0000/],
    ['actions=strip_vlan,output:2', /vlan_tci=0x0000\/0x1000/],
    ['actions=dec_ttl,output:2', /nw_ttl=64/],
    ['actions=output:2', /in_port=1/],
    ['actions=output:in_port', /in_port=1/],
    ['actions=group:1', /nw_src=10\.0\.0\.1,nw_dst=10\.0\.0\.2,.*tp_src=1000,tp_dst=2000/],
    ['actions=load:0x5->NXM_NX_REG3[],ct(zone=NXM_NX_REG3[0..15]),output:2', /reg3=0/],
    ['actions=output:NXM_NX_REG0[0..7]', /reg0=0\/0xff/],
  ];
  for (const [flow, want] of cases) {
    const d = makeDp(flow, { groups: ['group_id=1,type=select,bucket=actions=output:2,bucket=actions=output:3'] });
    t.match(d.dp.traceDetailed(1, udp()).megaflow, want, flow);
  }
  // And a table that matches nothing of the packet looks at nothing but the recirculation id.
  t.equal(makeDp('actions=drop').dp.traceDetailed(1, udp()).megaflow, 'recirc_id=0');
});
