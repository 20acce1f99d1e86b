/**
 * File I/O primitives for the log: positioned appends, syncs, and directory syncs that make
 * a create or rename durable.
 */
import { ftruncateSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/**
 * Writes `data` at `position` with blocking writes. Appends to the page cache take
 * microseconds, and a synchronous write (as ovsdb-server does) avoids a thread-pool round trip
 * per commit. On failure the file is cut back to `position` so no partial record remains.
 */
export function writeAllSync(fd: number, data: Buffer, position: number): void {
  let done = 0;
  try {
    while (done < data.length) done += writeSync(fd, data, done, data.length - done, position + done);
  } catch (e) {
    try {
      ftruncateSync(fd, position);
    } catch {
      // The write error is the one to report.
    }
    throw e;
  }
}

/** Writes buffers in order from `position` without blocking; returns the end offset. */
export async function writeAllAsync(fh: FileHandle, bufs: readonly Buffer[], position: number): Promise<number> {
  let pos = position;
  for (const b of bufs) {
    let done = 0;
    while (done < b.length) {
      const { bytesWritten } = await fh.write(b, done, b.length - done, pos + done);
      done += bytesWritten;
    }
    pos += b.length;
  }
  return pos;
}

/** Makes a directory entry change (create, rename) durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
