/**
 * Logical router NAT (northd's build_lrouter_nat_defrag_and_lb without the load-balancer part):
 * lr_in_unsnat, lr_in_dnat, lr_out_undnat, lr_out_post_undnat, lr_out_snat, lr_out_egr_loop and the
 * NAT flows of lr_in_admission, lr_in_ip_input and lr_in_gw_redirect. Gateway routers NAT in
 * their own zones (ct_snat/ct_dnat); distributed routers NAT on the chassis of the distributed
 * gateway port (is_chassis_resident(cr-port)) or, for dnat_and_snat with external_mac and
 * logical_port, on the chassis of that port.
 */
import type { BuildContext } from './context.js';
import type { NatEntry } from './nat.js';
import type { Datapath, Port } from './model.js';
import { LR_IN, LR_OUT } from './stages.js';
import { natCidrBits, natGatewayPort, useCommonZone } from './lr-common.js';
import { extractIpAddresses } from './addresses.js';
import { formatMac, parseMac } from './ip.js';

const SRC = 'lr-nat.ts';

export function hasLbVipRouter(od: Datapath): boolean {
  return od.lbs.some((lb) => !lb.template && lb.vips.length > 0);
}

function extIpMatch(ctx: BuildContext, nat: NatEntry, isSrc: boolean): string {
  // allowed_ext_ips / exempted_ext_ips: an address set the remote end must (not) be in.
  const v = nat.family === 6 ? '6' : '4';
  const dir = isSrc ? 'dst' : 'src';
  if (nat.nb.allowed_ext_ips !== undefined) {
    const as = ctx.model.input.nb.Address_Set.get(nat.nb.allowed_ext_ips);
    if (as) return ` && ip${v}.${dir} == $${as.name}`;
  }
  return '';
}

/** Default flows and per-NAT flows of the NAT stages. */
export function buildNatForRouter(ctx: BuildContext, od: Datapath): void {
  const f = ctx.lflows;
  const add = (stage: typeof LR_IN.defrag, pri: number, m: string, a: string, hint?: string): void =>
    f.add(od.key, stage, pri, m, a, { hint, source: SRC });
  add(LR_IN.defrag, 0, '1', 'next;');
  add(LR_IN.unsnat, 0, '1', 'next;');
  add(LR_OUT.chk_dnat_local, 0, '1', 'reg9[4] = 0; next;');
  add(LR_OUT.snat, 0, '1', 'next;');
  add(LR_IN.dnat, 0, '1', 'next;');
  add(LR_OUT.undnat, 0, '1', 'next;');
  add(LR_OUT.post_undnat, 0, '1', 'next;');
  add(LR_OUT.post_snat, 0, '1', 'next;');
  add(LR_OUT.egr_loop, 0, '1', 'next;');
  add(LR_IN.ecmp_stateful, 0, '1', 'next;');

  const ctFlag = ctx.features.ctNoMaskedLabel ? 'ct_mark' : 'ct_label';
  const hasLbVip = hasLbVipRouter(od);
  if (hasLbVip && ctx.features.ctLbRelated) {
    const m = 'ct.rel && !ct.est && !ct.new';
    add(LR_IN.dnat, 70, `${m} && ct_mark.skip_snat == 1`, 'flags.skip_snat_for_lb = 1; ct_commit_nat;');
    add(LR_IN.dnat, 70, `${m} && ct_mark.force_snat == 1`, 'flags.force_snat_for_lb = 1; ct_commit_nat;');
    add(LR_IN.dnat, 50, m, 'ct_commit_nat;');
  }
  if (hasLbVip) {
    const m = `ct.est && !ct.rel && !ct.new && ${ctFlag}.natted`;
    add(LR_IN.dnat, 70, `${m} && ${ctFlag}.skip_snat == 1`, 'flags.skip_snat_for_lb = 1; next;');
    add(LR_IN.dnat, 70, `${m} && ${ctFlag}.force_snat == 1`, 'flags.force_snat_for_lb = 1; next;');
    add(LR_IN.dnat, 50, m, 'next;');
  }
  const nbNats = od.nbr!.nat.length;
  if (od.isGwRouter && (nbNats || hasLbVip)) {
    add(LR_OUT.post_undnat, 50, 'ip && ct.new', 'ct_commit { } ; next; ');
  }
  add(LR_OUT.snat, 120, 'nd_ns', 'next;');
  if (!od.isGwRouter && !od.l3dgwPorts.length) return;

  const arpResolved = new Set<string>();
  for (const nat of od.nats) {
    const gw = natGatewayPort(ctx, od, nat);
    if (gw === undefined) continue;
    if (!od.isGwRouter && gw === null) continue;
    const dgp = gw ?? undefined;
    const distributed = od.l3dgwPorts.length > 0 && nat.distributed && parseMac(nat.nb.external_mac!) !== undefined;
    buildUnsnat(ctx, od, nat, distributed, dgp);
    buildDnat(ctx, od, nat, distributed, dgp);
    buildUndnat(ctx, od, nat, distributed, dgp);
    buildSnat(ctx, od, nat, distributed, dgp);
    buildNatIngress(ctx, od, nat, distributed, dgp);
    const v = nat.family === 6 ? '6' : '4';
    if (od.l3dgwPorts.length && dgp) {
      const o = { hint: nat.nb._uuid, source: SRC };
      // Whether this NAT's external IP is handled on this chassis (for SNAT in the right zone).
      const res = distributed ? `is_chassis_resident("${nat.nb.logical_port!}")` : `is_chassis_resident(${dgp.crPort!.json})`;
      f.add(od.key, LR_OUT.chk_dnat_local, 50, `ip && ip${v}.dst == ${nat.nb.external_ip} && ${res}`, 'reg9[4] = 1; next;', o);
      if (!arpResolved.has(nat.nb.external_ip)) {
        arpResolved.add(nat.nb.external_ip);
        f.add(od.key, LR_IN.arp_resolve, 150, `inport == ${dgp.json} && outport == ${dgp.json} && ip${v}.dst == ${nat.nb.external_ip}`, ctx.dropAction, o);
        f.add(od.key, LR_IN.arp_resolve, 100, `outport == ${dgp.json} && ${nat.family === 6 ? 'xxreg0' : 'reg0'} == ${nat.nb.external_ip}`,
          `eth.dst = ${distributed ? nat.nb.external_mac! : dgp.lrpNetworks!.eaS}; next;`, o);
      }
    }
    if (distributed && dgp) {
      const m = `ip${v}.src == ${nat.logicalIp} && outport == ${dgp.json}`;
      const lp = ctx.model.ports.get(nat.nb.logical_port!);
      if (lp?.nbsp?.type === 'virtual') f.add(od.key, LR_IN.gw_redirect, 80, m, ctx.dropAction, { hint: nat.nb._uuid, source: SRC });
      f.add(od.key, LR_IN.gw_redirect, 100, `${m} && is_chassis_resident("${nat.nb.logical_port!}")`,
        `eth.src = ${nat.nb.external_mac!}; ${nat.family === 6 ? 'xxreg1' : 'reg1'} = ${nat.nb.external_ip}; next;`, { hint: nat.nb._uuid, source: SRC });
    }
    if (od.l3dgwPorts.length && dgp) {
      let m = `ip${v}.dst == ${nat.nb.external_ip} && outport == ${dgp.json}`;
      m += distributed ? ` && is_chassis_resident("${nat.nb.logical_port!}")` : ` && is_chassis_resident(${dgp.crPort!.json})`;
      let regs = '';
      for (let j = 0; j < 10; j++) regs += `reg${j} = 0; `;
      const a =
        'clone { ct_clear; inport = outport; outport = ""; eth.dst <-> eth.src; flags = 0; flags.loopback = 1; flags.use_snat_zone = reg9[4]; ' +
        `${regs}reg9[0] = 1; next(pipeline=ingress, table=${LR_IN.admission.table}); };`;
      f.add(od.key, LR_OUT.egr_loop, 100, m, a, { hint: nat.nb._uuid, source: SRC });
    }
  }
  if (od.isGwRouter) {
    const dnatForce = forceSnatAddrs(od, 'dnat');
    if (dnatForce) buildForceSnatFlows(ctx, od, dnatForce, 'dnat');
    const lbForce = forceSnatAddrs(od, 'lb');
    if (lbForce) buildForceSnatFlows(ctx, od, lbForce, 'lb');
  }
  if (nbNats) {
    f.add(od.key, LR_OUT.chk_dnat_local, 50, `ip && ${ctFlag}.natted == 1`, 'reg9[4] = 1; next;', { hint: od.key, source: SRC });
  }
  if (od.isGwRouter && (nbNats || hasLbVip)) {
    add(LR_OUT.undnat, 100, 'nd || nd_rs || nd_ra', 'next;');
    add(LR_OUT.undnat, 50, 'ip', 'flags.loopback = 1; ct_dnat;');
  }
}

/** SNAT to the configured address after DNAT or load balancing (build_lrouter_force_snat_flows). */
function buildForceSnatFlows(ctx: BuildContext, od: Datapath, addrs: string, kind: 'dnat' | 'lb'): void {
  const a = extractIpAddresses(addrs);
  if (!a) return;
  const one = (v: '4' | '6', ip: string): void => {
    ctx.lflows.add(od.key, LR_IN.unsnat, 110, `ip${v} && ip${v}.dst == ${ip}`, 'ct_snat;', { source: SRC });
    ctx.lflows.add(od.key, LR_OUT.snat, 100, `flags.force_snat_for_${kind} == 1 && ip${v}`, `ct_snat(${ip});`, { source: SRC });
  };
  if (a.ipv4.length) one('4', a.ipv4[0]!.addrS);
  if (a.ipv6.length) one('6', a.ipv6[0]!.addrS);
}

function buildUnsnat(ctx: BuildContext, od: Datapath, nat: NatEntry, distributed: boolean, dgp: Port | undefined): void {
  if (nat.type !== 'snat' && nat.type !== 'dnat_and_snat') return;
  const v = nat.family === 6 ? '6' : '4';
  const o = { hint: nat.nb._uuid, source: SRC };
  const statelessAction = `ip${v}.dst=${nat.logicalIp}; next;`;
  if (od.isGwRouter) {
    ctx.lflows.add(od.key, LR_IN.unsnat, 90, `ip && ip${v}.dst == ${nat.nb.external_ip}`, nat.stateless ? statelessAction : 'ct_snat;', o);
    return;
  }
  if (!dgp) return;
  const resident = distributed ? '' : ` && is_chassis_resident(${dgp.crPort!.json})`;
  ctx.lflows.add(od.key, LR_IN.unsnat, 100, `ip && ip${v}.dst == ${nat.nb.external_ip} && inport == ${dgp.json} && flags.loopback == 0${resident}`,
    nat.stateless ? 'next;' : 'ct_snat_in_czone;', o);
  if (!nat.stateless) {
    ctx.lflows.add(od.key, LR_IN.unsnat, 100, `ip && ip${v}.dst == ${nat.nb.external_ip} && inport == ${dgp.json} && flags.loopback == 1 && flags.use_snat_zone == 1${resident}`, 'ct_snat;', o);
  }
}

function buildDnat(ctx: BuildContext, od: Datapath, nat: NatEntry, distributed: boolean, dgp: Port | undefined): void {
  if (nat.type !== 'dnat' && nat.type !== 'dnat_and_snat') return;
  const v = nat.family === 6 ? '6' : '4';
  const natAction = useCommonZone(od) ? 'ct_dnat_in_czone' : 'ct_dnat';
  const range = nat.nb.external_port_range ? `,${nat.nb.external_port_range}` : '';
  const o = { hint: nat.nb._uuid, source: SRC };
  if (od.isGwRouter) {
    const m = `ip && ip${v}.dst == ${nat.nb.external_ip}${extIpMatch(ctx, nat, false)}`;
    let a = forceSnatAddrs(od, 'dnat') ? 'flags.force_snat_for_dnat = 1; ' : '';
    a += nat.stateless ? `flags.loopback = 1; ip${v}.dst=${nat.logicalIp}; next;` : `flags.loopback = 1; ${natAction}(${nat.logicalIp}${range});`;
    ctx.lflows.add(od.key, LR_IN.dnat, 100, m, a, o);
    return;
  }
  if (!dgp) return;
  let m = `ip && ip${v}.dst == ${nat.nb.external_ip} && inport == ${dgp.json}`;
  if (!distributed) m += ` && is_chassis_resident(${dgp.crPort!.json})`;
  m += extIpMatch(ctx, nat, false);
  const a = nat.stateless ? `ip${v}.dst=${nat.logicalIp}; next;` : `${natAction}(${nat.logicalIp}${range});`;
  ctx.lflows.add(od.key, LR_IN.dnat, 100, m, a, o);
}

function buildUndnat(ctx: BuildContext, od: Datapath, nat: NatEntry, distributed: boolean, dgp: Port | undefined): void {
  if (!od.l3dgwPorts.length || !dgp || (nat.type !== 'dnat' && nat.type !== 'dnat_and_snat')) return;
  const v = nat.family === 6 ? '6' : '4';
  let m = `ip && ip${v}.src == ${nat.logicalIp} && outport == ${dgp.json}`;
  if (!distributed) m += ` && is_chassis_resident(${dgp.crPort!.json})`;
  let a = distributed ? `eth.src = ${formatMac(parseMac(nat.nb.external_mac!)!)}; ` : '';
  a += nat.stateless ? 'next;' : useCommonZone(od) ? 'ct_dnat_in_czone;' : 'ct_dnat;';
  ctx.lflows.add(od.key, LR_OUT.undnat, 100, m, a, { hint: nat.nb._uuid, source: SRC });
}

function buildSnat(ctx: BuildContext, od: Datapath, nat: NatEntry, distributed: boolean, dgp: Port | undefined): void {
  if (nat.type !== 'snat' && nat.type !== 'dnat_and_snat') return;
  const v = nat.family === 6 ? '6' : '4';
  const cidrBits = natCidrBits(nat);
  const range = nat.nb.external_port_range ? `,${nat.nb.external_port_range}` : '';
  const o = { hint: nat.nb._uuid, source: SRC };
  if (od.isGwRouter) {
    let m = `ip && ip${v}.src == ${nat.logicalIp}${extIpMatch(ctx, nat, true)}`;
    let a: string;
    if (nat.stateless) a = `ip${v}.src=${nat.nb.external_ip}; next;`;
    else {
      m += ' && (!ct.trk || !ct.rpl)';
      a = `ct_snat(${nat.nb.external_ip}${range});`;
    }
    ctx.lflows.add(od.key, LR_OUT.snat, cidrBits + 1, m, a, o);
    return;
  }
  if (!dgp) return;
  let pri = cidrBits + 1;
  let m = `ip && ip${v}.src == ${nat.logicalIp} && outport == ${dgp.json}`;
  if (od.l3dgwPorts.length) pri += 128;
  m += distributed ? ` && is_chassis_resident("${nat.nb.logical_port!}")` : ` && is_chassis_resident(${dgp.crPort!.json})`;
  m += extIpMatch(ctx, nat, true);
  const mac = distributed ? `eth.src = ${formatMac(parseMac(nat.nb.external_mac!)!)}; ` : '';
  const a = mac + (nat.stateless ? `ip${v}.src=${nat.nb.external_ip}; next;` : `ct_snat_in_czone(${nat.nb.external_ip}${range});`);
  ctx.lflows.add(od.key, LR_OUT.snat, pri, m, a, o);
  if (!nat.stateless) {
    ctx.lflows.add(od.key, LR_OUT.snat, pri + 1, `${m} && reg9[4] == 1`, `${mac}reg9[4] = 0; ct_snat(${nat.nb.external_ip}${range});`, o);
  }
}

function buildNatIngress(ctx: BuildContext, od: Datapath, nat: NatEntry, distributed: boolean, dgp: Port | undefined): void {
  if (!dgp) return;
  const o = { hint: nat.nb._uuid, source: SRC };
  if (od.l3dgwPorts.length && nat.type === 'snat') {
    ctx.lflows.add(od.key, LR_IN.ip_input, 120, `inport == ${dgp.json} && ${nat.family === 6 ? 'ip6.src' : 'ip4.src'} == ${nat.nb.external_ip}`, 'next;', o);
  }
  if (distributed) {
    ctx.lflows.add(od.key, LR_IN.admission, 50,
      `eth.dst == ${formatMac(parseMac(nat.nb.external_mac!)!)} && inport == ${dgp.json} && is_chassis_resident("${nat.nb.logical_port!}")`,
      `xreg0[0..47] = ${dgp.lrpNetworks!.eaS}; next;`, o);
  }
}

/** options:dnat_force_snat_ip / lb_force_snat_ip of a gateway router (addresses, or "router"). */
export function forceSnatAddrs(od: Datapath, kind: 'dnat' | 'lb'): string | undefined {
  if (!od.isGwRouter) return undefined;
  const v = od.nbr!.options[`${kind}_force_snat_ip`];
  if (v === undefined || v === '' || (kind === 'lb' && v === 'router')) return undefined;
  return v;
}
