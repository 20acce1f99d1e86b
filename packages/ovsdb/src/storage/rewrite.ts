/**
 * Replacing a database file wholesale with another database's contents (schema conversion):
 * written to `path.tmp`, synced, then renamed over `path`, so a crash leaves either file whole.
 */
import { rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomUuid } from '../uuid.js';
import type { Commit, Database, RowChange } from '../database.js';
import { createDatabaseFile, openDatabaseFile, schemaRecordJson } from './open.js';
import { syncDirectory } from './log.js';

/** Every row of `db` as one inserting commit. */
export function snapshotCommit(db: Database): Commit {
  const changes = new Map<string, Map<string, RowChange>>();
  for (const [name, td] of db.tables) {
    if (td.rows.size === 0) continue;
    const rows = new Map<string, RowChange>();
    for (const [uuid, row] of td.rows) rows.set(uuid, { old: null, new: row });
    changes.set(name, rows);
  }
  return { changes, txnId: randomUuid(), durable: true };
}

export async function writeDatabaseFile(path: string, db: Database): Promise<void> {
  const tmp = `${path}.tmp`;
  await rm(tmp, { force: true });
  await createDatabaseFile(tmp, schemaRecordJson(db.schema));
  const opened = await openDatabaseFile(tmp, { compaction: false });
  const commit = snapshotCommit(db);
  opened.db.applyCommit(commit);
  await opened.storage.write(commit);
  await opened.storage.close();
  await rename(tmp, path);
  await syncDirectory(dirname(path));
}
