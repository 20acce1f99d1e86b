/**
 * Secondary indexes over the replica: rows by the values of one or more columns (not
 * necessarily unique), e.g. Logical_Switch_Port by name. Maintained on every row change, so a
 * lookup is one hash probe instead of a table scan.
 */
import type { Datum } from '../../datum.js';
import type { Atom, TableSchema } from '../../schema.js';
import type { IdlRow } from './row.js';

/** A lookup value per column: an atom for a scalar column, or a whole datum (sorted array). */
export type IndexValue = Atom | Datum;

export class RowIndex {
  private readonly map = new Map<string, Map<string, IdlRow>>();
  private positions: number[] = [];

  constructor(
    readonly table: string,
    readonly columns: readonly string[],
  ) {
    if (columns.length === 0) throw new Error('an index needs at least one column');
  }

  /** Resolves column names against the (new) schema; the caller then re-adds every row. */
  bind(schema: TableSchema): void {
    this.positions = this.columns.map((name) => {
      const c = schema.columns.get(name);
      if (!c) throw new Error(`index on ${this.table}: no column ${name}`);
      return c.index;
    });
    this.map.clear();
  }

  private rowKey(row: IdlRow): string {
    const p = this.positions;
    // Datums are canonical (sorted), so their JSON is a faithful key.
    if (p.length === 1) return JSON.stringify(row.values[p[0]!]);
    return JSON.stringify(p.map((i) => row.values[i]));
  }

  private lookupKey(values: readonly IndexValue[]): string {
    if (values.length !== this.columns.length) throw new Error(`index on ${this.table}(${this.columns.join(', ')}) takes ${this.columns.length} values`);
    const datums = values.map((v) => (Array.isArray(v) ? v : [v]));
    return JSON.stringify(datums.length === 1 ? datums[0] : datums);
  }

  add(row: IdlRow): void {
    const k = this.rowKey(row);
    let m = this.map.get(k);
    if (!m) this.map.set(k, (m = new Map()));
    m.set(row.uuid, row);
  }

  remove(row: IdlRow): void {
    const k = this.rowKey(row);
    const m = this.map.get(k);
    if (m?.get(row.uuid) === row) {
      m.delete(row.uuid);
      if (m.size === 0) this.map.delete(k);
    }
  }

  /** Rows whose indexed columns equal `values` (one per column, in the index's column order). */
  find(...values: IndexValue[]): IdlRow[] {
    const m = this.map.get(this.lookupKey(values));
    return m ? [...m.values()] : [];
  }

  /** The one row with these values, or undefined (the first, if several match). */
  findOne(...values: IndexValue[]): IdlRow | undefined {
    const m = this.map.get(this.lookupKey(values));
    if (!m) return undefined;
    for (const r of m.values()) return r;
    return undefined;
  }

  /** Number of distinct keys (for tests and diagnostics). */
  get keyCount(): number {
    return this.map.size;
  }
}
