/** ovn-nbctl's logical switch and logical switch port commands. */
import type { Atom } from '../ovsdb.js';
import type { ViewRow } from '../db-txn.js';
import { fail } from '../errors.js';
import type { CommandContext, CommandSpec, PreContext } from '../tool.js';
import { duplicateIp, extractLspAddresses, isValidLspAddress } from './addresses.js';
import { byNameOrUuid, LS, LSP, lspToLs, switchName, switchOfPort } from './lookup.js';

const table = (ctx: CommandContext, name: string) => ctx.schema.tables.get(name)!;

function needSwitches(ctx: PreContext): void {
  ctx.need('Logical_Switch');
  ctx.need('Logical_Switch_Port');
}

/** Sorted "UUID (name)" lines, as ls-list, lr-list and lsp-list print them. */
export function sortedByName(rows: readonly ViewRow[]): string {
  return rows
    .map((r) => ({ name: r.string('name'), line: `${r.uuid} (${r.string('name')})\n` }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.line < b.line ? -1 : a.line > b.line ? 1 : 0))
    .map((x) => x.line)
    .join('');
}

/** ls-add and lr-add. */
export function addNamed(ctx: CommandContext, tableName: string, noun: string): void {
  const name = ctx.argv.length === 2 ? ctx.argv[1]! : undefined;
  const mayExist = ctx.options.has('--may-exist');
  const addDuplicate = ctx.options.has('--add-duplicate');
  if (mayExist && addDuplicate) fail('--may-exist and --add-duplicate may not be used together');
  if (name !== undefined) {
    if (!addDuplicate && ctx.txn.rows(tableName).some((r) => r.string('name') === name)) {
      if (mayExist) return;
      fail(`${name}: a ${noun} with this name already exists`);
    }
  } else if (mayExist) {
    fail('--may-exist requires specifying a name');
  } else if (addDuplicate) {
    fail('--add-duplicate requires specifying a name');
  }
  const row = ctx.txn.insert(table(ctx, tableName));
  if (name !== undefined) ctx.txn.write(row, 'name', [name]);
}

const lsAdd: CommandSpec = {
  name: 'ls-add',
  minArgs: 0,
  maxArgs: 1,
  args: '[SWITCH]',
  options: '--may-exist,--add-duplicate',
  mode: 'RW',
  pre: needSwitches,
  run: (ctx) => addNamed(ctx, 'Logical_Switch', 'switch'),
};

const lsDel: CommandSpec = {
  name: 'ls-del',
  minArgs: 1,
  maxArgs: 1,
  args: 'SWITCH',
  options: '--if-exists',
  mode: 'RW',
  pre: needSwitches,
  run(ctx) {
    const ls = byNameOrUuid(ctx, LS, ctx.argv[1]!, !ctx.options.has('--if-exists'));
    if (!ls) return;
    const map = lspToLs(ctx);
    for (const u of ls.get('ports') as readonly Atom[]) {
      const p = ctx.txn.get('Logical_Switch_Port', u as string);
      if (p) map.delete(p.string('name'));
    }
    ctx.txn.delete(ls);
  },
};

const lsList: CommandSpec = {
  name: 'ls-list',
  minArgs: 0,
  maxArgs: 0,
  args: '',
  options: '',
  mode: 'RO',
  pre: (ctx) => ctx.need('Logical_Switch'),
  run(ctx) {
    ctx.output += sortedByName(ctx.txn.rows('Logical_Switch'));
  },
};

const lspAdd: CommandSpec = {
  name: 'lsp-add',
  minArgs: 2,
  maxArgs: 4,
  args: 'SWITCH PORT [PARENT] [TAG]',
  options: '--may-exist',
  mode: 'RW',
  pre: needSwitches,
  run(ctx) {
    const mayExist = ctx.options.has('--may-exist');
    const ls = byNameOrUuid(ctx, LS, ctx.argv[1]!, true);
    let parent: string | undefined;
    let tag = -1;
    if (ctx.argv.length === 5) {
      parent = ctx.argv[3]!;
      const m = /^\s*([+-]?\d+)/.exec(ctx.argv[4]!);
      tag = m ? Number(m[1]) : NaN;
      if (!m || tag < 0 || tag > 4095) fail(`${ctx.argv[4]}: invalid tag (must be in range 0 to 4095)`);
    } else if (ctx.argv.length !== 3) {
      fail('lsp-add with parent must also specify a tag');
    }
    const name = ctx.argv[2]!;
    const existing = byNameOrUuid(ctx, LSP, name, false);
    if (existing) {
      if (!mayExist) fail(`${name}: a port with this name already exists`);
      const lsw = switchOfPort(ctx, existing);
      if (lsw !== ls) fail(`${name}: port already exists but in switch ${switchName(lsw)}`);
      const oldParent = existing.scalar('parent_name');
      if (parent !== undefined) {
        if (oldParent === undefined) fail(`${name}: port already exists but has no parent`);
        if (oldParent !== parent) fail(`${name}: port already exists with different parent ${String(oldParent)}`);
        const req = existing.scalar('tag_request');
        if (req === undefined) fail(`${name}: port already exists but has no tag_request`);
        if (req !== tag) fail(`${name}: port already exists with different tag_request ${String(req)}`);
      } else if (oldParent !== undefined) {
        fail(`${name}: port already exists but has parent ${String(oldParent)}`);
      }
      return;
    }
    const lsp = ctx.txn.insert(table(ctx, 'Logical_Switch_Port'));
    ctx.txn.write(lsp, 'name', [name]);
    if (tag >= 0) {
      ctx.txn.write(lsp, 'parent_name', [parent!]);
      ctx.txn.write(lsp, 'tag_request', [tag]);
    }
    const ports = (ls.get('ports') as readonly Atom[]).filter((u) => u !== lsp.uuid);
    ctx.txn.writePartial(ls, 'ports', [...ports, lsp.uuid].sort());
    lspToLs(ctx).set(name, ls);
  },
};

const lspDel: CommandSpec = {
  name: 'lsp-del',
  minArgs: 1,
  maxArgs: 1,
  args: 'PORT',
  options: '--if-exists',
  mode: 'RW',
  pre: needSwitches,
  run(ctx) {
    const lsp = byNameOrUuid(ctx, LSP, ctx.argv[1]!, !ctx.options.has('--if-exists'));
    if (!lsp) return;
    const ls = switchOfPort(ctx, lsp);
    lspToLs(ctx).delete(lsp.string('name'));
    ctx.txn.writePartial(
      ls,
      'ports',
      (ls.get('ports') as readonly Atom[]).filter((u) => u !== lsp.uuid),
    );
    ctx.txn.delete(lsp);
  },
};

const lspList: CommandSpec = {
  name: 'lsp-list',
  minArgs: 1,
  maxArgs: 1,
  args: 'SWITCH',
  options: '',
  mode: 'RO',
  pre: needSwitches,
  run(ctx) {
    const ls = byNameOrUuid(ctx, LS, ctx.argv[1]!, true);
    const ports: ViewRow[] = [];
    for (const u of ls.get('ports') as readonly Atom[]) {
      const p = ctx.txn.get('Logical_Switch_Port', u as string);
      if (p) ports.push(p);
    }
    ctx.output += sortedByName(ports);
  },
};

const lspSetAddresses: CommandSpec = {
  name: 'lsp-set-addresses',
  minArgs: 1,
  maxArgs: Infinity,
  args: 'PORT [ADDRESS]...',
  options: '',
  mode: 'RW',
  pre: needSwitches,
  run(ctx) {
    const lsp = byNameOrUuid(ctx, LSP, ctx.argv[1]!, true);
    const ls = switchOfPort(ctx, lsp);
    const addresses = ctx.argv.slice(2);
    for (const a of addresses) {
      if (!isValidLspAddress(a)) {
        fail(`${a}: Invalid address format. See ovn-nb(5). Hint: An Ethernet address must be listed before an IP address, together as a single argument.`);
      }
      const mine = extractLspAddresses(a);
      if (!mine) continue;
      for (const u of ls.get('ports') as readonly Atom[]) {
        const other = ctx.txn.get('Logical_Switch_Port', u as string);
        if (!other || other === lsp) continue;
        for (const oa of other.get('addresses') as readonly Atom[]) {
          let addr = String(oa);
          const dyn = other.scalar('dynamic_addresses');
          if (/^dynamic(\s|$)/.test(addr) && dyn !== undefined) addr = String(dyn);
          const theirs = extractLspAddresses(addr);
          const dup = theirs && duplicateIp(mine, theirs);
          if (dup) fail(`Error on switch ${ls.string('name')}: duplicate ${dup} found on logical switch port '${other.string('name')}'`);
        }
      }
    }
    ctx.txn.write(lsp, 'addresses', [...new Set(addresses)].sort());
  },
};

const lspGetAddresses: CommandSpec = {
  name: 'lsp-get-addresses',
  minArgs: 1,
  maxArgs: 1,
  args: 'PORT',
  options: '',
  mode: 'RO',
  pre: needSwitches,
  run(ctx) {
    const lsp = byNameOrUuid(ctx, LSP, ctx.argv[1]!, true);
    const addrs = (lsp.get('addresses') as readonly Atom[]).map(String).sort();
    for (const a of addrs) ctx.output += `${a}\n`;
  },
};

export const SWITCH_COMMANDS: readonly CommandSpec[] = [lsAdd, lsDel, lsList, lspAdd, lspDel, lspList, lspSetAddresses, lspGetAddresses];
