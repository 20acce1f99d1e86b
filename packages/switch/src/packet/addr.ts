/**
 * Address helpers: text ↔ numbers ↔ bytes for MAC, IPv4 and IPv6 addresses.
 *
 * Representations: a MAC is a 48-bit integer in a plain `number` (exact below 2^53, and cheaper
 * than a bigint); an IPv4 address is an unsigned 32-bit `number`; an IPv6 address is a 128-bit
 * `bigint`. Builders accept any of text, number/bigint or bytes (the `*Input` types) because they
 * are called from controller and VM code, never from the per-packet path.
 */

export type MacInput = string | number | bigint | Uint8Array;
export type Ip4Input = string | number | Uint8Array;
export type Ip6Input = string | bigint | Uint8Array;

export const MAC_BROADCAST = 0xffffffffffff;

/** Parses `aa:bb:cc:dd:ee:ff` (also `-` separated); throws on bad text. */
export function parseMac(text: string): number {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6) throw new Error(`bad MAC address "${text}"`);
  let v = 0;
  for (const p of parts) {
    if (!/^[0-9a-fA-F]{1,2}$/.test(p)) throw new Error(`bad MAC address "${text}"`);
    v = v * 256 + parseInt(p, 16);
  }
  return v;
}

/** Reads the 6 bytes at `off` as a MAC number. */
export function macFromBytes(buf: Uint8Array, off = 0): number {
  return buf[off]! * 0x10000000000 + ((buf[off + 1]! << 8) | buf[off + 2]!) * 0x1000000 + ((buf[off + 3]! << 16) | (buf[off + 4]! << 8) | buf[off + 5]!);
}

/** Writes a MAC number as 6 bytes at `off`. */
export function writeMac(buf: Uint8Array, off: number, mac: number): void {
  const hi = Math.floor(mac / 0x100000000);
  const lo = mac >>> 0;
  buf[off] = hi >>> 8;
  buf[off + 1] = hi;
  buf[off + 2] = lo >>> 24;
  buf[off + 3] = lo >>> 16;
  buf[off + 4] = lo >>> 8;
  buf[off + 5] = lo;
}

export function toMac(m: MacInput): number {
  if (typeof m === 'number') {
    if (!Number.isInteger(m) || m < 0 || m > MAC_BROADCAST) throw new Error(`bad MAC address ${m}`);
    return m;
  }
  if (typeof m === 'bigint') return toMac(Number(m));
  if (typeof m === 'string') return parseMac(m);
  if (m.length !== 6) throw new Error(`a MAC address has 6 bytes, not ${m.length}`);
  return macFromBytes(m, 0);
}

export function macToBytes(m: MacInput): Uint8Array {
  const out = new Uint8Array(6);
  writeMac(out, 0, toMac(m));
  return out;
}

export function formatMac(m: MacInput): string {
  const b = macToBytes(m);
  let s = '';
  for (let i = 0; i < 6; i++) s += (i ? ':' : '') + b[i]!.toString(16).padStart(2, '0');
  return s;
}

/** Parses dotted-quad text (no leading zeros, each part ≤ 255); throws on bad text. */
export function parseIp4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) throw new Error(`bad IPv4 address "${text}"`);
  let v = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) throw new Error(`bad IPv4 address "${text}"`);
    v = v * 256 + Number(p);
  }
  return v;
}

export function ip4FromBytes(buf: Uint8Array, off = 0): number {
  return ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
}

export function writeIp4(buf: Uint8Array, off: number, ip: number): void {
  buf[off] = ip >>> 24;
  buf[off + 1] = ip >>> 16;
  buf[off + 2] = ip >>> 8;
  buf[off + 3] = ip;
}

export function toIp4(a: Ip4Input): number {
  if (typeof a === 'number') {
    if (!Number.isInteger(a) || a < 0 || a > 0xffffffff) throw new Error(`bad IPv4 address ${a}`);
    return a;
  }
  if (typeof a === 'string') return parseIp4(a);
  if (a.length !== 4) throw new Error(`an IPv4 address has 4 bytes, not ${a.length}`);
  return ip4FromBytes(a, 0);
}

export function ip4ToBytes(a: Ip4Input): Uint8Array {
  const out = new Uint8Array(4);
  writeIp4(out, 0, toIp4(a));
  return out;
}

export function formatIp4(a: Ip4Input): string {
  const v = toIp4(a);
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

const U128 = (1n << 128n) - 1n;

/** Parses IPv6 text (RFC 4291 section 2.2, including `::` and a trailing dotted quad). */
export function parseIp6(text: string): bigint {
  const bad = (): never => {
    throw new Error(`bad IPv6 address "${text}"`);
  };
  let s = text;
  // A trailing dotted quad stands for the last two groups: rewrite it as hex and parse on.
  const lastColon = s.lastIndexOf(':');
  if (lastColon >= 0 && s.indexOf('.', lastColon) > 0) {
    let v4 = 0;
    try {
      v4 = parseIp4(s.slice(lastColon + 1));
    } catch {
      bad();
    }
    s = `${s.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) bad();
  const groups = (h: string): number[] => {
    if (h === '') return [];
    return h.split(':').map((g) => {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) bad();
      return parseInt(g, 16);
    });
  };
  const head = groups(halves[0]!);
  let all: number[];
  if (halves.length === 2) {
    const rest = groups(halves[1]!);
    const missing = 8 - head.length - rest.length;
    if (missing < 1) bad();
    all = [...head, ...new Array<number>(missing).fill(0), ...rest];
  } else {
    all = head;
  }
  if (all.length !== 8) bad();
  let v = 0n;
  for (const g of all) v = (v << 16n) | BigInt(g);
  return v;
}

export function ip6FromBytes(buf: Uint8Array, off = 0): bigint {
  let v = 0n;
  for (let i = 0; i < 16; i += 4) v = (v << 32n) | BigInt(((buf[off + i]! << 24) | (buf[off + i + 1]! << 16) | (buf[off + i + 2]! << 8) | buf[off + i + 3]!) >>> 0);
  return v;
}

export function writeIp6(buf: Uint8Array, off: number, ip: bigint): void {
  for (let i = 15; i >= 0; i--, ip >>= 8n) buf[off + i] = Number(ip & 0xffn);
}

export function toIp6(a: Ip6Input): bigint {
  if (typeof a === 'bigint') {
    if (a < 0n || a > U128) throw new Error(`bad IPv6 address ${a}`);
    return a;
  }
  if (typeof a === 'string') return parseIp6(a);
  if (a.length !== 16) throw new Error(`an IPv6 address has 16 bytes, not ${a.length}`);
  return ip6FromBytes(a, 0);
}

export function ip6ToBytes(a: Ip6Input): Uint8Array {
  const out = new Uint8Array(16);
  writeIp6(out, 0, toIp6(a));
  return out;
}

/** RFC 5952 canonical text: lower case, longest run (≥ 2) of zero groups as `::`, IPv4-mapped as `::ffff:a.b.c.d`. */
export function formatIp6(a: Ip6Input): string {
  const v = toIp6(a);
  if (v >> 32n === 0xffffn) return `::ffff:${formatIp4(Number(v & 0xffffffffn))}`;
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** The solicited-node multicast address of `target`: ff02::1:ff00:0/104 with its low 24 bits (RFC 4291 section 2.7.1). */
export function solicitedNodeAddress(target: Ip6Input): bigint {
  return (0xff02n << 112n) | (0x1ffn << 24n) | (toIp6(target) & 0xffffffn);
}

/** The Ethernet multicast MAC 33:33:XX:XX:XX:XX of an IPv6 multicast address (RFC 2464 section 7). */
export function ip6MulticastMac(group: Ip6Input): number {
  return 0x333300000000 + Number(toIp6(group) & 0xffffffffn);
}

/** The modified-EUI-64 link-local address fe80::/64 of a MAC (RFC 4291 appendix A). */
export function ip6LinkLocal(mac: MacInput): bigint {
  const b = macToBytes(mac);
  const iid = ((BigInt(b[0]! ^ 2) << 56n) | (BigInt(b[1]!) << 48n) | (BigInt(b[2]!) << 40n) | (0xfffen << 24n) | (BigInt(b[3]!) << 16n) | (BigInt(b[4]!) << 8n) | BigInt(b[5]!));
  return (0xfe80n << 112n) | iid;
}
