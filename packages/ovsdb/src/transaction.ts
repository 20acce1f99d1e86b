/**
 * The transaction engine: executes RFC 7047 §5.2 operations against a copy-on-write view of a
 * Database, then checks the whole result at commit (strong references, garbage collection of
 * unreferenced non-root rows, weak-reference cleanup, unique indexes, maxRows) and hands a
 * ChangeSet to the database. Errors follow ovsdb-server's names and result-array shape.
 */
import { randomUUID } from 'node:crypto';
import { OvsdbError, syntaxError, constraintViolation } from './error.js';
import {
  checkAtomConstraints,
  checkDatumSize,
  datumDifference,
  datumToJson,
  datumUnion,
  datumsEqual,
  defaultDatum,
  parseDatum,
  type Datum,
  type MapDatum,
  type SetDatum,
  type UuidNamer,
} from './datum.js';
import { columnTypeOf, evalCondition, parseCondition, pinnedUuid, rowValue, type Condition } from './condition.js';
import { indexKey, rowRefs, type Commit, type Database, type RowChange, type TableData } from './database.js';
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
}

export type TransactOutcome =
  | { readonly kind: 'done'; readonly results: unknown[]; readonly commit: Commit | null; readonly durable: boolean }
  /** A "wait" op is not yet satisfied: retry after the next commit, or fail at `deadline`. */
  | { readonly kind: 'blocked'; readonly deadline: number; readonly waitIndex: number };

const INT_MIN = -(2 ** 63);
const INT_MAX = 2 ** 63 - 1;

interface NamedUuid {
  uuid: string;
  defined: boolean;
}

function isObject(j: unknown): j is Record<string, unknown> {
  return typeof j === 'object' && j !== null && !Array.isArray(j);
}

function requireMember(op: Record<string, unknown>, name: string): unknown {
  const v = op[name];
  if (v === undefined) throw syntaxError(`Required '${name}' member is missing.`);
  return v;
}

export class Transaction implements UuidNamer {
  private readonly rows = new Map<string, TxnRow>();
  private readonly symbols = new Map<string, NamedUuid>();
  private comment: string[] = [];
  private durable = false;

  constructor(
    private readonly db: Database,
    private readonly opts: TransactOptions = {},
  ) {}

  // --- UuidNamer -------------------------------------------------------------------------

  resolve(name: string): string {
    let s = this.symbols.get(name);
    if (!s) this.symbols.set(name, (s = { uuid: randomUUID(), defined: false }));
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

  private table(j: unknown): TableData {
    if (typeof j !== 'string') throw syntaxError(`Type mismatch for member 'table'.`);
    const td = this.db.tables.get(j);
    if (!td) throw syntaxError(`No table named ${j}.`);
    return td;
  }

  private column(ts: TableSchema, name: string): ColumnSchema {
    const c = ts.columns.get(name);
    if (!c) throw new OvsdbError('unknown column', `No column ${name} in table ${ts.name}.`);
    return c;
  }

  private parseRow(ts: TableSchema, j: unknown, forUpdate: boolean): Map<ColumnSchema, Datum> {
    if (!isObject(j)) throw syntaxError(`"row" must be a JSON object`);
    const out = new Map<ColumnSchema, Datum>();
    for (const [name, vj] of Object.entries(j)) {
      if (name === '_uuid' || name === '_version') {
        throw new OvsdbError('constraint violation', `Cannot update column ${name} in table ${ts.name}.`);
      }
      const c = this.column(ts, name);
      if (forUpdate && !c.mutable) {
        throw new OvsdbError('constraint violation', `Cannot update immutable column ${name} in table ${ts.name}.`);
      }
      out.set(c, parseDatum(vj, c.type, this));
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
      for (const [name, s] of this.symbols) {
        if (!s.defined) throw syntaxError(`named-uuid "${name}" is used but no row was inserted with that uuid-name`);
      }
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
    if (!isObject(op)) throw syntaxError('operation must be a JSON object');
    const name = op['op'];
    switch (name) {
      case 'insert':
        return this.opInsert(op);
      case 'select':
        return this.opSelect(op);
      case 'update':
        return this.opUpdate(op);
      case 'mutate':
        return this.opMutate(op);
      case 'delete':
        return this.opDelete(op);
      case 'wait':
        return this.opWait(op);
      case 'commit': {
        const d = requireMember(op, 'durable');
        if (typeof d !== 'boolean') throw syntaxError(`Type mismatch for member 'durable'.`);
        if (d) this.durable = true;
        return {};
      }
      case 'abort':
        throw new OvsdbError('aborted', 'Aborted by request.');
      case 'comment': {
        const c = requireMember(op, 'comment');
        if (typeof c !== 'string') throw syntaxError(`Type mismatch for member 'comment'.`);
        this.comment.push(c);
        return {};
      }
      case 'assert': {
        const lock = requireMember(op, 'lock');
        if (typeof lock !== 'string') throw syntaxError(`Type mismatch for member 'lock'.`);
        if (!this.opts.ownsLock?.(lock)) throw new OvsdbError('not owner', `Asserted lock ${lock} not acquired.`);
        return {};
      }
      default:
        throw syntaxError(`No operation named ${typeof name === 'string' ? name : JSON.stringify(name)}.`);
    }
  }

  private opInsert(op: Record<string, unknown>): unknown {
    const td = this.table(requireMember(op, 'table'));
    const ts = td.schema;
    let uuid: string;
    const explicit = op['uuid'];
    const uuidName = op['uuid-name'];
    if (uuidName !== undefined && (typeof uuidName !== 'string' || !/^[_a-zA-Z][_a-zA-Z0-9]*$/.test(uuidName))) {
      throw syntaxError(`Type mismatch for member 'uuid-name'.`);
    }
    if (explicit !== undefined) {
      const parsed = parseDatum(explicit, { key: { type: 'uuid' }, min: 1, max: 1 });
      uuid = parsed[0] as string;
      if (this.rows.has(uuid) || this.db.rowTable.has(uuid)) {
        throw new OvsdbError(
          'duplicate uuid',
          `This UUID would duplicate a UUID already present within the table or deleted within the same transaction.`,
        );
      }
    } else {
      uuid = '';
    }
    if (typeof uuidName === 'string') {
      const s = this.symbols.get(uuidName);
      if (s?.defined) throw new OvsdbError('duplicate uuid-name', `This "uuid-name" appeared on an earlier "insert" operation.`);
      if (s) {
        if (explicit !== undefined && s.uuid !== uuid) {
          throw syntaxError(`uuid-name "${uuidName}" was referenced before its insert, which also names an explicit uuid`);
        }
        uuid = s.uuid;
        s.defined = true;
      } else {
        if (uuid === '') uuid = randomUUID();
        this.symbols.set(uuidName, { uuid, defined: true });
      }
    } else if (uuid === '') {
      uuid = randomUUID();
    }
    const given = this.parseRow(ts, op['row'] ?? {}, false);
    const values: Datum[] = ts.columnList.map((c) => given.get(c) ?? defaultDatum(c.type));
    this.rows.set(uuid, { table: td, old: null, new: { uuid, values } });
    return { uuid: ['uuid', uuid] };
  }

  private where(td: TableData, op: Record<string, unknown>): Condition {
    return parseCondition(td.schema, requireMember(op, 'where'), this);
  }

  private opSelect(op: Record<string, unknown>): unknown {
    const td = this.table(requireMember(op, 'table'));
    const cond = this.where(td, op);
    const cols = this.selectColumns(td.schema, op['columns']);
    const rows = this.matching(td, cond).map((r) => rowToJson(r, cols));
    return { rows };
  }

  private selectColumns(ts: TableSchema, j: unknown): ColumnRef[] {
    if (j === undefined) return allColumns(ts);
    if (!Array.isArray(j)) throw syntaxError(`Type mismatch for member 'columns'.`);
    return j.map((name) => {
      if (typeof name !== 'string') throw syntaxError(`Type mismatch for member 'columns'.`);
      const c = columnTypeOf(ts, name);
      if (!c) throw new OvsdbError('unknown column', `No column ${name} in table ${ts.name}.`);
      return { name, index: c.index, type: c.type };
    });
  }

  private opUpdate(op: Record<string, unknown>): unknown {
    const td = this.table(requireMember(op, 'table'));
    const cond = this.where(td, op);
    const row = this.parseRow(td.schema, requireMember(op, 'row'), true);
    const matched = this.matching(td, cond);
    for (const r of matched) {
      const tr = this.modifiable(td, r.uuid);
      for (const [c, d] of row) tr.new!.values[c.index] = d;
    }
    return { count: matched.length };
  }

  private opMutate(op: Record<string, unknown>): unknown {
    const td = this.table(requireMember(op, 'table'));
    const ts = td.schema;
    const cond = this.where(td, op);
    const mj = requireMember(op, 'mutations');
    if (!Array.isArray(mj)) throw syntaxError(`Type mismatch for member 'mutations'.`);
    const mutations = mj.map((m) => this.parseMutation(ts, m));
    const matched = this.matching(td, cond);
    for (const r of matched) {
      const tr = this.modifiable(td, r.uuid);
      const values = tr.new!.values;
      for (const m of mutations) values[m.column.index] = applyMutation(m, values[m.column.index]!);
    }
    return { count: matched.length };
  }

  private parseMutation(ts: TableSchema, j: unknown): Mutation {
    if (!Array.isArray(j) || j.length !== 3 || typeof j[0] !== 'string' || typeof j[1] !== 'string') {
      throw syntaxError(`Parse error in mutation ${JSON.stringify(j)}`);
    }
    const [name, mutator, argJ] = j as [string, string, unknown];
    if (name === '_uuid' || name === '_version') throw constraintViolation(`Cannot mutate column ${name} in table ${ts.name}.`);
    const column = this.column(ts, name);
    if (!column.mutable) throw constraintViolation(`Cannot mutate immutable column ${name} in table ${ts.name}.`);
    const t = column.type;
    switch (mutator) {
      case '+=':
      case '-=':
      case '*=':
      case '/=':
      case '%=': {
        const kt = t.key.type;
        if (t.value !== undefined || (kt !== 'integer' && kt !== 'real') || (mutator === '%=' && kt !== 'integer')) {
          throw constraintViolation(`Type mismatch: "${mutator}" mutator may not be applied to column ${name} of this type.`);
        }
        const arg = parseDatum(argJ, { key: { type: kt }, min: 1, max: 1 })[0] as number;
        return { column, mutator, arg: [arg] };
      }
      case 'insert':
      case 'delete': {
        const relaxed: ColumnType = { ...t, min: 0, max: Infinity };
        if (mutator === 'delete' && t.value !== undefined && !(Array.isArray(argJ) && argJ[0] === 'map')) {
          const keys = parseDatum(argJ, { key: t.key, min: 0, max: Infinity }, this, true);
          return { column, mutator, arg: keys, keySet: true };
        }
        return { column, mutator, arg: parseDatum(argJ, relaxed, this, true) };
      }
      default:
        throw syntaxError(`Unknown mutator "${mutator}".`);
    }
  }

  private opDelete(op: Record<string, unknown>): unknown {
    const td = this.table(requireMember(op, 'table'));
    const cond = this.where(td, op);
    const matched = this.matching(td, cond);
    for (const r of matched) this.deleteRow(td, r.uuid);
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

  private opWait(op: Record<string, unknown>): unknown {
    const td = this.table(requireMember(op, 'table'));
    const ts = td.schema;
    const cond = this.where(td, op);
    // ovsdb-server treats a missing "columns" as all columns.
    const cols = this.selectColumns(ts, op['columns']);
    const until = requireMember(op, 'until');
    if (until !== '==' && until !== '!=') throw syntaxError(`"until" must be "==" or "!="`);
    const rowsJ = requireMember(op, 'rows');
    if (!Array.isArray(rowsJ)) throw syntaxError(`Type mismatch for member 'rows'.`);
    const expected = rowsJ.map((rj) => {
      if (!isObject(rj)) throw syntaxError(`"rows" must be an array of objects`);
      return cols.map((c) => {
        const v = rj[c.name];
        if (v === undefined) throw syntaxError(`row is missing column ${c.name} named in "columns"`);
        return parseDatum(v, c.type, this);
      });
    });
    let timeout = Infinity;
    if (op['timeout'] !== undefined) {
      const t = op['timeout'];
      if (typeof t !== 'number' || t < 0) throw syntaxError(`Type mismatch for member 'timeout'.`);
      timeout = t;
    }
    const actual = this.matching(td, cond).map((r) => cols.map((c) => rowValue(r as Row, c.index)));
    const same = sameRowMultiset(actual, expected, cols);
    const satisfied = until === '==' ? same : !same;
    if (satisfied) return {};
    if (timeout === 0) throw new OvsdbError('timed out', `"where" clause test failed`);
    throw new BlockedWait(timeout);
  }

  // --- commit ----------------------------------------------------------------------------

  private commit(): Commit | null {
    this.collectGarbageAndCheckRefs();
    const changes = new Map<string, Map<string, RowChange>>();
    for (const [uuid, tr] of this.rows) {
      let newRow: Row | null = null;
      if (tr.new) {
        if (tr.old && tr.old.values.every((d, i) => datumsEqual(d, tr.new!.values[i]!, tr.table.schema.columnList[i]!.isMap))) {
          continue; // modified to identical values: not a change
        }
        newRow = { uuid, version: randomUUID(), values: tr.new.values };
      }
      let t = changes.get(tr.table.schema.name);
      if (!t) changes.set(tr.table.schema.name, (t = new Map()));
      t.set(uuid, { old: tr.old, new: newRow });
    }
    this.checkIndexesAndMaxRows(changes);
    if (changes.size === 0) return null;
    const commit: Commit = {
      changes,
      txnId: randomUUID(),
      durable: this.durable,
      ...(this.comment.length > 0 ? { comment: this.comment.join('\n') } : {}),
    };
    this.db.applyCommit(commit);
    return commit;
  }

  /**
   * Reference integrity at commit: new strong references must point at existing rows; a
   * deleted row may not keep strong references; non-root rows left unreferenced are deleted
   * (cascading); weak references to rows that are gone are removed from their referrers.
   */
  private collectGarbageAndCheckRefs(): void {
    const delta = new Map<string, number>();
    const strong: string[] = [];
    const weak: string[] = [];
    const bump = (t: string, d: number): void => {
      delta.set(t, (delta.get(t) ?? 0) + d);
    };
    const countRefs = (tr: TxnRow, sign: number, checkExists: boolean): void => {
      const ts = tr.table.schema;
      if (ts.refColumns.length === 0) return;
      const values = sign > 0 ? tr.new!.values : tr.old!.values;
      strong.length = 0;
      weak.length = 0;
      rowRefs(ts, values, strong, weak);
      for (const t of strong) {
        if (checkExists && !this.exists(t)) {
          const col = findRefColumn(ts, values, t);
          throw new OvsdbError(
            'referential integrity violation',
            `Table ${ts.name} column ${col} row ${tr.new!.uuid} references nonexistent row ${t} in table ${refTableOf(ts, col)}.`,
          );
        }
        bump(t, sign);
      }
    };
    // Strong reference deltas from every changed row; new strong refs must resolve.
    for (const tr of this.rows.values()) {
      if (tr.old) countRefs(tr, -1, false);
      if (tr.new) countRefs(tr, 1, true);
    }
    // Garbage-collect unreferenced non-root rows, cascading; reject deleting referenced rows.
    const work: string[] = [];
    for (const [uuid, tr] of this.rows) if (!tr.table.schema.isRoot && tr.new) work.push(uuid);
    for (const t of delta.keys()) work.push(t);
    const refsOf = (t: string): number => (this.db.strongRefs.get(t) ?? 0) + (delta.get(t) ?? 0);
    while (work.length > 0) {
      const uuid = work.pop()!;
      const td = this.exists(uuid);
      if (!td || td.schema.isRoot) continue;
      if (refsOf(uuid) > 0) continue;
      // Unreferenced non-root row: delete it and drop its outgoing strong refs.
      const tr = this.rows.get(uuid);
      const values = tr ? tr.new!.values : td.rows.get(uuid)!.values;
      this.deleteRow(td, uuid);
      strong.length = 0;
      weak.length = 0;
      rowRefs(td.schema, values, strong, weak);
      for (const t of strong) {
        bump(t, -1);
        work.push(t);
      }
    }
    for (const [uuid, tr] of this.rows) {
      if (tr.new === null && tr.old !== null) {
        const n = refsOf(uuid);
        if (n > 0) {
          throw new OvsdbError(
            'referential integrity violation',
            `cannot delete ${tr.table.schema.name} row ${uuid} because of ${n} remaining reference(s)`,
          );
        }
      }
    }
    this.removeDanglingWeakRefs();
  }

  private removeDanglingWeakRefs(): void {
    // Rows that may hold dangling weak refs: changed rows of this txn, and committed referrers of deleted rows.
    const suspects = new Set<string>();
    for (const [uuid, tr] of this.rows) {
      if (tr.new && tr.table.schema.refColumns.length > 0) suspects.add(uuid);
      if (!tr.new) for (const ref of this.db.weakReferrers.get(uuid) ?? []) suspects.add(ref);
    }
    for (const uuid of suspects) {
      const td = this.exists(uuid);
      if (!td) continue;
      const ts = td.schema;
      const cur = this.current(td, uuid)!;
      let tr: TxnRow | undefined;
      for (const c of ts.refColumns) {
        const d = cur.values[c.index]!;
        const kWeak = c.type.key.refType === 'weak';
        const vWeak = c.type.value?.refType === 'weak';
        if (!kWeak && !vWeak) continue;
        let kept: Datum;
        if (c.type.value === undefined) {
          kept = (d as SetDatum).filter((a) => this.exists(a as string) !== undefined);
        } else {
          kept = (d as MapDatum).filter(
            (p) => (!kWeak || this.exists(p[0] as string) !== undefined) && (!vWeak || this.exists(p[1] as string) !== undefined),
          );
        }
        if (kept.length === d.length) continue;
        if (kept.length < c.type.min) {
          throw constraintViolation(
            `Deletion of ${d.length - kept.length} weak reference(s) to deleted (or never-existing) rows from column "${c.name}" in "${ts.name}" row ${uuid} caused this column to become empty, but constraints on this column disallow an empty column.`,
          );
        }
        tr ??= this.modifiable(td, uuid);
        tr.new!.values[c.index] = kept;
      }
    }
  }

  private checkIndexesAndMaxRows(changes: Map<string, Map<string, RowChange>>): void {
    for (const [tname, rows] of changes) {
      const td = this.db.table(tname);
      const ts = td.schema;
      if (ts.maxRows !== undefined) {
        let n = td.rows.size;
        for (const ch of rows.values()) n += (ch.new ? 1 : 0) - (ch.old ? 1 : 0);
        if (n > ts.maxRows) {
          throw constraintViolation(`Transaction causes "${ts.name}" table to contain ${n} rows, greater than the schema-defined limit of ${ts.maxRows} row(s).`);
        }
      }
      ts.indexes.forEach((ix, i) => {
        const committed = td.indexes[i]!;
        const seen = new Map<string, string>();
        for (const [uuid, ch] of rows) {
          if (!ch.new) continue;
          const k = indexKey(ch.new.values, ix);
          const inTxn = seen.get(k);
          const before = committed.get(k);
          const holder = inTxn ?? (before !== undefined && before !== uuid && !rows.has(before) ? before : undefined);
          if (holder !== undefined) {
            const cols = ix.map((c) => `"${c.name}"`).join(', ');
            const vals = ix.map((c) => JSON.stringify(datumToJson(ch.new!.values[c.index]!, c.type))).join(', ');
            const first = inTxn !== undefined ? 'was inserted or modified by this transaction' : 'existed in the database before this transaction and was not modified by the transaction';
            throw constraintViolation(
              `Transaction causes multiple rows in "${ts.name}" table to have identical values (${vals}) for index on column${ix.length > 1 ? 's' : ''} ${cols}.  First row, with UUID ${holder}, ${first}.  Second row, with UUID ${uuid}, was inserted or modified by this transaction.`,
            );
          }
          seen.set(k, uuid);
        }
      });
    }
  }
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

function sameRowMultiset(actual: Datum[][], expected: Datum[][], cols: readonly ColumnRef[]): boolean {
  if (actual.length !== expected.length) return false;
  const used = new Array<boolean>(expected.length).fill(false);
  outer: for (const a of actual) {
    for (let i = 0; i < expected.length; i++) {
      if (used[i]) continue;
      if (cols.every((c, k) => datumsEqual(a[k]!, expected[i]![k]!, c.type.value !== undefined))) {
        used[i] = true;
        continue outer;
      }
    }
    return false;
  }
  return true;
}

function findRefColumn(ts: TableSchema, values: readonly Datum[], target: string): string {
  for (const c of ts.refColumns) {
    const d = values[c.index]!;
    const hit = c.type.value === undefined ? (d as SetDatum).includes(target) : (d as MapDatum).some((p) => p[0] === target || p[1] === target);
    if (hit) return c.name;
  }
  return '?';
}

function refTableOf(ts: TableSchema, col: string): string {
  const c = ts.columns.get(col);
  return c?.type.key.refTable ?? c?.type.value?.refTable ?? '?';
}

interface Mutation {
  readonly column: ColumnSchema;
  readonly mutator: '+=' | '-=' | '*=' | '/=' | '%=' | 'insert' | 'delete';
  readonly arg: Datum;
  readonly keySet?: boolean;
}

function arith(mutator: Mutation['mutator'], a: number, b: number, integer: boolean): number {
  let r: number;
  switch (mutator) {
    case '+=':
      r = a + b;
      break;
    case '-=':
      r = a - b;
      break;
    case '*=':
      r = a * b;
      break;
    case '/=':
      if (b === 0) throw new OvsdbError('domain error', 'Division by zero.');
      r = integer ? Math.trunc(a / b) : a / b;
      break;
    case '%=':
      if (b === 0) throw new OvsdbError('domain error', 'Division by zero.');
      r = a % b;
      break;
    default:
      throw new Error('not arithmetic');
  }
  if (integer ? r < INT_MIN || r > INT_MAX : !Number.isFinite(r)) {
    throw new OvsdbError('range error', `Result of "${mutator}" operation is out of range.`);
  }
  return r;
}

function applyMutation(m: Mutation, d: Datum): Datum {
  const t = m.column.type;
  let out: Datum;
  switch (m.mutator) {
    case 'insert':
      out = datumUnion(d, m.arg, m.column.isMap);
      break;
    case 'delete':
      out = datumDifference(d, m.arg, m.column.isMap, m.keySet === true);
      break;
    default: {
      const b = m.arg[0] as number;
      const integer = t.key.type === 'integer';
      const atoms: Atom[] = (d as SetDatum).map((a) => arith(m.mutator, a as number, b, integer));
      for (const a of atoms) checkAtomConstraints(a, t.key);
      atoms.sort(compareAtoms);
      for (let i = 1; i < atoms.length; i++) {
        if (atoms[i] === atoms[i - 1]) throw constraintViolation(`Result of "${m.mutator}" operation contains duplicates.`);
      }
      out = atoms;
    }
  }
  checkDatumSize(out, t);
  return out;
}

function errorJson(e: unknown, opIndex?: number, nOps?: number, op?: unknown): Record<string, unknown> {
  if (e instanceof OvsdbError) {
    const o: Record<string, unknown> = { error: e.tag };
    if (e.details !== undefined) {
      o['details'] = e.tag === 'syntax error' && opIndex !== undefined ? `Parsing ovsdb operation ${opIndex + 1} of ${nOps} failed: ${e.details}` : e.details;
    }
    if (e.tag === 'syntax error' && op !== undefined) o['syntax'] = JSON.stringify(op);
    return o;
  }
  return { error: 'unknown error', details: e instanceof Error ? e.message : String(e) };
}

