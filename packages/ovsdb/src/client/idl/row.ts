/**
 * A replicated row: immutable, replaced by a new object when it changes, so a change record can
 * hold the old and the new row without copying. Values are indexed like the server's rows (by
 * schema column index), which lets the server's condition evaluator run on replica rows too.
 */
import type { Datum, MapDatum } from '../../datum.js';
import type { Row } from '../../row.js';
import type { Atom, TableSchema } from '../../schema.js';

export class IdlRow implements Row {
  constructor(
    readonly table: TableSchema,
    readonly uuid: string,
    /** One datum per schema column (unmonitored columns hold their default). */
    readonly values: readonly Datum[],
    /** `_version`, when monitored; '' otherwise. */
    readonly version: string,
  ) {}

  private column(name: string): number {
    const c = this.table.columns.get(name);
    if (!c) throw new Error(`table ${this.table.name} has no column ${name}`);
    return c.index;
  }

  /** A column's datum: a sorted array of atoms, or of [key, value] pairs for a map. */
  get(name: string): Datum {
    if (name === '_uuid') return [this.uuid];
    if (name === '_version') return this.version === '' ? [] : [this.version];
    return this.values[this.column(name)]!;
  }

  /** The value of a scalar (or optional scalar) column; undefined when empty. */
  scalar(name: string): Atom | undefined {
    const d = this.get(name);
    return d.length === 0 ? undefined : (d[0] as Atom);
  }

  /** A string-keyed map column as an object (e.g. external_ids). */
  map(name: string): Record<string, Atom> {
    const out: Record<string, Atom> = {};
    for (const [k, v] of this.get(name) as MapDatum) out[String(k)] = v;
    return out;
  }
}
