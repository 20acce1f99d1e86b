/**
 * northd's engine graph. Inputs mirror the databases (the Northbound tables; the Southbound
 * chassis, bindings and learnt tables); computed nodes each own one piece of the result:
 *
 *   NB, SB_chassis ──────────────► global_config
 *   NB, SB_bindings, global_config ► topology        (datapaths, ports, tunnel keys)
 *   topology, global_config ───────► lflows          (Logical_Flow)
 *   topology ──────────────────────► port_bindings   (Port_Binding, Multicast_Group, HA groups)
 *   topology, global_config, SB_learned ► sb_tables   (Address_Set, Port_Group, LB, ...)
 *   all of them ───────────────────► output          (desired SB rows + NB write-backs)
 *
 * Every node recomputes today; incremental handlers attach per input with onChange().
 */
import type { ComputeResult } from './compute.js';
import { buildFlowContext, buildFlowSet, buildUnitTable, datapathBindings, hvCfgOf } from './compute.js';
import type { DesiredSb } from './desired.js';
import type { FlowSet } from './flow-set.js';
import { affectedDatapaths, newTracker, type ChangeTracker } from './incremental.js';
import { Engine, type EngineNode } from './engine.js';
import { computeGlobalConfig, type GlobalConfig } from './global-config.js';
import { emptyNb, emptySb, type NbTables, type NorthdInput, type SbTables } from './input.js';
import { assignDatapathKeys, assignPortKeys } from './keys.js';
import { buildModel, type Model } from './model.js';
import { runIpam } from './ipam.js';
import { syncServiceMonitors } from './lb-health.js';
import { DHCP_OPTIONS, DHCPV6_OPTIONS } from './sb-static.js';
import { buildMulticastGroups, syncPorts, type PortSync } from './sync-ports.js';
import { staleBindings, syncAddressSets, syncIpMulticast, syncLoadBalancers, syncMeters, syncDns, syncPortGroups, syncStaticMacBindings } from './sync-tables.js';

/** Southbound tables per input node. */
export const SB_CHASSIS_TABLES = ['Chassis', 'Chassis_Private', 'Encap'] as const;
export const SB_BINDING_TABLES = ['Datapath_Binding', 'Port_Binding'] as const;
export const SB_LEARNED_TABLES = ['MAC_Binding', 'FDB', 'Service_Monitor'] as const;

export type SbPart = Partial<{ [K in keyof SbTables]: SbTables[K] }>;

interface SbTablesOut {
  addressSets: DesiredSb['addressSets'];
  portGroups: DesiredSb['portGroups'];
  loadBalancers: DesiredSb['loadBalancers'];
  ipMulticast: DesiredSb['ipMulticast'];
  staticMacBindings: DesiredSb['staticMacBindings'];
  meters: DesiredSb['meters'];
  dns: DesiredSb['dns'];
  serviceMonitors: DesiredSb['serviceMonitors'];
  stale: { macBindings: string[]; fdbs: string[] };
}

export interface NorthdEngine {
  readonly engine: Engine;
  readonly nb: EngineNode<NbTables>;
  readonly sbChassis: EngineNode<SbPart>;
  readonly sbBindings: EngineNode<SbPart>;
  readonly sbLearned: EngineNode<SbPart>;
  readonly output: EngineNode<ComputeResult>;
  /** What changed since the last run; the caller fills it before each run. */
  readonly tracker: ChangeTracker;
  /** Datapath units the last incremental flow run rebuilt. */
  lastAffected(): number;
}

interface LflowsData {
  readonly set: FlowSet;
  model: Model;
  readonly configSig: string;
}

export function createNorthdEngine(random: () => number = Math.random, tracker: ChangeTracker = newTracker()): NorthdEngine {
  const e = new Engine();
  let lastAffected = 0;
  const nb = e.input<NbTables>('NB', emptyNb());
  const sbChassis = e.input<SbPart>('SB_chassis', {});
  const sbBindings = e.input<SbPart>('SB_bindings', {});
  const sbLearned = e.input<SbPart>('SB_learned', {});
  const sbAll = (): SbTables => ({ ...emptySb(), ...sbChassis.value, ...sbBindings.value, ...sbLearned.value });
  const input = (): NorthdInput => ({ nb: nb.value, sb: sbAll() });

  const globalConfig = e.node<GlobalConfig>('global_config', [nb, sbChassis], () => computeGlobalConfig(nb.value, sbAll(), random));
  const topology = e.node<Model>('topology', [nb, sbBindings, globalConfig], () => {
    const model = buildModel(input());
    assignDatapathKeys(model, model.input.sb, globalConfig.value.vxlanMode);
    assignPortKeys(model, model.input.sb, globalConfig.value.vxlanMode);
    runIpam(model, globalConfig.value.nbOptions['mac_prefix']!);
    return model;
  });
  // Flows, per datapath unit. Handlers: a config change that changes nothing flows read, and
  // NB changes whose affected datapaths can be told (incremental.ts): only those units rebuild.
  const configSig = (c: GlobalConfig): string => JSON.stringify([c.nbOptions, c.features, c.vxlanMode]);
  const lflows = e.node<LflowsData>('lflows', [globalConfig, sbLearned, topology], () => {
    const model = topology.value;
    return { set: buildFlowSet(buildFlowContext(model, globalConfig.value)), model, configSig: configSig(globalConfig.value) };
  });
  lflows.onChange(globalConfig, () => lflows.value.configSig === configSig(globalConfig.value));
  lflows.onChange(sbLearned, () => !tracker.sbLearned.has('Service_Monitor'));
  lflows.onChange(topology, () => {
    const data = lflows.value;
    if (tracker.sbBindingsForFlows) return false;
    const model = topology.value;
    const affected = affectedDatapaths(data.model, model, tracker.nb);
    if (!affected) return false;
    const ctx = buildFlowContext(model, globalConfig.value);
    for (const k of affected) {
      const od = model.datapaths.get(k);
      if (od) data.set.setUnit(k, buildUnitTable(ctx, od));
      else data.set.removeUnit(k);
    }
    data.model = model;
    lastAffected = affected.size;
    return true;
  });
  const ports = e.node<PortSync & { mc: DesiredSb['multicastGroups'] }>('port_bindings', [topology], () => ({
    ...syncPorts(topology.value),
    mc: buildMulticastGroups(topology.value),
  }));
  const tables = e.node<SbTablesOut>('sb_tables', [topology, globalConfig, sbLearned], () => {
    const m = topology.value;
    return {
      addressSets: syncAddressSets(m, globalConfig.value.nbOptions['svc_monitor_mac']!),
      portGroups: syncPortGroups(m),
      loadBalancers: syncLoadBalancers(m),
      ipMulticast: syncIpMulticast(m),
      staticMacBindings: syncStaticMacBindings(m),
      meters: syncMeters(m),
      dns: syncDns(m),
      serviceMonitors: syncServiceMonitors(m, globalConfig.value.nbOptions['svc_monitor_mac']!),
      stale: staleBindings(m),
    };
  });
  const output = e.node<ComputeResult>('output', [globalConfig, topology, lflows, ports, tables], () => {
    const config = globalConfig.value;
    const model = topology.value;
    const p = ports.value;
    const t = tables.value;
    const hv = hvCfgOf(model.input, config.nbCfg);
    return {
      config,
      model,
      sb: {
        sbGlobal: { options: config.sbOptions, nb_cfg: config.nbCfg, ipsec: config.ipsec },
        datapaths: datapathBindings(model),
        portBindings: p.portBindings,
        multicastGroups: p.mc,
        lflows: lflows.value.set.desired,
        addressSets: t.addressSets,
        portGroups: t.portGroups,
        loadBalancers: t.loadBalancers,
        dhcpOptions: new Map(DHCP_OPTIONS.map(([n, code, type]) => [n, { code, type }])),
        dhcpv6Options: new Map(DHCPV6_OPTIONS.map(([n, code, type]) => [n, { code, type }])),
        ipMulticast: t.ipMulticast,
        haChassisGroups: p.haChassisGroups,
        staticMacBindings: t.staticMacBindings,
        meters: t.meters,
        dns: t.dns,
        serviceMonitors: t.serviceMonitors,
        staleMacBindings: t.stale.macBindings,
        staleFdbs: t.stale.fdbs,
      },
      nb: {
        nbGlobalOptions: config.nbOptions,
        lspTag: p.lspTag,
        lspDynamicAddresses: model.dynamicAddressWrites,
        lspUp: p.lspUp,
        hvCfg: hv,
      },
    };
  });
  return { engine: e, nb, sbChassis, sbBindings, sbLearned, output, tracker, lastAffected: () => lastAffected };
}
