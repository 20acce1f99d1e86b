// The tuple-space classifier against a linear scan, on random rule sets and packets, through
// random inserts and removals; and the wildcard property that a megaflow cache relies on.
import t from 'tap';
import fc from 'fast-check';
import { KEY_WORDS, field, newKey } from '../src/fields.js';
import type { FlowKey } from '../src/fields.js';
import { Classifier, beats, matches, newMatch, setMasked } from '../src/flow/index.js';
import type { Classifiable, Match } from '../src/flow/index.js';

interface Rule extends Classifiable {
  readonly id: number;
}

/** Fields the random rules match on, each with a small value domain so packets hit rules. */
const DIMS: ReadonlyArray<{ name: string; values: readonly bigint[] }> = [
  { name: 'in_port', values: [1n, 2n, 3n] },
  { name: 'reg0', values: [0n, 1n, 2n, 0x80000001n] },
  { name: 'metadata', values: [1n, 2n, 0x100000001n] },
  { name: 'dl_type', values: [0x800n, 0x86ddn] },
  { name: 'nw_src', values: [0x0a000001n, 0x0a000002n, 0x0a000101n] },
  { name: 'tp_dst', values: [22n, 80n, 443n] },
  { name: 'ipv6_dst', values: [1n, (0xfe80n << 112n) | 1n] },
];

type Spec = { dim: number; kind: 'exact' | 'masked'; value: number; mask: bigint };

const specArb = fc.record({
  dim: fc.nat({ max: DIMS.length - 1 }),
  kind: fc.constantFrom<'exact' | 'masked'>('exact', 'exact', 'masked'),
  value: fc.nat({ max: 3 }),
  mask: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
});

const ruleArb = fc.record({
  priority: fc.nat({ max: 2 }),
  specs: fc.array(specArb, { maxLength: 4 }),
});

function buildMatch(specs: readonly Spec[]): Match {
  const m = newMatch();
  for (const s of specs) {
    const d = DIMS[s.dim]!;
    const f = field(d.name);
    const v = d.values[s.value % d.values.length]!;
    const full = (1n << BigInt(f.bits)) - 1n;
    // Masks: either exact or one of a few structured shapes (prefix, low bits, random).
    setMasked(m, f, v, s.kind === 'exact' ? full : s.mask & full);
  }
  return m;
}

const pktArb = fc.record({
  choices: fc.array(fc.nat({ max: 9 }), { minLength: DIMS.length, maxLength: DIMS.length }),
  noise: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: KEY_WORDS, maxLength: KEY_WORDS }),
});

function buildKey(p: { choices: number[]; noise: number[] }): FlowKey {
  const k = newKey();
  // Random bits everywhere, then mostly values from the dimensions' domains (choices 8, 9 keep the noise).
  for (let i = 0; i < KEY_WORDS; i++) k[i] = p.noise[i]!;
  DIMS.forEach((d, i) => {
    const c = p.choices[i]!;
    if (c < 8) {
      const f = field(d.name);
      let v = d.values[c % d.values.length]!;
      for (let w = f.words - 1; w >= 0; w--, v >>= 32n) k[f.word + w] = Number(v & 0xffffffffn);
    }
  });
  return k;
}

function linear(rules: Iterable<Rule>, key: FlowKey): Rule | undefined {
  let best: Rule | undefined;
  for (const r of rules) if (matches(r.match, key) && (best === undefined || beats(r, best))) best = r;
  return best;
}

type Op = { kind: 'add'; rule: { priority: number; specs: Spec[] } } | { kind: 'del'; index: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: ruleArb.map((rule): Op => ({ kind: 'add', rule })) },
  { weight: 1, arbitrary: fc.nat({ max: 1000 }).map((index): Op => ({ kind: 'del', index })) },
);

t.test('classifier lookup equals a linear scan through inserts and removals', async (t) => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 60 }), fc.array(pktArb, { minLength: 1, maxLength: 30 }), (ops, pkts) => {
      const cls = new Classifier<Rule>();
      const live: Rule[] = [];
      let seq = 0;
      const check = (): void => {
        for (const p of pkts) {
          const key = buildKey(p);
          const got = cls.lookup(key);
          const want = linear(live, key);
          if (got !== want) throw new Error(`lookup: got ${got?.id} want ${want?.id}`);
        }
      };
      for (const op of ops) {
        if (op.kind === 'add') {
          const match = buildMatch(op.rule.specs);
          // Like a flow table: an identical match and priority replaces the old rule.
          const old = cls.find(match, op.rule.priority);
          if (old) {
            cls.remove(old);
            live.splice(live.indexOf(old), 1);
          }
          const r: Rule = { id: seq, seq: seq++, priority: op.rule.priority, match };
          cls.insert(r);
          live.push(r);
        } else if (live.length) {
          const r = live.splice(op.index % live.length, 1)[0]!;
          if (!cls.remove(r)) throw new Error('remove failed');
        }
        if (cls.size !== live.length) throw new Error('size mismatch');
      }
      check();
    }),
    { numRuns: 300 },
  );
  t.pass('300 random op sequences agree with the linear scan');
});

t.test('the wildcard mask covers every bit the answer depends on', async (t) => {
  fc.assert(
    fc.property(
      fc.array(ruleArb, { maxLength: 40 }),
      pktArb,
      fc.array(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: KEY_WORDS, maxLength: KEY_WORDS }), { minLength: 1, maxLength: 10 }),
      (rules, pkt, others) => {
        const cls = new Classifier<Rule>();
        rules.forEach((r, i) => {
          const match = buildMatch(r.specs);
          if (!cls.find(match, r.priority)) cls.insert({ id: i, seq: i, priority: r.priority, match });
        });
        const key = buildKey(pkt);
        const wc = newKey();
        const hit = cls.lookup(key, wc);
        for (const o of others) {
          // A key that agrees with `key` on the wildcard bits and is random elsewhere.
          const k2 = newKey();
          for (let i = 0; i < KEY_WORDS; i++) k2[i] = ((key[i]! & wc[i]!) | (o[i]! & ~wc[i]!)) >>> 0;
          if (cls.lookup(k2) !== hit) throw new Error('a key agreeing on the wildcard bits got another answer');
        }
        // The mask never claims less than the winning rule's own mask.
        if (hit) for (let i = 0; i < KEY_WORDS; i++) if ((hit.match.mask[i]! & ~wc[i]!) !== 0) throw new Error('wildcards miss bits of the hit');
      },
    ),
    { numRuns: 300 },
  );
  t.pass('300 random rule sets keep the wildcard property');
});

t.test('equal priorities: the earliest added wins, in any subtable order', async (t) => {
  const cls = new Classifier<Rule>();
  const a = newMatch();
  setMasked(a, 'reg0', 1, 0xffffffff);
  const b = newMatch();
  setMasked(b, 'reg1', 2, 0xffffffff);
  const c = newMatch();
  setMasked(c, 'reg0', 1, 0xffffffff);
  setMasked(c, 'reg1', 2, 0xffffffff);
  // Inserted out of seq order on purpose.
  const rc: Rule = { id: 3, seq: 3, priority: 5, match: c };
  const rb: Rule = { id: 2, seq: 2, priority: 5, match: b };
  const ra: Rule = { id: 1, seq: 7, priority: 5, match: a };
  for (const r of [rc, ra, rb]) cls.insert(r);
  const key = newKey();
  key[field('reg0').word] = 1;
  key[field('reg1').word] = 2;
  t.equal(cls.lookup(key)?.id, 2, 'lowest seq among equal priorities');
  cls.remove(rb);
  t.equal(cls.lookup(key)?.id, 3);
  cls.remove(rc);
  t.equal(cls.lookup(key)?.id, 1);
  t.equal(cls.subtableCount, 1);
});

t.test('lookup stops early: lower subtables are not probed', async (t) => {
  const cls = new Classifier<Rule>();
  const hi = newMatch();
  setMasked(hi, 'reg0', 1, 0xffffffff);
  const lo = newMatch();
  setMasked(lo, 'reg5', 7, 0xffffffff);
  cls.insert({ id: 1, seq: 1, priority: 100, match: hi });
  cls.insert({ id: 2, seq: 2, priority: 10, match: lo });
  const key = newKey();
  key[field('reg0').word] = 1;
  key[field('reg5').word] = 7;
  const wc = newKey();
  t.equal(cls.lookup(key, wc)?.id, 1);
  t.equal(wc[field('reg5').word], 0, 'reg5 (only in the lower subtable) stays wildcarded');
  t.equal(wc[field('reg0').word], 0xffffffff);
  const wc2 = newKey();
  key[field('reg0').word] = 2;
  t.equal(cls.lookup(key, wc2)?.id, 2);
  t.equal(wc2[field('reg5').word], 0xffffffff, 'a miss above probes below');
});

t.test('find is strict: same mask and value and priority', async (t) => {
  const cls = new Classifier<Rule>();
  const m = newMatch();
  setMasked(m, 'nw_src', 0x0a000000, 0xff000000);
  cls.insert({ id: 1, seq: 1, priority: 5, match: m });
  const same = newMatch();
  setMasked(same, 'nw_src', 0x0affffff, 0xff000000);
  t.equal(cls.find(same, 5)?.id, 1, 'values compare under the mask');
  t.equal(cls.find(same, 6), undefined);
  const other = newMatch();
  setMasked(other, 'nw_src', 0x0a000000, 0xffff0000);
  t.equal(cls.find(other, 5), undefined);
  t.equal([...cls.covered(newMatch())].length, 1, 'the catch-all covers everything');
  t.equal([...cls.covered(other)].length, 0, 'a more specific target covers less specific rules not');
});

t.test('equal priorities across subtables: a later hit in an earlier-sorted subtable loses', async (t) => {
  // Subtable A (reg0) holds seq 1 (reg0=1) and seq 5 (reg0=2); subtable B (reg1) holds seq 3.
  // A sorts first (its earliest rule is older), but for reg0=2 B's rule is the older match.
  const cls = new Classifier<Rule>();
  const mk = (f: string, v: number): Match => {
    const m = newMatch();
    setMasked(m, f, v, 0xffffffff);
    return m;
  };
  cls.insert({ id: 1, seq: 1, priority: 5, match: mk('reg0', 1) });
  cls.insert({ id: 5, seq: 5, priority: 5, match: mk('reg0', 2) });
  cls.insert({ id: 3, seq: 3, priority: 5, match: mk('reg1', 9) });
  const key = newKey();
  key[field('reg0').word] = 2;
  key[field('reg1').word] = 9;
  t.equal(cls.lookup(key)?.id, 3);
  key[field('reg0').word] = 1;
  t.equal(cls.lookup(key)?.id, 1);
});
