/**
 * Text forms of field values as ovs-ofctl writes and reads them: integers (`%#x` style hex, so
 * zero prints as `0`), Ethernet and IPv4/IPv6 addresses, each optionally with a mask. IPv4 and
 * IPv6 masks print as a prefix length when they are one (`10.0.0.0/8`), otherwise as an address.
 * IPv6 addresses print the way glibc's inet_ntop does, since that is what ovs-ofctl shows.
 */

/** `%#x`: "0" for zero, otherwise "0x" and lower-case hex digits. */
export function hex(v: bigint | number): string {
  return v === 0 || v === 0n ? '0' : `0x${v.toString(16)}`;
}

/** All-ones value of `bits` bits. */
export function ones(bits: number): bigint {
  return (1n << BigInt(bits)) - 1n;
}

/** A decimal or 0x-hex non-negative integer; undefined if `s` is not one. */
export function parseInteger(s: string): bigint | undefined {
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) return BigInt(s.toLowerCase());
  if (/^[0-9]+$/.test(s)) return BigInt(s);
  return undefined;
}

/** The prefix length of `mask` over `bits` bits if it is a CIDR mask (leading ones), else -1. */
export function prefixLength(mask: bigint, bits: number): number {
  const inv = ~mask & ones(bits);
  // A prefix mask's complement is of the form 0…01…1, i.e. inv + 1 is a power of two.
  if ((inv & (inv + 1n)) !== 0n) return -1;
  return bits - inv.toString(2).replace(/^0$/, '').length;
}

export function formatMac(v: bigint): string {
  const parts: string[] = [];
  for (let i = 5; i >= 0; i--) parts.push(Number((v >> BigInt(i * 8)) & 0xffn).toString(16).padStart(2, '0'));
  return parts.join(':');
}

export function parseMac(s: string): bigint | undefined {
  const m = /^([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})$/.exec(s);
  if (!m) return undefined;
  let v = 0n;
  for (let i = 1; i <= 6; i++) v = (v << 8n) | BigInt(parseInt(m[i]!, 16));
  return v;
}

export function formatIpv4(v: bigint | number): string {
  const n = Number(v) >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function parseIpv4(s: string): bigint | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  let v = 0n;
  for (let i = 1; i <= 4; i++) {
    const b = Number(m[i]);
    if (b > 255) return undefined;
    v = (v << 8n) | BigInt(b);
  }
  return v;
}

/** glibc inet_ntop: the longest run (≥ 2) of zero groups becomes "::"; ::a.b.c.d and ::ffff:a.b.c.d keep IPv4 form. */
export function formatIpv6(v: bigint): string {
  const w: number[] = [];
  for (let i = 7; i >= 0; i--) w.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestBase = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestBase = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      out += formatIpv4(v & 0xffffffffn);
      break;
    }
    out += w[i]!.toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ':';
  return out;
}

export function parseIpv6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.length < 2) return undefined;
  let head = s;
  let tailV4: bigint | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.')) {
    tailV4 = parseIpv4(s.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    head = s.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = head.indexOf('::');
  if (dbl !== head.lastIndexOf('::')) return undefined;
  const groupsOf = (t: string): string[] => (t === '' ? [] : t.split(':'));
  let groups: string[];
  if (dbl >= 0) {
    const left = groupsOf(head.slice(0, dbl));
    const right = groupsOf(head.slice(dbl + 2));
    const fill = 8 - left.length - right.length;
    if (fill < 1) return undefined;
    groups = [...left, ...Array<string>(fill).fill('0'), ...right];
  } else {
    groups = groupsOf(head);
  }
  if (groups.length !== 8) return undefined;
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (tailV4 !== undefined) v = (v & ~0xffffffffn) | tailV4;
  return v;
}

export function formatMacMasked(v: bigint, m: bigint): string {
  return m === ones(48) ? formatMac(v) : `${formatMac(v)}/${formatMac(m)}`;
}

export function formatIpv4Masked(v: bigint, m: bigint): string {
  if (m === ones(32)) return formatIpv4(v);
  const p = prefixLength(m, 32);
  return `${formatIpv4(v)}/${p >= 0 ? p : formatIpv4(m)}`;
}

export function formatIpv6Masked(v: bigint, m: bigint): string {
  if (m === ones(128)) return formatIpv6(v);
  const p = prefixLength(m, 128);
  return `${formatIpv6(v)}/${p >= 0 ? p : formatIpv6(m)}`;
}

/** Parses an IPv4 mask written as a prefix length or a dotted address. */
export function parseIpv4Mask(s: string): bigint | undefined {
  if (/^\d{1,2}$/.test(s)) {
    const n = Number(s);
    return n > 32 ? undefined : (ones(n) << BigInt(32 - n)) & ones(32);
  }
  return parseIpv4(s);
}

export function parseIpv6Mask(s: string): bigint | undefined {
  if (/^\d{1,3}$/.test(s)) {
    const n = Number(s);
    return n > 128 ? undefined : (ones(n) << BigInt(128 - n)) & ones(128);
  }
  return parseIpv6(s);
}

/** Bytes as ovs-ofctl prints userdata and notes: two hex digits each, joined by dots. */
export function formatHexBytes(hexDigits: string): string {
  const out: string[] = [];
  for (let i = 0; i < hexDigits.length; i += 2) out.push(hexDigits.slice(i, i + 2));
  return out.join('.');
}

/** Pairs of hex digits, optionally separated by dots; returns the digits without separators. */
export function parseHexBytes(s: string): string | undefined {
  const digits = s.replace(/\./g, '');
  if (s.startsWith('.') || s.endsWith('.') || s.includes('..')) return undefined;
  if (!/^([0-9a-fA-F]{2})*$/.test(digits)) return undefined;
  // A dot may only sit between whole bytes.
  for (const part of s.split('.')) if (part.length % 2) return undefined;
  return digits.toLowerCase();
}
