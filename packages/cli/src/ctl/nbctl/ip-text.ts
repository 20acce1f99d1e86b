/**
 * OVS's parsing of MAC, IPv4 and IPv6 text (ovs_scan semantics: leading spaces, signs and
 * 8-bit wrap-around are accepted) and OVN's prefix normalization (normalize_*_prefix_str).
 */
import { isIPv4, isIPv6 } from 'node:net';

/** One ovs_scan integer conversion at `s[i]`: [value, next index] or undefined. */
function scanInt(s: string, i: number, hex: boolean): [number, number] | undefined {
  while (i < s.length && /\s/.test(s[i]!)) i++;
  let neg = false;
  if (s[i] === '-' || s[i] === '+') {
    neg = s[i] === '-';
    i++;
  }
  if (hex && s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && /[0-9a-fA-F]/.test(s[i + 2] ?? '')) i += 2;
  const digits = hex ? /[0-9a-fA-F]/ : /[0-9]/;
  const start = i;
  let v = 0n;
  while (i < s.length && digits.test(s[i]!)) v = v * (hex ? 16n : 10n) + BigInt(parseInt(s[i++]!, 16));
  if (i === start) return undefined;
  return [Number(BigInt.asIntN(64, neg ? -v : v)), i];
}

/** eth_addr_from_string. */
export function isValidMac(s: string): boolean {
  return parseMac(s) !== undefined;
}

export function parseMac(s: string): number[] | undefined {
  const out: number[] = [];
  let i = 0;
  for (let k = 0; k < 6; k++) {
    if (k > 0) {
      if (s[i] !== ':') return undefined;
      i++;
    }
    const r = scanInt(s, i, true);
    if (!r) return undefined;
    out.push(((r[0] % 256) + 256) % 256);
    i = r[1];
  }
  return i === s.length ? out : undefined;
}

/** IP_SCAN_FMT at s[i]: [address as uint32, next index]. */
function scanIp(s: string, i: number): [number, number] | undefined {
  let v = 0;
  for (let k = 0; k < 4; k++) {
    if (k > 0) {
      if (s[i] !== '.') return undefined;
      i++;
    }
    const r = scanInt(s, i, false);
    if (!r) return undefined;
    v = v * 256 + (((r[0] % 256) + 256) % 256);
    i = r[1];
  }
  return [v, i];
}

const maskOf = (plen: number): number => (plen === 0 ? 0 : (0xffffffff << (32 - plen)) >>> 0);

/** ip_parse_cidr: [address, plen] or undefined. */
export function parseIpv4Cidr(s: string): [number, number] | undefined {
  const ip = scanIp(s, 0);
  if (!ip) return undefined;
  let [addr, i] = ip;
  let plen = 32;
  if (s[i] === '/') {
    const m = scanIp(s, i + 1);
    if (m) {
      const bits = [...Array(33).keys()].find((p) => maskOf(p) === m[0]);
      if (bits === undefined) return undefined;
      plen = bits;
      i = m[1];
    } else {
      const r = scanInt(s, i + 1, false);
      if (!r || r[0] < 0 || r[0] > 32) return undefined;
      plen = r[0];
      i = r[1];
    }
  }
  if (i !== s.length) return undefined;
  addr >>>= 0;
  return [addr, plen];
}

/** An IPv6 address (inet_pton) as 8 16-bit words. */
export function parseIpv6(s: string): number[] | undefined {
  if (!isIPv6(s) || s.includes('%')) return undefined;
  let text = s;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (v4) {
    const p = v4.slice(1).map(Number);
    text = `${s.slice(0, v4.index)}${(p[0]! * 256 + p[1]!).toString(16)}:${(p[2]! * 256 + p[3]!).toString(16)}`;
  }
  const words = (part: string): number[] => (part === '' ? [] : part.split(':').map((w) => parseInt(w, 16)));
  const n = 8;
  let out: number[];
  const dbl = text.indexOf('::');
  if (dbl >= 0) {
    const a = words(text.slice(0, dbl));
    const b = words(text.slice(dbl + 2));
    out = [...a, ...Array<number>(n - a.length - b.length).fill(0), ...b];
  } else {
    out = words(text);
  }
  return out.length === 8 && out.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? out : undefined;
}

/** glibc inet_ntop(AF_INET6). */
export function ipv6ToString(w: readonly number[]): string {
  let best = { base: -1, len: 0 };
  let cur = { base: -1, len: 0 };
  for (let i = 0; i < 8; i++) {
    if (w[i] === 0) {
      if (cur.base < 0) cur = { base: i, len: 1 };
      else cur.len++;
    } else if (cur.base >= 0) {
      if (best.base < 0 || cur.len > best.len) best = cur;
      cur = { base: -1, len: 0 };
    }
  }
  if (cur.base >= 0 && (best.base < 0 || cur.len > best.len)) best = cur;
  if (best.base >= 0 && best.len < 2) best = { base: -1, len: 0 };
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best.base >= 0 && i >= best.base && i < best.base + best.len) {
      if (i === best.base) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && best.base === 0 && (best.len === 6 || (best.len === 7 && w[7] !== 1) || (best.len === 5 && w[5] === 0xffff))) {
      out += `${w[6]! >> 8}.${w[6]! & 255}.${w[7]! >> 8}.${w[7]! & 255}`;
      break;
    }
    out += w[i]!.toString(16);
  }
  if (best.base >= 0 && best.base + best.len === 8) out += ':';
  return out;
}

const V6_CHARS = /^[0-9a-fA-F:.]{1,46}/;

/** ipv6_parse_cidr: [words, plen] or undefined. */
export function parseIpv6Cidr(s: string): [number[], number] | undefined {
  const lead = /^\s*/.exec(s)![0].length;
  const m = V6_CHARS.exec(s.slice(lead));
  if (!m) return undefined;
  const addr = parseIpv6(m[0]);
  if (!addr) return undefined;
  let i = lead + m[0].length;
  let plen = 128;
  if (s[i] === '/') {
    const r = scanInt(s, i + 1, false);
    if (r) {
      if (r[0] < 0 || r[0] > 128) return undefined;
      plen = r[0];
      i = r[1];
    } else {
      const mm = V6_CHARS.exec(s.slice(i + 1));
      const mask = mm ? parseIpv6(mm[0]) : undefined;
      if (!mask) return undefined;
      const bits = mask.map((x) => x.toString(2).padStart(16, '0')).join('');
      if (!/^1*0*$/.test(bits)) return undefined;
      plen = bits.indexOf('0') < 0 ? 128 : bits.indexOf('0');
      i += 1 + mm![0].length;
    }
  }
  return i === s.length ? [addr, plen] : undefined;
}

function v4Text(a: number): string {
  return [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.');
}

function normalizeV4(addr: number, plen: number): string {
  const net = (addr & maskOf(plen)) >>> 0;
  return plen === 32 ? v4Text(net) : `${v4Text(net)}/${plen}`;
}

function normalizeV6(w: readonly number[], plen: number): string {
  const net = w.map((x, i) => {
    const bits = Math.max(0, Math.min(16, plen - i * 16));
    return bits === 0 ? 0 : x & ((0xffff << (16 - bits)) & 0xffff);
  });
  const text = ipv6ToString(net);
  return plen === 128 ? text : `${text}/${plen}`;
}

export function normalizeIpv4PrefixStr(s: string): string | undefined {
  const p = parseIpv4Cidr(s);
  return p && normalizeV4(p[0], p[1]);
}

export function normalizeIpv6PrefixStr(s: string): string | undefined {
  const p = parseIpv6Cidr(s);
  return p && normalizeV6(p[0], p[1]);
}

/** normalize_prefix_str: IPv4 first, then IPv6. */
export function normalizePrefixStr(s: string): string | undefined {
  return normalizeIpv4PrefixStr(s) ?? normalizeIpv6PrefixStr(s);
}

/** normalize_ipv4_addr_str (inet_pton). */
export function normalizeIpv4AddrStr(s: string): string | undefined {
  return isIPv4(s) ? s.split('.').map(Number).join('.') : undefined;
}

export function normalizeIpv6AddrStr(s: string): string | undefined {
  const w = parseIpv6(s);
  return w && ipv6ToString(w);
}
