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
import { datumToJson, defaultDatum, datumsEqual, type Datum } from '../datum.js';
import { evalCondition, parseCondition, type Condition } from '../condition.js';
import type { Commit, Database } from '../database.js';
import type { Row } from '../row.js';
import type { ColumnSchema, TableSchema } from '../schema.js';
import { datumDiff } from '../updates.js';

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

function parseSelect(j: unknown): SelectFlags {
  if (j === undefined) return ALL;
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw syntaxError(`"select" must be an object`);
  const o = j as Record<string, unknown>;
  const flag = (k: string): boolean => {
    const v = o[k];
    if (v === undefined) return true;
    if (typeof v !== 'boolean') throw syntaxError(`"select.${k}" must be a boolean`);
    return v;
  };
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
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw syntaxError(`monitor request for ${ts.name} must be an object`);
    const o = r as Record<string, unknown>;
    const cj = o['columns'];
    if (cj === undefined) {
      for (const c of ts.columnList) cols.set(c.name, c);
    } else {
      if (!Array.isArray(cj)) throw syntaxError(`"columns" must be an array`);
      for (const name of cj) {
        const c = typeof name === 'string' ? ts.columns.get(name) : undefined;
        if (!c) {
          if (name === '_uuid' || name === '_version') continue;
          throw new OvsdbError('syntax error', `${ts.name} table has no column ${JSON.stringify(name)}`);
        }
        cols.set(c.name, c);
      }
    }
    const s = parseSelect(o['select']);
    select = select
      ? { initial: select.initial || s.initial, insert: select.insert || s.insert, delete: select.delete || s.delete, modify: select.modify || s.modify }
      : s;
    if (o['where'] !== undefined) {
      if (version === 1) throw syntaxError(`"where" is not allowed in a "monitor" request; use monitor_cond`);
      whereJson = o['where'];
    }
  }
  const columns = [...cols.values()].sort((a, b) => a.index - b.index);
  const where: Condition = whereJson === undefined ? { kind: 'const', value: true } : parseCondition(ts, whereJson);
  return { table: ts, columns, select: select!, where, whereJson };
}

export function parseMonitorRequests(db: Database, j: unknown, version: UpdateVersion): Map<string, TableMonitor> {
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw syntaxError('monitor requests must be an object');
  const out = new Map<string, TableMonitor>();
  for (const [tname, req] of Object.entries(j as Record<string, unknown>)) {
    const td = db.tables.get(tname);
    if (!td) throw new OvsdbError('syntax error', `no table named ${tname}`);
    out.set(tname, parseTableMonitor(td.schema, req, version));
  }
  return out;
}

function rowJson(values: readonly Datum[], columns: readonly ColumnSchema[], skipDefaults: boolean): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const c of columns) {
    const d = values[c.index]!;
    if (skipDefaults && isDefault(d, c)) continue;
    o[c.name] = datumToJson(d, c.type);
  }
  return o;
}

function isDefault(d: Datum, c: ColumnSchema): boolean {
  if (c.type.min === 0) return d.length === 0;
  return datumsEqual(d, defaultDatum(c.type), c.isMap);
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
      rows[uuid] = version === 1 ? { new: rowJson(row.values, tm.columns, false) } : { initial: rowJson(row.values, tm.columns, true) };
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
    return version === 1 ? { new: rowJson(newRow!.values, tm.columns, false) } : { insert: rowJson(newRow!.values, tm.columns, true) };
  }
  if (oldIn && !newIn) {
    if (!tm.select.delete) return undefined;
    return version === 1 ? { old: rowJson(oldRow!.values, tm.columns, false) } : { delete: null };
  }
  if (!oldIn) return undefined;
  if (!tm.select.modify) return undefined;
  const o = oldRow!.values;
  const n = newRow!.values;
  let changed: Record<string, unknown> | undefined;
  for (const c of tm.columns) {
    const od = o[c.index]!;
    const nd = n[c.index]!;
    if (od === nd || datumsEqual(od, nd, c.isMap)) continue;
    (changed ??= {})[c.name] = datumToJson(version === 1 ? od : datumDiff(od, nd, c.type), c.type);
  }
  if (!changed) return undefined;
  return version === 1 ? { new: rowJson(n, tm.columns, false), old: changed } : { modify: changed };
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
