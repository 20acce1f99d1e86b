/**
 * A match: a value and a mask over the flow-key layout. A packet key matches when it agrees with
 * the value on every bit the mask has set. The invariant value & mask == value keeps equal
 * matches bit-identical, so they compare and hash word by word.
 */
import { KEY_WORDS, field, newKey } from '../fields.js';
import type { FieldDef, FlowKey } from '../fields.js';
import { ones } from './format.js';

export interface Match {
  readonly value: FlowKey;
  readonly mask: FlowKey;
}

/**
 * Where a field's bits sit in the key: `bits` bits starting `shift` bits above the least
 * significant bit of the big-endian number formed by key words [word, word + words). Key fields
 * are the case shift = 0; views such as xreg1 (two words) or ip_dscp (bits 2..7 of nw_tos) are not.
 */
export interface BitLoc {
  readonly word: number;
  readonly words: number;
  readonly shift: number;
  readonly bits: number;
}

/** The catch-all match. */
export function newMatch(): Match {
  return { value: newKey(), mask: newKey() };
}

export function cloneMatch(m: Match): Match {
  return { value: m.value.slice(), mask: m.mask.slice() };
}

function locOf(f: string | FieldDef | BitLoc): BitLoc {
  const d = typeof f === 'string' ? field(f) : f;
  // Catalog fields are BitLocs (with a shift); plain FieldDefs start at bit 0.
  return 'shift' in d ? d : { word: d.word, words: d.words, shift: 0, bits: d.bits };
}

/** Reads the bits at `loc` of a key. */
export function readBits(key: FlowKey, loc: BitLoc): bigint {
  let v = 0n;
  for (let i = 0; i < loc.words; i++) v = (v << 32n) | BigInt(key[loc.word + i]!);
  return (v >> BigInt(loc.shift)) & ones(loc.bits);
}

/** Replaces the bits selected by `mask` (relative to the location) at `loc` with those of `value`. */
export function writeBits(key: FlowKey, loc: BitLoc, value: bigint, mask: bigint = ones(loc.bits)): void {
  const m = (mask & ones(loc.bits)) << BigInt(loc.shift);
  const v = (value << BigInt(loc.shift)) & m;
  for (let i = loc.words - 1, k = 0n; i >= 0; i--, k += 32n) {
    const wm = Number((m >> k) & 0xffffffffn);
    if (wm === 0) continue;
    const wv = Number((v >> k) & 0xffffffffn);
    const idx = loc.word + i;
    key[idx] = ((key[idx]! & ~wm) | wv) >>> 0;
  }
}

/** Matches `field` exactly against `value`. */
export function setExact(m: Match, f: string | FieldDef | BitLoc, value: bigint | number): void {
  const loc = locOf(f);
  setMasked(m, loc, value, ones(loc.bits));
}

/**
 * Matches the bits of `field` selected by `mask` against `value` (bits of `value` outside the
 * mask are dropped); bits of the field outside `mask` become wildcards.
 */
export function setMasked(m: Match, f: string | FieldDef | BitLoc, value: bigint | number, mask: bigint | number): void {
  const loc = locOf(f);
  const mk = BigInt(mask) & ones(loc.bits);
  writeBits(m.mask, loc, mk);
  writeBits(m.value, loc, BigInt(value) & mk);
}

/** Makes `field` a wildcard again. */
export function clearField(m: Match, f: string | FieldDef | BitLoc): void {
  const loc = locOf(f);
  writeBits(m.mask, loc, 0n);
  writeBits(m.value, loc, 0n);
}

export function getValue(m: Match, f: string | FieldDef | BitLoc): bigint {
  return readBits(m.value, locOf(f));
}

export function getMask(m: Match, f: string | FieldDef | BitLoc): bigint {
  return readBits(m.mask, locOf(f));
}

/** Does packet key `key` satisfy the match? */
export function matches(m: Match, key: FlowKey): boolean {
  const v = m.value;
  const k = m.mask;
  for (let i = 0; i < KEY_WORDS; i++) if (((key[i]! & k[i]!) ^ v[i]!) !== 0) return false;
  return true;
}

export function matchEqual(a: Match, b: Match): boolean {
  for (let i = 0; i < KEY_WORDS; i++) if (a.value[i] !== b.value[i] || a.mask[i] !== b.mask[i]) return false;
  return true;
}

/**
 * Is `specific` at least as specific as `general`, i.e. does every packet matching `specific` also
 * match `general`? This is OpenFlow's non-strict selection of flows for modify and delete.
 */
export function covers(general: Match, specific: Match): boolean {
  for (let i = 0; i < KEY_WORDS; i++) {
    const gm = general.mask[i]!;
    if ((gm & ~specific.mask[i]!) !== 0) return false;
    if (((specific.value[i]! & gm) ^ general.value[i]!) !== 0) return false;
  }
  return true;
}

export function isCatchAll(m: Match): boolean {
  for (let i = 0; i < KEY_WORDS; i++) if (m.mask[i] !== 0) return false;
  return true;
}

/** Restores the value & mask == value invariant for a hand-built match. */
export function normalizeMatch(m: Match): Match {
  for (let i = 0; i < KEY_WORDS; i++) m.value[i] = (m.value[i]! & m.mask[i]!) >>> 0;
  return m;
}

/** Does the match keep its invariant? */
export function isNormalized(m: Match): boolean {
  for (let i = 0; i < KEY_WORDS; i++) if ((m.value[i]! & ~m.mask[i]!) !== 0) return false;
  return true;
}
