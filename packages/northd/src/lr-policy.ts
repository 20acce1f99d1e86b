/**
 * Logical router policies (lr_in_policy, lr_in_policy_ecmp): allow, drop and reroute (to one
 * next hop, or several with ECMP selection), by priority, after routing.
 */
import type { Nb } from '@ovnts/ovsdb';
import type { BuildContext } from './context.js';
import type { Datapath, Port } from './model.js';
import { lrpFindMemberIp } from './model.js';
import { LR_IN } from './stages.js';

const SRC = 'lr-policy.ts';

function outportFor(ctx: BuildContext, od: Datapath, nexthop: string | undefined): Port | undefined {
  if (nexthop === undefined) return undefined;
  for (const u of od.nbr!.ports) {
    const lrp = ctx.model.input.nb.Logical_Router_Port.get(u);
    const p = lrp ? ctx.model.ports.get(lrp.name) : undefined;
    if (p && lrpFindMemberIp(p, nexthop)) return p;
  }
  return undefined;
}

function pktMark(rule: Nb.LogicalRouterPolicy): string {
  const v = Number(rule.options['pkt_mark'] ?? 0);
  return Number.isInteger(v) && v > 0 && v <= 0xffffffff ? `pkt.mark = ${v}; ` : '';
}

export function buildPolicies(ctx: BuildContext, od: Datapath): void {
  const f = ctx.lflows;
  f.add(od.key, LR_IN.policy, 0, '1', 'reg8[0..15] = 0; next;', { source: SRC });
  f.add(od.key, LR_IN.policy_ecmp, 150, 'reg8[0..15] == 0', 'next;', { source: SRC });
  f.add(od.key, LR_IN.policy_ecmp, 0, '1', ctx.dropAction, { source: SRC });
  let ecmpId = 1;
  for (const u of od.nbr!.policies) {
    const rule = ctx.model.input.nb.Logical_Router_Policy.get(u);
    if (!rule) continue;
    const o = { hint: rule._uuid, source: SRC };
    if (rule.action === 'reroute' && rule.nexthops.length > 1) {
      buildEcmpPolicy(ctx, od, rule, ecmpId++);
      continue;
    }
    let actions = '';
    if (rule.action === 'reroute') {
      const nh = rule.nexthops.length === 1 ? rule.nexthops[0] : rule.nexthop;
      const out = outportFor(ctx, od, nh);
      if (!out) continue;
      const addr = lrpFindMemberIp(out, nh!);
      if (!addr) continue;
      const v4 = nh!.includes('.');
      actions =
        `${pktMark(rule)}${v4 ? 'reg0' : 'xxreg0'} = ${nh}; ${v4 ? 'reg1' : 'xxreg1'} = ${addr}; eth.src = ${out.lrpNetworks!.eaS}; ` +
        `outport = ${out.json}; flags.loopback = 1; reg8[0..15] = 0; next;`;
    } else if (rule.action === 'drop') {
      actions = ctx.dropAction;
    } else {
      actions = `${pktMark(rule)}reg8[0..15] = 0; next;`;
    }
    f.add(od.key, LR_IN.policy, rule.priority, rule.match, actions, o);
  }
}

function buildEcmpPolicy(ctx: BuildContext, od: Datapath, rule: Nb.LogicalRouterPolicy, id: number): void {
  const v4 = rule.nexthops[0]!.includes('.');
  if (rule.nexthops.some((n) => n.includes('.') !== v4)) return;
  const o = { hint: rule._uuid, source: SRC };
  const members: string[] = [];
  for (let i = 0; i < rule.nexthops.length; i++) {
    const nh = rule.nexthops[i]!;
    const out = outportFor(ctx, od, nh);
    if (!out) return;
    const addr = lrpFindMemberIp(out, nh);
    if (!addr) return;
    ctx.lflows.add(od.key, LR_IN.policy_ecmp, 100, `reg8[0..15] == ${id} && reg8[16..31] == ${i + 1}`,
      `${pktMark(rule)}${v4 ? 'reg0' : 'xxreg0'} = ${nh}; ${v4 ? 'reg1' : 'xxreg1'} = ${addr}; eth.src = ${out.lrpNetworks!.eaS}; outport = ${out.json}; flags.loopback = 1; next;`, o);
    members.push(String(i + 1));
  }
  ctx.lflows.add(od.key, LR_IN.policy, rule.priority, rule.match, `reg8[0..15] = ${id}; reg8[16..31] = select(${members.join(', ')});`, o);
}
