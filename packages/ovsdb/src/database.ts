/**
 * One database's committed contents: rows per table, unique indexes, and the reference graph
 * that commit-time checks (strong-reference integrity, garbage collection, weak-reference
 * cleanup) need. Changes enter only through `applyCommit`, so every observer (storage,
 * monitors) sees the same ordered stream of commits.
 */
import { randomUuid } from './uuid.js';
import type { Datum, MapDatum, SetDatum } from './datum.js';
import type { Row } from './row.js';
import type { DatabaseSchema, TableSchema } from './schema.js';

export interface RowChange {
  readonly old: Row | null;
  readonly new: Row | null;
}

/** What one transaction changed: per table, per row UUID. Only tables with changes appear. */
export type ChangeSet = ReadonlyMap<string, ReadonlyMap<string, RowChange>>;

export interface Commit {
  readonly changes: ChangeSet;
  /** A fresh UUID per commit; monitor_cond_since clients resume from it. */
  readonly txnId: string;
  readonly comment?: string;
  readonly durable: boolean;
}

export class TableData {
  readonly rows = new Map<string, Row>();
  /** One map per schema index: index key → row UUID. */
  readonly indexes: Map<string, string>[];
  constructor(readonly schema: TableSchema) {
    this.indexes = schema.indexes.map(() => new Map());
  }
}

/**
 * The key of a row in one unique index. The common case, one scalar column (a name, a tunnel
 * key), uses the value's own text: unique within the column and allocation-free for strings.
 */
export function indexKey(values: readonly Datum[], index: TableSchema['indexes'][number]): string {
  if (index.length === 1) {
    const c = index[0]!;
    const d = values[c.index]!;
    if (c.type.min === 1 && c.type.max === 1 && c.type.value === undefined) return String(d[0]);
    return JSON.stringify(d);
  }
  return JSON.stringify(index.map((c) => values[c.index]));
}

/** UUIDs a row refers to, split by reference strength. */
export function rowRefs(table: TableSchema, values: readonly Datum[], strong: string[], weak: string[]): void {
  for (const c of table.refColumns) {
    const d = values[c.index]!;
    if (d.length === 0) continue;
    const k = c.type.key;
    const v = c.type.value;
    const keyRefs = k.refTable === undefined ? null : k.refType === 'weak' ? weak : strong;
    const valueRefs = v?.refTable === undefined ? null : v.refType === 'weak' ? weak : strong;
    if (v === undefined) {
      for (const a of d as SetDatum) keyRefs!.push(a as string);
    } else {
      for (const p of d as MapDatum) {
        keyRefs?.push(p[0] as string);
        valueRefs?.push(p[1] as string);
      }
    }
  }
}

export type CommitListener = (commit: Commit) => void;

export class Database {
  readonly tables = new Map<string, TableData>();
  /** Inbound strong reference count per target row (a row's references to itself excluded). */
  readonly strongRefs = new Map<string, number>();
  /** Rows holding weak references to a target row. */
  readonly weakReferrers = new Map<string, Set<string>>();
  /** Which table each row is in. */
  readonly rowTable = new Map<string, TableData>();
  lastTxnId: string = randomUuid();
  private readonly listeners = new Set<CommitListener>();

  constructor(readonly schema: DatabaseSchema) {
    for (const t of schema.tables.values()) this.tables.set(t.name, new TableData(t));
  }

  get name(): string {
    return this.schema.name;
  }

  table(name: string): TableData {
    const t = this.tables.get(name);
    if (!t) throw new Error(`no table ${name} in ${this.schema.name}`);
    return t;
  }

  onCommit(l: CommitListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Applies a checked change set. Callers (the transaction engine, storage replay) guarantee validity. */
  applyCommit(commit: Commit): void {
    const strong: string[] = [];
    const weak: string[] = [];
    for (const [tname, rows] of commit.changes) {
      const td = this.table(tname);
      const ts = td.schema;
      const hasRefs = ts.refColumns.length > 0;
      for (const [uuid, ch] of rows) {
        if (ch.old) {
          for (let i = 0; i < ts.indexes.length; i++) {
            const m = td.indexes[i]!;
            const k = indexKey(ch.old.values, ts.indexes[i]!);
            if (m.get(k) === uuid) m.delete(k);
          }
          if (hasRefs) {
            strong.length = 0;
            weak.length = 0;
            rowRefs(ts, ch.old.values, strong, weak);
            for (const t of strong) if (t !== uuid) this.addStrong(t, -1);
            for (const t of weak) {
              const s = this.weakReferrers.get(t);
              if (s?.delete(uuid) && s.size === 0) this.weakReferrers.delete(t);
            }
          }
        }
        if (ch.new) {
          td.rows.set(uuid, ch.new);
          if (!ch.old) this.rowTable.set(uuid, td);
          for (let i = 0; i < ts.indexes.length; i++) td.indexes[i]!.set(indexKey(ch.new.values, ts.indexes[i]!), uuid);
          if (hasRefs) {
            strong.length = 0;
            weak.length = 0;
            rowRefs(ts, ch.new.values, strong, weak);
            for (const t of strong) if (t !== uuid) this.addStrong(t, 1); // self-references don't count
            for (const t of weak) {
              let s = this.weakReferrers.get(t);
              if (!s) this.weakReferrers.set(t, (s = new Set()));
              s.add(uuid);
            }
          }
        } else {
          td.rows.delete(uuid);
          this.rowTable.delete(uuid);
        }
      }
    }
    this.lastTxnId = commit.txnId;
    for (const l of this.listeners) l(commit);
  }

  private addStrong(target: string, delta: number): void {
    const n = (this.strongRefs.get(target) ?? 0) + delta;
    if (n <= 0) this.strongRefs.delete(target);
    else this.strongRefs.set(target, n);
  }

  rowCount(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.rows.size;
    return n;
  }
}
