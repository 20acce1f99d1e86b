import t from 'tap';
import fc from 'fast-check';
import {
  OvsdbError,
  compareAtoms,
  datumToJson,
  evalCondition,
  parseCondition,
  parseSchema,
  pinnedUuid,
  type Atom,
  type Datum,
  type Row,
} from '../src/index.js';

const NUM_RUNS = 200;

const schema = parseSchema({
  name: 'C',
  version: '1.0.0',
  tables: {
    T: {
      columns: {
        i: { type: { key: { type: 'integer', minInteger: -3, maxInteger: 3 } } },
        r: { type: 'real' },
        oi: { type: { key: 'integer', min: 0, max: 1 } },
        s: { type: { key: { type: 'string', enum: ['set', ['a', 'b', 'c']] } } },
        b: { type: 'boolean' },
        tags: { type: { key: { type: 'string', enum: ['set', ['a', 'b', 'c', 'd']] }, min: 0, max: 3 } },
        kv: { type: { key: { type: 'string', enum: ['set', ['x', 'y', 'z']] }, value: { type: 'integer', minInteger: 0, maxInteger: 2 }, min: 0, max: 'unlimited' } },
        u: { type: { key: 'uuid', min: 0, max: 1 } },
      },
    },
  },
});
const T = schema.tables.get('T')!;
const U1 = '11111111-1111-1111-1111-111111111111';
const U2 = '22222222-2222-2222-2222-222222222222';

function errorOf(where: unknown): OvsdbError {
  try {
    parseCondition(T, where);
  } catch (e) {
    if (e instanceof OvsdbError) return e;
    throw e;
  }
  throw new Error('accepted');
}

t.test('parse errors match ovsdb-server', async (t) => {
  const cases: [unknown, string, string][] = [
    [{}, 'syntax error', "Type mismatch for member 'where'."],
    [[['i', '==']], 'syntax error', 'Parse error in condition.'],
    [[[1, '==', 1]], 'syntax error', 'Parse error in condition.'],
    [[['zzz', '==', 1]], 'unknown column', 'No column zzz in table T.'],
    [[['i', '~', 1]], 'unknown function', 'No function named ~.'],
    [[['s', '<', 'a']], 'syntax error', 'Type mismatch: "<" operator may not be applied to column s of type string.'],
    [[['tags', '>=', 1]], 'syntax error', 'Type mismatch: ">=" operator may not be applied to column tags of type set of up to 3 strings.'],
    [[['kv', '<', 1]], 'syntax error', 'Type mismatch: "<" operator may not be applied to column kv of type map of (string, integer) pairs.'],
    [[['i', '==', 'x']], 'syntax error', 'expected integer'],
    [[['i', '==', 9]], 'constraint violation', '9 is not in the valid range -3 to 3 (inclusive)'],
    [[['tags', 'includes', 'zz']], 'constraint violation', 'zz is not one of the allowed values ([a, b, c, d])'],
    [[['tags', '==', ['set', ['a', 'b', 'c', 'd']]]], 'syntax error', 'set must have 0 to 3 members but 4 are present'],
    [[['tags', 'includes', ['set', ['a', 'b', 'c', 'd']]]], 'syntax error', 'set must have 0 to 3 members but 4 are present'],
    [[['i', 'includes', ['set', []]]], 'syntax error', 'set must have exactly one member but 0 are present'],
  ];
  for (const [where, tag, details] of cases) {
    const e = errorOf(where);
    t.same([e.tag, e.details], [tag, details], JSON.stringify(where));
  }
});

const row = (values: Partial<Record<string, Datum>>, uuid = U1): Row => ({
  uuid,
  version: U2,
  values: T.columnList.map((c) => values[c.name] ?? (c.type.min === 0 ? [] : c.type.key.type === 'string' ? ['a'] : [0])),
});

t.test('semantics of each function', async (t) => {
  const r = row({ i: [2], oi: [], tags: ['a', 'b'], kv: [['x', 1], ['y', 2]], r: [1.5] });
  const ev = (where: unknown) => evalCondition(parseCondition(T, where), r);
  t.equal(ev([]), true, 'empty condition is true');
  t.equal(ev([true]), true);
  t.equal(ev([false]), false);
  t.equal(ev([['i', '<', 3], ['i', '>', 1], ['i', '<=', 2], ['i', '>=', 2]]), true);
  t.equal(ev([['r', '<', 1.6]]), true);
  t.equal(ev([['oi', '<', 5]]), false, 'an empty optional scalar is never <');
  t.equal(ev([['oi', '>=', -5]]), false, 'nor >=');
  t.equal(evalCondition(parseCondition(T, [['oi', '<', 5]]), row({ oi: [4] })), true, 'a present one compares');
  t.equal(evalCondition(parseCondition(T, [['oi', '<', ['set', []]]]), row({ oi: [4] })), false, 'an empty operand compares false');
  t.equal(ev([['tags', 'includes', 'a']]), true);
  t.equal(ev([['tags', 'includes', ['set', ['a', 'c']]]]), false);
  t.equal(ev([['tags', 'excludes', ['set', ['c', 'd']]]]), true);
  t.equal(ev([['tags', 'excludes', ['set', ['a', 'b', 'c', 'd']]]]), false, 'excludes takes any number of elements');
  t.equal(ev([['tags', '==', ['set', ['b', 'a']]]]), true);
  t.equal(ev([['tags', '!=', 'a']]), true);
  t.equal(ev([['kv', 'includes', ['map', [['x', 1]]]]]), true);
  t.equal(ev([['kv', 'includes', ['map', [['x', 2]]]]]), false, 'includes on maps compares values');
  t.equal(ev([['kv', 'excludes', ['map', [['x', 2], ['z', 0]]]]]), true);
  t.equal(ev([['i', 'includes', 2]]), true, 'includes on a scalar is equality');
  t.equal(ev([['i', 'excludes', 2]]), false);
  t.equal(ev([['_uuid', '==', ['uuid', U1]]]), true);
  t.equal(ev([['_version', '!=', ['uuid', U1]]]), true);
  t.equal(pinnedUuid(parseCondition(T, [['i', '>', 0], ['_uuid', '==', ['uuid', U2]]])), U2);
  t.equal(pinnedUuid(parseCondition(T, [['_uuid', '!=', ['uuid', U2]]])), undefined);
  t.same(parseCondition(T, [true, ['i', '==', 1], false]), { kind: 'const', value: false }, 'a false literal makes the condition constant');
});

// --- property: evaluation against a naive model ------------------------------------------

type ModelValue = Atom[] | [Atom, Atom][];

/** The obviously-correct reading of RFC 7047 §5.1 on plain arrays. */
function modelClause(fn: string, value: ModelValue, arg: ModelValue): boolean {
  const same = (x: Atom | [Atom, Atom], y: Atom | [Atom, Atom]) => JSON.stringify(x) === JSON.stringify(y);
  const has = (set: ModelValue, x: Atom | [Atom, Atom]) => (set as (Atom | [Atom, Atom])[]).some((y) => same(x, y));
  const equal = value.length === arg.length && (value as (Atom | [Atom, Atom])[]).every((x) => has(arg, x));
  switch (fn) {
    case '==':
      return equal;
    case '!=':
      return !equal;
    case 'includes':
      return (arg as (Atom | [Atom, Atom])[]).every((x) => has(value, x));
    case 'excludes':
      return (arg as (Atom | [Atom, Atom])[]).every((x) => !has(value, x));
    default: {
      if (value.length !== 1 || arg.length !== 1) return false;
      const a = value[0] as number;
      const b = arg[0] as number;
      return fn === '<' ? a < b : fn === '<=' ? a <= b : fn === '>' ? a > b : a >= b;
    }
  }
}

const small = {
  i: fc.integer({ min: -3, max: 3 }),
  r: fc.constantFrom(-1, 0, 0.5, 1.5, 2),
  oi: fc.integer({ min: -2, max: 2 }),
  s: fc.constantFrom('a', 'b', 'c'),
  b: fc.boolean(),
  tag: fc.constantFrom('a', 'b', 'c', 'd'),
  k: fc.constantFrom('x', 'y', 'z'),
  v: fc.integer({ min: 0, max: 2 }),
  u: fc.constantFrom(U1, U2),
};

function valueArb(name: string, maxN = 3): fc.Arbitrary<ModelValue> {
  const sorted = (a: Atom[]) => [...new Set(a)].sort(compareAtoms);
  switch (name) {
    case 'i':
    case 'r':
    case 's':
    case 'b':
      return (small as Record<string, fc.Arbitrary<Atom>>)[name]!.map((x) => [x]);
    case 'oi':
      return fc.option(small.oi, { nil: undefined }).map((x) => (x === undefined ? [] : [x]));
    case 'u':
      return fc.option(small.u, { nil: undefined }).map((x) => (x === undefined ? [] : [x]));
    case 'tags':
      return fc.array(small.tag, { maxLength: maxN }).map(sorted);
    case 'kv':
      return fc
        .uniqueArray(fc.tuple(small.k, small.v), { maxLength: maxN, selector: (p) => p[0] })
        .map((ps) => ps.sort((a, b) => compareAtoms(a[0], b[0])) as [Atom, Atom][]);
    default:
      throw new Error(name);
  }
}

const FUNCS: Record<string, readonly string[]> = {
  i: ['==', '!=', '<', '<=', '>', '>=', 'includes', 'excludes'],
  r: ['==', '!=', '<', '<=', '>', '>=', 'includes', 'excludes'],
  oi: ['==', '!=', '<', '<=', '>', '>=', 'includes', 'excludes'],
  s: ['==', '!=', 'includes', 'excludes'],
  b: ['==', '!=', 'includes', 'excludes'],
  u: ['==', '!=', 'includes', 'excludes'],
  tags: ['==', '!=', 'includes', 'excludes'],
  kv: ['==', '!=', 'includes', 'excludes'],
};

const clauseArb = fc.constantFrom(...Object.keys(FUNCS)).chain((name) =>
  fc.constantFrom(...FUNCS[name]!).chain((fn) => {
    // Operand sizes follow the parsing rules: scalars take one atom, optional scalars at most one.
    let arg = valueArb(name, fn === 'excludes' ? 4 : 3);
    if (name === 'i' || name === 'r' || name === 's' || name === 'b') arg = valueArb(name);
    if ((name === 'oi' || name === 'u') && ['<', '<=', '>', '>='].includes(fn)) arg = valueArb(name).filter((v) => v.length === 1);
    return arg.map((a) => ({ name, fn, arg: a }));
  }),
);

const rowArb = fc.record(Object.fromEntries(Object.keys(FUNCS).map((n) => [n, valueArb(n)])) as Record<string, fc.Arbitrary<ModelValue>>);

t.test('property: condition evaluation agrees with a naive model', async (t) => {
  fc.assert(
    fc.property(rowArb, fc.array(clauseArb, { maxLength: 3 }), (values, clauses) => {
      const r = row(values as Record<string, Datum>);
      const where = clauses.map((c) => {
        const col = T.columns.get(c.name)!;
        // Wire form of the operand for the column's (relaxed) type.
        const json = col.isMap || col.type.max > 1 || c.arg.length !== 1 ? datumToJson(c.arg as Datum, { ...col.type, min: 0, max: Infinity }) : datumToJson(c.arg as Datum, col.type);
        return [c.name, c.fn, json];
      });
      const got = evalCondition(parseCondition(T, where), r);
      const want = clauses.every((c) => modelClause(c.fn, values[c.name]!, c.arg));
      return got === want;
    }),
    { numRuns: NUM_RUNS },
  );
  t.pass('agrees');
});

t.test('property: a row matches "==" its own values and "!=" nothing it equals', async (t) => {
  fc.assert(
    fc.property(rowArb, (values) => {
      const r = row(values as Record<string, Datum>);
      const eq = T.columnList.map((c) => [c.name, '==', datumToJson(r.values[c.index]!, c.type)]);
      const ne = T.columnList.map((c) => [c.name, '!=', datumToJson(r.values[c.index]!, c.type)]);
      return evalCondition(parseCondition(T, eq), r) && ne.every((cl) => !evalCondition(parseCondition(T, [cl]), r));
    }),
    { numRuns: NUM_RUNS / 2 },
  );
  t.pass('reflexive');
});
