/**
 * Matches in ovs-ofctl syntax: `field=value[/mask]` items and protocol shorthands (ip, tcp6, arp …)
 * in, and ovs-ofctl's normalized form out, in the order ovs-ofctl prints them: connection-tracking
 * fields, the protocol shorthand, registers, tunnel, metadata, in_port, VLAN, Ethernet, L3, L4.
 *
 * Parsing is a little more lenient than ovs-ofctl: masks are accepted on every field (and printed
 * as `value/mask` where ovs-ofctl would not allow one), and fields whose prerequisites are missing
 * (say tp_dst without tcp) are kept rather than silently dropped.
 */
import { field } from '../fields.js';
import type { FieldDef } from '../fields.js';
import { lookupOfField } from './catalog.js';
import type { OfField } from './catalog.js';
import { formatIpv4Masked, formatIpv6Masked, formatMacMasked, hex, ones } from './format.js';
import type { Match } from './match.js';
import { getMask, getValue, newMatch, setMasked } from './match.js';
import { DEFAULT_PRIORITY } from './table.js';
import { FlowSyntaxError, splitKeyValues } from './tokens.js';
import type { PortNames } from './values.js';
import {
  CT_STATE_ALL,
  CT_STATE_FLAGS,
  TCP_FLAG_NAMES,
  TCP_FLAGS_ALL,
  formatFlags,
  formatFrag,
  formatPort,
  parseFieldValue,
} from './values.js';

export interface MatchSyntaxOptions {
  readonly ports?: PortNames;
}

const ETH_IP = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_ARP = 0x0806;
const ETH_RARP = 0x8035;
const ETH_MPLS = 0x8847;
const ETH_MPLSM = 0x8848;

/** Protocol shorthands: Ethernet type and, for L4 ones, IP protocol. */
const SHORTHANDS: Record<string, readonly [number, number?]> = {
  ip: [ETH_IP],
  ipv4: [ETH_IP],
  ipv6: [ETH_IPV6],
  ip6: [ETH_IPV6],
  icmp: [ETH_IP, 1],
  igmp: [ETH_IP, 2],
  tcp: [ETH_IP, 6],
  udp: [ETH_IP, 17],
  sctp: [ETH_IP, 132],
  icmp6: [ETH_IPV6, 58],
  tcp6: [ETH_IPV6, 6],
  udp6: [ETH_IPV6, 17],
  sctp6: [ETH_IPV6, 132],
  arp: [ETH_ARP],
  rarp: [ETH_RARP],
  mpls: [ETH_MPLS],
  mplsm: [ETH_MPLSM],
};

export function isShorthand(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(SHORTHANDS, name);
}

const VLAN_CFI = 0x1000;

/** Merges `value` under `mask` into the field, keeping what is already matched elsewhere in it. */
function mergeMasked(m: Match, f: FieldDef | OfField, value: bigint, mask: bigint): void {
  const oldV = getValue(m, f);
  const oldM = getMask(m, f);
  setMasked(m, f, (oldV & ~mask) | (value & mask), oldM | mask);
}

/**
 * Applies one match item (`name` alone for a shorthand, else `name=value`) to `m`. Returns false
 * if `name` is neither a field nor a shorthand, so callers can try other keywords.
 */
export function applyMatchItem(m: Match, name: string, value: string, hasValue: boolean, opts: MatchSyntaxOptions = {}): boolean {
  const lname = name.toLowerCase();
  if (!hasValue) {
    const sh = SHORTHANDS[lname];
    if (!sh) {
      if (lookupOfField(lname) || lname === 'dl_vlan' || lname === 'dl_vlan_pcp') throw new FlowSyntaxError(`field ${name} missing value`);
      return false;
    }
    setMasked(m, 'dl_type', sh[0], 0xffff);
    if (sh[1] !== undefined) setMasked(m, 'nw_proto', sh[1], 0xff);
    return true;
  }
  switch (lname) {
    case 'dl_vlan': {
      const n = parseInteger16(value, name);
      // 0xffff (OFP_VLAN_NONE) asks for packets without an 802.1Q header.
      if (n === 0xffff) setMasked(m, 'vlan_tci', 0, 0xffff);
      else if (n > 0xfff) throw new FlowSyntaxError(`${value}: invalid VLAN ID`);
      else mergeMasked(m, field('vlan_tci'), BigInt(VLAN_CFI | n), 0x1fffn);
      return true;
    }
    case 'dl_vlan_pcp':
    case 'vlan_pcp': {
      const n = parseInteger16(value, name);
      if (n > 7) throw new FlowSyntaxError(`${value}: invalid VLAN priority`);
      mergeMasked(m, field('vlan_tci'), BigInt(VLAN_CFI | (n << 13)), 0xf000n);
      return true;
    }
    case 'in_port': {
      // The key keeps in_port in a whole word; match all of it, as programmatic setExact does.
      const { value: v } = parseFieldValue(lookupOfField('in_port')!, value, opts.ports);
      setMasked(m, 'in_port', v, 0xffffffff);
      return true;
    }
    case 'nw_tos': {
      // The TOS byte's DSCP bits; the ECN bits are nw_ecn's.
      const { value: v } = parseFieldValue(lookupOfField('nw_tos')!, value, opts.ports);
      setMasked(m, 'nw_tos', v & 0xfcn, 0xfc);
      return true;
    }
  }
  const f = lookupOfField(lname);
  if (!f) return false;
  const { value: v, mask } = parseFieldValue(f, value, opts.ports);
  setMasked(m, f, v, mask);
  return true;
}

function parseInteger16(s: string, name: string): number {
  const n = /^0[xX][0-9a-fA-F]+$|^[0-9]+$/.test(s) ? Number(BigInt(s.toLowerCase())) : NaN;
  if (!Number.isFinite(n) || n > 0xffff) throw new FlowSyntaxError(`${s}: invalid value for ${name}`);
  return n;
}

/** Parses a match alone (no table, priority or actions). */
export function parseMatch(text: string, opts: MatchSyntaxOptions = {}): Match {
  const m = newMatch();
  for (const kv of splitKeyValues(text)) {
    if (!applyMatchItem(m, kv.key, kv.value, kv.sep !== '', opts)) throw new FlowSyntaxError(`${kv.key}: unknown field`);
  }
  return m;
}

// ---- printing ----

type Get = (name: string) => { v: bigint; m: bigint };

/** `%#x` with `/%#x` when masked: registers, marks, metadata, tunnel id. */
function hexMasked(name: string, v: bigint, m: bigint, bits: number): string {
  return `${name}=${hex(v)}${m === ones(bits) ? '' : `/${hex(m)}`}`;
}

/** Decimal when exact, else `0x…/0x…` (ovs-ofctl's 16-bit fields: ports, ct_zone, ICMP). */
function decMasked(name: string, v: bigint, m: bigint, bits: number): string {
  return m === ones(bits) ? `${name}=${v}` : `${name}=0x${v.toString(16)}/0x${m.toString(16)}`;
}

function padHex(v: bigint, digits: number): string {
  return `0x${v.toString(16).padStart(digits, '0')}`;
}

/** The shorthand for a match's dl_type (and nw_proto), and which fields it stands for. */
function shorthandOf(get: Get): { text?: string; skipType: boolean; skipProto: boolean } {
  const t = get('dl_type');
  if (t.m !== 0xffffn) return { skipType: false, skipProto: false };
  const p = get('nw_proto');
  const proto = p.m === 0xffn ? Number(p.v) : -1;
  const l4 = (names: Record<number, string>, plain: string): { text: string; skipType: boolean; skipProto: boolean } =>
    names[proto] !== undefined ? { text: names[proto]!, skipType: true, skipProto: true } : { text: plain, skipType: true, skipProto: false };
  switch (Number(t.v)) {
    case ETH_IP:
      return l4({ 1: 'icmp', 2: 'igmp', 6: 'tcp', 17: 'udp', 132: 'sctp' }, 'ip');
    case ETH_IPV6:
      return l4({ 58: 'icmp6', 6: 'tcp6', 17: 'udp6', 132: 'sctp6' }, 'ipv6');
    case ETH_ARP:
      return { text: 'arp', skipType: true, skipProto: false };
    case ETH_RARP:
      return { text: 'rarp', skipType: true, skipProto: false };
    case ETH_MPLS:
      return { text: 'mpls', skipType: true, skipProto: false };
    case ETH_MPLSM:
      return { text: 'mplsm', skipType: true, skipProto: false };
    default:
      return { skipType: false, skipProto: false };
  }
}

function vlanItems(v: number, m: number): string[] {
  const vidMask = m & 0x0fff;
  const pcpMask = m & 0xe000;
  const cfi = m & VLAN_CFI;
  if (cfi && v & VLAN_CFI && (!vidMask || vidMask === 0x0fff) && (!pcpMask || pcpMask === 0xe000) && (vidMask || pcpMask)) {
    const out: string[] = [];
    if (vidMask) out.push(`dl_vlan=${v & 0x0fff}`);
    if (pcpMask) out.push(`dl_vlan_pcp=${v >> 13}`);
    return out;
  }
  return m === 0xffff ? [`vlan_tci=${padHex(BigInt(v), 4)}`] : [`vlan_tci=${padHex(BigInt(v), 4)}/${padHex(BigInt(m), 4)}`];
}

/**
 * The match in ovs-ofctl's normalized form. With `priority`, starts with `priority=N` unless N
 * is the default 32768 (as ovs-ofctl does).
 */
export function printMatch(m: Match, opts: MatchSyntaxOptions & { readonly priority?: number } = {}): string {
  const get: Get = (name) => {
    const f = field(name);
    return { v: getValue(m, f), m: getMask(m, f) };
  };
  const out: string[] = [];
  if (opts.priority !== undefined && opts.priority !== DEFAULT_PRIORITY) out.push(`priority=${opts.priority}`);
  const hexF = (name: string, printed = name): void => {
    const x = get(name);
    if (x.m !== 0n) out.push(hexMasked(printed, x.v, x.m, field(name).bits));
  };
  const decF = (name: string, printed = name): void => {
    const x = get(name);
    if (x.m !== 0n) out.push(decMasked(printed, x.v, x.m, field(name).bits));
  };
  const ipv4F = (name: string): void => {
    const x = get(name);
    if (x.m !== 0n) out.push(`${name}=${formatIpv4Masked(x.v, x.m)}`);
  };
  const ipv6F = (name: string): void => {
    const x = get(name);
    if (x.m !== 0n) out.push(`${name}=${formatIpv6Masked(x.v, x.m)}`);
  };
  const ethF = (name: string): void => {
    const x = get(name);
    if (x.m !== 0n) out.push(`${name}=${formatMacMasked(x.v, x.m)}`);
  };

  hexF('pkt_mark');
  decF('conj_id');
  const cs = get('ct_state');
  if (cs.m !== 0n) {
    const mask = cs.m === 0xffffffffn ? CT_STATE_ALL : Number(cs.m);
    out.push(`ct_state=${formatFlags(CT_STATE_FLAGS, CT_STATE_ALL, Number(cs.v), mask)}`);
  }
  decF('ct_zone');
  hexF('ct_mark');
  hexF('ct_label');
  ipv4F('ct_nw_src');
  ipv4F('ct_nw_dst');
  ipv6F('ct_ipv6_src');
  ipv6F('ct_ipv6_dst');
  decF('ct_nw_proto');
  decF('ct_tp_src');
  decF('ct_tp_dst');

  const sh = shorthandOf(get);
  if (sh.text) out.push(sh.text);
  for (let i = 0; i < 16; i++) hexF(`reg${i}`);
  hexF('tun_id');
  ipv4F('tun_src');
  ipv4F('tun_dst');
  hexF('tun_metadata0');
  hexF('metadata');
  const ip = get('in_port');
  if (ip.m !== 0n) out.push(`in_port=${formatPort(Number(ip.v & 0xffffn), opts.ports)}`);
  const vt = get('vlan_tci');
  if (vt.m !== 0n) out.push(...vlanItems(Number(vt.v), Number(vt.m)));
  ethF('dl_src');
  ethF('dl_dst');
  const dt = get('dl_type');
  if (!sh.skipType && dt.m !== 0n) out.push(dt.m === 0xffffn ? `dl_type=${padHex(dt.v, 4)}` : `dl_type=${padHex(dt.v, 4)}/${padHex(dt.m, 4)}`);
  ipv6F('ipv6_src');
  ipv6F('ipv6_dst');
  const lbl = get('ipv6_label');
  if (lbl.m !== 0n) out.push(lbl.m === ones(20) ? `ipv6_label=${padHex(lbl.v, 5)}` : `ipv6_label=${padHex(lbl.v, 5)}/${padHex(lbl.m, 5)}`);
  ipv4F('nw_src');
  ipv4F('nw_dst');
  ipv4F('arp_spa');
  ipv4F('arp_tpa');
  if (!sh.skipProto) decF('nw_proto');
  decF('arp_op');
  ethF('arp_sha');
  ethF('arp_tha');
  const tos = get('nw_tos');
  if (tos.m & 0xfcn) out.push(decMasked('nw_tos', tos.v & 0xfcn, tos.m === 0xfcn || tos.m === 0xffn ? 0xffn : tos.m, 8));
  decF('nw_ecn');
  decF('nw_ttl');
  const fr = get('nw_frag');
  const frag = formatFrag(Number(fr.v), Number(fr.m));
  if (frag !== undefined) out.push(`nw_frag=${frag}`);
  decF('icmp_type');
  decF('icmp_code');
  ipv6F('nd_target');
  ethF('nd_sll');
  ethF('nd_tll');
  decF('tp_src');
  decF('tp_dst');
  const tf = get('tcp_flags');
  if (tf.m !== 0n) out.push(`tcp_flags=${formatFlags(TCP_FLAG_NAMES, TCP_FLAGS_ALL, Number(tf.v), Number(tf.m))}`);
  return out.join(',');
}
