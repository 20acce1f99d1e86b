/**
 * Monitors (RFC 7047 §4.1.5 "monitor", and ovsdb-server's monitor_cond / monitor_cond_since):
 * which tables, columns, row events and conditions a client watches, and the encoding of
 * initial contents and per-commit changes as "update" (v1), "update2" and "update3" table
 * updates.
 *
 * Monitors whose request is identical (same database, version, tables, columns, events and
 * conditions) share a MonitorGroup, which encodes each commit's update once; every member
 * gets the same text with only its monitor id spliced in.
 */
import { OvsdbError, syntaxError } from '../error.js';
import { datumToJson, datumsEqual } from '../datum.js';
import { evalCondition, parseMonitorCondition, rowValue, type Condition } from '../condition.js';
import type { Commit, Database } from '../database.js';
import type { Row } from '../row.js';
import type { ColumnSchema, ColumnType, TableSchema } from '../schema.js';
import { datumDiff, isDefaultDatum } from '../updates.js';

export type UpdateVersion = 1 | 2 | 3;

export interface SelectFlags {
  readonly initial: boolean;
  readonly insert: boolean;
  readonly delete: boolean;
  readonly modify: boolean;
}

export interface TableMonitor {
  readonly table: TableSchema;
  readonly columns: readonly ColumnSchema[];
  readonly select: SelectFlags;
  readonly where: Condition;
  /** The request's conditions as given, for grouping and for monitor_cond_change. */
  readonly whereJson: unknown;
}

const ALL: SelectFlags = { initial: true, insert: true, delete: true, modify: true };

/**
 * A bad monitor request, reported as ovsdb-server does: a "syntax error" whose "syntax" member
 * is the offending piece of the request.
 */
export class MonitorRequestError extends OvsdbError {
  constructor(details: string, syntax?: unknown) {
    super('syntax error', details, syntax);
  }
}

const UUID_TYPE: ColumnType = { key: { type: 'uuid' }, min: 1, max: 1 };
/** `_uuid` and `_version` may be monitored like columns; their values come from the row itself. */
const PSEUDO_COLUMNS: ReadonlyMap<string, ColumnSchema> = new Map([
  ['_uuid', { name: '_uuid', type: UUID_TYPE, ephemeral: false, mutable: false, index: -1, isMap: false }],
  ['_version', { name: '_version', type: UUID_TYPE, ephemeral: false, mutable: false, index: -2, isMap: false }],
]);

function isObject(j: unknown): j is Record<string, unknown> {
  return typeof j === 'object' && j !== null && !Array.isArray(j);
}

/** ovsdb-server's object parser checks, in its order: member types first, then unknown members. */
function checkMembers(what: string, o: Record<string, unknown>, types: Record<string, 'array' | 'object' | 'boolean'>): void {
  for (const [k, type] of Object.entries(types)) {
    const v = o[k];
    if (v === undefined) continue;
    const ok = type === 'array' ? Array.isArray(v) : type === 'object' ? isObject(v) : typeof v === 'boolean';
    if (!ok) throw new MonitorRequestError(`Parsing ${what} failed: Type mismatch for member '${k}'.`, o);
  }
  for (const k of Object.keys(o)) {
    if (!(k in types)) throw new MonitorRequestError(`Parsing ${what} failed: Member '${k}' is present but not allowed here.`, o);
  }
}

function parseSelect(ts: TableSchema, j: unknown): SelectFlags {
  if (j === undefined) return ALL;
  const o = j as Record<string, unknown>;
  checkMembers(`table ${ts.name} select`, o, { initial: 'boolean', insert: 'boolean', delete: 'boolean', modify: 'boolean' });
  const flag = (k: string): boolean => (o[k] as boolean | undefined) ?? true;
  return { initial: flag('initial'), insert: flag('insert'), delete: flag('delete'), modify: flag('modify') };
}

/** Parses one table's monitor request(s); several requests for a table are merged. */
export function parseTableMonitor(ts: TableSchema, j: unknown, version: UpdateVersion): TableMonitor {
  const reqs = Array.isArray(j) ? j : [j];
  if (reqs.length === 0) throw syntaxError(`empty monitor request for table ${ts.name}`);
  const cols = new Map<string, ColumnSchema>();
  let select: SelectFlags | undefined;
  let whereJson: unknown = undefined;
  for (const r of reqs) {
    if (!isObject(r)) throw new MonitorRequestError(`Parsing table ${ts.name} failed: Object expected.`, r);
    checkMembers(`table ${ts.name}`, r, version === 1 ? { columns: 'array', select: 'object' } : { where: 'array', columns: 'array', select: 'object' });
    const s = parseSelect(ts, r['select']);
    select = select
      ? { initial: select.initial || s.initial, insert: select.insert || s.insert, delete: select.delete || s.delete, modify: select.modify || s.modify }
      : s;
    const cj = r['columns'] as unknown[] | undefined;
    if (cj === undefined) {
      // All columns but _uuid (which every update carries as the row's key); _version included.
      for (const c of [PSEUDO_COLUMNS.get('_version')!, ...ts.columnList]) {
        if (cols.has(c.name)) throw new MonitorRequestError(`column ${c.name} mentioned more than once`);
        cols.set(c.name, c);
      }
    } else {
      for (const name of cj) {
        if (typeof name !== 'string') throw new MonitorRequestError('array of column names expected', cj);
        const c = ts.columns.get(name) ?? PSEUDO_COLUMNS.get(name);
        if (!c) throw new MonitorRequestError(`${name} is not a valid column name`, cj);
        if (cols.has(name)) throw new MonitorRequestError(`column ${name} mentioned more than once`, cj);
        cols.set(c.name, c);
      }
    }
    if (r['where'] !== undefined) whereJson = r['where'];
  }
  const columns = [...cols.values()].sort((a, b) => a.index - b.index);
  const where: Condition = whereJson === undefined ? { kind: 'const', value: true } : parseMonitorCondition(ts, whereJson);
  return { table: ts, columns, select: select!, where, whereJson };
}

export function parseMonitorRequests(db: Database, j: unknown, version: UpdateVersion): Map<string, TableMonitor> {
  if (!isObject(j)) throw new MonitorRequestError('monitor-requests must be object', j);
  const out = new Map<string, TableMonitor>();
  for (const [tname, req] of Object.entries(j as Record<string, unknown>)) {
    const td = db.tables.get(tname);
    if (!td) throw new OvsdbError('syntax error', `no table named ${tname}`);
    out.set(tname, parseTableMonitor(td.schema, req, version));
  }
  return out;
}

function rowJson(row: Row, columns: readonly ColumnSchema[], skipDefaults: boolean): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const c of columns) {
    const d = rowValue(row, c.index);
    if (skipDefaults && isDefaultDatum(d, c.type)) continue;
    o[c.name] = datumToJson(d, c.type);
  }
  return o;
}

/** Table updates for the rows a monitor sees initially. Returns undefined when empty. */
export function initialUpdate(db: Database, tables: ReadonlyMap<string, TableMonitor>, version: UpdateVersion): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [tname, tm] of tables) {
    if (!tm.select.initial) continue;
    const rows: Record<string, unknown> = {};
    let any = false;
    for (const [uuid, row] of db.table(tname).rows) {
      if (!evalCondition(tm.where, row)) continue;
      rows[uuid] = version === 1 ? { new: rowJson(row, tm.columns, false) } : { initial: rowJson(row, tm.columns, true) };
      any = true;
    }
    if (any) out[tname] = rows;
  }
  return out;
}

/** What one commit means to one monitor, or undefined if nothing. */
export function commitUpdate(commit: Commit, tables: ReadonlyMap<string, TableMonitor>, version: UpdateVersion): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  for (const [tname, changes] of commit.changes) {
    const tm = tables.get(tname);
    if (!tm) continue;
    let rows: Record<string, unknown> | undefined;
    for (const [uuid, ch] of changes) {
      const u = rowUpdate(tm, ch.old, ch.new, version);
      if (u === undefined) continue;
      (rows ??= {})[uuid] = u;
    }
    if (rows) (out ??= {})[tname] = rows;
  }
  return out;
}

function rowUpdate(tm: TableMonitor, oldRow: Row | null, newRow: Row | null, version: UpdateVersion): unknown {
  const oldIn = oldRow !== null && evalCondition(tm.where, oldRow);
  const newIn = newRow !== null && evalCondition(tm.where, newRow);
  if (!oldIn && newIn) {
    if (!tm.select.insert) return undefined;
    return version === 1 ? { new: rowJson(newRow!, tm.columns, false) } : { insert: rowJson(newRow!, tm.columns, true) };
  }
  if (oldIn && !newIn) {
    if (!tm.select.delete) return undefined;
    return version === 1 ? { old: rowJson(oldRow!, tm.columns, false) } : { delete: null };
  }
  if (!oldIn) return undefined;
  if (!tm.select.modify) return undefined;
  let changed: Record<string, unknown> | undefined;
  for (const c of tm.columns) {
    const od = rowValue(oldRow!, c.index);
    const nd = rowValue(newRow!, c.index);
    if (od === nd || datumsEqual(od, nd, c.isMap)) continue;
    (changed ??= {})[c.name] = datumToJson(version === 1 ? od : datumDiff(od, nd, c.type), c.type);
  }
  if (!changed) return undefined;
  return version === 1 ? { new: rowJson(newRow!, tm.columns, false), old: changed } : { modify: changed };
}

/** Key identifying monitors that can share encoded updates. */
export function groupKey(dbName: string, version: UpdateVersion, tables: ReadonlyMap<string, TableMonitor>): string {
  const parts: unknown[] = [dbName, version];
  for (const [tname, tm] of tables) {
    const s = tm.select;
    parts.push(tname, tm.columns.map((c) => c.name), [s.initial, s.insert, s.delete, s.modify], tm.whereJson ?? null);
  }
  return JSON.stringify(parts);
}
