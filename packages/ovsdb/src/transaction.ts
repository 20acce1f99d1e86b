/**
 * The transaction engine: executes RFC 7047 §5.2 operations against a copy-on-write view of a
 * Database, then checks the whole result at commit, in ovsdb-server's order (strong references,
 * garbage collection of unreferenced non-root rows, maxRows, weak-reference cleanup, unique
 * indexes), and hands a ChangeSet to the database. Operation parsing, semantics and errors follow
 * ovsdb-server 3.1 (checked against it by the tests), which settles what RFC 7047 leaves open.
 */
import { randomUuid } from './uuid.js';
import { OvsdbError, syntaxError, constraintViolation } from './error.js';
import { OpParser, errorJson, isObject } from './op-parser.js';
import { applyMutation, parseMutation } from './mutation.js';
import {
  UUID_RE,
  ZERO_UUID,
  checkAtomConstraints,
  compareDatums,
  datumToJson,
  datumToString,
  datumsEqual,
  defaultDatum,
  EMPTY_DATUM,
  findKey,
  parseDatum,
  setContains,
  type Datum,
  type MapDatum,
  type Pair,
  type SetDatum,
  type UuidNamer,
} from './datum.js';
import { columnTypeOf, evalCondition, parseCondition, pinnedUuid, rowValue, type Condition } from './condition.js';
import { indexKey, type Commit, type Database, type RowChange, type TableData } from './database.js';
import type { Row } from './row.js';
import { compareAtoms, type Atom, type ColumnSchema, type ColumnType, type TableSchema } from './schema.js';

/** A row as the transaction sees it; `values` is private to the transaction until commit. */
interface TxnRow {
  readonly table: TableData;
  readonly old: Row | null;
  new: { uuid: string; values: Datum[] } | null;
}

export interface TransactOptions {
  /** Whether the session running the transaction owns a lock (for the "assert" op). */
  readonly ownsLock?: (name: string) => boolean;
  /**
   * How long ago the transaction was first submitted, when the server re-runs one that a "wait"
   * blocked. A "wait" whose timeout has elapsed then fails with "timed out", as in ovsdb-server.
   */
  readonly elapsedMs?: number;
}

export type TransactOutcome =
  | { readonly kind: 'done'; readonly results: unknown[]; readonly commit: Commit | null; readonly durable: boolean }
  /** A "wait" op is not yet satisfied: retry after the next commit, or fail at `deadline`. */
  | { readonly kind: 'blocked'; readonly deadline: number; readonly waitIndex: number };

const UUID_TYPE: ColumnType = { key: { type: 'uuid' }, min: 1, max: 1 };

/** What the commit path needs about a table, computed once per table schema. */
interface TableInfo {
  /** Every column's default value (shared datums: never mutated). */
  readonly defaults: readonly Datum[];
  /** Columns whose single-value default breaks the column's own constraints (an enum without ""). */
  readonly badDefaults: readonly ColumnSchema[];
  /** Columns holding strong references, with the tables their keys and values point into. */
  readonly strong: readonly { readonly c: ColumnSchema; readonly kTable: string | undefined; readonly vTable: string | undefined }[];
  /** Whether some column holds weak references. */
  readonly hasWeak: boolean;
}

const tableInfos = new WeakMap<TableSchema, TableInfo>();

function tableInfo(ts: TableSchema): TableInfo {
  let info = tableInfos.get(ts);
  if (info) return info;
  const badDefaults: ColumnSchema[] = [];
  for (const c of ts.columnList) {
    const d = defaultDatum(c.type);
    if (d.length !== 1) continue;
    try {
      if (c.isMap) {
        checkAtomConstraints((d[0] as Pair)[0], c.type.key);
        checkAtomConstraints((d[0] as Pair)[1], c.type.value!);
      } else {
        checkAtomConstraints(d[0] as Atom, c.type.key);
      }
    } catch {
      badDefaults.push(c);
    }
  }
  const strong: TableInfo['strong'][number][] = [];
  let hasWeak = false;
  for (const c of ts.refColumns) {
    const k = c.type.key;
    const v = c.type.value;
    const kTable = k.refTable !== undefined && k.refType === 'strong' ? k.refTable : undefined;
    const vTable = v?.refTable !== undefined && v.refType === 'strong' ? v.refTable : undefined;
    if (kTable !== undefined || vTable !== undefined) strong.push({ c, kTable, vTable });
    if ((k.refTable !== undefined && k.refType === 'weak') || (v?.refTable !== undefined && v.refType === 'weak')) hasWeak = true;
  }
  info = { defaults: ts.columnList.map((c) => defaultDatum(c.type)), badDefaults, strong, hasWeak };
  tableInfos.set(ts, info);
  return info;
}

interface NamedUuid {
  uuid: string;
  /** Whether an "insert" has used this uuid-name (references alone do not define it). */
  defined: boolean;
}


export class Transaction implements UuidNamer {
  private readonly rows = new Map<string, TxnRow>();
  /** uuid-names seen so far (created on first use: most transactions have none). */
  private symbols: Map<string, NamedUuid> | undefined;
  private comment: string[] | undefined;
  private durable = false;

  constructor(
    private readonly db: Database,
    private readonly opts: TransactOptions = {},
  ) {}

  // --- UuidNamer -------------------------------------------------------------------------

  /**
   * A named-uuid's UUID. A name that no "insert" defines is not an error in itself (as in
   * ovsdb-server): a strong reference to it fails the commit, a weak one is dropped.
   */
  resolve(name: string): string {
    const symbols = (this.symbols ??= new Map());
    let s = symbols.get(name);
    if (!s) symbols.set(name, (s = { uuid: randomUuid(), defined: false }));
    return s.uuid;
  }

  // --- the view --------------------------------------------------------------------------

  private current(td: TableData, uuid: string): { uuid: string; values: readonly Datum[] } | null {
    const tr = this.rows.get(uuid);
    if (tr) return tr.table === td ? tr.new : null;
    return td.rows.get(uuid) ?? null;
  }

  private exists(uuid: string): TableData | undefined {
    const tr = this.rows.get(uuid);
    if (tr) return tr.new ? tr.table : undefined;
    return this.db.rowTable.get(uuid);
  }

  /** Whether `uuid` is a row of table `tableName` as the transaction sees it. */
  private existsIn(tableName: string, uuid: string): boolean {
    return this.exists(uuid)?.schema.name === tableName;
  }

  /** Rows of `td` matching `cond`, as the transaction currently sees them. */
  private matching(td: TableData, cond: Condition): { uuid: string; values: readonly Datum[]; version: string }[] {
    const out: { uuid: string; values: readonly Datum[]; version: string }[] = [];
    const pinned = pinnedUuid(cond);
    const consider = (uuid: string): void => {
      const tr = this.rows.get(uuid);
      let r: { uuid: string; version: string; values: readonly Datum[] } | null;
      if (tr) r = tr.table === td && tr.new ? { uuid, version: tr.old?.version ?? uuid, values: tr.new.values } : null;
      else r = td.rows.get(uuid) ?? null;
      if (r && evalCondition(cond, r)) out.push(r);
    };
    if (pinned !== undefined) {
      consider(pinned);
      return out;
    }
    if (cond.kind === 'const' && !cond.value) return out;
    for (const uuid of td.rows.keys()) consider(uuid);
    for (const [uuid, tr] of this.rows) if (tr.table === td && tr.old === null && tr.new) consider(uuid);
    return out;
  }

  private modifiable(td: TableData, uuid: string): TxnRow {
    let tr = this.rows.get(uuid);
    if (!tr) {
      const old = td.rows.get(uuid)!;
      tr = { table: td, old, new: { uuid, values: old.values.slice() } };
      this.rows.set(uuid, tr);
    }
    return tr;
  }

  private table(p: OpParser): TableData | undefined {
    const name = p.member('table', 'id');
    if (name === undefined) return undefined;
    const td = this.db.tables.get(name);
    if (!td) p.raise(`No table named ${name}.`);
    return td;
  }

  /**
   * A "row" object: column name → datum. `_uuid` and `_version` parse as UUIDs; an insert ignores
   * them, an update rejects them as immutable (both as ovsdb-server does).
   */
  private parseRow(ts: TableSchema, j: Record<string, unknown>, forUpdate: boolean, op?: unknown): Map<ColumnSchema, Datum> {
    const out = new Map<ColumnSchema, Datum>();
    const immutable: string[] = [];
    for (const [name, vj] of Object.entries(j)) {
      if (name === '_uuid' || name === '_version') {
        parseDatum(vj, UUID_TYPE, this);
        immutable.push(name);
        continue;
      }
      const c = ts.columns.get(name);
      if (!c) throw new OvsdbError('unknown column', `No column ${name} in table ${ts.name}.`, j);
      out.set(c, parseDatum(vj, c.type, this));
      if (!c.mutable) immutable.push(name);
    }
    if (forUpdate && immutable.length > 0) {
      throw new OvsdbError('constraint violation', `Cannot update immutable column ${immutable[0]} in table ${ts.name}.`, op);
    }
    return out;
  }

  /** `parseRow` for an insert, writing each given column straight into `values`. */
  private parseRowInto(ts: TableSchema, j: Record<string, unknown>, values: Datum[]): void {
    for (const name in j) {
      const vj = j[name];
      if (name === '_uuid' || name === '_version') {
        parseDatum(vj, UUID_TYPE, this);
        continue;
      }
      const c = ts.columns.get(name);
      if (!c) throw new OvsdbError('unknown column', `No column ${name} in table ${ts.name}.`, j);
      values[c.index] = parseDatum(vj, c.type, this);
    }
  }

  /** A "columns" array (ovsdb_column_set_from_json); all columns, _uuid and _version included, when absent. */
  private columnSet(ts: TableSchema, j: unknown[] | undefined): ColumnRef[] {
    if (j === undefined) return allColumns(ts);
    const out: ColumnRef[] = [];
    for (const name of j) {
      if (typeof name !== 'string' || out.some((c) => c.name === name)) throw new OvsdbError('syntax error', 'array of distinct column names expected', j);
      const c = columnTypeOf(ts, name);
      if (!c) throw new OvsdbError('syntax error', `${name} is not a valid column name`, j);
      out.push({ name, index: c.index, type: c.type });
    }
    return out;
  }

  // --- operations ------------------------------------------------------------------------

  /** Executes all operations, then commits if every one succeeded. */
  execute(ops: readonly unknown[], now = Date.now()): TransactOutcome {
    const results: unknown[] = [];
    for (let i = 0; i < ops.length; i++) {
      let r: unknown;
      try {
        r = this.executeOp(ops[i]);
      } catch (e) {
        if (e instanceof BlockedWait) {
          return { kind: 'blocked', deadline: e.timeout === Infinity ? Infinity : now + e.timeout, waitIndex: i };
        }
        results.push(errorJson(e, i, ops.length, ops[i]));
        for (let k = i + 1; k < ops.length; k++) results.push(null);
        return { kind: 'done', results, commit: null, durable: false };
      }
      results.push(r);
    }
    try {
      const commit = this.commit();
      return { kind: 'done', results, commit, durable: this.durable };
    } catch (e) {
      results.push(errorJson(e));
      return { kind: 'done', results, commit: null, durable: false };
    }
  }

  /** Called by the server when a blocked wait times out: the op fails with "timed out". */
  static timedOut(ops: readonly unknown[], waitIndex: number): unknown[] {
    const results: unknown[] = [];
    for (let i = 0; i < ops.length; i++) {
      if (i < waitIndex) results.push({});
      else if (i === waitIndex) results.push({ error: 'timed out', details: '"wait" timed out' });
      else results.push(null);
    }
    return results;
  }

  private executeOp(op: unknown): unknown {
    const p = new OpParser(op);
    const name = p.member('op', 'id');
    let result: unknown;
    let failure: unknown = null;
    if (name !== undefined) {
      try {
        result = this.dispatch(name, p);
      } catch (e) {
        failure = e;
      }
    }
    // A parse error overrides any other error (and a blocked wait).
    const parseError = p.finish();
    if (parseError) throw parseError;
    if (failure !== null) throw failure;
    return result;
  }

  private dispatch(name: string, p: OpParser): unknown {
    switch (name) {
      case 'insert':
        return this.opInsert(p);
      case 'select':
        return this.opSelect(p);
      case 'update':
        return this.opUpdate(p);
      case 'mutate':
        return this.opMutate(p);
      case 'delete':
        return this.opDelete(p);
      case 'wait':
        return this.opWait(p);
      case 'commit':
        return this.opCommit(p);
      case 'abort':
        throw new OvsdbError('aborted', 'aborted by request');
      case 'comment':
        return this.opComment(p);
      case 'assert':
        return this.opAssert(p);
      default:
        p.raise(`No operation "${name}"`);
        return undefined;
    }
  }

  private opInsert(p: OpParser): unknown {
    const td = this.table(p);
    const explicit = p.member('uuid', 'string', true);
    const uuidName = p.member('uuid-name', 'id', true);
    const rowJ = p.member('row', 'object');
    p.check();
    const ts = td!.schema;
    let uuid = '';
    if (explicit !== undefined) {
      if (!UUID_RE.test(explicit)) throw new OvsdbError('syntax error', 'bad uuid', explicit);
      uuid = explicit.toLowerCase();
      if (this.rows.has(uuid) || this.db.rowTable.has(uuid)) {
        throw new OvsdbError(
          'duplicate uuid',
          'This UUID would duplicate a UUID already present within the table or deleted within the same transaction.',
          explicit,
        );
      }
    }
    if (uuidName !== undefined) {
      const symbols = (this.symbols ??= new Map());
      let s = symbols.get(uuidName);
      if (!s) symbols.set(uuidName, (s = { uuid: randomUuid(), defined: false }));
      if (s.defined) throw new OvsdbError('duplicate uuid-name', 'This "uuid-name" appeared on an earlier "insert" operation.', uuidName);
      // An explicit uuid wins; references parsed earlier keep the name's old UUID (ovsdb-server does the same).
      if (explicit !== undefined) s.uuid = uuid;
      else uuid = s.uuid;
      s.defined = true;
    } else if (explicit === undefined) {
      uuid = randomUuid();
    }
    const info = tableInfo(ts);
    const values = info.defaults.slice();
    this.parseRowInto(ts, rowJ!, values);
    // Defaults must satisfy the column's constraints too (an enum without "", a minInteger above 0, …).
    // Given values were checked as they were parsed; only the columns left at a default that breaks
    // its own constraints remain, and checking them again raises ovsdb-server's error.
    for (const c of info.badDefaults) {
      const d = values[c.index]!;
      if (d !== info.defaults[c.index]) continue;
      if (c.isMap) {
        checkAtomConstraints((d[0] as Pair)[0], c.type.key);
        checkAtomConstraints((d[0] as Pair)[1], c.type.value!);
      } else {
        checkAtomConstraints(d[0] as Atom, c.type.key);
      }
    }
    this.rows.set(uuid, { table: td!, old: null, new: { uuid, values } });
    return { uuid: ['uuid', uuid] };
  }

  private opSelect(p: OpParser): unknown {
    const td = this.table(p);
    const where = p.member('where', 'array');
    const columnsJ = p.member('columns', 'array', true);
    const sortJ = p.member('sort', 'array', true);
    p.check();
    const ts = td!.schema;
    const cond = parseCondition(ts, where, this);
    const cols = this.columnSet(ts, columnsJ);
    const sort = sortJ === undefined ? [] : this.columnSet(ts, sortJ);
    let rows = this.matching(td!, cond);
    // Like ovsdb-server, the result has no duplicate rows unless _uuid is among the columns.
    if (!cols.some((c) => c.index === -1)) {
      const seen = new Set<string>();
      rows = rows.filter((r) => {
        const k = JSON.stringify(cols.map((c) => rowValue(r as Row, c.index)));
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
    }
    if (sort.length > 0) {
      rows.sort((a, b) => {
        for (const c of sort) {
          const x = compareDatums(rowValue(a as Row, c.index), rowValue(b as Row, c.index), c.type.value !== undefined);
          if (x !== 0) return x;
        }
        return 0;
      });
    }
    return { rows: rows.map((r) => rowToJson(r, cols)) };
  }

  private opUpdate(p: OpParser): unknown {
    const td = this.table(p);
    const where = p.member('where', 'array');
    const rowJ = p.member('row', 'object');
    p.check();
    const row = this.parseRow(td!.schema, rowJ!, true, p.obj);
    const cond = parseCondition(td!.schema, where, this);
    const matched = this.matching(td!, cond);
    for (const r of matched) {
      const tr = this.modifiable(td!, r.uuid);
      for (const [c, d] of row) tr.new!.values[c.index] = d;
    }
    return { count: matched.length };
  }

  private opMutate(p: OpParser): unknown {
    const td = this.table(p);
    const where = p.member('where', 'array');
    const mj = p.member('mutations', 'array');
    p.check();
    const ts = td!.schema;
    const mutations = mj!.map((m) => parseMutation(ts, m, this));
    const cond = parseCondition(ts, where, this);
    const matched = this.matching(td!, cond);
    for (const r of matched) {
      const values = this.modifiable(td!, r.uuid).new!.values;
      for (const m of mutations) values[m.column.index] = applyMutation(m, values[m.column.index]!);
    }
    return { count: matched.length };
  }

  private opDelete(p: OpParser): unknown {
    const where = p.member('where', 'array');
    const td = this.table(p);
    p.check();
    const cond = parseCondition(td!.schema, where, this);
    const matched = this.matching(td!, cond);
    for (const r of matched) this.deleteRow(td!, r.uuid);
    return { count: matched.length };
  }

  private deleteRow(td: TableData, uuid: string): void {
    const tr = this.rows.get(uuid);
    if (tr) {
      if (tr.old === null) this.rows.delete(uuid);
      else tr.new = null;
    } else {
      this.rows.set(uuid, { table: td, old: td.rows.get(uuid)!, new: null });
    }
  }

  /**
   * "wait": compares the set of matching rows, projected on "columns", with the set "rows"
   * (duplicates collapse on both sides; columns a row omits take their defaults), as ovsdb-server does.
   */
  private opWait(p: OpParser): unknown {
    const timeout = p.member('timeout', 'integer', true);
    const where = p.member('where', 'array');
    const columnsJ = p.member('columns', 'array', true);
    const until = p.member('until', 'string');
    const rowsJ = p.member('rows', 'array');
    const td = this.table(p);
    p.check();
    const ts = td!.schema;
    const cond = parseCondition(ts, where, this);
    const cols = this.columnSet(ts, columnsJ);
    if (timeout !== undefined && timeout < 0) throw syntaxError('timeout must be nonnegative');
    if (until !== '==' && until !== '!=') throw new OvsdbError('syntax error', '"until" must be "==" or "!="', until);
    const key = (values: readonly Datum[]): string => JSON.stringify(values);
    const expected = new Set<string>();
    for (const rj of rowsJ!) {
      if (!isObject(rj)) throw syntaxError('row must be JSON object');
      const given = this.parseRow(ts, rj, false);
      const uuidJ = rj['_uuid'];
      const versionJ = rj['_version'];
      expected.add(
        key(
          cols.map((c) => {
            if (c.index === -1) return uuidJ === undefined ? [ZERO_UUID] : parseDatum(uuidJ, UUID_TYPE, this);
            if (c.index === -2) return versionJ === undefined ? [ZERO_UUID] : parseDatum(versionJ, UUID_TYPE, this);
            const col = ts.columnList[c.index]!;
            return given.get(col) ?? defaultDatum(col.type);
          }),
        ),
      );
    }
    const actual = new Set<string>();
    let equal = true;
    for (const r of this.matching(td!, cond)) {
      const k = key(cols.map((c) => rowValue(r as Row, c.index)));
      if (!expected.has(k)) {
        equal = false;
        break;
      }
      actual.add(k);
    }
    if (equal) equal = actual.size === expected.size;
    if ((until === '==') === equal) return {};
    const elapsed = this.opts.elapsedMs ?? 0;
    if (timeout !== undefined && elapsed >= timeout) {
      throw new OvsdbError('timed out', elapsed > 0 ? `"wait" timed out after ${elapsed} ms` : '"where" clause test failed');
    }
    throw new BlockedWait(timeout === undefined ? Infinity : timeout - elapsed);
  }

  private opCommit(p: OpParser): unknown {
    const d = p.member('durable', 'boolean');
    if (d) this.durable = true;
    return {};
  }

  private opComment(p: OpParser): unknown {
    const c = p.member('comment', 'string');
    if (c !== undefined) (this.comment ??= []).push(c);
    return {};
  }

  private opAssert(p: OpParser): unknown {
    const lock = p.member('lock', 'id');
    if (lock === undefined) return {};
    if (!this.opts.ownsLock?.(lock)) throw new OvsdbError('not owner', `Asserted lock ${lock} not held.`);
    return {};
  }

  // --- commit ----------------------------------------------------------------------------

  /**
   * Checks the transaction's result and applies it, in ovsdb-server's order: strong-reference
   * integrity (new references must resolve in their refTable; deleted rows must be unreferenced),
   * garbage collection of unreferenced non-root rows, maxRows, weak-reference cleanup, unique
   * indexes. A row's references to itself never count.
   */
  private commit(): Commit | null {
    const delta = this.countStrongRefChanges();
    for (const [uuid, tr] of this.rows) {
      if (tr.old && !tr.new) {
        const n = this.refsOf(uuid, delta);
        if (n > 0) {
          throw new OvsdbError(
            'referential integrity violation',
            `cannot delete ${tr.table.schema.name} row ${uuid} because of ${n} remaining reference(s)`,
          );
        }
      }
    }
    this.collectGarbage(delta);
    this.checkMaxRows();
    this.removeDanglingWeakRefs();
    const changes = new Map<string, Map<string, RowChange>>();
    for (const [uuid, tr] of this.rows) {
      let newRow: Row | null = null;
      if (tr.new) {
        if (tr.old && rowUnchanged(tr)) continue; // modified to identical values: not a change
        newRow = { uuid, version: randomUuid(), values: tr.new.values };
      }
      let t = changes.get(tr.table.schema.name);
      if (!t) changes.set(tr.table.schema.name, (t = new Map()));
      t.set(uuid, { old: tr.old, new: newRow });
    }
    this.checkIndexes(changes);
    if (changes.size === 0) return null;
    const commit: Commit =
      this.comment !== undefined
        ? { changes, txnId: randomUuid(), durable: this.durable, comment: this.comment.join('\n') }
        : { changes, txnId: randomUuid(), durable: this.durable };
    this.db.applyCommit(commit);
    return commit;
  }

  /**
   * Per-row change in inbound strong references. References a changed column adds must point at
   * an existing row of the column's refTable.
   */
  private countStrongRefChanges(): Map<string, number> {
    const delta = new Map<string, number>();
    for (const [uuid, tr] of this.rows) {
      const own = tr.table.schema.name;
      for (const { c, kTable, vTable } of tableInfo(tr.table.schema).strong) {
        const oldD: Datum = tr.old ? tr.old.values[c.index]! : EMPTY_DATUM;
        const newD: Datum = tr.new ? tr.new.values[c.index]! : EMPTY_DATUM;
        if (oldD === newD || (oldD.length === 0 && newD.length === 0)) continue;
        const { added, removed } = addedRemoved(oldD, newD, c.isMap);
        if (!c.isMap) {
          for (const a of removed as SetDatum) if (a !== uuid || kTable !== own) bump(delta, a as string, -1);
          for (const a of added as SetDatum) this.addStrongRef(delta, c, uuid, own, a as string, kTable!);
        } else {
          for (const p of removed as MapDatum) {
            if (kTable !== undefined && (p[0] !== uuid || kTable !== own)) bump(delta, p[0] as string, -1);
            if (vTable !== undefined && (p[1] !== uuid || vTable !== own)) bump(delta, p[1] as string, -1);
          }
          for (const p of added as MapDatum) {
            if (kTable !== undefined) this.addStrongRef(delta, c, uuid, own, p[0] as string, kTable);
            if (vTable !== undefined) this.addStrongRef(delta, c, uuid, own, p[1] as string, vTable);
          }
        }
      }
    }
    return delta;
  }

  /** A strong reference that row `uuid` (of table `own`) gains: it must resolve in `refTable`. */
  private addStrongRef(delta: Map<string, number>, c: ColumnSchema, uuid: string, own: string, ref: string, refTable: string): void {
    // A row's references to itself don't count. (ovsdb-server skips them even in a column
    // whose refTable is another table, leaving a dangling reference; we reject that.)
    if (ref === uuid && refTable === own) return;
    if (!this.existsIn(refTable, ref)) {
      throw new OvsdbError(
        'referential integrity violation',
        `Table ${own} column ${c.name} row ${uuid} references nonexistent row ${ref} in table ${refTable}.`,
      );
    }
    bump(delta, ref, 1);
  }

  /** Inbound strong references of `uuid` once this transaction commits. */
  private refsOf(uuid: string, delta: ReadonlyMap<string, number>): number {
    return (this.db.strongRefs.get(uuid) ?? 0) + (delta.get(uuid) ?? 0);
  }

  /** Deletes non-root rows left with no strong references, cascading through their own references. */
  private collectGarbage(delta: Map<string, number>): void {
    const work: string[] = [];
    for (const [uuid, tr] of this.rows) if (!tr.table.schema.isRoot && tr.new) work.push(uuid);
    for (const t of delta.keys()) work.push(t);
    const drop = (uuid: string, ref: string): void => {
      if (ref === uuid) return;
      bump(delta, ref, -1);
      work.push(ref);
    };
    while (work.length > 0) {
      const uuid = work.pop()!;
      const td = this.exists(uuid);
      if (!td || td.schema.isRoot || this.refsOf(uuid, delta) > 0) continue;
      const values = this.current(td, uuid)!.values;
      this.deleteRow(td, uuid);
      for (const { c, kTable, vTable } of tableInfo(td.schema).strong) {
        const d = values[c.index]!;
        if (!c.isMap) {
          for (const a of d as SetDatum) drop(uuid, a as string);
        } else {
          for (const p of d as MapDatum) {
            if (kTable !== undefined) drop(uuid, p[0] as string);
            if (vTable !== undefined) drop(uuid, p[1] as string);
          }
        }
      }
    }
  }

  private checkMaxRows(): void {
    let counts: Map<TableData, number> | undefined;
    for (const tr of this.rows.values()) {
      if (tr.table.schema.maxRows === undefined) continue;
      counts ??= new Map();
      const d = (tr.new ? 1 : 0) - (tr.old ? 1 : 0);
      counts.set(tr.table, (counts.get(tr.table) ?? tr.table.rows.size) + d);
    }
    if (!counts) return;
    for (const [td, n] of counts) {
      const max = td.schema.maxRows;
      if (max !== undefined && n > max) {
        throw constraintViolation(`transaction causes "${td.schema.name}" table to contain ${n} rows, greater than the schema-defined limit of ${max} row(s)`);
      }
    }
  }

  /** Removes weak references to rows that do not exist (in the column's refTable) after this transaction. */
  private removeDanglingWeakRefs(): void {
    // Rows that may hold dangling weak refs: changed rows of this txn, and committed referrers of deleted rows.
    // (Only tables with weak reference columns can hold one.)
    let suspects: Set<string> | undefined;
    for (const [uuid, tr] of this.rows) {
      if (tr.new) {
        if (tableInfo(tr.table.schema).hasWeak) (suspects ??= new Set()).add(uuid);
      } else {
        const referrers = this.db.weakReferrers.get(uuid);
        if (referrers) for (const ref of referrers) (suspects ??= new Set()).add(ref);
      }
    }
    if (!suspects) return;
    for (const uuid of suspects) {
      const td = this.exists(uuid);
      if (!td) continue;
      const ts = td.schema;
      const cur = this.current(td, uuid)!;
      let tr: TxnRow | undefined;
      for (const c of ts.refColumns) {
        const k = c.type.key;
        const v = c.type.value;
        const kWeak = k.refTable !== undefined && k.refType === 'weak' ? k.refTable : undefined;
        const vWeak = v?.refTable !== undefined && v.refType === 'weak' ? v.refTable : undefined;
        if (kWeak === undefined && vWeak === undefined) continue;
        const d = cur.values[c.index]!;
        if (d.length === 0) continue;
        let zero = false;
        const live = (table: string | undefined, a: Atom): boolean => {
          if (table === undefined || this.existsIn(table, a as string)) return true;
          if (a === ZERO_UUID) zero = true;
          return false;
        };
        const kept: Datum = c.isMap
          ? (d as MapDatum).filter((p) => live(kWeak, p[0]) && live(vWeak, p[1]))
          : (d as SetDatum).filter((a) => live(kWeak, a));
        if (kept.length === d.length) continue;
        tr ??= this.modifiable(td, uuid);
        if (kept.length < c.type.min) {
          const inserted = tr.old === null;
          throw constraintViolation(
            zero && inserted
              ? `Weak reference column "${c.name}" in "${ts.name}" row ${uuid} (inserted within this transaction) contained all-zeros UUID (probably as the default value for this column) but deleting this value caused a constraint volation because this column is not allowed to be empty.`
              : `Deletion of ${d.length - kept.length} weak reference(s) to deleted (or never-existing) rows from column "${c.name}" in "${ts.name}" row ${uuid} ${inserted ? '(inserted within this transaction) ' : ''}caused this column to become empty, but constraints on this column disallow an empty column.`,
          );
        }
        tr.new!.values[c.index] = kept;
      }
    }
  }

  private checkIndexes(changes: Map<string, Map<string, RowChange>>): void {
    for (const [tname, rows] of changes) {
      const td = this.db.table(tname);
      const ts = td.schema;
      ts.indexes.forEach((ix, i) => {
        const committed = td.indexes[i]!;
        const seen = new Map<string, string>();
        for (const [uuid, ch] of rows) {
          if (!ch.new) continue;
          const k = indexKey(ch.new.values, ix);
          const inTxn = seen.get(k);
          const before = committed.get(k);
          const holder = inTxn ?? (before !== undefined && before !== uuid && !rows.has(before) ? before : undefined);
          if (holder !== undefined) throw duplicateIndexError(ts, ix, rows, holder, uuid, ch.new.values);
          seen.set(k, uuid);
        }
      });
    }
  }
}

function bump(delta: Map<string, number>, uuid: string, d: number): void {
  delta.set(uuid, (delta.get(uuid) ?? 0) + d);
}

function rowUnchanged(tr: TxnRow): boolean {
  const cols = tr.table.schema.columnList;
  return tr.old!.values.every((d, i) => datumsEqual(d, tr.new!.values[i]!, cols[i]!.isMap));
}

/** Elements (set atoms or map pairs) of `newD` not in `oldD`, and of `oldD` not in `newD`. */
function addedRemoved(oldD: Datum, newD: Datum, isMap: boolean): { added: Datum; removed: Datum } {
  if (oldD.length === 0 || newD.length === 0) return { added: newD, removed: oldD };
  if (isMap) {
    const has = (d: MapDatum, p: Pair): boolean => {
      const i = findKey(d, p[0]);
      return i >= 0 && compareAtoms(d[i]![1], p[1]) === 0;
    };
    return {
      added: (newD as MapDatum).filter((p) => !has(oldD as MapDatum, p)),
      removed: (oldD as MapDatum).filter((p) => !has(newD as MapDatum, p)),
    };
  }
  return {
    added: (newD as SetDatum).filter((a) => !setContains(oldD as SetDatum, a)),
    removed: (oldD as SetDatum).filter((a) => !setContains(newD as SetDatum, a)),
  };
}

function duplicateIndexError(
  ts: TableSchema,
  ix: readonly ColumnSchema[],
  rows: ReadonlyMap<string, RowChange>,
  first: string,
  second: string,
  values: readonly Datum[],
): OvsdbError {
  const indexValues = (v: readonly Datum[]): string => ix.map((c) => datumToString(v[c.index]!, c.type)).join(', ');
  const describe = (uuid: string): string => {
    const ch = rows.get(uuid);
    if (!ch) return 'existed in the database before this transaction and was not modified by the transaction.';
    if (!ch.old) return 'was inserted by this transaction.';
    if (ix.every((c) => datumsEqual(ch.old!.values[c.index]!, ch.new!.values[c.index]!, c.isMap))) {
      return "existed in the database before this transaction, which modified some of the row's columns but not any columns in this index.";
    }
    return `had the following index values before the transaction: ${indexValues(ch.old.values)}.`;
  };
  const cols = ix.map((c) => `"${c.name}"`).join(', ');
  return constraintViolation(
    `Transaction causes multiple rows in "${ts.name}" table to have identical values (${indexValues(values)}) for index on column${ix.length > 1 ? 's' : ''} ${cols}.  First row, with UUID ${first}, ${describe(first)}  Second row, with UUID ${second}, ${describe(second)}`,
  );
}

class BlockedWait {
  constructor(readonly timeout: number) {}
}

interface ColumnRef {
  readonly name: string;
  readonly index: number;
  readonly type: ColumnType;
}

export function allColumns(ts: TableSchema): ColumnRef[] {
  return [
    { name: '_uuid', index: -1, type: { key: { type: 'uuid' }, min: 1, max: 1 } },
    { name: '_version', index: -2, type: { key: { type: 'uuid' }, min: 1, max: 1 } },
    ...ts.columnList.map((c) => ({ name: c.name, index: c.index, type: c.type })),
  ];
}

function rowToJson(r: { uuid: string; version: string; values: readonly Datum[] }, cols: readonly ColumnRef[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const c of cols) o[c.name] = datumToJson(rowValue(r as Row, c.index), c.type);
  return o;
}

