// Conjunctive matches against a brute-force reference written from the specification
// (ovs-fields(7)): random tables of ordinary flows, clause flows `conjunction(id,k/n)` and
// `conj_id=id` flows, random packets; the datapath (with and without the megaflow cache) must
// pick the flow the reference picks.
import t from 'tap';
import fc from 'fast-check';
import { field, newKey, type FlowKey } from '../src/fields.js';
import { beats, matches, type FlowEntry } from '../src/flow/index.js';
import { extractKey, PacketLayout } from '../src/packet/index.js';
import { makeDp, udp } from './datapath-helpers.js';

const W_CONJ = field('conj_id').word;
/** Conjunction ids and their clause counts. */
const IDS: ReadonlyArray<readonly [number, number]> = [[1, 2], [2, 3], [3, 2]];

const matchItem = fc.oneof(
  fc.integer({ min: 1, max: 3 }).map((v) => `in_port=${v}`),
  fc.integer({ min: 1, max: 3 }).map((v) => `nw_src=10.0.0.${v}`),
  fc.constantFrom('nw_src=10.0.0.0/31', 'nw_src=10.0.0.2/31'),
  fc.integer({ min: 1, max: 3 }).map((v) => `tp_src=${v}`),
  fc.integer({ min: 1, max: 3 }).map((v) => `tp_dst=${v}`),
  fc.constantFrom('tp_dst=0x2/0x2', 'tp_dst=0x1/0x1'),
);
const matchOf = (n: number): fc.Arbitrary<string> =>
  fc.uniqueArray(matchItem, { maxLength: n, selector: (s) => s.split('=')[0] }).map((items) => ['udp', ...items].join(','));
const matchArb = matchOf(3);
const prio = fc.integer({ min: 1, max: 4 });
/** Clause and conj_id flows share fewer priorities, so conjunctions complete often. */
const conjPrio = fc.integer({ min: 2, max: 3 });

type FlowSpec = { kind: 'hard'; prio: number; match: string } | { kind: 'clause'; prio: number; match: string; conj: [number, number][] } | { kind: 'conj'; prio: number; id: number; match: string };

const flowArb: fc.Arbitrary<FlowSpec> = fc.oneof(
  fc.record({ kind: fc.constant('hard' as const), prio, match: matchArb }),
  fc.record({ kind: fc.constant('hard' as const), prio: fc.constant(1), match: matchArb }),
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('clause' as const),
      prio: conjPrio,
      match: matchOf(1),
      conj: fc.uniqueArray(fc.tuple(fc.nat({ max: IDS.length - 1 }), fc.nat({ max: 2 })), { minLength: 1, maxLength: 2, selector: ([i]) => i }).map((xs) =>
        xs.map(([i, k]): [number, number] => [i, (k % IDS[i]![1]) + 1]),
      ),
    }),
  },
  fc.record({ kind: fc.constant('conj' as const), prio: fc.integer({ min: 2, max: 4 }), id: fc.constantFrom(1, 2, 3, 1, 2, 3, 9), match: fc.oneof(fc.constant(''), fc.integer({ min: 1, max: 3 }).map((v) => `,tp_src=${v}`)) }),
);

function flowText(f: FlowSpec, i: number): string {
  const out = `actions=output:${100 + i}`;
  switch (f.kind) {
    case 'hard':
      return `priority=${f.prio},${f.match},${out}`;
    case 'clause':
      return `priority=${f.prio},${f.match},actions=${f.conj.map(([id, k]) => `conjunction(${IDS[id]![0]},${k}/${IDS[id]![1]})`).join(',')}`;
    case 'conj':
      return `priority=${f.prio},conj_id=${f.id}${f.match},${out}`;
  }
}

const isConj = (e: FlowEntry): boolean => e.actions.some((a) => a.type === 'conjunction');

function best(flows: readonly FlowEntry[], key: FlowKey): FlowEntry | undefined {
  let b: FlowEntry | undefined;
  for (const e of flows) if (!isConj(e) && matches(e.match, key) && (b === undefined || beats(e, b))) b = e;
  return b;
}

/** The specification, by brute force: the set of flows the lookup may answer with. */
function reference(flows: readonly FlowEntry[], key: FlowKey): Set<FlowEntry | undefined> {
  const hard = best(flows, key);
  const hp = hard?.priority ?? -1;
  const soft = flows.filter((e) => isConj(e) && e.priority > hp && matches(e.match, key));
  const levels = [...new Set(soft.map((e) => e.priority))].sort((a, b) => b - a);
  for (const p of levels) {
    const atP = soft.filter((e) => e.priority === p);
    const results = new Set<FlowEntry | undefined>();
    for (const [id, n] of IDS) {
      const covered = new Set<number>();
      for (const e of atP) for (const a of e.actions) if (a.type === 'conjunction' && a.id === id) covered.add(a.clause);
      if (covered.size !== n) continue;
      const k2 = key.slice();
      k2[W_CONJ] = id;
      const r = best(flows, k2);
      if (r !== undefined) {
        // The implementation tries satisfied ids in increasing order: the first id with a flow wins.
        results.add(r);
        return results;
      }
    }
  }
  return new Set([hard]);
}

const pktArb = fc.record({
  inPort: fc.integer({ min: 1, max: 3 }),
  src: fc.integer({ min: 0, max: 3 }),
  sport: fc.integer({ min: 0, max: 3 }),
  dport: fc.integer({ min: 0, max: 3 }),
});

t.test('conjunctive matches agree with the brute-force reference', async (t) => {
  let conjHits = 0;
  fc.assert(
    fc.property(fc.array(flowArb, { minLength: 8, maxLength: 30 }), fc.array(pktArb, { minLength: 1, maxLength: 30 }), (specs, pkts) => {
      const text = specs.map(flowText).join('\n');
      const withCache = makeDp(text, { ports: 'any' });
      const noCache = makeDp(text, { ports: 'any', cache: false });
      const flows = withCache.dp.tables.dump();
      for (const p of pkts) {
        const frame = udp(`10.0.0.${p.src}`, '10.0.0.9', p.sport, p.dport);
        const key = newKey();
        extractKey(frame, key, p.inPort, new PacketLayout());
        const want = reference(flows, key);
        for (const d of [withCache, noCache]) {
          d.dp.receive(p.inPort, frame.slice());
          const sent = d.sink.take();
          const got = sent.length === 0 ? undefined : flows.find((e) => e.actions.some((a) => a.type === 'output' && a.port === sent[0]!.port));
          if (!want.has(got)) {
            throw new Error(`packet ${JSON.stringify(p)}: got ${got ? got.priority + ' ' + JSON.stringify(got.actions) : 'nothing'}, want one of ${[...want].map((e) => (e ? e.priority : 'nothing')).join(', ')}`);
          }
          if (got !== undefined && got.match.mask[W_CONJ] !== 0) conjHits++;
        }
      }
    }),
    { numRuns: 300 },
  );
  t.ok(conjHits > 50, `conjunctions were exercised (${conjHits} hits)`);
});

t.test('a conjunction with a conj_id flow, a hard flow between priorities, and fallback to lower levels', async (t) => {
  const d = makeDp(`
priority=10,udp,nw_src=10.0.0.1,actions=conjunction(1,1/2)
priority=10,udp,tp_dst=80,actions=conjunction(1,2/2)
priority=10,conj_id=1,actions=output:2
priority=5,udp,actions=output:3
priority=20,udp,tp_dst=81,actions=conjunction(2,1/2)
priority=20,udp,nw_src=10.0.0.1,actions=conjunction(2,2/2)
`);
  d.dp.receive(1, udp('10.0.0.1', '10.0.0.2', 9, 80));
  d.dp.receive(1, udp('10.0.0.2', '10.0.0.2', 9, 80));
  d.dp.receive(1, udp('10.0.0.1', '10.0.0.2', 9, 81));
  // conjunction(2) is satisfied but has no conj_id=2 flow: the lower level answers.
  t.same(d.sink.take().map((s) => s.port), [2, 3, 3]);
  const r = d.dp.traceDetailed(1, udp('10.0.0.1', '10.0.0.2', 9, 80));
  t.match(r.text, /conj_id=1, priority 10/);
  t.match(r.megaflow, /conj_id=0/);
});
