/**
 * The Internet checksum (RFC 1071), its incremental update (RFC 1624) and CRC32c for SCTP
 * (RFC 9260 appendix A).
 *
 * Sums are kept as plain unfolded numbers while accumulating: 16-bit words added to a double stay
 * exact far beyond any packet size, so folding happens once, at the end.
 */

/** Folds a ones'-complement accumulator to 16 bits (end-around carry). */
export function fold(sum: number): number {
  // Two folds suffice below 2^32; the loop covers larger accumulators from long buffers.
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/**
 * Ones'-complement sum of the big-endian 16-bit words of `buf[start, end)` (an odd last byte is
 * padded with zero), added to `acc`; unfolded.
 */
export function onesSum(buf: Uint8Array, start: number, end: number, acc = 0): number {
  let i = start;
  for (; i + 1 < end; i += 2) acc += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) acc += buf[i]! << 8;
  return acc;
}

/** The Internet checksum of `buf[start, end)` plus `initial` (e.g. a pseudo-header sum). */
export function internetChecksum(buf: Uint8Array, start = 0, end = buf.length, initial = 0): number {
  return ~fold(onesSum(buf, start, end, initial)) & 0xffff;
}

/**
 * Sum of the TCP/UDP/ICMPv6 pseudo-header. Source and destination addresses are adjacent in both
 * IPv4 (offset 12, 4+4 bytes) and IPv6 (offset 8, 16+16 bytes), so one routine reads them from the
 * frame: `addrOff` is where the source address starts, `addrBytes` 8 or 32.
 */
export function pseudoHeaderSum(buf: Uint8Array, addrOff: number, addrBytes: number, proto: number, l4Length: number): number {
  // IPv6's 32-bit length and IPv4's 16-bit length add up the same as 16-bit words.
  return onesSum(buf, addrOff, addrOff + addrBytes, proto + (l4Length & 0xffff) + Math.floor(l4Length / 0x10000));
}

/** RFC 1624 eqn. 3: the checksum after a 16-bit word covered by `hc` changes from `oldWord` to `newWord`. */
export function checksumAdjust16(hc: number, oldWord: number, newWord: number): number {
  return ~fold((~hc & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff)) & 0xffff;
}

/** RFC 1624 eqn. 3 for a 32-bit value (two words), e.g. an IPv4 address. */
export function checksumAdjust32(hc: number, oldValue: number, newValue: number): number {
  return ~fold((~hc & 0xffff) + (~(oldValue >>> 16) & 0xffff) + (~oldValue & 0xffff) + (newValue >>> 16) + (newValue & 0xffff)) & 0xffff;
}

/**
 * Applies an accumulated delta to a checksum: `delta` is Σ(~old + new) over changed words, as
 * built by the packet writer, so several field changes cost one fold.
 */
export function checksumApply(hc: number, delta: number): number {
  return ~fold((~hc & 0xffff) + delta) & 0xffff;
}

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC32c (Castagnoli) of `buf[start, end)`; `crc32c("123456789") === 0xe3069283`. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC32C_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * Recomputes the SCTP checksum of the common header at `l4` over `[l4, end)`. The field holds the
 * CRC's bytes least significant first (RFC 9260 appendix A; Linux stores `cpu_to_le32(crc)`).
 */
export function sctpChecksumFix(buf: Uint8Array, l4: number, end: number): void {
  buf[l4 + 8] = 0;
  buf[l4 + 9] = 0;
  buf[l4 + 10] = 0;
  buf[l4 + 11] = 0;
  const c = crc32c(buf, l4, end);
  buf[l4 + 8] = c;
  buf[l4 + 9] = c >>> 8;
  buf[l4 + 10] = c >>> 16;
  buf[l4 + 11] = c >>> 24;
}

/** True if the SCTP packet at `[l4, end)` carries the right CRC32c. */
export function sctpChecksumOk(buf: Uint8Array, l4: number, end: number): boolean {
  const stored = (buf[l4 + 8]! | (buf[l4 + 9]! << 8) | (buf[l4 + 10]! << 16) | (buf[l4 + 11]! << 24)) >>> 0;
  let c = 0xffffffff;
  for (let i = l4; i < end; i++) {
    const b = i >= l4 + 8 && i < l4 + 12 ? 0 : buf[i]!;
    c = CRC32C_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  }
  return (~c >>> 0) === stored;
}
