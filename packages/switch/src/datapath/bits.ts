/**
 * Field access compiled down to key words, for the translator: set_field as masked word writes,
 * subfields (move, output_reg, zone=…, push/pop) as bit ranges read and written in 32-bit chunks,
 * and "this bit range was looked at" as wildcard marks. Compiled forms are cached per action
 * object (actions are immutable), so a flow's actions are compiled once, on first use.
 */
import { newKey, type FlowKey } from '../fields.js';
import type { SetFieldAction, SubField } from '../flow/actions.js';
import { ofField } from '../flow/catalog.js';
import { ones } from '../flow/format.js';
import type { BitLoc } from '../flow/match.js';
import { writeBits } from '../flow/match.js';

/** A masked write of key words: key[idx[i]] = (key[idx[i]] & ~mask[i]) | val[i]. */
export interface WordWrite {
  readonly idx: Int32Array;
  readonly mask: Uint32Array;
  readonly val: Uint32Array;
}

/** The words of a value/mask pair at a location, as a WordWrite (mask words that are zero are left out). */
export function wordWrite(loc: BitLoc, value: bigint, mask: bigint): WordWrite {
  const mk = newKey();
  const vk = newKey();
  const m = mask & ones(loc.bits);
  writeBits(mk, loc, m);
  writeBits(vk, loc, value & m);
  const idx: number[] = [];
  for (let i = loc.word; i < loc.word + loc.words; i++) if (mk[i] !== 0) idx.push(i);
  return {
    idx: Int32Array.from(idx),
    mask: Uint32Array.from(idx, (i) => mk[i]!),
    val: Uint32Array.from(idx, (i) => vk[i]!),
  };
}

const setFieldCache = new WeakMap<SetFieldAction, WordWrite>();

export function compileSetField(a: SetFieldAction): WordWrite {
  let w = setFieldCache.get(a);
  if (w === undefined) {
    w = wordWrite(ofField(a.field), a.value, a.mask);
    setFieldCache.set(a, w);
  }
  return w;
}

/** Applies a WordWrite to `key`, recording the written bits in `pend`. */
export function applyWrite(key: FlowKey, w: WordWrite, pend: FlowKey | undefined): void {
  const idx = w.idx;
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    const m = w.mask[i]!;
    key[j] = ((key[j]! & ~m) | w.val[i]!) >>> 0;
    if (pend !== undefined) pend[j] = (pend[j]! | m) >>> 0;
  }
}

/** A bit range of the key: `bits` bits starting `pos` bits above the LSB of words [word, word+words). */
export interface BitRange {
  readonly word: number;
  readonly words: number;
  readonly pos: number;
  readonly bits: number;
}

const subCache = new WeakMap<SubField, BitRange>();

export function compileSub(sf: SubField): BitRange {
  let r = subCache.get(sf);
  if (r === undefined) {
    const f = ofField(sf.field);
    r = { word: f.word, words: f.words, pos: f.shift + sf.ofs, bits: sf.bits };
    subCache.set(sf, r);
  }
  return r;
}

/** The whole of a catalog field as a bit range. */
export function fieldRange(name: string): BitRange {
  const f = ofField(name);
  return { word: f.word, words: f.words, pos: f.shift, bits: f.bits };
}

function chunkMask(c: number): number {
  return c >= 32 ? 0xffffffff : (1 << c) - 1;
}

/** Reads the bits of `r` into `out` (4 words, least significant first). */
export function readRange(key: FlowKey, r: BitRange, out: Uint32Array): void {
  out[0] = out[1] = out[2] = out[3] = 0;
  let n = r.bits;
  let sp = r.pos;
  let dp = 0;
  while (n > 0) {
    const sw = r.word + r.words - 1 - (sp >>> 5);
    const sb = sp & 31;
    const dw = dp >>> 5;
    const db = dp & 31;
    const c = Math.min(n, 32 - sb, 32 - db);
    const v = (key[sw]! >>> sb) & chunkMask(c);
    out[dw] = (out[dw]! | (v << db)) >>> 0;
    n -= c;
    sp += c;
    dp += c;
  }
}

/** Writes the low `r.bits` bits of `src` (least significant word first) into `r`; marks them in `pend`. */
export function writeRange(key: FlowKey, r: BitRange, src: Uint32Array, pend: FlowKey | undefined): void {
  let n = r.bits;
  let dp = r.pos;
  let sp = 0;
  while (n > 0) {
    const dw = r.word + r.words - 1 - (dp >>> 5);
    const db = dp & 31;
    const sw = sp >>> 5;
    const sb = sp & 31;
    const c = Math.min(n, 32 - sb, 32 - db);
    const m = chunkMask(c);
    const v = (src[sw]! >>> sb) & m;
    const wm = (m << db) >>> 0;
    key[dw] = ((key[dw]! & ~wm) | ((v << db) & wm)) >>> 0;
    if (pend !== undefined) pend[dw] = (pend[dw]! | wm) >>> 0;
    n -= c;
    dp += c;
    sp += c;
  }
}

/** ORs the bits of `r` into a wildcard key (the translation read them). */
export function markRange(wc: FlowKey, r: BitRange): void {
  let n = r.bits;
  let p = r.pos;
  while (n > 0) {
    const w = r.word + r.words - 1 - (p >>> 5);
    const b = p & 31;
    const c = Math.min(n, 32 - b);
    wc[w] = (wc[w]! | (chunkMask(c) << b)) >>> 0;
    n -= c;
    p += c;
  }
}

const scratch = new Uint32Array(4);

/** Reads a range of at most 53 bits as a number, marking it in `wc` when given. */
export function readRangeNumber(key: FlowKey, r: BitRange, wc: FlowKey | undefined): number {
  readRange(key, r, scratch);
  if (wc !== undefined) markRange(wc, r);
  return scratch[0]! + scratch[1]! * 0x100000000;
}

/** Reads a range as a bigint (up to 128 bits). */
export function readRangeBigint(key: FlowKey, r: BitRange): bigint {
  readRange(key, r, scratch);
  return (BigInt(scratch[3]!) << 96n) | (BigInt(scratch[2]!) << 64n) | (BigInt(scratch[1]!) << 32n) | BigInt(scratch[0]!);
}

/** A value as 4 words, least significant first. */
export function bigintWords(v: bigint, out: Uint32Array = new Uint32Array(4)): Uint32Array {
  for (let i = 0; i < 4; i++, v >>= 32n) out[i] = Number(v & 0xffffffffn);
  return out;
}

/** ORs every bit of `loc` selected by `mask` (over the location's bits; all when absent) into `wc`. */
export function markLoc(wc: FlowKey, loc: BitLoc, mask?: bigint): void {
  const w = wordWrite(loc, 0n, mask ?? ones(loc.bits));
  for (let i = 0; i < w.idx.length; i++) wc[w.idx[i]!] = (wc[w.idx[i]!]! | w.mask[i]!) >>> 0;
}
