/** `ovnts nbctl`: ovn-nbctl's syntax and output over the OVN Northbound database. */
import { catalog, DB_CATALOG, noop } from '../catalog.js';
import type { CommandEntry, ExecuteContext, PostExecuteContext, RowId, ToolSpec } from '../tool.js';
import { OVN_DBCTL_OPTIONS } from '../option-scan.js';

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

/** ovn-nbctl's commands, in --help order (their code is loaded when they run). */
const COMMANDS: readonly CommandEntry[] = [
  noop('init', 'RW'),
  noop('sync', 'RO'),
  ...catalog(async () => [(await import('./show.js')).show], [['show', 0, 1, '[SWITCH]', '', 'RO']]),
  ...catalog(async () => (await import('./switch-commands.js')).SWITCH_COMMANDS, [
    ['ls-add', 0, 1, '[SWITCH]', '--may-exist,--add-duplicate', 'RW'],
    ['ls-del', 1, 1, 'SWITCH', '--if-exists', 'RW'],
    ['ls-list', 0, 0, '', '', 'RO'],
    ['lsp-add', 2, 4, 'SWITCH PORT [PARENT] [TAG]', '--may-exist', 'RW'],
    ['lsp-del', 1, 1, 'PORT', '--if-exists', 'RW'],
    ['lsp-list', 1, 1, 'SWITCH', '', 'RO'],
    ['lsp-set-addresses', 1, Infinity, 'PORT [ADDRESS]...', '', 'RW'],
    ['lsp-get-addresses', 1, 1, 'PORT', '', 'RO'],
  ]),
  ...catalog(async () => (await import('./port-commands.js')).PORT_COMMANDS, [
    ['lsp-set-type', 2, 2, 'PORT TYPE', '', 'RW'],
    ['lsp-get-type', 1, 1, 'PORT', '', 'RO'],
    ['lsp-set-options', 1, Infinity, 'PORT KEY=VALUE [KEY=VALUE]...', '', 'RW'],
    ['lsp-get-options', 1, 1, 'PORT', '', 'RO'],
    ['lsp-set-enabled', 2, 2, 'PORT STATE', '', 'RW'],
    ['lsp-get-enabled', 1, 1, 'PORT', '', 'RO'],
    ['lsp-get-up', 1, 1, 'PORT', '', 'RO'],
    ['lsp-set-port-security', 1, Infinity, 'PORT [ADDRS]...', '', 'RW'],
    ['lsp-get-port-security', 1, 1, 'PORT', '', 'RO'],
    ['lsp-get-parent', 1, 1, 'PORT', '', 'RO'],
    ['lsp-get-tag', 1, 1, 'PORT', '', 'RO'],
    ['lsp-get-ls', 1, 1, 'PORT', '', 'RO'],
  ]),
  ...catalog(async () => (await import('./router-commands.js')).ROUTER_COMMANDS, [
    ['lr-add', 0, 1, '[ROUTER]', '--may-exist,--add-duplicate', 'RW'],
    ['lr-del', 1, 1, 'ROUTER', '--if-exists', 'RW'],
    ['lr-list', 0, 0, '', '', 'RO'],
  ]),
  ...catalog(async () => (await import('./router-port-commands.js')).ROUTER_PORT_COMMANDS, [
    ['lrp-add', 4, Infinity, 'ROUTER PORT MAC [NETWORK]...[COLUMN[:KEY]=VALUE]...', '--may-exist', 'RW'],
    ['lrp-del', 1, 1, 'PORT', '--if-exists', 'RW'],
    ['lrp-list', 1, 1, 'ROUTER', '', 'RO'],
    ['lr-route-add', 3, 4, 'ROUTER PREFIX NEXTHOP [PORT]', '--may-exist,--ecmp,--ecmp-symmetric-reply,--policy=', 'RW'],
    ['lr-route-del', 1, 4, 'ROUTER [PREFIX [NEXTHOP [PORT]]]', '--if-exists,--policy=', 'RW'],
    ['lr-route-list', 1, 1, 'ROUTER', '', 'RO'],
  ]),
  ...catalog(async () => (await import('./acl-commands.js')).ACL_COMMANDS, [
    ['acl-add', 5, 6, '{SWITCH | PORTGROUP} DIRECTION PRIORITY MATCH ACTION', '--log,--may-exist,--type=,--name=,--severity=,--meter=,--label=,--apply-after-lb', 'RW'],
    ['acl-del', 1, 4, '{SWITCH | PORTGROUP} [DIRECTION [PRIORITY MATCH]]', '--type=', 'RW'],
    ['acl-list', 1, 1, '{SWITCH | PORTGROUP}', '--type=', 'RO'],
    ['pg-add', 1, Infinity, '', '', 'RW'],
    ['pg-set-ports', 2, Infinity, '', '', 'RW'],
    ['pg-del', 1, 1, '', '', 'RW'],
  ]),
  ...catalog(async () => (await import('./ha-commands.js')).HA_COMMANDS, [
    ['ha-chassis-group-add', 1, 1, 'GRP', '', 'RW'],
    ['ha-chassis-group-del', 1, 1, 'GRP', '', 'RW'],
    ['ha-chassis-group-list', 0, 0, '', '', 'RO'],
    ['ha-chassis-group-add-chassis', 3, 3, 'GRP CHASSIS PRIORITY', '', 'RW'],
    ['ha-chassis-group-remove-chassis', 2, 2, 'GRP CHASSIS', '', 'RW'],
  ]),
  ...catalog(async () => (await import('./lb-commands.js')).LB_COMMANDS, [
    ['lb-add', 3, 4, 'LB VIP[:PORT] IP[:PORT]... [PROTOCOL]', '--may-exist,--add-duplicate,--reject,--event,--add-route', 'RW'],
    ['lb-del', 1, 2, 'LB [VIP]', '--if-exists', 'RW'],
    ['lb-list', 0, 1, '[LB]', '', 'RO'],
    ['lr-lb-add', 2, 2, 'ROUTER LB', '--may-exist', 'RW'],
    ['lr-lb-del', 1, 2, 'ROUTER [LB]', '--if-exists', 'RW'],
    ['lr-lb-list', 1, 1, 'ROUTER', '', 'RO'],
    ['ls-lb-add', 2, 2, 'SWITCH LB', '--may-exist', 'RW'],
    ['ls-lb-del', 1, 2, 'SWITCH [LB]', '--if-exists', 'RW'],
    ['ls-lb-list', 1, 1, 'SWITCH', '', 'RO'],
  ]),
  ...catalog(async () => (await import('./nat-commands.js')).NAT_COMMANDS, [
    ['lr-nat-add', 4, 7, 'ROUTER TYPE EXTERNAL_IP LOGICAL_IP[LOGICAL_PORT EXTERNAL_MAC] [EXTERNAL_PORT_RANGE]', '--may-exist,--stateless,--portrange,--add-route,--gateway-port=', 'RW'],
    ['lr-nat-del', 1, 4, 'ROUTER [TYPE [IP] [GATEWAY_PORT]]', '--if-exists', 'RW'],
    ['lr-nat-list', 1, 1, 'ROUTER', '', 'RO'],
    ['lr-policy-add', 4, Infinity, 'ROUTER PRIORITY MATCH ACTION [NEXTHOP] [OPTIONS - KEY=VALUE ...]', '--may-exist', 'RW'],
    ['lr-policy-del', 1, 3, 'ROUTER [{PRIORITY | UUID} [MATCH]]', '--if-exists', 'RW'],
    ['lr-policy-list', 1, 1, 'ROUTER', '', 'RO'],
  ]),
  ...catalog(async () => (await import('./gateway-dhcp-commands.js')).GATEWAY_DHCP_COMMANDS, [
    ['lrp-set-gateway-chassis', 2, 3, 'PORT CHASSIS [PRIORITY]', '--may-exist', 'RW'],
    ['lrp-del-gateway-chassis', 2, 2, 'PORT CHASSIS', '', 'RW'],
    ['lrp-get-gateway-chassis', 1, 1, 'PORT', '', 'RO'],
    ['dhcp-options-create', 1, Infinity, 'CIDR [EXTERNAL:IDS]', '', 'RW'],
    ['dhcp-options-del', 1, 1, 'DHCP_OPT_UUID', '', 'RW'],
    ['dhcp-options-list', 0, 0, '', '', 'RO'],
    ['dhcp-options-set-options', 1, Infinity, 'DHCP_OPT_UUID KEY=VALUE [KEY=VALUE]...', '', 'RW'],
    ['dhcp-options-get-options', 1, 1, 'DHCP_OPT_UUID', '', 'RO'],
    ['lsp-set-dhcpv4-options', 1, 2, 'PORT [DHCP_OPT_UUID]', '', 'RW'],
    ['lsp-get-dhcpv4-options', 1, 1, 'PORT', '', 'RO'],
    ['lsp-set-dhcpv6-options', 1, 2, 'PORT [DHCP_OPT_UUID]', '', 'RW'],
    ['lsp-get-dhcpv6-options', 1, 1, 'PORT', '', 'RO'],
  ]),
  ...DB_CATALOG,
];

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
  commands: COMMANDS,
  baseTables: ['NB_Global'],
  extraOptions: OVN_DBCTL_OPTIONS,
  daemon: { env: 'OVN_NB_DAEMON', rundir: ovnRundir },
  allowWait: true,
  preExecute,
  postExecute,
};
