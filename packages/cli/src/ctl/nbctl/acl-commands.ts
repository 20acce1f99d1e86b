/** ovn-nbctl's ACL commands (acl-add, acl-del, acl-list) and port group commands (pg-add, pg-set-ports, pg-del). */
import type { ViewRow } from '../db-txn.js';
import { fail } from '../errors.js';
import type { CommandContext, CommandSpec, PreContext } from '../tool.js';
import { byNameOrUuid, LS, LSP } from './lookup.js';
import { addRef, cmpStr, delRef, parseDirection, parsePriority, PG, refs, scanInt64 } from './nb-util.js';

function needAcls(ctx: PreContext): void {
  for (const t of ['Port_Group', 'Logical_Switch', 'Logical_Switch_Port', 'ACL']) ctx.need(t);
}

/** The switch or port group an ACL command names (acl_cmd_get_pg_or_ls). */
function pgOrLs(ctx: CommandContext): ViewRow {
  const id = ctx.argv[1]!;
  const type = ctx.options.get('--type') ?? undefined;
  if (type === undefined) {
    const pg = byNameOrUuid(ctx, PG, id, false);
    const ls = byNameOrUuid(ctx, LS, id, false);
    if (pg && ls) fail(`Same name '${id}' exists in both port-groups and logical switches. Specify --type=port-group or switch, or use a UUID.`);
    if (!pg && !ls) fail(`'${id}' is not found for port-group or switch.`);
    return (pg ?? ls)!;
  }
  if (type === 'port-group') return byNameOrUuid(ctx, PG, id, true);
  if (type === 'switch') return byNameOrUuid(ctx, LS, id, true);
  fail(`Invalid value '${type}' for option --type`);
}

const afterLb = (acl: ViewRow): boolean => acl.map('options').get('apply-after-lb') === 'true';

interface AclKey {
  readonly direction: string;
  readonly afterLb: boolean;
  readonly priority: number;
  readonly match: string;
}

const keyOf = (acl: ViewRow): AclKey => ({
  direction: acl.string('direction'),
  afterLb: afterLb(acl),
  priority: Number(acl.scalar('priority') ?? 0),
  match: acl.string('match'),
});

/** acl_cmp: from-lport first, then ACLs applied before load balancing, higher priority first, then match. */
function aclCmp(a: AclKey, b: AclKey): number {
  if (a.direction !== b.direction) return a.direction === 'from-lport' ? -1 : 1;
  if (a.afterLb !== b.afterLb) return a.afterLb ? 1 : -1;
  if (a.priority !== b.priority) return a.priority > b.priority ? -1 : 1;
  return cmpStr(a.match, b.match);
}

const LOG_SEVERITIES = new Set(['alert', 'warning', 'notice', 'info', 'debug']);
const ACL_ACTIONS = new Set(['allow', 'allow-related', 'allow-stateless', 'drop', 'reject']);

const aclAdd: CommandSpec = {
  name: 'acl-add',
  minArgs: 5,
  maxArgs: 6,
  args: '{SWITCH | PORTGROUP} DIRECTION PRIORITY MATCH ACTION',
  options: '--log,--may-exist,--type=,--name=,--severity=,--meter=,--label=,--apply-after-lb',
  mode: 'RW',
  pre: needAcls,
  run(ctx) {
    const owner = pgOrLs(ctx);
    const direction = parseDirection(ctx.argv[2]!);
    const priority = parsePriority(ctx.argv[3]!);
    const match = ctx.argv[4]!;
    const action = ctx.argv[5]!;
    if (!ACL_ACTIONS.has(action)) fail(`${action}: action must be one of "allow", "allow-related", "allow-stateless", "drop", and "reject"`);
    const opt = (name: string): string | undefined => ctx.options.get(name) ?? undefined;
    const severity = opt('--severity');
    const name = opt('--name');
    const meter = opt('--meter');
    const log = ctx.options.has('--log') || severity !== undefined || name !== undefined || meter !== undefined;
    if (severity !== undefined && !LOG_SEVERITIES.has(severity)) fail(`bad severity: ${severity}`);
    const labelArg = opt('--label');
    let label: number | undefined;
    if (labelArg !== undefined) {
      if (action !== 'allow' && action !== 'allow-related') fail('label can only be set with actions "allow" or "allow-related"');
      label = scanInt64(labelArg);
      if (label === undefined || label < 0 || label > 4294967295) fail(`${labelArg}: label must in range 0...4294967295`);
    }
    const isAfterLb = direction === 'from-lport' && ctx.options.has('--apply-after-lb');
    const key: AclKey = { direction, afterLb: isAfterLb, priority, match };
    if (refs(ctx, owner, 'acls', 'ACL').some((a) => aclCmp(keyOf(a), key) === 0)) {
      if (!ctx.options.has('--may-exist')) fail(`Same ACL already existed on the ls ${ctx.argv[1]}.`);
      return;
    }
    const acl = ctx.txn.insert(ctx.schema.tables.get('ACL')!);
    ctx.txn.write(acl, 'priority', [priority]);
    ctx.txn.write(acl, 'direction', [direction]);
    ctx.txn.write(acl, 'match', [match]);
    ctx.txn.write(acl, 'action', [action]);
    if (log) ctx.txn.write(acl, 'log', [true]);
    if (severity !== undefined) ctx.txn.write(acl, 'severity', [severity]);
    if (name !== undefined) ctx.txn.write(acl, 'name', [name]);
    if (meter !== undefined) ctx.txn.write(acl, 'meter', [meter]);
    if (label !== undefined) ctx.txn.write(acl, 'label', [label]);
    if (isAfterLb) ctx.txn.write(acl, 'options', [['apply-after-lb', 'true']]);
    addRef(ctx, owner, 'acls', acl.uuid);
  },
};

const aclDel: CommandSpec = {
  name: 'acl-del',
  minArgs: 1,
  maxArgs: 4,
  args: '{SWITCH | PORTGROUP} [DIRECTION [PRIORITY MATCH]]',
  options: '--type=',
  mode: 'RW',
  pre: needAcls,
  run(ctx) {
    const owner = pgOrLs(ctx);
    if (ctx.argv.length === 2) {
      ctx.txn.verify(owner, 'acls');
      ctx.txn.write(owner, 'acls', []);
      return;
    }
    const direction = parseDirection(ctx.argv[2]!);
    const acls = refs(ctx, owner, 'acls', 'ACL');
    if (ctx.argv.length === 3) {
      for (const a of acls) if (a.string('direction') === direction) delRef(ctx, owner, 'acls', a.uuid);
      return;
    }
    const priority = parsePriority(ctx.argv[3]!);
    if (ctx.argv.length === 4) fail('cannot specify priority without match');
    const hit = acls.find((a) => Number(a.scalar('priority')) === priority && a.string('match') === ctx.argv[4] && a.string('direction') === direction);
    if (hit) delRef(ctx, owner, 'acls', hit.uuid);
  },
};

const aclList: CommandSpec = {
  name: 'acl-list',
  minArgs: 1,
  maxArgs: 1,
  args: '{SWITCH | PORTGROUP}',
  options: '--type=',
  mode: 'RO',
  pre: needAcls,
  run(ctx) {
    const owner = pgOrLs(ctx);
    const acls = refs(ctx, owner, 'acls', 'ACL').sort((a, b) => aclCmp(keyOf(a), keyOf(b)) || cmpStr(a.uuid, b.uuid));
    for (const acl of acls) {
      let s = `${acl.string('direction').padStart(10)} ${String(acl.scalar('priority') ?? 0).padStart(5)} (${acl.string('match')}) ${acl.string('action')}`;
      if (acl.scalar('log') === true) {
        const parts: string[] = [];
        const name = acl.scalar('name');
        const severity = acl.scalar('severity');
        const meter = acl.scalar('meter');
        if (name !== undefined) parts.push(`name=${String(name)}`);
        if (severity !== undefined) parts.push(`severity=${String(severity)}`);
        if (meter !== undefined) parts.push(`meter="${String(meter)}"`);
        s += ` log(${parts.join(',')})`;
      }
      const label = Number(acl.scalar('label') ?? 0);
      if (label) s += ` label=${label}`;
      if (afterLb(acl)) s += ' [after-lb]';
      ctx.output += `${s}\n`;
    }
  },
};

/** set_ports_on_pg: every port must exist. */
function setPorts(ctx: CommandContext, pg: ViewRow, names: readonly string[]): void {
  const ports = names.map((n) => byNameOrUuid(ctx, LSP, n, true).uuid);
  ctx.txn.write(pg, 'ports', [...new Set(ports)].sort());
}

const needPgs = (ctx: PreContext): void => {
  ctx.need('Port_Group');
  ctx.need('Logical_Switch_Port');
};

const pgAdd: CommandSpec = {
  name: 'pg-add',
  minArgs: 1,
  maxArgs: Infinity,
  args: '',
  options: '',
  mode: 'RW',
  pre: needPgs,
  run(ctx) {
    const pg = ctx.txn.insert(ctx.schema.tables.get('Port_Group')!);
    ctx.txn.write(pg, 'name', [ctx.argv[1]!]);
    if (ctx.argv.length > 2) setPorts(ctx, pg, ctx.argv.slice(2));
  },
};

const pgSetPorts: CommandSpec = {
  name: 'pg-set-ports',
  minArgs: 2,
  maxArgs: Infinity,
  args: '',
  options: '',
  mode: 'RW',
  pre: needPgs,
  run(ctx) {
    setPorts(ctx, byNameOrUuid(ctx, PG, ctx.argv[1]!, true), ctx.argv.slice(2));
  },
};

const pgDel: CommandSpec = {
  name: 'pg-del',
  minArgs: 1,
  maxArgs: 1,
  args: '',
  options: '',
  mode: 'RW',
  pre: needPgs,
  run(ctx) {
    ctx.txn.delete(byNameOrUuid(ctx, PG, ctx.argv[1]!, true));
  },
};

export const ACL_COMMANDS: readonly CommandSpec[] = [aclAdd, aclDel, aclList, pgAdd, pgSetPorts, pgDel];
