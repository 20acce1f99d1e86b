/**
 * One invocation's view of the database and its pending changes, as OVS's IDL transaction
 * keeps them: commands read rows as fetched plus their own earlier changes, write whole
 * columns or add/remove elements (sent as "mutate", like the IDL's partial updates), insert
 * and delete rows, and "verify" what their writes were based on. `operations()` turns that
 * into one OVSDB transaction: a "wait" per verified row (so a concurrent change makes it fail
 * and the tool retries), then inserts, updates, mutations and deletes.
 */
import { datumsEqual, defaultDatum, compareAtoms, type Datum, type Pair, type Atom, type ColumnSchema, type ColumnType, type DatabaseSchema, type TableSchema } from './ovsdb.js';

export type RowValues = Map<string, Datum>;

export class ViewRow {
  /** Values as fetched; undefined for a row this transaction inserted. */
  readonly old: RowValues | undefined;
  /** Values now; undefined once deleted. Shared with `old` until the first write (copy on write). */
  cur: RowValues | undefined;
  private own: boolean;
  // Made on first use: a transaction views every row of the tables it reads, but touches few.
  private writtenSet: Set<string> | undefined;
  private partialSet: Set<string> | undefined;
  private verifiedSet: Set<string> | undefined;

  /** Columns replaced whole. */
  get written(): Set<string> {
    return (this.writtenSet ??= new Set());
  }

  /** Columns changed by adding and removing elements (sent as "mutate"). */
  get partial(): Set<string> {
    return (this.partialSet ??= new Set());
  }

  /** Columns whose fetched value the transaction asserts. */
  get verified(): Set<string> {
    return (this.verifiedSet ??= new Set());
  }

  constructor(
    readonly table: TableSchema,
    readonly uuid: string,
    old: RowValues | undefined,
  ) {
    this.old = old;
    this.cur = old ?? defaults(table);
    this.own = old === undefined;
  }

  get inserted(): boolean {
    return this.old === undefined;
  }

  get deleted(): boolean {
    return this.cur === undefined;
  }

  /** The values to change: a copy of the fetched ones, made on the first write. */
  writable(): RowValues {
    if (!this.cur) throw new Error(`write to deleted row ${this.uuid}`);
    if (!this.own) {
      this.cur = new Map(this.cur);
      this.own = true;
    }
    return this.cur;
  }

  /** The column's current value (its default if it was never fetched). */
  get(column: string): Datum {
    const v = this.cur?.get(column) ?? this.old?.get(column);
    if (v !== undefined) return v;
    const c = this.table.columns.get(column);
    if (!c) throw new Error(`${this.table.name} has no column ${column}`);
    return defaultDatum(c.type);
  }

  /** A scalar column's value, or undefined when an optional one is empty. */
  scalar(column: string): Atom | undefined {
    const d = this.get(column);
    return d.length === 0 ? undefined : (d[0] as Atom);
  }

  string(column: string): string {
    return String(this.scalar(column) ?? '');
  }

  /** A string-to-string map column as a Map. */
  map(column: string): Map<string, string> {
    return new Map((this.get(column) as readonly Pair[]).map((p) => [String(p[0]), String(p[1])]));
  }
}

function defaults(table: TableSchema): RowValues {
  const m: RowValues = new Map();
  for (const c of table.columnList) m.set(c.name, defaultDatum(c.type));
  return m;
}

export interface Increment {
  readonly row: ViewRow;
  readonly column: string;
  /** Increment even when nothing else changes (ovn-nbctl sync). */
  readonly force?: boolean;
}

/** The fetched contents of some tables: table name → rows in server order. */
export type Snapshot = Map<string, Map<string, RowValues>>;

export class DbTxn {
  private readonly rowsByTable = new Map<string, Map<string, ViewRow>>();
  private readonly touched: ViewRow[] = [];
  private readonly touchedSet = new Set<ViewRow>();
  increment: Increment | undefined;

  /** Views of a table's rows are made when a command first looks at the table. */
  constructor(
    readonly schema: DatabaseSchema,
    private readonly snapshot: Snapshot,
  ) {}

  /** Whether the table's rows were fetched. */
  has(table: string): boolean {
    return this.rowsByTable.has(table) || (this.snapshot.has(table) && this.schema.tables.has(table));
  }

  private tableRows(table: string): Map<string, ViewRow> {
    let m = this.rowsByTable.get(table);
    if (!m) {
      m = new Map();
      const t = this.schema.tables.get(table);
      const rows = this.snapshot.get(table);
      if (t && rows) for (const [uuid, values] of rows) m.set(uuid, new ViewRow(t, uuid, values));
      this.rowsByTable.set(table, m);
    }
    return m;
  }

  /** The table's live rows: fetched and not deleted, then inserted ones. */
  rows(table: string): ViewRow[] {
    const out: ViewRow[] = [];
    for (const r of this.tableRows(table).values()) if (!r.deleted) out.push(r);
    return out;
  }

  first(table: string): ViewRow | undefined {
    for (const r of this.tableRows(table).values()) if (!r.deleted) return r;
    return undefined;
  }

  /** The live row with this UUID in `table`. */
  get(table: string, uuid: string): ViewRow | undefined {
    const r = this.tableRows(table).get(uuid);
    return r && !r.deleted ? r : undefined;
  }

  private touch(r: ViewRow): void {
    if (!this.touchedSet.has(r)) {
      this.touchedSet.add(r);
      this.touched.push(r);
    }
  }

  /** Asserts at commit that `column` still holds the value fetched (no-op for inserted rows). */
  verify(r: ViewRow, column: string): void {
    if (r.inserted || r.deleted) return;
    r.verified.add(column);
    this.touch(r);
  }

  /** Replaces a column's value. */
  write(r: ViewRow, column: string, value: Datum): void {
    r.writable().set(column, value);
    r.written.add(column);
    this.touch(r);
  }

  /**
   * Changes a column by adding and removing elements only; sent as a "mutate" of the
   * difference, so concurrent changes to other elements are kept (the IDL's partial updates).
   */
  writePartial(r: ViewRow, column: string, value: Datum): void {
    r.writable().set(column, value);
    if (!r.written.has(column)) r.partial.add(column);
    this.touch(r);
  }

  insert(table: TableSchema, uuid: string = globalThis.crypto.randomUUID()): ViewRow {
    const r = new ViewRow(table, uuid, undefined);
    this.tableRows(table.name).set(uuid, r);
    this.touch(r);
    return r;
  }

  delete(r: ViewRow): void {
    r.cur = undefined;
    this.touch(r);
  }

  /** Rows this transaction inserted (and did not delete), by UUID. */
  insertedUuids(): Map<string, string> {
    const m = new Map<string, string>();
    for (const r of this.touched) if (r.inserted && !r.deleted) m.set(r.uuid, rowName(r.uuid));
    return m;
  }

  /**
   * The transaction's operations, or undefined when it changes nothing (then, like the IDL,
   * nothing is sent at all, verifications included). `incrementIndex` is the position of the
   * select that reads back an incremented column.
   */
  operations(comment: string | undefined, dryRun: boolean): { ops: unknown[]; incrementIndex: number | undefined } | undefined {
    const named = this.insertedUuids();
    const enc = (d: Datum, t: ColumnType): unknown => encodeDatum(d, t, named);
    const waits: unknown[] = [];
    const changes: unknown[] = [];
    for (const r of this.touched) {
      const where = [['_uuid', '==', ['uuid', r.uuid]]];
      if (!r.inserted && r.verified.size > 0) {
        const cols = [...r.verified];
        const row: Record<string, unknown> = {};
        for (const c of cols) row[c] = enc(r.old!.get(c) ?? defaultDatum(col(r.table, c).type), col(r.table, c).type);
        waits.push({ op: 'wait', timeout: 0, table: r.table.name, where, until: '==', columns: cols, rows: [row] });
      }
      if (r.inserted) {
        if (r.deleted) continue;
        const row: Record<string, unknown> = {};
        for (const c of [...r.written, ...r.partial]) row[c] = enc(r.cur!.get(c)!, col(r.table, c).type);
        changes.push({ op: 'insert', table: r.table.name, 'uuid-name': named.get(r.uuid), row });
        continue;
      }
      if (r.deleted) {
        // Like the IDL, leave rows of non-root tables to the server's garbage collection.
        if (r.table.isRoot) changes.push({ op: 'delete', table: r.table.name, where });
        continue;
      }
      const row: Record<string, unknown> = {};
      let any = false;
      for (const c of r.written) {
        const t = col(r.table, c);
        const v = r.cur!.get(c)!;
        if (!datumsEqual(v, r.old!.get(c) ?? defaultDatum(t.type), t.isMap)) {
          row[c] = enc(v, t.type);
          any = true;
        }
      }
      if (any) changes.push({ op: 'update', table: r.table.name, where, row });
      const mutations: unknown[] = [];
      for (const c of r.partial) {
        if (r.written.has(c)) continue;
        const t = col(r.table, c);
        const { removed, added } = diff(r.old!.get(c) ?? defaultDatum(t.type), r.cur!.get(c)!, t.isMap);
        const keys: ColumnType = { key: t.type.key, min: 0, max: Infinity };
        if (removed.length > 0) mutations.push([c, 'delete', encodeDatum(removed, t.isMap ? keys : t.type, named, true)]);
        if (added.length > 0) mutations.push([c, 'insert', encodeDatum(added, t.type, named, true)]);
      }
      if (mutations.length > 0) changes.push({ op: 'mutate', table: r.table.name, where, mutations });
    }
    if (changes.length === 0 && !this.increment?.force) return undefined;
    const ops = [...waits, ...changes];
    let incrementIndex: number | undefined;
    if (this.increment && !this.increment.row.deleted) {
      const { row, column } = this.increment;
      const where = [['_uuid', '==', ['uuid', row.uuid]]];
      ops.push({ op: 'mutate', table: row.table.name, where, mutations: [[column, '+=', 1]] });
      incrementIndex = ops.length;
      ops.push({ op: 'select', table: row.table.name, where, columns: [column] });
    }
    if (comment !== undefined) ops.push({ op: 'comment', comment });
    if (dryRun) ops.push({ op: 'abort' });
    return { ops, incrementIndex };
  }
}

function col(t: TableSchema, name: string): ColumnSchema {
  const c = t.columns.get(name);
  if (!c) throw new Error(`${t.name} has no column ${name}`);
  return c;
}

/**
 * Elements of `a` not in `b` and of `b` not in `a`; for maps, by key and value (a changed value
 * is both). The atoms of one column are all of one type, so they are their own keys.
 */
function diff(a: Datum, b: Datum, isMap: boolean): { removed: Datum; added: Datum } {
  if (isMap) {
    const am = a as readonly Pair[];
    const bm = b as readonly Pair[];
    const bk = new Map<Atom, Pair>(bm.map((p) => [p[0], p]));
    const ak = new Map<Atom, Pair>(am.map((p) => [p[0], p]));
    const removed = am.filter((p) => {
      const q = bk.get(p[0]);
      return !q || compareAtoms(q[1], p[1]) !== 0;
    });
    const added = bm.filter((p) => {
      const q = ak.get(p[0]);
      return !q || compareAtoms(q[1], p[1]) !== 0;
    });
    return { removed: removed.map((p) => p[0]), added };
  }
  const as = new Set(a as readonly Atom[]);
  const bs = new Set(b as readonly Atom[]);
  return { removed: (a as readonly Atom[]).filter((x) => !bs.has(x)), added: (b as readonly Atom[]).filter((x) => !as.has(x)) };
}

/** The uuid-name the IDL gives an inserted row: "row" and its UUID with "_" for "-". */
export function rowName(uuid: string): string {
  return `row${uuid.replace(/-/g, '_')}`;
}

function encodeAtom(a: Atom, isUuid: boolean, named: Map<string, string>): unknown {
  if (!isUuid) return a;
  const n = named.get(a as string);
  return n ? ['named-uuid', n] : ['uuid', a];
}

/** A datum on the wire, with references to rows inserted by this transaction as named-uuids. */
export function encodeDatum(d: Datum, t: ColumnType, named: Map<string, string>, forceSet = false): unknown {
  const ku = t.key.type === 'uuid';
  if (t.value !== undefined) {
    const vu = t.value.type === 'uuid';
    return ['map', (d as readonly Pair[]).map((p) => [encodeAtom(p[0], ku, named), encodeAtom(p[1], vu, named)])];
  }
  if (d.length === 1 && !forceSet) return encodeAtom(d[0] as Atom, ku, named);
  return ['set', (d as readonly Atom[]).map((a) => encodeAtom(a, ku, named))];
}
