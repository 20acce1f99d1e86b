/**
 * DHCPv6 messages (RFC 8415 §8, §21): a message type, a 24-bit transaction id, then options as
 * (code, length, data). Only the framing and the options a server answers with are modelled;
 * option data stays raw bytes, with helpers for the common ones.
 */
import { toIp6, writeIp6, type Ip6Input } from './addr.js';

export const DHCP6_SOLICIT = 1;
export const DHCP6_ADVERTISE = 2;
export const DHCP6_REQUEST = 3;
export const DHCP6_CONFIRM = 4;
export const DHCP6_RENEW = 5;
export const DHCP6_REBIND = 6;
export const DHCP6_REPLY = 7;
export const DHCP6_RELEASE = 8;
export const DHCP6_DECLINE = 9;
export const DHCP6_INFORMATION_REQUEST = 11;

export const DHCP6_OPT_CLIENTID = 1;
export const DHCP6_OPT_SERVERID = 2;
export const DHCP6_OPT_IA_NA = 3;
export const DHCP6_OPT_IAADDR = 5;
export const DHCP6_OPT_ORO = 6;
export const DHCP6_OPT_ELAPSED_TIME = 8;
export const DHCP6_OPT_STATUS_CODE = 13;
export const DHCP6_OPT_RAPID_COMMIT = 14;
export const DHCP6_OPT_DNS_SERVERS = 23;
export const DHCP6_OPT_DOMAIN_LIST = 24;

export interface Dhcp6Option {
  readonly code: number;
  readonly data: Uint8Array;
}

export interface Dhcp6Message {
  readonly type: number;
  /** 24-bit transaction id. */
  readonly xid: number;
  readonly options: readonly Dhcp6Option[];
}

/** Options packed one after another (also the body of IA_NA and IAADDR). */
export function decodeDhcp6Options(b: Uint8Array, off = 0, end = b.length): Dhcp6Option[] | undefined {
  const out: Dhcp6Option[] = [];
  while (off < end) {
    if (off + 4 > end) return undefined;
    const code = (b[off]! << 8) | b[off + 1]!;
    const len = (b[off + 2]! << 8) | b[off + 3]!;
    if (off + 4 + len > end) return undefined;
    out.push({ code, data: b.slice(off + 4, off + 4 + len) });
    off += 4 + len;
  }
  return out;
}

export function encodeDhcp6Options(options: readonly Dhcp6Option[]): Uint8Array {
  const out = new Uint8Array(options.reduce((n, o) => n + 4 + o.data.length, 0));
  let off = 0;
  for (const o of options) {
    out[off] = o.code >> 8;
    out[off + 1] = o.code & 0xff;
    out[off + 2] = o.data.length >> 8;
    out[off + 3] = o.data.length & 0xff;
    out.set(o.data, off + 4);
    off += 4 + o.data.length;
  }
  return out;
}

/** A client/server message (not a relay message); undefined when malformed. */
export function decodeDhcp6(b: Uint8Array): Dhcp6Message | undefined {
  if (b.length < 4) return undefined;
  const options = decodeDhcp6Options(b, 4);
  if (!options) return undefined;
  return { type: b[0]!, xid: (b[1]! << 16) | (b[2]! << 8) | b[3]!, options };
}

export function encodeDhcp6(m: Dhcp6Message): Uint8Array {
  const body = encodeDhcp6Options(m.options);
  const out = new Uint8Array(4 + body.length);
  out[0] = m.type;
  out[1] = (m.xid >> 16) & 0xff;
  out[2] = (m.xid >> 8) & 0xff;
  out[3] = m.xid & 0xff;
  out.set(body, 4);
  return out;
}

/** A DUID-LL (type 3, hardware type 1 = Ethernet) for a MAC address. */
export function duidLl(mac: Uint8Array): Uint8Array {
  const d = new Uint8Array(4 + 6);
  d[1] = 3;
  d[3] = 1;
  d.set(mac.subarray(0, 6), 4);
  return d;
}

/** An IA_NA with one address (lifetimes in seconds; 0xffffffff is infinite). */
export function iaNaOption(iaid: Uint8Array, addr: Ip6Input, lifetimes = { t1: 0xffffffff, t2: 0xffffffff, preferred: 0xffffffff, valid: 0xffffffff }): Dhcp6Option {
  const ia = new Uint8Array(24);
  writeIp6(ia, 0, toIp6(addr));
  new DataView(ia.buffer).setUint32(16, lifetimes.preferred);
  new DataView(ia.buffer).setUint32(20, lifetimes.valid);
  const inner = encodeDhcp6Options([{ code: DHCP6_OPT_IAADDR, data: ia }]);
  const data = new Uint8Array(12 + inner.length);
  data.set(iaid.subarray(0, 4), 0);
  new DataView(data.buffer).setUint32(4, lifetimes.t1);
  new DataView(data.buffer).setUint32(8, lifetimes.t2);
  data.set(inner, 12);
  return { code: DHCP6_OPT_IA_NA, data };
}

/** The first address of an IA_NA option's IAADDR sub-options. */
export function iaNaAddress(o: Dhcp6Option): bigint | undefined {
  if (o.code !== DHCP6_OPT_IA_NA || o.data.length < 12) return undefined;
  const inner = decodeDhcp6Options(o.data, 12);
  const a = inner?.find((x) => x.code === DHCP6_OPT_IAADDR);
  if (!a || a.data.length < 24) return undefined;
  return toIp6(a.data.subarray(0, 16));
}

/** Domain names in DNS wire format (RFC 1035 §3.1), as the domain search list option carries them. */
export function dnsNames(names: readonly string[]): Uint8Array {
  const parts: number[] = [];
  for (const name of names) {
    for (const label of name.split('.').filter(Boolean)) {
      const bytes = new TextEncoder().encode(label);
      parts.push(bytes.length, ...bytes);
    }
    parts.push(0);
  }
  return Uint8Array.from(parts);
}
