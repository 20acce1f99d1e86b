/**
 * Creating, loading and opening standalone database files: the schema record, replay of
 * every transaction record, and recovery from a damaged tail.
 */
import { open, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Database } from '../database.js';
import { OvsdbError } from '../error.js';
import { parseSchema, schemaToJson, type DatabaseSchema } from '../schema.js';
import { RecordReader, encodeRecord } from './record.js';
import { recordToCommit } from './txn-record.js';
import { syncDirectory } from './log.js';
import { FileStorage, type FileStorageOptions } from './file-storage.js';

/**
 * The schema as a file's first record holds it: ovsdb-tool's normalized form, which omits
 * "isRoot" altogether when the source schema never mentioned it.
 */
export function schemaRecordJson(schema: DatabaseSchema): Record<string, unknown> {
  const j = schemaToJson(schema);
  if (!schema.explicitRoots) {
    for (const t of Object.values(j['tables'] as Record<string, Record<string, unknown>>)) delete t['isRoot'];
  }
  return j;
}

/** Like `ovsdb-tool create`: writes a new file holding only the schema; fails if `path` exists. */
export async function createDatabaseFile(path: string, schema: string | object): Promise<DatabaseSchema> {
  let json: unknown = schema;
  if (typeof schema === 'string') {
    try {
      json = JSON.parse(schema);
    } catch (e) {
      throw new OvsdbError('syntax error', `schema is not valid JSON: ${(e as Error).message}`);
    }
  }
  const parsed = parseSchema(json);
  const fh = await open(path, 'wx');
  try {
    await fh.writeFile(encodeRecord(JSON.stringify(schemaRecordJson(parsed))));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await syncDirectory(dirname(path));
  return parsed;
}

/** Where a damaged tail starts and what is wrong with it. */
export interface Damage {
  readonly offset: number;
  readonly reason: string;
}

export interface LoadedFile {
  readonly db: Database;
  /** The normalized schema JSON text that compaction writes as the first record. */
  readonly schemaText: string;
  readonly fileSize: number;
  /** End of the last good record. */
  readonly goodEnd: number;
  /** End of the first transaction record (the snapshot, after a compaction). */
  readonly baseEnd: number;
  readonly records: number;
  readonly damage: Damage | null;
}

async function replay(fh: FileHandle, path: string): Promise<LoadedFile> {
  const fileSize = (await fh.stat()).size;
  const reader = new RecordReader(fh, fileSize);
  const first = await reader.next();
  if (first.kind !== 'record') {
    throw new OvsdbError('I/O error', `${path}: ${first.kind === 'eof' ? 'database file contains no schema' : first.reason}`);
  }
  let schema: DatabaseSchema;
  try {
    schema = parseSchema(first.json);
  } catch (e) {
    throw new OvsdbError('invalid schema', `failed to parse "${path}" as ovsdb schema: ${(e as Error).message}`);
  }
  const schemaText = JSON.stringify(schemaRecordJson(schema));
  const db = new Database(schema);
  let records = 0;
  let baseEnd = reader.offset;
  let goodEnd = reader.offset;
  let damage: Damage | null = null;
  for (;;) {
    const r = await reader.next();
    if (r.kind === 'eof') break;
    if (r.kind === 'bad') {
      damage = { offset: r.start, reason: r.reason };
      break;
    }
    try {
      db.applyCommit(recordToCommit(db, r.json));
    } catch (e) {
      damage = { offset: r.start, reason: `record does not apply: ${(e as Error).message}` };
      break;
    }
    goodEnd = r.end;
    if (++records === 1) baseEnd = r.end;
  }
  return { db, schemaText, fileSize, goodEnd, baseEnd, records, damage };
}

/** Reads a database file without changing it (for tools); reports a damaged tail in `damage`. */
export async function loadDatabaseFile(path: string): Promise<LoadedFile> {
  const fh = await open(path, 'r');
  try {
    return await replay(fh, path);
  } finally {
    await fh.close();
  }
}

export interface OpenedDatabase {
  readonly db: Database;
  readonly storage: FileStorage;
  /** What recovery did, e.g. a truncated torn tail; empty for a clean file. */
  readonly warnings: string[];
}

/**
 * Opens a database file for serving: replays it into a fresh Database and returns a
 * storage that appends to it. A damaged tail (torn write, corruption, a record that does not
 * apply) is cut off at the last good record, as ovsdb-server does before its first write.
 * If the damage looks like more than one torn record, the cut bytes are kept in a side file.
 */
export async function openDatabaseFile(path: string, options: FileStorageOptions = {}): Promise<OpenedDatabase> {
  const fh = await open(path, 'r+');
  try {
    const f = await replay(fh, path);
    const warnings: string[] = [];
    if (f.damage) {
      const cut = f.fileSize - f.goodEnd;
      let msg = `${path}: ${f.damage.reason} at offset ${f.damage.offset}; truncated ${cut} bytes after the last good record`;
      const tail = Buffer.alloc(cut);
      await fh.read(tail, 0, cut, f.goodEnd);
      // A torn write leaves one partial record; another header further on means more was lost.
      if (tail.indexOf('OVSDB JSON ', 1) >= 0) {
        const side = `${path}.damaged-${Date.now()}`;
        await writeFile(side, tail);
        msg += ` (saved to ${side})`;
      }
      await fh.truncate(f.goodEnd);
      await fh.sync();
      warnings.push(msg);
    }
    const storage = new FileStorage(path, fh, f.db, f.schemaText, { size: f.goodEnd, baseSize: f.baseEnd, records: f.records }, options);
    return { db: f.db, storage, warnings };
  } catch (e) {
    await fh.close();
    throw e;
  }
}
