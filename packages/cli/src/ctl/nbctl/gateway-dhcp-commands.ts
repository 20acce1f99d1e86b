/**
 * ovn-nbctl's gateway chassis commands (lrp-set/del/get-gateway-chassis) and DHCP options
 * commands (dhcp-options-*, lsp-set/get-dhcpv4-options).
 */
import type { ViewRow } from '../db-txn.js';
import { parseUuid } from '../datum-text.js';
import { fail } from '../errors.js';
import type { CommandContext, CommandSpec, PreContext } from '../tool.js';
import { parseIpv4Cidr, parseIpv6Cidr } from './ip-text.js';
import { byNameOrUuid, LRP, LSP } from './lookup.js';
import { addRef, cmpStr, delRef, keyValues, parsePriority, refs } from './nb-util.js';

function needGateways(ctx: PreContext): void {
  ctx.need('Logical_Router_Port');
  ctx.need('Gateway_Chassis');
}

const GC = { table: 'Gateway_Chassis', noun: 'gateway chassis' } as const;

const lrpSetGatewayChassis: CommandSpec = {
  name: 'lrp-set-gateway-chassis',
  minArgs: 2,
  maxArgs: 3,
  args: 'PORT CHASSIS [PRIORITY]',
  options: '--may-exist',
  mode: 'RW',
  pre: needGateways,
  run(ctx) {
    const lrpName = ctx.argv[1]!;
    const lrp = byNameOrUuid(ctx, LRP, lrpName, true);
    const chassis = ctx.argv[2]!;
    const priority = ctx.argv.length === 4 ? parsePriority(ctx.argv[3]!) : 0;
    const gcName = `${lrpName}-${chassis}`;
    let gc = byNameOrUuid(ctx, GC, gcName, false);
    if (!gc) {
      gc = ctx.txn.insert(ctx.schema.tables.get('Gateway_Chassis')!);
      ctx.txn.write(gc, 'name', [gcName]);
      ctx.txn.write(gc, 'chassis_name', [chassis]);
    }
    ctx.txn.write(gc, 'priority', [priority]);
    addRef(ctx, lrp, 'gateway_chassis', gc.uuid);
  },
};

const lrpDelGatewayChassis: CommandSpec = {
  name: 'lrp-del-gateway-chassis',
  minArgs: 2,
  maxArgs: 2,
  args: 'PORT CHASSIS',
  options: '',
  mode: 'RW',
  pre: needGateways,
  run(ctx) {
    const lrp = byNameOrUuid(ctx, LRP, ctx.argv[1]!, true);
    const chassis = ctx.argv[2]!;
    const gcs = refs(ctx, lrp, 'gateway_chassis', 'Gateway_Chassis');
    // strncmp(gc->chassis_name, CHASSIS, strlen(gc->chassis_name)): the chassis name is a prefix of the argument.
    const gc = gcs.find((g) => chassis.startsWith(g.string('chassis_name')));
    if (!gc) fail(`chassis ${chassis} is not added to logical port ${ctx.argv[1]}`);
    if (lrp.get('gateway_chassis').length === 1) ctx.txn.write(lrp, 'gateway_chassis', []);
    else delRef(ctx, lrp, 'gateway_chassis', gc.uuid);
    ctx.txn.delete(gc);
  },
};

const lrpGetGatewayChassis: CommandSpec = {
  name: 'lrp-get-gateway-chassis',
  minArgs: 1,
  maxArgs: 1,
  args: 'PORT',
  options: '',
  mode: 'RO',
  pre: needGateways,
  run(ctx) {
    const lrp = byNameOrUuid(ctx, LRP, ctx.argv[1]!, true);
    const gcs = refs(ctx, lrp, 'gateway_chassis', 'Gateway_Chassis').sort((a, b) => {
      const d = Number(b.scalar('priority')) - Number(a.scalar('priority'));
      return d || cmpStr(b.string('name'), a.string('name'));
    });
    for (const gc of gcs) ctx.output += `${gc.string('name')} ${String(gc.scalar('priority') ?? 0).padStart(5)}\n`;
  },
};

const needDhcp = (ctx: PreContext): void => {
  ctx.need('DHCP_Options');
  ctx.need('Logical_Switch_Port');
};

/** dhcp_options_get: by UUID only. */
function dhcpOptions(ctx: CommandContext, id: string, mustExist: boolean): ViewRow | undefined {
  const uuid = parseUuid(id);
  const row = uuid !== undefined ? ctx.txn.get('DHCP_Options', uuid) : undefined;
  if (!row && mustExist) fail(`${id}: dhcp options UUID not found`);
  return row;
}

const isCidr = (s: string): boolean => parseIpv4Cidr(s) !== undefined || parseIpv6Cidr(s) !== undefined;

const dhcpCreate: CommandSpec = {
  name: 'dhcp-options-create',
  minArgs: 1,
  maxArgs: Infinity,
  args: 'CIDR [EXTERNAL:IDS]',
  options: '',
  mode: 'RW',
  pre: needDhcp,
  run(ctx) {
    const cidr = ctx.argv[1]!;
    if (!isCidr(cidr)) fail(`Invalid cidr format '${cidr}'`);
    const row = ctx.txn.insert(ctx.schema.tables.get('DHCP_Options')!);
    ctx.txn.write(row, 'cidr', [cidr]);
    ctx.txn.write(row, 'external_ids', keyValues(ctx.argv.slice(2)));
  },
};

const dhcpDel: CommandSpec = {
  name: 'dhcp-options-del',
  minArgs: 1,
  maxArgs: 1,
  args: 'DHCP_OPT_UUID',
  options: '',
  mode: 'RW',
  pre: needDhcp,
  run(ctx) {
    const row = dhcpOptions(ctx, ctx.argv[1]!, !ctx.options.has('--if-exists'));
    if (row) ctx.txn.delete(row);
  },
};

const dhcpList: CommandSpec = {
  name: 'dhcp-options-list',
  minArgs: 0,
  maxArgs: 0,
  args: '',
  options: '',
  mode: 'RO',
  pre: needDhcp,
  run(ctx) {
    const rows = ctx.txn.rows('DHCP_Options').sort((a, b) => cmpStr(a.string('cidr'), b.string('cidr')) || cmpStr(a.uuid, b.uuid));
    for (const r of rows) ctx.output += `${r.uuid}\n`;
  },
};

const dhcpSetOptions: CommandSpec = {
  name: 'dhcp-options-set-options',
  minArgs: 1,
  maxArgs: Infinity,
  args: 'DHCP_OPT_UUID KEY=VALUE [KEY=VALUE]...',
  options: '',
  mode: 'RW',
  pre: needDhcp,
  run(ctx) {
    const row = dhcpOptions(ctx, ctx.argv[1]!, true)!;
    ctx.txn.write(row, 'options', keyValues(ctx.argv.slice(2)));
  },
};

const dhcpGetOptions: CommandSpec = {
  name: 'dhcp-options-get-options',
  minArgs: 1,
  maxArgs: 1,
  args: 'DHCP_OPT_UUID',
  options: '',
  mode: 'RO',
  pre: needDhcp,
  run(ctx) {
    const row = dhcpOptions(ctx, ctx.argv[1]!, true)!;
    for (const [k, v] of row.map('options')) ctx.output += `${k}=${v}\n`;
  },
};

function lspDhcp(version: 4 | 6): CommandSpec[] {
  const column = `dhcpv${version}_options`;
  const set: CommandSpec = {
    name: `lsp-set-dhcpv${version}-options`,
    minArgs: 1,
    maxArgs: 2,
    args: 'PORT [DHCP_OPT_UUID]',
    options: '',
    mode: 'RW',
    pre: needDhcp,
    run(ctx) {
      const lsp = byNameOrUuid(ctx, LSP, ctx.argv[1]!, true);
      const opts = ctx.argv.length === 3 ? dhcpOptions(ctx, ctx.argv[2]!, true) : undefined;
      if (opts) {
        const cidr = opts.string('cidr');
        const ok = version === 4 ? parseIpv4Cidr(cidr) !== undefined : parseIpv6Cidr(cidr) !== undefined;
        if (!ok) fail(`DHCP options cidr '${cidr}' is not IPv${version}`);
      }
      ctx.txn.write(lsp, column, opts ? [opts.uuid] : []);
    },
  };
  const get: CommandSpec = {
    name: `lsp-get-dhcpv${version}-options`,
    minArgs: 1,
    maxArgs: 1,
    args: 'PORT',
    options: '',
    mode: 'RO',
    pre: needDhcp,
    run(ctx) {
      const lsp = byNameOrUuid(ctx, LSP, ctx.argv[1]!, true);
      const u = lsp.scalar(column);
      const opts = u === undefined ? undefined : ctx.txn.get('DHCP_Options', String(u));
      if (opts) ctx.output += `${opts.uuid} (${opts.string('cidr')})\n`;
    },
  };
  return [set, get];
}

export const GATEWAY_DHCP_COMMANDS: readonly CommandSpec[] = [
  lrpSetGatewayChassis,
  lrpDelGatewayChassis,
  lrpGetGatewayChassis,
  dhcpCreate,
  dhcpDel,
  dhcpList,
  dhcpSetOptions,
  dhcpGetOptions,
  ...lspDhcp(4),
  ...lspDhcp(6),
];
