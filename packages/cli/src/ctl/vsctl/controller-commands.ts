/** ovs-vsctl's controller, fail-mode and manager commands. */
import type { Atom } from '../ovsdb.js';
import type { ViewRow } from '../db-txn.js';
import { fail } from '../errors.js';
import type { CommandContext, CommandSpec, PreContext } from '../tool.js';
import { needInfo, sorted } from './bridge-commands.js';
import { refsOf, VsCache } from './cache.js';

const ACTIVE = /^(tcp|ssl|unix):./;
const PASSIVE = /^(ptcp|pssl|punix):./;

function needControllers(ctx: PreContext): void {
  needInfo(ctx);
  ctx.need('Controller');
}

function needManagers(ctx: PreContext): void {
  ctx.need('Open_vSwitch');
  ctx.need('Manager');
}

function targetRows(ctx: CommandContext, table: 'Controller' | 'Manager', targets: readonly string[]): string[] {
  const probe = ctx.options.get('--inactivity-probe');
  return targets.map((target) => {
    if (!ACTIVE.test(target) && !PASSIVE.test(target)) ctx.log.warn('vsctl', `target type "${target}" is possibly erroneous`);
    const r = ctx.txn.insert(ctx.schema.tables.get(table)!);
    ctx.txn.write(r, 'target', [target]);
    if (probe !== undefined && probe !== null) ctx.txn.write(r, 'inactivity_probe', [parseInt(probe, 10) || 0]);
    return r.uuid;
  });
}

/** The bridge whose controllers a (possibly fake) bridge uses, with its controllers verified. */
function controllerBridge(ctx: CommandContext, name: string, real: boolean): ViewRow {
  const cache = VsCache.get(ctx);
  const br = real ? cache.findRealBridge(name, true)! : cache.findBridge(name, true)!;
  const row = (br.parent ?? br).row!;
  ctx.txn.verify(row, 'controller');
  for (const c of refsOf(ctx.txn, row, 'controller', 'Controller')) ctx.txn.verify(c, 'target');
  return row;
}

function deleteRefs(ctx: CommandContext, row: ViewRow, column: string, table: string): void {
  for (const r of refsOf(ctx.txn, row, column, table)) ctx.txn.delete(r);
}

const targets = (ctx: CommandContext, row: ViewRow, column: string, table: string): string => sorted(refsOf(ctx.txn, row, column, table).map((r) => r.string('target')));

export const CONTROLLER_COMMANDS: readonly CommandSpec[] = [
  {
    name: 'get-controller',
    minArgs: 1,
    maxArgs: 1,
    args: 'BRIDGE',
    options: '',
    mode: 'RO',
    pre: needControllers,
    run(ctx) {
      const row = controllerBridge(ctx, ctx.argv[1]!, false);
      ctx.output += targets(ctx, row, 'controller', 'Controller');
    },
  },
  {
    name: 'del-controller',
    minArgs: 1,
    maxArgs: 1,
    args: 'BRIDGE',
    options: '',
    mode: 'RW',
    pre: needControllers,
    run(ctx) {
      const row = controllerBridge(ctx, ctx.argv[1]!, true);
      if ((row.get('controller') as readonly Atom[]).length === 0) return;
      deleteRefs(ctx, row, 'controller', 'Controller');
      ctx.txn.write(row, 'controller', []);
    },
  },
  {
    name: 'set-controller',
    minArgs: 2,
    maxArgs: Infinity,
    args: 'BRIDGE TARGET...',
    options: '--inactivity-probe=',
    mode: 'RW',
    pre: needControllers,
    run(ctx) {
      const row = controllerBridge(ctx, ctx.argv[1]!, true);
      deleteRefs(ctx, row, 'controller', 'Controller');
      ctx.txn.write(row, 'controller', targetRows(ctx, 'Controller', ctx.argv.slice(2)).sort());
    },
  },
  {
    name: 'get-fail-mode',
    minArgs: 1,
    maxArgs: 1,
    args: 'BRIDGE',
    options: '',
    mode: 'RO',
    pre: needInfo,
    run(ctx) {
      const br = VsCache.get(ctx).findBridge(ctx.argv[1]!, true)!;
      const row = (br.parent ?? br).row!;
      ctx.txn.verify(row, 'fail_mode');
      const mode = row.scalar('fail_mode');
      if (mode) ctx.output += `${String(mode)}\n`;
    },
  },
  {
    name: 'del-fail-mode',
    minArgs: 1,
    maxArgs: 1,
    args: 'BRIDGE',
    options: '',
    mode: 'RW',
    pre: needInfo,
    run(ctx) {
      ctx.txn.write(VsCache.get(ctx).findRealBridge(ctx.argv[1]!, true)!.row!, 'fail_mode', []);
    },
  },
  {
    name: 'set-fail-mode',
    minArgs: 2,
    maxArgs: 2,
    args: 'BRIDGE MODE',
    options: '',
    mode: 'RW',
    pre: needInfo,
    run(ctx) {
      const br = VsCache.get(ctx).findRealBridge(ctx.argv[1]!, true)!;
      const mode = ctx.argv[2]!;
      if (mode !== 'standalone' && mode !== 'secure') fail('fail-mode must be "standalone" or "secure"');
      ctx.txn.write(br.row!, 'fail_mode', [mode]);
    },
  },
  {
    name: 'get-manager',
    minArgs: 0,
    maxArgs: 0,
    args: '',
    options: '',
    mode: 'RO',
    pre: needManagers,
    run(ctx) {
      const ovs = VsCache.get(ctx).ovs;
      ctx.txn.verify(ovs, 'manager_options');
      ctx.output += targets(ctx, ovs, 'manager_options', 'Manager');
    },
  },
  {
    name: 'del-manager',
    minArgs: 0,
    maxArgs: 0,
    args: '',
    options: '',
    mode: 'RW',
    pre: needManagers,
    run(ctx) {
      const ovs = VsCache.get(ctx).ovs;
      ctx.txn.verify(ovs, 'manager_options');
      deleteRefs(ctx, ovs, 'manager_options', 'Manager');
      ctx.txn.write(ovs, 'manager_options', []);
    },
  },
  {
    name: 'set-manager',
    minArgs: 1,
    maxArgs: Infinity,
    args: 'TARGET...',
    options: '--inactivity-probe=',
    mode: 'RW',
    pre: needManagers,
    run(ctx) {
      const ovs = VsCache.get(ctx).ovs;
      ctx.txn.verify(ovs, 'manager_options');
      deleteRefs(ctx, ovs, 'manager_options', 'Manager');
      ctx.txn.write(ovs, 'manager_options', targetRows(ctx, 'Manager', ctx.argv.slice(1)).sort());
    },
  },
];
