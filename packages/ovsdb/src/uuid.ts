/**
 * Random (version 4) UUIDs as flat strings. `crypto.randomUUID()` builds its result by
 * concatenating two-character pieces, which V8 keeps as a tree of ~15 cons-string nodes until
 * the string is first hashed or compared; every row, row version and commit gets one, so that
 * tree is garbage the database creates per row. Here the 36 characters are written into a
 * scratch buffer and decoded once: one sequential string, no intermediate objects.
 */
import { randomFillSync } from 'node:crypto';

const POOL_UUIDS = 4096;
const pool = Buffer.alloc(16 * POOL_UUIDS);
let next = POOL_UUIDS;
const out = Buffer.alloc(36);
/** ASCII codes of the two hex digits of each byte value. */
const HEX = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  const hi = (i >> 4).toString(16).charCodeAt(0);
  const lo = (i & 15).toString(16).charCodeAt(0);
  HEX[i] = (hi << 8) | lo;
}
/** Where the two hex digits of each of the 16 bytes go in the 36-character form (8-4-4-4-12 digits, dashes at 8, 13, 18, 23). */
const POS = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
out[8] = out[13] = out[18] = out[23] = 0x2d; // '-'

export function randomUuid(): string {
  if (next === POOL_UUIDS) {
    randomFillSync(pool);
    next = 0;
  }
  const base = 16 * next++;
  for (let i = 0; i < 16; i++) {
    let b = pool[base + i]!;
    if (i === 6) b = (b & 0x0f) | 0x40; // version 4
    else if (i === 8) b = (b & 0x3f) | 0x80; // RFC 4122 variant
    const h = HEX[b]!;
    const p = POS[i]!;
    out[p] = h >> 8;
    out[p + 1] = h & 0xff;
  }
  return out.toString('latin1', 0, 36);
}
