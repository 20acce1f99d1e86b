/**
 * The JSON shapes a client sends and receives (RFC 7047 §5.1), as TypeScript types, plus small
 * helpers to write them. Values stay in wire form in the transaction builder so that what a
 * caller writes is exactly what goes on the socket; the IDL decodes them into in-memory datums.
 */
import type { Atom, ColumnType, TableSchema } from '../schema.js';
import type { ConditionFunction } from '../condition.js';
import { datumToJson, parseDatum, type Datum } from '../datum.js';

export type UuidJson = readonly ['uuid', string];
export type NamedUuidJson = readonly ['named-uuid', string];
export type AtomJson = number | boolean | string | UuidJson | NamedUuidJson;
export type SetJson = readonly ['set', readonly AtomJson[]];
export type MapJson = readonly ['map', readonly (readonly [AtomJson, AtomJson])[]];
/** A column value on the wire: a lone atom (a one-element set), a set or a map. */
export type ValueJson = AtomJson | SetJson | MapJson;
export type RowJson = Readonly<Record<string, ValueJson>>;

export type ClauseJson = readonly [column: string, fn: ConditionFunction, value: ValueJson];
/** Monitor conditions may also contain the literals true and false. */
export type MonitorClauseJson = ClauseJson | boolean;
export type Mutator = '+=' | '-=' | '*=' | '/=' | '%=' | 'insert' | 'delete';
export type MutationJson = readonly [column: string, mutator: Mutator, value: ValueJson];

export function ovsUuid(u: string): UuidJson {
  return ['uuid', u];
}

export function ovsNamedUuid(name: string): NamedUuidJson {
  return ['named-uuid', name];
}

export function ovsSet(...atoms: AtomJson[]): SetJson {
  return ['set', atoms];
}

/** A map from an object (string keys) or from pairs. */
export function ovsMap(entries: Readonly<Record<string, AtomJson>> | readonly (readonly [AtomJson, AtomJson])[]): MapJson {
  return ['map', Array.isArray(entries) ? entries : Object.entries(entries)];
}

/** The atoms of a set value (a lone atom is a one-element set). */
export function setAtoms(v: ValueJson): AtomJson[] {
  if (Array.isArray(v) && v[0] === 'set') return [...(v[1] as readonly AtomJson[])];
  return [v as AtomJson];
}

/** A string-keyed map value as an object, e.g. external_ids. */
export function mapObject(v: ValueJson): Record<string, AtomJson> {
  const out: Record<string, AtomJson> = {};
  if (Array.isArray(v) && v[0] === 'map') for (const [k, x] of v[1] as readonly (readonly [AtomJson, AtomJson])[]) out[String(k)] = x;
  return out;
}

/** The UUID string of a ["uuid", …] value. */
export function uuidOf(v: ValueJson | undefined): string {
  if (Array.isArray(v) && v[0] === 'uuid') return v[1] as string;
  throw new Error(`not a uuid value: ${JSON.stringify(v)}`);
}

/** Decodes one wire row into in-memory datums, by column name (unknown columns are skipped). */
export function decodeRow(table: TableSchema, row: RowJson): Map<string, Datum> {
  const out = new Map<string, Datum>();
  for (const [name, v] of Object.entries(row)) {
    if (name === '_uuid' || name === '_version') {
      out.set(name, [uuidOf(v)]);
      continue;
    }
    const c = table.columns.get(name);
    if (c) out.set(name, parseDatum(v, c.type));
  }
  return out;
}

/** An in-memory datum in wire form, typed for the builder. */
export function toValueJson(d: Datum, t: ColumnType): ValueJson {
  return datumToJson(d, t) as ValueJson;
}

/** An atom of a scalar datum (a one-element set), or undefined for an empty optional value. */
export function scalarOf(d: Datum): Atom | undefined {
  return d.length === 0 ? undefined : (d[0] as Atom);
}
