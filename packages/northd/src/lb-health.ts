/**
 * Load-balancer health checks (Load_Balancer_Health_Check + ip_port_mappings): a
 * Service_Monitor row per monitored backend, ovn-controller probing it from the mapped source
 * IP with the svc_monitor_mac (so the switch answers ARP for that IP), and only backends not
 * reported offline by ovn-controller in the VIP's ct_lb_mark backends.
 */
import type { Sb } from '@ovnts/ovsdb';
import type { BuildContext } from './context.js';
import type { DesiredServiceMonitor } from './desired.js';
import type { Lb, LbBackend, LbVip } from './lb.js';
import { parseIpPort } from './lb.js';
import type { Datapath, Model } from './model.js';
import { LS_IN } from './stages.js';

export interface BackendHealth {
  /** The backend has an ip_port_mappings entry: it is monitored. */
  readonly monitored: boolean;
  readonly logicalPort: string | undefined;
  readonly srcIp: string | undefined;
}

/** The health check that applies to a VIP (its `vip` column names the VIP), if any. */
export function vipHealthCheck(model: Model, lb: Lb, vip: LbVip): { options: Readonly<Record<string, string>> } | undefined {
  for (const u of lb.nb.health_check) {
    const hc = model.input.nb.Load_Balancer_Health_Check.get(u);
    if (!hc) continue;
    const p = parseIpPort(hc.vip);
    if (p && p.ip === vip.vip && p.port === vip.port) return { options: hc.options };
  }
  return undefined;
}

/** ip_port_mappings: "BACKEND_IP" -> "LPORT:SRC_IP" (IPv6 source in brackets). */
export function backendHealth(lb: Lb, b: LbBackend): BackendHealth {
  const key = Object.keys(lb.nb.ip_port_mappings).find((k) => (parseIpPort(k)?.ip ?? k) === b.ip);
  const m = key === undefined ? undefined : lb.nb.ip_port_mappings[key];
  if (m === undefined) return { monitored: false, logicalPort: undefined, srcIp: undefined };
  const i = m.indexOf(':');
  if (i < 0) return { monitored: false, logicalPort: undefined, srcIp: undefined };
  let src = m.slice(i + 1);
  if (src.startsWith('[') && src.endsWith(']')) src = src.slice(1, -1);
  return { monitored: true, logicalPort: m.slice(0, i), srcIp: src };
}

export function svcMonitorKey(ip: string, port: number, protocol: string, lport: string): string {
  return `${ip}\u0000${port}\u0000${protocol}\u0000${lport}`;
}

/** The Service_Monitor rows the load balancers want. */
export function syncServiceMonitors(model: Model, svcMonitorMac: string): Map<string, DesiredServiceMonitor> {
  const out = new Map<string, DesiredServiceMonitor>();
  for (const lb of model.lbs.values()) {
    if (!lb.nb.health_check.length) continue;
    for (const vip of lb.vips) {
      const hc = vipHealthCheck(model, lb, vip);
      if (!hc) continue;
      for (const b of vip.backends) {
        const h = backendHealth(lb, b);
        if (!h.monitored || h.logicalPort === undefined || h.srcIp === undefined) continue;
        const op = model.ports.get(h.logicalPort);
        if (!op || op.kind !== 'lsp') continue;
        const k = svcMonitorKey(b.ip, b.port, lb.protocol, h.logicalPort);
        out.set(k, { ip: b.ip, port: b.port, protocol: lb.protocol, logical_port: h.logicalPort, src_ip: h.srcIp, src_mac: svcMonitorMac, options: hc.options, external_ids: {} });
      }
    }
  }
  return out;
}

/** Backends ct_lb_mark may use for a VIP with a health check (online or not yet probed). */
export function activeBackends(model: Model, lb: Lb, vip: LbVip): LbBackend[] {
  const status = new Map<string, Sb.ServiceMonitor['status']>();
  for (const m of model.input.sb.Service_Monitor.values()) status.set(svcMonitorKey(m.ip, m.port, m.protocol ?? 'tcp', m.logical_port), m.status);
  return vip.backends.filter((b) => {
    const h = backendHealth(lb, b);
    if (!h.monitored || h.logicalPort === undefined) return false;
    const s = status.get(svcMonitorKey(b.ip, b.port, lb.protocol, h.logicalPort));
    return s === undefined || s === 'online';
  });
}

/** ARP replies for the health checks' source IPs, on the switches of the monitored ports. */
export function buildSvcMonitorArp(ctx: BuildContext, svcMonitorMac: string, od: Datapath): void {
  const model = ctx.model;
  for (const lb of model.lbs.values()) {
    if (!lb.nb.health_check.length) continue;
    for (const vip of lb.vips) {
      if (!vipHealthCheck(model, lb, vip)) continue;
      for (const b of vip.backends) {
        const h = backendHealth(lb, b);
        if (!h.monitored || h.logicalPort === undefined || h.srcIp === undefined) continue;
        const op = model.ports.get(h.logicalPort);
        if (!op || op.kind !== 'lsp' || op.od !== od) continue;
        const v6 = h.srcIp.includes(':');
        const match = v6 ? `nd_ns && nd.target == ${h.srcIp}` : `arp.tpa == ${h.srcIp} && arp.op == 1`;
        const actions = v6
          ? `nd_na { eth.dst = eth.src; eth.src = ${svcMonitorMac}; nd.target = ${h.srcIp}; nd.tll = ${svcMonitorMac}; outport = inport; flags.loopback = 1; output; };`
          : `eth.dst = eth.src; eth.src = ${svcMonitorMac}; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = ${svcMonitorMac}; arp.tpa = arp.spa; arp.spa = ${h.srcIp}; outport = inport; flags.loopback = 1; output;`;
        ctx.lflows.add(op.od.key, LS_IN.arp_rsp, 110, match, actions, { hint: lb.uuid, source: 'lb-health.ts' });
      }
    }
  }
}
