/** `ovnts vsctl`: ovs-vsctl's syntax and output over the Open_vSwitch database. */
import { catalog, DB_CATALOG, GENERIC_SHOW_CATALOG, noop, sslCatalog } from '../catalog.js';
import type { CommandEntry, ExecuteContext, PostExecuteContext, RowId, ShowTable, ToolSpec } from '../tool.js';

const byName = (table: string, name = 'name'): RowId => ({ table, name });
const viaBridge = (column: string): RowId => ({ table: 'Bridge', name: 'name', uuidColumn: column });

/** As `ovs-vsctl --help` lists them. */
export const VS_ROW_IDS: Record<string, readonly RowId[]> = {
  AutoAttach: [viaBridge('auto_attach')],
  Bridge: [byName('Bridge')],
  Controller: [viaBridge('controller')],
  Flow_Sample_Collector_Set: [byName('Flow_Sample_Collector_Set', 'id')],
  Flow_Table: [byName('Flow_Table')],
  IPFIX: [viaBridge('ipfix')],
  Interface: [byName('Interface')],
  Manager: [byName('Manager', 'target')],
  Mirror: [byName('Mirror')],
  NetFlow: [viaBridge('netflow')],
  Port: [byName('Port')],
  QoS: [{ table: 'Port', name: 'name', uuidColumn: 'qos' }],
  sFlow: [viaBridge('sflow')],
};

const VS_SHOW: readonly ShowTable[] = [
  { table: 'Open_vSwitch', columns: ['manager_options', 'bridges', 'ovs_version'] },
  { table: 'Bridge', nameColumn: 'name', columns: ['controller', 'fail_mode', 'datapath_type', 'ports'] },
  { table: 'Port', nameColumn: 'name', columns: ['tag', 'trunks', 'interfaces'] },
  { table: 'Interface', nameColumn: 'name', columns: ['type', 'options', 'error', 'bfd_status'] },
  { table: 'Controller', nameColumn: 'target', columns: ['is_connected'] },
  { table: 'Manager', nameColumn: 'target', columns: ['is_connected'] },
];

/** ovs-vsctl's commands, in --help order (their code is loaded when they run). */
const COMMANDS: readonly CommandEntry[] = [
  noop('init', 'RW'),
  ...GENERIC_SHOW_CATALOG,
  ...catalog(async () => (await import('./bridge-commands.js')).BRIDGE_COMMANDS, [
    ['add-br', 1, 3, 'NEW-BRIDGE [PARENT] [NEW-VLAN]', '--may-exist', 'RW'],
    ['del-br', 1, 1, 'BRIDGE', '--if-exists', 'RW'],
    ['list-br', 0, 0, '', '--real,--fake', 'RO'],
    ['br-exists', 1, 1, 'BRIDGE', '', 'RO'],
    ['add-port', 2, Infinity, 'BRIDGE NEW-PORT [COLUMN[:KEY]=VALUE]...', '--may-exist', 'RW'],
    ['del-port', 1, 2, '[BRIDGE] PORT|IFACE', '--if-exists,--with-iface', 'RW'],
    ['list-ports', 1, 1, 'BRIDGE', '', 'RO'],
  ]),
  ...catalog(async () => (await import('./info-commands.js')).INFO_COMMANDS, [
    ['list-ifaces', 1, 1, 'BRIDGE', '', 'RO'],
    ['port-to-br', 1, 1, 'PORT', '', 'RO'],
    ['iface-to-br', 1, 1, 'IFACE', '', 'RO'],
    ['br-to-vlan', 1, 1, 'BRIDGE', '', 'RO'],
    ['br-to-parent', 1, 1, 'BRIDGE', '', 'RO'],
    ['br-set-external-id', 2, 3, 'BRIDGE KEY [VALUE]', '', 'RW'],
    ['br-get-external-id', 1, 2, 'BRIDGE [KEY]', '', 'RO'],
    ['add-bond', 4, Infinity, 'BRIDGE BOND IFACE... [COLUMN[:KEY]=VALUE]...', '--may-exist,--fake-iface', 'RW'],
  ]),
  ...catalog(async () => (await import('./controller-commands.js')).CONTROLLER_COMMANDS, [
    ['get-controller', 1, 1, 'BRIDGE', '', 'RO'],
    ['del-controller', 1, 1, 'BRIDGE', '', 'RW'],
    ['set-controller', 2, Infinity, 'BRIDGE TARGET...', '--inactivity-probe=', 'RW'],
    ['get-fail-mode', 1, 1, 'BRIDGE', '', 'RO'],
    ['del-fail-mode', 1, 1, 'BRIDGE', '', 'RW'],
    ['set-fail-mode', 2, 2, 'BRIDGE MODE', '', 'RW'],
    ['get-manager', 0, 0, '', '', 'RO'],
    ['del-manager', 0, 0, '', '', 'RW'],
    ['set-manager', 1, Infinity, 'TARGET...', '--inactivity-probe=', 'RW'],
  ]),
  ...sslCatalog('Open_vSwitch', 3),
  ...catalog(async () => (await import('./more-commands.js')).MORE_COMMANDS, [
    ['emer-reset', 0, 0, '', '', 'RW'],
    ['add-bond-iface', 2, 2, 'BOND IFACE', '--may-exist', 'RW'],
    ['del-bond-iface', 1, 2, '[BOND] IFACE', '--if-exists', 'RW'],
    ['add-zone-tp', 3, Infinity, 'DP zone=ZONE_ID POLICY...', '--may-exist', 'RW'],
    ['del-zone-tp', 2, 2, 'DP zone=ZONE_ID', '--if-exists', 'RW'],
    ['list-zone-tp', 1, 1, 'DP', '', 'RO'],
    ['list-dp-cap', 1, 1, 'DP', '', 'RO'],
  ]),
  ...DB_CATALOG,
];

function preExecute(ctx: ExecuteContext): void {
  let ovs = ctx.txn.first('Open_vSwitch');
  if (!ovs) ovs = ctx.txn.insert(ctx.schema.tables.get('Open_vSwitch')!);
  if (ctx.waitMode === 'reload') ctx.txn.increment = { row: ovs, column: 'next_cfg' };
}

/** Without --no-wait: wait until ovs-vswitchd (or the ovnts switch) has applied the change (cur_cfg). */
async function postExecute(ctx: PostExecuteContext): Promise<void> {
  if (ctx.waitMode !== 'reload' || ctx.incremented === undefined) return;
  for await (const view of ctx.watch('Open_vSwitch')) {
    const ovs = view.first('Open_vSwitch');
    if (!ovs || Number(ovs.scalar('cur_cfg') ?? 0) >= ctx.incremented) break;
  }
}

function ovsRundir(): string {
  return process.env['OVS_RUNDIR'] ?? '/var/run/openvswitch';
}

export const VSCTL: ToolSpec = {
  program: 'ovs-vsctl',
  schemaName: 'vswitch',
  defaultDb: () => `unix:${ovsRundir()}/db.sock`,
  logModule: 'vsctl',
  rowIds: VS_ROW_IDS,
  commands: COMMANDS,
  showTables: VS_SHOW,
  baseTables: ['Open_vSwitch'],
  extraOptions: { 'no-wait': false, retry: false, 'peer-ca-cert': true },
  allowWait: true,
  preExecute,
  postExecute,
};
