/**
 * The Southbound state northd wants, as plain rows keyed by natural keys (no SB UUIDs), so that
 * comparing it with the actual Southbound database is a keyed diff. References to datapaths are
 * by datapath key (the NB row UUID), to ports by logical port name, to chassis by name.
 */
import type { Pipeline } from './stages.js';

/**
 * The identity of a logical flow for diffing: pipeline, table, priority, match, actions,
 * controller meter, in_out_port tag and the datapath set (sorted datapath keys).
 */
export function flowIdentity(pipeline: string, table: number, priority: number, match: string, actions: string, meter: string | undefined, ioPort: string | undefined, datapaths: readonly string[]): string {
  return `${pipeline}\u0000${table}\u0000${priority}\u0000${match}\u0000${actions}\u0000${meter ?? ''}\u0000${ioPort ?? ''}\u0000${datapaths.join(',')}`;
}

export interface DesiredDatapath {
  readonly key: string;
  readonly tunnel_key: number;
  readonly external_ids: Readonly<Record<string, string>>;
}

export interface DesiredPortBinding {
  readonly logical_port: string;
  /** Datapath key. */
  readonly datapath: string;
  readonly tunnel_key: number;
  readonly type: string;
  readonly mac: readonly string[];
  readonly options: Readonly<Record<string, string>>;
  readonly parent_port: string | undefined;
  readonly tag: number | undefined;
  readonly nat_addresses: readonly string[];
  readonly port_security: readonly string[];
  readonly external_ids: Readonly<Record<string, string>>;
  /** Name of the SB HA_Chassis_Group. */
  readonly ha_chassis_group: string | undefined;
  /** Chassis name (or hostname) requested by options:requested-chassis. */
  readonly requested_chassis: string | undefined;
  /** Names of the SB Mirror rows the port uses (NB Logical_Switch_Port.mirror_rules). */
  readonly mirror_rules: readonly string[];
}

export interface DesiredMulticastGroup {
  readonly datapath: string;
  readonly name: string;
  readonly tunnel_key: number;
  /** Logical port names. */
  readonly ports: readonly string[];
}

export interface DesiredLflow {
  /** Datapath keys, sorted. One: logical_datapath; several: a Logical_DP_Group. */
  readonly datapaths: readonly string[];
  readonly pipeline: Pipeline;
  readonly table_id: number;
  readonly priority: number;
  readonly match: string;
  readonly actions: string;
  readonly controller_meter: string | undefined;
  readonly tags: Readonly<Record<string, string>>;
  readonly external_ids: Readonly<Record<string, string>>;
}

export interface DesiredLoadBalancer {
  /** NB Load_Balancer UUID. */
  readonly key: string;
  readonly name: string;
  readonly vips: Readonly<Record<string, string>>;
  readonly protocol: string | undefined;
  readonly options: Readonly<Record<string, string>>;
  readonly external_ids: Readonly<Record<string, string>>;
  /** Switch datapath keys, sorted. */
  readonly datapaths: readonly string[];
}

export interface DesiredIpMulticast {
  readonly datapath: string;
  readonly enabled: boolean;
  readonly querier: boolean;
  readonly eth_src: string;
  readonly ip4_src: string;
  readonly ip6_src: string;
  readonly table_size: number;
  readonly idle_timeout: number;
  readonly query_interval: number;
  readonly query_max_resp: number;
}

export interface DesiredHaChassisGroup {
  readonly name: string;
  /** chassis name -> priority, for chassis that exist in the SB. */
  readonly ha_chassis: Readonly<Record<string, number>>;
  readonly external_ids: Readonly<Record<string, string>>;
}

export interface DesiredStaticMacBinding {
  readonly logical_port: string;
  readonly ip: string;
  readonly mac: string;
  readonly override_dynamic_mac: boolean;
  readonly datapath: string;
}

export interface DesiredDns {
  /** NB DNS UUID. */
  readonly key: string;
  readonly records: Readonly<Record<string, string>>;
  /** Switch datapath keys, sorted. */
  readonly datapaths: readonly string[];
  readonly external_ids: Readonly<Record<string, string>>;
}

export interface DesiredServiceMonitor {
  readonly ip: string;
  readonly port: number;
  readonly protocol: string;
  readonly logical_port: string;
  readonly src_ip: string;
  readonly src_mac: string;
  readonly options: Readonly<Record<string, string>>;
  readonly external_ids: Readonly<Record<string, string>>;
}

export interface DesiredMeter {
  readonly name: string;
  readonly unit: string;
  readonly bands: readonly { readonly action: string; readonly rate: number; readonly burst_size: number }[];
}

export interface DesiredMirror {
  readonly name: string;
  readonly type: string;
  readonly filter: string;
  readonly sink: string;
  readonly index: number;
  readonly external_ids: Readonly<Record<string, string>>;
}

export interface DesiredSb {
  readonly sbGlobal: { readonly options: Readonly<Record<string, string>>; readonly nb_cfg: number; readonly ipsec: boolean };
  readonly datapaths: Map<string, DesiredDatapath>;
  readonly portBindings: Map<string, DesiredPortBinding>;
  /** Keyed by `${datapath}\0${name}`. */
  readonly multicastGroups: Map<string, DesiredMulticastGroup>;
  /** Keyed by lflowKey (stage, priority, match, actions, meter, tags) plus the datapath set. */
  readonly lflows: Map<string, DesiredLflow>;
  readonly addressSets: Map<string, readonly string[]>;
  readonly portGroups: Map<string, readonly string[]>;
  readonly loadBalancers: Map<string, DesiredLoadBalancer>;
  readonly dhcpOptions: Map<string, { code: number; type: string }>;
  readonly dhcpv6Options: Map<string, { code: number; type: string }>;
  readonly ipMulticast: Map<string, DesiredIpMulticast>;
  readonly haChassisGroups: Map<string, DesiredHaChassisGroup>;
  /** Keyed by `${logical_port}\0${ip}`. */
  readonly staticMacBindings: Map<string, DesiredStaticMacBinding>;
  readonly meters: Map<string, DesiredMeter>;
  /** Keyed by NB DNS UUID. */
  readonly dns: Map<string, DesiredDns>;
  /** Keyed by (ip, port, protocol, logical_port). */
  readonly serviceMonitors: Map<string, DesiredServiceMonitor>;
  /** Keyed by mirror name. */
  readonly mirrors: Map<string, DesiredMirror>;
  /** Chassis_Template_Var.variables, keyed by chassis name. */
  readonly templateVars: Map<string, Readonly<Record<string, string>>>;
  /** SB MAC_Binding and FDB rows (UUIDs) that refer to ports or datapaths that no longer exist. */
  readonly staleMacBindings: readonly string[];
  readonly staleFdbs: readonly string[];
}

/**
 * What northd wants in the Northbound columns it owns (desired values; the writer compares
 * them with the Northbound replica and writes only differences).
 */
export interface NbWrites {
  /** NB_Global.options (with mac_prefix, svc_monitor_mac, max_tunid, northd_internal_version). */
  readonly nbGlobalOptions: Readonly<Record<string, string>>;
  /** Logical_Switch_Port.tag, by LSP UUID, for ports with a tag_request. */
  readonly lspTag: Map<string, number>;
  /** Logical_Switch_Port.dynamic_addresses from IPAM, by LSP UUID (undefined: clear). */
  readonly lspDynamicAddresses: Map<string, string | undefined>;
  /** Logical_Switch_Port.up, by LSP UUID, for every port. */
  readonly lspUp: Map<string, boolean>;
  /** NB_Global hv_cfg / hv_cfg_timestamp. */
  readonly hvCfg: { readonly hv_cfg: number; readonly hv_cfg_timestamp: number };
}
