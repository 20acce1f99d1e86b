/**
 * Geneve (RFC 8926) as OVN uses it: the UDP payload of a tunnel packet is an 8-byte Geneve header,
 * option TLVs, and the inner Ethernet frame. OVN puts the logical datapath key in the VNI and one
 * option (class 0x0102, type 0x80, 4 bytes) carrying the logical ingress port key in bits 16..30
 * and the egress port key in bits 0..15; the switch keeps that word in the key's `tun_metadata0`.
 *
 * Tunnel packets ride on real UDP sockets in ovnts, so this module deals in UDP payloads only;
 * `buildGeneveFrame` wraps one in Ethernet/IPv4/UDP for captures and tests.
 */
import { field, type FlowKey } from '../fields.js';
import { buildUdp4, type EthSpec, type Ip4Spec } from './build.js';
import { ETH_TYPE_TEB, GENEVE_PORT } from './constants.js';

export const OVN_GENEVE_CLASS = 0x0102;
export const OVN_GENEVE_TYPE = 0x80;
/** Option data length in bytes. */
export const OVN_GENEVE_LEN = 4;
/** Geneve header plus OVN's option: what `writeGeneveHeader` writes when given metadata. */
export const GENEVE_OVN_HEADER_LEN = 16;
/** The options may take at most 63 × 4 bytes (the 6-bit Opt Len field). */
export const GENEVE_MAX_OPTIONS_LEN = 252;

const W_TUN_ID = field('tun_id').word;
const W_TUN_SRC = field('tun_src').word;
const W_TUN_DST = field('tun_dst').word;
const W_TUN_METADATA0 = field('tun_metadata0').word;

export interface GeneveOption {
  readonly class: number;
  /** Bit 7 is the "critical" bit. */
  readonly type: number;
  /** Length a multiple of 4, at most 124. */
  readonly data: Uint8Array;
}

/** OVN's option word from logical port keys (ingress 15 bits, egress 16 bits). */
export function ovnPortsToMetadata(ingress: number, egress: number): number {
  return (((ingress & 0x7fff) << 16) | (egress & 0xffff)) >>> 0;
}

export function metadataToOvnPorts(md: number): { ingress: number; egress: number } {
  return { ingress: (md >>> 16) & 0x7fff, egress: md & 0xffff };
}

/**
 * Writes the Geneve header for `vni` at `buf[off]`, followed by OVN's option if `tunMetadata0`
 * is given; returns the bytes written (8 or 16). Allocation-free, for the send path, where the
 * header and the inner frame can go to the socket as two buffers.
 */
export function writeGeneveHeader(buf: Uint8Array, off: number, vni: number, tunMetadata0?: number, oam = false): number {
  const withOpt = tunMetadata0 !== undefined;
  buf[off] = withOpt ? (4 + OVN_GENEVE_LEN) >> 2 : 0;
  buf[off + 1] = (oam ? 0x80 : 0) | (withOpt ? 0x40 : 0);
  buf[off + 2] = ETH_TYPE_TEB >> 8;
  buf[off + 3] = ETH_TYPE_TEB & 0xff;
  buf[off + 4] = vni >>> 16;
  buf[off + 5] = vni >>> 8;
  buf[off + 6] = vni;
  buf[off + 7] = 0;
  if (!withOpt) return 8;
  buf[off + 8] = OVN_GENEVE_CLASS >> 8;
  buf[off + 9] = OVN_GENEVE_CLASS & 0xff;
  buf[off + 10] = OVN_GENEVE_TYPE;
  buf[off + 11] = OVN_GENEVE_LEN >> 2;
  buf[off + 12] = tunMetadata0 >>> 24;
  buf[off + 13] = tunMetadata0 >>> 16;
  buf[off + 14] = tunMetadata0 >>> 8;
  buf[off + 15] = tunMetadata0;
  return 16;
}

/**
 * A Geneve UDP payload: header, OVN's option when `tunMetadata0` is given, any `extraOptions`,
 * and the inner Ethernet frame. The C (critical) header bit is set when any option is critical.
 */
export function encodeGeneve(
  vni: number, tunMetadata0: number | undefined, inner: Uint8Array,
  opts: { readonly oam?: boolean; readonly extraOptions?: readonly GeneveOption[] } = {},
): Uint8Array {
  const extra = opts.extraOptions ?? [];
  let optLen = tunMetadata0 !== undefined ? 4 + OVN_GENEVE_LEN : 0;
  for (const o of extra) {
    if (o.data.length % 4 !== 0 || o.data.length > 124) throw new Error('Geneve option data must be a multiple of 4 bytes, at most 124');
    optLen += 4 + o.data.length;
  }
  if (optLen > GENEVE_MAX_OPTIONS_LEN) throw new Error('Geneve options exceed 252 bytes');
  const out = new Uint8Array(8 + optLen + inner.length);
  let o = writeGeneveHeader(out, 0, vni, tunMetadata0, opts.oam ?? false);
  out[0] = optLen >> 2;
  for (const x of extra) {
    out[o] = x.class >> 8;
    out[o + 1] = x.class;
    out[o + 2] = x.type;
    out[o + 3] = x.data.length >> 2;
    out.set(x.data, o + 4);
    if (x.type & 0x80) out[1] = out[1]! | 0x40;
    o += 4 + x.data.length;
  }
  out.set(inner, o);
  return out;
}

/** The fields of a Geneve header, filled by `parseGeneve` into a reusable object. */
export class GeneveInfo {
  vni = 0;
  /** OVN's option word, or 0 without the option (see `hasMetadata`). */
  tunMetadata0 = 0;
  hasMetadata = false;
  oam = false;
  /** The header's C bit: some option is critical. */
  critical = false;
  /** A critical option other than OVN's is present: RFC 8926 section 3.5 says drop the packet. */
  unknownCritical = false;
  optionsLength = 0;
  /** Offset of the inner Ethernet frame in the buffer given to parseGeneve. */
  innerOffset = 0;
}

/**
 * Parses the Geneve header at `buf[start, end)` into `out` without allocating. False if it is not
 * a version-0 Geneve header carrying Ethernet (protocol 0x6558) with well-formed options.
 */
export function parseGeneve(buf: Uint8Array, out: GeneveInfo, start = 0, end = buf.length): boolean {
  if (end - start < 8) return false;
  const b0 = buf[start]!;
  const b1 = buf[start + 1]!;
  if (b0 >> 6 !== 0) return false;
  if (((buf[start + 2]! << 8) | buf[start + 3]!) !== ETH_TYPE_TEB) return false;
  const optLen = (b0 & 0x3f) << 2;
  if (end - start < 8 + optLen) return false;
  out.vni = (buf[start + 4]! << 16) | (buf[start + 5]! << 8) | buf[start + 6]!;
  out.oam = (b1 & 0x80) !== 0;
  out.critical = (b1 & 0x40) !== 0;
  out.optionsLength = optLen;
  out.tunMetadata0 = 0;
  out.hasMetadata = false;
  out.unknownCritical = false;
  const optEnd = start + 8 + optLen;
  // Every option is at least 4 bytes, so at most 63 iterations.
  for (let o = start + 8; o < optEnd; ) {
    if (optEnd - o < 4) return false;
    const cls = (buf[o]! << 8) | buf[o + 1]!;
    const type = buf[o + 2]!;
    const len = (buf[o + 3]! & 0x1f) << 2;
    if (o + 4 + len > optEnd) return false;
    if (cls === OVN_GENEVE_CLASS && type === OVN_GENEVE_TYPE && len === OVN_GENEVE_LEN) {
      out.tunMetadata0 = ((buf[o + 4]! << 24) | (buf[o + 5]! << 16) | (buf[o + 6]! << 8) | buf[o + 7]!) >>> 0;
      out.hasMetadata = true;
    } else if (type & 0x80) {
      out.unknownCritical = true;
    }
    o += 4 + len;
  }
  out.innerOffset = optEnd;
  return true;
}

export interface DecodedGeneve {
  readonly vni: number;
  /** OVN's option word, undefined without the option. */
  readonly tunMetadata0: number | undefined;
  readonly oam: boolean;
  readonly critical: boolean;
  readonly unknownCritical: boolean;
  /** Every option, OVN's included, in order. */
  readonly options: readonly GeneveOption[];
  /** A view of the inner Ethernet frame. */
  readonly inner: Uint8Array;
}

/** Decodes a Geneve UDP payload (allocating; for tools and tests), or null if malformed. */
export function decodeGeneve(buf: Uint8Array): DecodedGeneve | null {
  const info = new GeneveInfo();
  if (!parseGeneve(buf, info)) return null;
  const options: GeneveOption[] = [];
  for (let o = 8; o < info.innerOffset; ) {
    const len = (buf[o + 3]! & 0x1f) << 2;
    options.push({ class: (buf[o]! << 8) | buf[o + 1]!, type: buf[o + 2]!, data: buf.slice(o + 4, o + 4 + len) });
    o += 4 + len;
  }
  return {
    vni: info.vni,
    tunMetadata0: info.hasMetadata ? info.tunMetadata0 : undefined,
    oam: info.oam,
    critical: info.critical,
    unknownCritical: info.unknownCritical,
    options,
    inner: buf.subarray(info.innerOffset),
  };
}

/**
 * Stores the tunnel fields of a received Geneve packet into a key (after extractKey on the inner
 * frame, which clears them): tun_id = VNI, tun_src/tun_dst = outer IPv4 addresses, tun_metadata0.
 */
export function setTunnelKey(key: FlowKey, info: GeneveInfo, tunSrc: number, tunDst: number): void {
  key[W_TUN_ID] = 0;
  key[W_TUN_ID + 1] = info.vni;
  key[W_TUN_SRC] = tunSrc;
  key[W_TUN_DST] = tunDst;
  key[W_TUN_METADATA0] = info.tunMetadata0;
}

export interface GeneveFrameSpec {
  readonly vni: number;
  readonly tunMetadata0?: number;
  readonly inner: Uint8Array;
  /** UDP source port; default 49152 (OVS derives one from a flow hash for ECMP spreading). */
  readonly srcPort?: number;
}

/** A whole Ethernet/IPv4/UDP(6081)/Geneve frame, e.g. for a capture file. */
export function buildGeneveFrame(eth: EthSpec, ip: Ip4Spec, g: GeneveFrameSpec): Uint8Array {
  return buildUdp4(eth, { dontFragment: true, ...ip }, {
    srcPort: g.srcPort ?? 49152,
    dstPort: GENEVE_PORT,
    payload: encodeGeneve(g.vni, g.tunMetadata0, g.inner),
  });
}
