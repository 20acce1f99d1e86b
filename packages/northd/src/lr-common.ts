/**
 * Helpers shared by the logical router stages: how northd writes a port's networks into a
 * match (op_put_v4_networks / op_put_v6_networks), the router's load-balancer VIPs, which
 * distributed gateway port a NAT rule uses, and the "drop traffic to my own IPs" flows.
 */
import type { BuildContext } from './context.js';
import { normalizePrefix } from './ip.js';
import type { NatEntry } from './nat.js';
import type { Lb } from './lb.js';
import type { Datapath, Port } from './model.js';
import { lrpFindMemberIp } from './model.js';
import { ssetOrder } from './ovs-hash.js';
import type { Stage } from './stages.js';

export function putV4Networks(op: Port, addBcast: boolean): string {
  const n = op.lrpNetworks!.ipv4;
  if (!addBcast && n.length === 1) return n[0]!.addrS;
  return `{${n.flatMap((a) => (addBcast ? [a.addrS, a.bcastS] : [a.addrS])).join(', ')}}`;
}

export function putV6Networks(op: Port): string {
  const n = op.lrpNetworks!.ipv6;
  if (n.length === 1) return n[0]!.addrS;
  return `{${n.map((a) => a.addrS).join(', ')}}`;
}

export interface RouterLbIps {
  readonly v4: Set<string>;
  readonly v6: Set<string>;
  /** VIPs the router answers ARP/ND for (options:neighbor_responder, default: in a port's subnet). */
  readonly v4Reachable: Set<string>;
  readonly v6Reachable: Set<string>;
}

/** A load balancer's VIP addresses per family, in OVS sset order (lb->ips_v4 / ips_v6). */
export function lbIpSets(lb: Lb): { v4: string[]; v6: string[] } {
  // lb->vips is filled in smap order of the `vips` column; the VIP addresses go into an sset.
  const byKey = new Map(lb.vips.map((v) => [v.key, v]));
  const v4: string[] = [];
  const v6: string[] = [];
  for (const k of ssetOrder([...byKey.keys()].sort())) {
    const vip = byKey.get(k)!;
    (vip.family === 4 ? v4 : v6).push(vip.vip);
  }
  return { v4: ssetOrder(v4), v6: ssetOrder(v6) };
}

/**
 * The router's load-balancer VIPs (od->lb_ips), canonical text, each set iterating in OVS
 * sset order: VIPs are added per load balancer in that balancer's sset order.
 */
export function routerLbIps(od: Datapath): RouterLbIps {
  const v4: string[] = [];
  const v6: string[] = [];
  const r4: string[] = [];
  const r6: string[] = [];
  if (od.kind === 'lr') {
    for (const lb of od.lbs) {
      if (lb.template) continue;
      const ips = lbIpSets(lb);
      v4.push(...ips.v4);
      v6.push(...ips.v6);
      const mode = lb.options['neighbor_responder'] ?? 'reachable';
      if (mode === 'all') {
        r4.push(...ips.v4);
        r6.push(...ips.v6);
      } else if (mode === 'reachable') {
        for (const ip of ips.v4) if (od.ports.some((p) => lrpFindMemberIp(p, ip))) r4.push(ip);
        for (const ip of ips.v6) if (od.ports.some((p) => lrpFindMemberIp(p, ip))) r6.push(ip);
      }
    }
  }
  return { v4: new Set(ssetOrder(v4)), v6: new Set(ssetOrder(v6)), v4Reachable: new Set(ssetOrder(r4)), v6Reachable: new Set(ssetOrder(r6)) };
}

export function isL3dgwPort(op: Port): boolean {
  return op.kind === 'lrp' && op.crPort !== undefined;
}

/**
 * The distributed gateway port a NAT rule applies on, or undefined if the rule is unusable
 * (lrouter_check_nat_entry). `null` means none is needed (gateway router / no DGP).
 */
export function natGatewayPort(ctx: BuildContext, od: Datapath, nat: NatEntry): Port | null | undefined {
  const gw = nat.nb.gateway_port;
  if (gw === undefined) {
    if (od.l3dgwPorts.length === 0) return null;
    if (od.l3dgwPorts.length === 1) return od.l3dgwPorts[0]!;
    for (const p of od.l3dgwPorts) if (lrpFindMemberIp(p, nat.externalIp)) return p;
    return undefined;
  }
  const lrp = ctx.model.input.nb.Logical_Router_Port.get(gw);
  const p = lrp ? ctx.model.ports.get(lrp.name) : undefined;
  if (!p || p.od !== od || !isL3dgwPort(p)) return undefined;
  return p;
}

/** Is `op` the port a NAT rule is applied on? (is_nat_gateway_port: only matters with several DGPs) */
export function isNatGatewayPort(ctx: BuildContext, nat: NatEntry, op: Port): boolean {
  if (op.od.l3dgwPorts.length <= 1) return true;
  const gw = nat.nb.gateway_port;
  if (gw === undefined) return lrpFindMemberIp(op, nat.externalIp) !== undefined;
  return ctx.model.input.nb.Logical_Router_Port.get(gw)?.name === op.name;
}

/** Prefix length of a NAT rule's logical_ip (cidr_bits). */
export function natCidrBits(nat: NatEntry): number {
  return normalizePrefix(nat.logicalIp)?.plen ?? (nat.family === 4 ? 32 : 128);
}

/**
 * Drops traffic to the router port's own addresses (build_lrouter_drop_own_dest). With
 * `dropSnatIp` false, addresses that are also SNAT or LB IPs are left out (unSNAT needs them);
 * with true, only those are listed.
 */
export function buildDropOwnDest(ctx: BuildContext, op: Port, stage: Stage, priority: number, dropSnatIp: boolean): void {
  const od = op.od;
  const lb = routerLbIps(od);
  const v4 = op.lrpNetworks!.ipv4.map((n) => n.addrS).filter((ip) => dropSnatIp === (od.snatIps.has(ip) || lb.v4.has(ip)));
  if (v4.length) ctx.lflows.add(od.key, stage, priority, `ip4.dst == {${v4.join(', ')}}`, ctx.dropAction, { hint: op.uuid, source: 'lr-common.ts' });
  const v6 = op.lrpNetworks!.ipv6.map((n) => n.addrS).filter((ip) => dropSnatIp === (od.snatIps.has(ip) || lb.v6.has(ip)));
  if (v6.length) ctx.lflows.add(od.key, stage, priority, `ip6.dst == {${v6.join(', ')}}`, ctx.dropAction, { hint: op.uuid, source: 'lr-common.ts' });
}

/** Distributed routers NAT in the common zone (ct_dnat_in_czone / ct_snat_in_czone). */
/** options:gateway_mtu of a router port (0 when unset). */
export function gatewayMtu(op: Port): number {
  const v = Number.parseInt(op.nbrp?.options['gateway_mtu'] ?? '', 10);
  return Number.isFinite(v) && v > 0 ? v : 0;
}

/**
 * ICMP "fragmentation needed" / "packet too big" for packets larger than `mtu` arriving on
 * `op` (build_icmperr_pkt_big_flows), optionally only those routed to `outport`.
 */
export function buildIcmpPktBig(ctx: BuildContext, op: Port, mtu: number, stage: Stage, outport: Port | undefined, icmp4Meter: string | undefined, icmp6Meter: string | undefined): void {
  const nets = op.lrpNetworks!;
  const out = outport ? `outport == ${outport.json} && ` : '';
  if (nets.ipv4.length) {
    ctx.lflows.add(op.od.key, stage, 150, `inport == ${op.json} && ${out}ip4 && reg9[1] && reg9[0] == 0`,
      `icmp4_error {reg9[0] = 1; reg9[1] = 0; eth.dst = ${nets.eaS}; ip4.dst = ip4.src; ip4.src = ${nets.ipv4[0]!.addrS}; ip.ttl = 255; icmp4.type = 3; /* Destination Unreachable. */ icmp4.code = 4; /* Frag Needed and DF was Set. */ icmp4.frag_mtu = ${mtu}; next(pipeline=ingress, table=0); };`,
      { hint: op.uuid, meter: icmp4Meter, source: 'lr-common.ts' });
  }
  if (nets.ipv6.length) {
    ctx.lflows.add(op.od.key, stage, 150, `inport == ${op.json} && ${out}ip6 && reg9[1] && reg9[0] == 0`,
      `icmp6_error {reg9[0] = 1; reg9[1] = 0; eth.dst = ${nets.eaS}; ip6.dst = ip6.src; ip6.src = ${nets.ipv6[0]!.addrS}; ip.ttl = 255; icmp6.type = 2; /* Packet Too Big. */ icmp6.code = 0; icmp6.frag_mtu = ${mtu}; next(pipeline=ingress, table=0); };`,
      { hint: op.uuid, meter: icmp6Meter, source: 'lr-common.ts' });
  }
}

/** Ethernet header bytes added to gateway_mtu for check_pkt_larger. */
export const ETH_HEADER_LEN = 14;

export function useCommonZone(od: Datapath): boolean {
  return !od.isGwRouter;
}

export function routerMcastRelay(od: Datapath): boolean {
  return od.nbr?.options['mcast_relay'] === 'true';
}

export function routerFloodStatic(od: Datapath): boolean {
  return od.ports.some((p) => p.nbrp!.options['mcast_flood'] === 'true');
}
