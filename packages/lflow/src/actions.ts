/**
 * OVN's logical-flow action language (ovn-sb(5), Logical_Flow "actions"): the AST, a parser with
 * ovn-controller's checks, and a printer giving the canonical text (`a; b; c;`).
 *
 * The AST has few node kinds on purpose: statements that move or set fields (assign, exchange,
 * ip.ttl--), control (next, output, drop), `dst = fn(args)` functions whose result lands in a
 * register bit, `name(args);` calls, and `name { body };` blocks that act on a copy or a new
 * packet. Which names exist, and the shape of their arguments, is a table (ACTIONS below), so
 * that the tracer and the flow compiler switch on a closed set of names.
 */
import type { FieldRef, IntConst, StrConst } from './ast.js';
import type { TokenKind } from './lexer.js';
import { TokenStream } from './token-stream.js';
import { constantWidth, fieldRefText } from './parser.js';
import { printConstant } from './printer.js';
import { ovnSymbols, type FieldSymbol, type SymbolTable } from './symbols.js';

/** A source operand: a constant or a field. */
export type Value =
  | { readonly kind: 'const'; readonly c: IntConst | StrConst }
  | { readonly kind: 'field'; readonly ref: FieldRef };

/** One argument of a function or call: `value`, `key = value`, a set, a word, or a range. */
export type ArgValue =
  | Value
  | { readonly kind: 'set'; readonly items: readonly (IntConst | StrConst)[] }
  | { readonly kind: 'word'; readonly word: string }
  | { readonly kind: 'range'; readonly lo: IntConst; readonly hi: IntConst };

export interface Arg {
  readonly key: string | undefined;
  readonly value: ArgValue;
}

/** A load-balancer backend of ct_lb/ct_lb_mark: an address and an optional port. */
export interface Backend {
  readonly ip: IntConst;
  readonly port: number | undefined;
}

export type Action =
  | { readonly kind: 'next'; readonly pipeline: 'ingress' | 'egress' | undefined; readonly table: number | undefined }
  | { readonly kind: 'output' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'assign'; readonly dst: FieldRef; readonly src: Value }
  | { readonly kind: 'exchange'; readonly a: FieldRef; readonly b: FieldRef }
  | { readonly kind: 'dec_ttl' }
  /** `dst = fn(args);`: check_in_port_sec, lookup_arp, put_dhcp_opts, … */
  | { readonly kind: 'result'; readonly dst: FieldRef; readonly fn: string; readonly args: readonly Arg[] }
  /** `name;` or `name(args);`: ct_next, ct_dnat(10.0.0.1), put_arp(…), log(…), … */
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Arg[] | undefined }
  /** ct_lb / ct_lb_mark with backends (the argument-less forms are calls). */
  | { readonly kind: 'ct_lb'; readonly name: 'ct_lb' | 'ct_lb_mark'; readonly backends: readonly Backend[]; readonly hashFields: string | undefined; readonly flags: readonly string[] }
  /** `name { body };`: arp, icmp4, nd_na, clone, ct_commit, … */
  | { readonly kind: 'block'; readonly name: string; readonly body: readonly Action[] };

/** What may follow a name in statement position, and how. */
type Shape = 'bare' | 'call' | 'bare-or-call' | 'block' | 'bare-or-block';

const ACTIONS: ReadonlyMap<string, Shape> = new Map<string, Shape>([
  // Connection tracking.
  ['ct_next', 'bare-or-call'],
  ['ct_commit', 'bare-or-block'],
  ['ct_dnat', 'bare-or-call'],
  ['ct_snat', 'bare-or-call'],
  ['ct_dnat_in_czone', 'bare-or-call'],
  ['ct_snat_in_czone', 'bare-or-call'],
  ['ct_commit_nat', 'bare'],
  ['ct_snat_to_vip', 'bare'],
  ['ct_clear', 'bare'],
  ['ct_lb', 'bare-or-call'],
  ['ct_lb_mark', 'bare-or-call'],
  // Packets built in answer to this one, or copies of it.
  ['arp', 'block'],
  ['nd_na', 'block'],
  ['nd_na_router', 'block'],
  ['nd_ns', 'block'],
  ['icmp4', 'block'],
  ['icmp4_error', 'block'],
  ['icmp6', 'block'],
  ['icmp6_error', 'block'],
  ['tcp_reset', 'block'],
  ['sctp_abort', 'block'],
  ['reject', 'block'],
  ['igmp', 'bare'],
  ['clone', 'block'],
  // Controller actions without a result.
  ['put_arp', 'call'],
  ['put_nd', 'call'],
  ['get_arp', 'call'],
  ['get_nd', 'call'],
  ['put_fdb', 'call'],
  ['log', 'call'],
  ['set_queue', 'call'],
  ['trigger_event', 'call'],
  ['handle_svc_check', 'call'],
  ['handle_dhcpv6_reply', 'bare'],
  ['bind_vport', 'call'],
  ['fwd_group', 'call'],
  ['commit_ecmp_nh', 'call'],
  ['commit_lb_aff', 'call'],
  ['mac_cache_use', 'bare'],
]);

/** Functions usable only as `dst = fn(…)`; the value is the width the destination must have. */
const FUNCTIONS: ReadonlyMap<string, number> = new Map([
  ['check_in_port_sec', 1],
  ['check_out_port_sec', 1],
  ['chk_lb_hairpin', 1],
  ['chk_lb_hairpin_reply', 1],
  ['lookup_arp', 1],
  ['lookup_arp_ip', 1],
  ['lookup_nd', 1],
  ['lookup_nd_ip', 1],
  ['put_dhcp_opts', 1],
  ['put_dhcpv6_opts', 1],
  ['put_nd_ra_opts', 1],
  ['dns_lookup', 1],
  ['check_pkt_larger', 1],
  ['lookup_fdb', 1],
  ['chk_ecmp_nh', 1],
  ['chk_ecmp_nh_mac', 1],
  ['chk_lb_aff', 1],
  ['select', 0],
  ['get_fdb', 0],
]);

export interface ActionParseOptions {
  readonly symtab?: SymbolTable;
}

class ActionParser extends TokenStream {
  constructor(
    input: string,
    private readonly symtab: SymbolTable,
  ) {
    super(input);
  }

  parse(): Action[] {
    // An empty list (or only a comment, as northd writes `/* drop */`) means drop.
    return this.list('end');
  }

  /** Statements up to (not including) `until`; each ends with `;`. */
  private list(until: TokenKind): Action[] {
    const out: Action[] = [];
    let guard = 0;
    while (!this.at(until)) {
      if (++guard > 100_000) this.syntaxError('expecting end of actions');
      if (this.at('id') && this.tok.text === 'drop' && this.lx.peek().kind !== '=') {
        // `drop;` is a whole action list, never one statement among others (as in ovn-controller).
        if (out.length) this.syntaxError('expecting action');
        this.advance();
        if (!this.at(';')) this.syntaxError("expecting `;'");
        this.advance();
        if (!this.at(until)) this.syntaxError('expecting end of input');
        return [{ kind: 'drop' }];
      }
      out.push(this.action());
      if (!this.at(';')) this.syntaxError("expecting `;'");
      this.advance();
    }
    return out;
  }

  private action(): Action {
    const t = this.tok;
    if (t.kind !== 'id') this.syntaxError('expecting action');
    const next = this.lx.peek().kind;
    if (next === '=' || next === '<->' || next === '[' || next === '--') return this.assignment();
    switch (t.text) {
      case 'next':
        return this.next();
      case 'output':
        this.advance();
        return { kind: 'output' };
    }
    const shape = ACTIONS.get(t.text);
    if (!shape) {
      if (this.symtab.get(t.text)) return this.assignment();
      this.syntaxError('expecting action');
    }
    this.advance();
    if ((t.text === 'ct_lb' || t.text === 'ct_lb_mark') && this.at('(')) return this.ctLb(t.text);
    if (this.at('(') && (shape === 'call' || shape === 'bare-or-call')) return { kind: 'call', name: t.text, args: this.args() };
    if (this.at('(') && t.text === 'ct_commit') {
      // The pre-20.06 form ct_commit(ct_mark=…, ct_label=…) is still accepted.
      return { kind: 'call', name: t.text, args: this.args() };
    }
    if (this.at('{') && (shape === 'block' || shape === 'bare-or-block')) {
      this.advance();
      const body = this.list('}');
      this.advance();
      return { kind: 'block', name: t.text, body };
    }
    if (shape === 'bare' || shape === 'bare-or-call' || shape === 'bare-or-block') return { kind: 'call', name: t.text, args: undefined };
    if (shape === 'block') this.syntaxError("expecting `{'");
    return this.syntaxError("expecting `('");
  }

  private next(): Action {
    this.advance();
    if (!this.at('(')) return { kind: 'next', pipeline: undefined, table: undefined };
    this.advance();
    let pipeline: 'ingress' | 'egress' | undefined;
    let table: number | undefined;
    if (this.at('int')) table = this.smallInt();
    else {
      for (let guard = 0; !this.at(')') && guard < 4; guard++) {
        if (!this.at('id') || (this.tok.text !== 'pipeline' && this.tok.text !== 'table')) this.syntaxError('expecting "pipeline" or "table"');
        const key = this.advance().text;
        this.expect('=');
        if (key === 'pipeline') {
          const word: string = this.tok.text;
          if (!this.at('id') || (word !== 'ingress' && word !== 'egress')) this.syntaxError('expecting "ingress" or "egress"');
          pipeline = this.advance().text as 'ingress' | 'egress';
        } else table = this.smallInt();
        if (this.at(',')) this.advance();
      }
    }
    this.expect(')');
    if (table !== undefined && table > 255) this.error(`${table} is not a valid table number.`);
    return { kind: 'next', pipeline, table };
  }

  private field(): { ref: FieldRef; sym: FieldSymbol } {
    const t = this.tok;
    if (t.kind !== 'id') this.syntaxError('expecting field name');
    const sym = this.symtab.get(t.text);
    if (!sym) this.syntaxError('expecting field name');
    this.advance();
    if (sym.kind === 'predicate') this.error(`Predicate symbol ${sym.name} used where lvalue required.`, t.start, t.end);
    if (!this.at('[')) return { ref: { symbol: sym.name, ofs: 0, nBits: sym.width, subscript: false }, sym };
    if (sym.width === 0) this.error(`Cannot select subfield of string field ${sym.name}.`, t.start, this.tok.end);
    this.advance();
    const lo = this.smallInt();
    let hi = lo;
    if (this.at('..')) {
      this.advance();
      hi = this.smallInt();
    }
    this.expect(']');
    if (lo > hi || hi >= sym.width) this.error(`Cannot select bits ${lo} to ${hi} of ${sym.width}-bit field ${sym.name}.`, t.start, this.prevEnd);
    return { ref: { symbol: sym.name, ofs: lo, nBits: hi - lo + 1, subscript: true }, sym };
  }

  private assignment(): Action {
    const start = this.tok.start;
    const { ref: dst, sym } = this.field();
    if (this.at('--')) {
      if (dst.symbol !== 'ip.ttl' || dst.subscript) this.syntaxError('expecting `=\' or `<->\'');
      this.advance();
      return { kind: 'dec_ttl' };
    }
    if (this.at('<->')) {
      this.advance();
      const { ref: b } = this.field();
      if ((b.nBits === 0) !== (dst.nBits === 0)) this.error(`Can't exchange ${kindOf(dst)} field (${dst.symbol}) with ${kindOf(b)} field (${b.symbol}).`, start, this.prevEnd);
      if (b.nBits !== dst.nBits) this.error(`Can't exchange ${dst.nBits}-bit field with ${b.nBits}-bit field.`, start, this.prevEnd);
      return { kind: 'exchange', a: dst, b };
    }
    this.expect('=');
    const t = this.tok;
    if (t.kind === 'id' && this.lx.peek().kind === '(' && FUNCTIONS.has(t.text)) {
      this.advance();
      const args = this.args();
      const width = FUNCTIONS.get(t.text)!;
      if (width && dst.nBits !== width) this.error(`${t.text}() requires a ${width}-bit destination, not ${dst.nBits} bits.`, start, this.prevEnd);
      return { kind: 'result', dst, fn: t.text, args };
    }
    if (t.kind === 'id') {
      const { ref: src } = this.field();
      if ((src.nBits === 0) !== (dst.nBits === 0)) this.error(`Can't assign ${kindOf(src)} field (${src.symbol}) to ${kindOf(dst)} field (${dst.symbol}).`, start, this.prevEnd);
      if (src.nBits !== dst.nBits) this.error(`Can't assign ${src.nBits}-bit value to ${dst.nBits}-bit destination.`, start, this.prevEnd);
      return { kind: 'assign', dst, src: { kind: 'field', ref: src } };
    }
    if (t.kind === 'string') {
      if (sym.width !== 0) this.error(`Integer field ${sym.name} is not compatible with string constant.`, start, t.end);
      this.advance();
      return { kind: 'assign', dst, src: { kind: 'const', c: { kind: 'str', value: t.text } } };
    }
    if (t.kind !== 'int') this.syntaxError('expecting constant or field');
    if (sym.width === 0) this.error(`String field ${sym.name} is not compatible with integer constant.`, start, t.end);
    this.advance();
    const c: IntConst = { kind: 'int', value: t.value, mask: t.mask, format: t.format };
    const w = constantWidth(c);
    if (w > dst.nBits) this.error(`${w}-bit constant is not compatible with ${dst.nBits}-bit field ${fieldRefText(dst)}.`, start, this.prevEnd);
    return { kind: 'assign', dst, src: { kind: 'const', c } };
  }

  /** `( arg, arg, … )` where an arg is `[key =] value`. */
  private args(): Arg[] {
    this.expect('(');
    const out: Arg[] = [];
    for (let guard = 0; !this.at(')'); guard++) {
      if (guard > 10_000 || this.at('end')) this.syntaxError("expecting `)'");
      let key: string | undefined;
      if ((this.at('id') || this.at('int')) && this.lx.peek().kind === '=') {
        // `key = value`; select() writes integer keys (`select(1=50, 2=50)`).
        const k = this.advance();
        key = k.kind === 'id' ? k.text : this.input.slice(k.start, k.end);
        this.advance();
      }
      out.push({ key, value: this.argValue() });
      if (this.at(',') || this.at(';')) this.advance();
      else if (!this.at(')')) this.syntaxError("expecting `,' or `)'");
    }
    this.advance();
    return out;
  }

  private argValue(): ArgValue {
    const t = this.tok;
    switch (t.kind) {
      case 'id': {
        const sym = this.symtab.get(t.text);
        // Predicates name protocols here (`proto = tcp`), not fields.
        if (sym && sym.kind !== 'predicate') return { kind: 'field', ref: this.field().ref };
        this.advance();
        return { kind: 'word', word: t.text };
      }
      case 'string':
        this.advance();
        return { kind: 'const', c: { kind: 'str', value: t.text } };
      case 'int': {
        this.advance();
        const c: IntConst = { kind: 'int', value: t.value, mask: t.mask, format: t.format };
        if (this.at('-') && this.lx.peek().kind === 'int') {
          this.advance();
          const h = this.advance();
          return { kind: 'range', lo: c, hi: { kind: 'int', value: h.value, mask: h.mask, format: h.format } };
        }
        return { kind: 'const', c };
      }
      case '{': {
        this.advance();
        const items: (IntConst | StrConst)[] = [];
        for (let guard = 0; !this.at('}'); guard++) {
          if (guard > 10_000) this.syntaxError("expecting `}'");
          const v = this.advance();
          if (v.kind === 'int') items.push({ kind: 'int', value: v.value, mask: v.mask, format: v.format });
          else if (v.kind === 'string') items.push({ kind: 'str', value: v.text });
          else this.error('Syntax error: expecting constant.', v.start, v.end);
          if (this.at(',')) this.advance();
        }
        this.advance();
        return { kind: 'set', items };
      }
      default:
        return this.syntaxError('expecting argument');
    }
  }

  /** ct_lb(backends=IP[:PORT],…; hash_fields="…"; flag…) and the older ct_lb(IP[:PORT],…). */
  private ctLb(name: 'ct_lb' | 'ct_lb_mark'): Action {
    this.expect('(');
    const backends: Backend[] = [];
    let hashFields: string | undefined;
    const flags: string[] = [];
    if (this.at('id') && this.tok.text === 'backends') {
      this.advance();
      this.expect('=');
    }
    for (let guard = 0; !this.at(')') && !this.at(';'); guard++) {
      if (guard > 10_000 || this.at('end')) this.syntaxError("expecting `)'");
      backends.push(this.backend());
      if (this.at(',')) this.advance();
    }
    for (let guard = 0; this.at(';') && guard < 100; guard++) {
      this.advance();
      if (!this.at('id')) this.syntaxError('expecting ct_lb option');
      const key = this.advance().text;
      if (key === 'hash_fields') {
        this.expect('=');
        if (!this.at('string')) this.syntaxError('expecting string');
        hashFields = this.advance().text;
      } else flags.push(key);
    }
    this.expect(')');
    return { kind: 'ct_lb', name, backends, hashFields, flags };
  }

  private backend(): Backend {
    let bracket = false;
    if (this.at('[')) {
      bracket = true;
      this.advance();
    }
    const t = this.tok;
    if (t.kind !== 'int' || (t.format !== 'ipv4' && t.format !== 'ipv6')) this.syntaxError('expecting IP address');
    this.advance();
    if (bracket) this.expect(']');
    let port: number | undefined;
    if (this.at(':')) {
      this.advance();
      port = this.smallInt();
      if (port > 65535) this.error(`${port} is not a valid port.`);
    }
    return { ip: { kind: 'int', value: t.value, mask: undefined, format: t.format }, port };
  }
}

/** Parses an action list; throws MatchError with ovn-controller's wording and a position. */
export function parseActions(input: string, opts: ActionParseOptions = {}): Action[] {
  return new ActionParser(input, opts.symtab ?? ovnSymbols()).parse();
}

function kindOf(ref: FieldRef): string {
  return ref.nBits === 0 ? 'string' : 'integer';
}

function printValue(v: ArgValue): string {
  switch (v.kind) {
    case 'const':
      return v.c.kind === 'str' ? JSON.stringify(v.c.value) : printConstant(v.c);
    case 'field':
      return fieldRefText(v.ref);
    case 'word':
      return v.word;
    case 'range':
      return `${printConstant(v.lo)}-${printConstant(v.hi)}`;
    case 'set':
      return `{${v.items.map((c) => (c.kind === 'str' ? JSON.stringify(c.value) : printConstant(c))).join(', ')}}`;
  }
}

function printArgs(args: readonly Arg[]): string {
  return args.map((a) => (a.key === undefined ? printValue(a.value) : `${a.key} = ${printValue(a.value)}`)).join(', ');
}

function printBackend(b: Backend): string {
  const ip = printConstant(b.ip);
  if (b.port === undefined) return ip;
  return b.ip.format === 'ipv6' ? `[${ip}]:${b.port}` : `${ip}:${b.port}`;
}

/** One statement in OVN's canonical form, with its terminating `;`. */
export function printAction(a: Action): string {
  switch (a.kind) {
    case 'next':
      if (a.pipeline === undefined && a.table === undefined) return 'next;';
      if (a.pipeline === undefined) return `next(${a.table});`;
      if (a.table === undefined) return `next(pipeline=${a.pipeline});`;
      return `next(pipeline=${a.pipeline}, table=${a.table});`;
    case 'output':
    case 'drop':
      return `${a.kind};`;
    case 'dec_ttl':
      return 'ip.ttl--;';
    case 'assign':
      return `${fieldRefText(a.dst)} = ${printValue(a.src)};`;
    case 'exchange':
      return `${fieldRefText(a.a)} <-> ${fieldRefText(a.b)};`;
    case 'result':
      return `${fieldRefText(a.dst)} = ${a.fn}(${printArgs(a.args)});`;
    case 'call':
      return a.args === undefined ? `${a.name};` : `${a.name}(${printArgs(a.args)});`;
    case 'ct_lb': {
      const parts = [`backends=${a.backends.map(printBackend).join(',')}`];
      if (a.hashFields !== undefined) parts.push(`hash_fields=${JSON.stringify(a.hashFields)}`);
      parts.push(...a.flags);
      return `${a.name}(${parts.join('; ')});`;
    }
    case 'block':
      // An empty ct_commit prints as the bare action, as OVN formats it.
      if (a.body.length === 0) return a.name === 'ct_commit' ? 'ct_commit;' : `${a.name} { };`;
      return `${a.name} { ${printActions(a.body)} };`;
  }
}

/** An action list in canonical form: statements separated by single spaces. */
export function printActions(list: readonly Action[]): string {
  return list.map(printAction).join(' ');
}

/** The argument named `key` (or, with a number, the positional argument at that index). */
export function argOf(args: readonly Arg[] | undefined, key: string | number): ArgValue | undefined {
  if (!args) return undefined;
  if (typeof key === 'number') return args.filter((a) => a.key === undefined)[key]?.value;
  return args.find((a) => a.key === key)?.value;
}
