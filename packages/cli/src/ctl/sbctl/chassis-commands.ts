/** ovn-sbctl chassis-add and chassis-del. */
import type { Atom } from '../ovsdb.js';
import type { ViewRow } from '../db-txn.js';
import { fail } from '../errors.js';
import type { CommandContext, CommandSpec, PreContext } from '../tool.js';

function needChassis(ctx: PreContext): void {
  ctx.need('Chassis');
  ctx.need('Encap');
}

function findChassis(ctx: CommandContext, name: string, mustExist: boolean): ViewRow | undefined {
  const ch = ctx.txn.rows('Chassis').find((r) => r.string('name') === name);
  if (!ch && mustExist) fail(`no chassis named ${name}`);
  return ch;
}

const chassisAdd: CommandSpec = {
  name: 'chassis-add',
  minArgs: 3,
  maxArgs: 3,
  args: 'CHASSIS ENCAP-TYPE ENCAP-IP',
  options: '--may-exist',
  mode: 'RW',
  pre: needChassis,
  run(ctx) {
    const [, name, types, ip] = ctx.argv as [string, string, string, string];
    if (findChassis(ctx, name, false)) {
      if (ctx.options.has('--may-exist')) return;
      fail(`cannot create a chassis named ${name} because a chassis named ${name} already exists`);
    }
    const encapTable = ctx.schema.tables.get('Encap')!;
    const encaps: string[] = [];
    for (const type of [...new Set(types.split(',').filter(Boolean))].sort()) {
      const e = ctx.txn.insert(encapTable);
      ctx.txn.write(e, 'type', [type]);
      ctx.txn.write(e, 'ip', [ip]);
      ctx.txn.write(e, 'options', [['csum', 'true']]);
      ctx.txn.write(e, 'chassis_name', [name]);
      encaps.push(e.uuid);
    }
    const ch = ctx.txn.insert(ctx.schema.tables.get('Chassis')!);
    ctx.txn.write(ch, 'name', [name]);
    ctx.txn.write(ch, 'encaps', encaps.sort());
  },
};

const chassisDel: CommandSpec = {
  name: 'chassis-del',
  minArgs: 1,
  maxArgs: 1,
  args: 'CHASSIS',
  options: '--if-exists',
  mode: 'RW',
  pre: needChassis,
  run(ctx) {
    const ch = findChassis(ctx, ctx.argv[1]!, !ctx.options.has('--if-exists'));
    if (!ch) return;
    for (const u of ch.get('encaps') as readonly Atom[]) {
      const e = ctx.txn.get('Encap', u as string);
      if (e) ctx.txn.delete(e);
    }
    ctx.txn.delete(ch);
  },
};

function findBinding(ctx: CommandContext, name: string, mustExist: boolean): ViewRow | undefined {
  const pb = ctx.txn.rows('Port_Binding').find((r) => r.string('logical_port') === name);
  if (!pb && mustExist) fail(`no port named ${name}`);
  return pb;
}

const needBindings = (ctx: PreContext): void => {
  ctx.need('Chassis');
  ctx.need('Port_Binding');
};

const lspBind: CommandSpec = {
  name: 'lsp-bind',
  minArgs: 2,
  maxArgs: 2,
  args: 'PORT CHASSIS',
  options: '--may-exist',
  mode: 'RW',
  pre: needBindings,
  run(ctx) {
    const [, port, chassis] = ctx.argv as [string, string, string];
    const pb = findBinding(ctx, port, true)!;
    const ch = findChassis(ctx, chassis, true)!;
    const bound = pb.scalar('chassis');
    if (bound !== undefined) {
      if (!ctx.options.has('--may-exist') || bound !== ch.uuid) {
        const current = ctx.txn.get('Chassis', bound as string);
        fail(`lport (${port}) has already been binded to chassis (${current?.string('name') ?? ''})`);
      }
      return;
    }
    ctx.txn.write(pb, 'chassis', [ch.uuid]);
    ctx.txn.write(pb, 'up', [true]);
  },
};

const lspUnbind: CommandSpec = {
  name: 'lsp-unbind',
  minArgs: 1,
  maxArgs: 1,
  args: 'PORT',
  options: '--if-exists',
  mode: 'RW',
  pre: needBindings,
  run(ctx) {
    const pb = findBinding(ctx, ctx.argv[1]!, !ctx.options.has('--if-exists'));
    if (!pb) return;
    ctx.txn.write(pb, 'chassis', []);
    ctx.txn.write(pb, 'up', []);
  },
};

export const CHASSIS_COMMANDS: readonly CommandSpec[] = [chassisAdd, chassisDel, lspBind, lspUnbind];
