/**
 * Helpers shared by the ACL, port group, load balancer, NAT, policy, gateway chassis and DHCP
 * commands of ovn-nbctl: its parse_priority/parse_direction, KEY=VALUE lists, vlog ERR lines
 * and ctl_error's "Discarding unhandled error" when a command reports a second error.
 */
import type { Atom } from '../ovsdb.js';
import type { ViewRow } from '../db-txn.js';
import { fail } from '../errors.js';
import type { CommandContext } from '../tool.js';

export const PG = { table: 'Port_Group', noun: 'port group' } as const;
export const LB = { table: 'Load_Balancer', noun: 'load balancer', plural: 'load balancers' } as const;

/**
 * A reference set column's live rows, in the column's (UUID) order, as the real tool's IDL sees
 * them: elements added or removed by this invocation's partial updates (addvalue/delvalue) show
 * only after the commit, while a column replaced as a whole shows its new value at once.
 */
export function refs(ctx: CommandContext, row: ViewRow, column: string, table: string): ViewRow[] {
  const out: ViewRow[] = [];
  const idlView = row.partial.has(column) && !row.written.has(column) && row.old?.get(column) !== undefined ? row.old.get(column)! : row.get(column);
  for (const u of idlView as readonly Atom[]) {
    const r = ctx.txn.get(table, String(u));
    if (r) out.push(r);
  }
  return out;
}

export const uuidsOf = (row: ViewRow, column: string): string[] => (row.get(column) as readonly Atom[]).map(String);

/** Adds `uuid` to a set column (a "mutate" insert, like the IDL's update_*_addvalue). */
export function addRef(ctx: CommandContext, row: ViewRow, column: string, uuid: string): void {
  ctx.txn.writePartial(row, column, [...uuidsOf(row, column).filter((u) => u !== uuid), uuid].sort());
}

/** Removes `uuid` from a set column (update_*_delvalue). */
export function delRef(ctx: CommandContext, row: ViewRow, column: string, uuid: string): void {
  ctx.txn.writePartial(row, column, uuidsOf(row, column).filter((u) => u !== uuid));
}

/** ovs_scan(arg, "%"SCNd64): leading spaces and a sign allowed, trailing text ignored. */
export function scanInt64(arg: string): number | undefined {
  const m = /^\s*([+-]?\d+)/.exec(arg);
  return m ? Number(m[1]) : undefined;
}

export function parsePriority(arg: string): number {
  const p = scanInt64(arg);
  if (p === undefined || p < 0 || p > 32767) fail(`${arg}: priority must in range 0...32767`);
  return p;
}

/** Only the first letter counts. */
export function parseDirection(arg: string): string {
  if (arg[0] === 't') return 'to-lport';
  if (arg[0] === 'f') return 'from-lport';
  fail(`${arg}: direction must be "to-lport" or "from-lport"`);
}

/** KEY=VALUE arguments (smap_add: words without "=" are skipped, the first of duplicate keys wins), sorted. */
export function keyValues(args: readonly string[]): [string, string][] {
  const m = new Map<string, string>();
  for (const a of args) {
    const i = a.indexOf('=');
    if (i >= 0 && !m.has(a.slice(0, i))) m.set(a.slice(0, i), a.slice(i + 1));
  }
  return [...m].sort((x, y) => cmpStr(x[0], y[0]));
}

export const cmpStr = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A vlog ERR line on the console, numbered in the same sequence as the tool's warnings. */
export function logErr(ctx: CommandContext, module: string, message: string): void {
  ctx.log.err(module, message);
}

/** ctl_error semantics for commands that may report twice: the earlier error is logged and replaced. */
export class ErrorSlot {
  message: string | undefined;
  constructor(private readonly ctx: CommandContext) {}
  set(message: string): void {
    if (this.message !== undefined) logErr(this.ctx, 'db_ctl_base', `Discarding unhandled error: ${this.message}`);
    this.message = message;
  }
  /** Ends the command if an error was reported. */
  check(): void {
    if (this.message !== undefined) fail(this.message);
  }
}

/** printf("%-W.Ps"). */
export const padTrunc = (s: string, width: number, precision: number): string => s.slice(0, precision).padEnd(width);
