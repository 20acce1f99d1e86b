/** `ovnts vsctl`: ovs-vsctl's syntax and output over the Open_vSwitch database. */
import { DB_COMMANDS } from '../db-commands.js';
import { genericShow } from '../generic-show.js';
import type { CommandSpec, ExecuteContext, PostExecuteContext, RowId, ShowTable, ToolSpec } from '../tool.js';
import { BRIDGE_COMMANDS } from './bridge-commands.js';
import { CONTROLLER_COMMANDS } from './controller-commands.js';
import { INFO_COMMANDS } from './info-commands.js';

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

const init: CommandSpec = { name: 'init', minArgs: 0, maxArgs: 0, args: '', options: '', mode: 'RW', run: () => undefined };

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
  commands: [init, genericShow(), ...BRIDGE_COMMANDS, ...INFO_COMMANDS, ...CONTROLLER_COMMANDS, ...DB_COMMANDS],
  showTables: VS_SHOW,
  baseTables: ['Open_vSwitch'],
  extraOptions: { 'no-wait': false, retry: false, 'peer-ca-cert': true },
  allowWait: true,
  preExecute,
  postExecute,
};
