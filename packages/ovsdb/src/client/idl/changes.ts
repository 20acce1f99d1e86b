/**
 * Row change records: what a change callback receives per update, and what takeChanges()
 * accumulates between two looks (merged per row: first old value, last new value), which is
 * the shape incremental processing wants: "this row was inserted / updated (from X) / deleted
 * (was X) since you last looked".
 */
import { datumsEqual } from '../../datum.js';
import type { IdlRow } from './row.js';

export type ChangeKind = 'insert' | 'update' | 'delete';

export interface IdlRowChange {
  readonly table: string;
  readonly uuid: string;
  /** The row before (null for an insert). */
  readonly old: IdlRow | null;
  /** The row after (null for a delete). */
  readonly new: IdlRow | null;
}

export function changeKind(c: IdlRowChange): ChangeKind {
  return c.old === null ? 'insert' : c.new === null ? 'delete' : 'update';
}

/** Columns whose value differs between old and new (all monitored columns for insert/delete). */
export function changedColumns(c: IdlRowChange): string[] {
  const row = (c.new ?? c.old)!;
  if (c.old === null || c.new === null) return row.table.columnList.map((col) => col.name);
  const out: string[] = [];
  // A schema change can give old and new rows different column layouts: compare by name then.
  const sameLayout = c.old.table === c.new.table;
  for (const col of c.new.table.columnList) {
    const a = sameLayout ? c.old.values[col.index]! : c.old.table.columns.has(col.name) ? c.old.get(col.name) : undefined;
    if (a === undefined || !datumsEqual(a, c.new.values[col.index]!, col.isMap)) out.push(col.name);
  }
  return out;
}

/** Changes since the last takeChanges(), per table and row. */
export class IdlChanges implements Iterable<IdlRowChange> {
  constructor(
    readonly tables: ReadonlyMap<string, ReadonlyMap<string, IdlRowChange>>,
    /** A full resync happened in this window (the changes are then its difference to the old cache). */
    readonly resynced: boolean,
  ) {}

  get size(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.size;
    return n;
  }

  *[Symbol.iterator](): Iterator<IdlRowChange> {
    for (const t of this.tables.values()) yield* t.values();
  }

  table(name: string): Iterable<IdlRowChange> {
    return this.tables.get(name)?.values() ?? [];
  }

  private ofKind(name: string, kind: ChangeKind): IdlRowChange[] {
    const out: IdlRowChange[] = [];
    for (const c of this.table(name)) if (changeKind(c) === kind) out.push(c);
    return out;
  }

  inserted(table: string): IdlRowChange[] {
    return this.ofKind(table, 'insert');
  }

  updated(table: string): IdlRowChange[] {
    return this.ofKind(table, 'update');
  }

  deleted(table: string): IdlRowChange[] {
    return this.ofKind(table, 'delete');
  }
}

/** Accumulates changes between takes. */
export class ChangeTracker {
  private tables = new Map<string, Map<string, IdlRowChange>>();
  private resynced = false;

  record(c: IdlRowChange): void {
    let t = this.tables.get(c.table);
    if (!t) this.tables.set(c.table, (t = new Map()));
    const prev = t.get(c.uuid);
    if (!prev) {
      t.set(c.uuid, c);
      return;
    }
    // Inserted then deleted within one window: the reader never needs to know.
    if (prev.old === null && c.new === null) t.delete(c.uuid);
    else t.set(c.uuid, { table: c.table, uuid: c.uuid, old: prev.old, new: c.new });
  }

  markResync(): void {
    this.resynced = true;
  }

  take(): IdlChanges {
    const out = new IdlChanges(this.tables, this.resynced);
    this.tables = new Map();
    this.resynced = false;
    return out;
  }
}
