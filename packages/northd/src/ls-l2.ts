/**
 * Logical switch L2: FDB learning (ls_in_lookup_fdb, ls_in_put_fdb), destination lookup
 * (ls_in_l2_lkup: service monitor, multicast, broadcast flooding, one flow per known MAC, ARP/ND
 * for router-owned IPs sent to that router port only) and unknown destinations (ls_in_l2_unknown).
 */
import type { BuildContext } from './context.js';
import { coppMeter } from './ls-acl.js';
import { parseMac, formatMac } from './ip.js';
import type { Datapath, Port } from './model.js';
import { lrpFindMemberIp, lrpIsEnabled, lspIsEnabled } from './model.js';
import { LS_IN } from './stages.js';
import { isDynamicLspAddress } from './addresses.js';
import { routerLbIps } from './lr-common.js';
import { ssetOrder } from './ovs-hash.js';

const SRC = 'ls-l2.ts';

export interface SwitchMcastInfo {
  readonly enabled: boolean;
  readonly floodUnregistered: boolean;
  readonly floodRelay: boolean;
  readonly floodStatic: boolean;
}

export function switchMcastInfo(od: Datapath): SwitchMcastInfo {
  const oc = od.nbs!.other_config;
  const floodRelay = od.routerPorts.some((op) => op.peer?.od.nbr?.options['mcast_relay'] === 'true');
  const floodStatic = od.ports.some((op) => op.nbsp!.options['mcast_flood'] === 'true' && lspIsEnabled(op.nbsp!));
  return { enabled: oc['mcast_snoop'] === 'true', floodUnregistered: oc['mcast_flood_unregistered'] === 'true', floodRelay, floodStatic };
}

export function buildLearnFdbOd(ctx: BuildContext, od: Datapath): void {
  ctx.lflows.add(od.key, LS_IN.lookup_fdb, 0, '1', 'next;', { source: SRC });
  ctx.lflows.add(od.key, LS_IN.put_fdb, 0, '1', 'next;', { source: SRC });
  ctx.lflows.add(od.key, LS_IN.l2_lkup, 0, '1', 'outport = get_fdb(eth.dst); next;', { source: SRC });
}

export function buildLearnFdbOp(ctx: BuildContext, op: Port): void {
  const lsp = op.nbsp!;
  const learnable = lsp.type === '' || (lsp.type === 'localnet' && lsp.options['localnet_learn_fdb'] === 'true');
  if (op.psAddrs.length || !op.hasUnknown || !learnable) return;
  const o = { hint: op.uuid, ioPort: op.name, source: SRC };
  ctx.lflows.add(op.od.key, LS_IN.lookup_fdb, 100, `inport == ${op.json}`, 'reg0[11] = lookup_fdb(inport, eth.src); next;', o);
  ctx.lflows.add(op.od.key, LS_IN.put_fdb, 100, `inport == ${op.json} && reg0[11] == 0`, 'put_fdb(inport, eth.src); next;', o);
}

export function buildDestinationLookupBmcast(ctx: BuildContext, od: Datapath): void {
  const f = ctx.lflows;
  f.add(od.key, LS_IN.l2_lkup, 110, 'eth.dst == $svc_monitor_mac && (tcp || icmp || icmp6)', 'handle_svc_check(inport);', {
    meter: coppMeter(od, 'svc-monitor', ctx),
    source: SRC,
  });
  const mc = switchMcastInfo(od);
  if (mc.enabled) {
    f.add(od.key, LS_IN.l2_lkup, 100, 'igmp', 'igmp;', { meter: coppMeter(od, 'igmp', ctx), source: SRC });
    f.add(od.key, LS_IN.l2_lkup, 100, 'mldv1 || mldv2', 'igmp;', { meter: coppMeter(od, 'igmp', ctx), source: SRC });
    f.add(od.key, LS_IN.l2_lkup, 85, 'ip4.mcast && ip4.dst == 224.0.0.0/24', 'outport = "_MC_flood_l2"; output;', { source: SRC });
    f.add(od.key, LS_IN.l2_lkup, 85, 'ip6.mcast_flood', 'outport = "_MC_flood"; output;', { source: SRC });
    if (!mc.floodUnregistered) {
      let a = '';
      if (mc.floodRelay) a += 'clone { outport = "_MC_mrouter_flood"; output; }; ';
      if (mc.floodStatic) a += 'outport ="_MC_static"; output;';
      if (!mc.floodRelay && !mc.floodStatic) a += ctx.dropAction;
      f.add(od.key, LS_IN.l2_lkup, 80, 'ip4.mcast || ip6.mcast', a, { source: SRC });
    }
  }
  f.add(od.key, LS_IN.l2_lkup, 70, 'eth.mcast', 'outport = "_MC_flood"; output;', { source: SRC });
}

export function buildL2Unknown(ctx: BuildContext, od: Datapath): void {
  ctx.lflows.add(od.key, LS_IN.l2_unknown, 50, 'outport == "none"', od.hasUnknown ? 'outport = "_MC_unknown"; output;' : ctx.dropAction, { source: SRC });
  ctx.lflows.add(od.key, LS_IN.l2_unknown, 0, '1', 'output;', { source: SRC });
}

/** ARP request / NS for `ip` goes to the router port only (and is flooded to the L2 domain too). */
function rportArpReqFlow(ctx: BuildContext, ip: string, family: 4 | 6, swOp: Port, od: Datapath, hint: string): void {
  const match = family === 4 ? `flags[1] == 0 && arp.op == 1 && arp.tpa == ${ip}` : `flags[1] == 0 && nd_ns && nd.target == ${ip}`;
  const actions =
    od.routerPorts.length !== od.nbs!.ports.length ? `clone {outport = ${swOp.json}; output; }; outport = "_MC_flood_l2"; output;` : `outport = ${swOp.json}; output;`;
  ctx.lflows.add(od.key, LS_IN.l2_lkup, 80, match, actions, { hint, source: SRC });
}

function rportArpReqFlows(ctx: BuildContext, rp: Port, od: Datapath, swOp: Port): void {
  if (!rp.nbrp || !lrpIsEnabled(rp.nbrp)) return;
  const hint = swOp.uuid;
  const lbIps = routerLbIps(rp.od);
  for (const ip of lbIps.v4) if (lrpFindMemberIp(rp, ip)) rportArpReqFlow(ctx, ip, 4, swOp, od, hint);
  for (const ip of lbIps.v6) if (lrpFindMemberIp(rp, ip)) rportArpReqFlow(ctx, ip, 6, swOp, od, hint);
  for (const nat of rp.od.nats) {
    if (nat.type === 'snat') continue;
    if (nat.family === 6) {
      if (!lbIps.v6.has(nat.externalIp)) rportArpReqFlow(ctx, nat.externalIp, 6, swOp, od, hint);
    } else if (!lbIps.v4.has(nat.externalIp)) rportArpReqFlow(ctx, nat.externalIp, 4, swOp, od, hint);
  }
  for (const n of rp.lrpNetworks!.ipv4) rportArpReqFlow(ctx, n.addrS, 4, swOp, od, hint);
  for (const n of rp.lrpNetworks!.ipv6) rportArpReqFlow(ctx, n.addrS, 6, swOp, od, hint);
  if (od.routerPorts.length !== od.nbs!.ports.length) {
    // An OVS sset of MACs, listed in its hash order as northd prints it.
    const macs = ssetOrder([rp.lrpNetworks!.eaS, ...rp.od.externalMacs]).join(', ');
    ctx.lflows.add(od.key, LS_IN.l2_lkup, 75, `eth.src == {${macs}} && (arp.op == 1 || rarp.op == 3 || nd_ns)`, 'outport = "_MC_flood_l2"; output;', { source: SRC });
  }
}

export function buildIpUnicastLookup(ctx: BuildContext, op: Port): void {
  const lsp = op.nbsp!;
  if (lsp.type === 'external') return;
  const od = op.od;
  if (lsp.type === 'router' && op.peer) rportArpReqFlows(ctx, op.peer, od, op);
  const enabled = lspIsEnabled(lsp);
  const action = enabled ? `outport = ${op.json}; output;` : ctx.dropAction;
  const o = { hint: op.uuid, source: SRC };
  const leadingMac = (s: string): string | undefined => {
    const m = /^\s*([0-9a-fA-F]{1,2}(?::[0-9a-fA-F]{1,2}){5})/.exec(s);
    const v = m ? parseMac(m[1]!) : undefined;
    return v === undefined ? undefined : formatMac(v);
  };
  for (const addr of lsp.addresses) {
    const mac = leadingMac(addr);
    if (mac !== undefined && !isDynamicLspAddress(addr)) {
      ctx.lflows.add(od.key, LS_IN.l2_lkup, 50, `eth.dst == ${mac}`, action, o);
    } else if (addr.trim() === 'unknown') {
      continue;
    } else if (isDynamicLspAddress(addr)) {
      const dm = op.dynamicAddresses === undefined ? undefined : leadingMac(op.dynamicAddresses);
      if (dm !== undefined) ctx.lflows.add(od.key, LS_IN.l2_lkup, 50, `eth.dst == ${dm}`, action, o);
    } else if (addr.trim() === 'router') {
      const peer = op.peer;
      if (!peer || !peer.nbrp) continue;
      const pm = parseMac(peer.nbrp.mac);
      if (pm === undefined) continue;
      let match = `eth.dst == ${formatMac(pm)}`;
      const pod = peer.od;
      if (pod.l3dgwPorts.length && od.localnetPorts.length) {
        const check = peer.crPort !== undefined || (peer.nbrp.options['reside-on-redirect-chassis'] === 'true' && pod.l3dgwPorts.length === 1);
        if (check) {
          const cr = peer.crPort ?? pod.l3dgwPorts[0]!.crPort!;
          match += ` && is_chassis_resident(${cr.json})`;
        }
      }
      ctx.lflows.add(od.key, LS_IN.l2_lkup, 50, match, action, o);
      if (pod.l3dgwPorts.length && peer === pod.l3dgwPorts[0]) {
        for (const nat of pod.nats) {
          if (!nat.distributed) continue;
          const em = parseMac(nat.nb.external_mac!);
          if (em === undefined) continue;
          ctx.lflows.add(od.key, LS_IN.l2_lkup, 50, `eth.dst == ${formatMac(em)} && is_chassis_resident("${nat.nb.logical_port!}")`, action, o);
        }
      }
    }
  }
}
