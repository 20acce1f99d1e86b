/**
 * Compaction snapshots: the schema record plus one record that inserts every row, as
 * ovsdb-server writes when it compacts online. Serialized a slice at a time so a large
 * database never holds the event loop for long.
 */
import { createHash } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import type { Row } from '../row.js';
import type { TableSchema } from '../schema.js';
import { encodeRecord, recordHeader } from './record.js';
import { SNAPSHOT_COMMENT, insertedRowText } from './txn-record.js';

export interface TableRows {
  readonly schema: TableSchema;
  readonly rows: readonly Row[];
}

const CHUNK_CHARS = 1 << 20;

/**
 * Serializes a snapshot of `tables` (rows captured at one instant) into buffers ready to be
 * written in order: the schema record, then the header and body chunks of the data record.
 */
export async function serializeSnapshot(schemaText: string, tables: readonly TableRows[], date: number, sliceMs: number): Promise<Buffer[]> {
  const hash = createHash('sha1');
  const body: Buffer[] = [];
  let length = 0;
  let pending: string[] = [];
  let pendingChars = 0;
  const flush = (): void => {
    const b = Buffer.from(pending.join(''), 'utf8');
    hash.update(b);
    length += b.length;
    body.push(b);
    pending = [];
    pendingChars = 0;
  };
  const put = (s: string): void => {
    pending.push(s);
    pendingChars += s.length;
    if (pendingChars >= CHUNK_CHARS) flush();
  };
  let sliceStart = performance.now();
  put(`{"_date":${date},"_comment":${JSON.stringify(SNAPSHOT_COMMENT)},"_is_diff":true`);
  for (const t of tables) {
    if (t.rows.length === 0) continue;
    put(`,${JSON.stringify(t.schema.name)}:{`);
    for (let i = 0; i < t.rows.length; i++) {
      const r = t.rows[i]!;
      put(`${i === 0 ? '' : ','}"${r.uuid}":${insertedRowText(t.schema, r.values)}`);
      if ((i & 255) === 255 && performance.now() - sliceStart > sliceMs) {
        await yieldToLoop();
        sliceStart = performance.now();
      }
    }
    put('}');
  }
  put('}\n');
  flush();
  return [encodeRecord(schemaText), recordHeader(length, hash.digest('hex')), ...body];
}
