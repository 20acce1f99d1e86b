/**
 * IPv4, IPv6 and Ethernet address arithmetic and text, as OVN prints them: IPv4 dotted quads,
 * IPv6 as glibc's inet_ntop writes it (longest run of two or more zero groups compressed, an
 * embedded IPv4 tail for ::ffff:a.b.c.d and ::a.b.c.d), MACs as lower-case xx:xx:xx:xx:xx:xx.
 * IPv4 addresses are unsigned 32-bit numbers, IPv6 addresses 128-bit bigints.
 */

export function parseIp4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const b = Number(m[i]);
    if (b > 255) return undefined;
    v = v * 256 + b;
  }
  return v >>> 0;
}

export function formatIp4(v: number): string {
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** The IPv4 netmask of a prefix length (0..32) as an unsigned number. */
export function ip4Mask(plen: number): number {
  return plen === 0 ? 0 : (0xffffffff << (32 - plen)) >>> 0;
}

/** Prefix length of a CIDR mask, or undefined when the mask is not contiguous. */
export function ip4MaskLen(mask: number): number | undefined {
  for (let p = 0; p <= 32; p++) if (ip4Mask(p) === mask >>> 0) return p;
  return undefined;
}

const ALL128 = (1n << 128n) - 1n;

export function ip6Mask(plen: number): bigint {
  return plen === 0 ? 0n : (ALL128 << BigInt(128 - plen)) & ALL128;
}

export function parseIp6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return undefined;
  let text = s;
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    // An embedded IPv4 tail stands for the last two groups.
    const v4 = parseIp4(last);
    if (v4 === undefined) return undefined;
    text = `${s.slice(0, lastColon + 1)}${((v4 >>> 16) & 0xffff).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const dbl = text.indexOf('::');
  if (dbl !== text.lastIndexOf('::')) return undefined;
  const parseGroups = (p: string): number[] | undefined => {
    if (p === '') return [];
    const out: number[] = [];
    for (const g of p.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (dbl >= 0) {
    const head = parseGroups(text.slice(0, dbl));
    const rest = parseGroups(text.slice(dbl + 2));
    if (!head || !rest || head.length + rest.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  } else {
    const all = parseGroups(text);
    if (!all || all.length !== 8) return undefined;
    groups = all;
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  return v;
}

export function formatIp6(v: bigint): string {
  const words: number[] = [];
  for (let i = 7; i >= 0; i--) words.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  // Longest run of zero words (first one on ties), compressed only when 2 or more long.
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      if (curBase < 0) {
        curBase = i;
        curLen = 1;
      } else curLen++;
      if (curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
    } else curBase = -1;
  }
  if (bestLen < 2) bestBase = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      out += `${words[6]! >> 8}.${words[6]! & 255}.${words[7]! >> 8}.${words[7]! & 255}`;
      break;
    }
    out += words[i]!.toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ':';
  return out;
}

export function parseMac(s: string): bigint | undefined {
  const m = /^([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})$/.exec(s);
  if (!m) return undefined;
  let v = 0n;
  for (let i = 1; i <= 6; i++) v = (v << 8n) | BigInt(parseInt(m[i]!, 16));
  return v;
}

export function formatMac(v: bigint): string {
  const parts: string[] = [];
  for (let i = 5; i >= 0; i--) parts.push(Number((v >> BigInt(i * 8)) & 0xffn).toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** The IPv6 link-local address a MAC gives by modified EUI-64 (fe80::/64). */
export function ip6LinkLocal(mac: bigint): bigint {
  const b = [...Array(6)].map((_, i) => Number((mac >> BigInt((5 - i) * 8)) & 0xffn));
  const eui = [b[0]! ^ 2, b[1]!, b[2]!, 0xff, 0xfe, b[3]!, b[4]!, b[5]!];
  let v = 0xfe80n << 112n;
  for (let i = 0; i < 8; i++) v |= BigInt(eui[i]!) << BigInt((7 - i) * 8);
  return v;
}

/** The solicited-node multicast address of an IPv6 address: ff02::1:ff00:0/104 with the address's low 24 bits. */
export function ip6SolicitedNode(a: bigint): bigint {
  return (0xff02n << 112n) | (0x1ffn << 24n) | (a & 0xffffffn);
}

/** The Ethernet multicast address of an IPv6 multicast address (33:33:xx:xx:xx:xx). */
export function ip6MulticastMac(a: bigint): bigint {
  return (0x3333n << 32n) | (a & 0xffffffffn);
}

export function isIp6LinkLocal(a: bigint): boolean {
  return a >> 118n === 0xfe80n >> 6n;
}

/** An IPv4 or IPv6 address with a prefix length, as OVN's `ip_parse_cidr`/`ipv6_parse_cidr` read it. */
export type Cidr = { readonly family: 4; readonly addr: number; readonly plen: number } | { readonly family: 6; readonly addr: bigint; readonly plen: number };

/**
 * Parses "A.B.C.D[/N]" or "IPV6[/N]"; a missing length means a host route. Host bits are kept
 * (a network's own address is what `networks` entries give).
 */
export function parseCidr(s: string): Cidr | undefined {
  const slash = s.indexOf('/');
  const a = slash < 0 ? s : s.slice(0, slash);
  const p = slash < 0 ? undefined : s.slice(slash + 1);
  const v4 = parseIp4(a);
  if (v4 !== undefined) {
    let plen = 32;
    if (p !== undefined) {
      if (/^\d+$/.test(p)) plen = Number(p);
      else {
        const m = parseIp4(p);
        const l = m === undefined ? undefined : ip4MaskLen(m);
        if (l === undefined) return undefined;
        plen = l;
      }
      if (plen > 32) return undefined;
    }
    return { family: 4, addr: v4, plen };
  }
  const v6 = parseIp6(a);
  if (v6 !== undefined) {
    let plen = 128;
    if (p !== undefined) {
      if (!/^\d+$/.test(p)) return undefined;
      plen = Number(p);
      if (plen > 128) return undefined;
    }
    return { family: 6, addr: v6, plen };
  }
  return undefined;
}

/** Normalizes "IP" or "IP/N" text (masking host bits), as OVN's normalize_prefix_str does. */
export function normalizePrefix(s: string): { family: 4 | 6; text: string; plen: number; network: string } | undefined {
  const c = parseCidr(s);
  if (!c) return undefined;
  if (c.family === 4) {
    const net = (c.addr & ip4Mask(c.plen)) >>> 0;
    const network = formatIp4(net);
    return { family: 4, plen: c.plen, network, text: c.plen === 32 ? network : `${network}/${c.plen}` };
  }
  const net = c.addr & ip6Mask(c.plen);
  const network = formatIp6(net);
  return { family: 6, plen: c.plen, network, text: c.plen === 128 ? network : `${network}/${c.plen}` };
}
