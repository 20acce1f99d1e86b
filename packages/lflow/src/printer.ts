/**
 * Prints a match AST back as text in canonical syntax: single spaces around operators, `{a, b}`
 * sets, constants in the notation they were written in (IPv4/IPv6 masks as /prefix when they
 * are prefixes), parentheses only where the grammar needs them. parseMatch(printMatch(e)) is e.
 */
import type { Expr, IntConst, SetItem } from './ast.js';
import { fieldRefText } from './parser.js';

/** The prefix length if `mask` is `len` 1-bits followed by 0-bits within `width` bits. */
function cidrPrefix(mask: bigint, width: number): number | undefined {
  const inv = ~mask & ((1n << BigInt(width)) - 1n);
  if ((inv & (inv + 1n)) !== 0n) return undefined;
  return width - (inv === 0n ? 0 : inv.toString(2).length);
}

function ipv4Text(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run (≥2) of zero groups as "::". */
function ipv6Text(v: bigint): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(16 * i)) & 0xffffn));
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}

function macText(v: bigint): string {
  const out: string[] = [];
  for (let i = 5; i >= 0; i--) out.push(((v >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, '0'));
  return out.join(':');
}

function plain(c: IntConst, v: bigint): string {
  switch (c.format) {
    case 'dec': return v.toString();
    case 'hex': return `0x${v.toString(16)}`;
    case 'mac': return macText(v);
    case 'ipv4': return ipv4Text(v);
    case 'ipv6': return ipv6Text(v);
  }
}

export function printConstant(c: IntConst): string {
  const v = plain(c, c.value);
  if (c.mask === undefined) return v;
  if (c.format === 'ipv4' || c.format === 'ipv6') {
    const len = cidrPrefix(c.mask, c.format === 'ipv4' ? 32 : 128);
    if (len !== undefined) return `${v}/${len}`;
  }
  return `${v}/${plain(c, c.mask)}`;
}

function printItem(i: SetItem): string {
  switch (i.kind) {
    case 'int': return printConstant(i);
    case 'str': return JSON.stringify(i.value);
    case 'addrset': return `$${i.name}`;
    case 'portgroup': return `@${i.name}`;
  }
}

export function printMatch(e: Expr): string {
  switch (e.kind) {
    case 'bool':
      return e.value ? '1' : '0';
    case 'test':
      return fieldRefText(e.field);
    case 'resident':
      return `is_chassis_resident(${JSON.stringify(e.port)})`;
    case 'cmp': {
      const items = e.items.map(printItem);
      const rhs = e.braces || items.length !== 1 ? `{${items.join(', ')}}` : items[0]!;
      return `${fieldRefText(e.field)} ${e.op} ${rhs}`;
    }
    case 'not': {
      const a = e.arg;
      const inner = printMatch(a);
      return a.kind === 'test' || a.kind === 'bool' || a.kind === 'resident' ? `!${inner}` : `!(${inner})`;
    }
    case 'and':
    case 'or': {
      const sep = e.kind === 'and' ? ' && ' : ' || ';
      return e.args.map((a) => (a.kind === 'and' || a.kind === 'or' ? `(${printMatch(a)})` : printMatch(a))).join(sep);
    }
  }
}
