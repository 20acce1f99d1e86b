/**
 * Logical router routing: lr_in_ip_routing_pre (route tables), lr_in_ip_routing (connected
 * networks, static routes with longest-prefix-match priorities, ECMP groups, multicast) and
 * lr_in_ip_routing_ecmp (one flow per ECMP member). Priorities as OVN: prefix length * 3 plus
 * 2 for connected routes, 1 for static routes, 0 for source-IP routes. Registers: reg0/xxreg0
 * next hop, reg1/xxreg1 source IP, reg7 route table, reg8[0..15] ECMP group, reg8[16..31] member.
 */
import type { Nb } from '@ovnts/ovsdb';
import type { BuildContext } from './context.js';
import { formatIp4, formatIp6, ip4Mask, ip6Mask, isIp6LinkLocal, parseCidr, parseIp6 } from './ip.js';
import type { Datapath, Port } from './model.js';
import { lrpFindMemberIp } from './model.js';
import { LR_IN } from './stages.js';
import { routerFloodStatic, routerMcastRelay } from './lr-common.js';

const SRC = 'lr-routing.ts';
const PRIO_MULT = 3;
const PRIO_CONNECTED = 2;
const PRIO_STATIC = 1;

function routeMatch(opInport: Port | undefined, rtbId: number, network: string, plen: number, isSrc: boolean, isV4: boolean, ofs: number): { match: string; priority: number } {
  const dir = isSrc ? 'src' : 'dst';
  if (isSrc) ofs = 0;
  const priority = plen * PRIO_MULT + ofs;
  let match = opInport ? `inport == ${opInport.json} && ` : '';
  if (rtbId || ofs === PRIO_STATIC) match += `reg7 == ${rtbId} && `;
  match += `ip${isV4 ? '4' : '6'}.${dir} == ${network}/${plen}`;
  return { match, priority };
}

/** add_route */
export function addRoute(
  ctx: BuildContext,
  od: Datapath,
  op: Port | undefined,
  lrpAddr: string | undefined,
  network: string,
  plen: number,
  gateway: string | undefined,
  isSrc: boolean,
  rtbId: number,
  hint: string | undefined,
  discard: boolean,
  ofs: number,
): void {
  const isV4 = network.includes('.');
  let opInport: Port | undefined;
  if (!isV4) {
    const n = parseIp6(network);
    if (n !== undefined && isIp6LinkLocal(n)) opInport = op;
  }
  const { match, priority } = routeMatch(opInport, rtbId, network, plen, isSrc, isV4, ofs);
  let actions: string;
  if (discard) actions = ctx.dropAction;
  else {
    const nh = gateway ? gateway : `ip${isV4 ? '4' : '6'}.dst`;
    actions =
      `ip.ttl--; reg8[0..15] = 0; ${isV4 ? 'reg0' : 'xxreg0'} = ${nh}; ${isV4 ? 'reg1' : 'xxreg1'} = ${lrpAddr}; ` +
      `eth.src = ${op!.lrpNetworks!.eaS}; outport = ${op!.json}; flags.loopback = 1; next;`;
  }
  ctx.lflows.add(od.key, LR_IN.ip_routing, priority, match, actions, { hint, source: SRC });
}

export function buildRoutingPreForRouter(ctx: BuildContext, od: Datapath): void {
  ctx.lflows.add(od.key, LR_IN.ip_routing_pre, 0, '1', 'reg7 = 0; next;', { source: SRC });
}

/** Connected routes for a router port's networks. */
export function buildConnectedRoutes(ctx: BuildContext, op: Port): void {
  if (op.kind !== 'lrp') return;
  for (const n of op.lrpNetworks!.ipv4) addRoute(ctx, op.od, op, n.addrS, n.networkS, n.plen, undefined, false, 0, op.uuid, false, PRIO_CONNECTED);
  for (const n of op.lrpNetworks!.ipv6) addRoute(ctx, op.od, op, n.addrS, n.networkS, n.plen, undefined, false, 0, op.uuid, false, PRIO_CONNECTED);
}

interface ParsedRoute {
  readonly route: Nb.LogicalRouterStaticRoute;
  readonly family: 4 | 6;
  readonly network: string;
  readonly plen: number;
  readonly rtbId: number;
  readonly isSrc: boolean;
  readonly discard: boolean;
  readonly origin: string;
}

/** The output port and source address of a static route (find_static_route_outport). */
function staticRouteOutport(ctx: BuildContext, od: Datapath, route: Nb.LogicalRouterStaticRoute, isV4: boolean): { port: Port; addr: string } | undefined {
  if (route.output_port !== undefined) {
    const port = ctx.model.ports.get(route.output_port);
    if (!port || !port.lrpNetworks) return undefined;
    let addr = route.nexthop ? lrpFindMemberIp(port, route.nexthop) : undefined;
    if (!addr) addr = isV4 ? port.lrpNetworks.ipv4[0]?.addrS : port.lrpNetworks.ipv6[0]?.addrS;
    return addr ? { port, addr } : undefined;
  }
  for (const u of od.nbr!.ports) {
    const lrp = ctx.model.input.nb.Logical_Router_Port.get(u);
    const port = lrp ? ctx.model.ports.get(lrp.name) : undefined;
    if (!port) continue;
    const addr = lrpFindMemberIp(port, route.nexthop);
    if (addr) return { port, addr };
  }
  return undefined;
}

function prefixText(c: { family: 4 | 6; addr: number | bigint; plen: number }): string {
  return c.family === 4 ? formatIp4((Number(c.addr) & ip4Mask(c.plen)) >>> 0) : formatIp6((c.addr as bigint) & ip6Mask(c.plen));
}

export function buildStaticRoutes(ctx: BuildContext, od: Datapath): void {
  const f = ctx.lflows;
  const nbr = od.nbr!;
  f.add(od.key, LR_IN.ip_routing_ecmp, 0, '1', ctx.dropAction, { source: SRC });
  f.add(od.key, LR_IN.ip_routing, 0, '1', ctx.dropAction, { source: SRC });
  f.add(od.key, LR_IN.ip_routing_ecmp, 150, 'reg8[0..15] == 0', 'next;', { source: SRC });

  const tables = new Map<string, number>();
  const tableId = (name: string | undefined): number => {
    if (!name) return 0;
    let id = tables.get(name);
    if (id === undefined) {
      id = tables.size + 1;
      tables.set(name, id);
    }
    return id;
  };
  for (const u of nbr.ports) {
    const lrp = ctx.model.input.nb.Logical_Router_Port.get(u);
    if (!lrp) continue;
    const id = tableId(lrp.options['route_table']);
    if (id) f.add(od.key, LR_IN.ip_routing_pre, 100, `inport == "${lrp.name}"`, `reg7 = ${id}; next;`, { source: SRC });
  }

  const parsed: ParsedRoute[] = [];
  for (const u of nbr.static_routes) {
    const route = ctx.model.input.nb.Logical_Router_Static_Route.get(u);
    if (!route) continue;
    const discard = route.nexthop === 'discard';
    const validNexthop = route.nexthop !== '' && !discard;
    let nhFamily: 4 | 6 | undefined;
    if (validNexthop) {
      const nh = parseCidr(route.nexthop);
      if (!nh || nh.plen !== (nh.family === 4 ? 32 : 128)) continue;
      nhFamily = nh.family;
    }
    const prefix = parseCidr(route.ip_prefix);
    if (!prefix) continue;
    if (nhFamily !== undefined && nhFamily !== prefix.family) continue;
    if (!discard && !staticRouteOutport(ctx, od, route, prefix.family === 4)) continue;
    if (route.bfd !== undefined) {
      const bfd = ctx.model.input.nb.BFD.get(route.bfd);
      if (bfd && bfd.dst_ip === route.nexthop && bfd.status === 'down') continue;
    }
    parsed.push({
      route,
      family: prefix.family,
      network: prefixText(prefix),
      plen: prefix.plen,
      rtbId: tableId(route.route_table),
      isSrc: route.policy === 'src-ip',
      discard,
      origin: route.options['origin'] ?? '',
    });
  }

  // Group routes with the same prefix, table and direction: two or more make an ECMP group.
  const groups = new Map<string, ParsedRoute[]>();
  const keyOf = (r: ParsedRoute): string => `${r.family}|${r.network}/${r.plen}|${r.isSrc}|${r.rtbId}`;
  for (const r of parsed) {
    const k = keyOf(r);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  let ecmpId = 0;
  for (const g of groups.values()) {
    if (g.length === 1) {
      buildStaticRouteFlow(ctx, od, g[0]!);
      continue;
    }
    ecmpId++;
    buildEcmpRouteFlows(ctx, od, g, ecmpId);
  }
}

function buildStaticRouteFlow(ctx: BuildContext, od: Datapath, r: ParsedRoute): void {
  let out: { port: Port; addr: string } | undefined;
  if (!r.discard) {
    out = staticRouteOutport(ctx, od, r.route, r.family === 4);
    if (!out) return;
  }
  const ofs = r.origin === 'connected' ? PRIO_CONNECTED : PRIO_STATIC;
  addRoute(ctx, r.discard ? od : out!.port.od, out?.port, out?.addr, r.network, r.plen, r.route.nexthop, r.isSrc, r.rtbId, r.route._uuid, r.discard, ofs);
}

function buildEcmpRouteFlows(ctx: BuildContext, od: Datapath, group: ParsedRoute[], id: number): void {
  const first = group[0]!;
  const isV4 = first.family === 4;
  const ofs = first.origin === 'connected' ? PRIO_CONNECTED : PRIO_STATIC;
  const { match, priority } = routeMatch(undefined, first.rtbId, first.network, first.plen, first.isSrc, isV4, ofs);
  const members = group.map((_, i) => i + 1);
  const sel = members.length > 1 ? `select(${members.join(', ')});` : '1; next;';
  ctx.lflows.add(od.key, LR_IN.ip_routing, priority, match, `ip.ttl--; flags.loopback = 1; reg8[0..15] = ${id}; reg8[16..31] = ${sel}`, {
    hint: first.route._uuid,
    source: SRC,
  });
  const visited = new Set<string>();
  group.forEach((r, i) => {
    const out = staticRouteOutport(ctx, od, r.route, isV4);
    if (!out) return;
    // Symmetric ECMP replies are only possible on gateway routers.
    if (od.isGwRouter && r.route.options['ecmp_symmetric_reply'] === 'true' && !visited.has(out.port.name)) {
      visited.add(out.port.name);
      addEcmpSymmetricReplyFlows(ctx, od, out.addr, out.port, r, match);
    }
    ctx.lflows.add(od.key, LR_IN.ip_routing_ecmp, 100, `reg8[0..15] == ${id} && reg8[16..31] == ${i + 1}`,
      `${isV4 ? 'reg0' : 'xxreg0'} = ${r.route.nexthop}; ${isV4 ? 'reg1' : 'xxreg1'} = ${out.addr}; eth.src = ${out.port.lrpNetworks!.eaS}; outport = ${out.port.json}; next;`,
      { hint: r.route._uuid, source: SRC });
  });
}

/**
 * Replies to connections that arrived over an ECMP route leave through the same next hop: the
 * incoming port and MAC are saved in conntrack (add_ecmp_symmetric_reply_flows).
 */
function addEcmpSymmetricReplyFlows(ctx: BuildContext, od: Datapath, portIp: string, out: Port, r: ParsedRoute, routeMatch: string): void {
  const f = ctx.lflows;
  const o = { hint: r.route._uuid, source: SRC };
  const v = r.family === 4 ? '4' : '6';
  const replyPort = ctx.features.ctNoMaskedLabel ? 'ct_mark.ecmp_reply_port' : 'ct_label.ecmp_reply_port';
  const base = `inport == ${out.json} && ip${v}.${r.isSrc ? 'dst' : 'src'} == ${r.network}/${r.plen}`;
  f.add(od.key, LR_IN.defrag, 100, base, 'reg9[5] = chk_ecmp_nh_mac(); ct_next;', o);
  f.add(od.key, LR_IN.defrag, 100, routeMatch, 'reg9[5] = chk_ecmp_nh(); ct_next;', o);
  for (const proto of ['tcp', 'udp', 'sctp']) {
    const a = `ct_commit { ct_label.ecmp_reply_eth = eth.src;  ${replyPort} = ${out.tunnelKey};}; commit_ecmp_nh(ipv6 = ${r.family === 6}, proto = ${proto}); next;`;
    f.add(od.key, LR_IN.ecmp_stateful, 100, `${base} && (ct.new && !ct.est) && ${proto}`, a, o);
    f.add(od.key, LR_IN.ecmp_stateful, 100, `${base} && (!ct.rpl && ct.est) && ${proto} && reg9[5] == 0`, a, o);
  }
  const reply = `ct.rpl && reg9[5] == 1 && ${replyPort} == ${out.tunnelKey}`;
  f.add(od.key, LR_IN.ip_routing, 10300, `${reply} && ${routeMatch}`,
    `ip.ttl--; flags.loopback = 1; eth.src = ${out.lrpNetworks!.eaS}; ${r.family === 4 ? '' : 'xx'}reg1 = ${portIp}; outport = ${out.json}; next;`, o);
  f.add(od.key, LR_IN.policy, 65535, reply, 'next;', o);
  f.add(od.key, LR_IN.arp_resolve, 200, reply, 'push(xxreg1); xxreg1 = ct_label; eth.dst = xxreg1[32..79]; pop(xxreg1); next;', o);
}

export function buildMcastLookupForRouter(ctx: BuildContext, od: Datapath): void {
  const f = ctx.lflows;
  f.add(od.key, LR_IN.ip_routing, 10550, 'nd_rs || nd_ra', ctx.dropAction, { source: SRC });
  if (!routerMcastRelay(od)) return;
  if (routerFloodStatic(od)) {
    f.add(od.key, LR_IN.ip_routing, 10450, 'ip4.mcast || ip6.mcast', 'clone { outport = "_MC_static"; ip.ttl--; next; };', { source: SRC });
  } else {
    f.add(od.key, LR_IN.ip_routing, 10450, 'ip4.mcast || ip6.mcast', ctx.dropAction, { source: SRC });
  }
}
