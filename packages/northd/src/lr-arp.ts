/**
 * Logical router next-hop resolution and output: lr_in_arp_resolve (MACs of known neighbours:
 * VIF addresses on connected switches and peer router ports; get_arp/get_nd otherwise),
 * lr_in_arp_request (ARP/NS for unresolved next hops), IPv6 router advertisements
 * (lr_in_nd_ra_options/response), lr_in_chk_pkt_len/larger_pkts, lr_in_gw_redirect (to the
 * chassisredirect port) and lr_out_delivery.
 */
import type { BuildContext } from './context.js';
import { coppMeter } from './ls-acl.js';
import { formatIp6, formatMac, ip6LinkLocal, ip6MulticastMac, ip6SolicitedNode, isIp6LinkLocal, parseCidr } from './ip.js';
import type { Datapath, Port } from './model.js';
import { lrpFindMemberIp, lrpIsEnabled } from './model.js';
import { LR_IN, LR_OUT } from './stages.js';
import { buildDropOwnDest, buildIcmpPktBig, ETH_HEADER_LEN, gatewayMtu, putV4Networks, putV6Networks, routerMcastRelay } from './lr-common.js';

const SRC = 'lr-arp.ts';

export function buildArpResolveForRouter(ctx: BuildContext, od: Datapath): void {
  const f = ctx.lflows;
  f.add(od.key, LR_IN.arp_resolve, 500, 'ip4.mcast || ip6.mcast', 'next;', { source: SRC });
  f.add(od.key, LR_IN.arp_resolve, 1, 'ip4', 'get_arp(outport, reg0); next;', { source: SRC });
  f.add(od.key, LR_IN.arp_resolve, 1, 'ip6', 'get_nd(outport, xxreg0); next;', { source: SRC });
  f.add(od.key, LR_IN.arp_resolve, 0, '1', ctx.dropAction, { source: SRC });
}

/** On `peer`'s router: reach `target`'s networks through `peer` (next hop = target's MAC). */
function resolveToRouterPort(ctx: BuildContext, peer: Port, target: Port, v4Sep: string, hint: string): void {
  const nets = target.lrpNetworks!;
  if (nets.ipv4.length) {
    ctx.lflows.add(peer.od.key, LR_IN.arp_resolve, 100, `outport == ${peer.json} && reg0${v4Sep}${putV4Networks(target, false)}`, `eth.dst = ${nets.eaS}; next;`, { hint, source: SRC });
  }
  if (nets.ipv6.length) {
    ctx.lflows.add(peer.od.key, LR_IN.arp_resolve, 100, `outport == ${peer.json} && xxreg0 == ${putV6Networks(target)}`, `eth.dst = ${nets.eaS}; next;`, { hint, source: SRC });
  }
}

/** The router port a switch port of type "router" points at (options:router-port). */
function routerPortPeer(ctx: BuildContext, swRouterPort: Port): Port | undefined {
  const name = swRouterPort.nbsp?.options['router-port'];
  const p = name === undefined ? undefined : ctx.model.ports.get(name);
  return p && p.kind === 'lrp' ? p : undefined;
}

/** Router-port-local ARP resolve flows: bridged redirect and drops for its own addresses. */
export function buildArpResolveForPort(ctx: BuildContext, op: Port): void {
  if (!op.nbrp) return;
  if (op.kind === 'lrp' && op.od.l3dgwPorts.length === 1) {
    const rt = op.nbrp.options['redirect-type'];
    if (rt !== undefined && rt.toLowerCase() === 'bridged') {
      const cr = op.od.l3dgwPorts[0]!.crPort!;
      ctx.lflows.add(op.od.key, LR_IN.arp_resolve, 50, `outport == ${op.json} && !is_chassis_resident(${cr.json})`, `eth.dst = ${op.lrpNetworks!.eaS}; next;`, { hint: op.uuid, source: SRC });
    }
  }
  buildDropOwnDest(ctx, op, LR_IN.arp_resolve, 2, true);
}

/**
 * The next-hop MACs router `od` knows from its neighbours (build_arp_resolve_flows_for_lrouter_port,
 * seen from the router): peer router ports, the VIF addresses of connected switches, virtual
 * ports' active parents, and the other routers on those switches. All flows go to `od`.
 */
export function buildArpResolveFromNeighbors(ctx: BuildContext, od: Datapath): void {
  // Router-to-router links: reach the peer's networks through our port.
  for (const other of od.lrpPeersIn) resolveToRouterPort(ctx, other.peer!, other, '== ', other.uuid);
  for (const sw of od.lsPeers) {
    const ourPorts = sw.routerPorts.filter((rp) => routerPortPeer(ctx, rp)?.od === od);
    if (!ourPorts.length) continue;
    for (const op of sw.ports) {
      const lsp = op.nbsp!;
      if (lsp.type === 'router') continue;
      if (lsp.type === 'virtual') {
        buildArpResolveVirtual(ctx, op, od);
        continue;
      }
      for (const a of op.lspAddrs) {
        for (const ip of a.ipv4) {
          for (const rp of sw.routerPorts) {
            const peer = routerPortPeer(ctx, rp);
            if (!peer || peer.od !== od || !lrpFindMemberIp(peer, ip.addrS)) continue;
            ctx.lflows.add(od.key, LR_IN.arp_resolve, 100, `outport == ${peer.json} && reg0 == ${ip.addrS}`, `eth.dst = ${a.eaS}; next;`, { hint: op.uuid, source: SRC });
          }
        }
        for (const ip of a.ipv6) {
          for (const rp of sw.routerPorts) {
            const peer = routerPortPeer(ctx, rp);
            if (!peer || peer.od !== od || !lrpFindMemberIp(peer, ip.addrS)) continue;
            ctx.lflows.add(od.key, LR_IN.arp_resolve, 100, `outport == ${peer.json} && xxreg0 == ${ip.addrS}`, `eth.dst = ${a.eaS}; next;`, { hint: op.uuid, source: SRC });
          }
        }
      }
    }
    // The other routers on this switch: resolve their router port addresses.
    if (od.nbr?.options['dynamic_neigh_routers'] === 'true') continue;
    for (const op of ourPorts) {
      const peer = routerPortPeer(ctx, op)!;
      for (const rp of sw.routerPorts) {
        const routerPort = routerPortPeer(ctx, rp);
        if (!routerPort || routerPort === peer) continue;
        resolveToRouterPort(ctx, peer, routerPort, ' == ', op.uuid);
      }
    }
  }
}

/** Virtual port `op`: its VIP resolves to the active parent's MAC, or is left to ARP while unclaimed. */
function buildArpResolveVirtual(ctx: BuildContext, op: Port, od: Datapath): void {
  const lsp = op.nbsp!;
  const vip = lsp.options['virtual-ip'];
  if (vip === undefined || lsp.options['virtual-parents'] === undefined || !vip.includes('.')) return;
  const sb = [...ctx.model.input.sb.Port_Binding.values()].find((pb) => pb.logical_port === op.name);
  if (!sb) return;
  if (!sb.virtual_parent || sb.chassis === undefined) {
    for (const rp of op.od.routerPorts) {
      const peer = routerPortPeer(ctx, rp);
      if (!peer || !lrpFindMemberIp(peer, vip)) continue;
      if (peer.od === od) ctx.lflows.add(od.key, LR_IN.arp_resolve, 100, `outport == ${peer.json} && reg0 == ${vip}`, 'eth.dst = 00:00:00:00:00:00; next;', { hint: op.uuid, source: SRC });
      break;
    }
    return;
  }
  const vp = ctx.model.ports.get(sb.virtual_parent);
  if (!vp || !vp.nbsp) return;
  for (const a of vp.lspAddrs) {
    let found = false;
    for (const rp of vp.od.routerPorts) {
      const peer = routerPortPeer(ctx, rp);
      if (!peer || !lrpFindMemberIp(peer, vip)) continue;
      if (peer.od === od) ctx.lflows.add(od.key, LR_IN.arp_resolve, 100, `outport == ${peer.json} && reg0 == ${vip}`, `eth.dst = ${a.eaS}; next;`, { hint: op.uuid, source: SRC });
      found = true;
      break;
    }
    if (found) break;
  }
}

export function buildArpRequestForRouter(ctx: BuildContext, od: Datapath): void {
  const f = ctx.lflows;
  for (const u of od.nbr!.static_routes) {
    const route = ctx.model.input.nb.Logical_Router_Static_Route.get(u);
    if (!route) continue;
    const nh = parseCidr(route.nexthop);
    if (!nh || nh.family !== 6 || nh.plen !== 128) continue;
    const sn = ip6SolicitedNode(nh.addr);
    f.add(od.key, LR_IN.arp_request, 200, `eth.dst == 00:00:00:00:00:00 && ip6 && xxreg0 == ${route.nexthop}`,
      `nd_ns { eth.dst = ${formatMac(ip6MulticastMac(sn))}; ip6.dst = ${formatIp6(sn)}; nd.target = ${route.nexthop}; output; };`,
      { hint: route._uuid, meter: coppMeter(od, 'nd-ns-resolve', ctx), source: SRC });
  }
  f.add(od.key, LR_IN.arp_request, 100, 'eth.dst == 00:00:00:00:00:00 && ip4',
    'arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.spa = reg1; arp.tpa = reg0; arp.op = 1; output; };', { meter: coppMeter(od, 'arp-resolve', ctx), source: SRC });
  f.add(od.key, LR_IN.arp_request, 100, 'eth.dst == 00:00:00:00:00:00 && ip6', 'nd_ns { nd.target = xxreg0; output; };', { meter: coppMeter(od, 'nd-ns-resolve', ctx), source: SRC });
  f.add(od.key, LR_IN.arp_request, 0, '1', 'output;', { source: SRC });
}

export function buildNdRaForRouter(ctx: BuildContext, od: Datapath): void {
  ctx.lflows.add(od.key, LR_IN.nd_ra_options, 0, '1', 'next;', { source: SRC });
  ctx.lflows.add(od.key, LR_IN.nd_ra_response, 0, '1', 'next;', { source: SRC });
}

export function buildNdRaForPort(ctx: BuildContext, op: Port): void {
  const lrp = op.nbrp;
  if (op.kind !== 'lrp' || !lrp || lrp.peer !== undefined || !op.peer) return;
  const nets = op.lrpNetworks!;
  if (!nets.ipv6.length) return;
  const mode = lrp.ipv6_ra_configs['address_mode'];
  if (mode === undefined || !['slaac', 'dhcpv6_stateful', 'dhcpv6_stateless'].includes(mode)) return;
  const mtuS = lrp.ipv6_ra_configs['mtu'];
  const mtu = mtuS !== undefined && Number.parseInt(mtuS, 10) >= 1280 ? Number.parseInt(mtuS, 10) : 0;
  let actions = `reg0[5] = put_nd_ra_opts(addr_mode = "${mode}", slla = ${nets.eaS}`;
  if (mtu > 0) actions += `, mtu = ${mtu}`;
  const prf = lrp.ipv6_ra_configs['router_preference'] ?? 'MEDIUM';
  if (prf !== 'MEDIUM') actions += `, router_preference = "${prf}"`;
  const rdnss = lrp.ipv6_ra_configs['rdnss'];
  if (rdnss !== undefined) actions += `, rdnss = ${rdnss}`;
  const dnssl = lrp.ipv6_ra_configs['dnssl'];
  if (dnssl !== undefined) actions += `, dnssl = "${dnssl}"`;
  const routeInfo = lrp.ipv6_ra_configs['route_info'];
  if (routeInfo !== undefined) actions += `, route_info = "${routeInfo}"`;
  let any = false;
  for (const n of nets.ipv6) {
    if (isIp6LinkLocal(n.network)) continue;
    actions += `, prefix = ${n.networkS}/${n.plen}`;
    any = true;
  }
  if (!any) return;
  actions += '); next;';
  ctx.lflows.add(op.od.key, LR_IN.nd_ra_options, 50, `inport == ${op.json} && ip6.dst == ff02::2 && nd_rs`, actions, { hint: op.uuid, meter: coppMeter(op.od, 'nd-ra-opts', ctx), source: SRC });
  const lla = formatIp6(ip6LinkLocal(nets.ea));
  ctx.lflows.add(op.od.key, LR_IN.nd_ra_response, 50, `inport == ${op.json} && ip6.dst == ff02::2 && nd_ra && reg0[5]`,
    `eth.dst = eth.src; eth.src = ${nets.eaS}; ip6.dst = ip6.src; ip6.src = ${lla}; outport = inport; flags.loopback = 1; output;`, { hint: op.uuid, source: SRC });
}

export function buildCheckPktLenForRouter(ctx: BuildContext, od: Datapath): void {
  ctx.lflows.add(od.key, LR_IN.chk_pkt_len, 0, '1', 'next;', { source: SRC });
  ctx.lflows.add(od.key, LR_IN.larger_pkts, 0, '1', 'next;', { source: SRC });
  // gateway_mtu applies on distributed gateway ports, or on any port of a gateway router.
  const candidates = od.isGwRouter ? od.ports : od.l3dgwPorts;
  for (const op of candidates) {
    const mtu = gatewayMtu(op);
    if (!mtu) continue;
    ctx.lflows.add(od.key, LR_IN.chk_pkt_len, 50, `outport == ${op.json}`, `reg9[1] = check_pkt_larger(${mtu + ETH_HEADER_LEN}); next;`, { hint: op.uuid, source: SRC });
    for (const rp of od.ports) {
      if (rp === op) continue;
      buildIcmpPktBig(ctx, rp, mtu, LR_IN.larger_pkts, op, coppMeter(od, 'icmp4-error', ctx), coppMeter(od, 'icmp6-error', ctx));
    }
  }
}

export function buildGatewayRedirectForRouter(ctx: BuildContext, od: Datapath): void {
  for (const dgp of od.l3dgwPorts) {
    ctx.lflows.add(od.key, LR_IN.gw_redirect, 50, `outport == ${dgp.json}`, `outport = ${dgp.crPort!.json}; next;`, { hint: dgp.uuid, source: SRC });
  }
  ctx.lflows.add(od.key, LR_IN.gw_redirect, 0, '1', 'next;', { source: SRC });
}

export function buildDeliveryForRouter(ctx: BuildContext, od: Datapath): void {
  ctx.lflows.add(od.key, LR_OUT.delivery, 0, '1', ctx.dropAction, { source: SRC });
}

export function buildDeliveryForPort(ctx: BuildContext, op: Port): void {
  if (op.kind !== 'lrp' || !lrpIsEnabled(op.nbrp!)) return;
  if (routerMcastRelay(op.od)) {
    ctx.lflows.add(op.od.key, LR_OUT.delivery, 110, `(ip4.mcast || ip6.mcast) && outport == ${op.json}`, `eth.src = ${op.lrpNetworks!.eaS}; output;`, { source: SRC });
  }
  ctx.lflows.add(op.od.key, LR_OUT.delivery, 100, `outport == ${op.json}`, 'output;', { source: SRC });
}

export function buildLbAffinityDefaultsForRouter(ctx: BuildContext, od: Datapath): void {
  ctx.lflows.add(od.key, LR_IN.lb_aff_check, 0, '1', 'next;', { source: SRC });
  ctx.lflows.add(od.key, LR_IN.lb_aff_learn, 0, '1', 'next;', { source: SRC });
}
