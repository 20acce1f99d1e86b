/**
 * What the tracer needs from a Southbound database, as plain data: the CLI fills it from any
 * OVSDB server, tests may build it by hand. Names follow ovn-sb(5).
 */

export type Pipeline = 'ingress' | 'egress';

export interface SbDatapath {
  readonly uuid: string;
  /** external_ids:name (ovn-trace names datapaths by it), else the UUID. */
  readonly name: string;
  readonly tunnelKey: number;
  readonly isRouter: boolean;
}

export interface SbPortBinding {
  readonly name: string;
  /** Datapath UUID. */
  readonly datapath: string;
  readonly type: string;
  readonly tunnelKey: number;
  readonly options: ReadonlyMap<string, string>;
  readonly mac: readonly string[];
  readonly portSecurity: readonly string[];
  readonly chassis: string | undefined;
}

export interface SbLogicalFlow {
  readonly uuid: string;
  /** Datapath UUIDs: the flow's logical_datapath, or every member of its logical_dp_group. */
  readonly datapaths: readonly string[];
  readonly pipeline: Pipeline;
  readonly table: number;
  readonly priority: number;
  readonly match: string;
  readonly actions: string;
  /** external_ids:stage-name. */
  readonly stage: string;
  /** external_ids:source (northd's "file:line"), shown in brackets as ovn-trace does. */
  readonly source: string | undefined;
}

export interface SbMulticastGroup {
  readonly datapath: string;
  readonly name: string;
  readonly tunnelKey: number;
  readonly ports: readonly string[];
}

export interface SbMacBinding {
  readonly logicalPort: string;
  readonly ip: string;
  readonly mac: string;
  readonly datapath: string;
}

export interface Southbound {
  readonly datapaths: readonly SbDatapath[];
  readonly ports: readonly SbPortBinding[];
  readonly flows: readonly SbLogicalFlow[];
  readonly multicastGroups: readonly SbMulticastGroup[];
  readonly macBindings: readonly SbMacBinding[];
  readonly addressSets: ReadonlyMap<string, readonly string[]>;
  /** SB Port_Group rows by their full name ("<datapath key>_<group>" for northd 23.03). */
  readonly portGroups: ReadonlyMap<string, readonly string[]>;
  /** SB_Global options:svc_monitor_mac, which backs the `$svc_monitor_mac` address set. */
  readonly svcMonitorMac: string | undefined;
}

/** Rows of the Southbound tables the tracer reads, in OVSDB's JSON wire form (as `select` returns them). */
export type SouthboundRows = Readonly<Record<string, readonly Readonly<Record<string, unknown>>[]>>;

/** The tables and columns `southboundFromRows` reads. */
export const TRACE_TABLES: Readonly<Record<string, readonly string[]>> = {
  Datapath_Binding: ['_uuid', 'tunnel_key', 'external_ids'],
  Port_Binding: ['_uuid', 'logical_port', 'datapath', 'type', 'tunnel_key', 'options', 'mac', 'port_security', 'chassis'],
  Logical_Flow: ['_uuid', 'logical_datapath', 'logical_dp_group', 'pipeline', 'table_id', 'priority', 'match', 'actions', 'external_ids'],
  Logical_DP_Group: ['_uuid', 'datapaths'],
  Multicast_Group: ['_uuid', 'datapath', 'name', 'tunnel_key', 'ports'],
  MAC_Binding: ['_uuid', 'logical_port', 'ip', 'mac', 'datapath'],
  Address_Set: ['_uuid', 'name', 'addresses'],
  Port_Group: ['_uuid', 'name', 'ports'],
  SB_Global: ['_uuid', 'options'],
};

function atoms(v: unknown): unknown[] {
  return Array.isArray(v) && v[0] === 'set' ? (v[1] as unknown[]) : v === undefined ? [] : [v];
}

function uuidOf(v: unknown): string | undefined {
  return Array.isArray(v) && v[0] === 'uuid' ? (v[1] as string) : undefined;
}

function mapOf(v: unknown): Map<string, string> {
  return new Map(Array.isArray(v) && v[0] === 'map' ? (v[1] as [string, string][]) : []);
}

/** Builds the tracer's view from Southbound rows in wire form. */
export function southboundFromRows(t: SouthboundRows): Southbound {
  const rows = (name: string): readonly Readonly<Record<string, unknown>>[] => t[name] ?? [];
  const groups = new Map(rows('Logical_DP_Group').map((g) => [uuidOf(g['_uuid'])!, atoms(g['datapaths']).map(uuidOf).filter((x): x is string => !!x)]));
  const datapaths: SbDatapath[] = rows('Datapath_Binding').map((d) => {
    const ids = mapOf(d['external_ids']);
    const uuid = uuidOf(d['_uuid'])!;
    return { uuid, name: ids.get('name') ?? uuid, tunnelKey: Number(d['tunnel_key']), isRouter: ids.has('logical-router') };
  });
  const portUuids = new Map<string, string>();
  const ports: SbPortBinding[] = rows('Port_Binding').map((p) => {
    portUuids.set(uuidOf(p['_uuid'])!, p['logical_port'] as string);
    return {
      name: p['logical_port'] as string,
      datapath: uuidOf(p['datapath']) ?? '',
      type: p['type'] as string,
      tunnelKey: Number(p['tunnel_key']),
      options: mapOf(p['options']),
      mac: atoms(p['mac']) as string[],
      portSecurity: atoms(p['port_security']) as string[],
      chassis: uuidOf(atoms(p['chassis'])[0]),
    };
  });
  const flows: SbLogicalFlow[] = rows('Logical_Flow').map((f) => {
    const ids = mapOf(f['external_ids']);
    const dp = uuidOf(atoms(f['logical_datapath'])[0]);
    const group = uuidOf(atoms(f['logical_dp_group'])[0]);
    return {
      uuid: uuidOf(f['_uuid'])!,
      datapaths: dp ? [dp] : group ? (groups.get(group) ?? []) : [],
      pipeline: f['pipeline'] as Pipeline,
      table: Number(f['table_id']),
      priority: Number(f['priority']),
      match: f['match'] as string,
      actions: f['actions'] as string,
      stage: ids.get('stage-name') ?? `table ${String(f['table_id'])}`,
      source: ids.get('source'),
    };
  });
  const multicastGroups: SbMulticastGroup[] = rows('Multicast_Group').map((g) => ({
    datapath: uuidOf(g['datapath']) ?? '',
    name: g['name'] as string,
    tunnelKey: Number(g['tunnel_key']),
    ports: atoms(g['ports']).map((u) => portUuids.get(uuidOf(u) ?? '') ?? '').filter(Boolean),
  }));
  const macBindings: SbMacBinding[] = rows('MAC_Binding').map((m) => ({
    logicalPort: m['logical_port'] as string,
    ip: m['ip'] as string,
    mac: m['mac'] as string,
    datapath: uuidOf(m['datapath']) ?? '',
  }));
  const addressSets = new Map(rows('Address_Set').map((a) => [a['name'] as string, atoms(a['addresses']) as string[]]));
  const portGroups = new Map(rows('Port_Group').map((a) => [a['name'] as string, atoms(a['ports']) as string[]]));
  const global = rows('SB_Global')[0];
  const svcMonitorMac = global ? mapOf(global['options']).get('svc_monitor_mac') : undefined;
  return { datapaths, ports, flows, multicastGroups, macBindings, addressSets, portGroups, svcMonitorMac };
}
