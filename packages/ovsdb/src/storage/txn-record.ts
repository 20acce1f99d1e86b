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
import { randomUuid } from '../uuid.js';
import { UUID_RE, checkDatumSize, datumJsonText, datumToJson, datumsEqual, defaultDatum, parseDatum, type Datum } from '../datum.js';
import type { ChangeSet, Commit, Database, RowChange } from '../database.js';
import type { ColumnSchema, ColumnType, DatabaseSchema, TableSchema } from '../schema.js';
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

/** What writing a table's records needs, computed once per table schema. */
interface TableCodec {
  /** The table name as a JSON string. */
  readonly nameJson: string;
  /** Persistent columns, each with `"name":` ready to prepend. */
  readonly persistent: readonly { readonly c: ColumnSchema; readonly key: string }[];
  /** Persistent columns whose diffs OVS's reader size-checks (composite, bounded `max`). */
  readonly bounded: readonly ColumnSchema[];
}

const codecs = new WeakMap<TableSchema, TableCodec>();

function tableCodec(ts: TableSchema): TableCodec {
  let codec = codecs.get(ts);
  if (!codec) {
    const persistent = ts.columnList.filter((c) => !c.ephemeral);
    codec = {
      nameJson: JSON.stringify(ts.name),
      persistent: persistent.map((c) => ({ c, key: `${JSON.stringify(c.name)}:` })),
      bounded: persistent.filter((c) => isComposite(c.type) && c.type.max !== Infinity),
    };
    codecs.set(ts, codec);
  }
  return codec;
}

/** `JSON.stringify(insertedRowJson(ts, values))`, built as text. */
export function insertedRowText(ts: TableSchema, values: readonly Datum[]): string {
  let s = '';
  for (const { c, key } of tableCodec(ts).persistent) {
    const v = values[c.index]!;
    if (isDefaultDatum(v, c.type)) continue;
    s += `${s === '' ? '' : ','}${key}${datumJsonText(v, c.type)}`;
  }
  return `{${s}}`;
}

/** A modified row's changed persistent columns (as diffs when `asDiff`), or '' when none changed. */
function updatedRowText(codec: TableCodec, old: readonly Datum[], cur: readonly Datum[], asDiff: boolean): string {
  let s = '';
  for (const { c, key } of codec.persistent) {
    const o = old[c.index]!;
    const n = cur[c.index]!;
    if (o === n || datumsEqual(o, n, c.isMap)) continue;
    const d = asDiff && !isDefaultDatum(o, c.type) ? datumDiff(o, n, c.type) : n;
    s += `${s === '' ? '' : ','}${key}${datumJsonText(d, c.type)}`;
  }
  return s === '' ? '' : `{${s}}`;
}

/**
 * The record text for a commit, or null when it changes no persistent column. Built directly
 * as text: this runs once per committed transaction.
 */
export function commitToRecordText(schema: DatabaseSchema, commit: Commit, date: number): string | null {
  // Decide the record's mode before encoding any update: a diff larger than its column's
  // max would make OVS's reader fail, so then the whole record carries full values.
  let asDiff = true;
  for (const [tname, rows] of commit.changes) {
    const ts = schema.tables.get(tname);
    if (!ts) throw new Error(`commit changes unknown table ${tname}`);
    const bounded = tableCodec(ts).bounded;
    if (!asDiff || bounded.length === 0) continue;
    for (const ch of rows.values()) {
      if (!ch.old || !ch.new) continue;
      for (const c of bounded) {
        const o = ch.old.values[c.index]!;
        const n = ch.new.values[c.index]!;
        if (o !== n && !isDefaultDatum(o, c.type) && datumDiff(o, n, c.type).length > c.type.max) asDiff = false;
      }
    }
  }
  let body = '';
  for (const [tname, rows] of commit.changes) {
    const ts = schema.tables.get(tname)!;
    const codec = tableCodec(ts);
    let t = '';
    for (const [uuid, ch] of rows) {
      let r: string;
      if (!ch.new) {
        if (!ch.old) continue;
        r = 'null';
      } else if (!ch.old) {
        r = insertedRowText(ts, ch.new.values);
      } else {
        r = updatedRowText(codec, ch.old.values, ch.new.values, asDiff);
        if (r === '') continue;
      }
      t += `${t === "" ? "" : ","}"${uuid}":${r}`;
    }
    if (t !== '') body += `,${codec.nameJson}:{${t}}`;
  }
  if (body === '') return null;
  const comment = commit.comment !== undefined ? `,"_comment":${JSON.stringify(commit.comment)}` : '';
  return `{"_date":${JSON.stringify(date)}${body}${comment}${asDiff ? ',"_is_diff":true' : ''}}`;
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
      rows.set(uuid, { old, new: { uuid, version: randomUuid(), values } });
    }
    if (rows.size > 0) changes.set(key, rows);
  }
  return { changes: changes as ChangeSet, txnId: randomUuid(), durable: false, ...(comment !== undefined ? { comment } : {}) };
}
