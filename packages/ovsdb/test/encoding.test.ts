// The hot-path encoders build JSON text directly instead of building objects and calling
// JSON.stringify: datumJsonText, the log's transaction records, record framing, and flat
// UUID strings. Each must give exactly what the object-based form gives.
import t from 'tap';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import {
  Database,
  UUID_RE,
  commitToRecordText,
  compareAtoms,
  datumJsonText,
  datumToJson,
  datumsEqual,
  encodeRecord,
  parseSchema,
  type Atom,
  type AtomicType,
  type BaseType,
  type ColumnType,
  type Commit,
  type DatabaseSchema,
  type Datum,
  type Pair,
  type TableSchema,
} from '../src/index.js';
import { recordText } from '../src/storage/record.js';
import { insertedRowJson } from '../src/storage/txn-record.js';
import { datumDiff, isComposite, isDefaultDatum } from '../src/updates.js';
import { randomUuid } from '../src/uuid.js';
import { RICH_SCHEMA, execute, txnArb } from './storage-helpers.js';

const atomArb = (type: AtomicType): fc.Arbitrary<Atom> => {
  switch (type) {
    case 'integer':
      return fc.integer({ min: -(2 ** 40), max: 2 ** 40 });
    case 'real':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'string':
      // Quotes, backslashes, control characters, astral and lone-surrogate code units.
      return fc.string({ unit: fc.oneof(fc.constantFrom('"', '\\', '\n', '\u0000', '\u2028', '😀', '\ud800'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 8 });
    case 'uuid':
      return fc.uuid().map((u) => u.toLowerCase());
  }
};

const typeArb: fc.Arbitrary<AtomicType> = fc.constantFrom('integer', 'real', 'boolean', 'string', 'uuid');

const columnTypeArb: fc.Arbitrary<ColumnType> = fc
  .record({ key: typeArb, value: fc.option(typeArb, { nil: undefined }), min: fc.constantFrom(0, 1), max: fc.constantFrom(1, 2, 5, Infinity) })
  .map(({ key, value, min, max }) => {
    const k: BaseType = { type: key };
    return value === undefined ? { key: k, min, max } : { key: k, value: { type: value }, min, max };
  });

function datumArb(ct: ColumnType): fc.Arbitrary<Datum> {
  const max = Math.min(ct.max, 6);
  if (ct.value === undefined) {
    return fc
      .uniqueArray(atomArb(ct.key.type), { minLength: ct.min, maxLength: max, comparator: (a, b) => compareAtoms(a, b) === 0 })
      .map((a) => a.sort(compareAtoms));
  }
  const vt = ct.value.type;
  return fc
    .uniqueArray(fc.tuple(atomArb(ct.key.type), atomArb(vt)), { minLength: ct.min, maxLength: max, comparator: (a, b) => compareAtoms(a[0], b[0]) === 0 })
    .map((ps) => ps.map((p): Pair => [p[0], p[1]]).sort((x, y) => compareAtoms(x[0], y[0])));
}

t.test('property: datumJsonText is JSON.stringify(datumToJson(…))', async (t) => {
  fc.assert(
    fc.property(
      columnTypeArb.filter((ct) => ct.key.type !== 'boolean' || ct.min <= 2).chain((ct) => datumArb(ct).map((d) => ({ ct, d }))),
      ({ ct, d }) => datumJsonText(d, ct) === JSON.stringify(datumToJson(d, ct)),
    ),
    { numRuns: 300 },
  );
  t.pass('same text');
});

/** The record encoder as it was before it wrote text directly: objects, then JSON.stringify. */
function referenceRecord(schema: DatabaseSchema, commit: Commit, date: number): unknown {
  const record: Record<string, unknown> = { _date: date };
  const updates: { out: Record<string, unknown>; uuid: string; ts: TableSchema; old: readonly Datum[]; cur: readonly Datum[] }[] = [];
  let any = false;
  for (const [tname, rows] of commit.changes) {
    const ts = schema.tables.get(tname)!;
    const out: Record<string, unknown> = {};
    for (const [uuid, ch] of rows) {
      if (!ch.new) {
        if (!ch.old) continue;
        out[uuid] = null;
        any = true;
      } else if (!ch.old) {
        out[uuid] = insertedRowJson(ts, ch.new.values);
        any = true;
      } else {
        updates.push({ out, uuid, ts, old: ch.old.values, cur: ch.new.values });
      }
    }
    record[tname] = out;
  }
  let asDiff = true;
  for (const u of updates) {
    for (const c of u.ts.columnList) {
      if (!isComposite(c.type) || c.type.max === Infinity || c.ephemeral) continue;
      const o = u.old[c.index]!;
      if (!isDefaultDatum(o, c.type) && datumDiff(o, u.cur[c.index]!, c.type).length > c.type.max) asDiff = false;
    }
  }
  for (const u of updates) {
    let row: Record<string, unknown> | null = null;
    for (const c of u.ts.columnList) {
      if (c.ephemeral) continue;
      const o = u.old[c.index]!;
      const n = u.cur[c.index]!;
      if (o === n || datumsEqual(o, n, c.isMap)) continue;
      (row ??= {})[c.name] = datumToJson(asDiff && !isDefaultDatum(o, c.type) ? datumDiff(o, n, c.type) : n, c.type);
    }
    if (row) {
      u.out[u.uuid] = row;
      any = true;
    }
  }
  if (!any) return null;
  for (const [k, v] of Object.entries(record)) if (k !== '_date' && Object.keys(v as object).length === 0) delete record[k];
  if (commit.comment !== undefined) record['_comment'] = commit.comment;
  if (asDiff) record['_is_diff'] = true;
  return record;
}

t.test('property: transaction records match the object-based encoder', async (t) => {
  const schema = parseSchema(RICH_SCHEMA);
  let compared = 0;
  fc.assert(
    fc.property(fc.array(txnArb, { minLength: 1, maxLength: 30 }), fc.option(fc.string({ maxLength: 5 }), { nil: undefined }), (txns, comment) => {
      const db = new Database(schema);
      for (const ops of txns) {
        const c = execute(db, ops);
        if (!c) continue;
        const commit: Commit = comment === undefined ? c : { ...c, comment };
        const text = commitToRecordText(schema, commit, 1234);
        const expected = referenceRecord(schema, commit, 1234);
        if (text === null ? expected !== null : JSON.stringify(sortKeys(JSON.parse(text))) !== JSON.stringify(sortKeys(expected))) return false;
        compared++;
      }
      return true;
    }),
    { numRuns: 150 },
  );
  t.ok(compared > 200, `${compared} commits compared`);
});

function sortKeys(j: unknown): unknown {
  if (Array.isArray(j)) return j.map(sortKeys);
  if (typeof j === 'object' && j !== null) {
    return Object.fromEntries(Object.keys(j).sort().map((k) => [k, sortKeys((j as Record<string, unknown>)[k])]));
  }
  return j;
}

t.test('record framing as text: header length counts UTF-8 bytes, SHA-1 covers the body', async (t) => {
  for (const json of ['{}', '{"a":"é😀"}', `{"s":${JSON.stringify('\u2028"\\')}}`]) {
    const text = recordText(json);
    const body = Buffer.from(`${json}\n`, 'utf8');
    t.equal(text, `OVSDB JSON ${body.length} ${createHash('sha1').update(body).digest('hex')}\n${json}\n`);
    t.same(Buffer.from(text, 'utf8'), encodeRecord(json));
  }
});

t.test('randomUuid: version 4 UUIDs, flat, distinct', async (t) => {
  const seen = new Set<string>();
  // More than one pool of random bytes, so refills are exercised.
  for (let i = 0; i < 20_000; i++) {
    const u = randomUuid();
    if (!UUID_RE.test(u) || u !== u.toLowerCase() || u[14] !== '4' || !'89ab'.includes(u[19]!)) {
      t.fail(`bad uuid ${u}`);
      return;
    }
    seen.add(u);
  }
  t.equal(seen.size, 20_000, 'no repeats');
});
