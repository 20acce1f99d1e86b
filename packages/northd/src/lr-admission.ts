/**
 * Logical router admission (lr_in_admission: which Ethernet destinations a port accepts; the
 * receiving port's MAC is kept in xreg0[0..47]) and neighbour learning (lr_in_lookup_neighbor,
 * lr_in_learn_neighbor: ARP/ND-derived MAC_Binding entries via lookup_arp/put_arp and friends).
 */
import type { BuildContext } from './context.js';
import { coppMeter } from './ls-acl.js';
import type { Datapath, Port } from './model.js';
import { lrpIsEnabled } from './model.js';
import { LR_IN } from './stages.js';
import { ETH_HEADER_LEN, gatewayMtu } from './lr-common.js';

const SRC = 'lr-admission.ts';

export function buildAdmissionForRouter(ctx: BuildContext, od: Datapath): void {
  ctx.lflows.add(od.key, LR_IN.admission, 100, 'vlan.present || eth.src[40]', ctx.dropAction, { source: SRC });
  ctx.lflows.add(od.key, LR_IN.admission, 0, '1', ctx.dropAction, { source: SRC });
}

export function buildAdmissionForPort(ctx: BuildContext, op: Port): void {
  if (op.kind !== 'lrp' || !lrpIsEnabled(op.nbrp!)) return;
  const mac = op.lrpNetworks!.eaS;
  const mtu = gatewayMtu(op);
  // With gateway_mtu, every packet is checked for size on its way in (build_gateway_mtu_flow).
  const actions = `${mtu ? `reg9[1] = check_pkt_larger(${mtu + ETH_HEADER_LEN}); ` : ''}xreg0[0..47] = ${mac}; next;`;
  const o = { hint: op.uuid, source: SRC };
  ctx.lflows.add(op.od.key, LR_IN.admission, 50, `eth.mcast && inport == ${op.json}`, actions, o);
  let match = `eth.dst == ${mac} && inport == ${op.json}`;
  if (op.crPort) match += ` && is_chassis_resident(${op.crPort.json})`;
  ctx.lflows.add(op.od.key, LR_IN.admission, 50, match, actions, o);
}

function learnFromArpRequest(od: Datapath): boolean {
  return od.nbr!.options['always_learn_from_arp_request'] !== 'false';
}

export function buildNeighLearningForRouter(ctx: BuildContext, od: Datapath): void {
  const f = ctx.lflows;
  const learn = learnFromArpRequest(od);
  const o = { source: SRC };
  f.add(od.key, LR_IN.lookup_neighbor, 100, 'arp.op == 2', `reg9[2] = lookup_arp(inport, arp.spa, arp.sha); ${learn ? '' : 'reg9[3] = 1; '}next;`, o);
  f.add(od.key, LR_IN.lookup_neighbor, 100, 'nd_na', `reg9[2] = lookup_nd(inport, nd.target, nd.tll); ${learn ? '' : 'reg9[3] = 1; '}next;`, o);
  f.add(od.key, LR_IN.lookup_neighbor, 100, 'nd_ns', `reg9[2] = lookup_nd(inport, ip6.src, nd.sll); ${learn ? '' : 'reg9[3] = lookup_nd_ip(inport, ip6.src); '}next;`, o);
  if (!learn) {
    // Unsolicited link-local NAs are still learnt when ARP requests are not.
    f.add(od.key, LR_IN.lookup_neighbor, 110, 'nd_na && ip6.src == fe80::/10 && ip6.dst == ff00::/8', 'reg9[2] = lookup_nd(inport, ip6.src, nd.tll); reg9[3] = lookup_nd_ip(inport, ip6.src); next;', o);
  }
  f.add(od.key, LR_IN.lookup_neighbor, 0, '1', 'reg9[2] = 1; next;', o);
  f.add(od.key, LR_IN.learn_neighbor, 100, `reg9[2] == 1${learn ? '' : ' || reg9[3] == 0'}`, 'next;', o);
  f.add(od.key, LR_IN.learn_neighbor, 90, 'arp', 'put_arp(inport, arp.spa, arp.sha); next;', { source: SRC, meter: coppMeter(od, 'arp', ctx) });
  f.add(od.key, LR_IN.learn_neighbor, 95, 'nd_ns && (ip6.src == 0 || nd.sll == 0)', 'next;', { source: SRC, meter: coppMeter(od, 'nd-ns', ctx) });
  f.add(od.key, LR_IN.learn_neighbor, 95, 'nd_na && nd.tll == 0', 'put_nd(inport, nd.target, eth.src); next;', { source: SRC, meter: coppMeter(od, 'nd-na', ctx) });
  f.add(od.key, LR_IN.learn_neighbor, 90, 'nd_na', 'put_nd(inport, nd.target, nd.tll); next;', { source: SRC, meter: coppMeter(od, 'nd-na', ctx) });
  f.add(od.key, LR_IN.learn_neighbor, 90, 'nd_ns', 'put_nd(inport, ip6.src, nd.sll); next;', { source: SRC, meter: coppMeter(od, 'nd-ns', ctx) });
  f.add(od.key, LR_IN.learn_neighbor, 0, '1', ctx.dropAction, o);
}

/** Per router port (and its chassisredirect twin): learn from ARP requests of its own subnets. */
export function buildNeighLearningForPort(ctx: BuildContext, op: Port): void {
  if (op.kind !== 'lrp') return;
  const od = op.od;
  const learn = learnFromArpRequest(od);
  const resident = op.crPort ? ` && is_chassis_resident(${op.crPort.json})` : '';
  const o = { hint: op.uuid, source: SRC };
  for (const n of op.lrpNetworks!.ipv4) {
    if (!learn) {
      ctx.lflows.add(od.key, LR_IN.lookup_neighbor, 110,
        `inport == ${op.json} && arp.spa == ${n.networkS}/${n.plen} && arp.tpa == ${n.addrS} && arp.op == 1${resident}`,
        'reg9[2] = lookup_arp(inport, arp.spa, arp.sha); reg9[3] = 1; next;', o);
    }
    ctx.lflows.add(od.key, LR_IN.lookup_neighbor, 100, `inport == ${op.json} && arp.spa == ${n.networkS}/${n.plen} && arp.op == 1${resident}`,
      `reg9[2] = lookup_arp(inport, arp.spa, arp.sha); ${learn ? '' : 'reg9[3] = lookup_arp_ip(inport, arp.spa); '}next;`, o);
  }
}
