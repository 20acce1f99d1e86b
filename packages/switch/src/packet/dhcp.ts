/**
 * DHCPv4 messages (RFC 2131) with their options (RFC 2132, RFC 3442 classless routes, RFC 3396
 * long options): encode/decode of the UDP payload, and the mapping from OVN's put_dhcp_opts
 * option names (ovn-nb(5) DHCP_Options) to options, for the controller's DHCP responder and the
 * lab's simulated VMs. Addresses are dotted-quad text, as in the rest of the readable codec.
 */
import { formatIp4, formatMac, ip4FromBytes, macFromBytes, toIp4, toMac, writeIp4, writeMac, type Ip4Input, type MacInput } from './addr.js';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
export const DHCP_MAGIC_COOKIE = 0x63825363;
/** The broadcast bit of the BOOTP `flags` field (RFC 2131 figure 2). */
export const DHCP_FLAG_BROADCAST = 0x8000;
export const BOOTP_REQUEST = 1;
export const BOOTP_REPLY = 2;

export const DHCPDISCOVER = 1;
export const DHCPOFFER = 2;
export const DHCPREQUEST = 3;
export const DHCPDECLINE = 4;
export const DHCPACK = 5;
export const DHCPNAK = 6;
export const DHCPRELEASE = 7;
export const DHCPINFORM = 8;

export const DHCP_MESSAGE_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'DHCPDISCOVER', 2: 'DHCPOFFER', 3: 'DHCPREQUEST', 4: 'DHCPDECLINE', 5: 'DHCPACK', 6: 'DHCPNAK', 7: 'DHCPRELEASE', 8: 'DHCPINFORM',
};

/** Option codes with a typed field in `DhcpOptions`. */
export const DHCP_OPT = {
  PAD: 0, SUBNET_MASK: 1, ROUTER: 3, DNS_SERVER: 6, HOSTNAME: 12, DOMAIN_NAME: 15, MTU: 26, BROADCAST_ADDRESS: 28,
  REQUESTED_IP: 50, LEASE_TIME: 51, OVERLOAD: 52, MESSAGE_TYPE: 53, SERVER_ID: 54, PARAMETER_REQUEST_LIST: 55,
  MESSAGE: 56, MAX_MESSAGE_SIZE: 57, T1: 58, T2: 59, CLIENT_ID: 61, CLASSLESS_STATIC_ROUTE: 121, END: 255,
} as const;

/** One RFC 3442 route: `prefix/plen` via `gateway` (0.0.0.0: on-link). */
export interface DhcpRoute {
  readonly prefix: string;
  readonly plen: number;
  readonly gateway: string;
}

/** An option without a typed field: its code and raw value bytes. */
export interface DhcpRawOption {
  readonly code: number;
  readonly data: Uint8Array;
}

/** The options of a message; absent fields are not sent. */
export interface DhcpOptions {
  /** 53 */
  readonly messageType?: number;
  /** 1 */
  readonly subnetMask?: string;
  /** 3 */
  readonly routers?: readonly string[];
  /** 6 */
  readonly dnsServers?: readonly string[];
  /** 12 */
  readonly hostname?: string;
  /** 15 */
  readonly domainName?: string;
  /** 26 */
  readonly mtu?: number;
  /** 28 */
  readonly broadcastAddress?: string;
  /** 50 */
  readonly requestedIp?: string;
  /** 51, seconds */
  readonly leaseTime?: number;
  /** 54 */
  readonly serverId?: string;
  /** 55 */
  readonly parameterRequestList?: readonly number[];
  /** 56 */
  readonly message?: string;
  /** 57 */
  readonly maxMessageSize?: number;
  /** 58 (T1), seconds */
  readonly renewalTime?: number;
  /** 59 (T2), seconds */
  readonly rebindingTime?: number;
  /** 61 */
  readonly clientId?: Uint8Array;
  /** 121 */
  readonly classlessStaticRoutes?: readonly DhcpRoute[];
  /** Every other option, in message order (never 0, 52 or 255). */
  readonly extra?: readonly DhcpRawOption[];
}

export interface DhcpMessage {
  /** BOOTP_REQUEST or BOOTP_REPLY. */
  readonly op: number;
  /** Hardware type, 1 = Ethernet. */
  readonly htype: number;
  readonly hlen: number;
  readonly hops: number;
  readonly xid: number;
  readonly secs: number;
  /** The whole flags field; bit 15 is `broadcast`. */
  readonly flags: number;
  readonly broadcast: boolean;
  readonly ciaddr: string;
  readonly yiaddr: string;
  readonly siaddr: string;
  readonly giaddr: string;
  /** The first 6 bytes of chaddr as a MAC (Ethernet clients). */
  readonly chaddr: string;
  /** Server host name / boot file name (NUL-terminated text fields), when not overloaded. */
  readonly sname: string;
  readonly file: string;
  readonly options: DhcpOptions;
}

/** What `encodeDhcp` takes: only `op`, `xid` and `chaddr` are required. */
export interface DhcpMessageInit {
  readonly op: number;
  readonly xid: number;
  readonly chaddr: MacInput;
  readonly htype?: number;
  readonly hlen?: number;
  readonly hops?: number;
  readonly secs?: number;
  readonly flags?: number;
  /** ORed into `flags` as bit 15. */
  readonly broadcast?: boolean;
  readonly ciaddr?: Ip4Input;
  readonly yiaddr?: Ip4Input;
  readonly siaddr?: Ip4Input;
  readonly giaddr?: Ip4Input;
  readonly sname?: string;
  readonly file?: string;
  readonly options?: DhcpOptions;
}

const FIXED_LEN = 236;
/** BOOTP's minimum message (RFC 1542 section 2.1); clients such as dhclient pad to it. */
const MIN_LEN = 300;
const enc = new TextEncoder();
const dec = new TextDecoder();

function ip4List(data: Uint8Array): string[] {
  const out: string[] = [];
  for (let o = 0; o + 4 <= data.length; o += 4) out.push(formatIp4(ip4FromBytes(data, o)));
  return out;
}

function ip4Bytes(list: readonly Ip4Input[]): Uint8Array {
  const b = new Uint8Array(4 * list.length);
  list.forEach((a, i) => writeIp4(b, 4 * i, toIp4(a)));
  return b;
}

function u16(v: number): Uint8Array {
  return Uint8Array.of(v >>> 8, v);
}

function u32(v: number): Uint8Array {
  return Uint8Array.of(v >>> 24, v >>> 16, v >>> 8, v);
}

function be16(b: Uint8Array, o = 0): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function be32(b: Uint8Array, o = 0): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** RFC 3442: width byte, the significant octets of the destination, then the router. */
export function encodeClasslessRoutes(routes: readonly DhcpRoute[]): Uint8Array {
  const parts: number[] = [];
  for (const r of routes) {
    if (!Number.isInteger(r.plen) || r.plen < 0 || r.plen > 32) throw new Error(`bad route prefix length ${r.plen}`);
    const dst = ip4Bytes([r.prefix]);
    parts.push(r.plen, ...dst.subarray(0, Math.ceil(r.plen / 8)), ...ip4Bytes([r.gateway]));
  }
  return Uint8Array.from(parts);
}

/** The inverse of `encodeClasslessRoutes`; host bits past the width are zero. Undefined if malformed. */
export function decodeClasslessRoutes(data: Uint8Array): DhcpRoute[] | undefined {
  const out: DhcpRoute[] = [];
  let o = 0;
  while (o < data.length) {
    const plen = data[o++]!;
    const n = Math.ceil(plen / 8);
    if (plen > 32 || o + n + 4 > data.length) return undefined;
    const dst = new Uint8Array(4);
    dst.set(data.subarray(o, o + n));
    o += n;
    out.push({ prefix: formatIp4(dst), plen, gateway: formatIp4(data.subarray(o, o + 4)) });
    o += 4;
  }
  return out;
}

/** Options in the order they are written: message type first (RFC 2131 does not require it, clients expect it). */
function optionList(o: DhcpOptions): DhcpRawOption[] {
  const out: DhcpRawOption[] = [];
  const put = (code: number, data: Uint8Array | undefined): void => {
    if (data !== undefined) out.push({ code, data });
  };
  const text = (s: string | undefined): Uint8Array | undefined => (s === undefined ? undefined : enc.encode(s));
  const num = (v: number | undefined, f: (v: number) => Uint8Array): Uint8Array | undefined => (v === undefined ? undefined : f(v));
  put(DHCP_OPT.MESSAGE_TYPE, num(o.messageType, (v) => Uint8Array.of(v)));
  put(DHCP_OPT.SERVER_ID, o.serverId === undefined ? undefined : ip4Bytes([o.serverId]));
  put(DHCP_OPT.REQUESTED_IP, o.requestedIp === undefined ? undefined : ip4Bytes([o.requestedIp]));
  put(DHCP_OPT.CLIENT_ID, o.clientId);
  put(DHCP_OPT.LEASE_TIME, num(o.leaseTime, u32));
  put(DHCP_OPT.T1, num(o.renewalTime, u32));
  put(DHCP_OPT.T2, num(o.rebindingTime, u32));
  put(DHCP_OPT.SUBNET_MASK, o.subnetMask === undefined ? undefined : ip4Bytes([o.subnetMask]));
  put(DHCP_OPT.BROADCAST_ADDRESS, o.broadcastAddress === undefined ? undefined : ip4Bytes([o.broadcastAddress]));
  put(DHCP_OPT.ROUTER, o.routers === undefined ? undefined : ip4Bytes(o.routers));
  put(DHCP_OPT.DNS_SERVER, o.dnsServers === undefined ? undefined : ip4Bytes(o.dnsServers));
  put(DHCP_OPT.HOSTNAME, text(o.hostname));
  put(DHCP_OPT.DOMAIN_NAME, text(o.domainName));
  put(DHCP_OPT.MTU, num(o.mtu, u16));
  put(DHCP_OPT.CLASSLESS_STATIC_ROUTE, o.classlessStaticRoutes === undefined ? undefined : encodeClasslessRoutes(o.classlessStaticRoutes));
  put(DHCP_OPT.PARAMETER_REQUEST_LIST, o.parameterRequestList === undefined ? undefined : Uint8Array.from(o.parameterRequestList));
  put(DHCP_OPT.MAX_MESSAGE_SIZE, num(o.maxMessageSize, u16));
  put(DHCP_OPT.MESSAGE, text(o.message));
  for (const x of o.extra ?? []) {
    if (x.code === DHCP_OPT.PAD || x.code === DHCP_OPT.END || x.code === DHCP_OPT.OVERLOAD || x.code > 255) {
      throw new Error(`option ${x.code} cannot be carried as an extra option`);
    }
    out.push(x);
  }
  return out;
}

/** A DHCP message as a UDP payload. Values longer than 255 bytes are split into repeated options (RFC 3396). */
export function encodeDhcp(m: DhcpMessageInit): Uint8Array {
  const opts: number[] = [];
  for (const { code, data } of optionList(m.options ?? {})) {
    // An empty value is still one option with length 0 (e.g. an empty parameter list).
    let o = 0;
    do {
      const n = Math.min(255, data.length - o);
      opts.push(code, n);
      for (let i = 0; i < n; i++) opts.push(data[o + i]!);
      o += n;
    } while (o < data.length);
  }
  opts.push(DHCP_OPT.END);
  const b = new Uint8Array(Math.max(MIN_LEN, FIXED_LEN + 4 + opts.length));
  b[0] = m.op;
  b[1] = m.htype ?? 1;
  b[2] = m.hlen ?? 6;
  b[3] = m.hops ?? 0;
  b.set(u32(m.xid >>> 0), 4);
  b.set(u16(m.secs ?? 0), 8);
  b.set(u16((m.flags ?? 0) | (m.broadcast ? DHCP_FLAG_BROADCAST : 0)), 10);
  writeIp4(b, 12, toIp4(m.ciaddr ?? 0));
  writeIp4(b, 16, toIp4(m.yiaddr ?? 0));
  writeIp4(b, 20, toIp4(m.siaddr ?? 0));
  writeIp4(b, 24, toIp4(m.giaddr ?? 0));
  writeMac(b, 28, toMac(m.chaddr));
  putText(b, 44, 64, m.sname ?? '', 'sname');
  putText(b, 108, 128, m.file ?? '', 'file');
  b.set(u32(DHCP_MAGIC_COOKIE), FIXED_LEN);
  b.set(opts, FIXED_LEN + 4);
  return b;
}

function putText(b: Uint8Array, off: number, size: number, s: string, what: string): void {
  const t = enc.encode(s);
  // One byte stays for the terminating NUL.
  if (t.length >= size) throw new Error(`${what} longer than ${size - 1} bytes`);
  b.set(t, off);
}

function getText(b: Uint8Array, off: number, size: number): string {
  const f = b.subarray(off, off + size);
  const nul = f.indexOf(0);
  return dec.decode(nul < 0 ? f : f.subarray(0, nul));
}

/**
 * Parses an options area into code → concatenated value (RFC 3396), in first-seen order.
 * False if an option overruns the area.
 */
function scanOptions(b: Uint8Array, start: number, end: number, into: Map<number, Uint8Array[]>): boolean {
  let o = start;
  while (o < end) {
    const code = b[o]!;
    if (code === DHCP_OPT.PAD) {
      o++;
      continue;
    }
    if (code === DHCP_OPT.END) return true;
    if (o + 2 > end) return false;
    const n = b[o + 1]!;
    if (o + 2 + n > end) return false;
    const list = into.get(code);
    const data = b.slice(o + 2, o + 2 + n);
    if (list) list.push(data);
    else into.set(code, [data]);
    o += 2 + n;
  }
  // No END option: RFC 2131 requires it, but the area's end is as good a stop.
  return true;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The typed field an option fills, or undefined for an untyped code or a malformed value. */
function typedValue(code: number, d: Uint8Array): readonly [keyof DhcpOptions, unknown] | undefined {
  const ip = (): string | undefined => (d.length === 4 ? formatIp4(ip4FromBytes(d)) : undefined);
  const ips = (): string[] | undefined => (d.length % 4 === 0 ? ip4List(d) : undefined);
  const n16 = (): number | undefined => (d.length === 2 ? be16(d) : undefined);
  const n32 = (): number | undefined => (d.length === 4 ? be32(d) : undefined);
  let k: keyof DhcpOptions;
  let v: unknown;
  switch (code) {
    case DHCP_OPT.MESSAGE_TYPE: k = 'messageType'; v = d.length === 1 ? d[0]! : undefined; break;
    case DHCP_OPT.SUBNET_MASK: k = 'subnetMask'; v = ip(); break;
    case DHCP_OPT.ROUTER: k = 'routers'; v = ips(); break;
    case DHCP_OPT.DNS_SERVER: k = 'dnsServers'; v = ips(); break;
    case DHCP_OPT.HOSTNAME: k = 'hostname'; v = dec.decode(d); break;
    case DHCP_OPT.DOMAIN_NAME: k = 'domainName'; v = dec.decode(d); break;
    case DHCP_OPT.MTU: k = 'mtu'; v = n16(); break;
    case DHCP_OPT.BROADCAST_ADDRESS: k = 'broadcastAddress'; v = ip(); break;
    case DHCP_OPT.REQUESTED_IP: k = 'requestedIp'; v = ip(); break;
    case DHCP_OPT.LEASE_TIME: k = 'leaseTime'; v = n32(); break;
    case DHCP_OPT.SERVER_ID: k = 'serverId'; v = ip(); break;
    case DHCP_OPT.PARAMETER_REQUEST_LIST: k = 'parameterRequestList'; v = [...d]; break;
    case DHCP_OPT.MESSAGE: k = 'message'; v = dec.decode(d); break;
    case DHCP_OPT.MAX_MESSAGE_SIZE: k = 'maxMessageSize'; v = n16(); break;
    case DHCP_OPT.T1: k = 'renewalTime'; v = n32(); break;
    case DHCP_OPT.T2: k = 'rebindingTime'; v = n32(); break;
    case DHCP_OPT.CLIENT_ID: k = 'clientId'; v = d; break;
    case DHCP_OPT.CLASSLESS_STATIC_ROUTE: k = 'classlessStaticRoutes'; v = decodeClasslessRoutes(d); break;
    default: return undefined;
  }
  return v === undefined ? undefined : [k, v];
}

/**
 * Decodes a DHCP message (the UDP payload); undefined if it is shorter than the fixed header,
 * lacks the magic cookie, or has an overrunning option. A typed option of the wrong size goes to
 * `extra`. Option 52 (overload) moves further options into `file`/`sname`, which are then
 * reported empty.
 */
export function decodeDhcp(b: Uint8Array): DhcpMessage | undefined {
  if (b.length < FIXED_LEN + 4 || be32(b, FIXED_LEN) !== DHCP_MAGIC_COOKIE) return undefined;
  const raw = new Map<number, Uint8Array[]>();
  if (!scanOptions(b, FIXED_LEN + 4, b.length, raw)) return undefined;
  const overload = raw.get(DHCP_OPT.OVERLOAD)?.[0]?.[0] ?? 0;
  // RFC 2131 section 4.1: file is scanned before sname.
  if (overload & 1 && !scanOptions(b, 108, 236, raw)) return undefined;
  if (overload & 2 && !scanOptions(b, 44, 108, raw)) return undefined;
  const opts: Mutable<DhcpOptions> = {};
  const extra: DhcpRawOption[] = [];
  for (const [code, parts] of raw) {
    if (code === DHCP_OPT.OVERLOAD) continue;
    const d = concat(parts);
    const v = typedValue(code, d);
    // A typed option of the wrong size is kept raw rather than failing the whole message.
    if (v === undefined) extra.push({ code, data: d });
    else (opts as Record<string, unknown>)[v[0]] = v[1];
  }
  if (extra.length) opts.extra = extra;
  const flags = be16(b, 10);
  return {
    op: b[0]!, htype: b[1]!, hlen: b[2]!, hops: b[3]!, xid: be32(b, 4), secs: be16(b, 8), flags,
    broadcast: (flags & DHCP_FLAG_BROADCAST) !== 0,
    ciaddr: formatIp4(ip4FromBytes(b, 12)), yiaddr: formatIp4(ip4FromBytes(b, 16)),
    siaddr: formatIp4(ip4FromBytes(b, 20)), giaddr: formatIp4(ip4FromBytes(b, 24)),
    chaddr: formatMac(macFromBytes(b, 28)),
    sname: overload & 2 ? '' : getText(b, 44, 64),
    file: overload & 1 ? '' : getText(b, 108, 128),
    options: opts,
  };
}

// ---------- OVN's option names ----------

/** Value types of ovn-nb(5) DHCP_Options (northd's supported_dhcp_opts). */
export type OvnDhcpOptionType = 'ipv4' | 'bool' | 'uint8' | 'uint16' | 'uint32' | 'str' | 'host_id' | 'domains' | 'static_routes';

/** name → [code, type], as OVN 23.03 lists them; `offerip` (code 0) is the yiaddr, not an option. */
export const OVN_DHCP_OPTIONS: Readonly<Record<string, readonly [number, OvnDhcpOptionType]>> = {
  offerip: [0, 'ipv4'], netmask: [1, 'ipv4'], router: [3, 'ipv4'], dns_server: [6, 'ipv4'], log_server: [7, 'ipv4'],
  lpr_server: [9, 'ipv4'], hostname: [12, 'str'], domain_name: [15, 'str'], swap_server: [16, 'ipv4'],
  ip_forward_enable: [19, 'bool'], policy_filter: [21, 'ipv4'], default_ttl: [23, 'uint8'], mtu: [26, 'uint16'],
  broadcast_address: [28, 'ipv4'], router_discovery: [31, 'bool'], router_solicitation: [32, 'ipv4'],
  arp_cache_timeout: [35, 'uint32'], ethernet_encap: [36, 'bool'], tcp_ttl: [37, 'uint8'],
  tcp_keepalive_interval: [38, 'uint32'], nis_server: [41, 'ipv4'], ntp_server: [42, 'ipv4'],
  netbios_name_server: [44, 'ipv4'], netbios_node_type: [46, 'uint8'], lease_time: [51, 'uint32'],
  server_id: [54, 'ipv4'], T1: [58, 'uint32'], T2: [59, 'uint32'], tftp_server: [66, 'host_id'],
  bootfile_name: [67, 'str'], domain_search_list: [119, 'domains'], classless_static_route: [121, 'static_routes'],
  tftp_server_address: [150, 'ipv4'], path_prefix: [210, 'str'], ms_classless_static_route: [249, 'static_routes'],
  wpad: [252, 'str'], next_server: [253, 'ipv4'], bootfile_name_alt: [254, 'str'],
};

function unquote(s: string): string {
  const t = s.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? (JSON.parse(t) as string) : t;
}

/**
 * Splits an OVN list value into items: `{a, b}` sets, comma/space separated, quoted items
 * unquoted. A string[] is taken as already split (each item may still be quoted).
 */
function ovnItems(v: string | readonly string[]): string[] {
  if (typeof v !== 'string') return v.map(unquote);
  let s = v.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  const out: string[] = [];
  for (const m of s.matchAll(/"(?:[^"\\]|\\.)*"|[^\s,]+/g)) out.push(unquote(m[0]));
  return out;
}

/** A scalar value: the whole text, unquoted (strings may hold spaces and commas). */
function ovnScalar(name: string, v: string | readonly string[]): string {
  if (typeof v === 'string') return unquote(v);
  if (v.length !== 1) throw new Error(`DHCP option ${name} takes one value, not ${v.length}`);
  return unquote(v[0]!);
}

function ovnInt(name: string, s: string, max: number): number {
  const n = /^(0x[0-9a-f]+|[0-9]+)$/i.test(s) ? Number(s) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`DHCP option ${name}: bad value "${s}"`);
  return n;
}

/** RFC 1035 wire names, uncompressed (RFC 3397 allows that). */
function encodeDomains(names: readonly string[]): Uint8Array {
  const out: number[] = [];
  for (const name of names) {
    for (const label of name.replace(/\.$/, '').split('.')) {
      if (label === '') continue;
      const l = enc.encode(label);
      if (l.length > 63) throw new Error(`domain label "${label}" longer than 63 bytes`);
      out.push(l.length, ...l);
    }
    out.push(0);
  }
  return Uint8Array.from(out);
}

function encodeOvnValue(name: string, type: OvnDhcpOptionType, value: string | readonly string[]): Uint8Array {
  switch (type) {
    case 'ipv4': {
      const items = ovnItems(value);
      if (items.length === 0) throw new Error(`DHCP option ${name} has no address`);
      return ip4Bytes(items);
    }
    case 'bool': {
      const s = ovnScalar(name, value);
      return Uint8Array.of(s === 'true' ? 1 : s === 'false' ? 0 : ovnInt(name, s, 1));
    }
    case 'uint8': return Uint8Array.of(ovnInt(name, ovnScalar(name, value), 0xff));
    case 'uint16': return u16(ovnInt(name, ovnScalar(name, value), 0xffff));
    case 'uint32': return u32(ovnInt(name, ovnScalar(name, value), 0xffffffff));
    case 'str': return enc.encode(ovnScalar(name, value));
    case 'host_id': {
      // OVN sends an address as 4 bytes and a name as text (lib/actions.c, "host_id").
      const s = ovnScalar(name, value);
      return /^\d+\.\d+\.\d+\.\d+$/.test(s) ? ip4Bytes([s]) : enc.encode(s);
    }
    case 'domains':
      // Usually one quoted string "a.org,b.org"; its items are split once more.
      return encodeDomains(ovnItems(value).flatMap((s) => s.split(/[\s,]+/)).filter((s) => s !== ''));
    case 'static_routes': {
      // "{30.0.0.0/24,10.0.0.10, 0.0.0.0/0,10.0.0.1}": destination, router, destination, router …
      const items = ovnItems(value);
      if (items.length === 0 || items.length % 2) throw new Error(`DHCP option ${name}: routes come in destination,router pairs`);
      const routes: DhcpRoute[] = [];
      for (let i = 0; i < items.length; i += 2) {
        const [prefix, plen] = items[i]!.split('/');
        routes.push({ prefix: prefix!, plen: plen === undefined ? 32 : ovnInt(name, plen, 32), gateway: items[i + 1]! });
      }
      return encodeClasslessRoutes(routes);
    }
  }
}

export interface OvnDhcpReplyOptions {
  /** `offerip`: the address to put in yiaddr. */
  readonly offerIp?: string;
  readonly options: DhcpOptions;
}

/**
 * put_dhcp_opts(...) arguments → the reply's options (message type not included: the responder
 * sets OFFER or ACK). Values are OVN's text (`"{8.8.8.8, 1.1.1.1}"`, `"\"host\""`, `3600`) or
 * pre-split lists. Options with a typed field land there, others in `extra` in argument order.
 * Throws on an unknown name or a bad value, as OVN's action parser would.
 */
export function dhcpOptionsFromOvn(opts: Readonly<Record<string, string | readonly string[]>>): OvnDhcpReplyOptions {
  let offerIp: string | undefined;
  const typed: Mutable<DhcpOptions> = {};
  const extra: DhcpRawOption[] = [];
  for (const [name, value] of Object.entries(opts)) {
    const spec = OVN_DHCP_OPTIONS[name];
    if (!spec) throw new Error(`unknown DHCP option "${name}"`);
    const [code, type] = spec;
    const data = encodeOvnValue(name, type, value);
    if (code === 0) {
      offerIp = formatIp4(ip4FromBytes(data));
      continue;
    }
    switch (code) {
      case DHCP_OPT.SUBNET_MASK: typed.subnetMask = formatIp4(ip4FromBytes(data)); break;
      case DHCP_OPT.ROUTER: typed.routers = ip4List(data); break;
      case DHCP_OPT.DNS_SERVER: typed.dnsServers = ip4List(data); break;
      case DHCP_OPT.HOSTNAME: typed.hostname = dec.decode(data); break;
      case DHCP_OPT.DOMAIN_NAME: typed.domainName = dec.decode(data); break;
      case DHCP_OPT.MTU: typed.mtu = be16(data); break;
      case DHCP_OPT.BROADCAST_ADDRESS: typed.broadcastAddress = formatIp4(ip4FromBytes(data)); break;
      case DHCP_OPT.LEASE_TIME: typed.leaseTime = be32(data); break;
      case DHCP_OPT.SERVER_ID: typed.serverId = formatIp4(ip4FromBytes(data)); break;
      case DHCP_OPT.T1: typed.renewalTime = be32(data); break;
      case DHCP_OPT.T2: typed.rebindingTime = be32(data); break;
      case DHCP_OPT.CLASSLESS_STATIC_ROUTE: typed.classlessStaticRoutes = decodeClasslessRoutes(data)!; break;
      default: extra.push({ code, data });
    }
  }
  if (extra.length) typed.extra = extra;
  return offerIp === undefined ? { options: typed } : { offerIp, options: typed };
}
