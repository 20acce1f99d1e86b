/** ovn-nbctl's getters and setters of logical switch port properties. */
import type { Atom } from '../ovsdb.js';
import type { ViewRow } from '../db-txn.js';
import { fail } from '../errors.js';
import type { CommandContext, CommandSpec, PreContext } from '../tool.js';
import { byNameOrUuid, LSP } from './lookup.js';

const KNOWN_LSP_TYPES = new Set(['', 'l2gateway', 'localnet', 'localport', 'router', 'vtep', 'external', 'virtual', 'remote']);

function needPorts(ctx: PreContext): void {
  ctx.need('Logical_Switch');
  ctx.need('Logical_Switch_Port');
}

function port(ctx: CommandContext): ViewRow {
  return byNameOrUuid(ctx, LSP, ctx.argv[1]!, true);
}

function portCommand(name: string, args: string, mode: 'RO' | 'RW', run: (ctx: CommandContext, lsp: ViewRow) => void, maxArgs?: number, minArgs?: number): CommandSpec {
  const words = args.split(' ').filter((w) => !w.startsWith('['));
  return {
    name,
    minArgs: minArgs ?? words.length,
    maxArgs: maxArgs ?? words.length,
    args,
    options: '',
    mode,
    pre: needPorts,
    run: (ctx) => run(ctx, port(ctx)),
  };
}

const sortedLines = (items: readonly Atom[]): string => items.map(String).sort().map((s) => `${s}\n`).join('');

/** KEY=VALUE arguments as a map datum; arguments without "=" are ignored, as ovn-nbctl does. */
function keyValues(args: readonly string[]): [string, string][] {
  const m = new Map<string, string>();
  for (const a of args) {
    const i = a.indexOf('=');
    if (i >= 0 && !m.has(a.slice(0, i))) m.set(a.slice(0, i), a.slice(i + 1));
  }
  return [...m].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
}

export const PORT_COMMANDS: readonly CommandSpec[] = [
  portCommand('lsp-set-type', 'PORT TYPE', 'RW', (ctx, lsp) => {
    const type = ctx.argv[2]!;
    if (!KNOWN_LSP_TYPES.has(type)) fail(`Logical switch port type '${type}' is unrecognized. Not setting type.`);
    ctx.txn.write(lsp, 'type', [type]);
  }),
  portCommand('lsp-get-type', 'PORT', 'RO', (ctx, lsp) => {
    ctx.output += `${lsp.string('type')}\n`;
  }),
  portCommand(
    'lsp-set-options',
    'PORT KEY=VALUE [KEY=VALUE]...',
    'RW',
    (ctx, lsp) => {
      ctx.txn.write(lsp, 'options', keyValues(ctx.argv.slice(2)));
    },
    Infinity,
    1,
  ),
  portCommand('lsp-get-options', 'PORT', 'RO', (ctx, lsp) => {
    for (const [k, v] of lsp.map('options')) ctx.output += `${k}=${v}\n`;
  }),
  portCommand('lsp-set-enabled', 'PORT STATE', 'RW', (ctx, lsp) => {
    const state = ctx.argv[2]!;
    const s = state.toLowerCase();
    if (s !== 'enabled' && s !== 'disabled') fail(`${state}: state must be "enabled" or "disabled"`);
    ctx.txn.write(lsp, 'enabled', [s === 'enabled']);
  }),
  portCommand('lsp-get-enabled', 'PORT', 'RO', (ctx, lsp) => {
    ctx.output += `${lsp.scalar('enabled') === false ? 'disabled' : 'enabled'}\n`;
  }),
  portCommand('lsp-get-up', 'PORT', 'RO', (ctx, lsp) => {
    ctx.output += `${lsp.scalar('up') === true ? 'up' : 'down'}\n`;
  }),
  portCommand(
    'lsp-set-port-security',
    'PORT [ADDRS]...',
    'RW',
    (ctx, lsp) => {
      ctx.txn.write(lsp, 'port_security', [...new Set(ctx.argv.slice(2))].sort());
    },
    Infinity,
  ),
  portCommand('lsp-get-port-security', 'PORT', 'RO', (ctx, lsp) => {
    ctx.output += sortedLines(lsp.get('port_security') as readonly Atom[]);
  }),
  portCommand('lsp-get-parent', 'PORT', 'RO', (ctx, lsp) => {
    const p = lsp.scalar('parent_name');
    if (p !== undefined) ctx.output += `${String(p)}\n`;
  }),
  portCommand('lsp-get-tag', 'PORT', 'RO', (ctx, lsp) => {
    const tag = lsp.scalar('tag');
    if (tag !== undefined) ctx.output += `${String(tag)}\n`;
  }),
  portCommand('lsp-get-ls', 'PORT', 'RO', (ctx, lsp) => {
    for (const ls of ctx.txn.rows('Logical_Switch')) {
      if ((ls.get('ports') as readonly Atom[]).includes(lsp.uuid)) ctx.output += `${ls.uuid} (${ls.string('name')})\n`;
    }
  }),
];
