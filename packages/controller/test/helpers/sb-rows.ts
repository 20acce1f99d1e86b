/** Southbound rows of a real-OVN sandbox as the controller's typed SouthboundState. */
import { Sb } from '@ovnts/ovsdb';
import { listTables, type RealOvn } from '@ovnts/testkit';
import type { SouthboundState } from '../../src/desired.js';

const TABLES = {
  Datapath_Binding: Sb.tables.Datapath_Binding,
  Port_Binding: Sb.tables.Port_Binding,
  Logical_Flow: Sb.tables.Logical_Flow,
  Logical_DP_Group: Sb.tables.Logical_DP_Group,
  Multicast_Group: Sb.tables.Multicast_Group,
  MAC_Binding: Sb.tables.MAC_Binding,
  Address_Set: Sb.tables.Address_Set,
  Port_Group: Sb.tables.Port_Group,
  Chassis: Sb.tables.Chassis,
  HA_Chassis_Group: Sb.tables.HA_Chassis_Group,
  HA_Chassis: Sb.tables.HA_Chassis,
  DNS: Sb.tables.DNS,
} as const;

export async function southboundState(sbctl: RealOvn['sbctl']): Promise<SouthboundState> {
  const wire = await listTables(sbctl, Object.fromEntries(Object.keys(TABLES).map((k) => [k, []])));
  const rows = <K extends keyof typeof TABLES>(k: K) => wire[k]!.map((r) => TABLES[k].fromWire(r as never)) as ReturnType<(typeof TABLES)[K]['fromWire']>[];
  return {
    datapaths: rows('Datapath_Binding'),
    ports: rows('Port_Binding'),
    flows: rows('Logical_Flow'),
    dpGroups: rows('Logical_DP_Group'),
    multicastGroups: rows('Multicast_Group'),
    macBindings: rows('MAC_Binding'),
    addressSets: rows('Address_Set'),
    portGroups: rows('Port_Group'),
    chassis: rows('Chassis'),
    haGroups: rows('HA_Chassis_Group'),
    haChassis: rows('HA_Chassis'),
    dns: rows('DNS'),
  };
}
