/**
 * The OpenFlow field names ovs-ofctl knows (ovs-fields(7)), each placed on the flow-key layout.
 * Most are key fields under their own or an alias name; some are views on key bits: xreg/xxreg
 * span 2/4 registers, ip_dscp is bits 2..7 of nw_tos, vlan_vid/vlan_pcp are parts of vlan_tci,
 * and tcp_src/udp_src/sctp_src all name tp_src. Actions (set_field, load, move) address fields
 * by these names; load/move print the NXM (or, lacking one, OXM) name, set_field the canonical one.
 */
import { field } from '../fields.js';
import type { BitLoc } from './match.js';

/** How a field's values are written: ovs-fields(7)'s "Format". */
export type ValueFormat = 'hex' | 'dec' | 'ipv4' | 'ipv6' | 'eth' | 'port' | 'ct_state' | 'frag' | 'tcp_flags';

export interface OfField extends BitLoc {
  /** Canonical name (set_field prints it). */
  readonly name: string;
  /** The key field holding the bits (for views, the first one). */
  readonly keyField: string;
  /** NXM or OXM name (load, move and subfields print it). */
  readonly nxm: string;
  readonly format: ValueFormat;
  /** Whether OpenFlow lets matches mask it. */
  readonly maskable: boolean;
  /** Whether actions may write it. */
  readonly writable: boolean;
}

interface Spec {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly key?: string;
  readonly words?: number;
  readonly shift?: number;
  readonly bits?: number;
  readonly nxm: string;
  readonly format: ValueFormat;
  readonly maskable?: boolean;
  readonly writable?: boolean;
}

const SPECS: Spec[] = [
  // in_port is 16 bits in OpenFlow 1.0 and NXM (move/load see 16 bits); the key keeps it in a
  // whole word, and matches on in_port=N cover the whole word (see match-syntax.ts).
  { name: 'in_port', bits: 16, nxm: 'NXM_OF_IN_PORT', format: 'port', maskable: false },
  { name: 'metadata', nxm: 'OXM_OF_METADATA', format: 'hex' },
  ...Array.from({ length: 16 }, (_, i): Spec => ({ name: `reg${i}`, nxm: `NXM_NX_REG${i}`, format: 'hex' })),
  ...Array.from({ length: 8 }, (_, i): Spec => ({ name: `xreg${i}`, key: `reg${2 * i}`, words: 2, bits: 64, nxm: `OXM_OF_PKT_REG${i}`, format: 'hex' })),
  ...Array.from({ length: 4 }, (_, i): Spec => ({ name: `xxreg${i}`, key: `reg${4 * i}`, words: 4, bits: 128, nxm: `NXM_NX_XXREG${i}`, format: 'hex' })),
  { name: 'tun_id', aliases: ['tunnel_id'], nxm: 'NXM_NX_TUN_ID', format: 'hex' },
  { name: 'tun_src', nxm: 'NXM_NX_TUN_IPV4_SRC', format: 'ipv4' },
  { name: 'tun_dst', nxm: 'NXM_NX_TUN_IPV4_DST', format: 'ipv4' },
  { name: 'tun_metadata0', nxm: 'NXM_NX_TUN_METADATA0', format: 'hex' },
  { name: 'pkt_mark', nxm: 'NXM_NX_PKT_MARK', format: 'hex' },
  { name: 'conj_id', nxm: 'NXM_NX_CONJ_ID', format: 'dec', maskable: false, writable: false },
  { name: 'ct_state', nxm: 'NXM_NX_CT_STATE', format: 'ct_state', writable: false },
  { name: 'ct_zone', nxm: 'NXM_NX_CT_ZONE', format: 'hex', maskable: false, writable: false },
  { name: 'ct_mark', nxm: 'NXM_NX_CT_MARK', format: 'hex' },
  { name: 'ct_label', nxm: 'NXM_NX_CT_LABEL', format: 'hex' },
  { name: 'ct_nw_proto', nxm: 'NXM_NX_CT_NW_PROTO', format: 'dec', maskable: false, writable: false },
  { name: 'ct_nw_src', nxm: 'NXM_NX_CT_NW_SRC', format: 'ipv4', writable: false },
  { name: 'ct_nw_dst', nxm: 'NXM_NX_CT_NW_DST', format: 'ipv4', writable: false },
  { name: 'ct_ipv6_src', nxm: 'NXM_NX_CT_IPV6_SRC', format: 'ipv6', writable: false },
  { name: 'ct_ipv6_dst', nxm: 'NXM_NX_CT_IPV6_DST', format: 'ipv6', writable: false },
  { name: 'ct_tp_src', nxm: 'NXM_NX_CT_TP_SRC', format: 'dec', writable: false },
  { name: 'ct_tp_dst', nxm: 'NXM_NX_CT_TP_DST', format: 'dec', writable: false },
  { name: 'eth_src', aliases: ['dl_src'], key: 'dl_src', nxm: 'NXM_OF_ETH_SRC', format: 'eth' },
  { name: 'eth_dst', aliases: ['dl_dst'], key: 'dl_dst', nxm: 'NXM_OF_ETH_DST', format: 'eth' },
  { name: 'eth_type', aliases: ['dl_type'], key: 'dl_type', nxm: 'NXM_OF_ETH_TYPE', format: 'hex', maskable: false, writable: false },
  { name: 'vlan_tci', nxm: 'NXM_OF_VLAN_TCI', format: 'hex' },
  // OXM's vlan_vid carries the "VLAN present" bit (0x1000, the CFI bit of the TCI) with the VID.
  { name: 'vlan_vid', key: 'vlan_tci', bits: 13, nxm: 'OXM_OF_VLAN_VID', format: 'dec' },
  { name: 'vlan_pcp', key: 'vlan_tci', shift: 13, bits: 3, nxm: 'OXM_OF_VLAN_PCP', format: 'dec', maskable: false },
  { name: 'ip_src', aliases: ['nw_src'], key: 'nw_src', nxm: 'NXM_OF_IP_SRC', format: 'ipv4' },
  { name: 'ip_dst', aliases: ['nw_dst'], key: 'nw_dst', nxm: 'NXM_OF_IP_DST', format: 'ipv4' },
  { name: 'ipv6_src', nxm: 'NXM_NX_IPV6_SRC', format: 'ipv6' },
  { name: 'ipv6_dst', nxm: 'NXM_NX_IPV6_DST', format: 'ipv6' },
  { name: 'ipv6_label', nxm: 'NXM_NX_IPV6_LABEL', format: 'hex' },
  { name: 'nw_proto', aliases: ['ip_proto'], nxm: 'NXM_OF_IP_PROTO', format: 'dec', maskable: false, writable: false },
  { name: 'nw_ttl', nxm: 'NXM_NX_IP_TTL', format: 'dec', maskable: false },
  { name: 'ip_frag', aliases: ['nw_frag'], key: 'nw_frag', nxm: 'NXM_NX_IP_FRAG', format: 'frag', writable: false },
  { name: 'nw_tos', nxm: 'NXM_OF_IP_TOS', format: 'dec', maskable: false },
  { name: 'ip_dscp', key: 'nw_tos', shift: 2, bits: 6, nxm: 'OXM_OF_IP_DSCP', format: 'dec', maskable: false },
  { name: 'nw_ecn', aliases: ['ip_ecn'], nxm: 'NXM_NX_IP_ECN', format: 'dec', maskable: false },
  { name: 'arp_op', nxm: 'NXM_OF_ARP_OP', format: 'dec', maskable: false },
  { name: 'arp_spa', nxm: 'NXM_OF_ARP_SPA', format: 'ipv4' },
  { name: 'arp_tpa', nxm: 'NXM_OF_ARP_TPA', format: 'ipv4' },
  { name: 'arp_sha', nxm: 'NXM_NX_ARP_SHA', format: 'eth' },
  { name: 'arp_tha', nxm: 'NXM_NX_ARP_THA', format: 'eth' },
  { name: 'tcp_src', aliases: ['tp_src'], key: 'tp_src', nxm: 'NXM_OF_TCP_SRC', format: 'dec' },
  { name: 'tcp_dst', aliases: ['tp_dst'], key: 'tp_dst', nxm: 'NXM_OF_TCP_DST', format: 'dec' },
  { name: 'udp_src', key: 'tp_src', nxm: 'NXM_OF_UDP_SRC', format: 'dec' },
  { name: 'udp_dst', key: 'tp_dst', nxm: 'NXM_OF_UDP_DST', format: 'dec' },
  { name: 'sctp_src', key: 'tp_src', nxm: 'OXM_OF_SCTP_SRC', format: 'dec' },
  { name: 'sctp_dst', key: 'tp_dst', nxm: 'OXM_OF_SCTP_DST', format: 'dec' },
  { name: 'tcp_flags', nxm: 'NXM_NX_TCP_FLAGS', format: 'tcp_flags', writable: false },
  { name: 'icmp_type', nxm: 'NXM_OF_ICMP_TYPE', format: 'dec', maskable: false },
  { name: 'icmp_code', nxm: 'NXM_OF_ICMP_CODE', format: 'dec', maskable: false },
  { name: 'icmpv6_type', key: 'icmp_type', nxm: 'NXM_NX_ICMPV6_TYPE', format: 'dec', maskable: false },
  { name: 'icmpv6_code', key: 'icmp_code', nxm: 'NXM_NX_ICMPV6_CODE', format: 'dec', maskable: false },
  { name: 'nd_target', nxm: 'NXM_NX_ND_TARGET', format: 'ipv6' },
  { name: 'nd_sll', nxm: 'NXM_NX_ND_SLL', format: 'eth' },
  { name: 'nd_tll', nxm: 'NXM_NX_ND_TLL', format: 'eth' },
];

function build(): { byName: Map<string, OfField>; list: OfField[] } {
  const byName = new Map<string, OfField>();
  const list: OfField[] = [];
  for (const s of SPECS) {
    const kf = field(s.key ?? s.name);
    const f: OfField = {
      name: s.name,
      keyField: kf.name,
      word: kf.word,
      words: s.words ?? kf.words,
      shift: s.shift ?? 0,
      bits: s.bits ?? kf.bits,
      nxm: s.nxm,
      format: s.format,
      maskable: s.maskable ?? true,
      writable: s.writable ?? true,
    };
    list.push(f);
    for (const n of [s.name, ...(s.aliases ?? []), s.nxm]) byName.set(n.toLowerCase(), f);
  }
  // OXM names of fields whose NXM name is the one printed; accepted on input.
  const oxm: Array<[string, string]> = [
    ['OXM_OF_TUNNEL_ID', 'tun_id'], ['OXM_OF_ETH_SRC', 'eth_src'], ['OXM_OF_ETH_DST', 'eth_dst'],
    ['OXM_OF_ETH_TYPE', 'eth_type'], ['OXM_OF_IPV4_SRC', 'ip_src'], ['OXM_OF_IPV4_DST', 'ip_dst'],
    ['OXM_OF_IPV6_SRC', 'ipv6_src'], ['OXM_OF_IPV6_DST', 'ipv6_dst'], ['OXM_OF_IPV6_FLABEL', 'ipv6_label'],
    ['OXM_OF_IP_PROTO', 'nw_proto'], ['OXM_OF_IP_ECN', 'nw_ecn'], ['OXM_OF_ARP_OP', 'arp_op'],
    ['OXM_OF_ARP_SPA', 'arp_spa'], ['OXM_OF_ARP_TPA', 'arp_tpa'], ['OXM_OF_ARP_SHA', 'arp_sha'],
    ['OXM_OF_ARP_THA', 'arp_tha'], ['OXM_OF_TCP_SRC', 'tcp_src'], ['OXM_OF_TCP_DST', 'tcp_dst'],
    ['OXM_OF_UDP_SRC', 'udp_src'], ['OXM_OF_UDP_DST', 'udp_dst'], ['ONFOXM_ET_TCP_FLAGS', 'tcp_flags'],
    ['OXM_OF_ICMPV4_TYPE', 'icmp_type'], ['OXM_OF_ICMPV4_CODE', 'icmp_code'],
    ['OXM_OF_ICMPV6_TYPE', 'icmpv6_type'], ['OXM_OF_ICMPV6_CODE', 'icmpv6_code'],
    ['OXM_OF_IPV6_ND_TARGET', 'nd_target'], ['OXM_OF_IPV6_ND_SLL', 'nd_sll'], ['OXM_OF_IPV6_ND_TLL', 'nd_tll'],
  ];
  for (const [alias, name] of oxm) byName.set(alias.toLowerCase(), byName.get(name)!);
  return { byName, list };
}

const built = build();

/** Every named field, canonical names only. */
export const OF_FIELDS: readonly OfField[] = built.list;

/** The field called `name` (canonical, alias, NXM or OXM name; case-insensitive), or undefined. */
export function lookupOfField(name: string): OfField | undefined {
  return built.byName.get(name.toLowerCase());
}

/** Like lookupOfField, but throws for an unknown name. */
export function ofField(name: string): OfField {
  const f = lookupOfField(name);
  if (!f) throw new Error(`${name}: unknown field`);
  return f;
}
