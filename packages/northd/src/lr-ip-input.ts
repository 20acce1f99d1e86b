/**
 * Logical router IP input (lr_in_ip_input): L3 admission control, replies the router itself
 * gives (ARP and ND for its addresses and NAT addresses, ICMP/ICMPv6 echo, TCP reset / ICMP port
 * unreachable for its addresses, ICMP time exceeded), DHCPv6 replies, and drops for multicast,
 * broadcast, reserved sources and TTL expiry.
 */
import type { BuildContext } from './context.js';
import { coppMeter } from './ls-acl.js';
import type { NatEntry } from './nat.js';
import { formatIp6, ip6SolicitedNode, isIp6LinkLocal, parseIp6 } from './ip.js';
import type { Datapath, Port } from './model.js';
import { LR_IN } from './stages.js';
import { buildDropOwnDest, buildIcmpPktBig, gatewayMtu, isNatGatewayPort, putV4Networks, putV6Networks, routerFloodStatic, routerLbIps, routerMcastRelay } from './lr-common.js';

const SRC = 'lr-ip-input.ts';

export function buildMiscLocalTrafficDrop(ctx: BuildContext, od: Datapath): void {
  const add = (pri: number, m: string, a: string): void => ctx.lflows.add(od.key, LR_IN.ip_input, pri, m, a, { source: SRC });
  const drop = ctx.dropAction;
  if (routerFloodStatic(od)) {
    add(120, 'igmp && ip.ttl == 1', 'next;');
    add(120, '(mldv1 || mldv2) && ip.ttl == 1', 'next;');
  }
  add(100, 'ip4.src_mcast ||ip4.src == 255.255.255.255 || ip4.src == 127.0.0.0/8 || ip4.dst == 127.0.0.0/8 || ip4.src == 0.0.0.0/8 || ip4.dst == 0.0.0.0/8', drop);
  add(85, 'arp || nd', drop);
  add(84, 'nd_rs || nd_ra', 'next;');
  add(83, 'ip6.mcast_rsvd', drop);
  add(82, 'ip4.mcast || ip6.mcast', routerMcastRelay(od) ? 'next;' : drop);
  add(50, 'eth.bcast', drop);
  add(32, 'ip.ttl == {0, 1} && !ip.later_frag && (ip4.mcast || ip6.mcast)', drop);
  add(30, 'ip.ttl == {0, 1}', drop);
  add(0, '1', 'next;');
}

export function arpReplyFlow(ctx: BuildContext, od: Datapath, op: Port | undefined, ip: string, ethAddr: string, extra: string, drop: boolean, priority: number, hint: string | undefined): void {
  let match = op ? `inport == ${op.json} && ` : '';
  match += `arp.op == 1 && arp.tpa == ${ip}`;
  if (extra !== '') match += ` && ${extra}`;
  const actions = drop
    ? 'drop;'
    : `eth.dst = eth.src; eth.src = ${ethAddr}; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = ${ethAddr}; arp.tpa <-> arp.spa; outport = inport; flags.loopback = 1; output;`;
  ctx.lflows.add(od.key, LR_IN.ip_input, priority, match, actions, { hint, source: SRC });
}

export function ndReplyFlow(ctx: BuildContext, od: Datapath, op: Port | undefined, action: string, ip: string, snIp: string | undefined, ethAddr: string, extra: string, drop: boolean, priority: number, hint: string | undefined): void {
  let match = op ? `inport == ${op.json} && ` : '';
  if (snIp !== undefined) match += `ip6.dst == {${ip}, ${snIp}} && `;
  match += `nd_ns && nd.target == ${ip}`;
  if (extra !== '') match += ` && ${extra}`;
  if (drop) {
    ctx.lflows.add(od.key, LR_IN.ip_input, priority, match, 'drop;', { hint, source: SRC });
  } else {
    const actions = `${action} { eth.src = ${ethAddr}; ip6.src = nd.target; nd.tll = ${ethAddr}; outport = inport; flags.loopback = 1; output; };`;
    ctx.lflows.add(od.key, LR_IN.ip_input, priority, match, actions, { hint, meter: coppMeter(od, 'nd-na', ctx), source: SRC });
  }
}

function snOf(ip: string): string {
  return formatIp6(ip6SolicitedNode(parseIp6(ip)!));
}

/** ARP/ND replies for NAT external addresses, per router (build_lrouter_arp_nd_for_datapath). */
export function buildNatArpNdForRouter(ctx: BuildContext, od: Datapath): void {
  const one = (nat: NatEntry): void => {
    if (nat.family === 6) ndReplyFlow(ctx, od, undefined, 'nd_na', nat.externalIp, snOf(nat.externalIp), 'xreg0[0..47]', '', false, 90, nat.nb._uuid);
    else arpReplyFlow(ctx, od, undefined, nat.externalIp, 'xreg0[0..47]', '', false, 90, nat.nb._uuid);
  };
  for (const nat of od.nats) if (nat.type !== 'snat') one(nat);
  for (const entries of od.snatIps.values()) one(entries[0]!);
}

function portNatArpNdFlow(ctx: BuildContext, op: Port, nat: NatEntry): void {
  if (!isNatGatewayPort(ctx, nat, op)) return;
  let mac = 'xreg0[0..47]';
  let extra: string;
  if (nat.distributed) {
    mac = nat.nb.external_mac!;
    extra = `is_chassis_resident("${nat.nb.logical_port!}")`;
  } else {
    extra = `is_chassis_resident(${op.crPort!.json})`;
  }
  const hint = nat.nb._uuid;
  if (nat.family === 6) {
    ndReplyFlow(ctx, op.od, op, 'nd_na', nat.externalIp, snOf(nat.externalIp), mac, extra, false, 92, hint);
    ndReplyFlow(ctx, op.od, op, 'nd_na', nat.externalIp, snOf(nat.externalIp), mac, '', true, 91, hint);
  } else {
    arpReplyFlow(ctx, op.od, op, nat.externalIp, mac, extra, false, 92, hint);
    arpReplyFlow(ctx, op.od, op, nat.externalIp, mac, '', true, 91, hint);
  }
}

export function buildIpv4InputForPort(ctx: BuildContext, op: Port): void {
  if (op.kind !== 'lrp') return;
  const od = op.od;
  const nets = op.lrpNetworks!;
  const f = ctx.lflows;
  const hint = { hint: op.uuid, source: SRC };
  const mtu = gatewayMtu(op);
  if (mtu && (od.isGwRouter || op.crPort)) buildIcmpPktBig(ctx, op, mtu, LR_IN.ip_input, undefined, coppMeter(od, 'icmp4-error', ctx), coppMeter(od, 'icmp6-error', ctx));
  if (nets.ipv4.length) {
    f.add(od.key, LR_IN.ip_input, 100, `ip4.src == ${putV4Networks(op, true)} && reg9[0] == 0`, ctx.dropAction, hint);
    f.add(od.key, LR_IN.ip_input, 90, `ip4.dst == ${putV4Networks(op, false)} && icmp4.type == 8 && icmp4.code == 0`,
      'ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 0; flags.loopback = 1; next; ', hint);
  }
  const icmp4Meter = { ...hint, meter: coppMeter(od, 'icmp4-error', ctx) };
  for (const n of nets.ipv4) {
    const ipDs = op.crPort ? 'ip4.dst <-> ip4.src' : `ip4.dst = ip4.src; ip4.src = ${n.addrS}`;
    f.add(od.key, LR_IN.ip_input, 31, `inport == ${op.json} && ip4 && ip.ttl == {0, 1} && !ip.later_frag`,
      `icmp4 {eth.dst <-> eth.src; icmp4.type = 11; /* Time exceeded */ icmp4.code = 0; /* TTL exceeded in transit */ ${ipDs} ; ip.ttl = 254; outport = ${op.json}; flags.loopback = 1; output; };`,
      icmp4Meter);
  }
  for (const n of nets.ipv4) {
    let extra = `arp.spa == ${n.networkS}/${n.plen}`;
    if (od.l3dgwPorts.length && op.peer && op.peer.od.localnetPorts.length) {
      let check = false;
      let key = '';
      if (op.crPort) {
        check = true;
        key = op.crPort.json;
      } else {
        check = op.nbrp!.options['reside-on-redirect-chassis'] === 'true' && od.l3dgwPorts.length === 1;
        key = od.l3dgwPorts[0]!.crPort!.json;
      }
      if (check) extra += ` && is_chassis_resident(${key})`;
    }
    arpReplyFlow(ctx, od, op, n.addrS, 'xreg0[0..47]', extra, false, 90, op.uuid);
  }
  const lbIps = routerLbIps(od);
  if (lbIps.v4Reachable.size) {
    arpReplyFlow(ctx, od, op, `$${lbAddressSetName(od, 4)}`, 'xreg0[0..47]', op.crPort ? `is_chassis_resident(${op.crPort.json})` : '', false, 90, undefined);
  }
  if (lbIps.v6Reachable.size) {
    ndReplyFlow(ctx, od, op, 'nd_na', `$${lbAddressSetName(od, 6)}`, undefined, 'xreg0[0..47]', op.crPort ? `is_chassis_resident(${op.crPort.json})` : '', false, 90, undefined);
  }
  if (!od.isGwRouter && !od.l3dgwPorts.length) {
    for (const n of nets.ipv4) {
      const base = `ip4 && ip4.dst == ${n.addrS} && !ip.later_frag`;
      f.add(od.key, LR_IN.ip_input, 80, `${base} && udp`,
        'icmp4 {eth.dst <-> eth.src; ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 3; icmp4.code = 3; next; };', icmp4Meter);
      f.add(od.key, LR_IN.ip_input, 80, `${base} && tcp`, 'tcp_reset {eth.dst <-> eth.src; ip4.dst <-> ip4.src; next; };',
        { ...hint, meter: coppMeter(od, 'tcp-reset', ctx) });
      f.add(od.key, LR_IN.ip_input, 80, `${base} && sctp`, 'sctp_abort {eth.dst <-> eth.src; ip4.dst <-> ip4.src; next; };',
        { ...hint, meter: coppMeter(od, 'tcp-reset', ctx) });
      f.add(od.key, LR_IN.ip_input, 70, base,
        'icmp4 {eth.dst <-> eth.src; ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 3; icmp4.code = 2; next; };', icmp4Meter);
    }
  }
  buildDropOwnDest(ctx, op, LR_IN.ip_input, 60, false);
  if (!op.crPort) return;
  for (const nat of od.nats) if (nat.type !== 'snat') portNatArpNdFlow(ctx, op, nat);
  for (const entries of od.snatIps.values()) portNatArpNdFlow(ctx, op, entries[0]!);
}

/** Name of the SB address set holding a router's LB VIPs of one family. */
export function lbAddressSetName(od: Datapath, family: 4 | 6): string {
  return `_rtr_lb_${od.tunnelKey}_ip${family}`;
}

export function buildIpv6InputForPort(ctx: BuildContext, op: Port): void {
  if (op.kind !== 'lrp') return;
  const od = op.od;
  const nets = op.lrpNetworks!;
  const f = ctx.lflows;
  const hint = { hint: op.uuid, source: SRC };
  if (nets.ipv6.length) {
    f.add(od.key, LR_IN.ip_input, 90, `ip6.dst == ${putV6Networks(op)} && icmp6.type == 128 && icmp6.code == 0`,
      'ip6.dst <-> ip6.src; ip.ttl = 255; icmp6.type = 129; flags.loopback = 1; next; ', hint);
  }
  for (const n of nets.ipv6) {
    ndReplyFlow(ctx, od, op, 'nd_na_router', n.addrS, n.snAddrS, 'xreg0[0..47]', op.crPort ? `is_chassis_resident(${op.crPort.json})` : '', false, 90, op.uuid);
  }
  const icmp6Meter = { ...hint, meter: coppMeter(od, 'icmp6-error', ctx) };
  if (!od.isGwRouter && !od.l3dgwPorts.length) {
    for (const n of nets.ipv6) {
      const base = `ip6 && ip6.dst == ${n.addrS} && !ip.later_frag`;
      f.add(od.key, LR_IN.ip_input, 80, `${base} && tcp`, 'tcp_reset {eth.dst <-> eth.src; ip6.dst <-> ip6.src; next; };',
        { ...hint, meter: coppMeter(od, 'tcp-reset', ctx) });
      f.add(od.key, LR_IN.ip_input, 80, `${base} && sctp`, 'sctp_abort {eth.dst <-> eth.src; ip6.dst <-> ip6.src; next; };',
        { ...hint, meter: coppMeter(od, 'tcp-reset', ctx) });
      f.add(od.key, LR_IN.ip_input, 80, `${base} && udp`,
        'icmp6 {eth.dst <-> eth.src; ip6.dst <-> ip6.src; ip.ttl = 255; icmp6.type = 1; icmp6.code = 4; next; };', icmp6Meter);
      f.add(od.key, LR_IN.ip_input, 70, base,
        'icmp6 {eth.dst <-> eth.src; ip6.dst <-> ip6.src; ip.ttl = 255; icmp6.type = 1; icmp6.code = 3; next; };', icmp6Meter);
    }
  }
  for (const n of nets.ipv6) {
    if (isIp6LinkLocal(n.network)) continue;
    const ipDs = op.crPort ? 'ip6.dst <-> ip6.src' : `ip6.dst = ip6.src; ip6.src = ${n.addrS}`;
    f.add(od.key, LR_IN.ip_input, 31, `inport == ${op.json} && ip6 && ip6.src == ${n.networkS}/${n.plen} && ip.ttl == {0, 1} && !ip.later_frag`,
      `icmp6 {eth.dst <-> eth.src; ${ipDs} ; ip.ttl = 254; icmp6.type = 3; /* Time exceeded */ icmp6.code = 0; /* TTL exceeded in transit */ outport = ${op.json}; flags.loopback = 1; output; };`,
      icmp6Meter);
  }
}

export function buildDhcpv6ReplyForPort(ctx: BuildContext, op: Port): void {
  if (op.kind !== 'lrp') return;
  for (const n of op.lrpNetworks!.ipv6) {
    ctx.lflows.add(op.od.key, LR_IN.ip_input, 100, `ip6.dst == ${n.addrS} && udp.src == 547 && udp.dst == 546`, 'reg0 = 0; handle_dhcpv6_reply;', { source: SRC });
  }
}
