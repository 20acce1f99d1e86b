/**
 * Load-balancer session affinity (options:affinity_timeout): a connection from a client that
 * recently used a backend goes to the same backend. *_lb_aff_check looks the client up
 * (chk_lb_aff), the LB stage has one flow per backend for hits, *_lb_aff_learn records new
 * choices (commit_lb_aff). Switch and router variants differ in the registers they use.
 */
import type { BuildContext } from './context.js';
import type { Lb, LbVip } from './lb.js';
import type { Datapath } from './model.js';
import { LR_IN, LS_IN } from './stages.js';

const SRC = 'lb-affinity.ts';

function affinityTimeout(lb: Lb): number {
  const v = Number.parseInt(lb.options['affinity_timeout'] ?? '', 10);
  return Number.isFinite(v) && v > 0 ? v : 0;
}

function vipText(vip: LbVip): string {
  const ip = vip.family === 6 ? `[${vip.vip}]` : vip.vip;
  return vip.port ? `${ip}:${vip.port}` : vip.vip;
}

function commit(lb: Lb, vip: LbVip, b: LbVip['backends'][number], timeout: number): string {
  const backend = b.port ? (b.family === 6 ? `[${b.ip}]:${b.port}` : `${b.ip}:${b.port}`) : b.ip;
  const proto = vip.port ? `, proto = ${lb.protocol}` : '';
  return `commit_lb_aff(vip = "${vipText(vip)}", backend = "${backend}"${proto}, timeout = ${timeout}); /* drop */`;
}

export function buildLsLbAffinity(ctx: BuildContext, lb: Lb, switches: readonly Datapath[]): void {
  const timeout = affinityTimeout(lb);
  if (!timeout) return;
  // northd 23.03 writes ct_lb_mark here whatever the chassis support.
  const ctLb = 'ct_lb_mark';
  for (const vip of lb.vips) {
    if (!vip.backends.length) continue;
    const v6 = vip.family === 6;
    const ipm = v6 ? 'ip6' : 'ip4';
    const regVip = v6 ? 'xxreg1' : 'reg1';
    const regBackend = v6 ? 'xxreg1' : 'reg4';
    const port = vip.port ? ` && reg2[0..15] == ${vip.port}` : '';
    const o = { hint: lb.uuid, source: SRC };
    for (const od of switches) ctx.lflows.add(od.key, LS_IN.lb_aff_check, 100, `ct.new && ${ipm} && ${regVip} == ${vip.vip}${port}`, 'reg9[6] = chk_lb_aff(); next;', o);
    for (const b of vip.backends) {
      const bport = b.port ? ` && reg8[0..15] == ${b.port}` : '';
      const btext = b.port ? (v6 ? `[${b.ip}]:${b.port}` : `${b.ip}:${b.port}`) : b.ip;
      const act = `reg0[1] = 0; ${regVip} = ${vip.vip}; ${vip.port ? `reg2[0..15] = ${vip.port}; ` : ''}${ctLb}(backends=${btext});`;
      const learnMatch = `reg9[6] == 0 && ct.new && ${ipm} && ${regVip} == ${vip.vip}${port} && ${ipm}.dst == ${b.ip}${b.port ? ` && ${lb.protocol}.dst == ${b.port}` : ''}`;
      for (const od of switches) {
        ctx.lflows.add(od.key, LS_IN.lb, 150, `reg9[6] == 1 && ct.new && ${ipm} && ${regBackend} == ${b.ip}${bport}`, act, o);
        ctx.lflows.add(od.key, LS_IN.lb_aff_learn, 100, learnMatch, commit(lb, vip, b, timeout), o);
      }
    }
  }
}

/** Router variant; `newMatch` is the VIP's lr_in_dnat match (with the chassis check on a DGP). */
export function buildLrLbAffinity(ctx: BuildContext, od: Datapath, lb: Lb, vip: LbVip, newMatch: string, resident: string): void {
  const timeout = affinityTimeout(lb);
  if (!timeout || !vip.backends.length) return;
  // northd 23.03 writes ct_lb_mark here whatever the chassis support.
  const ctLb = 'ct_lb_mark';
  const v6 = vip.family === 6;
  const ipm = v6 ? 'ip6' : 'ip4';
  const regVip = v6 ? 'xxreg0' : 'reg0';
  const regBackend = v6 ? 'xxreg1' : 'reg4';
  const o = { hint: lb.uuid, source: SRC };
  const save = `${regVip} = ${ipm}.dst; ${vip.port ? `reg9[16..31] = ${lb.protocol}.dst; ` : ''}reg9[6] = chk_lb_aff(); next;`;
  ctx.lflows.add(od.key, LR_IN.lb_aff_check, 100, newMatch, save, o);
  for (const b of vip.backends) {
    const bport = b.port ? ` && reg8[0..15] == ${b.port}` : '';
    const btext = b.port ? (v6 ? `[${b.ip}]:${b.port}` : `${b.ip}:${b.port}`) : b.ip;
    ctx.lflows.add(od.key, LR_IN.dnat, 150, `reg9[6] == 1 && ct.new && ${ipm} && ${regBackend} == ${b.ip}${bport}${resident}`, `${regVip} = ${vip.vip}; ${ctLb}(backends=${btext});`, o);
    const learn = `reg9[6] == 0 && ct.new && ${ipm} && ${regVip} == ${vip.vip}${vip.port ? ` && reg9[16..31] == ${vip.port}` : ''} && ${ipm}.dst == ${b.ip}${b.port ? ` && ${lb.protocol}.dst == ${b.port}` : ''}${resident}`;
    ctx.lflows.add(od.key, LR_IN.lb_aff_learn, 100, learn, commit(lb, vip, b, timeout), o);
  }
}
