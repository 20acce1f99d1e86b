/** `ovnts sbctl`: ovn-sbctl's syntax and output over the OVN Southbound database. */
import { catalog, DB_CATALOG, GENERIC_SHOW_CATALOG, noop, sslCatalog } from '../catalog.js';
import type { CommandEntry, ExecuteContext, RowId, ShowTable, ToolSpec } from '../tool.js';
import { OVN_DBCTL_OPTIONS } from '../option-scan.js';

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

/** ovn-sbctl's commands, in --help order (their code is loaded when they run). */
const COMMANDS: readonly CommandEntry[] = [
  noop('init', 'RW'),
  ...GENERIC_SHOW_CATALOG,
  ...catalog(async () => (await import('./chassis-commands.js')).CHASSIS_COMMANDS, [
    ['chassis-add', 3, 3, 'CHASSIS ENCAP-TYPE ENCAP-IP', '--may-exist', 'RW'],
    ['chassis-del', 1, 1, 'CHASSIS', '--if-exists', 'RW'],
    ['lsp-bind', 2, 2, 'PORT CHASSIS', '--may-exist', 'RW'],
    ['lsp-unbind', 1, 1, 'PORT', '--if-exists', 'RW'],
  ]),
  ...catalog(async () => (await import('./lflow-commands.js')).LFLOW_COMMANDS, [
    ['lflow-list', 0, Infinity, '[DATAPATH] [LFLOW...]', '--uuid,--ovs?,--stats,--vflows?', 'RO'],
    ['dump-flows', 0, Infinity, '[DATAPATH] [LFLOW...]', '--uuid,--ovs?,--stats,--vflows?', 'RO'],
    ['count-flows', 0, 1, '[DATAPATH]', '', 'RO'],
  ]),
  ...catalog(async () => (await import('./connection-commands.js')).CONNECTION_COMMANDS, [
    ['get-connection', 0, 0, '', '', 'RO'],
    ['del-connection', 0, 0, '', '', 'RW'],
    ['set-connection', 1, Infinity, 'TARGET...', '--inactivity-probe=', 'RW'],
    ['ip-multicast-flush', 0, 1, 'SWITCH', '', 'RW'],
  ]),
  ...sslCatalog('SB_Global', 5),
  ...DB_CATALOG,
];

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
  commands: COMMANDS,
  showTables: SB_SHOW,
  baseTables: ['SB_Global'],
  extraOptions: OVN_DBCTL_OPTIONS,
  daemon: { env: 'OVN_SB_DAEMON', rundir: ovnRundir },
  allowWait: false,
  preExecute,
};
