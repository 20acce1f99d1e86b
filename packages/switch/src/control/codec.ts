/**
 * The control socket's wire format: frames of a 4-byte big-endian length and a msgpack body.
 *
 * Values keep their JavaScript types across the socket:
 *  - bigint (cookies, masks, register and label values) goes as msgpack int64/uint64 when it
 *    fits and as msgpackr's bigint extension when it does not (128-bit labels, xxreg values);
 *    every 64-bit integer is decoded as a bigint, and ordinary numbers stay numbers (msgpackr
 *    writes non-32-bit numbers as float64, never int64), so a field's type never changes;
 *  - Uint32Array (flow keys, match values and masks) goes as extension type 0x4b ('K'): the
 *    length, then (index, word) pairs for the nonzero words, or every word when most are
 *    nonzero, so a dump of thousands of sparse matches stays small;
 *  - Uint8Array (frames) goes as msgpack bin and comes back as a Buffer (a Uint8Array).
 * Peers other than this module would need the same two extensions; the socket is local only.
 */
import { Packr, addExtension } from 'msgpackr';

/** Largest frame accepted (a dump of every flow of a big OVN deployment fits). */
export const MAX_FRAME = 256 * 1024 * 1024;
const U32_EXT = 0x4b;

function packWords(a: Uint32Array): Buffer {
  let nonzero = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) nonzero++;
  if (nonzero * 2 >= a.length) {
    const b = Buffer.allocUnsafe(5 + a.length * 4);
    b[0] = 0;
    b.writeUInt32BE(a.length, 1);
    for (let i = 0; i < a.length; i++) b.writeUInt32BE(a[i]!, 5 + i * 4);
    return b;
  }
  const b = Buffer.allocUnsafe(5 + nonzero * 8);
  b[0] = 1;
  b.writeUInt32BE(a.length, 1);
  let o = 5;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === 0) continue;
    b.writeUInt32BE(i, o);
    b.writeUInt32BE(a[i]!, o + 4);
    o += 8;
  }
  return b;
}

function unpackWords(b: Uint8Array): Uint32Array {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf.length < 5) throw new Error('bad Uint32Array extension');
  const len = buf.readUInt32BE(1);
  if (len > MAX_FRAME / 4) throw new Error('bad Uint32Array extension');
  const out = new Uint32Array(len);
  if (buf[0] === 0) {
    if (buf.length !== 5 + len * 4) throw new Error('bad Uint32Array extension');
    for (let i = 0; i < len; i++) out[i] = buf.readUInt32BE(5 + i * 4);
  } else {
    if ((buf.length - 5) % 8 !== 0) throw new Error('bad Uint32Array extension');
    for (let o = 5; o < buf.length; o += 8) {
      const i = buf.readUInt32BE(o);
      if (i >= len) throw new Error('bad Uint32Array extension');
      out[i] = buf.readUInt32BE(o + 4);
    }
  }
  return out;
}

addExtension({ Class: Uint32Array, type: U32_EXT, pack: packWords, unpack: unpackWords });

const packr = new Packr({ useRecords: false, useBigIntExtension: true, int64AsType: 'bigint', mapsAsObjects: true });

/** One message as a length-prefixed frame. */
export function encodeFrame(msg: unknown): Buffer {
  const body = packr.pack(msg);
  if (body.length > MAX_FRAME) throw new Error(`message of ${body.length} bytes exceeds the ${MAX_FRAME}-byte frame limit`);
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

export function decodeBody(body: Uint8Array): unknown {
  return packr.unpack(body);
}

/**
 * Splits a byte stream into frame bodies. A frame whose body is not msgpack is reported as an
 * error without losing the stream (the length prefix still says where the next frame starts);
 * a length beyond MAX_FRAME cannot be resynchronised and ends the stream.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private size = 0;

  /** Feeds bytes; calls `onMessage` per decoded frame or `onError` per undecodable one. False after a fatal error. */
  push(chunk: Buffer, onMessage: (m: unknown) => void, onError: (e: Error) => void): boolean {
    this.chunks.push(chunk);
    this.size += chunk.length;
    for (;;) {
      if (this.size < 4) return true;
      const head = this.peek(4);
      const len = head.readUInt32BE(0);
      if (len > MAX_FRAME) {
        onError(new Error(`frame of ${len} bytes exceeds the ${MAX_FRAME}-byte limit`));
        this.chunks = [];
        this.size = 0;
        return false;
      }
      if (this.size < 4 + len) return true;
      const frame = this.take(4 + len);
      let msg: unknown;
      try {
        msg = decodeBody(frame.subarray(4));
      } catch (e) {
        onError(new Error(`undecodable msgpack frame: ${e instanceof Error ? e.message : String(e)}`));
        continue;
      }
      onMessage(msg);
    }
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all;
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.size = rest.length;
    return out;
  }
}
