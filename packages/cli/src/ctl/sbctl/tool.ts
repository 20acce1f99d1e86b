/** `ovnts sbctl`: ovn-sbctl's syntax and output over the OVN Southbound database. */
import { DB_COMMANDS } from '../db-commands.js';
import { genericShow } from '../generic-show.js';
import type { CommandSpec, ExecuteContext, RowId, ShowTable, ToolSpec } from '../tool.js';
import { CHASSIS_COMMANDS } from './chassis-commands.js';
import { OVN_DBCTL_OPTIONS } from '../ovn-dbctl-options.js';

const byName = (table: string, name = 'name'): RowId => ({ table, name });
const byKey = (table: string, key: string): RowId => ({ table, name: 'external_ids', key });

/** As `ovn-sbctl --help` lists them. */
export const SB_ROW_IDS: Record<string, readonly RowId[]> = {
  Address_Set: [byName('Address_Set')],
  Chassis: [byName('Chassis')],
  Chassis_Private: [byName('Chassis_Private')],
  Chassis_Template_Var: [byName('Chassis_Template_Var', 'chassis')],
  Connection: [byName('Connection', 'target')],
  DHCP_Options: [byName('DHCP_Options')],
  DHCPv6_Options: [byName('DHCPv6_Options')],
  Datapath_Binding: [
    byKey('Datapath_Binding', 'name'),
    byKey('Datapath_Binding', 'name2'),
    byKey('Datapath_Binding', 'logical-switch'),
    byKey('Datapath_Binding', 'logical-router'),
  ],
  Gateway_Chassis: [byName('Gateway_Chassis')],
  HA_Chassis_Group: [byName('HA_Chassis_Group')],
  Load_Balancer: [byName('Load_Balancer')],
  MAC_Binding: [byName('MAC_Binding', 'logical_port')],
  Meter: [byName('Meter')],
  Mirror: [byName('Mirror')],
  Port_Binding: [byName('Port_Binding', 'logical_port'), byKey('Port_Binding', 'name')],
  Port_Group: [byName('Port_Group')],
  RBAC_Permission: [byName('RBAC_Permission', 'table')],
  RBAC_Role: [byName('RBAC_Role')],
  Service_Monitor: [byName('Service_Monitor', 'logical_port')],
};

const SB_SHOW: readonly ShowTable[] = [
  {
    table: 'Chassis',
    nameColumn: 'name',
    columns: ['hostname', 'encaps'],
    wref: { table: 'Port_Binding', nameColumn: 'logical_port', wrefColumn: 'chassis' },
  },
  { table: 'Encap', nameColumn: 'type', columns: ['ip', 'options'] },
];

const init: CommandSpec = { name: 'init', minArgs: 0, maxArgs: 0, args: '', options: '', mode: 'RW', run: () => undefined };

function preExecute(ctx: ExecuteContext): void {
  if (!ctx.txn.first('SB_Global')) ctx.txn.insert(ctx.schema.tables.get('SB_Global')!);
}

function ovnRundir(): string {
  return process.env['OVN_RUNDIR'] ?? '/var/run/ovn';
}

export const SBCTL: ToolSpec = {
  program: 'ovn-sbctl',
  schemaName: 'ovn-sb',
  defaultDb: () => process.env['OVN_SB_DB'] || `unix:${ovnRundir()}/ovnsb_db.sock`,
  optionsEnv: 'OVN_SBCTL_OPTIONS',
  logModule: 'ovn_dbctl',
  rowIds: SB_ROW_IDS,
  commands: [init, genericShow(), ...CHASSIS_COMMANDS, ...DB_COMMANDS],
  showTables: SB_SHOW,
  baseTables: ['SB_Global'],
  extraOptions: OVN_DBCTL_OPTIONS,
  allowWait: false,
  preExecute,
};
