/**
 * Load balancers on logical routers (northd's build_lrouter_defrag_flows_for_lb and
 * build_lrouter_nat_flows_for_lb): each VIP is sent to conntrack in lr_in_defrag, new
 * connections are load balanced in lr_in_dnat (on the gateway chassis for a distributed
 * gateway port), and replies from the backends are un-DNATed in lr_out_undnat there.
 */
import type { BuildContext } from './context.js';
import { coppMeter } from './ls-acl.js';
import { lbVipActions } from './ls-lb.js';
import type { Lb, LbVip } from './lb.js';
import type { Datapath } from './model.js';
import { LR_IN, LR_OUT } from './stages.js';
import { forceSnatAddrs } from './lr-nat.js';
import { buildLrLbAffinity } from './lb-affinity.js';

const SRC = 'lr-lb.ts';

type LbFlowType = 'normal' | 'skip' | 'force';

function flowType(od: Datapath, lb: Lb): LbFlowType {
  if (lb.options['skip_snat'] === 'true') return 'skip';
  if (forceSnatAddrs(od, 'lb')) return 'force';
  return 'normal';
}

function vipFlows(ctx: BuildContext, od: Datapath, lb: Lb, vip: LbVip): void {
  const ipm = vip.family === 4 ? 'ip4' : 'ip6';
  const proto = lb.protocol;
  const hint = lb.uuid;
  const { actions, reject } = lbVipActions(ctx, lb, vip, false);
  const type = flowType(od, lb);
  const prefix = type === 'skip' ? 'flags.skip_snat_for_lb = 1; ' : type === 'force' ? 'flags.force_snat_for_lb = 1; ' : '';
  let newAction = actions;
  if (!reject && type !== 'normal') {
    // With ct_lb_related on every chassis, the SNAT choice is also stored in the connection.
    newAction = prefix + (ctx.features.ctLbRelated ? `${actions.slice(0, -2)}; ${type === 'skip' ? 'skip_snat' : 'force_snat'});` : actions);
  }
  let match = `ct.new && !ct.rel && ${ipm} && ${ipm}.dst == ${vip.vip}`;
  let prio = 110;
  if (vip.port) {
    prio = 120;
    match += ` && ${proto} && ${proto}.dst == ${vip.port}`;
  }
  const meter = reject ? coppMeter(od, 'reject', ctx) : undefined;
  if (!od.l3dgwPorts.length) {
    ctx.lflows.add(od.key, LR_IN.dnat, prio, match, newAction, { hint, meter, source: SRC });
    buildLrLbAffinity(ctx, od, lb, vip, match, '');
  } else {
    const undnatBase = `${ipm} && (${vip.backends.map((b) => `(${ipm}.src == ${b.ip}${b.port ? ` && ${proto}.src == ${b.port}` : ''})`).join(' || ')}`;
    const gwAction = od.isGwRouter ? 'ct_dnat;' : 'ct_dnat_in_czone;';
    for (const dgp of od.l3dgwPorts) {
      const resident = ` && is_chassis_resident(${dgp.crPort!.json})`;
      ctx.lflows.add(od.key, LR_IN.dnat, prio, `${match}${resident}`, newAction, { hint, meter, source: SRC });
      buildLrLbAffinity(ctx, od, lb, vip, `${match}${resident}`, resident);
      if (!vip.backends.length) continue;
      ctx.lflows.add(od.key, LR_OUT.undnat, 120, `${undnatBase}) && outport == ${dgp.json} && is_chassis_resident(${dgp.crPort!.json})`, gwAction, { hint, source: SRC });
    }
  }
  // A VIP that is also a NAT external IP skips unSNAT.
  if (od.nats.some((n) => n.externalIp === vip.vip)) {
    let m = `${ipm} && ${ipm}.dst == ${vip.vip} && ${proto}`;
    if (vip.port) m += ` && ${proto}.dst == ${vip.port}`;
    ctx.lflows.add(od.key, LR_IN.unsnat, 120, m, 'next;', { hint, source: SRC });
  }
}

export function buildRouterLbFlows(ctx: BuildContext, od: Datapath): void {
  for (const lb of od.lbs) {
    if (lb.template) continue;
    if (lb.options['skip_snat'] === 'true') ctx.lflows.add(od.key, LR_OUT.snat, 120, 'flags.skip_snat_for_lb == 1 && ip', 'next;', { source: SRC });
    for (const vip of lb.vips) {
      ctx.lflows.add(od.key, LR_IN.defrag, 100, `ip && ${vip.family === 4 ? 'ip4' : 'ip6'}.dst == ${vip.vip}`, 'ct_dnat;', { hint: lb.uuid, source: SRC });
      vipFlows(ctx, od, lb, vip);
    }
  }
}
