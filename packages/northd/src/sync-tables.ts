/**
 * Southbound tables northd syncs from the Northbound one with little computation: Address_Set
 * (user sets, port-group IPs "<pg>_ip4"/"<pg>_ip6", router LB VIPs, svc_monitor_mac), Port_Group
 * (one per switch, "<datapath key>_<name>"), Load_Balancer (those on switches), IP_Multicast,
 * Static_MAC_Binding, Meter, Mirror, Chassis_Template_Var, and the stale MAC_Binding/FDB rows to remove.
 */
import type { DesiredDns, DesiredIpMulticast, DesiredLoadBalancer, DesiredMeter, DesiredMirror, DesiredStaticMacBinding } from './desired.js';
import type { NbTables } from './input.js';
import type { Model } from './model.js';
import { extractLspAddresses, isDynamicLspAddress } from './addresses.js';
import { routerLbIps } from './lr-common.js';
import { lbAddressSetName } from './lr-ip-input.js';
import { portsByUuid } from './incremental.js';

export function syncAddressSets(model: Model, svcMonitorMac: string): Map<string, readonly string[]> {
  const nb = model.input.nb;
  const out = new Map<string, readonly string[]>();
  out.set('svc_monitor_mac', [svcMonitorMac]);
  const portOf = portsByUuid(model);
  for (const pg of nb.Port_Group.values()) {
    const v4: string[] = [];
    const v6: string[] = [];
    for (const u of pg.ports) {
      const lsp = nb.Logical_Switch_Port.get(u);
      if (!lsp) continue;
      const texts = lsp.addresses.filter((a) => !isDynamicLspAddress(a));
      const op = portOf.get(u);
      const dyn = op?.kind === 'lsp' ? op.dynamicAddresses : lsp.dynamic_addresses;
      if (dyn) texts.push(dyn);
      for (const t of texts) {
        const a = extractLspAddresses(t);
        if (!a) continue;
        v4.push(...a.ipv4.map((n) => n.addrS));
        v6.push(...a.ipv6.map((n) => n.addrS));
      }
    }
    out.set(`${pg.name}_ip4`, v4);
    out.set(`${pg.name}_ip6`, v6);
  }
  for (const od of model.dpList) {
    if (od.kind !== 'lr') continue;
    const ips = routerLbIps(od);
    if (ips.v4Reachable.size) out.set(lbAddressSetName(od, 4), [...ips.v4Reachable]);
    if (ips.v6Reachable.size) out.set(lbAddressSetName(od, 6), [...ips.v6Reachable]);
  }
  for (const as of nb.Address_Set.values()) out.set(as.name, as.addresses);
  return out;
}

export function syncPortGroups(model: Model): Map<string, readonly string[]> {
  const nb = model.input.nb;
  const out = new Map<string, readonly string[]>();
  const portByUuid = portsByUuid(model);
  for (const pg of nb.Port_Group.values()) {
    const perDp = new Map<number, string[]>();
    for (const u of pg.ports) {
      const p = portByUuid.get(u);
      if (!p || p.kind !== 'lsp') continue;
      const l = perDp.get(p.od.tunnelKey);
      if (l) l.push(p.name);
      else perDp.set(p.od.tunnelKey, [p.name]);
    }
    for (const [k, ports] of perDp) out.set(`${k}_${pg.name}`, ports);
  }
  return out;
}

export function syncLoadBalancers(model: Model): Map<string, DesiredLoadBalancer> {
  const out = new Map<string, DesiredLoadBalancer>();
  const dps = new Map<string, string[]>();
  for (const od of model.dpList) {
    if (od.kind !== 'ls') continue;
    for (const lb of od.lbs) {
      const l = dps.get(lb.uuid);
      if (l) l.push(od.key);
      else dps.set(lb.uuid, [od.key]);
    }
  }
  for (const [u, keys] of dps) {
    const lb = model.lbs.get(u)!;
    const nb = lb.nb;
    out.set(u, {
      key: u,
      name: nb.name,
      vips: nb.vips,
      protocol: nb.protocol,
      options: { ...nb.options, hairpin_orig_tuple: 'true' },
      external_ids: { ...nb.external_ids, lb_id: u },
      datapaths: [...keys].sort(),
    });
  }
  return out;
}

export function syncIpMulticast(model: Model): Map<string, DesiredIpMulticast> {
  const out = new Map<string, DesiredIpMulticast>();
  for (const od of model.dpList) {
    if (od.kind !== 'ls') continue;
    const oc = od.nbs!.other_config;
    const int = (k: string, d: number): number => {
      const n = Number(oc[k]);
      return oc[k] !== undefined && Number.isInteger(n) ? n : d;
    };
    const idle = int('mcast_idle_timeout', 300);
    out.set(od.key, {
      datapath: od.key,
      enabled: oc['mcast_snoop'] === 'true',
      querier: oc['mcast_querier'] !== 'false',
      eth_src: oc['mcast_eth_src'] ?? '',
      ip4_src: oc['mcast_ip4_src'] ?? '',
      ip6_src: oc['mcast_ip6_src'] ?? '',
      table_size: int('mcast_table_size', 2048),
      idle_timeout: idle,
      query_interval: int('mcast_query_interval', Math.floor(idle / 2)),
      query_max_resp: int('mcast_query_max_response', 1),
    });
  }
  return out;
}

export function syncStaticMacBindings(model: Model): Map<string, DesiredStaticMacBinding> {
  const out = new Map<string, DesiredStaticMacBinding>();
  for (const smb of model.input.nb.Static_MAC_Binding.values()) {
    const op = model.ports.get(smb.logical_port);
    if (!op || op.kind !== 'lrp') continue;
    out.set(`${smb.logical_port}\u0000${smb.ip}`, {
      logical_port: smb.logical_port,
      ip: smb.ip,
      mac: smb.mac,
      override_dynamic_mac: smb.override_dynamic_mac,
      datapath: op.od.key,
    });
  }
  return out;
}

/** SB DNS: each NB DNS row with records, on the switches that use it (external_ids:dns_id). */
export function syncDns(model: Model): Map<string, DesiredDns> {
  const out = new Map<string, DesiredDns>();
  const dps = new Map<string, string[]>();
  for (const od of model.dpList) {
    for (const u of od.nbs?.dns_records ?? []) {
      const l = dps.get(u);
      if (l) l.push(od.key);
      else dps.set(u, [od.key]);
    }
  }
  for (const [u, keys] of dps) {
    const d = model.input.nb.DNS.get(u);
    if (!d) continue;
    out.set(u, { key: u, records: d.records, datapaths: [...new Set(keys)].sort(), external_ids: { ...d.external_ids, dns_id: u } });
  }
  return out;
}

export function syncMeters(model: Model): Map<string, DesiredMeter> {
  const nb = model.input.nb;
  const out = new Map<string, DesiredMeter>();
  const bandsOf = (uuids: readonly string[]): DesiredMeter['bands'] =>
    uuids.map((u) => nb.Meter_Band.get(u)).filter((b) => b !== undefined).map((b) => ({ action: b!.action, rate: b!.rate, burst_size: b!.burst_size }));
  for (const m of nb.Meter.values()) out.set(m.name, { name: m.name, unit: m.unit, bands: bandsOf(m.bands) });
  // Fair meters get one SB meter per ACL that logs through them.
  for (const acl of nb.ACL.values()) {
    if (!acl.log || acl.meter === undefined) continue;
    const m = [...nb.Meter.values()].find((x) => x.name === acl.meter);
    if (!m || m.fair !== true) continue;
    const name = `${m.name}__${acl._uuid}`;
    out.set(name, { name, unit: m.unit, bands: bandsOf(m.bands) });
  }
  return out;
}

/** MAC_Binding rows on ports that are not router ports any more; FDB rows of gone datapaths/ports. */
export function staleBindings(model: Model): { macBindings: string[]; fdbs: string[] } {
  const sb = model.input.sb;
  const macBindings: string[] = [];
  for (const mb of sb.MAC_Binding.values()) {
    const op = model.ports.get(mb.logical_port);
    if (!op || op.kind !== 'lrp') macBindings.push(mb._uuid);
  }
  const fdbs: string[] = [];
  if (!sb.FDB.size) return { macBindings, fdbs };
  const dpKeys = new Map<number, Set<number>>();
  for (const od of model.dpList) dpKeys.set(od.tunnelKey, new Set());
  for (const op of model.ports.values()) dpKeys.get(op.od.tunnelKey)?.add(op.tunnelKey);
  for (const f of sb.FDB.values()) {
    const ports = dpKeys.get(f.dp_key);
    if (!ports || !ports.has(f.port_key)) fdbs.push(f._uuid);
  }
  return { macBindings, fdbs };
}

/** SB Mirror: a copy of every NB Mirror, by name (ports refer to them from Port_Binding.mirror_rules). */
export function syncMirrors(nb: NbTables): Map<string, DesiredMirror> {
  const out = new Map<string, DesiredMirror>();
  for (const m of nb.Mirror.values()) {
    out.set(m.name, { name: m.name, type: m.type, filter: m.filter, sink: m.sink, index: m.index, external_ids: m.external_ids });
  }
  return out;
}

/** SB Chassis_Template_Var: the NB rows' variables, by chassis. */
export function syncTemplateVars(nb: NbTables): Map<string, Readonly<Record<string, string>>> {
  const out = new Map<string, Readonly<Record<string, string>>>();
  for (const v of nb.Chassis_Template_Var.values()) out.set(v.chassis, v.variables);
  return out;
}
