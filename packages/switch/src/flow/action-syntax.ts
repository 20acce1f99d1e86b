/**
 * Actions in ovs-ofctl syntax (ovs-actions(7)), parsed into the action model and printed back as
 * ovs-ofctl prints them. Printing depends on the OpenFlow version the dump was made with, because
 * ovs-ofctl shows what survived encoding in that version:
 *   - 1.0/1.1: set_field of eth/IPv4/L4/VLAN fields prints as mod_dl_src, mod_nw_dst, mod_tp_dst …
 *     and other set_fields as `load:` (split into runs of at most 64 bits); goto_table prints as
 *     resubmit(,N) in 1.0; pop_vlan as strip_vlan in 1.0;
 *   - 1.2–1.4: set_field, except flows written with `load:` or setting only part of a field;
 *   - 1.5: always set_field.
 * move and load name fields by their NXM/OXM names (NXM_NX_REG0[0..15]), whatever the version.
 */
import type {
  Action,
  ControllerAction,
  ControllerReason,
  CtAction,
  NatSpec,
  SetFieldAction,
  SubField,
} from './actions.js';
import { OFPP } from './actions.js';
import { lookupOfField, ofField } from './catalog.js';
import type { OfField } from './catalog.js';
import { formatHexBytes, formatIpv4, formatIpv6, hex, ones, parseHexBytes, parseInteger, parseIpv4, parseIpv6 } from './format.js';
import type { Match } from './match.js';
import { getMask, getValue } from './match.js';
import { FlowSyntaxError, splitKeyValues, splitTopLevel } from './tokens.js';
import type { KeyValue } from './tokens.js';
import type { PortNames } from './values.js';
import { formatFieldValue, formatPort, parseFieldValue, parsePort } from './values.js';

/** OpenFlow version of a dump: 10 = OpenFlow 1.0 (ovs-ofctl's default) … 15 = OpenFlow 1.5. */
export type OfVersion = 10 | 11 | 12 | 13 | 14 | 15;

/** "OpenFlow13" → 13. */
export function parseOfVersion(s: string): OfVersion {
  const m = /^OpenFlow1([0-5])$/i.exec(s);
  if (!m) throw new FlowSyntaxError(`${s}: unknown OpenFlow version`);
  return (10 + Number(m[1])) as OfVersion;
}

export interface ActionSyntaxOptions {
  readonly ports?: PortNames;
  /** The flow's match: mod_tp_src/dst pick tcp/udp/sctp from it; mod_vlan_vid prints from it. */
  readonly match?: Match;
}

export interface ActionPrintOptions extends ActionSyntaxOptions {
  /** Default 10 (ovs-ofctl's default OpenFlow 1.0 with Nicira extensions). */
  readonly version?: OfVersion;
}

const REASONS: readonly ControllerReason[] = ['action', 'no_match', 'invalid_ttl', 'action_set', 'group', 'packet_out'];
const ALGS: Record<string, number> = { ftp: 21, tftp: 69 };

function err(msg: string): never {
  throw new FlowSyntaxError(msg);
}

function int(s: string, what: string, max: number): number {
  const n = parseInteger(s.trim());
  if (n === undefined || n > BigInt(max)) err(`${s}: invalid ${what}`);
  return Number(n);
}

// ---- subfields ----

/** `NAME`, `NAME[]`, `NAME[i]` or `NAME[i..j]`, NAME any field name (NXM_NX_REG0, reg0, eth_src …). */
export function parseSubField(s: string): SubField {
  const m = /^([A-Za-z0-9_]+)(?:\[(?:(\d+)(?:\.\.(\d+))?)?\])?$/.exec(s.trim());
  if (!m) err(`${s}: syntax error in field`);
  const f = lookupOfField(m[1]!);
  if (!f) err(`${m[1]}: unknown field`);
  if (m[2] === undefined) return { field: f.name, ofs: 0, bits: f.bits };
  const lo = Number(m[2]);
  const hi = m[3] === undefined ? lo : Number(m[3]);
  if (hi < lo || hi >= f.bits) err(`${s}: bit offset out of range for ${f.bits}-bit field ${f.name}`);
  return { field: f.name, ofs: lo, bits: hi - lo + 1 };
}

export function formatSubField(sf: SubField): string {
  const f = ofField(sf.field);
  // OVS's tun_metadata fields are 124 bytes wide, so 32 bits of one are never the whole field.
  if (sf.ofs === 0 && sf.bits === f.bits && f.name !== 'tun_metadata0') return `${f.nxm}[]`;
  if (sf.bits === 1) return `${f.nxm}[${sf.ofs}]`;
  return `${f.nxm}[${sf.ofs}..${sf.ofs + sf.bits - 1}]`;
}

// ---- parsing ----

function splitArrow(s: string, what: string): [string, string] {
  const i = s.lastIndexOf('->');
  if (i < 0) err(`${what}: missing \`->' in \`${s}'`);
  return [s.slice(0, i), s.slice(i + 2)];
}

function writable(f: OfField): OfField {
  if (!f.writable) err(`destination field ${f.name} is not writable`);
  return f;
}

function parseSetField(s: string, ports?: PortNames): SetFieldAction {
  const [vs, fs] = splitArrow(s, 'set_field');
  const f = lookupOfField(fs.trim());
  if (!f) err(`${fs}: unknown field`);
  writable(f);
  const { value, mask } = parseFieldValue(f, vs, ports);
  return { type: 'set_field', field: f.name, value, mask };
}

function parseLoad(s: string): SetFieldAction {
  const [vs, ds] = splitArrow(s, 'load');
  const dst = parseSubField(ds);
  writable(ofField(dst.field));
  const v = parseInteger(vs.trim());
  if (v === undefined) err(`${vs}: invalid value in load`);
  if (v > ones(dst.bits)) err(`${vs}: value does not fit into ${dst.bits} bits`);
  const shift = BigInt(dst.ofs);
  return { type: 'set_field', field: dst.field, value: v << shift, mask: ones(dst.bits) << shift, load: true };
}

function setField(name: string, value: bigint): SetFieldAction {
  const f = ofField(name);
  return { type: 'set_field', field: f.name, value, mask: ones(f.bits) };
}

function l4Field(match: Match | undefined, dir: 'src' | 'dst'): string {
  const proto = match && getMask(match, 'nw_proto') === 0xffn ? Number(getValue(match, 'nw_proto')) : 6;
  return `${proto === 17 ? 'udp' : proto === 132 ? 'sctp' : 'tcp'}_${dir}`;
}

function parseController(kv: KeyValue): ControllerAction {
  let maxLen = 0xffff;
  let reason: ControllerReason = 'action';
  let id = 0;
  let userdata: string | undefined;
  let pause = false;
  let meterId: number | undefined;
  if (kv.sep === ':' || kv.sep === '=') maxLen = int(kv.value, 'max_len', 0xffff);
  else if (kv.sep === '(') {
    for (const p of splitKeyValues(kv.value)) {
      switch (p.key) {
        case 'max_len':
          maxLen = int(p.value, 'max_len', 0xffff);
          break;
        case 'reason':
          if (!REASONS.includes(p.value as ControllerReason)) err(`${p.value}: unknown controller reason`);
          reason = p.value as ControllerReason;
          break;
        case 'id':
          id = int(p.value, 'controller id', 0xffff);
          break;
        case 'userdata': {
          const u = parseHexBytes(p.value);
          if (u === undefined) err(`bad hex digit in \`controller' action \`userdata'`);
          userdata = u;
          break;
        }
        case 'pause':
          pause = true;
          break;
        case 'meter_id':
          meterId = int(p.value, 'meter_id', 0xffffffff);
          break;
        default:
          err(`${p.key}: unknown controller argument`);
      }
    }
  }
  return {
    type: 'controller',
    maxLen,
    reason,
    id,
    ...(userdata !== undefined ? { userdata } : {}),
    ...(pause ? { pause } : {}),
    ...(meterId !== undefined ? { meterId } : {}),
  };
}

function parseNatRange(s: string): Pick<NatSpec, 'ipv6' | 'ipMin' | 'ipMax' | 'portMin' | 'portMax'> {
  // IPv4: A[-B][:P[-Q]]; IPv6: A[-B] or [A][-[B]]:P[-Q].
  let addrs = s;
  let portPart: string | undefined;
  if (s.startsWith('[')) {
    const m = /^\[([^\]]+)\](?:-\[([^\]]+)\])?(?::(.+))?$/.exec(s);
    if (!m) err(`${s}: invalid NAT range`);
    addrs = m[2] ? `${m[1]}-${m[2]}` : m[1]!;
    portPart = m[3];
  } else if (!s.includes('::') && (s.match(/:/g)?.length ?? 0) === 1) {
    [addrs, portPart] = s.split(':') as [string, string];
  }
  const [lo, hi] = addrs.split('-') as [string, string | undefined];
  let ipv6 = false;
  let ipMin = parseIpv4(lo);
  let ipMax = hi === undefined ? undefined : parseIpv4(hi);
  if (ipMin === undefined) {
    ipv6 = true;
    ipMin = parseIpv6(lo);
    ipMax = hi === undefined ? undefined : parseIpv6(hi);
  }
  if (ipMin === undefined || (hi !== undefined && ipMax === undefined)) err(`${s}: invalid NAT address`);
  const out: { ipv6?: boolean; ipMin?: bigint; ipMax?: bigint; portMin?: number; portMax?: number } = { ipMin };
  if (ipv6) out.ipv6 = true;
  if (ipMax !== undefined && ipMax !== ipMin) out.ipMax = ipMax;
  if (portPart !== undefined) {
    const [p, q] = portPart.split('-') as [string, string | undefined];
    out.portMin = int(p, 'NAT port', 0xffff);
    const pm = q === undefined ? undefined : int(q, 'NAT port', 0xffff);
    if (pm !== undefined && pm !== out.portMin) out.portMax = pm;
  }
  return out;
}

function parseNat(kv: KeyValue): NatSpec {
  if (kv.sep !== '(') return {};
  const nat: { -readonly [K in keyof NatSpec]: NatSpec[K] } = {};
  for (const p of splitKeyValues(kv.value)) {
    switch (p.key) {
      case 'src':
      case 'dst':
        if (nat.kind) err('nat: only one of "src" or "dst" may be given');
        nat.kind = p.key;
        if (p.value !== '') Object.assign(nat, parseNatRange(p.value));
        break;
      case 'persistent':
        nat.persistent = true;
        break;
      case 'hash':
        nat.hash = true;
        break;
      case 'random':
        nat.random = true;
        break;
      default:
        err(`${p.key}: unknown nat argument`);
    }
  }
  if (nat.hash && nat.random) err('Both "hash" and "random" are not allowed.');
  return nat;
}

function parseCt(kv: KeyValue, opts: ActionSyntaxOptions): CtAction {
  let commit = false;
  let force = false;
  let zone: number | SubField | undefined;
  let table: number | undefined;
  let alg: number | undefined;
  let nat: NatSpec | undefined;
  let exec: Action[] = [];
  if (kv.sep === '(') {
    for (const p of splitKeyValues(kv.value)) {
      switch (p.key) {
        case 'commit':
          commit = true;
          break;
        case 'force':
          force = true;
          commit = true;
          break;
        case 'zone':
          // zone=0 is the default zone: the same as no zone, and printed as none.
          zone = /^\d+$|^0x/i.test(p.value) ? int(p.value, 'zone', 0xffff) || undefined : parseSubField(p.value);
          break;
        case 'table':
          table = int(p.value, 'table', 254);
          break;
        case 'alg':
          alg = ALGS[p.value] ?? err(`invalid conntrack helper "${p.value}"`);
          break;
        case 'nat':
          nat = parseNat(p);
          break;
        case 'exec':
          exec = parseActionList(p.value, opts, true);
          for (const a of exec) {
            const target = a.type === 'set_field' ? a.field : a.type === 'move' ? a.dst.field : undefined;
            if (target !== 'ct_mark' && target !== 'ct_label') err('ct: exec may only set ct_mark and ct_label');
          }
          break;
        default:
          err(`${p.key}: unknown ct argument`);
      }
    }
  }
  return {
    type: 'ct',
    commit,
    force,
    ...(zone !== undefined ? { zone } : {}),
    ...(table !== undefined ? { table } : {}),
    ...(alg !== undefined ? { alg } : {}),
    ...(nat !== undefined ? { nat } : {}),
    exec,
  };
}

function parseOutputPort(s: string, opts: ActionSyntaxOptions, maxLen?: number): Action {
  if (s.includes('[') || (lookupOfField(s) !== undefined && parsePort(s, opts.ports) === undefined)) {
    return { type: 'output_reg', src: parseSubField(s), ...(maxLen !== undefined ? { maxLen } : {}) };
  }
  const port = parsePort(s, opts.ports);
  if (port === undefined) err(`${s}: output to unknown port`);
  if (port === OFPP.CONTROLLER) return { type: 'controller', maxLen: maxLen ?? 0xffff, reason: 'action', id: 0 };
  if (port === OFPP.NONE || (port > OFPP.MAX && port < OFPP.IN_PORT)) err(`${s}: output to unknown port`);
  if (maxLen !== undefined && maxLen < 14) err(`max_len ${maxLen} is less than the minimum value 14`);
  return { type: 'output', port, ...(maxLen !== undefined ? { maxLen } : {}) };
}

function parseOne(kv: KeyValue, opts: ActionSyntaxOptions): Action {
  const key = kv.key.toLowerCase();
  const v = kv.value;
  switch (key) {
    case 'output':
      if (kv.sep === '(') {
        let port: string | undefined;
        let maxLen: number | undefined;
        for (const p of splitKeyValues(v)) {
          if (p.key === 'port') port = p.value;
          else if (p.key === 'max_len') maxLen = int(p.value, 'max_len', 0xffff);
          else err(`${p.key}: unknown output argument`);
        }
        if (port === undefined) err('output: missing port');
        return parseOutputPort(port, opts, maxLen);
      }
      return parseOutputPort(v, opts);
    case 'controller':
      return parseController(kv);
    case 'resubmit': {
      if (kv.sep === '(') {
        const [p, t, ct] = splitTopLevel(v).map((x) => x.trim());
        if (ct !== undefined && ct !== '') err('resubmit: the "ct" option is not supported');
        const port = p ? (parsePort(p, opts.ports) ?? err(`${p}: resubmit to unknown port`)) : undefined;
        const table = t ? int(t, 'table', 254) : undefined;
        if (port === undefined && table === undefined) err('at least one "in_port" or "table" must be specified on resubmit');
        return { type: 'resubmit', ...(port !== undefined && port !== OFPP.IN_PORT ? { port } : {}), ...(table !== undefined ? { table } : {}) };
      }
      const port = parsePort(v, opts.ports) ?? err(`${v}: resubmit to unknown port`);
      if (port === OFPP.IN_PORT) err('at least one "in_port" or "table" must be specified on resubmit');
      return { type: 'resubmit', port };
    }
    case 'goto_table':
      return { type: 'goto_table', table: int(v, 'table', 254) };
    case 'set_field':
      return parseSetField(v, opts.ports);
    case 'load':
      return parseLoad(v);
    case 'move': {
      const [s, d] = splitArrow(v, 'move');
      const src = parseSubField(s);
      const dst = parseSubField(d);
      writable(ofField(dst.field));
      if (src.bits !== dst.bits) err(`source field ${s} (${src.bits} bits) differs in width from destination field ${d} (${dst.bits} bits)`);
      return { type: 'move', src, dst };
    }
    case 'push':
      return { type: 'stack_push', src: parseSubField(v) };
    case 'pop': {
      const dst = parseSubField(v);
      writable(ofField(dst.field));
      return { type: 'stack_pop', dst };
    }
    case 'mod_dl_src':
    case 'mod_dl_dst':
    case 'mod_nw_src':
    case 'mod_nw_dst': {
      const name = { mod_dl_src: 'eth_src', mod_dl_dst: 'eth_dst', mod_nw_src: 'ip_src', mod_nw_dst: 'ip_dst' }[key];
      const { value } = parseFieldValue(ofField(name), v);
      return setField(name, value);
    }
    case 'mod_nw_tos': {
      const tos = int(v, 'TOS', 0xff);
      if (tos & 3) err(`${v}: invalid TOS value (the low 2 bits must be zero)`);
      return setField('ip_dscp', BigInt(tos >> 2));
    }
    case 'mod_nw_ecn':
      return setField('nw_ecn', BigInt(int(v, 'ECN', 3)));
    case 'mod_tp_src':
    case 'mod_tp_dst':
      return setField(l4Field(opts.match, key === 'mod_tp_src' ? 'src' : 'dst'), BigInt(int(v, 'port', 0xffff)));
    case 'mod_vlan_vid':
      return { type: 'mod_vlan_vid', vid: int(v, 'VLAN VID', 0xfff) };
    case 'mod_vlan_pcp':
      return { type: 'mod_vlan_pcp', pcp: int(v, 'VLAN PCP', 7) };
    case 'strip_vlan':
    case 'pop_vlan':
      return { type: 'pop_vlan' };
    case 'push_vlan':
      return { type: 'push_vlan', tpid: int(v, 'ethertype', 0xffff) };
    case 'dec_ttl': {
      if (kv.sep !== '(') return { type: 'dec_ttl' };
      // Kept even when it is just (0): ovs-ofctl prints the form that was written.
      return { type: 'dec_ttl', ids: splitTopLevel(v).map((x) => int(x, 'controller id', 0xffff)) };
    }
    case 'conjunction': {
      const m = /^\s*(\d+)\s*,\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(v);
      if (!m) err(`"conjunction" syntax is "conjunction(id,i/n)"`);
      const [id, k, n] = [Number(m[1]), Number(m[2]), Number(m[3])];
      if (n < 2 || n > 64 || k < 1 || k > n) err(`conjunction(${v}): clause k must be between 1 and n, n between 2 and 64`);
      return { type: 'conjunction', id, clause: k, nClauses: n };
    }
    case 'group':
      return { type: 'group', group: int(v, 'group', 0xfffffffe) };
    case 'clone':
      return { type: 'clone', actions: parseActionList(v, opts) };
    case 'ct':
      return parseCt(kv, opts);
    case 'ct_clear':
      return { type: 'ct_clear' };
    case 'note': {
      const d = parseHexBytes(v);
      if (d === undefined) err(`bad hex digit in \`note' argument`);
      // As OVS stores it: the note's bytes padded so that the whole action is a multiple of 8 bytes.
      const len = Math.ceil((10 + d.length / 2) / 8) * 8 - 10;
      return { type: 'note', data: d.padEnd(len * 2, '0') };
    }
    case 'exit':
      return { type: 'exit' };
  }
  if (kv.sep === '') {
    // A bare port: a number, IN_PORT/LOCAL/NORMAL/…, or a named port.
    const port = parsePort(kv.key, opts.ports);
    if (port !== undefined) return parseOutputPort(kv.key, opts);
  }
  return err(`unknown action ${kv.key}`);
}

/** Parses an action list (no checks across actions: clone and exec contents). */
function parseActionList(text: string, opts: ActionSyntaxOptions, inCt = false): Action[] {
  const items = splitKeyValues(text);
  if (items.length === 1 && items[0]!.key.toLowerCase() === 'drop' && items[0]!.sep === '') return [];
  const out: Action[] = [];
  for (const kv of items) {
    if (kv.key.toLowerCase() === 'drop' && kv.sep === '') err('"drop" must not be accompanied by any other action or instruction');
    const a = parseOne(kv, opts);
    const target = a.type === 'set_field' ? a.field : a.type === 'move' ? a.dst.field : undefined;
    if (!inCt && (target === 'ct_mark' || target === 'ct_label')) err('cannot set CT fields outside of ct action');
    // A write under an all-zero mask changes nothing; OpenFlow 1.0's `load:` form cannot even
    // express it, so it is dropped here and every version prints and reparses the same list.
    if (a.type === 'set_field' && a.mask === 0n) continue;
    out.push(a);
  }
  return out;
}

/** Parses the text after `actions=`. An empty string or `drop` is the empty list. */
export function parseActions(text: string, opts: ActionSyntaxOptions = {}): Action[] {
  const out = parseActionList(text, opts);
  const conj = out.find((a) => a.type === 'conjunction');
  const other = out.find((a) => a.type !== 'conjunction' && a.type !== 'note');
  if (conj && other) err(`"conjunction" actions may be used along with "note" but not any other kind of action (such as the "${other.type}" action used here)`);
  const g = out.findIndex((a) => a.type === 'goto_table');
  if (g >= 0 && g !== out.length - 1) err('invalid instruction ordering: apply_actions must appear before goto_table, for OpenFlow 1.1+ compatibility');
  return out;
}

// ---- printing ----

const LEGACY: Record<string, string> = {
  eth_src: 'mod_dl_src',
  eth_dst: 'mod_dl_dst',
  ip_src: 'mod_nw_src',
  ip_dst: 'mod_nw_dst',
  tcp_src: 'mod_tp_src',
  udp_src: 'mod_tp_src',
  sctp_src: 'mod_tp_src',
  tcp_dst: 'mod_tp_dst',
  udp_dst: 'mod_tp_dst',
  sctp_dst: 'mod_tp_dst',
};

/** `load:` actions for a set_field, one per run of mask bits (at most 64 bits each). */
function loads(a: SetFieldAction): string[] {
  const f = ofField(a.field);
  const out: string[] = [];
  let b = 0;
  while (b < f.bits) {
    if (((a.mask >> BigInt(b)) & 1n) === 0n) {
      b++;
      continue;
    }
    let e = b;
    while (e + 1 < f.bits && e + 1 < b + 64 && ((a.mask >> BigInt(e + 1)) & 1n) === 1n) e++;
    const n = e - b + 1;
    out.push(`load:${hex((a.value >> BigInt(b)) & ones(n))}->${formatSubField({ field: f.name, ofs: b, bits: n })}`);
    b = e + 1;
  }
  return out;
}

function printSetField(a: SetFieldAction, version: OfVersion, opts: ActionPrintOptions): string {
  const f = ofField(a.field);
  const full = a.mask === ones(f.bits);
  const asSetField = (): string => `set_field:${formatFieldValue(f, a.value, a.mask, opts.ports)}->${f.name}`;
  // Variable-length fields (tun_metadata) always travel as NXAST_REG_LOAD2, which prints as set_field.
  if (version >= 15 || f.name === 'tun_metadata0') return asSetField();
  if (a.load) return loads(a).join(',');
  if (version >= 12) return full ? asSetField() : loads(a).join(',');
  if (full) {
    const legacy = LEGACY[f.name];
    if (legacy) return `${legacy}:${formatFieldValue(f, a.value, a.mask, opts.ports)}`;
    if (f.name === 'ip_dscp') return `mod_nw_tos:${a.value << 2n}`;
    if (f.name === 'nw_tos') return `mod_nw_tos:${a.value}`;
    if (f.name === 'vlan_vid') return `mod_vlan_vid:${a.value & 0xfffn}`;
    if (f.name === 'vlan_pcp') return `mod_vlan_pcp:${a.value}`;
  }
  return loads(a).join(',');
}

/** Does the match guarantee an 802.1Q header (so mod_vlan_vid needs no push)? */
function hasVlan(match: Match | undefined): boolean {
  return match !== undefined && (getMask(match, 'vlan_tci') & 0x1000n) !== 0n && (getValue(match, 'vlan_tci') & 0x1000n) !== 0n;
}

function printNat(n: NatSpec): string {
  if (!n.kind) return 'nat';
  let s = `nat(${n.kind}`;
  if (n.ipMin !== undefined) {
    s += '=';
    const ports = n.portMin !== undefined;
    if (n.ipv6) {
      const fmt = (x: bigint): string => (ports ? `[${formatIpv6(x)}]` : formatIpv6(x));
      s += fmt(n.ipMin);
      if (n.ipMax !== undefined && n.ipMax !== n.ipMin) s += `-${fmt(n.ipMax)}`;
    } else {
      s += formatIpv4(n.ipMin);
      if (n.ipMax !== undefined && n.ipMax !== n.ipMin) s += `-${formatIpv4(n.ipMax)}`;
    }
    if (ports) {
      s += `:${n.portMin}`;
      if (n.portMax !== undefined && n.portMax !== n.portMin) s += `-${n.portMax}`;
    }
  }
  if (n.persistent) s += ',persistent';
  if (n.hash) s += ',hash';
  if (n.random) s += ',random';
  return `${s})`;
}

function printController(a: ControllerAction): string {
  if (a.reason === 'action' && a.id === 0 && a.userdata === undefined && !a.pause && a.meterId === undefined) return `CONTROLLER:${a.maxLen}`;
  const parts: string[] = [];
  if (a.reason !== 'action') parts.push(`reason=${a.reason}`);
  if (a.maxLen !== 0xffff) parts.push(`max_len=${a.maxLen}`);
  if (a.id !== 0) parts.push(`id=${a.id}`);
  if (a.userdata !== undefined) parts.push(`userdata=${formatHexBytes(a.userdata)}`);
  if (a.pause) parts.push('pause');
  if (a.meterId !== undefined) parts.push(`meter_id=${a.meterId}`);
  return `controller(${parts.join(',')})`;
}

function printOne(a: Action, version: OfVersion, opts: ActionPrintOptions): string {
  switch (a.type) {
    case 'output': {
      const p = formatPort(a.port, opts.ports);
      if (a.maxLen !== undefined) return `output(port=${p},max_len=${a.maxLen})`;
      // Switch ports print as output:N, reserved ones by bare name (LOCAL, IN_PORT …).
      return a.port < OFPP.MAX ? `output:${p}` : p;
    }
    case 'output_reg':
      return a.maxLen !== undefined ? `output(port=${formatSubField(a.src)},max_len=${a.maxLen})` : `output:${formatSubField(a.src)}`;
    case 'controller':
      return printController(a);
    case 'resubmit': {
      if (a.table === undefined) return `resubmit:${formatPort(a.port ?? OFPP.IN_PORT, opts.ports)}`;
      const port = a.port === undefined || a.port === OFPP.IN_PORT ? '' : formatPort(a.port, opts.ports);
      return `resubmit(${port},${a.table})`;
    }
    case 'goto_table':
      return version === 10 ? `resubmit(,${a.table})` : `goto_table:${a.table}`;
    case 'set_field':
      return printSetField(a, version, opts);
    case 'move':
      return `move:${formatSubField(a.src)}->${formatSubField(a.dst)}`;
    case 'stack_push':
      return `push:${formatSubField(a.src)}`;
    case 'stack_pop':
      return `pop:${formatSubField(a.dst)}`;
    case 'dec_ttl':
      return a.ids === undefined ? 'dec_ttl' : `dec_ttl(${a.ids.join(',')})`;
    case 'push_vlan':
      return `push_vlan:0x${a.tpid.toString(16)}`;
    case 'pop_vlan':
      return version === 10 ? 'strip_vlan' : 'pop_vlan';
    case 'mod_vlan_vid':
      if (version < 12) return `mod_vlan_vid:${a.vid}`;
      return `${hasVlan(opts.match) ? '' : 'push_vlan:0x8100,'}set_field:${a.vid | 0x1000}->vlan_vid`;
    case 'mod_vlan_pcp':
      if (version < 12) return `mod_vlan_pcp:${a.pcp}`;
      return `${hasVlan(opts.match) ? '' : 'push_vlan:0x8100,'}set_field:${a.pcp}->vlan_pcp`;
    case 'conjunction':
      return `conjunction(${a.id},${a.clause}/${a.nClauses})`;
    case 'group':
      return `group:${a.group}`;
    case 'clone':
      return `clone(${printList(a.actions, version, opts)})`;
    case 'ct': {
      const parts: string[] = [];
      if (a.commit) parts.push('commit');
      if (a.force) parts.push('force');
      if (a.table !== undefined) parts.push(`table=${a.table}`);
      if (typeof a.zone === 'object') parts.push(`zone=${formatSubField(a.zone)}`);
      else if (a.zone) parts.push(`zone=${a.zone}`);
      if (a.nat) parts.push(printNat(a.nat));
      if (a.exec.length) parts.push(`exec(${printList(a.exec, version, opts)})`);
      if (a.alg !== undefined) parts.push(`alg=${a.alg === 21 ? 'ftp' : a.alg === 69 ? 'tftp' : a.alg}`);
      return `ct(${parts.join(',')})`;
    }
    case 'ct_clear':
      return 'ct_clear';
    case 'note':
      return `note:${formatHexBytes(a.data)}`;
    case 'exit':
      return 'exit';
  }
}

function printList(actions: readonly Action[], version: OfVersion, opts: ActionPrintOptions): string {
  if (actions.length === 0) return 'drop';
  return actions.map((a) => printOne(a, version, opts)).join(',');
}

/** The action list as ovs-ofctl prints it after `actions=` ("drop" when empty). */
export function printActions(actions: readonly Action[], opts: ActionPrintOptions = {}): string {
  return printList(actions, opts.version ?? 10, opts);
}
