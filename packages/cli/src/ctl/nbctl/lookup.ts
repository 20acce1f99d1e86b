/**
 * How ovn-nbctl's own commands find switches, ports and routers: by UUID, else by a unique
 * name; and which switch holds a port.
 */
import type { Atom } from '../ovsdb.js';
import { parseUuid } from '../datum-text.js';
import type { ViewRow } from '../db-txn.js';
import { fail } from '../errors.js';
import type { CommandContext } from '../tool.js';

interface Kind {
  readonly table: string;
  /** "switch", "router": for "%s: switch name not found". */
  readonly noun: string;
  /** For "Multiple logical switches named '%s'.  Use a UUID."; undefined: the first match wins. */
  readonly plural?: string;
}

export const LS: Kind = { table: 'Logical_Switch', noun: 'switch', plural: 'logical switches' };
export const LR: Kind = { table: 'Logical_Router', noun: 'router', plural: 'logical routers' };
export const LSP: Kind = { table: 'Logical_Switch_Port', noun: 'port' };
export const LRP: Kind = { table: 'Logical_Router_Port', noun: 'port' };

export function byNameOrUuid(ctx: CommandContext, kind: Kind, id: string, mustExist: true): ViewRow;
export function byNameOrUuid(ctx: CommandContext, kind: Kind, id: string, mustExist: boolean): ViewRow | undefined;
export function byNameOrUuid(ctx: CommandContext, kind: Kind, id: string, mustExist: boolean): ViewRow | undefined {
  const uuid = parseUuid(id);
  let row = uuid !== undefined ? ctx.txn.get(kind.table, uuid) : undefined;
  if (!row) {
    for (const r of ctx.txn.rows(kind.table)) {
      if (r.string('name') !== id) continue;
      if (kind.plural === undefined) {
        row = r;
        break;
      }
      if (row) fail(`Multiple ${kind.plural} named '${id}'.  Use a UUID.`);
      row = r;
    }
  }
  if (!row && mustExist) fail(`${id}: ${kind.noun} ${uuid !== undefined ? 'UUID' : 'name'} not found`);
  return row;
}

/** Port name → the switch that holds it, computed once per invocation and kept up to date by the commands. */
export function lspToLs(ctx: CommandContext): Map<string, ViewRow> {
  let m = ctx.state.get('lsp_to_ls') as Map<string, ViewRow> | undefined;
  if (!m) {
    m = new Map();
    for (const ls of ctx.txn.rows('Logical_Switch')) {
      for (const u of ls.get('ports') as readonly Atom[]) {
        const p = ctx.txn.get('Logical_Switch_Port', u as string);
        if (p) m.set(p.string('name'), ls);
      }
    }
    ctx.state.set('lsp_to_ls', m);
  }
  return m;
}

/** The switch that contains `lsp`. */
export function switchOfPort(ctx: CommandContext, lsp: ViewRow): ViewRow {
  const ls = lspToLs(ctx).get(lsp.string('name'));
  if (!ls) fail(`logical port ${lsp.string('name')} is not part of any logical switch`);
  return ls;
}

/** A switch's name, or its UUID when it has none. */
export function switchName(ls: ViewRow): string {
  return ls.string('name') || ls.uuid;
}
