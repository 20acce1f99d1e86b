/**
 * The in-memory replica: the monitored tables' rows, kept equal to the server's by applying
 * monitor updates. Knows nothing of connections or monitors: it applies "update" (v1) and
 * "update2"/"update3" table updates, and replaces its contents with a full dump while
 * reporting only the difference, so a resync looks like ordinary changes to its readers.
 *
 * Every row change goes through setRow(), which keeps the secondary indexes, the change
 * tracker and the per-update change batch in step.
 */
import { defaultDatum, parseDatum, datumsEqual, type Datum } from '../../datum.js';
import { evalCondition, type Condition } from '../../condition.js';
import type { ColumnSchema, TableSchema } from '../../schema.js';
import { applyDatumDiff } from '../../updates.js';
import type { RowJson } from '../wire.js';
import type { TableUpdates1, TableUpdates2 } from '../monitor-types.js';
import { IdlRow } from './row.js';
import { ChangeTracker, type IdlRowChange } from './changes.js';
import type { RowIndex } from './row-index.js';

/** A replicated table as readers see it. */
export interface IdlTable extends Iterable<IdlRow> {
  readonly name: string;
  readonly schema: TableSchema;
  /** The columns replicated (the others hold their defaults in every row). */
  readonly columns: readonly ColumnSchema[];
  readonly rows: ReadonlyMap<string, IdlRow>;
  readonly size: number;
  get(uuid: string): IdlRow | undefined;
}

/** One monitored table: its schema, the columns we watch and its rows. */
export class ReplicaTable implements IdlTable {
  readonly rows = new Map<string, IdlRow>();
  /** Values of a row with no columns set: every column at its default. */
  readonly defaults: readonly Datum[];
  /** Set only under a v1 "monitor", which has no server-side conditions: rows are filtered here. */
  filter: Condition | undefined;
  indexes: RowIndex[] = [];

  constructor(
    readonly schema: TableSchema,
    readonly columns: readonly ColumnSchema[],
  ) {
    this.defaults = schema.columnList.map((c) => defaultDatum(c.type));
  }

  get name(): string {
    return this.schema.name;
  }

  get size(): number {
    return this.rows.size;
  }

  get(uuid: string): IdlRow | undefined {
    return this.rows.get(uuid);
  }

  [Symbol.iterator](): Iterator<IdlRow> {
    return this.rows.values();
  }
}

/** The server sent something that does not fit the replica (e.g. a modify for an unknown row). */
export class ReplicaInconsistency extends Error {}

export class Replica {
  tables = new Map<string, ReplicaTable>();
  private readonly indexes: RowIndex[] = [];
  private tracker: ChangeTracker | undefined;
  /** Changes of the update being applied, handed to change callbacks when it is complete. */
  private batch: IdlRowChange[] = [];

  constructor(trackChanges: boolean) {
    if (trackChanges) this.tracker = new ChangeTracker();
  }

  get tracking(): boolean {
    return this.tracker !== undefined;
  }

  get changeTracker(): ChangeTracker | undefined {
    return this.tracker;
  }

  /** Takes the changes of the update just applied. */
  takeBatch(): IdlRowChange[] {
    const b = this.batch;
    this.batch = [];
    return b;
  }

  addIndex(ix: RowIndex): void {
    this.indexes.push(ix);
    const t = this.tables.get(ix.table);
    if (t) this.bindIndex(t, ix);
  }

  private bindIndex(t: ReplicaTable, ix: RowIndex): void {
    ix.bind(t.schema);
    t.indexes.push(ix);
    for (const r of t.rows.values()) ix.add(r);
  }

  /**
   * Installs new table definitions (first sync, or the server's schema changed). Tables whose
   * schema object and columns are unchanged keep their rows; others are emptied, reported as
   * deletions, and refilled by the full resync that must follow.
   */
  configure(defs: ReadonlyMap<string, { schema: TableSchema; columns: readonly ColumnSchema[] }>): void {
    const next = new Map<string, ReplicaTable>();
    for (const [name, def] of defs) {
      const old = this.tables.get(name);
      if (old && old.schema === def.schema && sameColumns(old.columns, def.columns)) {
        next.set(name, old);
        continue;
      }
      if (old) for (const r of [...old.rows.values()]) this.setRow(old, r.uuid, null);
      const t = new ReplicaTable(def.schema, def.columns);
      for (const ix of this.indexes) if (ix.table === name) this.bindIndex(t, ix);
      next.set(name, t);
    }
    for (const [name, old] of this.tables) {
      if (!next.has(name)) for (const r of [...old.rows.values()]) this.setRow(old, r.uuid, null);
    }
    this.tables = next;
  }

  private setRow(t: ReplicaTable, uuid: string, row: IdlRow | null): void {
    const old = t.rows.get(uuid) ?? null;
    if (old === null && row === null) return;
    if (old) for (const ix of t.indexes) ix.remove(old);
    if (row) {
      t.rows.set(uuid, row);
      for (const ix of t.indexes) ix.add(row);
    } else {
      t.rows.delete(uuid);
    }
    const c: IdlRowChange = { table: t.name, uuid, old, new: row };
    this.batch.push(c);
    this.tracker?.record(c);
  }

  /** A row from defaults plus the given columns (v1 "new", v2 "initial"/"insert"). */
  private buildRow(t: ReplicaTable, uuid: string, j: RowJson): IdlRow {
    const values = t.defaults.slice();
    let version = '';
    for (const name in j) {
      const v = j[name];
      const c = t.schema.columns.get(name);
      if (c) values[c.index] = parseDatum(v, c.type);
      else if (name === '_version' && Array.isArray(v)) version = v[1] as string;
    }
    return new IdlRow(t.schema, uuid, values, version);
  }

  /** Applies an update2 "modify": each column's diff (see updates.ts). */
  private modifyRow(t: ReplicaTable, old: IdlRow, j: RowJson): IdlRow {
    const values = old.values.slice();
    let version = old.version;
    for (const name in j) {
      const v = j[name];
      const c = t.schema.columns.get(name);
      if (c) values[c.index] = applyDatumDiff(values[c.index]!, parseDatum(v, c.type, undefined, true), c.type);
      else if (name === '_version' && Array.isArray(v)) version = v[1] as string;
    }
    return new IdlRow(t.schema, old.uuid, values, version);
  }

  private table(name: string): ReplicaTable {
    const t = this.tables.get(name);
    if (!t) throw new ReplicaInconsistency(`update for unmonitored table ${name}`);
    return t;
  }

  /** Applies update2/update3 table updates (also a found=true monitor_cond_since reply). */
  applyUpdate2(u: TableUpdates2): void {
    for (const tname in u) {
      const t = this.table(tname);
      const rows = u[tname]!;
      for (const uuid in rows) {
        const ru = rows[uuid]! as Record<string, RowJson | null>;
        if ('modify' in ru) {
          const old = t.rows.get(uuid);
          if (!old) throw new ReplicaInconsistency(`modify for unknown row ${uuid} in ${tname}`);
          this.setRow(t, uuid, this.modifyRow(t, old, ru['modify']!));
        } else if ('delete' in ru) {
          if (!t.rows.has(uuid)) throw new ReplicaInconsistency(`delete of unknown row ${uuid} in ${tname}`);
          this.setRow(t, uuid, null);
        } else {
          const j = ru['insert'] ?? ru['initial'];
          if (!j) throw new ReplicaInconsistency(`bad row update for ${uuid} in ${tname}`);
          this.setRow(t, uuid, this.buildRow(t, uuid, j));
        }
      }
    }
  }

  /** Applies v1 "update" table updates: "new" is the whole row, "old" alone a delete. */
  applyUpdate1(u: TableUpdates1): void {
    for (const tname in u) {
      const t = this.table(tname);
      const rows = u[tname]!;
      for (const uuid in rows) {
        const ru = rows[uuid]!;
        const nj = ru.new;
        if (nj === undefined) {
          this.setRow(t, uuid, null);
          continue;
        }
        const row = this.buildRow(t, uuid, nj);
        // "monitor" has no conditions: a row leaving the condition is a delete here.
        if (t.filter && !evalCondition(t.filter, row)) this.setRow(t, uuid, null);
        else this.setRow(t, uuid, row);
      }
    }
  }

  /**
   * Replaces the contents with a full dump (v1 "new" rows or v2 "initial" rows). Rows equal to
   * what we had keep their objects and produce no change; the rest become inserts, updates and
   * deletes, so readers see a resync as ordinary changes.
   */
  replace(dump: TableUpdates1 | TableUpdates2, version: 1 | 2): void {
    this.tracker?.markResync();
    for (const t of this.tables.values()) {
      const rows = (dump as Record<string, Record<string, Record<string, RowJson>>>)[t.name] ?? {};
      const seen = new Set<string>();
      for (const uuid in rows) {
        const ru = rows[uuid]!;
        const j = version === 1 ? ru['new'] : (ru['initial'] ?? ru['insert']);
        if (j === undefined) continue;
        const row = this.buildRow(t, uuid, j);
        if (t.filter && !evalCondition(t.filter, row)) continue;
        seen.add(uuid);
        const old = t.rows.get(uuid);
        if (old && rowsEqual(old, row, t.columns)) continue;
        this.setRow(t, uuid, row);
      }
      for (const uuid of [...t.rows.keys()]) if (!seen.has(uuid)) this.setRow(t, uuid, null);
    }
  }
}

function sameColumns(a: readonly ColumnSchema[], b: readonly ColumnSchema[]): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i]);
}

function rowsEqual(a: IdlRow, b: IdlRow, columns: readonly ColumnSchema[]): boolean {
  if (a.version !== b.version) return false;
  for (const c of columns) if (!datumsEqual(a.values[c.index]!, b.values[c.index]!, c.isMap)) return false;
  return true;
}

/** Number of row entries in a table-updates object (how big a monitor reply was). */
export function countRowUpdates(u: TableUpdates1 | TableUpdates2): number {
  let n = 0;
  for (const t in u) n += Object.keys(u[t]!).length;
  return n;
}
