/**
 * Writing a modified flow key back into its frame (the counterpart of extractKey): every packet
 * field whose key words differ between the key the frame was extracted into and the key the
 * actions produced is stored into the frame, and checksums are patched.
 *
 * Checksums are updated incrementally (RFC 1624 eqn. 3): each changed 16-bit word adds
 * `~old + new` to an accumulator and each checksum is patched once at the end, which is exact and
 * costs O(changed bytes) instead of O(packet). SCTP's CRC32c cannot be patched and is recomputed.
 * Like extraction this runs per packet, so it allocates nothing except when a VLAN push must grow
 * the frame.
 */
import { newKey, type FlowKey } from '../fields.js';
import { checksumApply, sctpChecksumFix } from './checksum.js';
import {
  ETH_TYPE_ARP, ETH_TYPE_IP4, ETH_TYPE_IP6, ETH_TYPE_RARP, ETH_TYPE_VLAN, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP,
  IPPROTO_TCP, IPPROTO_UDP, VLAN_PRESENT,
} from './constants.js';
import {
  extractKey, PacketLayout, W_ARP_OP, W_ARP_SHA, W_ARP_SPA, W_ARP_THA, W_ARP_TPA, W_DL_DST, W_DL_SRC, W_ICMP_CODE,
  W_ICMP_TYPE, W_IPV6_DST, W_IPV6_LABEL, W_IPV6_SRC, W_ND_SLL, W_ND_TARGET, W_ND_TLL, W_NW_DST, W_NW_ECN, W_NW_SRC,
  W_NW_TOS, W_NW_TTL, W_TCP_FLAGS, W_TP_DST, W_TP_SRC, W_VLAN_TCI,
} from './extract.js';

const scratchKey = newKey();
const scratchLayout = new PacketLayout();

function be16(f: Uint8Array, o: number): number {
  return (f[o]! << 8) | f[o + 1]!;
}

/** Stores a 16-bit word; returns its checksum delta (~old + new). */
function put16(f: Uint8Array, o: number, w: number): number {
  const old = (f[o]! << 8) | f[o + 1]!;
  f[o] = w >>> 8;
  f[o + 1] = w;
  return (~old & 0xffff) + (w & 0xffff);
}

function put32(f: Uint8Array, o: number, v: number): number {
  return put16(f, o, v >>> 16) + put16(f, o + 2, v & 0xffff);
}

/** Stores the 48-bit MAC held in key words `w`, `w+1`. */
function putMac(f: Uint8Array, o: number, key: FlowKey, w: number): number {
  return put16(f, o, key[w]!) + put32(f, o + 2, key[w + 1]!);
}

function differ2(a: FlowKey, b: FlowKey, w: number): boolean {
  return a[w] !== b[w] || a[w + 1] !== b[w + 1];
}

function differ4(a: FlowKey, b: FlowKey, w: number): boolean {
  return a[w] !== b[w] || a[w + 1] !== b[w + 1] || a[w + 2] !== b[w + 2] || a[w + 3] !== b[w + 3];
}

/**
 * Writes into `frame` the packet fields that differ between `oldKey` (what the frame was extracted
 * into) and `newKey`, fixing IPv4, TCP, UDP, ICMP, ICMPv6 checksums and the SCTP CRC. Returns the
 * frame: the same array, a view of it 4 bytes in after a VLAN pop, or a new array after a VLAN push.
 *
 * `layout` is the one extractKey returned for this frame; without it the frame is parsed again.
 * After a push or pop the layout's offsets are shifted to match the returned frame.
 *
 * Not written: fields with no bytes in the frame (registers, metadata, tunnel, conntrack),
 * dl_type and nw_proto (changing protocols is not a field rewrite), ND link-layer options that
 * the packet does not carry, and anything of an L4 header a later fragment does not have.
 */
export function commitKey(frame: Uint8Array, oldKey: FlowKey, newKey: FlowKey, layout?: PacketLayout): Uint8Array {
  const L = layout ?? extractKey(frame, scratchKey, 0, scratchLayout);
  const f = frame;
  if (L.ethType < 0) return frame;
  if (differ2(oldKey, newKey, W_DL_DST)) putMac(f, 0, newKey, W_DL_DST);
  if (differ2(oldKey, newKey, W_DL_SRC)) putMac(f, 6, newKey, W_DL_SRC);
  const t = L.l3Type;
  if (t === ETH_TYPE_IP4) commitIp4(f, oldKey, newKey, L);
  else if (t === ETH_TYPE_IP6) commitIp6(f, oldKey, newKey, L);
  else if (t === ETH_TYPE_ARP || t === ETH_TYPE_RARP) commitArp(f, oldKey, newKey, L.l3);
  if (oldKey[W_VLAN_TCI] !== newKey[W_VLAN_TCI]) return commitVlan(f, newKey[W_VLAN_TCI]!, L);
  return f;
}

function commitArp(f: Uint8Array, a: FlowKey, b: FlowKey, l3: number): void {
  if (a[W_ARP_OP] !== b[W_ARP_OP]) put16(f, l3 + 6, b[W_ARP_OP]!);
  if (differ2(a, b, W_ARP_SHA)) putMac(f, l3 + 8, b, W_ARP_SHA);
  if (a[W_ARP_SPA] !== b[W_ARP_SPA]) put32(f, l3 + 14, b[W_ARP_SPA]!);
  if (differ2(a, b, W_ARP_THA)) putMac(f, l3 + 18, b, W_ARP_THA);
  if (a[W_ARP_TPA] !== b[W_ARP_TPA]) put32(f, l3 + 24, b[W_ARP_TPA]!);
}

function commitIp4(f: Uint8Array, a: FlowKey, b: FlowKey, L: PacketLayout): void {
  const l3 = L.l3;
  let ip = 0;
  let pseudo = 0;
  if (a[W_NW_SRC] !== b[W_NW_SRC]) pseudo += put32(f, l3 + 12, b[W_NW_SRC]!);
  if (a[W_NW_DST] !== b[W_NW_DST]) pseudo += put32(f, l3 + 16, b[W_NW_DST]!);
  ip += pseudo;
  const tosChanged = a[W_NW_TOS] !== b[W_NW_TOS];
  const ecnChanged = a[W_NW_ECN] !== b[W_NW_ECN];
  if (tosChanged || ecnChanged) {
    // Each part is written only if it changed, so a DSCP rewrite keeps the packet's ECN bits.
    let tos = f[l3 + 1]!;
    if (tosChanged) tos = (tos & 3) | (b[W_NW_TOS]! & 0xfc);
    if (ecnChanged) tos = (tos & 0xfc) | (b[W_NW_ECN]! & 3);
    ip += put16(f, l3, (f[l3]! << 8) | tos);
  }
  if (a[W_NW_TTL] !== b[W_NW_TTL]) ip += put16(f, l3 + 8, ((b[W_NW_TTL]! & 0xff) << 8) | f[l3 + 9]!);
  if (ip !== 0) put16(f, l3 + 10, checksumApply(be16(f, l3 + 10), ip));
  if (L.l4 >= 0) commitL4(f, a, b, L, pseudo, false);
}

function commitIp6(f: Uint8Array, a: FlowKey, b: FlowKey, L: PacketLayout): void {
  const l3 = L.l3;
  let pseudo = 0;
  if (differ4(a, b, W_IPV6_SRC)) for (let i = 0; i < 4; i++) pseudo += put32(f, l3 + 8 + 4 * i, b[W_IPV6_SRC + i]!);
  if (differ4(a, b, W_IPV6_DST)) for (let i = 0; i < 4; i++) pseudo += put32(f, l3 + 24 + 4 * i, b[W_IPV6_DST + i]!);
  if (a[W_IPV6_LABEL] !== b[W_IPV6_LABEL]) {
    const label = b[W_IPV6_LABEL]!;
    f[l3 + 1] = (f[l3 + 1]! & 0xf0) | ((label >>> 16) & 15);
    f[l3 + 2] = label >>> 8;
    f[l3 + 3] = label;
  }
  const tosChanged = a[W_NW_TOS] !== b[W_NW_TOS];
  const ecnChanged = a[W_NW_ECN] !== b[W_NW_ECN];
  if (tosChanged || ecnChanged) {
    // The traffic class straddles bytes 0 and 1 (after the version nibble).
    let tc = ((f[l3]! & 15) << 4) | (f[l3 + 1]! >> 4);
    if (tosChanged) tc = (tc & 3) | (b[W_NW_TOS]! & 0xfc);
    if (ecnChanged) tc = (tc & 0xfc) | (b[W_NW_ECN]! & 3);
    f[l3] = (f[l3]! & 0xf0) | (tc >> 4);
    f[l3 + 1] = ((tc & 15) << 4) | (f[l3 + 1]! & 15);
  }
  if (a[W_NW_TTL] !== b[W_NW_TTL]) f[l3 + 7] = b[W_NW_TTL]!;
  if (L.l4 >= 0) commitL4(f, a, b, L, pseudo, true);
}

/** `pseudo`: checksum delta of the addresses, which TCP, UDP and ICMPv6 checksums cover. */
function commitL4(f: Uint8Array, a: FlowKey, b: FlowKey, L: PacketLayout, pseudo: number, v6: boolean): void {
  const l4 = L.l4;
  const proto = L.l4Proto;
  if (proto === IPPROTO_TCP) {
    let d = pseudo;
    if (a[W_TP_SRC] !== b[W_TP_SRC]) d += put16(f, l4, b[W_TP_SRC]!);
    if (a[W_TP_DST] !== b[W_TP_DST]) d += put16(f, l4 + 2, b[W_TP_DST]!);
    if (a[W_TCP_FLAGS] !== b[W_TCP_FLAGS]) d += put16(f, l4 + 12, (be16(f, l4 + 12) & 0xf000) | (b[W_TCP_FLAGS]! & 0x0fff));
    if (d !== 0) put16(f, l4 + 16, checksumApply(be16(f, l4 + 16), d));
  } else if (proto === IPPROTO_UDP) {
    let d = pseudo;
    if (a[W_TP_SRC] !== b[W_TP_SRC]) d += put16(f, l4, b[W_TP_SRC]!);
    if (a[W_TP_DST] !== b[W_TP_DST]) d += put16(f, l4 + 2, b[W_TP_DST]!);
    const cs = be16(f, l4 + 6);
    // Zero means "no checksum" in UDP over IPv4 (RFC 768); a computed zero is sent as 0xffff.
    if (d !== 0 && (cs !== 0 || v6)) put16(f, l4 + 6, checksumApply(cs, d) || 0xffff);
  } else if (proto === IPPROTO_SCTP) {
    let changed = false;
    if (a[W_TP_SRC] !== b[W_TP_SRC]) {
      put16(f, l4, b[W_TP_SRC]!);
      changed = true;
    }
    if (a[W_TP_DST] !== b[W_TP_DST]) {
      put16(f, l4 + 2, b[W_TP_DST]!);
      changed = true;
    }
    if (changed) sctpChecksumFix(f, l4, L.end);
  } else if (proto === IPPROTO_ICMP) {
    // ICMPv4's checksum has no pseudo-header.
    if (a[W_ICMP_TYPE] !== b[W_ICMP_TYPE] || a[W_ICMP_CODE] !== b[W_ICMP_CODE]) {
      const d = put16(f, l4, ((b[W_ICMP_TYPE]! & 0xff) << 8) | (b[W_ICMP_CODE]! & 0xff));
      put16(f, l4 + 2, checksumApply(be16(f, l4 + 2), d));
    }
  } else if (proto === IPPROTO_ICMPV6) {
    let d = pseudo;
    if (a[W_ICMP_TYPE] !== b[W_ICMP_TYPE] || a[W_ICMP_CODE] !== b[W_ICMP_CODE]) d += put16(f, l4, ((b[W_ICMP_TYPE]! & 0xff) << 8) | (b[W_ICMP_CODE]! & 0xff));
    if (L.end - l4 >= 24 && differ4(a, b, W_ND_TARGET)) for (let i = 0; i < 4; i++) d += put32(f, l4 + 8 + 4 * i, b[W_ND_TARGET + i]!);
    if (L.ndSll >= 0 && differ2(a, b, W_ND_SLL)) d += putMac(f, L.ndSll, b, W_ND_SLL);
    if (L.ndTll >= 0 && differ2(a, b, W_ND_TLL)) d += putMac(f, L.ndTll, b, W_ND_TLL);
    if (d !== 0) put16(f, l4 + 2, checksumApply(be16(f, l4 + 2), d));
  }
}

function shiftLayout(L: PacketLayout, by: number): void {
  L.ethType += by;
  if (L.l3 >= 0) L.l3 += by;
  if (L.l4 >= 0) L.l4 += by;
  if (L.payload >= 0) L.payload += by;
  if (L.ndSll >= 0) L.ndSll += by;
  if (L.ndTll >= 0) L.ndTll += by;
  L.end += by;
}

function commitVlan(f: Uint8Array, tci: number, L: PacketLayout): Uint8Array {
  const want = (tci & VLAN_PRESENT) !== 0;
  if (L.vlan >= 0) {
    if (want) {
      // The key's 0x1000 means "present"; the frame's own DEI bit at that position is kept.
      put16(f, L.vlan + 2, (tci & 0xefff) | (be16(f, L.vlan + 2) & VLAN_PRESENT));
      return f;
    }
    // Pop: slide the MACs over the tag and hand back a view that starts 4 bytes in, no copy.
    f.copyWithin(4, 0, 12);
    L.vlan = -1;
    shiftLayout(L, -4);
    return f.subarray(4);
  }
  if (!want) return f;
  const out = new Uint8Array(f.length + 4);
  for (let i = 0; i < 12; i++) out[i] = f[i]!;
  out[12] = ETH_TYPE_VLAN >> 8;
  out[13] = ETH_TYPE_VLAN & 0xff;
  out[14] = (tci & 0xefff) >> 8;
  out[15] = tci & 0xff;
  out.set(f.subarray(12), 16);
  L.vlan = 12;
  shiftLayout(L, 4);
  return out;
}
