/** `ovnts nbctl`: ovn-nbctl's syntax and output over the OVN Northbound database. */
import { DB_COMMANDS } from '../db-commands.js';
import type { CommandSpec, ExecuteContext, PostExecuteContext, RowId, ToolSpec } from '../tool.js';
import { ACL_COMMANDS } from './acl-commands.js';
import { GATEWAY_DHCP_COMMANDS } from './gateway-dhcp-commands.js';
import { LB_COMMANDS } from './lb-commands.js';
import { NAT_COMMANDS } from './nat-commands.js';
import { PORT_COMMANDS } from './port-commands.js';
import { ROUTER_COMMANDS } from './router-commands.js';
import { ROUTER_PORT_COMMANDS } from './router-port-commands.js';
import { show } from './show.js';
import { SWITCH_COMMANDS } from './switch-commands.js';
import { OVN_DBCTL_OPTIONS } from '../ovn-dbctl-options.js';

const byName = (table: string, name = 'name'): RowId => ({ table, name });
const byKey = (table: string, key: string): RowId => ({ table, name: 'external_ids', key });

/** As `ovn-nbctl --help` lists them. */
export const NB_ROW_IDS: Record<string, readonly RowId[]> = {
  ACL: [byName('ACL')],
  Address_Set: [byName('Address_Set')],
  Chassis_Template_Var: [byName('Chassis_Template_Var', 'chassis')],
  Connection: [byName('Connection', 'target')],
  DHCP_Options: [
    { table: 'Logical_Switch_Port', name: 'name', uuidColumn: 'dhcpv4_options' },
    { table: 'Logical_Switch_Port', name: 'external_ids', key: 'neutron:port_name', uuidColumn: 'dhcpv4_options' },
    { table: 'Logical_Switch_Port', name: 'name', uuidColumn: 'dhcpv6_options' },
    { table: 'Logical_Switch_Port', name: 'external_ids', key: 'neutron:port_name', uuidColumn: 'dhcpv6_options' },
  ],
  Forwarding_Group: [byName('Forwarding_Group')],
  HA_Chassis: [byName('HA_Chassis', 'chassis_name')],
  HA_Chassis_Group: [byName('HA_Chassis_Group')],
  Load_Balancer: [byName('Load_Balancer')],
  Load_Balancer_Group: [byName('Load_Balancer_Group')],
  Load_Balancer_Health_Check: [byName('Load_Balancer_Health_Check', 'vip')],
  Logical_Router: [byName('Logical_Router'), byKey('Logical_Router', 'neutron:router_name')],
  Logical_Router_Port: [byName('Logical_Router_Port')],
  Logical_Switch: [byName('Logical_Switch'), byKey('Logical_Switch', 'neutron:network_name')],
  Logical_Switch_Port: [byName('Logical_Switch_Port'), byKey('Logical_Switch_Port', 'neutron:port_name')],
  Meter: [byName('Meter')],
  NAT: [byName('NAT', 'external_ip')],
  Port_Group: [byName('Port_Group')],
};

const init: CommandSpec = { name: 'init', minArgs: 0, maxArgs: 0, args: '', options: '', mode: 'RW', run: () => undefined };
const sync: CommandSpec = { name: 'sync', minArgs: 0, maxArgs: 0, args: '', options: '', mode: 'RO', run: () => undefined };

function preExecute(ctx: ExecuteContext): void {
  let nb = ctx.txn.first('NB_Global');
  if (!nb) nb = ctx.txn.insert(ctx.schema.tables.get('NB_Global')!);
  if (ctx.waitMode !== 'none') ctx.txn.increment = { row: nb, column: 'nb_cfg', force: ctx.commands.includes('sync') };
}

/** --wait=sb|hv: wait until northd (sb_cfg) or every chassis (hv_cfg) has caught up. */
async function postExecute(ctx: PostExecuteContext): Promise<void> {
  if (ctx.waitMode === 'none' || ctx.incremented === undefined) return;
  const column = ctx.waitMode === 'sb' ? 'sb_cfg' : 'hv_cfg';
  const start = Date.now();
  for await (const view of ctx.watch('NB_Global')) {
    const nb = view.first('NB_Global');
    if (nb && Number(nb.scalar(column) ?? 0) >= ctx.incremented) break;
  }
  if (ctx.printWaitTime) ctx.stdout(`Time spent on waiting for operations to finish: ${Date.now() - start}ms\n`);
}

function ovnRundir(): string {
  return process.env['OVN_RUNDIR'] ?? '/var/run/ovn';
}

export const NBCTL: ToolSpec = {
  program: 'ovn-nbctl',
  schemaName: 'ovn-nb',
  defaultDb: () => process.env['OVN_NB_DB'] || `unix:${ovnRundir()}/ovnnb_db.sock`,
  optionsEnv: 'OVN_NBCTL_OPTIONS',
  logModule: 'ovn_dbctl',
  rowIds: NB_ROW_IDS,
  commands: [init, sync, show, ...SWITCH_COMMANDS, ...PORT_COMMANDS, ...ROUTER_COMMANDS, ...ROUTER_PORT_COMMANDS, ...ACL_COMMANDS, ...LB_COMMANDS, ...NAT_COMMANDS, ...GATEWAY_DHCP_COMMANDS, ...DB_COMMANDS],
  baseTables: ['NB_Global'],
  extraOptions: OVN_DBCTL_OPTIONS,
  allowWait: true,
  preExecute,
  postExecute,
};
