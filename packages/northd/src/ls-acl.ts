/**
 * Logical switch ACLs: ls_in/out_pre_acl, ls_in/out_acl_hint, ls_in/out_acl, ls_in_acl_after_lb
 * (northd's build_pre_acls, build_acl_hints, build_acls, consider_acl). Registers, as OVN:
 * reg0[0] conntrack defrag, reg0[1] commit, reg0[7..10] hints allow-new/allow/drop/block,
 * reg0[13] label set, reg0[16] stateless, reg0[17] allow-related, reg3 the ACL label.
 */
import type { Nb } from '@ovnts/ovsdb';
import { aclInfoOf, type BuildContext } from './context.js';
import { ip6LinkLocal, formatIp6, parseMac } from './ip.js';
import type { Datapath, Port } from './model.js';
import { LS_IN, LS_OUT, type Stage } from './stages.js';

const SRC = 'ls-acl.ts';
const ACL_PRI_OFFSET = 1000;

/** ct_lb / ct_label.blocked unless every chassis has ct-no-masked-label. */
function blockedField(ctx: BuildContext): string {
  return ctx.features.ctNoMaskedLabel ? 'ct_mark.blocked' : 'ct_label.blocked';
}

/** Router and localnet ports skip conntrack (skip_port_from_conntrack). */
export function skipPortFromConntrack(ctx: BuildContext, od: Datapath, op: Port, inStage: Stage, outStage: Stage, priority: number): void {
  const stateful = aclInfoOf(ctx, od).hasStatefulAcl;
  const o = { hint: op.uuid, ioPort: op.name, source: SRC };
  ctx.lflows.add(od.key, inStage, priority, `ip && inport == ${op.json}`, 'next;', o);
  ctx.lflows.add(od.key, outStage, priority, `ip && outport == ${op.json}`, stateful ? 'next;' : 'ct_clear; next;', o);
}

function buildStatelessFilters(ctx: BuildContext, od: Datapath): void {
  for (const acl of aclInfoOf(ctx, od).acls) {
    if (acl.action !== 'allow-stateless') continue;
    const stage = acl.direction === 'from-lport' ? LS_IN.pre_acl : LS_OUT.pre_acl;
    ctx.lflows.add(od.key, stage, acl.priority + ACL_PRI_OFFSET, acl.match, 'reg0[16] = 1; next;', { hint: acl._uuid, source: SRC });
  }
}

export function buildPreAcls(ctx: BuildContext, od: Datapath): void {
  const f = ctx.lflows;
  const info = aclInfoOf(ctx, od);
  f.add(od.key, LS_IN.pre_acl, 0, '1', 'next;', { source: SRC });
  f.add(od.key, LS_OUT.pre_acl, 0, '1', 'next;', { source: SRC });
  f.add(od.key, LS_IN.pre_acl, 110, 'eth.dst == $svc_monitor_mac', 'next;', { source: SRC });
  f.add(od.key, LS_OUT.pre_acl, 110, 'eth.src == $svc_monitor_mac', 'next;', { source: SRC });
  if (info.hasStatefulAcl) {
    for (const op of od.routerPorts) skipPortFromConntrack(ctx, od, op, LS_IN.pre_acl, LS_OUT.pre_acl, 110);
    for (const op of od.localnetPorts) skipPortFromConntrack(ctx, od, op, LS_IN.pre_acl, LS_OUT.pre_acl, 110);
    buildStatelessFilters(ctx, od);
    const nd = 'nd || nd_rs || nd_ra || mldv1 || mldv2 || (udp && udp.src == 546 && udp.dst == 547)';
    f.add(od.key, LS_IN.pre_acl, 110, nd, 'next;', { source: SRC });
    f.add(od.key, LS_OUT.pre_acl, 110, nd, 'next;', { source: SRC });
    f.add(od.key, LS_IN.pre_acl, 110, 'eth.mcast', 'next;', { source: SRC });
    f.add(od.key, LS_OUT.pre_acl, 110, 'eth.mcast', 'next;', { source: SRC });
    f.add(od.key, LS_IN.pre_acl, 100, 'ip', 'reg0[0] = 1; next;', { source: SRC });
    f.add(od.key, LS_OUT.pre_acl, 100, 'ip', 'reg0[0] = 1; next;', { source: SRC });
  } else if (info.hasLbVip) {
    buildStatelessFilters(ctx, od);
  }
}

export function buildAclHints(ctx: BuildContext, od: Datapath): void {
  const info = aclInfoOf(ctx, od);
  const b = blockedField(ctx);
  for (const stage of [LS_IN.acl_hint, LS_OUT.acl_hint]) {
    const add = (pri: number, match: string, actions: string): void => ctx.lflows.add(od.key, stage, pri, match, actions, { source: SRC });
    if (!info.hasAcls && !info.hasLbVip) add(65535, '1', 'next;');
    else add(0, '1', 'next;');
    if (!info.hasStatefulAcl && !info.hasLbVip) continue;
    add(7, 'ct.new && !ct.est', 'reg0[7] = 1; reg0[9] = 1; next;');
    add(6, `!ct.new && ct.est && !ct.rpl && ${b} == 1`, 'reg0[7] = 1; reg0[9] = 1; next;');
    add(5, '!ct.trk', 'reg0[8] = 1; reg0[9] = 1; next;');
    add(4, `!ct.new && ct.est && !ct.rpl && ${b} == 0`, 'reg0[8] = 1; reg0[10] = 1; next;');
    add(3, '!ct.est', 'reg0[9] = 1; next;');
    add(2, `ct.est && ${b} == 1`, 'reg0[9] = 1; next;');
    add(1, `ct.est && ${b} == 0`, 'reg0[10] = 1; next;');
  }
}

/** log(...) prefix of an ACL's actions (build_acl_log). */
function aclLog(ctx: BuildContext, acl: Nb.ACL): string {
  if (!acl.log) return '';
  const parts: string[] = [];
  if (acl.name !== undefined) parts.push(`name="${acl.name}"`);
  parts.push(`severity=${acl.severity ?? 'info'}`);
  const verdict = acl.action === 'drop' ? 'drop' : acl.action === 'reject' ? 'reject' : 'allow';
  parts.push(`verdict=${verdict}`);
  if (acl.meter !== undefined) {
    const m = ctx.meters.get(acl.meter);
    const name = m && m.fair === true ? `${acl.meter}__${acl._uuid}` : acl.meter;
    parts.push(`meter="${name}"`);
  }
  return `log(${parts.join(', ')}); `;
}

function buildRejectAcl(ctx: BuildContext, od: Datapath, stage: Stage, acl: Nb.ACL, extraMatch: string, extraActions: string): void {
  const ingress = stage.pipeline === 'ingress';
  const next = ingress ? `next(pipeline=egress,table=${LS_OUT.qos_mark.table});` : `next(pipeline=ingress,table=${LS_IN.l2_lkup.table});`;
  let actions = aclLog(ctx, acl);
  const match = extraMatch !== '' ? `(${extraMatch}) && ${acl.match}` : acl.match;
  if (extraActions !== '') actions += `${extraActions} `;
  actions += `reg0 = 0; reject { /* eth.dst <-> eth.src; ip.dst <-> ip.src; is implicit. */ outport <-> inport; ${next} };`;
  ctx.lflows.add(od.key, stage, acl.priority + ACL_PRI_OFFSET, match, actions, { hint: acl._uuid, meter: coppMeter(od, 'reject', ctx), source: SRC });
}

/** The meter a switch's or router's Control Plane Protection row assigns to a protocol. */
export function coppMeter(od: Datapath, proto: string, ctx: BuildContext): string | undefined {
  const coppUuid = od.nbs?.copp ?? od.nbr?.copp;
  if (coppUuid === undefined) return undefined;
  const copp = ctx.model.input.nb.Copp.get(coppUuid);
  const name = copp?.meters[proto];
  if (name === undefined || !ctx.meters.has(name)) return undefined;
  return name;
}

function considerAcl(ctx: BuildContext, od: Datapath, acl: Nb.ACL, hasStateful: boolean): void {
  const ingress = acl.direction === 'from-lport';
  const stage = ingress && acl.options['apply-after-lb'] === 'true' ? LS_IN.acl_after_lb : ingress ? LS_IN.acl : LS_OUT.acl;
  const pri = acl.priority + ACL_PRI_OFFSET;
  const o = { hint: acl._uuid, source: SRC };
  const add = (match: string, actions: string): void => ctx.lflows.add(od.key, stage, pri, match, actions, o);
  const log = aclLog(ctx, acl);
  const b = blockedField(ctx);
  if (acl.action === 'allow-stateless') {
    add(acl.match, `${log}next;`);
  } else if (acl.action === 'allow' || acl.action === 'allow-related') {
    if (!hasStateful) {
      add(acl.match, `${log}next;`);
    } else {
      const label = acl.label ? `reg0[13] = 1; reg3 = ${acl.label}; ` : '';
      add(`reg0[7] == 1 && (${acl.match})`, `reg0[1] = 1; ${label}${log}next;`);
      add(`reg0[8] == 1 && (${acl.match})`, `${acl.label ? `reg0[1] = 1; ${label}` : ''}${log}next;`);
    }
  } else if (acl.action === 'drop' || acl.action === 'reject') {
    const reject = acl.action === 'reject';
    if (hasStateful) {
      if (reject) buildRejectAcl(ctx, od, stage, acl, 'reg0[9] == 1', '');
      else add(`reg0[9] == 1 && (${acl.match})`, `${log}/* drop */`);
      const commit = `ct_commit { ${b} = 1; }; `;
      if (reject) buildRejectAcl(ctx, od, stage, acl, 'reg0[10] == 1', commit);
      else add(`reg0[10] == 1 && (${acl.match})`, `${commit}${log}/* drop */`);
    } else if (reject) {
      buildRejectAcl(ctx, od, stage, acl, '', '');
    } else {
      add(acl.match, `${log}/* drop */`);
    }
  }
}

function dhcpOptionsOf(ctx: BuildContext, uuid: string | undefined): Nb.DHCPOptions | undefined {
  return uuid === undefined ? undefined : ctx.model.input.nb.DHCP_Options.get(uuid);
}

export function lsHasDnsRecords(ctx: BuildContext, od: Datapath): boolean {
  return (od.nbs?.dns_records ?? []).some((u) => Object.keys(ctx.model.input.nb.DNS.get(u)?.records ?? {}).length > 0);
}

export function buildAcls(ctx: BuildContext, od: Datapath): void {
  const f = ctx.lflows;
  const info = aclInfoOf(ctx, od);
  const hasStateful = info.hasStatefulAcl || info.hasLbVip;
  const b = blockedField(ctx);
  const defaultDrop = ctx.nbOptions['default_acl_drop'] === 'true';
  const defaultAction = defaultDrop ? ctx.dropAction : 'next;';
  const add = (stage: Stage, pri: number, match: string, actions: string): void => f.add(od.key, stage, pri, match, actions, { source: SRC });

  if (!info.hasAcls && !info.hasLbVip) {
    add(LS_IN.acl, 65535, '1', 'next;');
    add(LS_OUT.acl, 65535, '1', 'next;');
  } else {
    add(LS_IN.acl, 0, '1', defaultAction);
    add(LS_OUT.acl, 0, '1', defaultAction);
  }
  add(LS_IN.acl_after_lb, 0, '1', info.hasAcls || info.hasLbVip ? defaultAction : 'next;');

  if (hasStateful) {
    add(LS_IN.acl, 1, `ip && ct.est && ${b} == 1`, 'reg0[1] = 1; next;');
    add(LS_OUT.acl, 1, `ip && ct.est && ${b} == 1`, 'reg0[1] = 1; next;');
    const nextAction = defaultDrop ? ctx.dropAction : 'reg0[1] = 1; next;';
    add(LS_IN.acl, 1, 'ip && !ct.est', nextAction);
    add(LS_OUT.acl, 1, 'ip && !ct.est', nextAction);
    // options:use_ct_inv_match=false leaves ct.inv out (for NICs that cannot offload it).
    const useCtInv = ctx.nbOptions['use_ct_inv_match'] !== 'false';
    const inv = `${useCtInv ? 'ct.inv || ' : ''}(ct.est && ct.rpl && ${b} == 1)`;
    add(LS_IN.acl, 65532, inv, ctx.dropAction);
    add(LS_OUT.acl, 65532, inv, ctx.dropAction);
    const est = `ct.est && !ct.rel && !ct.new${useCtInv ? ' && !ct.inv' : ''} && ct.rpl && ${b} == 0`;
    add(LS_IN.acl, 65532, est, 'reg0[9] = 0; reg0[10] = 0; reg0[17] = 1; next;');
    add(LS_OUT.acl, 65532, est, 'next;');
    const rel = `!ct.est && ct.rel && !ct.new${useCtInv ? ' && !ct.inv' : ''} && ${b} == 0`;
    // Without ct_lb_related on every chassis, related traffic is passed without NAT.
    const relAction = ctx.features.ctLbRelated ? 'ct_commit_nat;' : 'next;';
    add(LS_IN.acl, 65532, rel, `reg0[17] = 1; ${relAction}`);
    add(LS_OUT.acl, 65532, rel, relAction);
    add(LS_IN.acl_after_lb, 65532, 'reg0[17] == 1', 'next;');
  }
  const nd = 'nd || nd_ra || nd_rs || mldv1 || mldv2';
  add(LS_IN.acl, 65532, nd, 'next;');
  add(LS_OUT.acl, 65532, nd, 'next;');
  add(LS_IN.acl_after_lb, 65532, nd, 'next;');

  for (const acl of info.acls) considerAcl(ctx, od, acl, hasStateful);

  // Replies of ovn-controller's DHCP and DNS responders pass the egress ACLs.
  const commit = hasStateful ? 'ct_commit; next;' : 'next;';
  for (const op of od.ports) {
    const lsp = op.nbsp!;
    // External ports get their DHCP replies through the localnet port.
    if (lsp.type === 'external') continue;
    const d4 = dhcpOptionsOf(ctx, lsp.dhcpv4_options);
    if (d4) {
      const sid = d4.options['server_id'];
      const smac = d4.options['server_mac'];
      if (sid !== undefined && smac !== undefined && d4.options['lease_time'] !== undefined) {
        f.add(od.key, LS_OUT.acl, 34000, `outport == "${lsp.name}" && eth.src == ${smac} && ip4.src == ${sid} && udp && udp.src == 67 && udp.dst == 68`, commit, { hint: d4._uuid, ioPort: lsp.name, source: SRC });
      }
    }
    const d6 = dhcpOptionsOf(ctx, lsp.dhcpv6_options);
    if (d6) {
      const smac = d6.options['server_id'];
      const ea = smac === undefined ? undefined : parseMac(smac);
      if (ea !== undefined) {
        const sip = formatIp6(ip6LinkLocal(ea));
        f.add(od.key, LS_OUT.acl, 34000, `outport == "${lsp.name}" && eth.src == ${smac} && ip6.src == ${sip} && udp && udp.src == 547 && udp.dst == 546`, commit, { hint: d6._uuid, ioPort: lsp.name, source: SRC });
      }
    }
  }
  if (lsHasDnsRecords(ctx, od)) add(LS_OUT.acl, 34000, 'udp.src == 53', commit);
  if (info.hasAcls || info.hasLbVip) {
    add(LS_IN.acl, 34000, 'eth.dst == $svc_monitor_mac', 'next;');
    add(LS_OUT.acl, 34000, 'eth.src == $svc_monitor_mac', 'next;');
  }
}
