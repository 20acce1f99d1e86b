/**
 * Flow-key extraction: one pass over a frame fills the flow key with every header field a flow can
 * match, following the rules of OVS's flow extraction (see docs/switch-packet.md), and records
 * where each header starts so that actions can later rewrite the frame without parsing it again.
 *
 * This is the switch's per-packet hot path: it reads bytes straight from the Uint8Array (no
 * DataView, no subarray), writes key words at indexes resolved once at module load, and allocates
 * nothing; the offsets go into a caller-owned (or module-owned) PacketLayout.
 */
import { field, type FlowKey } from '../fields.js';
import {
  ETH_TYPE_ARP, ETH_TYPE_IP4, ETH_TYPE_IP6, ETH_TYPE_MIN, ETH_TYPE_NONE, ETH_TYPE_RARP, ETH_TYPE_VLAN,
  ETH_TYPE_VLAN_8021AD, FRAG_ANY, FRAG_LATER, IPPROTO_AH, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_HOPOPTS,
  IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_ROUTING, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, ND_NEIGHBOR_ADVERT,
  ND_NEIGHBOR_SOLICIT, ND_OPT_SOURCE_LL, ND_OPT_TARGET_LL, VLAN_PRESENT,
} from './constants.js';

// Word indexes of the key fields, resolved once so the hot path never consults the field Map.
export const W_IN_PORT = field('in_port').word;
export const W_DL_SRC = field('dl_src').word;
export const W_DL_DST = field('dl_dst').word;
export const W_DL_TYPE = field('dl_type').word;
export const W_VLAN_TCI = field('vlan_tci').word;
export const W_NW_SRC = field('nw_src').word;
export const W_NW_DST = field('nw_dst').word;
export const W_IPV6_SRC = field('ipv6_src').word;
export const W_IPV6_DST = field('ipv6_dst').word;
export const W_IPV6_LABEL = field('ipv6_label').word;
export const W_NW_PROTO = field('nw_proto').word;
export const W_NW_TOS = field('nw_tos').word;
export const W_NW_ECN = field('nw_ecn').word;
export const W_NW_TTL = field('nw_ttl').word;
export const W_NW_FRAG = field('nw_frag').word;
export const W_TP_SRC = field('tp_src').word;
export const W_TP_DST = field('tp_dst').word;
export const W_TCP_FLAGS = field('tcp_flags').word;
export const W_ICMP_TYPE = field('icmp_type').word;
export const W_ICMP_CODE = field('icmp_code').word;
export const W_ARP_OP = field('arp_op').word;
export const W_ARP_SPA = field('arp_spa').word;
export const W_ARP_TPA = field('arp_tpa').word;
export const W_ARP_SHA = field('arp_sha').word;
export const W_ARP_THA = field('arp_tha').word;
export const W_ND_TARGET = field('nd_target').word;
export const W_ND_SLL = field('nd_sll').word;
export const W_ND_TLL = field('nd_tll').word;

/** Extension headers walked before giving up on an IPv6 packet: bounds the loop on hostile input. */
export const IP6_MAX_EXT_HEADERS = 16;

/**
 * Where the headers of the last extracted frame start (byte offsets into the frame; -1 = absent).
 * Reused from packet to packet: copy what you need before the next extraction into the same object.
 */
export class PacketLayout {
  /** Offset of the 802.1Q/802.1ad tag (its TPID), or -1 without a tag. */
  vlan = -1;
  /** Offset of the EtherType (or SNAP type) naming the L3 protocol, or -1 for a runt frame. */
  ethType = -1;
  /** Offset of the L3 header, or -1. */
  l3 = -1;
  /** EtherType of a well-formed L3 header that was parsed (IPv4, IPv6, ARP, RARP), else 0. */
  l3Type = 0;
  /** Offset of a complete L4 header (TCP, UDP, SCTP, ICMP, ICMPv6), or -1. */
  l4 = -1;
  /** IP protocol of the L4 header at `l4` (after IPv6 extension headers), else 0. */
  l4Proto = 0;
  /** Offset of the L4 payload (after the L4 header), or -1. */
  payload = -1;
  /** End of the L3 packet per its length field (Ethernet padding excluded); frame length otherwise. */
  end = 0;
  /** Offsets of the MAC inside an ND source / target link-layer address option, or -1. */
  ndSll = -1;
  ndTll = -1;

  reset(end: number): void {
    this.vlan = -1;
    this.ethType = -1;
    this.l3 = -1;
    this.l3Type = 0;
    this.l4 = -1;
    this.l4Proto = 0;
    this.payload = -1;
    this.end = end;
    this.ndSll = -1;
    this.ndTll = -1;
  }
}

const sharedLayout = new PacketLayout();

function be16(f: Uint8Array, o: number): number {
  return (f[o]! << 8) | f[o + 1]!;
}

/** Big-endian 32 bits; the result may be negative, which Uint32Array stores as the same bits. */
function be32(f: Uint8Array, o: number): number {
  return (f[o]! << 24) | (f[o + 1]! << 16) | (f[o + 2]! << 8) | f[o + 3]!;
}

/** Stores a 48-bit MAC at `o` into two key words (high 16 bits first). */
function macWords(f: Uint8Array, o: number, key: FlowKey, w: number): void {
  key[w] = be16(f, o);
  key[w + 1] = be32(f, o + 2);
}

function ip6Words(f: Uint8Array, o: number, key: FlowKey, w: number): void {
  key[w] = be32(f, o);
  key[w + 1] = be32(f, o + 4);
  key[w + 2] = be32(f, o + 8);
  key[w + 3] = be32(f, o + 12);
}

/**
 * Fills `key` from `frame` received on `inPort`. Every key word is reset first, including
 * metadata, registers and tunnel fields: set those (e.g. from the Geneve header) afterwards.
 * Returns `out` (by default a module-owned PacketLayout, overwritten by the next call).
 */
export function extractKey(frame: Uint8Array, key: FlowKey, inPort: number, out: PacketLayout = sharedLayout): PacketLayout {
  const f = frame;
  const len = f.length;
  key.fill(0);
  out.reset(len);
  key[W_IN_PORT] = inPort;
  if (len < 14) return out;

  macWords(f, 0, key, W_DL_DST);
  macWords(f, 6, key, W_DL_SRC);
  let off = 12;
  let type = be16(f, 12);
  if (type === ETH_TYPE_VLAN || type === ETH_TYPE_VLAN_8021AD) {
    // One tag only (like OVS with vlan-limit 1): an inner tag's TPID becomes dl_type.
    if (len < 18) {
      key[W_DL_TYPE] = type;
      return out;
    }
    out.vlan = 12;
    key[W_VLAN_TCI] = be16(f, 14) | VLAN_PRESENT;
    off = 16;
    type = be16(f, 16);
  }
  out.ethType = off;
  off += 2;
  if (type < ETH_TYPE_MIN) {
    // 802.3 length field: only LLC/SNAP with a zero OUI carries an EtherType.
    if (len - off >= 8 && f[off] === 0xaa && f[off + 1] === 0xaa && f[off + 2] === 0x03 && f[off + 3] === 0 && f[off + 4] === 0 && f[off + 5] === 0) {
      out.ethType = off + 6;
      type = be16(f, off + 6);
      off += 8;
    } else {
      key[W_DL_TYPE] = ETH_TYPE_NONE;
      return out;
    }
  }
  key[W_DL_TYPE] = type;
  out.l3 = off;

  if (type === ETH_TYPE_IP4) extractIp4(f, off, len, key, out);
  else if (type === ETH_TYPE_IP6) extractIp6(f, off, len, key, out);
  else if (type === ETH_TYPE_ARP || type === ETH_TYPE_RARP) extractArp(f, off, len, key, out, type);
  return out;
}

function extractArp(f: Uint8Array, off: number, len: number, key: FlowKey, out: PacketLayout, type: number): void {
  // Only Ethernet/IPv4 ARP has the fixed layout the arp_* fields describe.
  if (len - off < 28 || be16(f, off) !== 1 || be16(f, off + 2) !== ETH_TYPE_IP4 || f[off + 4] !== 6 || f[off + 5] !== 4) return;
  out.l3Type = type;
  out.end = off + 28;
  key[W_ARP_OP] = be16(f, off + 6);
  macWords(f, off + 8, key, W_ARP_SHA);
  key[W_ARP_SPA] = be32(f, off + 14);
  macWords(f, off + 18, key, W_ARP_THA);
  key[W_ARP_TPA] = be32(f, off + 24);
}

function extractIp4(f: Uint8Array, off: number, len: number, key: FlowKey, out: PacketLayout): void {
  if (len - off < 20) return;
  const vihl = f[off]!;
  const ihl = (vihl & 15) << 2;
  const total = be16(f, off + 2);
  // A header that lies about its size is not IPv4 we can trust: leave only dl_type.
  if (vihl >> 4 !== 4 || ihl < 20 || total < ihl || total > len - off) return;
  out.l3Type = ETH_TYPE_IP4;
  const end = off + total;
  out.end = end;
  const tos = f[off + 1]!;
  key[W_NW_TOS] = tos & 0xfc;
  key[W_NW_ECN] = tos & 3;
  key[W_NW_TTL] = f[off + 8]!;
  const proto = f[off + 9]!;
  key[W_NW_PROTO] = proto;
  key[W_NW_SRC] = be32(f, off + 12);
  key[W_NW_DST] = be32(f, off + 16);
  const fragField = be16(f, off + 6);
  if (fragField & 0x3fff) {
    // MF set or a non-zero offset; a non-zero offset also means no L4 header here.
    if (fragField & 0x1fff) {
      key[W_NW_FRAG] = FRAG_ANY | FRAG_LATER;
      return;
    }
    key[W_NW_FRAG] = FRAG_ANY;
  }
  extractL4(f, off + ihl, end, proto, false, key, out);
}

function extractIp6(f: Uint8Array, off: number, len: number, key: FlowKey, out: PacketLayout): void {
  if (len - off < 40 || f[off]! >> 4 !== 6) return;
  const plen = be16(f, off + 4);
  if (plen > len - off - 40) return;
  out.l3Type = ETH_TYPE_IP6;
  const end = off + 40 + plen;
  out.end = end;
  const tc = ((f[off]! & 15) << 4) | (f[off + 1]! >> 4);
  key[W_NW_TOS] = tc & 0xfc;
  key[W_NW_ECN] = tc & 3;
  key[W_IPV6_LABEL] = ((f[off + 1]! & 15) << 16) | be16(f, off + 2);
  key[W_NW_TTL] = f[off + 7]!;
  ip6Words(f, off + 8, key, W_IPV6_SRC);
  ip6Words(f, off + 24, key, W_IPV6_DST);

  let next = f[off + 6]!;
  let p = off + 40;
  let frag = 0;
  for (let i = 0; i < IP6_MAX_EXT_HEADERS; i++) {
    if (next === IPPROTO_HOPOPTS || next === IPPROTO_ROUTING || next === IPPROTO_DSTOPTS || next === IPPROTO_AH) {
      if (end - p < 8) return;
      // AH counts its length in 4-byte units minus 2 (RFC 4302); the others in 8-byte units minus 1.
      const hlen = next === IPPROTO_AH ? (f[p + 1]! + 2) << 2 : (f[p + 1]! + 1) << 3;
      if (end - p < hlen) return;
      next = f[p]!;
      p += hlen;
    } else if (next === IPPROTO_FRAGMENT) {
      if (end - p < 8) return;
      next = f[p]!;
      frag = FRAG_ANY;
      p += 8;
      if (be16(f, p - 6) & 0xfff8) {
        // Later fragments carry no L4 header; the protocol is still known from the fragment header.
        key[W_NW_FRAG] = FRAG_ANY | FRAG_LATER;
        key[W_NW_PROTO] = next;
        return;
      }
    } else {
      break;
    }
  }
  // A chain longer than the bound is treated like a truncated one: no protocol, no L4.
  if (next === IPPROTO_HOPOPTS || next === IPPROTO_ROUTING || next === IPPROTO_DSTOPTS || next === IPPROTO_AH || next === IPPROTO_FRAGMENT) return;
  key[W_NW_FRAG] = frag;
  key[W_NW_PROTO] = next;
  extractL4(f, p, end, next, true, key, out);
}

function extractL4(f: Uint8Array, p: number, end: number, proto: number, v6: boolean, key: FlowKey, out: PacketLayout): void {
  const avail = end - p;
  if (proto === IPPROTO_TCP) {
    if (avail < 20) return;
    const doff = (f[p + 12]! >> 4) << 2;
    if (doff < 20 || doff > avail) return;
    key[W_TP_SRC] = be16(f, p);
    key[W_TP_DST] = be16(f, p + 2);
    key[W_TCP_FLAGS] = be16(f, p + 12) & 0x0fff;
    out.payload = p + doff;
  } else if (proto === IPPROTO_UDP) {
    if (avail < 8) return;
    key[W_TP_SRC] = be16(f, p);
    key[W_TP_DST] = be16(f, p + 2);
    out.payload = p + 8;
  } else if (proto === IPPROTO_SCTP) {
    if (avail < 12) return;
    key[W_TP_SRC] = be16(f, p);
    key[W_TP_DST] = be16(f, p + 2);
    out.payload = p + 12;
  } else if (proto === IPPROTO_ICMP && !v6) {
    if (avail < 8) return;
    key[W_ICMP_TYPE] = f[p]!;
    key[W_ICMP_CODE] = f[p + 1]!;
    out.payload = p + 8;
  } else if (proto === IPPROTO_ICMPV6 && v6) {
    if (avail < 4) return;
    const type = f[p]!;
    key[W_ICMP_TYPE] = type;
    key[W_ICMP_CODE] = f[p + 1]!;
    out.payload = avail >= 8 ? p + 8 : end;
    if ((type === ND_NEIGHBOR_SOLICIT || type === ND_NEIGHBOR_ADVERT) && f[p + 1] === 0 && avail >= 24) extractNd(f, p, end, type, key, out);
  } else {
    return;
  }
  out.l4 = p;
  out.l4Proto = proto;
}

/** ND target and link-layer address options (RFC 4861 sections 4.3, 4.4, 4.6.1). */
function extractNd(f: Uint8Array, p: number, end: number, type: number, key: FlowKey, out: PacketLayout): void {
  ip6Words(f, p + 8, key, W_ND_TARGET);
  // Each option is at least 8 bytes, so the walk is bounded by the packet length.
  for (let o = p + 24; o + 8 <= end; ) {
    const optLen = f[o + 1]! << 3;
    if (optLen === 0 || o + optLen > end) {
      ndInvalid(key, out);
      return;
    }
    const optType = f[o]!;
    // Like OVS: SLL counts only in solicitations, TLL only in advertisements; a repeat is malformed.
    if (optLen === 8 && optType === ND_OPT_SOURCE_LL && type === ND_NEIGHBOR_SOLICIT) {
      if (out.ndSll >= 0) {
        ndInvalid(key, out);
        return;
      }
      out.ndSll = o + 2;
      macWords(f, o + 2, key, W_ND_SLL);
    } else if (optLen === 8 && optType === ND_OPT_TARGET_LL && type === ND_NEIGHBOR_ADVERT) {
      if (out.ndTll >= 0) {
        ndInvalid(key, out);
        return;
      }
      out.ndTll = o + 2;
      macWords(f, o + 2, key, W_ND_TLL);
    }
    o += optLen;
  }
}

function ndInvalid(key: FlowKey, out: PacketLayout): void {
  for (let i = 0; i < 4; i++) key[W_ND_TARGET + i] = 0;
  key[W_ND_SLL] = key[W_ND_SLL + 1] = 0;
  key[W_ND_TLL] = key[W_ND_TLL + 1] = 0;
  out.ndSll = -1;
  out.ndTll = -1;
}
