/**
 * The pure compute core: Northbound rows plus the Southbound state northd must respect in,
 * desired Southbound rows (and Northbound write-backs) out. No I/O; deterministic for a given
 * input except for the random MAC prefix chosen when NB_Global has none.
 */
import type { BuildContext } from './context.js';
import type { DesiredSb, NbWrites } from './desired.js';
import { computeGlobalConfig, type GlobalConfig } from './global-config.js';
import type { NorthdInput } from './input.js';
import { assignDatapathKeys, assignPortKeys } from './keys.js';
import { LflowTable } from './lflow-table.js';
import { buildUnit, computeAclInfo } from './lflows.js';
import { FlowSet } from './flow-set.js';
import { buildModel, type Datapath, type Model } from './model.js';
import { runIpam } from './ipam.js';
import { syncServiceMonitors } from './lb-health.js';
import { DHCP_OPTIONS, DHCPV6_OPTIONS } from './sb-static.js';
import { buildMulticastGroups, syncPorts } from './sync-ports.js';
import {
  staleBindings,
  syncAddressSets,
  syncIpMulticast,
  syncLoadBalancers,
  syncMeters,
  syncDns, syncMirrors, syncTemplateVars,
  syncPortGroups,
  syncStaticMacBindings,
} from './sync-tables.js';
import type { DesiredDatapath } from './desired.js';

export interface ComputeOptions {
  /** Random source for mac_prefix / svc_monitor_mac when NB_Global lacks them. */
  readonly random?: () => number;
}

export interface ComputeResult {
  readonly sb: DesiredSb;
  readonly nb: NbWrites;
  readonly model: Model;
  readonly config: GlobalConfig;
}

export function datapathBindings(model: Model): Map<string, DesiredDatapath> {
  const out = new Map<string, DesiredDatapath>();
  for (const od of model.dpList) {
    const ids: Record<string, string> = {};
    if (od.nbs) {
      ids['logical-switch'] = od.key;
      const ts = od.nbs.other_config['interconn-ts'];
      if (ts !== undefined) ids['interconn-ts'] = ts;
      const n2 = od.nbs.external_ids['neutron:network_name'];
      if (n2) ids['name2'] = n2;
    } else {
      ids['logical-router'] = od.key;
      const zone = Number(od.nbr!.options['snat-ct-zone']);
      if (od.nbr!.options['snat-ct-zone'] !== undefined && Number.isInteger(zone) && zone >= 0) ids['snat-ct-zone'] = String(zone);
      if (od.nbr!.options['always_learn_from_arp_request'] === 'false') ids['always_learn_from_arp_request'] = 'false';
      const n2 = od.nbr!.external_ids['neutron:router_name'];
      if (n2) ids['name2'] = n2;
    }
    ids['name'] = od.name;
    out.set(od.key, { key: od.key, tunnel_key: od.tunnelKey, external_ids: ids });
  }
  return out;
}

/** Builds every datapath's flows into a FlowSet (flows keyed for the SB diff). */
export function buildFlowSet(ctx: BuildContext): FlowSet {
  const set = new FlowSet();
  for (const od of ctx.model.dpList) set.setUnit(od.key, buildUnitTable(ctx, od));
  return set;
}

/** One datapath's flows, in a table of their own. */
export function buildUnitTable(ctx: BuildContext, od: Datapath): LflowTable {
  const table = new LflowTable();
  buildUnit({ ...ctx, lflows: table }, od);
  return table;
}

export function buildFlowContext(model: Model, config: GlobalConfig, lflows: LflowTable = new LflowTable()): BuildContext {
  const meters = new Map([...model.input.nb.Meter.values()].map((m) => [m.name, m]));
  return {
    model,
    lflows,
    features: config.features,
    nbOptions: config.nbOptions,
    checkLspIsUp: config.nbOptions['ignore_lsp_down'] === 'false',
    meters,
    aclInfo: computeAclInfo(model),
    dropAction: 'drop;',
  };
}

export function computeNorthd(input: NorthdInput, opts: ComputeOptions = {}): ComputeResult {
  const config = computeGlobalConfig(input.nb, input.sb, opts.random);
  const model = buildModel(input);
  assignDatapathKeys(model, input.sb, config.vxlanMode);
  assignPortKeys(model, input.sb, config.vxlanMode);
  runIpam(model, config.nbOptions['mac_prefix']!);
  const flows = buildFlowSet(buildFlowContext(model, config));
  const ports = syncPorts(model);
  const stale = staleBindings(model);
  const hv = hvCfgOf(input, config.nbCfg);
  const sb: DesiredSb = {
    sbGlobal: { options: config.sbOptions, nb_cfg: config.nbCfg, ipsec: config.ipsec },
    datapaths: datapathBindings(model),
    portBindings: ports.portBindings,
    multicastGroups: buildMulticastGroups(model),
    lflows: flows.desired,
    addressSets: syncAddressSets(model, config.nbOptions['svc_monitor_mac']!),
    portGroups: syncPortGroups(model),
    loadBalancers: syncLoadBalancers(model),
    dhcpOptions: new Map(DHCP_OPTIONS.map(([n, code, type]) => [n, { code, type }])),
    dhcpv6Options: new Map(DHCPV6_OPTIONS.map(([n, code, type]) => [n, { code, type }])),
    ipMulticast: syncIpMulticast(model),
    haChassisGroups: ports.haChassisGroups,
    staticMacBindings: syncStaticMacBindings(model),
    meters: syncMeters(model),
    dns: syncDns(model),
    mirrors: syncMirrors(input.nb),
    templateVars: syncTemplateVars(input.nb),
    serviceMonitors: syncServiceMonitors(model, config.nbOptions['svc_monitor_mac']!),
    staleMacBindings: stale.macBindings,
    staleFdbs: stale.fdbs,
  };
  const nb: NbWrites = {
    nbGlobalOptions: config.nbOptions,
    lspTag: ports.lspTag,
    lspDynamicAddresses: model.dynamicAddressWrites,
    lspUp: ports.lspUp,
    hvCfg: hv,
  };
  return { sb, nb, model, config };
}

/** hv_cfg: the lowest nb_cfg any (local) chassis has reached, with its timestamp. */
export function hvCfgOf(input: NorthdInput, nbCfg: number): { hv_cfg: number; hv_cfg_timestamp: number } {
  let hv = nbCfg;
  let ts = 0;
  for (const cp of input.sb.Chassis_Private.values()) {
    if (cp.chassis === undefined) continue;
    const ch = input.sb.Chassis.get(cp.chassis);
    if (!ch || ch.other_config['is-remote'] === 'true') continue;
    if (cp.nb_cfg < hv) {
      hv = cp.nb_cfg;
      ts = cp.nb_cfg_timestamp;
    } else if (cp.nb_cfg === hv && cp.nb_cfg_timestamp > ts) ts = cp.nb_cfg_timestamp;
  }
  return { hv_cfg: hv, hv_cfg_timestamp: ts };
}
