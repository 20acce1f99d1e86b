/**
 * Where each logical field lives in the switch's flow key (lflow root field → switch BitLoc).
 * Logical registers are OpenFlow registers (xxreg0 spans reg0..reg3, reg0 most significant, as
 * in both languages); `flags` is reg10; ip.dscp is the upper six bits of nw_tos; the transport
 * ports of TCP, UDP and SCTP share tp_src/tp_dst, as OpenFlow keeps them.
 */
import { field } from '@ovnts/switch';
import type { BitLoc } from '@ovnts/switch/dist/src/flow/match.js';
import { REG } from './layout.js';

function keyField(name: string, shift = 0, bits?: number): BitLoc {
  const f = field(name);
  return { word: f.word, words: f.words, shift, bits: bits ?? f.bits };
}

/** Registers spanning several 32-bit OpenFlow registers, most significant first. */
function regs(first: number, count: number): BitLoc {
  const f = field(`reg${first}`);
  return { word: f.word, words: count, shift: 0, bits: 32 * count };
}

/** lflow root field → [switch key field, OpenFlow field name for actions, shift, bits]. */
const FIELDS: ReadonlyArray<readonly [string, string, string, number?, number?]> = [
  ['flags', REG.FLAGS, REG.FLAGS],
  ['ct_mark', 'ct_mark', 'ct_mark'],
  ['ct_label', 'ct_label', 'ct_label'],
  ['ct_state', 'ct_state', 'ct_state'],
  ['eth.src', 'dl_src', 'eth_src'],
  ['eth.dst', 'dl_dst', 'eth_dst'],
  ['eth.type', 'dl_type', 'eth_type'],
  ['vlan.tci', 'vlan_tci', 'vlan_tci'],
  ['ip.proto', 'nw_proto', 'nw_proto'],
  ['ip.dscp', 'nw_tos', 'ip_dscp', 2, 6],
  ['ip.ecn', 'nw_ecn', 'nw_ecn'],
  ['ip.ttl', 'nw_ttl', 'nw_ttl'],
  ['ip.frag', 'nw_frag', 'ip_frag'],
  ['ip4.src', 'nw_src', 'ip_src'],
  ['ip4.dst', 'nw_dst', 'ip_dst'],
  ['ip6.src', 'ipv6_src', 'ipv6_src'],
  ['ip6.dst', 'ipv6_dst', 'ipv6_dst'],
  ['ip6.label', 'ipv6_label', 'ipv6_label'],
  ['icmp4.type', 'icmp_type', 'icmp_type'],
  ['icmp4.code', 'icmp_code', 'icmp_code'],
  ['icmp6.type', 'icmp_type', 'icmpv6_type'],
  ['icmp6.code', 'icmp_code', 'icmpv6_code'],
  ['arp.op', 'arp_op', 'arp_op'],
  ['arp.spa', 'arp_spa', 'arp_spa'],
  ['arp.sha', 'arp_sha', 'arp_sha'],
  ['arp.tpa', 'arp_tpa', 'arp_tpa'],
  ['arp.tha', 'arp_tha', 'arp_tha'],
  ['rarp.op', 'arp_op', 'arp_op'],
  ['rarp.spa', 'arp_spa', 'arp_spa'],
  ['rarp.sha', 'arp_sha', 'arp_sha'],
  ['rarp.tpa', 'arp_tpa', 'arp_tpa'],
  ['rarp.tha', 'arp_tha', 'arp_tha'],
  ['nd.target', 'nd_target', 'nd_target'],
  ['nd.sll', 'nd_sll', 'nd_sll'],
  ['nd.tll', 'nd_tll', 'nd_tll'],
  ['tcp.src', 'tp_src', 'tcp_src'],
  ['tcp.dst', 'tp_dst', 'tcp_dst'],
  ['tcp.flags', 'tcp_flags', 'tcp_flags'],
  ['udp.src', 'tp_src', 'udp_src'],
  ['udp.dst', 'tp_dst', 'udp_dst'],
  ['sctp.src', 'tp_src', 'sctp_src'],
  ['sctp.dst', 'tp_dst', 'sctp_dst'],
  ['pkt.mark', 'pkt_mark', 'pkt_mark'],
];

const MAP = new Map<string, BitLoc>([
  ['xxreg0', regs(0, 4)],
  ['xxreg1', regs(4, 4)],
  ['xreg4', regs(8, 2)],
  ...FIELDS.map(([base, key, , shift, bits]): [string, BitLoc] => [base, keyField(key, shift ?? 0, bits)]),
]);
const OF_NAME = new Map(FIELDS.map(([base, , of]) => [base, of]));

/** A bit range of an OpenFlow field, for set_field/move. */
export interface OfSubField {
  readonly field: string;
  readonly ofs: number;
  readonly bits: number;
}

/**
 * The OpenFlow field and bits holding bits ofs..ofs+nBits-1 of lflow root field `base`: logical
 * registers become the narrowest OpenFlow register containing the range (reg0 rather than xxreg0).
 */
export function ofSubField(base: string, ofs: number, nBits: number): OfSubField {
  const reg = /^(xx|x)reg(\d)$/.exec(base);
  if (reg) {
    const width = reg[1] === 'xx' ? 128 : 64;
    // The register number of the most significant 32 bits of this root field.
    const first = reg[1] === 'xx' ? 4 * Number(reg[2]) : 2 * Number(reg[2]);
    const words = width / 32;
    const lo = Math.floor(ofs / 32);
    const hi = Math.floor((ofs + nBits - 1) / 32);
    if (lo === hi) return { field: `reg${first + words - 1 - lo}`, ofs: ofs % 32, bits: nBits };
    const lo64 = Math.floor(ofs / 64);
    if (width === 128 && lo64 === Math.floor((ofs + nBits - 1) / 64)) return { field: `xreg${first / 2 + 1 - lo64}`, ofs: ofs % 64, bits: nBits };
    return { field: `${reg[1]}reg${reg[2]}`, ofs, bits: nBits };
  }
  const name = OF_NAME.get(base);
  if (!name) throw new Error(`no OpenFlow field for ${base}`);
  return { field: name, ofs, bits: nBits };
}

/** The key location of lflow root field `base`; undefined for string fields (inport/outport). */
export function locOfBase(base: string): BitLoc | undefined {
  return MAP.get(base);
}

/** The key location of a logical register, flags, or the ports' registers. */
export const INPORT_LOC: BitLoc = keyField(REG.INPORT);
export const OUTPORT_LOC: BitLoc = keyField(REG.OUTPORT);
export const FLAGS_LOC: BitLoc = keyField(REG.FLAGS);
export const METADATA_LOC: BitLoc = keyField('metadata');
export const CT_ZONE_LOC: BitLoc = keyField(REG.CT_ZONE);
export const DNAT_ZONE_LOC: BitLoc = keyField(REG.DNAT_ZONE);
export const SNAT_ZONE_LOC: BitLoc = keyField(REG.SNAT_ZONE);
export const CONJ_ID_LOC: BitLoc = keyField('conj_id');
