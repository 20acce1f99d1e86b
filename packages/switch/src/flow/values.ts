/**
 * Field values in ovs-ofctl text, per field format: parse `value[/mask]` and print it back the
 * way ovs-ofctl's set_field does (matches have a few per-field quirks of their own, see
 * match-syntax.ts). Also port numbers and names, and the flag sets of ct_state and tcp_flags.
 */
import { OFPP } from './actions.js';
import type { OfField } from './catalog.js';
import {
  formatIpv4Masked,
  formatIpv6Masked,
  formatMacMasked,
  hex,
  ones,
  parseInteger,
  parseIpv4,
  parseIpv4Mask,
  parseIpv6,
  parseIpv6Mask,
  parseMac,
} from './format.js';
import { FlowSyntaxError } from './tokens.js';

/** Optional port-name mapping (ovs-ofctl's --names). */
export interface PortNames {
  name(port: number): string | undefined;
  number(name: string): number | undefined;
}

const RESERVED_PORTS: ReadonlyArray<readonly [string, number]> = [
  ['IN_PORT', OFPP.IN_PORT],
  ['TABLE', OFPP.TABLE],
  ['NORMAL', OFPP.NORMAL],
  ['FLOOD', OFPP.FLOOD],
  ['ALL', OFPP.ALL],
  ['CONTROLLER', OFPP.CONTROLLER],
  ['LOCAL', OFPP.LOCAL],
  ['ANY', OFPP.NONE],
  ['NONE', OFPP.NONE],
];

/** A port number, a reserved port name (any case) or, with `ports`, a port name. */
export function parsePort(s: string, ports?: PortNames): number | undefined {
  const n = parseInteger(s);
  if (n !== undefined) return n <= 0xffffn ? Number(n) : undefined;
  const up = s.toUpperCase();
  for (const [name, num] of RESERVED_PORTS) if (name === up) return num;
  const unq = s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
  return ports?.number(unq);
}

/** A port as ovs-ofctl prints it: reserved names in capitals, others as numbers (or names). */
export function formatPort(p: number, ports?: PortNames): string {
  if (p >= OFPP.IN_PORT) {
    for (const [name, num] of RESERVED_PORTS) if (num === p) return name;
  }
  const name = ports?.name(p);
  if (name !== undefined) return /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name) ? name : `"${name}"`;
  return String(p);
}

export const CT_STATE_FLAGS: readonly string[] = ['new', 'est', 'rel', 'rpl', 'inv', 'trk', 'snat', 'dnat'];
/** The bits of ct_state OVS knows; a match on all of them prints as an exact flag list. */
export const CT_STATE_ALL = 0xff;
export const TCP_FLAG_NAMES: readonly string[] = ['fin', 'syn', 'rst', 'psh', 'ack', 'urg', 'ece', 'cwr', 'ns'];
export const TCP_FLAGS_ALL = 0xfff;

function flagName(names: readonly string[], bit: number): string {
  return names[bit] ?? `[${(1 << bit).toString(16)}]`;
}

/** `a|b` for an exact match on every known bit, else `+a-b` for the masked bits. */
export function formatFlags(names: readonly string[], all: number, value: number, mask: number): string {
  if (mask === all) {
    const set: string[] = [];
    for (let b = 0; b < 32; b++) if (value & (1 << b)) set.push(flagName(names, b));
    return set.length ? set.join('|') : '0';
  }
  let out = '';
  for (let b = 0; b < 32; b++) if (mask & (1 << b)) out += (value & (1 << b) ? '+' : '-') + flagName(names, b);
  return out;
}

/** `+a-b`, `a|b` (exact) or `value[/mask]` (numbers). */
export function parseFlags(names: readonly string[], all: number, s: string, what: string): { value: number; mask: number } {
  const bad = (): never => {
    throw new FlowSyntaxError(`${s}: unknown ${what} flag(s)`);
  };
  const bitOf = (name: string): number => {
    const i = names.indexOf(name.toLowerCase());
    return i < 0 ? bad() : 1 << i;
  };
  if (s.startsWith('+') || s.startsWith('-')) {
    let value = 0;
    let mask = 0;
    const re = /([+-])([A-Za-z_]+)/y;
    let pos = 0;
    while (pos < s.length) {
      re.lastIndex = pos;
      const m = re.exec(s);
      if (!m) bad();
      const bit = bitOf(m![2]!);
      mask |= bit;
      if (m![1] === '+') value |= bit;
      else value &= ~bit;
      pos = re.lastIndex;
    }
    return { value: value >>> 0, mask: mask >>> 0 };
  }
  const [v, m] = s.split('/', 2) as [string, string | undefined];
  const num = parseInteger(v);
  if (num !== undefined) {
    const mask = m === undefined ? BigInt(all) : parseInteger(m);
    if (mask === undefined || (mask & ~BigInt(all)) !== 0n || (num & ~BigInt(all)) !== 0n) bad();
    return { value: Number(num & mask!), mask: Number(mask) };
  }
  if (m !== undefined) bad();
  let value = 0;
  if (v !== '0') for (const name of v.split('|')) value |= bitOf(name);
  return { value: value >>> 0, mask: all };
}

const FRAG_WORDS: Record<string, readonly [number, number]> = {
  no: [0, 1],
  yes: [1, 1],
  first: [1, 3],
  later: [3, 3],
  not_later: [0, 2],
};

export function parseFrag(s: string): { value: number; mask: number } {
  const w = FRAG_WORDS[s];
  if (!w) throw new FlowSyntaxError(`${s}: unknown fragment type (valid types are "no", "yes", "first", "later", "not_later"`);
  return { value: w[0], mask: w[1] };
}

/** The nw_frag keyword for a value and mask, or undefined when nothing is matched. */
export function formatFrag(value: number, mask: number): string | undefined {
  switch (mask & 3) {
    case 3:
      return value & 1 ? (value & 2 ? 'later' : 'first') : value & 2 ? '<error>' : 'no';
    case 1:
      return value & 1 ? 'yes' : 'no';
    case 2:
      return value & 2 ? 'later' : 'not_later';
    default:
      return undefined;
  }
}

function tooLarge(f: OfField, s: string): never {
  throw new FlowSyntaxError(`${s}: value too large for ${Math.ceil(f.bits / 8)}-byte field ${f.name}`);
}

/** Parses `value[/mask]` in the field's format; the mask is all ones when absent. */
export function parseFieldValue(f: OfField, s: string, ports?: PortNames): { value: bigint; mask: bigint } {
  const full = ones(f.bits);
  const slash = s.indexOf('/');
  const vs = slash < 0 ? s : s.slice(0, slash);
  const ms = slash < 0 ? undefined : s.slice(slash + 1);
  const fail = (): never => {
    throw new FlowSyntaxError(`${s}: invalid value for field ${f.name}`);
  };
  let value: bigint | undefined;
  let mask: bigint | undefined = full;
  switch (f.format) {
    case 'hex':
    case 'dec':
      value = parseInteger(vs);
      if (ms !== undefined) mask = parseInteger(ms);
      break;
    case 'ipv4':
      value = parseIpv4(vs);
      if (ms !== undefined) mask = parseIpv4Mask(ms);
      break;
    case 'ipv6':
      value = parseIpv6(vs);
      if (ms !== undefined) mask = parseIpv6Mask(ms);
      break;
    case 'eth':
      value = parseMac(vs);
      if (ms !== undefined) mask = parseMac(ms);
      break;
    case 'port': {
      const p = parsePort(s, ports);
      if (p === undefined) throw new FlowSyntaxError(`${s}: invalid or unknown port`);
      return { value: BigInt(p), mask: full };
    }
    case 'ct_state': {
      const r = parseFlags(CT_STATE_FLAGS, CT_STATE_ALL, s, 'ct_state');
      return { value: BigInt(r.value), mask: BigInt(r.mask) };
    }
    case 'tcp_flags': {
      const r = parseFlags(TCP_FLAG_NAMES, TCP_FLAGS_ALL, s, 'TCP');
      return { value: BigInt(r.value), mask: BigInt(r.mask) };
    }
    case 'frag': {
      const r = parseFrag(s);
      return { value: BigInt(r.value), mask: BigInt(r.mask) };
    }
  }
  if (value === undefined || mask === undefined) return fail();
  if (value > full) tooLarge(f, vs);
  if (mask > full) tooLarge(f, ms ?? '');
  return { value: value & mask, mask };
}

/** `value[/mask]` as ovs-ofctl's set_field prints it. */
export function formatFieldValue(f: OfField, value: bigint, mask: bigint, ports?: PortNames): string {
  const full = ones(f.bits);
  const exact = mask === full;
  switch (f.format) {
    case 'hex':
      return exact ? hex(value) : `${hex(value)}/${hex(mask)}`;
    case 'dec':
      return exact ? value.toString() : `${value}/0x${mask.toString(16)}`;
    case 'ipv4':
      return formatIpv4Masked(value, mask);
    case 'ipv6':
      return formatIpv6Masked(value, mask);
    case 'eth':
      return formatMacMasked(value, mask);
    case 'port':
      return formatPort(Number(value), ports);
    case 'ct_state':
      return formatFlags(CT_STATE_FLAGS, CT_STATE_ALL, Number(value), Number(mask));
    case 'tcp_flags':
      return formatFlags(TCP_FLAG_NAMES, TCP_FLAGS_ALL, Number(value), Number(mask));
    case 'frag':
      return formatFrag(Number(value), Number(mask)) ?? '';
  }
}
