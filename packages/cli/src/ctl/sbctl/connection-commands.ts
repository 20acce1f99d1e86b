/** ovn-sbctl get-connection, set-connection, del-connection and ip-multicast-flush. */
import type { Atom } from '../ovsdb.js';
import type { ViewRow } from '../db-txn.js';
import { fail } from '../errors.js';
import { getRow } from '../rows.js';
import type { CommandContext, CommandSpec, PreContext } from '../tool.js';

const ACTIVE = /^(tcp|ssl|unix):./;
const PASSIVE = /^(ptcp|pssl|punix):./;

function needConnections(ctx: PreContext): void {
  ctx.need('SB_Global');
  ctx.need('Connection');
}

function global(ctx: CommandContext): ViewRow {
  const g = ctx.txn.first('SB_Global');
  if (!g) fail('no SB_Global record');
  ctx.txn.verify(g, 'connections');
  return g;
}

function connections(ctx: CommandContext, g: ViewRow): ViewRow[] {
  return (g.get('connections') as readonly Atom[]).map((u) => ctx.txn.get('Connection', u as string)).filter((r): r is ViewRow => r !== undefined);
}

function deleteConnections(ctx: CommandContext, g: ViewRow): void {
  for (const c of connections(ctx, g)) ctx.txn.delete(c);
  ctx.txn.write(g, 'connections', []);
}

export const CONNECTION_COMMANDS: readonly CommandSpec[] = [
  {
    name: 'get-connection',
    minArgs: 0,
    maxArgs: 0,
    args: '',
    options: '',
    mode: 'RO',
    pre: needConnections,
    run(ctx) {
      const lines = connections(ctx, global(ctx)).map((c) => {
        ctx.txn.verify(c, 'target');
        return `${c.scalar('read_only') === true ? 'read-only' : 'read-write'} role="${c.string('role')}" ${c.string('target')}`;
      });
      ctx.output += lines
        .sort()
        .map((l) => `${l}\n`)
        .join('');
    },
  },
  {
    name: 'del-connection',
    minArgs: 0,
    maxArgs: 0,
    args: '',
    options: '',
    mode: 'RW',
    pre: needConnections,
    run(ctx) {
      deleteConnections(ctx, global(ctx));
    },
  },
  {
    name: 'set-connection',
    minArgs: 1,
    maxArgs: Infinity,
    args: 'TARGET...',
    options: '--inactivity-probe=',
    mode: 'RW',
    pre: needConnections,
    run(ctx) {
      const g = global(ctx);
      deleteConnections(ctx, g);
      const probe = ctx.options.get('--inactivity-probe');
      const rows = ctx.argv.slice(1).map((target) => {
        if (!ACTIVE.test(target) && !PASSIVE.test(target)) ctx.log.warn('sbctl', `target type "${target}" is possibly erroneous`);
        const c = ctx.txn.insert(ctx.schema.tables.get('Connection')!);
        ctx.txn.write(c, 'target', [target]);
        if (probe !== undefined && probe !== null) ctx.txn.write(c, 'inactivity_probe', [parseInt(probe, 10) || 0]);
        return c.uuid;
      });
      ctx.txn.write(g, 'connections', rows.sort());
    },
  },
  {
    name: 'ip-multicast-flush',
    minArgs: 0,
    maxArgs: 1,
    args: 'SWITCH',
    options: '',
    mode: 'RW',
    pre(ctx) {
      ctx.need('Datapath_Binding');
      ctx.need('IP_Multicast');
    },
    run(ctx) {
      // Without an argument, every switch's multicast state is flushed.
      const name = ctx.argv[1];
      let dp: ViewRow | undefined;
      if (name !== undefined) {
        dp = getRow(ctx.txn, ctx.tool, ctx.schema.tables.get('Datapath_Binding')!, name, false);
        if (!dp) fail(`${name} is not a valid datapath`);
      }
      for (const m of ctx.txn.rows('IP_Multicast')) {
        if (dp && m.scalar('datapath') !== dp.uuid) continue;
        ctx.txn.write(m, 'seq_no', [Number(m.scalar('seq_no') ?? 0) + 1]);
      }
    },
  },
];
