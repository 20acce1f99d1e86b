/**
 * Open vSwitch's string hash (lib/hash.c, the portable murmur3-based variant) and the iteration
 * order of its hash maps (lib/hmap.c). Some texts northd writes list the members of an `sset`
 * (a hash set of strings) in iteration order; reproducing that order keeps those texts
 * identical to real ovn-northd's.
 */

function rot(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function mhashAdd(hash: number, data: number): number {
  if (data !== 0) {
    let d = Math.imul(data, 0xcc9e2d51) >>> 0;
    d = rot(d, 15);
    d = Math.imul(d, 0x1b873593) >>> 0;
    hash = (hash ^ d) >>> 0;
  }
  hash = rot(hash, 13);
  return (Math.imul(hash, 5) + 0xe6546b64) >>> 0;
}

function mhashFinish(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b) >>> 0;
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35) >>> 0;
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** hash_bytes() over the string's UTF-8 bytes (little-endian words). */
export function ovsHashString(s: string, basis = 0): number {
  const b = Buffer.from(s, 'utf8');
  let hash = basis >>> 0;
  let i = 0;
  for (; i + 4 <= b.length; i += 4) hash = mhashAdd(hash, b.readUInt32LE(i));
  if (i < b.length) {
    let tmp = 0;
    for (let j = 0; i + j < b.length; j++) tmp |= b[i + j]! << (8 * j);
    hash = mhashAdd(hash, tmp >>> 0);
  }
  return mhashFinish((hash ^ b.length) >>> 0);
}

function calcMask(capacity: number): number {
  let mask = Math.floor(capacity / 2);
  mask |= mask >>> 1;
  mask |= mask >>> 2;
  mask |= mask >>> 4;
  mask |= mask >>> 8;
  mask |= mask >>> 16;
  mask |= (mask & 1) << 1;
  return mask;
}

/**
 * The order in which an OVS hmap holding `keys` (inserted in this order, duplicates skipped, as
 * sset_add does) iterates them, given each key's hash.
 */
export function hmapOrder<T>(keys: readonly T[], hashOf: (k: T) => number): T[] {
  let mask = 0;
  let buckets: { key: T; hash: number }[][] = [[]];
  let n = 0;
  const seen = new Set<T>();
  const insertFast = (node: { key: T; hash: number }): void => {
    buckets[node.hash & mask]!.unshift(node);
  };
  for (const key of keys) {
    if (seen.has(key)) continue;
    seen.add(key);
    insertFast({ key, hash: hashOf(key) >>> 0 });
    n++;
    if (Math.floor(n / 2) > mask) {
      const newMask = calcMask(n);
      if (newMask > mask) {
        const old = buckets;
        mask = newMask;
        buckets = Array.from({ length: mask + 1 }, () => []);
        for (const b of old) for (const node of b) insertFast(node);
      }
    }
  }
  return buckets.flatMap((b) => b.map((x) => x.key));
}

/** Iteration order of an OVS `sset` filled with `strings` in this order. */
export function ssetOrder(strings: readonly string[]): string[] {
  return hmapOrder(strings, (s) => ovsHashString(s, 0));
}
