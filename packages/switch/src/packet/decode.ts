/**
 * A readable, allocating decode of a frame into plain objects, for the simulated VMs, trace
 * output and tests (the switch itself uses extractKey). Built on extractKey so both agree on what
 * a well-formed header is.
 */
import { newKey } from '../fields.js';
import { formatIp4, formatIp6, formatMac, ip4FromBytes, ip6FromBytes, macFromBytes } from './addr.js';
import { fold, onesSum, pseudoHeaderSum, sctpChecksumOk } from './checksum.js';
import {
  ETH_TYPE_ARP, ETH_TYPE_IP4, ETH_TYPE_IP6, ETH_TYPE_RARP, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP,
  IPPROTO_UDP,
} from './constants.js';
import { extractKey, PacketLayout, W_NW_FRAG, W_NW_PROTO } from './extract.js';

export interface DecodedEth {
  readonly dst: string;
  readonly src: string;
  /** dl_type: the EtherType after any VLAN tag / SNAP header. */
  readonly type: number;
  /** The tag's TCI as on the wire, if tagged. */
  readonly vlanTci?: number;
}
export interface DecodedArp { readonly op: number; readonly sha: string; readonly spa: string; readonly tha: string; readonly tpa: string }
export interface DecodedIp4 {
  readonly src: string; readonly dst: string; readonly proto: number; readonly ttl: number; readonly tos: number;
  readonly id: number; readonly dontFragment: boolean; readonly moreFragments: boolean; readonly fragOffset: number;
  /** nw_frag. */
  readonly frag: number;
  readonly headerLength: number; readonly totalLength: number; readonly checksum: number; readonly options: Uint8Array;
}
export interface DecodedIp6 {
  readonly src: string; readonly dst: string;
  /** The protocol after the extension headers. */
  readonly nextHeader: number;
  readonly hopLimit: number; readonly trafficClass: number; readonly flowLabel: number; readonly payloadLength: number;
  /** nw_frag. */
  readonly frag: number;
}
export interface DecodedTcp {
  readonly srcPort: number; readonly dstPort: number; readonly seq: number; readonly ack: number; readonly flags: number;
  readonly window: number; readonly checksum: number; readonly options: Uint8Array; readonly payload: Uint8Array;
}
export interface DecodedUdp { readonly srcPort: number; readonly dstPort: number; readonly checksum: number; readonly payload: Uint8Array }
export interface DecodedSctp { readonly srcPort: number; readonly dstPort: number; readonly verificationTag: number; readonly checksum: number; readonly chunks: Uint8Array }
export interface DecodedIcmp {
  readonly type: number; readonly code: number; readonly checksum: number;
  /** Header bytes 4..7 (echo id << 16 | seq, MTU, ND flags …); 0 if the header is shorter. */
  readonly rest: number;
  readonly payload: Uint8Array;
  /** ICMPv6 Neighbor Solicitation / Advertisement only. */
  readonly ndTarget?: string; readonly sll?: string; readonly tll?: string;
}

export interface DecodedPacket {
  /** The offsets found (a copy, not shared). */
  readonly layout: PacketLayout;
  readonly eth?: DecodedEth;
  readonly arp?: DecodedArp;
  readonly ip4?: DecodedIp4;
  readonly ip6?: DecodedIp6;
  readonly tcp?: DecodedTcp;
  readonly udp?: DecodedUdp;
  readonly sctp?: DecodedSctp;
  /** ICMPv4 (inside ip4) or ICMPv6 (inside ip6). */
  readonly icmp?: DecodedIcmp;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function be16(f: Uint8Array, o: number): number {
  return (f[o]! << 8) | f[o + 1]!;
}
function be32(f: Uint8Array, o: number): number {
  return ((f[o]! << 24) | (f[o + 1]! << 16) | (f[o + 2]! << 8) | f[o + 3]!) >>> 0;
}

export function decodePacket(frame: Uint8Array): DecodedPacket {
  const key = newKey();
  const L = extractKey(frame, key, 0, new PacketLayout());
  const d: Mutable<DecodedPacket> = { layout: L };
  if (L.ethType < 0) return d;
  const f = frame;
  d.eth = {
    dst: formatMac(macFromBytes(f, 0)),
    src: formatMac(macFromBytes(f, 6)),
    type: be16(f, L.ethType) < 0x600 ? 0x05ff : be16(f, L.ethType),
    ...(L.vlan >= 0 ? { vlanTci: be16(f, L.vlan + 2) } : {}),
  };
  const l3 = L.l3;
  if (L.l3Type === ETH_TYPE_ARP || L.l3Type === ETH_TYPE_RARP) {
    d.arp = {
      op: be16(f, l3 + 6), sha: formatMac(macFromBytes(f, l3 + 8)), spa: formatIp4(ip4FromBytes(f, l3 + 14)),
      tha: formatMac(macFromBytes(f, l3 + 18)), tpa: formatIp4(ip4FromBytes(f, l3 + 24)),
    };
    return d;
  }
  if (L.l3Type === ETH_TYPE_IP4) {
    const ihl = (f[l3]! & 15) * 4;
    const ff = be16(f, l3 + 6);
    d.ip4 = {
      src: formatIp4(ip4FromBytes(f, l3 + 12)), dst: formatIp4(ip4FromBytes(f, l3 + 16)), proto: f[l3 + 9]!, ttl: f[l3 + 8]!,
      tos: f[l3 + 1]!, id: be16(f, l3 + 4), dontFragment: (ff & 0x4000) !== 0, moreFragments: (ff & 0x2000) !== 0,
      fragOffset: ff & 0x1fff, frag: key[W_NW_FRAG]!, headerLength: ihl, totalLength: be16(f, l3 + 2), checksum: be16(f, l3 + 10),
      options: f.slice(l3 + 20, l3 + ihl),
    };
  } else if (L.l3Type === ETH_TYPE_IP6) {
    d.ip6 = {
      src: formatIp6(ip6FromBytes(f, l3 + 8)), dst: formatIp6(ip6FromBytes(f, l3 + 24)), nextHeader: key[W_NW_PROTO]!,
      hopLimit: f[l3 + 7]!, trafficClass: ((f[l3]! & 15) << 4) | (f[l3 + 1]! >> 4),
      flowLabel: ((f[l3 + 1]! & 15) << 16) | be16(f, l3 + 2), payloadLength: be16(f, l3 + 4), frag: key[W_NW_FRAG]!,
    };
  } else {
    return d;
  }
  const p = L.l4;
  if (p < 0) return d;
  const end = L.end;
  switch (L.l4Proto) {
    case IPPROTO_TCP:
      d.tcp = {
        srcPort: be16(f, p), dstPort: be16(f, p + 2), seq: be32(f, p + 4), ack: be32(f, p + 8), flags: be16(f, p + 12) & 0xfff,
        window: be16(f, p + 14), checksum: be16(f, p + 16), options: f.slice(p + 20, L.payload), payload: f.slice(L.payload, end),
      };
      break;
    case IPPROTO_UDP:
      d.udp = { srcPort: be16(f, p), dstPort: be16(f, p + 2), checksum: be16(f, p + 6), payload: f.slice(p + 8, end) };
      break;
    case IPPROTO_SCTP:
      d.sctp = { srcPort: be16(f, p), dstPort: be16(f, p + 2), verificationTag: be32(f, p + 4), checksum: be32(f, p + 8), chunks: f.slice(p + 12, end) };
      break;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6: {
      const icmp: Mutable<DecodedIcmp> = {
        type: f[p]!, code: f[p + 1]!, checksum: be16(f, p + 2), rest: end - p >= 8 ? be32(f, p + 4) : 0, payload: f.slice(Math.min(p + 8, end), end),
      };
      if (L.l4Proto === IPPROTO_ICMPV6 && (icmp.type === 135 || icmp.type === 136) && icmp.code === 0 && end - p >= 24) {
        icmp.ndTarget = formatIp6(ip6FromBytes(f, p + 8));
        if (L.ndSll >= 0) icmp.sll = formatMac(macFromBytes(f, L.ndSll));
        if (L.ndTll >= 0) icmp.tll = formatMac(macFromBytes(f, L.ndTll));
      }
      d.icmp = icmp;
      break;
    }
  }
  return d;
}

export interface ChecksumReport {
  /** IPv4 header checksum correct; undefined without an IPv4 header. */
  readonly ip4?: boolean;
  /**
   * TCP/UDP/ICMP/ICMPv6 checksum or SCTP CRC correct; undefined without a complete L4 datagram
   * (no L4 header, or a fragment). UDP over IPv4 with checksum 0 counts as correct.
   */
  readonly l4?: boolean;
}

/** Verifies every checksum of `frame` from scratch (the reference for the incremental updates). */
export function verifyChecksums(frame: Uint8Array): ChecksumReport {
  const key = newKey();
  const L = extractKey(frame, key, 0, new PacketLayout());
  const r: Mutable<ChecksumReport> = {};
  const f = frame;
  const v6 = L.l3Type === ETH_TYPE_IP6;
  if (L.l3Type === ETH_TYPE_IP4) r.ip4 = fold(onesSum(f, L.l3, L.l3 + (f[L.l3]! & 15) * 4)) === 0xffff;
  if (L.l4 < 0 || key[W_NW_FRAG] !== 0) return r;
  const p = L.l4;
  const len = L.end - p;
  const addrOff = v6 ? L.l3 + 8 : L.l3 + 12;
  const addrBytes = v6 ? 32 : 8;
  switch (L.l4Proto) {
    case IPPROTO_TCP:
      r.l4 = fold(onesSum(f, p, L.end, pseudoHeaderSum(f, addrOff, addrBytes, IPPROTO_TCP, len))) === 0xffff;
      break;
    case IPPROTO_UDP:
      r.l4 = (!v6 && be16(f, p + 6) === 0) || fold(onesSum(f, p, L.end, pseudoHeaderSum(f, addrOff, addrBytes, IPPROTO_UDP, len))) === 0xffff;
      break;
    case IPPROTO_ICMP:
      r.l4 = fold(onesSum(f, p, L.end)) === 0xffff;
      break;
    case IPPROTO_ICMPV6:
      r.l4 = fold(onesSum(f, p, L.end, pseudoHeaderSum(f, addrOff, addrBytes, IPPROTO_ICMPV6, len))) === 0xffff;
      break;
    case IPPROTO_SCTP:
      r.l4 = sctpChecksumOk(f, p, L.end);
      break;
  }
  return r;
}
