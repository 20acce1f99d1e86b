/**
 * The runtime half of typed models: converters between OVSDB's wire rows (RFC 7047 §5.1) and
 * plain typed objects, driven by a small per-table column spec that generated modules pass to
 * `defineModel` (or that `modelFromSchema` derives from a schema at run time).
 *
 * Each table's spec is compiled once into a column plan (one decode/encode closure pair per
 * column), so converting a row is a loop over an array: no schema lookups, no reflection.
 *
 * Typed form, per column kind:
 *   scalar (min 1, max 1)    T
 *   optional (min 0, max 1)  T | undefined            (wire: ["set", []] when empty)
 *   set (max > 1)            readonly T[]             (order as on the wire)
 *   map                      Readonly<Record<K, V>>   keyed by the key atom's string form:
 *                            strings and UUIDs as is, integers/reals as numbers, booleans as
 *                            'true'/'false'
 * Atoms: integer/real → number, boolean → boolean, string → string, uuid → string (`Uuid`).
 * A uuid that is not a UUID (e.g. an insert's uuid-name) is written as ["named-uuid", name],
 * as libovsdb does, so a typed row can refer to a row inserted in the same transaction.
 */
import { ZERO_UUID, UUID_RE, type Datum, type MapDatum } from '../datum.js';
import { compareAtoms, compareStrings, type Atom, type AtomicType, type ColumnType, type DatabaseSchema, type TableSchema } from '../schema.js';
import type { IdlRow } from '../client/idl/row.js';
import type { AtomJson, RowJson, ValueJson } from '../client/wire.js';

/** A row UUID, lower-case (a plain string: no branding, so replica and wire values need no casts). */
export type Uuid = string;

/** What every typed row has besides its columns. */
export interface TypedRow {
  readonly _uuid: Uuid;
  /** '' when the row came without `_version` (not selected or not monitored). */
  readonly _version: Uuid;
}

/** How a column is converted: its kind and atomic type(s); constraints are the server's business. */
export type ColumnSpec = readonly ['scalar' | 'optional' | 'set', AtomicType] | readonly ['map', AtomicType, AtomicType];

/** The user columns of a row type (everything but _uuid and _version). */
export type ColumnName<R> = Exclude<keyof R, keyof TypedRow> & string;

/** A table's column specs, exactly one per column of its row type. */
export type TableSpec<R> = { readonly [C in ColumnName<R>]: ColumnSpec };

/**
 * Column values to write (insert, update): any subset of the columns. An optional column given
 * as `undefined` is written as empty; an absent one is not written.
 */
export type RowValues<R> = { readonly [C in ColumnName<R>]?: R[C] };

/** The row types of a database, by table name (a generated module's `Tables`). */
export type TablesOf<T> = { readonly [K in keyof T]: TypedRow };

export interface ModelSpec<T extends TablesOf<T>> {
  readonly name: string;
  readonly version: string;
  readonly tables: { readonly [K in keyof T & string]: TableSpec<T[K]> };
}

export interface DatabaseModel<T extends TablesOf<T>> {
  /** The schema's name (the database name). */
  readonly name: string;
  readonly version: string;
  readonly tables: { readonly [K in keyof T & string]: TableModel<T[K]> };
}

interface ColumnPlan {
  readonly name: string;
  readonly spec: ColumnSpec;
  /** Value of a column absent from a row: the type's default (shared, frozen when an object). */
  readonly empty: unknown;
  decode(v: ValueJson): unknown;
  encode(v: unknown): ValueJson;
  fromDatum(d: Datum): unknown;
}

const EMPTY_SET_JSON: ValueJson = Object.freeze(['set', Object.freeze([])]) as unknown as ValueJson;
const EMPTY_ARRAY: readonly unknown[] = Object.freeze([]);
const EMPTY_OBJECT: Readonly<Record<string, unknown>> = Object.freeze({});

function defaultAtom(t: AtomicType): Atom {
  return t === 'integer' || t === 'real' ? 0 : t === 'boolean' ? false : t === 'string' ? '' : ZERO_UUID;
}

type AtomDecoder = (j: AtomJson) => Atom;
type AtomEncoder = (a: unknown) => AtomJson;

const identity = <T>(x: T): T => x;
const decodeUuid: AtomDecoder = (j) => (j as readonly [string, string])[1];
const encodeUuid: AtomEncoder = (a) => (UUID_RE.test(a as string) ? ['uuid', a as string] : ['named-uuid', a as string]);

function atomDecoder(t: AtomicType): AtomDecoder {
  return t === 'uuid' ? decodeUuid : (identity as AtomDecoder);
}

function atomEncoder(t: AtomicType): AtomEncoder {
  return t === 'uuid' ? encodeUuid : (identity as AtomEncoder);
}

/** A map key atom from its object-key form, and back. */
function keyFromString(t: AtomicType): (k: string) => Atom {
  if (t === 'integer' || t === 'real') return Number;
  if (t === 'boolean') return (k) => k === 'true';
  return identity;
}

/** Elements of a set value: a lone atom is a one-element set. */
function elements(v: ValueJson): readonly AtomJson[] {
  return Array.isArray(v) && v[0] === 'set' ? (v[1] as readonly AtomJson[]) : [v as AtomJson];
}

/**
 * Sets a map entry even when its key is "__proto__" (an assignment would change the prototype
 * instead). Column names cannot begin with "_", so only map keys need this.
 */
function put(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

function compilePlan(name: string, spec: ColumnSpec): ColumnPlan {
  const [kind, kt] = spec;
  const dk = atomDecoder(kt);
  const ek = atomEncoder(kt);
  switch (kind) {
    case 'scalar': {
      const empty = defaultAtom(kt);
      return {
        name,
        spec,
        empty,
        decode: (v) => {
          const e = elements(v);
          return e.length === 0 ? empty : dk(e[0]!);
        },
        encode: (x) => ek(x),
        fromDatum: (d) => (d.length === 0 ? empty : d[0]),
      };
    }
    case 'optional':
      return {
        name,
        spec,
        empty: undefined,
        decode: (v) => {
          const e = elements(v);
          return e.length === 0 ? undefined : dk(e[0]!);
        },
        encode: (x) => (x === undefined ? EMPTY_SET_JSON : ek(x)),
        fromDatum: (d) => (d.length === 0 ? undefined : d[0]),
      };
    case 'set':
      return {
        name,
        spec,
        empty: EMPTY_ARRAY,
        decode: kt === 'uuid' ? (v) => elements(v).map(dk) : (v) => elements(v).slice(),
        encode: (x) => {
          const a = x as readonly unknown[];
          return a.length === 1 ? ek(a[0]) : ['set', kt === 'uuid' ? a.map(ek) : (a as readonly AtomJson[])];
        },
        // Replica datums are immutable sorted atom arrays, already in typed form: shared, not copied.
        fromDatum: identity,
      };
    case 'map': {
      const vt = spec[2]!;
      const dv = atomDecoder(vt);
      const ev = atomEncoder(vt);
      const fromKey = keyFromString(kt);
      const byKey = (x: readonly [Atom, unknown], y: readonly [Atom, unknown]): number => compareAtoms(x[0], y[0]);
      return {
        name,
        spec,
        empty: EMPTY_OBJECT,
        decode: (v) => {
          const o: Record<string, unknown> = {};
          for (const [k, x] of (v as readonly [string, readonly (readonly [AtomJson, AtomJson])[]])[1]) put(o, String(dk(k)), dv(x));
          return o;
        },
        encode: (x) => {
          const pairs: [Atom, unknown][] = [];
          for (const [k, val] of Object.entries(x as Record<string, unknown>)) pairs.push([fromKey(k), val]);
          // Object key order is not the map's order (integer-like keys come first): sort, as OVSDB does.
          pairs.sort(byKey);
          return ['map', pairs.map(([k, val]) => [ek(k), ev(val)] as const)];
        },
        fromDatum: (d) => {
          const o: Record<string, unknown> = {};
          for (const [k, x] of d as MapDatum) put(o, String(k), x);
          return o;
        },
      };
    }
  }
}

function uuidValue(v: ValueJson | undefined): string {
  return Array.isArray(v) && v.length === 2 ? (v[1] as string) : '';
}

function compatible(spec: ColumnSpec, t: ColumnType): boolean {
  if (spec[1] !== t.key.type) return false;
  return spec[0] === 'map' ? t.value?.type === spec[2] : t.value === undefined;
}

/** One table's converters. Rows it returns are shared and must be treated as immutable. */
export class TableModel<R extends TypedRow> {
  /** Column names, sorted. */
  readonly columns: readonly ColumnName<R>[];
  private readonly plan: readonly ColumnPlan[];
  private readonly byName: ReadonlyMap<string, ColumnPlan>;
  /** Per replica table schema: the datum index of each plan column (-1: absent or incompatible). */
  private readonly idlPlans = new WeakMap<TableSchema, Int32Array>();
  /** Replica rows are immutable, so each is converted once. */
  private readonly memo = new WeakMap<IdlRow, R>();

  constructor(
    /** The database (schema) name. */
    readonly database: string,
    readonly name: string,
    readonly spec: TableSpec<R>,
  ) {
    const names = (Object.keys(spec) as ColumnName<R>[]).sort(compareStrings);
    this.columns = names;
    this.plan = names.map((c) => compilePlan(c, spec[c]));
    this.byName = new Map(this.plan.map((p) => [p.name, p]));
  }

  /**
   * A wire row (as select, monitor and update2 "initial"/"insert" give it) in typed form.
   * Columns the row lacks get their defaults; `uuid` supplies `_uuid` for monitor rows, which
   * carry it outside the row.
   */
  fromWire(row: RowJson, uuid?: string): R {
    const out: Record<string, unknown> = { _uuid: uuid ?? uuidValue(row['_uuid']), _version: uuidValue(row['_version']) };
    for (const c of this.plan) {
      const v = row[c.name];
      out[c.name] = v === undefined ? c.empty : c.decode(v);
    }
    return out as unknown as R;
  }

  /** A typed row in wire form, every column plus `_uuid` and `_version` (when not ''). */
  toWire(row: R): RowJson {
    const out: Record<string, ValueJson> = {};
    if (row._uuid !== '') out['_uuid'] = ['uuid', row._uuid];
    if (row._version !== '') out['_version'] = ['uuid', row._version];
    const r = row as unknown as Record<string, unknown>;
    for (const c of this.plan) out[c.name] = c.encode(r[c.name]);
    return out;
  }

  /**
   * Column values in wire form, for `insert` and `update` (`_uuid` and `_version` are left out,
   * so a whole typed row can be written back). Throws on an unknown column.
   */
  encode(values: RowValues<R>): RowJson {
    const out: Record<string, ValueJson> = {};
    const v = values as Record<string, unknown>;
    for (const k of Object.keys(v)) {
      if (k === '_uuid' || k === '_version') continue;
      const c = this.byName.get(k);
      if (!c) throw new Error(`table ${this.name} has no column ${k}`);
      const x = v[k];
      if (x === undefined && c.spec[0] !== 'optional') throw new Error(`${this.name}.${k}: undefined is not a value of this column`);
      out[k] = c.encode(x);
    }
    return out;
  }

  /** One column's value in wire form, e.g. for a condition: `['name', '==', m.value('name', 'sw0')]`. */
  value<C extends ColumnName<R>>(column: C, v: R[C]): ValueJson {
    const c = this.byName.get(column);
    if (!c) throw new Error(`table ${this.name} has no column ${column}`);
    return c.encode(v);
  }

  /** A wire value of one column in typed form. */
  decodeValue<C extends ColumnName<R>>(column: C, v: ValueJson): R[C] {
    const c = this.byName.get(column);
    if (!c) throw new Error(`table ${this.name} has no column ${column}`);
    return c.decode(v) as R[C];
  }

  /**
   * An IDL replica row in typed form, converted once per row object. Columns the server's
   * schema lacks (or types differently) and columns not replicated hold their defaults.
   */
  fromIdlRow(row: IdlRow): R {
    let r = this.memo.get(row);
    if (r === undefined) {
      const ix = this.idlPlan(row.table);
      const out: Record<string, unknown> = { _uuid: row.uuid, _version: row.version };
      const plan = this.plan;
      for (let i = 0; i < plan.length; i++) {
        const c = plan[i]!;
        const j = ix[i]!;
        out[c.name] = j < 0 ? c.empty : c.fromDatum(row.values[j]!);
      }
      r = out as unknown as R;
      this.memo.set(row, r);
    }
    return r;
  }

  private idlPlan(t: TableSchema): Int32Array {
    let ix = this.idlPlans.get(t);
    if (!ix) {
      ix = Int32Array.from(this.plan, (c) => {
        const col = t.columns.get(c.name);
        return col && compatible(c.spec, col.type) ? col.index : -1;
      });
      this.idlPlans.set(t, ix);
    }
    return ix;
  }
}

/** Builds a database's table models from their specs (what a generated module does once, at import). */
export function defineModel<T extends TablesOf<T>>(spec: ModelSpec<T>): DatabaseModel<T> {
  const tables: Record<string, TableModel<TypedRow>> = {};
  for (const name of Object.keys(spec.tables).sort(compareStrings)) {
    tables[name] = new TableModel(spec.name, name, (spec.tables as Record<string, TableSpec<TypedRow>>)[name]!);
  }
  return { name: spec.name, version: spec.version, tables: tables as unknown as DatabaseModel<T>['tables'] };
}

/** How a column of this type converts. */
export function columnSpec(t: ColumnType): ColumnSpec {
  if (t.value !== undefined) return ['map', t.key.type, t.value.type];
  if (t.max === 1) return [t.min === 0 ? 'optional' : 'scalar', t.key.type];
  return ['set', t.key.type];
}

/** Untyped rows of any table: column values are `unknown`. */
export interface AnyRow extends TypedRow {
  readonly [column: string]: unknown;
}

/**
 * Models for a schema known only at run time (rows typed loosely): the same converters a
 * generated module gets, without generating it.
 */
export function modelFromSchema(schema: DatabaseSchema): DatabaseModel<Record<string, AnyRow>> {
  const tables: Record<string, Record<string, ColumnSpec>> = {};
  for (const t of schema.tables.values()) {
    const cols: Record<string, ColumnSpec> = {};
    for (const c of t.columnList) cols[c.name] = columnSpec(c.type);
    tables[t.name] = cols;
  }
  return defineModel<Record<string, AnyRow>>({ name: schema.name, version: schema.version, tables });
}
