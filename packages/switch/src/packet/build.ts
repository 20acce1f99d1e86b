/**
 * Packet builders for the controller (ARP/ND replies, ICMP errors, TCP resets) and the simulated
 * VMs. They allocate freely and accept addresses as text, numbers or bytes: they are not on the
 * switch's per-packet path. Every builder returns a complete Ethernet frame with all checksums set.
 */
import {
  MAC_BROADCAST, ip6MulticastMac, solicitedNodeAddress, toIp4, toIp6, toMac, writeIp4, writeIp6, writeMac,
  type Ip4Input, type Ip6Input, type MacInput,
} from './addr.js';
import { internetChecksum, pseudoHeaderSum, sctpChecksumFix } from './checksum.js';
import {
  ARP_OP_REQUEST, ETH_TYPE_ARP, ETH_TYPE_IP4, ETH_TYPE_IP6, ETH_TYPE_VLAN, ETH_TYPE_VLAN_8021AD, ICMP4_ECHO_REPLY, ICMP4_ECHO_REQUEST,
  ICMP6_ECHO_REPLY, ICMP6_ECHO_REQUEST, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_ICMP,
  IPPROTO_ICMPV6, IPPROTO_ROUTING, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, ND_NEIGHBOR_ADVERT, ND_NEIGHBOR_SOLICIT,
  ND_OPT_SOURCE_LL, ND_OPT_TARGET_LL, VLAN_PRESENT,
} from './constants.js';

const EMPTY = new Uint8Array(0);

export interface EthSpec {
  readonly src: MacInput;
  readonly dst: MacInput;
  /**
   * The 802.1Q tag control information to put in one tag (PCP << 13 | DEI << 12 | VID); no tag
   * when absent. A flow key's vlan_tci is this with 0x1000 forced on.
   */
  readonly vlanTci?: number;
}

export interface Ip4Spec {
  readonly src: Ip4Input;
  readonly dst: Ip4Input;
  /** Default 64. */
  readonly ttl?: number;
  /** The whole TOS byte: DSCP << 2 | ECN. Default 0. */
  readonly tos?: number;
  readonly id?: number;
  readonly dontFragment?: boolean;
  readonly moreFragments?: boolean;
  /** Fragment offset in 8-byte units. */
  readonly fragOffset?: number;
  /** IP options, zero-padded to a multiple of 4 bytes (at most 40). */
  readonly options?: Uint8Array;
}

/** An IPv6 extension header: HBH, routing, destination options (`body` = bytes after the 2-byte prefix, zero-padded to 8n-2), or a fragment header. */
export type Ip6Extension =
  | { readonly type: typeof IPPROTO_HOPOPTS | typeof IPPROTO_ROUTING | typeof IPPROTO_DSTOPTS; readonly body?: Uint8Array }
  | { readonly type: typeof IPPROTO_FRAGMENT; readonly offset: number; readonly more: boolean; readonly id: number };

export interface Ip6Spec {
  readonly src: Ip6Input;
  readonly dst: Ip6Input;
  /** Default 64. */
  readonly hopLimit?: number;
  /** The whole traffic-class byte: DSCP << 2 | ECN. */
  readonly trafficClass?: number;
  readonly flowLabel?: number;
  readonly extensions?: readonly Ip6Extension[];
}

export interface TcpSpec {
  readonly proto: 'tcp';
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq?: number;
  readonly ack?: number;
  /** The 12 flag bits (TCP_SYN | TCP_ACK …). */
  readonly flags?: number;
  /** Default 65535. */
  readonly window?: number;
  readonly urgent?: number;
  /** TCP options, zero-padded to a multiple of 4 bytes. */
  readonly options?: Uint8Array;
  readonly payload?: Uint8Array;
}

export interface UdpSpec {
  readonly proto: 'udp';
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload?: Uint8Array;
  /** Send checksum 0 ("none"); IPv4 only. */
  readonly noChecksum?: boolean;
}

export interface SctpSpec {
  readonly proto: 'sctp';
  readonly srcPort: number;
  readonly dstPort: number;
  readonly verificationTag?: number;
  /** The chunks after the 12-byte common header. */
  readonly chunks?: Uint8Array;
}

export interface IcmpSpec {
  /** 'icmp' over IPv4, 'icmp6' over IPv6. */
  readonly proto: 'icmp' | 'icmp6';
  readonly type: number;
  readonly code: number;
  /** Header bytes 4..7 (echo id << 16 | seq, MTU, pointer, ND flags …). */
  readonly rest?: number;
  readonly payload?: Uint8Array;
}

export interface RawL4Spec {
  readonly proto: number;
  readonly payload?: Uint8Array;
}

export type L4Spec = TcpSpec | UdpSpec | SctpSpec | IcmpSpec | RawL4Spec;

/** An Ethernet frame around `payload`, with one 802.1Q tag if `vlanTci` is given. */
export function buildEthernet(dst: MacInput, src: MacInput, ethType: number, payload: Uint8Array, vlanTci?: number): Uint8Array {
  const hl = vlanTci === undefined ? 14 : 18;
  const out = new Uint8Array(hl + payload.length);
  writeMac(out, 0, toMac(dst));
  writeMac(out, 6, toMac(src));
  if (vlanTci !== undefined) {
    put16(out, 12, ETH_TYPE_VLAN);
    put16(out, 14, vlanTci);
  }
  put16(out, hl - 2, ethType);
  out.set(payload, hl);
  return out;
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

function ethFrame(eth: EthSpec, ethType: number, payload: Uint8Array): Uint8Array {
  return buildEthernet(eth.dst, eth.src, ethType, payload, eth.vlanTci);
}

/** An ARP packet; Ethernet source defaults to `sha`, destination to broadcast for requests, else `tha`. */
export function buildArp(
  op: number, sha: MacInput, spa: Ip4Input, tha: MacInput, tpa: Ip4Input,
  eth: { readonly src?: MacInput; readonly dst?: MacInput; readonly vlanTci?: number } = {},
): Uint8Array {
  const a = new Uint8Array(28);
  put16(a, 0, 1);
  put16(a, 2, ETH_TYPE_IP4);
  a[4] = 6;
  a[5] = 4;
  put16(a, 6, op);
  writeMac(a, 8, toMac(sha));
  writeIp4(a, 14, toIp4(spa));
  writeMac(a, 18, toMac(tha));
  writeIp4(a, 24, toIp4(tpa));
  const dst = eth.dst ?? (op === ARP_OP_REQUEST ? MAC_BROADCAST : tha);
  return buildEthernet(dst, eth.src ?? sha, ETH_TYPE_ARP, a, eth.vlanTci);
}

function l4Number(l4: L4Spec, v6: boolean): number {
  switch (l4.proto) {
    case 'tcp': return IPPROTO_TCP;
    case 'udp': return IPPROTO_UDP;
    case 'sctp': return IPPROTO_SCTP;
    case 'icmp':
      if (v6) throw new Error('ICMPv4 inside IPv6: use icmp6');
      return IPPROTO_ICMP;
    case 'icmp6':
      if (!v6) throw new Error('ICMPv6 inside IPv4: use icmp');
      return IPPROTO_ICMPV6;
    default: return l4.proto;
  }
}

/** The L4 bytes with a zero checksum, plus where its checksum sits (-1: none or not Internet-style). */
function l4Bytes(l4: L4Spec): { bytes: Uint8Array; csumAt: number } {
  switch (l4.proto) {
    case 'tcp': {
      const opts = padTo(l4.options ?? EMPTY, 4);
      if (opts.length > 40) throw new Error('TCP options exceed 40 bytes');
      const payload = l4.payload ?? EMPTY;
      const hl = 20 + opts.length;
      const b = new Uint8Array(hl + payload.length);
      put16(b, 0, l4.srcPort);
      put16(b, 2, l4.dstPort);
      put32(b, 4, l4.seq ?? 0);
      put32(b, 8, l4.ack ?? 0);
      put16(b, 12, ((hl >> 2) << 12) | ((l4.flags ?? 0) & 0x0fff));
      put16(b, 14, l4.window ?? 65535);
      put16(b, 18, l4.urgent ?? 0);
      b.set(opts, 20);
      b.set(payload, hl);
      return { bytes: b, csumAt: 16 };
    }
    case 'udp': {
      const payload = l4.payload ?? EMPTY;
      const b = new Uint8Array(8 + payload.length);
      put16(b, 0, l4.srcPort);
      put16(b, 2, l4.dstPort);
      put16(b, 4, b.length);
      b.set(payload, 8);
      return { bytes: b, csumAt: l4.noChecksum ? -1 : 6 };
    }
    case 'sctp': {
      const chunks = l4.chunks ?? EMPTY;
      const b = new Uint8Array(12 + chunks.length);
      put16(b, 0, l4.srcPort);
      put16(b, 2, l4.dstPort);
      put32(b, 4, l4.verificationTag ?? 0);
      b.set(chunks, 12);
      sctpChecksumFix(b, 0, b.length);
      return { bytes: b, csumAt: -1 };
    }
    case 'icmp':
    case 'icmp6': {
      const payload = l4.payload ?? EMPTY;
      const b = new Uint8Array(8 + payload.length);
      b[0] = l4.type;
      b[1] = l4.code;
      put32(b, 4, l4.rest ?? 0);
      b.set(payload, 8);
      return { bytes: b, csumAt: 2 };
    }
    default:
      return { bytes: l4.payload ?? EMPTY, csumAt: -1 };
  }
}

function padTo(b: Uint8Array, n: number): Uint8Array {
  if (b.length % n === 0) return b;
  const out = new Uint8Array(b.length + n - (b.length % n));
  out.set(b);
  return out;
}

/** An IPv4 packet (no Ethernet header) around `payload`, header checksum set. */
export function buildIpv4(ip: Ip4Spec, proto: number, payload: Uint8Array): Uint8Array {
  const opts = padTo(ip.options ?? EMPTY, 4);
  if (opts.length > 40) throw new Error('IPv4 options exceed 40 bytes');
  const hl = 20 + opts.length;
  const total = hl + payload.length;
  if (total > 0xffff) throw new Error('IPv4 packet exceeds 65535 bytes');
  const b = new Uint8Array(total);
  b[0] = 0x40 | (hl >> 2);
  b[1] = ip.tos ?? 0;
  put16(b, 2, total);
  put16(b, 4, ip.id ?? 0);
  put16(b, 6, (ip.dontFragment ? 0x4000 : 0) | (ip.moreFragments ? 0x2000 : 0) | ((ip.fragOffset ?? 0) & 0x1fff));
  b[8] = ip.ttl ?? 64;
  b[9] = proto;
  writeIp4(b, 12, toIp4(ip.src));
  writeIp4(b, 16, toIp4(ip.dst));
  b.set(opts, 20);
  put16(b, 10, internetChecksum(b, 0, hl));
  b.set(payload, hl);
  return b;
}

/** An IPv4 frame carrying `l4`, with IPv4 and L4 checksums. */
export function buildIp4Frame(eth: EthSpec, ip: Ip4Spec, l4: L4Spec): Uint8Array {
  const { bytes, csumAt } = l4Bytes(l4);
  const proto = l4Number(l4, false);
  const pkt = buildIpv4(ip, proto, bytes);
  const l4Off = pkt.length - bytes.length;
  if (csumAt >= 0) {
    const init = proto === IPPROTO_ICMP ? 0 : pseudoHeaderSum(pkt, 12, 8, proto, bytes.length);
    let c = internetChecksum(pkt, l4Off, pkt.length, init);
    if (proto === IPPROTO_UDP && c === 0) c = 0xffff;
    put16(pkt, l4Off + csumAt, c);
  }
  return ethFrame(eth, ETH_TYPE_IP4, pkt);
}

function extBytes(exts: readonly Ip6Extension[], last: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  exts.forEach((e, i) => {
    const next = i + 1 < exts.length ? exts[i + 1]!.type : last;
    if (e.type === IPPROTO_FRAGMENT) {
      const b = new Uint8Array(8);
      b[0] = next;
      put16(b, 2, ((e.offset & 0x1fff) << 3) | (e.more ? 1 : 0));
      put32(b, 4, e.id);
      out.push(b);
    } else {
      const body = e.body ?? EMPTY;
      const len = Math.ceil((body.length + 2) / 8) * 8;
      if (len > 2048) throw new Error('IPv6 extension header exceeds 2048 bytes');
      const b = new Uint8Array(len);
      b[0] = next;
      b[1] = len / 8 - 1;
      b.set(body, 2);
      out.push(b);
    }
  });
  return out;
}

/** An IPv6 frame carrying `l4` (after the given extension headers), with its L4 checksum. */
export function buildIp6Frame(eth: EthSpec, ip: Ip6Spec, l4: L4Spec): Uint8Array {
  const { bytes, csumAt } = l4Bytes(l4);
  const proto = l4Number(l4, true);
  const exts = ip.extensions ?? [];
  const extParts = extBytes(exts, proto);
  const extLen = extParts.reduce((n, b) => n + b.length, 0);
  const plen = extLen + bytes.length;
  if (plen > 0xffff) throw new Error('IPv6 payload exceeds 65535 bytes');
  const b = new Uint8Array(40 + plen);
  const tc = ip.trafficClass ?? 0;
  const label = ip.flowLabel ?? 0;
  put32(b, 0, ((6 << 28) | ((tc & 0xff) << 20) | (label & 0xfffff)) >>> 0);
  put16(b, 4, plen);
  b[6] = exts.length ? exts[0]!.type : proto;
  b[7] = ip.hopLimit ?? 64;
  writeIp6(b, 8, toIp6(ip.src));
  writeIp6(b, 24, toIp6(ip.dst));
  let o = 40;
  for (const e of extParts) {
    b.set(e, o);
    o += e.length;
  }
  b.set(bytes, o);
  if (csumAt >= 0) {
    let c = internetChecksum(b, o, b.length, pseudoHeaderSum(b, 8, 32, proto, bytes.length));
    if (proto === IPPROTO_UDP && c === 0) c = 0xffff;
    put16(b, o + csumAt, c);
  }
  return ethFrame(eth, ETH_TYPE_IP6, b);
}

export interface EchoSpec {
  readonly id: number;
  readonly seq: number;
  readonly data?: Uint8Array;
  /** An echo reply instead of a request. */
  readonly reply?: boolean;
}

export function buildIcmp4Echo(eth: EthSpec, ip: Ip4Spec, echo: EchoSpec): Uint8Array {
  return buildIp4Frame(eth, ip, {
    proto: 'icmp', type: echo.reply ? ICMP4_ECHO_REPLY : ICMP4_ECHO_REQUEST, code: 0,
    rest: (((echo.id & 0xffff) << 16) | (echo.seq & 0xffff)) >>> 0, payload: echo.data ?? EMPTY,
  });
}

export function buildIcmp6Echo(eth: EthSpec, ip: Ip6Spec, echo: EchoSpec): Uint8Array {
  return buildIp6Frame(eth, ip, {
    proto: 'icmp6', type: echo.reply ? ICMP6_ECHO_REPLY : ICMP6_ECHO_REQUEST, code: 0,
    rest: (((echo.id & 0xffff) << 16) | (echo.seq & 0xffff)) >>> 0, payload: echo.data ?? EMPTY,
  });
}

export interface IcmpErrorSpec {
  /** The address of the router or host reporting the error. */
  readonly ipSrc: Ip4Input;
  /** Default: the original frame's Ethernet destination. */
  readonly ethSrc?: MacInput;
  /** Default: the original frame's Ethernet source. */
  readonly ethDst?: MacInput;
  readonly vlanTci?: number;
  /** Default 255. */
  readonly ttl?: number;
  /** Header bytes 4..7, e.g. the next-hop MTU for "fragmentation needed" (type 3 code 4). */
  readonly rest?: number;
}

/** The offset of the L3 header in an Ethernet frame (after at most one VLAN tag). */
function l3Offset(frame: Uint8Array): number {
  if (frame.length < 14) throw new Error('frame shorter than an Ethernet header');
  const t = (frame[12]! << 8) | frame[13]!;
  return t === ETH_TYPE_VLAN || t === ETH_TYPE_VLAN_8021AD ? 18 : 14;
}

/**
 * An ICMPv4 error about the IPv4 frame `original`, sent back to its source: the quote is the
 * original IP header plus the first 8 bytes of its payload (RFC 792).
 */
export function buildIcmp4Error(type: number, code: number, original: Uint8Array, spec: IcmpErrorSpec): Uint8Array {
  const l3 = l3Offset(original);
  if (original.length < l3 + 20 || original[l3]! >> 4 !== 4) throw new Error('not an IPv4 frame');
  const ihl = (original[l3]! & 15) * 4;
  const total = Math.min((original[l3 + 2]! << 8) | original[l3 + 3]!, original.length - l3);
  const quote = original.slice(l3, l3 + Math.min(total, ihl + 8));
  const eth: EthSpec = {
    src: spec.ethSrc ?? original.subarray(0, 6),
    dst: spec.ethDst ?? original.subarray(6, 12),
    ...(spec.vlanTci !== undefined ? { vlanTci: spec.vlanTci } : {}),
  };
  return buildIp4Frame(eth, { src: spec.ipSrc, dst: original.subarray(l3 + 12, l3 + 16), ttl: spec.ttl ?? 255 }, {
    proto: 'icmp', type, code, rest: spec.rest ?? 0, payload: quote,
  });
}

export interface Icmp6ErrorSpec extends Omit<IcmpErrorSpec, 'ipSrc' | 'ttl'> {
  readonly ipSrc: Ip6Input;
  /** Default 255. */
  readonly hopLimit?: number;
}

/** An ICMPv6 error about the IPv6 frame `original`: quotes as much of it as keeps the error within the 1280-byte minimum MTU (RFC 4443 section 2.4). */
export function buildIcmp6Error(type: number, code: number, original: Uint8Array, spec: Icmp6ErrorSpec): Uint8Array {
  const l3 = l3Offset(original);
  if (original.length < l3 + 40 || original[l3]! >> 4 !== 6) throw new Error('not an IPv6 frame');
  const quote = original.slice(l3, l3 + Math.min(original.length - l3, 1280 - 48));
  const eth: EthSpec = {
    src: spec.ethSrc ?? original.subarray(0, 6),
    dst: spec.ethDst ?? original.subarray(6, 12),
    ...(spec.vlanTci !== undefined ? { vlanTci: spec.vlanTci } : {}),
  };
  return buildIp6Frame(eth, { src: spec.ipSrc, dst: original.subarray(l3 + 8, l3 + 24), hopLimit: spec.hopLimit ?? 255 }, {
    proto: 'icmp6', type, code, rest: spec.rest ?? 0, payload: quote,
  });
}

function ndOption(type: number, mac: MacInput): Uint8Array {
  const o = new Uint8Array(8);
  o[0] = type;
  o[1] = 1;
  writeMac(o, 2, toMac(mac));
  return o;
}

function ndBody(target: Ip6Input, option: Uint8Array | undefined): Uint8Array {
  const b = new Uint8Array(16 + (option ? option.length : 0));
  writeIp6(b, 0, toIp6(target));
  if (option) b.set(option, 16);
  return b;
}

export interface NeighborSolicitationSpec {
  readonly ethSrc: MacInput;
  /** `::` for duplicate address detection (then no source link-layer option is sent). */
  readonly ipSrc: Ip6Input;
  readonly target: Ip6Input;
  /** Default: the target's solicited-node multicast group (and its 33:33 MAC). */
  readonly ipDst?: Ip6Input;
  readonly ethDst?: MacInput;
  /** Source link-layer address option; default `ethSrc`; `null` leaves it out. */
  readonly sll?: MacInput | null;
  readonly vlanTci?: number;
}

/** A Neighbor Solicitation (RFC 4861 section 4.3), hop limit 255. */
export function buildNeighborSolicitation(s: NeighborSolicitationSpec): Uint8Array {
  const ipDst = s.ipDst !== undefined ? toIp6(s.ipDst) : solicitedNodeAddress(s.target);
  const unspecified = toIp6(s.ipSrc) === 0n;
  const sll = s.sll === null || (s.sll === undefined && unspecified) ? undefined : ndOption(ND_OPT_SOURCE_LL, s.sll ?? s.ethSrc);
  const eth: EthSpec = { src: s.ethSrc, dst: s.ethDst ?? ip6MulticastMac(ipDst), ...(s.vlanTci !== undefined ? { vlanTci: s.vlanTci } : {}) };
  return buildIp6Frame(eth, { src: s.ipSrc, dst: ipDst, hopLimit: 255 }, {
    proto: 'icmp6', type: ND_NEIGHBOR_SOLICIT, code: 0, rest: 0, payload: ndBody(s.target, sll),
  });
}

export interface NeighborAdvertisementSpec {
  readonly ethSrc: MacInput;
  readonly ethDst: MacInput;
  readonly ipSrc: Ip6Input;
  readonly ipDst: Ip6Input;
  readonly target: Ip6Input;
  /** Target link-layer address option; default `ethSrc`; `null` leaves it out. */
  readonly tll?: MacInput | null;
  readonly router?: boolean;
  /** Default true. */
  readonly solicited?: boolean;
  /** Default true. */
  readonly override?: boolean;
  readonly vlanTci?: number;
}

/** A Neighbor Advertisement (RFC 4861 section 4.4), hop limit 255. */
export function buildNeighborAdvertisement(s: NeighborAdvertisementSpec): Uint8Array {
  const tll = s.tll === null ? undefined : ndOption(ND_OPT_TARGET_LL, s.tll ?? s.ethSrc);
  const flags = (s.router ? 0x80000000 : 0) + ((s.solicited ?? true) ? 0x40000000 : 0) + ((s.override ?? true) ? 0x20000000 : 0);
  const eth: EthSpec = { src: s.ethSrc, dst: s.ethDst, ...(s.vlanTci !== undefined ? { vlanTci: s.vlanTci } : {}) };
  return buildIp6Frame(eth, { src: s.ipSrc, dst: s.ipDst, hopLimit: 255 }, {
    proto: 'icmp6', type: ND_NEIGHBOR_ADVERT, code: 0, rest: flags, payload: ndBody(s.target, tll),
  });
}

export function buildUdp4(eth: EthSpec, ip: Ip4Spec, udp: Omit<UdpSpec, 'proto'>): Uint8Array {
  return buildIp4Frame(eth, ip, { ...udp, proto: 'udp' });
}

export function buildUdp6(eth: EthSpec, ip: Ip6Spec, udp: Omit<UdpSpec, 'proto' | 'noChecksum'>): Uint8Array {
  return buildIp6Frame(eth, ip, { ...udp, proto: 'udp' });
}

export function buildTcp4(eth: EthSpec, ip: Ip4Spec, tcp: Omit<TcpSpec, 'proto'>): Uint8Array {
  return buildIp4Frame(eth, ip, { ...tcp, proto: 'tcp' });
}

export function buildTcp6(eth: EthSpec, ip: Ip6Spec, tcp: Omit<TcpSpec, 'proto'>): Uint8Array {
  return buildIp6Frame(eth, ip, { ...tcp, proto: 'tcp' });
}

/** The key's vlan_tci for a frame built with `vlanTci` (undefined: untagged). */
export function keyVlanTci(vlanTci: number | undefined): number {
  return vlanTci === undefined ? 0 : (vlanTci | VLAN_PRESENT) & 0xffff;
}
