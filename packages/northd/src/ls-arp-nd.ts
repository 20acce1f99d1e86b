/**
 * Logical switch ARP/ND responder (ls_in_arp_rsp): answers ARP requests and neighbour
 * solicitations for the addresses of the switch's ports (router ports included, with their
 * peer's networks), skips requests arriving from localnet/vtep ports and from the owner itself,
 * and binds virtual ports (northd's build_lswitch_arp_nd_responder_*).
 */
import type { BuildContext } from './context.js';
import { coppMeter } from './ls-acl.js';
import { isVlanTransparent } from './ls-port-security.js';
import { formatIp6, ip6SolicitedNode, parseIp4, parseIp6 } from './ip.js';
import type { Datapath, Port } from './model.js';
import { LS_IN } from './stages.js';

const SRC = 'ls-arp-nd.ts';

export function buildArpNdResponderDefault(ctx: BuildContext, od: Datapath): void {
  ctx.lflows.add(od.key, LS_IN.arp_rsp, 0, '1', 'next;', { source: SRC });
}

/**
 * Forwarding groups: ARP replies for the group's virtual IP with its virtual MAC, and that MAC
 * delivered to one live child port (fwd_group). As real northd 23.03, the index of the child
 * loop is the group loop's own, so a switch with several groups may skip some.
 */
export function buildForwardingGroups(ctx: BuildContext, od: Datapath): void {
  const groups = od.nbs!.forwarding_groups;
  for (let i = 0; i < groups.length; ++i) {
    const fg = ctx.model.input.nb.Forwarding_Group.get(groups[i]!);
    if (!fg || !fg.child_port.length) continue;
    const o = { hint: fg._uuid, source: SRC };
    ctx.lflows.add(od.key, LS_IN.arp_rsp, 50, `arp.tpa == ${fg.vip} && arp.op == 1`,
      `eth.dst = eth.src; eth.src = ${fg.vmac}; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = ${fg.vmac}; arp.tpa = arp.spa; arp.spa = ${fg.vip}; outport = inport; flags.loopback = 1; output;`, o);
    let ports = fg.liveness ? 'liveness="true",' : '';
    ports += 'childports=';
    for (i = 0; i < fg.child_port.length - 1; ++i) ports += `"${fg.child_port[i]}",`;
    ports += `"${fg.child_port[fg.child_port.length - 1]}"`;
    ctx.lflows.add(od.key, LS_IN.l2_lkup, 50, `eth.dst == ${fg.vmac}`, `fwd_group(${ports});`, o);
  }
}

export function buildArpNdResponderSkipLocal(ctx: BuildContext, op: Port): void {
  const lsp = op.nbsp;
  if (!lsp || lsp.type !== 'localnet') return;
  ctx.lflows.add(op.od.key, LS_IN.arp_rsp, 100, `inport == ${op.json}`, 'next;', { hint: op.uuid, ioPort: op.name, source: SRC });
}

export function buildArpNdResponderKnownIps(ctx: BuildContext, op: Port): void {
  const lsp = op.nbsp;
  if (!lsp) return;
  const f = ctx.lflows;
  const od = op.od;
  if (lsp.type === 'virtual') {
    const vip = lsp.options['virtual-ip'];
    const parents = lsp.options['virtual-parents'];
    if (vip === undefined || parents === undefined) return;
    const v4 = parseIp4(vip);
    const v6 = v4 === undefined ? parseIp6(vip) : undefined;
    if (v4 === undefined && v6 === undefined) return;
    for (const parent of parents.split(',')) {
      const vp = ctx.model.ports.get(parent);
      if (!vp || vp.od !== od) continue;
      const match =
        v4 !== undefined
          ? `inport == "${parent}" && ((arp.op == 1 && arp.spa == ${vip} && arp.tpa == ${vip}) || (arp.op == 2 && arp.spa == ${vip}))`
          : `inport == "${parent}" && ((nd_ns && ip6.dst == {${vip}, ${formatIp6(ip6SolicitedNode(v6!))}} && nd.target == ${vip}) ||(nd_na && nd.target == ${vip}))`;
      f.add(od.key, LS_IN.arp_rsp, 100, match, `bind_vport(${op.json}, inport); next;`, { hint: vp.uuid, ioPort: parent, source: SRC });
    }
    return;
  }
  const isRouter = lsp.type === 'router';
  if (ctx.checkLspIsUp && lsp.up !== true && !isRouter && lsp.type !== 'localport') return;
  if (lsp.type === 'external' || op.hasUnknown) return;
  if (isVlanTransparent(od)) return;
  const hint = { hint: op.uuid, source: SRC };
  const own = { hint: op.uuid, ioPort: op.name, source: SRC };
  for (const a of op.lspAddrs) {
    for (const ip of a.ipv4) {
      const match = `arp.tpa == ${ip.addrS} && arp.op == 1`;
      const actions =
        `eth.dst = eth.src; eth.src = ${a.eaS}; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = ${a.eaS}; ` +
        `arp.tpa = arp.spa; arp.spa = ${ip.addrS}; outport = inport; flags.loopback = 1; output;`;
      f.add(od.key, LS_IN.arp_rsp, 50, match, actions, hint);
      f.add(od.key, LS_IN.arp_rsp, 100, `${match} && inport == ${op.json}`, 'next;', own);
    }
    for (const ip of a.ipv6) {
      const match = `nd_ns && ip6.dst == {${ip.addrS}, ${ip.snAddrS}} && nd.target == ${ip.addrS}`;
      const actions =
        `${isRouter ? 'nd_na_router' : 'nd_na'} { eth.src = ${a.eaS}; ip6.src = ${ip.addrS}; nd.target = ${ip.addrS}; ` +
        `nd.tll = ${a.eaS}; outport = inport; flags.loopback = 1; output; };`;
      f.add(od.key, LS_IN.arp_rsp, 50, match, actions, { ...hint, meter: coppMeter(od, 'nd-na', ctx) });
      f.add(od.key, LS_IN.arp_rsp, 100, `${match} && inport == ${op.json}`, 'next;', own);
    }
  }
}
