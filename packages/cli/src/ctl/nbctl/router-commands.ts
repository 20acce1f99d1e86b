/** ovn-nbctl's logical router commands. */
import type { CommandSpec, PreContext } from '../tool.js';
import { byNameOrUuid, LR } from './lookup.js';
import { addNamed, sortedByName } from './switch-commands.js';

const needRouters = (ctx: PreContext): void => {
  ctx.need('Logical_Router');
  ctx.need('Logical_Router_Port');
};

const lrAdd: CommandSpec = {
  name: 'lr-add',
  minArgs: 0,
  maxArgs: 1,
  args: '[ROUTER]',
  options: '--may-exist,--add-duplicate',
  mode: 'RW',
  pre: needRouters,
  run: (ctx) => addNamed(ctx, 'Logical_Router', 'router'),
};

const lrDel: CommandSpec = {
  name: 'lr-del',
  minArgs: 1,
  maxArgs: 1,
  args: 'ROUTER',
  options: '--if-exists',
  mode: 'RW',
  pre: needRouters,
  run(ctx) {
    const lr = byNameOrUuid(ctx, LR, ctx.argv[1]!, !ctx.options.has('--if-exists'));
    if (lr) ctx.txn.delete(lr);
  },
};

const lrList: CommandSpec = {
  name: 'lr-list',
  minArgs: 0,
  maxArgs: 0,
  args: '',
  options: '',
  mode: 'RO',
  pre: (ctx) => ctx.need('Logical_Router'),
  run(ctx) {
    ctx.output += sortedByName(ctx.txn.rows('Logical_Router'));
  },
};

export const ROUTER_COMMANDS: readonly CommandSpec[] = [lrAdd, lrDel, lrList];
