import t from 'tap';
import fc from 'fast-check';
import {
  OvsdbError,
  checkDatumSize,
  compareAtoms,
  compareDatums,
  datumDifference,
  datumExcludes,
  datumIncludes,
  datumToJson,
  datumToString,
  datumUnion,
  datumsEqual,
  defaultDatum,
  formatReal,
  parseDatum,
  typeToEnglish,
  type Atom,
  type AtomicType,
  type BaseType,
  type ColumnType,
  type Datum,
  type MapDatum,
  type Pair,
  type SetDatum,
} from '../src/index.js';

const NUM_RUNS = 150;
const scalar = (type: AtomicType): ColumnType => ({ key: { type }, min: 1, max: 1 });

function error(fn: () => unknown): OvsdbError {
  try {
    fn();
  } catch (e) {
    if (e instanceof OvsdbError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

t.test('atoms of every type, and the wire forms of sets and maps', async (t) => {
  t.same(parseDatum(5, scalar('integer')), [5]);
  t.same(parseDatum(2.5, scalar('real')), [2.5]);
  t.same(parseDatum(3, scalar('real')), [3], 'an integer is a real');
  t.same(parseDatum(true, scalar('boolean')), [true]);
  t.same(parseDatum('x', scalar('string')), ['x']);
  t.same(parseDatum(['uuid', 'ABCDEF01-2222-3333-4444-555555555555'], scalar('uuid')), ['abcdef01-2222-3333-4444-555555555555'], 'uuids are lower-cased');
  t.same(parseDatum(['set', ['b', 'a']], { key: { type: 'string' }, min: 0, max: 2 }), ['a', 'b'], 'sets are sorted');
  t.same(parseDatum(['set', ['a']], scalar('string')), ['a'], 'a scalar may be written as a one-element set');
  t.same(parseDatum(['map', [['b', 1], ['a', 2]]], { key: { type: 'string' }, value: { type: 'integer' }, min: 0, max: Infinity }), [
    ['a', 2],
    ['b', 1],
  ]);
  const names = new Map<string, string>();
  const namer = { resolve: (n: string) => names.get(n) ?? (names.set(n, `u-${n}`), `u-${n}`) };
  t.same(parseDatum(['named-uuid', 'row1'], scalar('uuid'), namer), ['u-row1']);
  const setT: ColumnType = { key: { type: 'integer' }, min: 0, max: Infinity };
  t.same(datumToJson([], setT), ['set', []]);
  t.same(datumToJson([7], setT), 7, 'one-element sets are written as the atom');
  t.same(datumToJson([1, 2], setT), ['set', [1, 2]]);
  t.same(datumToJson(['a'], scalar('uuid')), ['uuid', 'a']);
  t.same(datumToJson([], { key: { type: 'string' }, value: { type: 'string' }, min: 0, max: 1 }), ['map', []]);
  t.same(defaultDatum(scalar('integer')), [0]);
  t.same(defaultDatum(scalar('uuid')), ['00000000-0000-0000-0000-000000000000']);
  t.same(defaultDatum({ key: { type: 'string' }, value: { type: 'boolean' }, min: 1, max: 1 }), [['', false]]);
  t.same(defaultDatum(setT), []);
});

t.test('malformed datums fail the way ovsdb-server does', async (t) => {
  const set3: ColumnType = { key: { type: 'string', enum: ['a', 'b', 'c', 'd'] }, min: 0, max: 3 };
  const map: ColumnType = { key: { type: 'string' }, value: { type: 'integer' }, min: 0, max: Infinity };
  const cases: [() => unknown, string, string][] = [
    [() => parseDatum('x', scalar('integer')), 'syntax error', 'expected integer'],
    [() => parseDatum(1.5, scalar('integer')), 'syntax error', 'expected integer'],
    [() => parseDatum('1', scalar('real')), 'syntax error', 'expected real'],
    [() => parseDatum(0, scalar('boolean')), 'syntax error', 'expected boolean'],
    [() => parseDatum(1, scalar('string')), 'syntax error', 'expected string'],
    [() => parseDatum('abc', scalar('uuid')), 'syntax error', 'expected ["uuid", <string>]'],
    [() => parseDatum(['uuid', 'x'], scalar('uuid')), 'syntax error', '"x" is not a valid UUID'],
    [() => parseDatum(['named-uuid', 'x'], scalar('uuid')), 'syntax error', 'expected ["uuid", <string>]'],
    [() => parseDatum(['named-uuid', '1x'], scalar('uuid'), { resolve: () => 'u' }), 'syntax error', 'named-uuid string is not a valid <id>'],
    [() => parseDatum(['set', []], scalar('string')), 'syntax error', 'set must have exactly one member but 0 are present'],
    [() => parseDatum(['set', ['a', 'b', 'c', 'd']], set3), 'syntax error', 'set must have 0 to 3 members but 4 are present'],
    [() => parseDatum(['set', ['zz', 'b', 'c', 'd']], set3), 'syntax error', 'set must have 0 to 3 members but 4 are present'],
    [() => parseDatum(['set', ['zz']], set3), 'constraint violation', 'zz is not one of the allowed values ([a, b, c, d])'],
    [() => parseDatum(['set', ['a', 'a']], set3), 'ovsdb error', 'set contains duplicate'],
    [() => parseDatum(['set', 'a'], set3), 'syntax error', 'expected ["set", <array>]'],
    [() => parseDatum(['set', []], map), 'syntax error', 'expected ["map", <array>]'],
    [() => parseDatum(['map', [['a']]], map), 'syntax error', 'expected 2-element array'],
    [() => parseDatum(['map', [['a', 1], ['a', 2]]], map), 'ovsdb error', 'map contains duplicate key'],
    [() => parseDatum(['map', [['a', 'x']]], map), 'syntax error', 'expected integer'],
  ];
  for (const [fn, tag, details] of cases) {
    const e = error(fn);
    t.same([e.tag, e.details], [tag, details], details);
  }
});

t.test('constraint messages match ovsdb-server', async (t) => {
  const msg = (j: unknown, key: BaseType) => error(() => parseDatum(j, { key, min: 1, max: 1 })).details;
  t.equal(msg('', { type: 'string', enum: ['x', 'y'] }), '"" is not one of the allowed values ([x, y])');
  t.equal(msg('q', { type: 'string', enum: ['x'] }), 'q is not one of the allowed values ([x])');
  t.equal(msg('a b', { type: 'string', enum: ['x', 'y z'] }), '"a b" is not one of the allowed values ([x, "y z"])');
  // ovsdb-server leaves letters-then-digits bare: "a1 is not one of the allowed values ([OpenFlow10, ...])".
  t.equal(msg('true', { type: 'string', enum: ['x1'] }), '"true" is not one of the allowed values ([x1])');
  t.equal(msg(4, { type: 'integer', enum: [1, 2] }), '4 is not one of the allowed values ([1, 2])');
  t.equal(msg(100, { type: 'integer', minInteger: 0, maxInteger: 9 }), '100 is not in the valid range 0 to 9 (inclusive)');
  t.equal(msg(-1, { type: 'integer', minInteger: 0 }), '-1 is less than minimum allowed value 0');
  t.equal(msg(11, { type: 'integer', maxInteger: 10 }), '11 is greater than maximum allowed value 10');
  t.equal(msg(2.5, { type: 'real', minReal: 0, maxReal: 1 }), '2.5 is not in the valid range 0 to 1 (inclusive)');
  t.equal(msg(-0.5, { type: 'real', minReal: 0.25 }), '-0.5 is less than minimum allowed value 0.25');
  t.equal(msg(1e300, { type: 'real', maxReal: 1e-7 }), '1e+300 is greater than maximum allowed value 1e-07');
  t.equal(msg('', { type: 'string', minLength: 1 }), '"" length 0 is less than minimum allowed length 1');
  t.equal(msg('\u{1f600}\u{1f600}', { type: 'string', maxLength: 1 }), '"\u{1f600}\u{1f600}" length 2 is greater than maximum allowed length 1', 'lengths count characters');
  t.same(parseDatum('\u{1f600}', { key: { type: 'string', maxLength: 1 }, min: 1, max: 1 }), ['\u{1f600}']);
  const sizeErr = error(() => checkDatumSize([1, 2, 3, 4], { key: { type: 'string' }, min: 0, max: 3 }));
  t.same([sizeErr.tag, sizeErr.details], ['constraint violation', 'Attempted to store 4 elements in set of up to 3 strings.']);
});

t.test('typeToEnglish, datumToString and formatReal', async (t) => {
  t.equal(typeToEnglish(scalar('integer')), 'integer');
  t.equal(typeToEnglish({ key: { type: 'uuid' }, min: 0, max: 1 }), 'set of up to 1 uuids');
  t.equal(typeToEnglish({ key: { type: 'uuid' }, min: 0, max: Infinity }), 'set of uuids');
  t.equal(typeToEnglish({ key: { type: 'uuid' }, min: 1, max: Infinity }), 'set of 1 or more uuids');
  t.equal(typeToEnglish({ key: { type: 'real' }, min: 1, max: 4 }), 'set of 1 to 4 reals');
  t.equal(typeToEnglish({ key: { type: 'string' }, value: { type: 'integer' }, min: 0, max: Infinity }), 'map of (string, integer) pairs');
  t.equal(datumToString(['a'], scalar('string')), 'a');
  t.equal(datumToString([], { key: { type: 'string' }, min: 0, max: 1 }), '[]');
  t.equal(datumToString([1, 2], { key: { type: 'integer' }, min: 0, max: 2 }), '[1, 2]');
  t.equal(datumToString([['k', 'v w']], { key: { type: 'string' }, value: { type: 'string' }, min: 0, max: 5 }), '{k="v w"}');
  const cases: [number, string][] = [
    [0, '0'],
    [1.5, '1.5'],
    [100, '100'],
    [0.1, '0.1'],
    [1 / 3, '0.333333333333333'],
    [1e14, '100000000000000'],
    [1e15, '1e+15'],
    [123456789012345678, '1.23456789012346e+17'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [-1e-7, '-1e-07'],
    [1e300, '1e+300'],
    [-2.5e-300, '-2.5e-300'],
  ];
  for (const [x, s] of cases) t.equal(formatReal(x), s, `%.15g of ${x}`);
});

// --- property tests ----------------------------------------------------------------------

const UUIDS = ['00000000-0000-0000-0000-000000000000', '11111111-2222-3333-4444-555555555555', 'ffffffff-0000-4000-8000-000000000001'];

const baseTypeArb: fc.Arbitrary<BaseType> = fc.oneof(
  fc.constant<BaseType>({ type: 'boolean' }),
  fc.constant<BaseType>({ type: 'uuid' }),
  fc.record({ lo: fc.integer({ min: -50, max: 50 }), span: fc.integer({ min: 0, max: 100 }), c: fc.constantFrom('none', 'min', 'max', 'both') }).map(
    ({ lo, span, c }): BaseType => ({
      type: 'integer',
      ...(c === 'min' || c === 'both' ? { minInteger: lo } : {}),
      ...(c === 'max' || c === 'both' ? { maxInteger: lo + span } : {}),
    }),
  ),
  fc.record({ lo: fc.double({ min: -10, max: 10, noNaN: true }), c: fc.boolean() }).map(
    ({ lo, c }): BaseType => (c ? { type: 'real', minReal: lo, maxReal: lo + 5 } : { type: 'real' }),
  ),
  fc.record({ lo: fc.integer({ min: 0, max: 3 }), span: fc.integer({ min: 0, max: 4 }), c: fc.boolean() }).map(
    ({ lo, span, c }): BaseType => (c ? { type: 'string', minLength: lo, maxLength: lo + span } : { type: 'string' }),
  ),
  fc.uniqueArray(fc.string({ maxLength: 3 }), { minLength: 1, maxLength: 5 }).map((e): BaseType => ({ type: 'string', enum: e.slice().sort(compareAtoms) })),
  fc.uniqueArray(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 5 }).map((e): BaseType => ({ type: 'integer', enum: e.slice().sort(compareAtoms) })),
);

function atomArb(b: BaseType): fc.Arbitrary<Atom> {
  if (b.enum) return fc.constantFrom(...b.enum);
  switch (b.type) {
    case 'integer':
      return fc.integer({ min: b.minInteger ?? -1e9, max: b.maxInteger ?? 1e9 });
    case 'real':
      return fc.double({ min: b.minReal ?? -1e6, max: b.maxReal ?? 1e6, noNaN: true, noDefaultInfinity: true }).map((x) => (Object.is(x, -0) ? 0 : x));
    case 'boolean':
      return fc.boolean();
    case 'string':
      return fc.string({ unit: 'binary', minLength: b.minLength ?? 0, maxLength: Math.min(b.maxLength ?? 6, 6) });
    case 'uuid':
      return fc.oneof(fc.constantFrom(...UUIDS), fc.uuid());
  }
}

const columnTypeArb: fc.Arbitrary<ColumnType> = fc
  .record({ key: baseTypeArb, value: fc.option(baseTypeArb, { nil: undefined }), min: fc.constantFrom(0, 1), max: fc.constantFrom(1, 2, 3, 5, Infinity) })
  .map(({ key, value, min, max }) => (value === undefined ? { key, min, max } : { key, value, min, max }));

function datumArb(ct: ColumnType): fc.Arbitrary<Datum> {
  const max = Math.min(ct.max, 6);
  if (ct.value === undefined) {
    return fc.uniqueArray(atomArb(ct.key), { minLength: ct.min, maxLength: max, comparator: (a, b) => compareAtoms(a, b) === 0 }).map((a) => a.sort(compareAtoms));
  }
  const vt = ct.value;
  return fc
    .uniqueArray(fc.tuple(atomArb(ct.key), atomArb(vt)), { minLength: ct.min, maxLength: max, comparator: (a, b) => compareAtoms(a[0], b[0]) === 0 })
    .map((ps) => ps.map((p): Pair => [p[0], p[1]]).sort((x, y) => compareAtoms(x[0], y[0])));
}

const typedDatum = columnTypeArb
  .filter((ct) => {
    // Enumerations may be too small for the minimum size; skip those types.
    const n = ct.key.enum?.length ?? (ct.key.type === 'boolean' ? 2 : Infinity);
    return n >= ct.min;
  })
  .chain((ct) => datumArb(ct).map((d) => ({ ct, d })));

t.test('property: datum JSON round trip for random column types', async (t) => {
  fc.assert(
    fc.property(typedDatum, ({ ct, d }) => {
      const wire = JSON.parse(JSON.stringify(datumToJson(d, ct)));
      const back = parseDatum(wire, ct);
      return datumsEqual(back, d, ct.value !== undefined) && compareDatums(back, d, ct.value !== undefined) === 0;
    }),
    { numRuns: NUM_RUNS * 2 },
  );
  t.pass('round trip holds');
});

t.test('property: string order is UTF-8 byte order', async (t) => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 4 }), fc.string({ unit: 'binary', maxLength: 4 }), (a, b) => {
      return Math.sign(compareAtoms(a, b)) === Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
    }),
    { numRuns: NUM_RUNS * 3 },
  );
  t.pass('ordered by code point');
});

/** Naive set algebra on elements keyed by their JSON text. */
const keyOf = (x: Atom | Pair): string => JSON.stringify(x);

t.test('property: set and map algebra matches a naive model', async (t) => {
  const setT: ColumnType = { key: { type: 'integer', minInteger: 0, maxInteger: 8 }, min: 0, max: Infinity };
  const mapT: ColumnType = { key: { type: 'integer', minInteger: 0, maxInteger: 5 }, value: { type: 'boolean' }, min: 0, max: Infinity };
  fc.assert(
    fc.property(datumArb(setT), datumArb(setT), (a, b) => {
      const A = a as SetDatum;
      const B = b as SetDatum;
      const union = [...new Set([...A, ...B])].sort(compareAtoms);
      const diff = A.filter((x) => !B.includes(x));
      return (
        datumsEqual(datumUnion(a, b, false), union, false) &&
        datumsEqual(datumDifference(a, b, false, false), diff, false) &&
        datumIncludes(a, b, false) === B.every((x) => A.includes(x)) &&
        datumExcludes(a, b, false) === B.every((x) => !A.includes(x))
      );
    }),
    { numRuns: NUM_RUNS },
  );
  fc.assert(
    fc.property(datumArb(mapT), datumArb(mapT), datumArb(setT), (a, b, keys) => {
      const A = a as MapDatum;
      const B = b as MapDatum;
      // "insert" keeps existing keys' values; "delete" by map drops exact pairs, by keys drops keys.
      const union = [...A, ...B.filter((p) => !A.some((q) => q[0] === p[0]))].sort((x, y) => compareAtoms(x[0], y[0]));
      const diffPairs = A.filter((p) => !B.some((q) => keyOf(q) === keyOf(p)));
      const diffKeys = A.filter((p) => !(keys as SetDatum).includes(p[0]));
      return (
        datumsEqual(datumUnion(a, b, true), union, true) &&
        datumsEqual(datumDifference(a, b, true, false), diffPairs, true) &&
        datumsEqual(datumDifference(a, keys, true, true), diffKeys, true) &&
        datumIncludes(a, b, true) === B.every((p) => A.some((q) => keyOf(q) === keyOf(p))) &&
        datumExcludes(a, b, true) === B.every((p) => !A.some((q) => keyOf(q) === keyOf(p)))
      );
    }),
    { numRuns: NUM_RUNS },
  );
  t.pass('algebra holds');
});

t.test('compareDatums orders like ovsdb-server: size first, then keys, then values', async (t) => {
  t.ok(compareDatums([9], [1, 2], false) < 0, 'fewer elements first');
  t.ok(compareDatums([1, 3], [2, 2], false) < 0);
  t.ok(compareDatums([[1, 9], [2, 0]], [[1, 0], [3, 0]], true) < 0, 'all keys before any value');
  t.equal(compareDatums([[1, true]], [[1, true]], true), 0);
});
