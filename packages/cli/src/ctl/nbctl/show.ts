/** ovn-nbctl show [SWITCH|ROUTER]: switches with their ports, routers with ports and NATs. */
import type { Atom } from '../ovsdb.js';
import type { DbTxn, ViewRow } from '../db-txn.js';
import type { CommandSpec } from '../tool.js';
import { byNameOrUuid, LR, LS } from './lookup.js';

function alias(row: ViewRow, key: string): string {
  const a = row.map('external_ids').get(key);
  return a ? ` (aka ${a})` : '';
}

function refs(txn: DbTxn, row: ViewRow, column: string, table: string): ViewRow[] {
  const out: ViewRow[] = [];
  for (const u of row.get(column) as readonly Atom[]) {
    const r = txn.get(table, u as string);
    if (r) out.push(r);
  }
  return out;
}

const quotedList = (items: readonly Atom[]): string => `[${items.map((a) => `"${String(a)}"`).join(', ')}]`;

function printLs(txn: DbTxn, ls: ViewRow): string {
  let s = `switch ${ls.uuid} (${ls.string('name')})${alias(ls, 'neutron:network_name')}\n`;
  for (const lsp of refs(txn, ls, 'ports', 'Logical_Switch_Port')) {
    s += `    port ${lsp.string('name')}${alias(lsp, 'neutron:port_name')}\n`;
    const type = lsp.string('type');
    if (type) s += `        type: ${type}\n`;
    const parent = lsp.scalar('parent_name');
    if (parent !== undefined) s += `        parent: ${String(parent)}\n`;
    const tag = lsp.scalar('tag');
    if (tag !== undefined) s += `        tag: ${String(tag)}\n`;
    const addrs = lsp.get('addresses') as readonly Atom[];
    if (addrs.length > 0 && !(addrs.length === 1 && addrs[0] === 'router')) s += `        addresses: ${quotedList(addrs)}\n`;
    const routerPort = lsp.map('options').get('router-port');
    if (routerPort !== undefined) s += `        router-port: ${routerPort}\n`;
  }
  return s;
}

function printLr(txn: DbTxn, lr: ViewRow): string {
  let s = `router ${lr.uuid} (${lr.string('name')})${alias(lr, 'neutron:router_name')}\n`;
  for (const lrp of refs(txn, lr, 'ports', 'Logical_Router_Port')) {
    s += `    port ${lrp.string('name')}\n`;
    s += `        mac: "${lrp.string('mac')}"\n`;
    const networks = lrp.get('networks') as readonly Atom[];
    if (networks.length > 0) s += `        networks: ${quotedList(networks)}\n`;
    const gcs = refs(txn, lrp, 'gateway_chassis', 'Gateway_Chassis');
    // ovn-nbctl 23.03 lists them in the column's (UUID) order, not by priority.
    if (gcs.length > 0) s += `        gateway chassis: [${gcs.map((g) => g.string('chassis_name')).join(' ')}]\n`;
  }
  for (const nat of refs(txn, lr, 'nat', 'NAT')) {
    s += `    nat ${nat.uuid}\n`;
    s += `        external ip: "${nat.string('external_ip')}"\n`;
    const range = nat.string('external_port_range');
    if (range) s += `        external port(s): "${range}"\n`;
    s += `        logical ip: "${nat.string('logical_ip')}"\n`;
    s += `        type: "${nat.string('type')}"\n`;
  }
  return s;
}

export const SHOW_TABLES = ['Logical_Switch', 'Logical_Switch_Port', 'Logical_Router', 'Logical_Router_Port', 'Gateway_Chassis', 'NAT'];

export const show: CommandSpec = {
  name: 'show',
  minArgs: 0,
  maxArgs: 1,
  args: '[SWITCH]',
  options: '',
  mode: 'RO',
  pre(ctx) {
    for (const t of SHOW_TABLES) ctx.need(t);
  },
  run(ctx) {
    const id = ctx.argv[1];
    if (id !== undefined) {
      const ls = byNameOrUuid(ctx, LS, id, false);
      if (ls) ctx.output += printLs(ctx.txn, ls);
      const lr = byNameOrUuid(ctx, LR, id, false);
      if (lr) ctx.output += printLr(ctx.txn, lr);
      return;
    }
    for (const ls of ctx.txn.rows('Logical_Switch')) ctx.output += printLs(ctx.txn, ls);
    for (const lr of ctx.txn.rows('Logical_Router')) ctx.output += printLr(ctx.txn, lr);
  },
};
