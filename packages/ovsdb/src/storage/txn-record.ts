/**
 * Transaction records: a Commit to the JSON object ovsdb-server appends to a standalone
 * database file, and back.
 *
 * Writing follows ovsdb-server 3.1: a deleted row is `null`; an inserted row lists its
 * non-default persistent columns; a modified row lists its changed persistent columns as
 * diffs (see diff.ts) under `"_is_diff": true`. Ephemeral columns are never stored, and a
 * commit that changes nothing persistent produces no record.
 *
 * Reading accepts diff records and the older full-value records. It mirrors a quirk of
 * OVS's reader: a diff for a column whose current value is the column default replaces the
 * value instead of being applied. So when an old value is the default we write the new value
 * whole, which both readers then take as-is. OVS 3.1's reader also size-checks diffs against
 * the column's max, so a record whose diff would exceed it is written with full values.
 */
import { randomUUID } from 'node:crypto';
import { UUID_RE, checkDatumSize, datumToJson, datumsEqual, defaultDatum, parseDatum, type Datum } from '../datum.js';
import type { ChangeSet, Commit, Database, RowChange } from '../database.js';
import type { Row } from '../row.js';
import type { ColumnType, DatabaseSchema, TableSchema } from '../schema.js';
import { applyDatumDiff, datumDiff, isComposite, isDefaultDatum } from '../updates.js';

export const SNAPSHOT_COMMENT = 'compacting database online';

const defaultsCache = new WeakMap<TableSchema, readonly Datum[]>();

/** A table's default row values, shared: datums are immutable. */
export function defaultValues(ts: TableSchema): readonly Datum[] {
  let d = defaultsCache.get(ts);
  if (!d) defaultsCache.set(ts, (d = ts.columnList.map((c) => defaultDatum(c.type))));
  return d;
}

/** The JSON object of an inserted row: its persistent columns that differ from the default. */
export function insertedRowJson(ts: TableSchema, values: readonly Datum[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const c of ts.columnList) {
    const v = values[c.index]!;
    if (!c.ephemeral && !isDefaultDatum(v, c.type)) o[c.name] = datumToJson(v, c.type);
  }
  return o;
}

interface Update {
  readonly out: Record<string, unknown>;
  readonly uuid: string;
  readonly ts: TableSchema;
  readonly old: Row;
  readonly new: Row;
}

/** The record text for a commit, or null when it changes no persistent column. */
export function commitToRecordText(schema: DatabaseSchema, commit: Commit, date: number): string | null {
  const record: Record<string, unknown> = { _date: date };
  const updates: Update[] = [];
  let any = false;
  for (const [tname, rows] of commit.changes) {
    const ts = schema.tables.get(tname);
    if (!ts) throw new Error(`commit changes unknown table ${tname}`);
    const out: Record<string, unknown> = {};
    let tableAny = false;
    for (const [uuid, ch] of rows) {
      if (!ch.new) {
        if (!ch.old) continue;
        out[uuid] = null;
        tableAny = true;
      } else if (!ch.old) {
        out[uuid] = insertedRowJson(ts, ch.new.values);
        tableAny = true;
      } else {
        updates.push({ out, uuid, ts, old: ch.old, new: ch.new });
      }
    }
    if (tableAny) any = true;
    record[tname] = out;
  }
  // Decide the record's mode before encoding any update.
  let asDiff = true;
  for (const u of updates) {
    for (const c of u.ts.columnList) {
      if (!isComposite(c.type) || c.type.max === Infinity || c.ephemeral) continue;
      const o = u.old.values[c.index]!;
      const n = u.new.values[c.index]!;
      if (!isDefaultDatum(o, c.type) && datumDiff(o, n, c.type).length > c.type.max) asDiff = false;
    }
  }
  for (const u of updates) {
    let row: Record<string, unknown> | null = null;
    for (const c of u.ts.columnList) {
      if (c.ephemeral) continue;
      const o = u.old.values[c.index]!;
      const n = u.new.values[c.index]!;
      if (o === n || datumsEqual(o, n, c.isMap)) continue;
      const d = asDiff && !isDefaultDatum(o, c.type) ? datumDiff(o, n, c.type) : n;
      (row ??= {})[c.name] = datumToJson(d, c.type);
    }
    if (row) {
      u.out[u.uuid] = row;
      any = true;
    }
  }
  if (!any) return null;
  for (const [k, v] of Object.entries(record)) if (k !== '_date' && Object.keys(v as object).length === 0) delete record[k];
  if (commit.comment !== undefined) record['_comment'] = commit.comment;
  if (asDiff) record['_is_diff'] = true;
  return JSON.stringify(record);
}

function applyDiff(cur: Datum, dj: unknown, t: ColumnType): Datum {
  const next = applyDatumDiff(cur, parseDatum(dj, t, undefined, true), t);
  checkDatumSize(next, t);
  return next;
}

function isObject(j: unknown): j is Record<string, unknown> {
  return typeof j === 'object' && j !== null && !Array.isArray(j);
}

/**
 * Turns a parsed transaction record into a Commit against `db`'s current contents, without
 * changing `db`. Throws (with ovsdb-server's wording where it has one) if the record does
 * not apply, for example when it deletes a row that does not exist.
 */
export function recordToCommit(db: Database, j: unknown): Commit {
  if (!isObject(j)) throw new Error('transaction record is not a JSON object');
  const isDiff = j['_is_diff'] === true;
  const changes = new Map<string, Map<string, RowChange>>();
  let comment: string | undefined;
  for (const [key, tj] of Object.entries(j)) {
    if (key === '_date' && typeof tj === 'number' && Number.isInteger(tj)) continue;
    if (key === '_is_diff' && typeof tj === 'boolean') continue;
    if (key === '_comment') {
      if (typeof tj === 'string') comment = tj;
      continue;
    }
    const td = db.tables.get(key);
    if (!td) throw new Error(`No table named ${key}.`);
    if (!isObject(tj)) throw new Error(`table ${key}: object expected`);
    const ts = td.schema;
    const rows = new Map<string, RowChange>();
    for (const [uuidText, rj] of Object.entries(tj)) {
      if (!UUID_RE.test(uuidText)) throw new Error(`"${uuidText}" is not a valid UUID`);
      const uuid = uuidText.toLowerCase();
      const old = td.rows.get(uuid) ?? null;
      if (rj === null) {
        if (!old) throw new Error(`transaction deletes row ${uuid} that does not exist`);
        rows.set(uuid, { old, new: null });
        continue;
      }
      if (!isObject(rj)) throw new Error(`row ${uuid}: row must be JSON object`);
      const values = (old ? old.values : defaultValues(ts)).slice();
      for (const [cname, dj] of Object.entries(rj)) {
        const c = ts.columns.get(cname);
        if (!c) throw new Error(`No column ${cname} in table ${key}.`);
        const cur = values[c.index]!;
        if (isDiff && isComposite(c.type) && !isDefaultDatum(cur, c.type)) {
          values[c.index] = applyDiff(cur, dj, c.type);
        } else if (isDiff && isComposite(c.type)) {
          // OVS's reader replaces a default value with the diff instead of applying it; do the
          // same, unless that cannot be valid (a diff with more elements than the column holds),
          // where only applying it gives the value the writing server had.
          try {
            values[c.index] = parseDatum(dj, c.type);
          } catch {
            values[c.index] = applyDiff(cur, dj, c.type);
          }
        } else {
          values[c.index] = parseDatum(dj, c.type);
        }
      }
      rows.set(uuid, { old, new: { uuid, version: randomUUID(), values } });
    }
    if (rows.size > 0) changes.set(key, rows);
  }
  return { changes: changes as ChangeSet, txnId: randomUUID(), durable: false, ...(comment !== undefined ? { comment } : {}) };
}
