/**
 * fast-check arbitraries for the codegen tests: random schemas (with names chosen to collide
 * with what a generated module defines, and enum strings that need escaping) and random rows
 * of a schema's tables in canonical wire form, with their in-memory datums.
 */
import fc from 'fast-check';
import {
  compareAtoms,
  datumToJson,
  parseSchema,
  type Atom,
  type AtomicType,
  type BaseType,
  type ColumnType,
  type DatabaseSchema,
  type Datum,
  type Pair,
  type TableSchema,
} from '../src/index.js';
import type { RowJson, ValueJson } from '../src/client/index.js';

/** Names that collide with the generated module's own names, JS object members, or each other after PascalCase. */
export const TRICKY = [
  ...['constructor', 'toString', 'valueOf', 'hasOwnProperty', 'then', 'Tables', 'TableName', 'Uuid', 'Record', 'Readonly', 'Partial'],
  ...['readonly', 'get', 'set', 'new', 'in', 'model', 'tables', 'default', 'delete', 'A_B', 'AB', 'a_b', 'A__B', 'SCHEMA_NAME', 'x1', 'X_1'],
];

const ident = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(...TRICKY) },
  { weight: 3, arbitrary: fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_]{0,7}$/) },
);

/** Strings that must survive a trip through a TypeScript string literal (quotes, escapes, line separators, lone surrogates). */
export const nastyString = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
  fc.constantFrom("it's", 'back\\slash', '*/', '\u2028', '\ud800', 'a\udc00', '\u0000\n\t', '__proto__', '10', '9', '-1', 'true'),
);

const uuidArb = fc.uuid({ version: 4 });
const intArb = fc.integer({ min: -(2 ** 40), max: 2 ** 40 });
/** Reals, -0 included (except where it would be a map key: keys are object keys, and '0' reads back as 0). */
const realArb = fc.double({ noNaN: true, noDefaultInfinity: true });

function enumArb(t: AtomicType): fc.Arbitrary<unknown[]> {
  const one: Record<AtomicType, fc.Arbitrary<unknown>> = {
    integer: intArb,
    real: realArb.map((x) => (Object.is(x, -0) ? 0 : x)),
    boolean: fc.boolean(),
    string: nastyString,
    uuid: uuidArb.map((u) => ['uuid', u]),
  };
  return fc.uniqueArray(one[t], { minLength: 1, maxLength: 4, selector: (x) => JSON.stringify(x) });
}

function baseTypeJson(tables: readonly string[]): fc.Arbitrary<unknown> {
  return fc.constantFrom<AtomicType>('integer', 'real', 'boolean', 'string', 'uuid').chain((type): fc.Arbitrary<unknown> => {
    const opts: fc.Arbitrary<unknown>[] = [fc.constant(type), enumArb(type).map((e) => ({ type, enum: e.length === 1 ? e[0] : ['set', e] }))];
    if (type === 'uuid') opts.push(fc.record({ type: fc.constant('uuid'), refTable: fc.constantFrom(...tables), refType: fc.constantFrom('strong', 'weak') }));
    if (type === 'integer') opts.push(fc.constant({ type, minInteger: 0, maxInteger: 4095 }));
    if (type === 'string') opts.push(fc.constant({ type, minLength: 1, maxLength: 63 }));
    return fc.oneof(...opts);
  });
}

function columnJson(tables: readonly string[]): fc.Arbitrary<unknown> {
  return fc.record({
    type: fc.record({
      key: baseTypeJson(tables),
      value: fc.option(baseTypeJson(tables), { nil: undefined }),
      min: fc.constantFrom(0, 1),
      max: fc.constantFrom<number | 'unlimited'>(1, 2, 'unlimited'),
    }).map((t) => (t.value === undefined ? { key: t.key, min: t.min, max: t.max } : t)),
    mutable: fc.boolean(),
    ephemeral: fc.boolean(),
  });
}

/** A random valid schema. */
export const schemaArb: fc.Arbitrary<DatabaseSchema> = fc
  .record({ name: ident, tables: fc.uniqueArray(ident, { minLength: 1, maxLength: 4 }) })
  .chain(({ name, tables }) =>
    fc
      .tuple(...tables.map(() => fc.uniqueArray(fc.tuple(ident, columnJson(tables)), { minLength: 1, maxLength: 6, selector: (c) => c[0] })))
      .map((cols) => ({
        name,
        version: '1.2.3',
        tables: Object.fromEntries(tables.map((tn, i) => [tn, { columns: Object.fromEntries(cols[i]!) }])),
      })),
  )
  .map((j) => parseSchema(j));

function atomArb(b: BaseType, asKey: boolean): fc.Arbitrary<Atom> {
  if (b.enum !== undefined) return fc.constantFrom(...b.enum);
  switch (b.type) {
    case 'integer':
      return intArb;
    case 'real':
      return asKey ? realArb.map((x) => (Object.is(x, -0) ? 0 : x)) : realArb;
    case 'boolean':
      return fc.boolean();
    case 'string':
      return nastyString;
    case 'uuid':
      return uuidArb;
  }
}

/** A datum of this type (at most 3 elements), canonical: sorted, unique. */
export function datumArb(t: ColumnType): fc.Arbitrary<Datum> {
  const max = Math.min(t.max, 3);
  if (t.value !== undefined) {
    const vt = t.value;
    return fc
      .uniqueArray(fc.tuple(atomArb(t.key, true), atomArb(vt, false)), { minLength: t.min, maxLength: max, comparator: (x, y) => compareAtoms(x[0], y[0]) === 0 })
      .map((ps) => ps.sort((x, y) => compareAtoms(x[0], y[0])) as Pair[]);
  }
  return fc
    .uniqueArray(atomArb(t.key, false), { minLength: t.min, maxLength: max, comparator: (x, y) => compareAtoms(x, y) === 0 })
    .map((as) => as.sort(compareAtoms));
}

export interface RandomRow {
  readonly uuid: string;
  readonly version: string;
  /** One datum per column, in schema order. */
  readonly datums: readonly Datum[];
  /** The canonical wire row, with _uuid and _version. */
  readonly wire: RowJson;
}

export function rowArb(table: TableSchema): fc.Arbitrary<RandomRow> {
  return fc.tuple(uuidArb, uuidArb, fc.tuple(...table.columnList.map((c) => datumArb(c.type)))).map(([uuid, version, datums]) => {
    const wire: Record<string, ValueJson> = { _uuid: ['uuid', uuid], _version: ['uuid', version] };
    table.columnList.forEach((c, i) => {
      wire[c.name] = datumToJson(datums[i]!, c.type) as ValueJson;
    });
    return { uuid, version, datums, wire };
  });
}

/** A schema with a few random rows per table. */
export const schemaWithRowsArb = schemaArb.chain((schema) =>
  fc
    .tuple(...[...schema.tables.values()].map((t) => fc.array(rowArb(t), { minLength: 1, maxLength: 4 })))
    .map((rows) => ({ schema, rows: new Map([...schema.tables.keys()].map((name, i) => [name, rows[i]!])) })),
);
