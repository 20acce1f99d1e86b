/**
 * Logical switch load balancing and conntrack plumbing: ls_in/out_pre_lb, ls_in/out_pre_stateful,
 * ls_in_lb, ls_in/out_stateful, the hairpin stages and the LB-affinity defaults, plus QoS
 * (northd's build_pre_lb, build_pre_stateful, build_lb_rules_pre_stateful, build_lb_rules,
 * build_stateful, build_lb_hairpin, build_qos). reg0[2] asks pre_stateful for ct_lb_mark,
 * reg1/xxreg1 and reg2[0..15] keep the original VIP and port for hairpin checks.
 */
import { aclInfoOf, type BuildContext } from './context.js';
import { coppMeter, skipPortFromConntrack } from './ls-acl.js';
import type { Lb, LbVip } from './lb.js';
import { activeBackends, vipHealthCheck } from './lb-health.js';
import type { Datapath } from './model.js';
import { LS_IN, LS_OUT, LR_OUT } from './stages.js';

const SRC = 'ls-lb.ts';

export function buildPreLb(ctx: BuildContext, od: Datapath): void {
  const info = aclInfoOf(ctx, od);
  const add = (stage: typeof LS_IN.pre_lb, pri: number, match: string, actions: string): void =>
    ctx.lflows.add(od.key, stage, pri, match, actions, { source: SRC });
  add(LS_IN.pre_lb, 110, 'eth.mcast', 'next;');
  add(LS_OUT.pre_lb, 110, 'eth.mcast', 'next;');
  add(LS_IN.pre_lb, 110, 'nd || nd_rs || nd_ra || mldv1 || mldv2', 'next;');
  add(LS_OUT.pre_lb, 110, 'nd || nd_rs || nd_ra || mldv1 || mldv2', 'next;');
  add(LS_IN.pre_lb, 110, 'eth.dst == $svc_monitor_mac', 'next;');
  add(LS_OUT.pre_lb, 110, 'eth.src == $svc_monitor_mac', 'next;');
  add(LS_IN.pre_lb, 0, '1', 'next;');
  add(LS_OUT.pre_lb, 0, '1', 'next;');
  for (const op of od.routerPorts) skipPortFromConntrack(ctx, od, op, LS_IN.pre_lb, LS_OUT.pre_lb, 110);
  // Localnet traffic needs conntrack only when it may be load balanced.
  if (!info.hasLbVip) for (const op of od.localnetPorts) skipPortFromConntrack(ctx, od, op, LS_IN.pre_lb, LS_OUT.pre_lb, 110);
  add(LS_IN.pre_lb, 110, 'reg0[16] == 1', 'next;');
  add(LS_OUT.pre_lb, 110, 'reg0[16] == 1', 'next;');
  if (info.hasLbVip) {
    add(LS_IN.pre_lb, 100, 'ip', 'reg0[2] = 1; next;');
    add(LS_OUT.pre_lb, 100, 'ip', 'reg0[2] = 1; next;');
  }
}

export function buildPreStateful(ctx: BuildContext, od: Datapath): void {
  const f = ctx.lflows;
  const ctLb = ctx.features.ctNoMaskedLabel ? 'ct_lb_mark;' : 'ct_lb;';
  for (const stage of [LS_IN.pre_stateful, LS_OUT.pre_stateful]) {
    f.add(od.key, stage, 0, '1', 'next;', { source: SRC });
    f.add(od.key, stage, 110, 'reg0[2] == 1', ctLb, { source: SRC });
    f.add(od.key, stage, 100, 'reg0[0] == 1', 'ct_next;', { source: SRC });
  }
}

export function buildStateful(ctx: BuildContext, od: Datapath): void {
  const f = ctx.lflows;
  const b = ctx.features.ctNoMaskedLabel ? 'ct_mark.blocked' : 'ct_label.blocked';
  f.add(od.key, LS_IN.lb, 0, '1', 'next;', { source: SRC });
  for (const stage of [LS_IN.stateful, LS_OUT.stateful]) {
    f.add(od.key, stage, 0, '1', 'next;', { source: SRC });
    f.add(od.key, stage, 100, 'reg0[1] == 1 && reg0[13] == 1', `ct_commit { ${b} = 0; ct_label.label = reg3; }; next;`, { source: SRC });
    f.add(od.key, stage, 100, 'reg0[1] == 1 && reg0[13] == 0', `ct_commit { ${b} = 0; }; next;`, { source: SRC });
  }
}

export function buildLbHairpin(ctx: BuildContext, od: Datapath): void {
  const f = ctx.lflows;
  f.add(od.key, LS_IN.pre_hairpin, 0, '1', 'next;', { source: SRC });
  f.add(od.key, LS_IN.nat_hairpin, 0, '1', 'next;', { source: SRC });
  f.add(od.key, LS_IN.hairpin, 0, '1', 'next;', { source: SRC });
  // Traffic from a VTEP (ramp) switch port skips straight to L2 lookup.
  if (od.vtepPorts.length) f.add(od.key, LS_IN.hairpin, 1000, 'reg0[14] == 1', `next(pipeline=ingress, table=${LS_IN.l2_lkup.table});`, { source: SRC });
  if (!aclInfoOf(ctx, od).hasLbVip) return;
  const o = { hint: od.key, source: SRC };
  f.add(od.key, LS_IN.pre_hairpin, 100, 'ip && ct.trk', 'reg0[6] = chk_lb_hairpin(); reg0[12] = chk_lb_hairpin_reply(); next;', o);
  f.add(od.key, LS_IN.nat_hairpin, 100, 'ip && ct.new && ct.trk && reg0[6] == 1', 'ct_snat_to_vip; next;', o);
  f.add(od.key, LS_IN.nat_hairpin, 100, 'ip && ct.est && ct.trk && reg0[6] == 1', 'ct_snat;', o);
  f.add(od.key, LS_IN.nat_hairpin, 90, 'ip && reg0[12] == 1', 'ct_snat;', o);
  f.add(od.key, LS_IN.hairpin, 1, '(reg0[6] == 1 || reg0[12] == 1)', 'eth.dst <-> eth.src; outport = inport; flags.loopback = 1; output;', { source: SRC });
}

export function buildLbAffinityDefaults(ctx: BuildContext, od: Datapath): void {
  ctx.lflows.add(od.key, LS_IN.lb_aff_check, 0, '1', 'next;', { source: SRC });
  ctx.lflows.add(od.key, LS_IN.lb_aff_learn, 0, '1', 'next;', { source: SRC });
}

export function lbProto(lb: Lb): string {
  return lb.protocol;
}

/**
 * The ct_lb_mark action of a VIP (build_lb_vip_actions). Returns the action and whether the VIP
 * rejects (no backends and options:reject=true).
 */
export function lbVipActions(ctx: BuildContext, lb: Lb, vip: LbVip, lsDp: boolean): { actions: string; reject: boolean } {
  const ctLb = ctx.features.ctNoMaskedLabel ? 'ct_lb_mark' : 'ct_lb';
  const rejectEmpty = lb.options['reject'] === 'true';
  const rejectAction = (): { actions: string; reject: boolean } => {
    const table = lsDp ? LS_OUT.qos_mark.table : LR_OUT.snat.table;
    return { actions: `reg0 = 0; reject { outport <-> inport; next(pipeline=egress,table=${table});};`, reject: true };
  };
  let backends = vip.backendsText;
  if (vipHealthCheck(ctx.model, lb, vip)) {
    // Only monitored backends that ovn-controller has not found offline.
    const active = activeBackends(ctx.model, lb, vip);
    if (!active.length) return rejectEmpty ? rejectAction() : { actions: ctx.dropAction, reject: false };
    backends = active.map((b) => (b.family === 6 ? `[${b.ip}]:${b.port}` : `${b.ip}:${b.port}`)).join(',');
  } else if (vip.empty && rejectEmpty) {
    return rejectAction();
  }
  let actions = `${lsDp ? 'reg0[1] = 0; ' : ''}${ctLb}(backends=${backends});`;
  if (lb.selectionFields.length > 0) {
    const proto = lb.nb.protocol;
    const fields = lb.selectionFields.map((f) => (f === 'tp_src' && proto ? `${proto}_src` : f === 'tp_dst' && proto ? `${proto}_dst` : f));
    actions = actions.slice(0, -2) + `; hash_fields="${fields.join(',')}");`;
  }
  return { actions, reject: false };
}

/** Per load balancer on switches: pre_stateful VIP capture and ls_in_lb DNAT. */
export function buildLsLbRules(ctx: BuildContext, lb: Lb, switches: readonly Datapath[]): void {
  if (switches.length === 0 || lb.template) return;
  const ctLb = ctx.features.ctNoMaskedLabel ? 'ct_lb_mark' : 'ct_lb';
  const proto = lbProto(lb);
  for (const vip of lb.vips) {
    const ipm = vip.family === 4 ? 'ip4' : 'ip6';
    let act = vip.family === 4 ? `reg1 = ${vip.vip}; ` : `xxreg1 = ${vip.vip}; `;
    if (vip.port) act += `reg2[0..15] = ${vip.port}; `;
    act += `${ctLb};`;
    let m = `reg0[2] == 1 && ${ipm}.dst == ${vip.vip}`;
    if (vip.port) m += ` && ${proto}.dst == ${vip.port}`;
    for (const od of switches) ctx.lflows.add(od.key, LS_IN.pre_stateful, 120, m, act, { hint: lb.uuid, source: SRC });

    const { actions, reject } = lbVipActions(ctx, lb, vip, true);
    let match = `ct.new && ${ipm}.dst == ${vip.vip}`;
    let pri = 110;
    if (vip.port) {
      match += ` && ${proto}.dst == ${vip.port}`;
      pri = 120;
    }
    for (const od of switches) {
      ctx.lflows.add(od.key, LS_IN.lb, pri, match, actions, { hint: lb.uuid, meter: reject ? coppMeter(od, 'reject', ctx) : undefined, source: SRC });
    }
  }
}

export function buildQos(ctx: BuildContext, od: Datapath): void {
  const f = ctx.lflows;
  f.add(od.key, LS_IN.qos_mark, 0, '1', 'next;', { source: SRC });
  f.add(od.key, LS_OUT.qos_mark, 0, '1', 'next;', { source: SRC });
  f.add(od.key, LS_IN.qos_meter, 0, '1', 'next;', { source: SRC });
  f.add(od.key, LS_OUT.qos_meter, 0, '1', 'next;', { source: SRC });
  for (const u of od.nbs!.qos_rules) {
    const q = ctx.model.input.nb.QoS.get(u);
    if (!q) continue;
    const ingress = q.direction === 'from-lport';
    const dscp = q.action.dscp;
    if (dscp !== undefined) f.add(od.key, ingress ? LS_IN.qos_mark : LS_OUT.qos_mark, q.priority, q.match, `ip.dscp = ${dscp}; next;`, { hint: q._uuid, source: SRC });
    const rate = q.bandwidth.rate ?? 0;
    const burst = q.bandwidth.burst ?? 0;
    if (rate) {
      const a = burst ? `set_meter(${rate}, ${burst}); next;` : `set_meter(${rate}); next;`;
      f.add(od.key, ingress ? LS_IN.qos_meter : LS_OUT.qos_meter, q.priority, q.match, a, { hint: q._uuid, source: SRC });
    }
  }
}
