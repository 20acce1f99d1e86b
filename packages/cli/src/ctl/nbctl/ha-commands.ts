/** ovn-nbctl's HA chassis group commands: ha-chassis-group-add/-del/-list/-add-chassis/-remove-chassis. */
import type { ViewRow } from '../db-txn.js';
import { parseUuid } from '../datum-text.js';
import { fail } from '../errors.js';
import type { CommandContext, CommandSpec, PreContext } from '../tool.js';
import { addRef, cmpStr, delRef, refs, scanInt64 } from './nb-util.js';

const GROUP = 'HA_Chassis_Group';
const CHASSIS = 'HA_Chassis';

const need = (ctx: PreContext): void => {
  ctx.need(GROUP);
  ctx.need(CHASSIS);
};

/** A group by UUID or name; ovn-nbctl's own wording (and spelling) when it is missing. */
function group(ctx: CommandContext, id: string): ViewRow {
  const uuid = parseUuid(id);
  const row = (uuid !== undefined ? ctx.txn.get(GROUP, uuid) : undefined) ?? ctx.txn.rows(GROUP).find((g) => g.string('name') === id);
  if (!row) fail(`${id}: ha_chassi_group name not found`);
  return row;
}

const spec = (name: string, minArgs: number, maxArgs: number, args: string, mode: 'RO' | 'RW', run: (ctx: CommandContext) => void): CommandSpec => ({
  name, minArgs, maxArgs, args, options: '', mode, pre: need, run,
});

const add = spec('ha-chassis-group-add', 1, 1, 'GRP', 'RW', (ctx) => {
  const g = ctx.txn.insert(ctx.schema.tables.get(GROUP)!);
  ctx.txn.write(g, 'name', [ctx.argv[1]!]);
});

const del = spec('ha-chassis-group-del', 1, 1, 'GRP', 'RW', (ctx) => {
  ctx.txn.delete(group(ctx, ctx.argv[1]!));
});

const list = spec('ha-chassis-group-list', 0, 0, '', 'RO', (ctx) => {
  for (const g of [...ctx.txn.rows(GROUP)].sort((a, b) => cmpStr(a.uuid, b.uuid))) {
    ctx.output += `${g.uuid} (${g.string('name')})\n`;
    for (const c of refs(ctx, g, 'ha_chassis', CHASSIS).sort((a, b) => cmpStr(a.uuid, b.uuid))) {
      ctx.output += `    ${c.uuid} (${c.string('chassis_name')})\n    priority ${String(c.scalar('priority') ?? 0)}\n\n`;
    }
    ctx.output += '\n';
  }
});

const addChassis = spec('ha-chassis-group-add-chassis', 3, 3, 'GRP CHASSIS PRIORITY', 'RW', (ctx) => {
  const g = group(ctx, ctx.argv[1]!);
  const name = ctx.argv[2]!;
  const priority = scanInt64(ctx.argv[3]!);
  if (priority === undefined || priority < 0 || priority > 32767) fail(`${ctx.argv[3]!}: priority must in range 0...32767`);
  const existing = refs(ctx, g, 'ha_chassis', CHASSIS).find((c) => c.string('chassis_name') === name);
  if (existing) {
    ctx.txn.write(existing, 'priority', [priority]);
    return;
  }
  const c = ctx.txn.insert(ctx.schema.tables.get(CHASSIS)!);
  ctx.txn.write(c, 'chassis_name', [name]);
  ctx.txn.write(c, 'priority', [priority]);
  addRef(ctx, g, 'ha_chassis', c.uuid);
});

const removeChassis = spec('ha-chassis-group-remove-chassis', 2, 2, 'GRP CHASSIS', 'RW', (ctx) => {
  const g = group(ctx, ctx.argv[1]!);
  const name = ctx.argv[2]!;
  const c = refs(ctx, g, 'ha_chassis', CHASSIS).find((x) => x.string('chassis_name') === name);
  if (!c) fail(`${name}: ha chassis not found in ${ctx.argv[1]!} ha chassis group`);
  delRef(ctx, g, 'ha_chassis', c.uuid);
});

export const HA_COMMANDS: readonly CommandSpec[] = [add, del, list, addChassis, removeChassis];
