/**
 * Builds every logical flow: for each switch and router the datapath-wide stages, for each port
 * the per-port ones, for each load balancer its VIP flows. Mirrors the order of northd's
 * build_lswitch_and_lrouter_iterate_by_od / _by_op, though flow order does not matter.
 */
import type { Nb } from '@ovnts/ovsdb';
import type { BuildContext, SwitchAclInfo } from './context.js';
import type { Datapath, Model, Port } from './model.js';
import { portsByUuid } from './incremental.js';
import { buildAcls, buildAclHints, buildPreAcls } from './ls-acl.js';
import { buildLbAffinityDefaults, buildLbHairpin, buildLsLbRules, buildPreLb, buildPreStateful, buildQos, buildStateful } from './ls-lb.js';
import { buildLsAdmission, buildLsPortSecurityOp } from './ls-port-security.js';
import { buildArpNdResponderDefault, buildArpNdResponderKnownIps, buildArpNdResponderSkipLocal } from './ls-arp-nd.js';
import { buildDhcpAndDnsDefaults, buildDhcpOptionsAndResponse, buildDnsLookupAndResponse, buildExternalPort } from './ls-dhcp-dns.js';
import { buildDestinationLookupBmcast, buildIpUnicastLookup, buildL2Unknown, buildLearnFdbOd, buildLearnFdbOp } from './ls-l2.js';
import { buildAdmissionForPort, buildAdmissionForRouter, buildNeighLearningForPort, buildNeighLearningForRouter } from './lr-admission.js';
import { buildDhcpv6ReplyForPort, buildIpv4InputForPort, buildIpv6InputForPort, buildMiscLocalTrafficDrop, buildNatArpNdForRouter } from './lr-ip-input.js';
import { buildConnectedRoutes, buildMcastLookupForRouter, buildRoutingPreForRouter, buildStaticRoutes } from './lr-routing.js';
import { buildPolicies } from './lr-policy.js';
import {
  buildArpRequestForRouter,
  buildArpResolveForPort,
  buildArpResolveFromNeighbors,
  buildArpResolveForRouter,
  buildCheckPktLenForRouter,
  buildDeliveryForPort,
  buildDeliveryForRouter,
  buildGatewayRedirectForRouter,
  buildLbAffinityDefaultsForRouter,
  buildNdRaForPort,
  buildNdRaForRouter,
} from './lr-arp.js';
import { buildNatForRouter } from './lr-nat.js';
import { buildRouterLbFlows } from './lr-lb.js';
import { buildLsLbAffinity } from './lb-affinity.js';
import { buildSvcMonitorArp } from './lb-health.js';
import { buildForwardingGroups } from './ls-arp-nd.js';

/**
 * ACL facts per switch: its own ACLs, then those of port groups holding one of its ports.
 * Computed per switch when first asked for (an incremental run asks for a few).
 */
export function computeAclInfo(model: Model): { get(key: string): SwitchAclInfo | undefined } {
  const nb = model.input.nb;
  let pgAcls: Map<string, Nb.ACL[]> | undefined;
  const fromPortGroups = (): Map<string, Nb.ACL[]> => {
    if (pgAcls) return pgAcls;
    pgAcls = new Map();
    const owner = portsByUuid(model);
    for (const pg of nb.Port_Group.values()) {
      if (!pg.ports.length) continue;
      const acls = pg.acls.map((u) => nb.ACL.get(u)).filter((a): a is Nb.ACL => a !== undefined);
      const seen = new Set<string>();
      for (const p of pg.ports) {
        const op = owner.get(p);
        if (!op || op.kind !== 'lsp' || seen.has(op.od.key)) continue;
        seen.add(op.od.key);
        const l = pgAcls.get(op.od.key);
        if (l) l.push(...acls);
        else pgAcls.set(op.od.key, [...acls]);
      }
    }
    return pgAcls;
  };
  const cache = new Map<string, SwitchAclInfo>();
  return {
    get(key: string): SwitchAclInfo | undefined {
      let info = cache.get(key);
      if (info) return info;
      const od = model.datapaths.get(key);
      if (!od?.nbs) return undefined;
      const own = od.nbs.acls.map((u) => nb.ACL.get(u)).filter((a): a is Nb.ACL => a !== undefined);
      const acls = [...own, ...(fromPortGroups().get(od.key) ?? [])];
      const stateful = acls.some((a) => a.action === 'allow-related' || a.action === 'reject');
      const hasLbVip = od.lbs.some((lb) => !lb.template && lb.vips.length > 0);
      info = { hasAcls: acls.length > 0, hasStatefulAcl: stateful, hasLbVip, acls };
      cache.set(key, info);
      return info;
    },
  };
}

function buildSwitch(ctx: BuildContext, od: Datapath): void {
  buildPreAcls(ctx, od);
  buildPreLb(ctx, od);
  buildPreStateful(ctx, od);
  buildAclHints(ctx, od);
  buildAcls(ctx, od);
  buildQos(ctx, od);
  buildStateful(ctx, od);
  buildLbHairpin(ctx, od);
  buildLsAdmission(ctx, od);
  buildLearnFdbOd(ctx, od);
  buildArpNdResponderDefault(ctx, od);
  buildDnsLookupAndResponse(ctx, od);
  buildDhcpAndDnsDefaults(ctx, od);
  buildDestinationLookupBmcast(ctx, od);
  buildL2Unknown(ctx, od);
  buildLbAffinityDefaults(ctx, od);
  buildForwardingGroups(ctx, od);
}

function buildRouter(ctx: BuildContext, od: Datapath): void {
  buildAdmissionForRouter(ctx, od);
  buildNeighLearningForRouter(ctx, od);
  buildNdRaForRouter(ctx, od);
  buildRoutingPreForRouter(ctx, od);
  buildStaticRoutes(ctx, od);
  buildMcastLookupForRouter(ctx, od);
  buildPolicies(ctx, od);
  buildArpResolveForRouter(ctx, od);
  buildCheckPktLenForRouter(ctx, od);
  buildGatewayRedirectForRouter(ctx, od);
  buildArpRequestForRouter(ctx, od);
  buildMiscLocalTrafficDrop(ctx, od);
  buildNatArpNdForRouter(ctx, od);
  buildNatForRouter(ctx, od);
  buildLbAffinityDefaultsForRouter(ctx, od);
  buildDeliveryForRouter(ctx, od);
}

function buildSwitchPort(ctx: BuildContext, op: Port): void {
  buildLsPortSecurityOp(ctx, op, undefined);
  buildLearnFdbOp(ctx, op);
  buildArpNdResponderSkipLocal(ctx, op);
  buildArpNdResponderKnownIps(ctx, op);
  buildDhcpOptionsAndResponse(ctx, op);
  buildExternalPort(ctx, op);
  buildIpUnicastLookup(ctx, op);
}

function buildRouterPort(ctx: BuildContext, op: Port): void {
  buildAdmissionForPort(ctx, op);
  buildNeighLearningForPort(ctx, op);
  buildConnectedRoutes(ctx, op);
  buildNdRaForPort(ctx, op);
  buildArpResolveForPort(ctx, op);
  buildDeliveryForPort(ctx, op);
  buildDhcpv6ReplyForPort(ctx, op);
  buildIpv6InputForPort(ctx, op);
  buildIpv4InputForPort(ctx, op);
}

/**
 * Every flow of one datapath (a "unit"): its datapath-wide stages, its ports' stages, its load
 * balancers, and, for a router, what it learns from its neighbours. Units only add flows to their
 * own datapath, so a unit can be rebuilt alone when its inputs change.
 */
export function buildUnit(ctx: BuildContext, od: Datapath): void {
  if (od.kind === 'ls') {
    buildSwitch(ctx, od);
    for (const op of od.ports) buildSwitchPort(ctx, op);
    for (const lb of od.lbs) {
      buildLsLbRules(ctx, lb, [od]);
      buildLsLbAffinity(ctx, lb, [od]);
    }
    buildSvcMonitorArp(ctx, ctx.nbOptions['svc_monitor_mac'] ?? '', od);
  } else {
    buildRouter(ctx, od);
    for (const op of od.ports) buildRouterPort(ctx, op);
    for (const op of od.l3dgwPorts) buildRouterPort(ctx, op.crPort!);
    buildArpResolveFromNeighbors(ctx, od);
    buildRouterLbFlows(ctx, od);
  }
}
