/**
 * A packet from a flow description (ofproto/trace's `in_port=1,tcp,nw_dst=10.0.0.3`): the
 * frame whose headers carry the fields the text gives (others zero, TTL 64 unless given), the
 * in_port, and the tunnel metadata when tun_* fields are given. Fields with no place in a frame
 * (registers, metadata, conntrack state) cannot be carried and are ignored.
 */
import type { TunnelMetadata } from '../datapath/types.js';
import { field, getBits, getWord, type FlowKey } from '../fields.js';
import { parseMatch } from '../flow/match-syntax.js';
import type { PortNames } from '../flow/values.js';
import { buildArp, buildEthernet, buildIp4Frame, buildIp6Frame, type EthSpec, type L4Spec } from '../packet/build.js';
import {
  ETH_TYPE_ARP, ETH_TYPE_IP4, ETH_TYPE_IP6, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, VLAN_PRESENT,
} from '../packet/constants.js';

export interface MicroflowPacket {
  readonly inPort: number;
  readonly frame: Uint8Array;
  readonly tunnel: TunnelMetadata | undefined;
}

function w(key: FlowKey, name: string): number {
  return getWord(key, field(name));
}

function big(key: FlowKey, name: string): bigint {
  return getBits(key, field(name));
}

function masked(mask: FlowKey, name: string): boolean {
  const f = field(name);
  for (let i = 0; i < f.words; i++) if (mask[f.word + i] !== 0) return true;
  return false;
}

function l4For(key: FlowKey, proto: number, v6: boolean): L4Spec {
  const srcPort = w(key, 'tp_src');
  const dstPort = w(key, 'tp_dst');
  switch (proto) {
    case IPPROTO_TCP:
      return { proto: 'tcp', srcPort, dstPort, flags: w(key, 'tcp_flags') };
    case IPPROTO_UDP:
      return { proto: 'udp', srcPort, dstPort };
    case IPPROTO_SCTP:
      return { proto: 'sctp', srcPort, dstPort };
    case IPPROTO_ICMP:
      if (!v6) return { proto: 'icmp', type: w(key, 'icmp_type'), code: w(key, 'icmp_code') };
      break;
    case IPPROTO_ICMPV6:
      if (v6) return { proto: 'icmp6', type: w(key, 'icmp_type'), code: w(key, 'icmp_code') };
      break;
  }
  return { proto };
}

export function microflowPacket(text: string, ports?: PortNames): MicroflowPacket {
  const m = parseMatch(text, ports ? { ports } : {});
  const key = m.value;
  if (!masked(m.mask, 'in_port')) throw new Error('the flow must give in_port');
  const inPort = w(key, 'in_port');
  const tci = w(key, 'vlan_tci');
  const eth: EthSpec = {
    src: big(key, 'dl_src'),
    dst: big(key, 'dl_dst'),
    ...(tci & VLAN_PRESENT ? { vlanTci: tci & ~VLAN_PRESENT } : {}),
  };
  const dlType = w(key, 'dl_type');
  const ttl = masked(m.mask, 'nw_ttl') ? w(key, 'nw_ttl') : 64;
  const tos = (w(key, 'nw_tos') & 0xfc) | (w(key, 'nw_ecn') & 3);
  const proto = w(key, 'nw_proto');
  let frame: Uint8Array;
  if (dlType === ETH_TYPE_IP4) {
    frame = buildIp4Frame(eth, { src: w(key, 'nw_src'), dst: w(key, 'nw_dst'), ttl, tos }, l4For(key, proto, false));
  } else if (dlType === ETH_TYPE_IP6) {
    frame = buildIp6Frame(
      eth,
      { src: big(key, 'ipv6_src'), dst: big(key, 'ipv6_dst'), hopLimit: ttl, trafficClass: tos, flowLabel: w(key, 'ipv6_label') },
      l4For(key, proto, true),
    );
  } else if (dlType === ETH_TYPE_ARP) {
    frame = buildArp(w(key, 'arp_op') || 1, big(key, 'arp_sha'), w(key, 'arp_spa'), big(key, 'arp_tha'), w(key, 'arp_tpa'), eth);
  } else {
    frame = buildEthernet(eth.dst, eth.src, dlType, new Uint8Array(46), eth.vlanTci);
  }
  let tunnel: TunnelMetadata | undefined;
  if (masked(m.mask, 'tun_id') || masked(m.mask, 'tun_metadata0') || masked(m.mask, 'tun_src') || masked(m.mask, 'tun_dst')) {
    tunnel = {
      tunId: big(key, 'tun_id'),
      metadata0: masked(m.mask, 'tun_metadata0') ? w(key, 'tun_metadata0') : undefined,
      src: w(key, 'tun_src'),
      dst: w(key, 'tun_dst'),
    };
  }
  return { inPort, frame, tunnel };
}
