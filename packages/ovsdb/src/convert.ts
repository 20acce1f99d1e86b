/**
 * Schema conversion (ovsdb-server's "convert" method, `ovsdb-tool convert`): copies a
 * database's rows into a new schema. Tables and columns the new schema lacks are dropped,
 * new columns get their defaults, and every kept value is re-checked against its new type,
 * so a conversion either yields a valid database or fails with the first value that does not fit.
 */
import { randomUuid } from './uuid.js';
import { OvsdbError } from './error.js';
import { datumToJson, defaultDatum, parseDatum, type Datum } from './datum.js';
import { Database, type RowChange } from './database.js';
import type { Row } from './row.js';
import type { DatabaseSchema } from './schema.js';

export function convertDatabase(old: Database, schema: DatabaseSchema): Database {
  if (schema.name !== old.schema.name) {
    throw new OvsdbError('syntax error', `new schema name (${schema.name}) does not match database name (${old.schema.name})`);
  }
  const db = new Database(schema);
  const changes = new Map<string, Map<string, RowChange>>();
  const existing = new Set<string>();
  for (const ts of schema.tables.values()) {
    const src = old.tables.get(ts.name);
    if (!src) continue;
    for (const uuid of src.rows.keys()) existing.add(uuid);
  }
  for (const ts of schema.tables.values()) {
    const src = old.tables.get(ts.name);
    if (!src || src.rows.size === 0) continue;
    const oldCols = src.schema.columns;
    const rows = new Map<string, RowChange>();
    for (const [uuid, row] of src.rows) {
      const values: Datum[] = ts.columnList.map((c) => {
        const oc = oldCols.get(c.name);
        if (!oc) return defaultDatum(c.type);
        const d = row.values[oc.index]!;
        try {
          return parseDatum(datumToJson(d, oc.type), c.type);
        } catch (e) {
          const why = e instanceof OvsdbError ? (e.details ?? e.tag) : String(e);
          throw new OvsdbError('constraint violation', `${ts.name} row ${uuid} column ${c.name}: value does not fit the new schema: ${why}`);
        }
      });
      const newRow: Row = { uuid, version: randomUuid(), values };
      rows.set(uuid, { old: null, new: newRow });
    }
    changes.set(ts.name, rows);
  }
  checkReferences(schema, changes, existing);
  db.applyCommit({ changes, txnId: randomUuid(), durable: false, comment: 'convert' });
  return db;
}

/** Strong references must still resolve; weak ones to vanished rows are dropped by rewriting the row. */
function checkReferences(schema: DatabaseSchema, changes: Map<string, Map<string, RowChange>>, existing: ReadonlySet<string>): void {
  for (const [tname, rows] of changes) {
    const ts = schema.tables.get(tname)!;
    for (const c of ts.refColumns) {
      const kRef = c.type.key.refTable !== undefined;
      const vRef = c.type.value?.refTable !== undefined;
      const weak = (c.type.key.refType ?? c.type.value?.refType) === 'weak';
      for (const [uuid, ch] of rows) {
        const values = ch.new!.values as Datum[];
        const d = values[c.index]!;
        const ok = (u: unknown): boolean => existing.has(u as string);
        const kept = c.isMap
          ? (d as readonly (readonly [unknown, unknown])[]).filter((p) => (!kRef || ok(p[0])) && (!vRef || ok(p[1])))
          : (d as readonly unknown[]).filter((a) => !kRef || ok(a));
        if (kept.length === d.length) continue;
        if (!weak || kept.length < c.type.min) {
          throw new OvsdbError('referential integrity violation', `${tname} row ${uuid} column ${c.name} refers to rows that the new schema does not keep`);
        }
        values[c.index] = kept as Datum;
      }
    }
  }
}
