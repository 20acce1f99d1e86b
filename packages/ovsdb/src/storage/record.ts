/**
 * Record framing of OVSDB's standalone file format: each record is the header line
 * `OVSDB JSON <length> <sha1>\n` followed by <length> bytes of JSON text. As ovsdb-tool and
 * ovsdb-server write it, the body is the JSON text plus a newline, and both the length and the
 * SHA-1 cover that newline.
 */
import * as crypto from 'node:crypto';
import { constants as bufferConstants } from 'node:buffer';
import type { FileHandle } from 'node:fs/promises';

export const RECORD_MAGIC = 'OVSDB JSON';
/** Clustered (Raft) databases use this magic; they are a different format. */
export const CLUSTER_MAGIC = 'OVSDB CLUSTER';
const HEADER_RE = /^OVSDB JSON (\d{1,15}) ([0-9a-fA-F]{40})$/;
/** Longer than any valid header ("OVSDB JSON " + 15 digits + " " + 40 hex + "\n"). */
const MAX_HEADER = 80;

/** One-shot hashing (Node ≥ 20.12) avoids a Hash object per record; older Nodes use createHash. */
const oneShot = (crypto as { hash?: (algorithm: string, data: Buffer | string, encoding: 'hex') => string }).hash;

/** SHA-1 in lowercase hex; a string is hashed as its UTF-8 bytes. */
export function sha1Hex(data: Buffer | string): string {
  return oneShot ? oneShot('sha1', data, 'hex') : crypto.createHash('sha1').update(data).digest('hex');
}

export function recordHeader(length: number, sha1: string): Buffer {
  return Buffer.from(`${RECORD_MAGIC} ${length} ${sha1}\n`, 'latin1');
}

/** Frames one JSON text (without trailing newline) as a complete record. */
export function encodeRecord(jsonText: string): Buffer {
  return Buffer.from(recordText(jsonText), 'utf8');
}

/**
 * A complete record (header and body) as text, for writers that join several records into
 * one buffer: the header's length counts the body's UTF-8 bytes.
 */
export function recordText(jsonText: string): string {
  const body = jsonText + '\n';
  return `${RECORD_MAGIC} ${Buffer.byteLength(body, 'utf8')} ${sha1Hex(body)}\n${body}`;
}

export type ReadResult =
  | { readonly kind: 'record'; readonly start: number; readonly end: number; readonly json: unknown }
  | { readonly kind: 'bad'; readonly start: number; readonly reason: string }
  | { readonly kind: 'eof' };

/** Thrown for conditions that are not a damaged tail and must not cause truncation. */
export class UnsupportedFileError extends Error {
  override name = 'UnsupportedFileError';
}

/**
 * Reads records sequentially from an open file, a chunk at a time, so opening a large
 * database does not need the whole file in memory at once.
 */
export class RecordReader {
  private buf: Buffer = Buffer.alloc(0);
  /** File offset of buf[0]. */
  private bufStart = 0;
  private pos = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly size: number,
  ) {}

  /** Offset just past the last record returned. */
  get offset(): number {
    return this.pos;
  }

  private async fill(upTo: number): Promise<void> {
    const have = this.bufStart + this.buf.length;
    if (upTo <= have) return;
    const keep = this.buf.subarray(this.pos - this.bufStart);
    const want = Math.max(upTo - this.pos, 1 << 20);
    const chunk = Buffer.allocUnsafe(Math.min(want, this.size - this.pos) - keep.length);
    let got = 0;
    while (got < chunk.length) {
      const { bytesRead } = await this.fh.read(chunk, got, chunk.length - got, have + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    this.buf = Buffer.concat([keep, chunk.subarray(0, got)]);
    this.bufStart = this.pos;
  }

  async next(): Promise<ReadResult> {
    const start = this.pos;
    if (start >= this.size) return { kind: 'eof' };
    await this.fill(Math.min(start + MAX_HEADER, this.size));
    const avail = this.buf.subarray(start - this.bufStart);
    const nl = avail.indexOf(0x0a);
    if (nl < 0) {
      return { kind: 'bad', start, reason: avail.length < MAX_HEADER ? 'file ends inside a record header' : 'record header too long' };
    }
    const header = avail.subarray(0, nl).toString('latin1');
    if (start === 0 && header.startsWith(CLUSTER_MAGIC)) {
      throw new UnsupportedFileError('clustered (Raft) database files are not supported; only standalone files are');
    }
    const m = HEADER_RE.exec(header);
    if (!m) return { kind: 'bad', start, reason: `bad record header ${JSON.stringify(header.slice(0, 60))}` };
    const length = Number(m[1]);
    const bodyStart = start + nl + 1;
    const end = bodyStart + length;
    if (end > this.size) return { kind: 'bad', start, reason: `record of ${length} bytes extends past end of file` };
    if (length > bufferConstants.MAX_STRING_LENGTH) {
      // A valid record we cannot hold as a string: refuse rather than treat it as damage.
      throw new UnsupportedFileError(`record at offset ${start} is ${length} bytes, more than this runtime can parse`);
    }
    await this.fill(end);
    const body = this.buf.subarray(bodyStart - this.bufStart, end - this.bufStart);
    if (sha1Hex(body) !== m[2]!.toLowerCase()) return { kind: 'bad', start, reason: 'record SHA-1 mismatch' };
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (e) {
      return { kind: 'bad', start, reason: `record is not valid JSON (${(e as Error).message})` };
    }
    this.pos = end;
    return { kind: 'record', start, end, json };
  }
}
