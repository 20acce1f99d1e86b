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
import { patchModel } from './model-patch.js';
import { runIpam } from './ipam.js';
import { syncServiceMonitors } from './lb-health.js';
import { DHCP_OPTIONS, DHCPV6_OPTIONS } from './sb-static.js';
import { buildMulticastGroups, syncHaGroups, syncPorts, type PortSync } from './sync-ports.js';
import { staleBindings, syncAddressSets, syncIpMulticast, syncLoadBalancers, syncMeters, syncDns, syncMirrors, syncTemplateVars, syncPortGroups, syncStaticMacBindings } from './sync-tables.js';

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
  mirrors: DesiredSb['mirrors'];
  templateVars: DesiredSb['templateVars'];
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
  /** The current flow set (a new one after each full flow recompute). */
  flowSet(): FlowSet | undefined;
  /**
   * The Port_Binding keys and Logical_Switch_Port UUIDs whose desired entries changed in place
   * since the last call, or undefined when the maps were rebuilt since (compare them whole).
   */
  takePortChanges(): { ports: Set<string>; lsps: Set<string> } | undefined;
}

/** What each datapath contributed to the port_bindings maps. */
interface PortUnit {
  readonly ports: readonly string[];
  readonly lsps: readonly string[];
  readonly mc: readonly string[];
}

interface PortsData extends PortSync {
  readonly mc: DesiredSb['multicastGroups'];
  readonly units: Map<string, PortUnit>;
  readonly model: Model;
  /** Keys of portBindings / lspUp+lspTag entries changed in place since the last take. */
  readonly changedPorts: Set<string>;
  readonly changedLsps: Set<string>;
}

function portUnits(m: Model, keys: Iterable<string>, p: PortSync, mc: DesiredSb['multicastGroups']): Map<string, PortUnit> {
  const out = new Map<string, PortUnit>();
  const want = new Set(keys);
  for (const k of want) out.set(k, { ports: [], lsps: [], mc: [] });
  for (const [name, pb] of p.portBindings) (out.get(pb.datapath)?.ports as string[] | undefined)?.push(name);
  for (const k of want) {
    const od = m.datapaths.get(k);
    for (const op of od?.ports ?? []) if (op.kind === 'lsp' && m.ports.get(op.name) === op) (out.get(k)!.lsps as string[]).push(op.uuid);
  }
  for (const [k, g] of mc) (out.get(g.datapath)?.mc as string[] | undefined)?.push(k);
  return out;
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
  // The topology keeps the SB snapshot it was built from; nodes that read the SB tables the
  // topology does not depend on (learnt bindings, service monitors) see the current ones.
  const withSb = (m: Model): Model => ({ ...m, input: { nb: m.input.nb, sb: sbAll() } });

  const globalConfig = e.node<GlobalConfig>('global_config', [nb, sbChassis], () => computeGlobalConfig(nb.value, sbAll(), random));
  // Topology: rebuilt from scratch, or patched in place for switch-local changes (model-patch.ts),
  // which also says which datapaths the change reaches.
  let builtWith = '';
  const topoConfig = (c: GlobalConfig): string => `${c.vxlanMode}|${c.nbOptions['mac_prefix']}`;
  let lastPatch: { model: Model; from: Model; affected: Set<string> } | undefined;
  const topology = e.node<Model>('topology', [globalConfig, sbBindings, nb], () => {
    const model = buildModel(input());
    assignDatapathKeys(model, model.input.sb, globalConfig.value.vxlanMode);
    assignPortKeys(model, model.input.sb, globalConfig.value.vxlanMode);
    runIpam(model, globalConfig.value.nbOptions['mac_prefix']!);
    builtWith = topoConfig(globalConfig.value);
    return model;
  });
  topology.onChange(globalConfig, () => topoConfig(globalConfig.value) === builtWith);
  topology.onChange(nb, () => {
    if (!tracker.nb) return false;
    const from = topology.value;
    const p = patchModel(from, input(), tracker.nb, globalConfig.value.vxlanMode);
    if (!p) return false;
    lastPatch = { model: p.model, from, affected: p.affected };
    topology.data = p.model;
    return true;
  });
  // Flows, per datapath unit. Handlers: a config change that changes nothing flows read, and
  // NB changes whose affected datapaths can be told (incremental.ts): only those units rebuild.
  const configSig = (c: GlobalConfig): string => JSON.stringify([c.nbOptions, c.features, c.vxlanMode]);
  // The datapaths whose NB rows changed since the previous topology (with their neighbours).
  let prevModel: Model | undefined;
  const changes = e.node<{ affected: Set<string> | undefined; from: Model | undefined }>('topology_changes', [topology], () => {
    const from = prevModel;
    prevModel = topology.value;
    if (lastPatch && lastPatch.model === topology.value) return { affected: lastPatch.affected, from: lastPatch.from };
    return { affected: affectedDatapaths(from, topology.value, tracker.nb), from };
  });
  const lflows = e.node<LflowsData>('lflows', [globalConfig, sbLearned, topology, changes], () => {
    const model = topology.value;
    return { set: buildFlowSet(buildFlowContext(withSb(model), globalConfig.value)), model, configSig: configSig(globalConfig.value) };
  });
  lflows.onChange(globalConfig, () => lflows.value.configSig === configSig(globalConfig.value));
  // The topology handler does the work; this input only says which datapaths changed.
  lflows.onChange(changes, () => true);
  lflows.onChange(sbLearned, () => !tracker.sbLearned.has('Service_Monitor'));
  lflows.onChange(topology, () => {
    const data = lflows.value;
    if (tracker.sbBindingsForFlows) return false;
    const model = topology.value;
    const affected = changes.value.affected;
    if (!affected || changes.value.from !== data.model) return false;
    const ctx = buildFlowContext(withSb(model), globalConfig.value);
    for (const k of affected) {
      const od = model.datapaths.get(k);
      if (od) data.set.setUnit(k, buildUnitTable(ctx, od));
      else data.set.removeUnit(k);
    }
    data.model = model;
    lastAffected = affected.size;
    return true;
  });
  // Port bindings, multicast groups and NB write-backs per datapath: the affected datapaths'
  // entries are replaced in place (big maps: copying them would cost more than the change), and
  // the changed keys are remembered for the writers (takePortChanges); the multicast groups are
  // copied on write (the SB writer compares them by reference).
  const ports = e.node<PortsData>('port_bindings', [topology, changes], () => {
    const m = topology.value;
    const p = syncPorts(m);
    const mc = buildMulticastGroups(m);
    return { ...p, mc, units: portUnits(m, m.datapaths.keys(), p, mc), model: m, changedPorts: new Set(), changedLsps: new Set() };
  });
  ports.onChange(changes, () => true);
  ports.onChange(topology, () => {
    const d = ports.value;
    const m = topology.value;
    const affected = changes.value.affected;
    if (!affected || changes.value.from !== d.model || tracker.sbBindingsChanged) return false;
    for (const k of affected) {
      // Tags for nested ports are allocated in one global order: leave that to a recompute.
      const od = m.datapaths.get(k);
      if (od?.ports.some((p) => p.nbsp?.tag_request === 0 && p.nbsp.parent_name !== undefined && p.nbsp.tag === undefined)) return false;
    }
    const p = syncPorts(m, affected);
    const mc = buildMulticastGroups(m, affected);
    const { portBindings, lspTag, lspUp, units, changedPorts, changedLsps } = d;
    const mcs = new Map(d.mc);
    for (const k of affected) {
      const u = units.get(k);
      if (!u) continue;
      for (const n of u.ports) {
        portBindings.delete(n);
        changedPorts.add(n);
      }
      for (const l of u.lsps) {
        lspTag.delete(l);
        lspUp.delete(l);
        changedLsps.add(l);
      }
      for (const g of u.mc) mcs.delete(g);
      units.delete(k);
    }
    for (const [k, v] of p.portBindings) {
      portBindings.set(k, v);
      changedPorts.add(k);
    }
    for (const [k, v] of p.lspTag) lspTag.set(k, v);
    for (const [k, v] of p.lspUp) {
      lspUp.set(k, v);
      changedLsps.add(k);
    }
    for (const [k, v] of mc) mcs.set(k, v);
    for (const [k, u] of portUnits(m, [...affected].filter((x) => m.datapaths.has(x)), p, mc)) units.set(k, u);
    ports.data = { ...d, haChassisGroups: syncHaGroups(m), mc: mcs, model: m };
    return true;
  });
  const tables = e.node<SbTablesOut>('sb_tables', [topology, globalConfig, sbLearned], () => {
    const m = withSb(topology.value);
    return {
      addressSets: syncAddressSets(m, globalConfig.value.nbOptions['svc_monitor_mac']!),
      portGroups: syncPortGroups(m),
      loadBalancers: syncLoadBalancers(m),
      ipMulticast: syncIpMulticast(m),
      staticMacBindings: syncStaticMacBindings(m),
      meters: syncMeters(m),
      dns: syncDns(m),
      mirrors: syncMirrors(m.input.nb),
      templateVars: syncTemplateVars(m.input.nb),
      serviceMonitors: syncServiceMonitors(m, globalConfig.value.nbOptions['svc_monitor_mac']!),
      stale: staleBindings(m),
    };
  });
  const output = e.node<ComputeResult>('output', [globalConfig, topology, lflows, ports, tables], () => {
    const config = globalConfig.value;
    const model = topology.value;
    const p = ports.value;
    const t = tables.value;
    const hv = hvCfgOf(input(), config.nbCfg);
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
        mirrors: t.mirrors,
        templateVars: t.templateVars,
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
  let lastTaken: Map<string, unknown> | undefined;
  const takePortChanges = (): { ports: Set<string>; lsps: Set<string> } | undefined => {
    const d = ports.data;
    if (!d) return undefined;
    const same = lastTaken === d.portBindings;
    lastTaken = d.portBindings;
    const out = { ports: new Set(d.changedPorts), lsps: new Set(d.changedLsps) };
    d.changedPorts.clear();
    d.changedLsps.clear();
    return same ? out : undefined;
  };
  return { engine: e, nb, sbChassis, sbBindings, sbLearned, output, tracker, lastAffected: () => lastAffected, flowSet: () => lflows.data?.set, takePortChanges };
}
