/**
 * Parser for match expressions, with the semantic checks ovn-controller applies while parsing
 * (unknown fields, constant widths and types, which operators a field's level allows, negation
 * of nominal fields), reported with ovn-controller's wording and the position of the offending text.
 *
 * Grammar (ovn-sb(5)):
 *   expr    := unary (('&&' unary)+ | ('||' unary)+)?      -- mixing needs parentheses
 *   unary   := '!' primary | primary                       -- `!` takes an atomic operand
 *   primary := '(' expr ')' | 'is_chassis_resident' '(' string ')' | field
 *            | field relop cset | cset relop field | cset relop field relop cset | '0' | '1'
 *   field   := id ('[' int ('..' int)? ']')?
 *   cset    := const | '{' const (','? const)* '}'
 *   const   := int | int/mask | string | $addrset | @portgroup
 */
import type { AddrSetRef, CmpExpr, Expr, FieldRef, IntConst, PortGroupRef, RelOp, SetItem, StrConst } from './ast.js';
import { turnRelOp } from './ast.js';
import { Lexer, type TokenKind } from './lexer.js';
import { TokenStream } from './token-stream.js';
import { ovnSymbols, type FieldSymbol, type SymbolTable } from './symbols.js';

/** Resolves `$name` and `@name`; returning undefined makes the name an error, as in ovn-controller. */
export interface MatchLookup {
  /** Members of an address set, each an address or value/mask in match syntax ("10.0.0.0/24"). */
  addressSet?(name: string): readonly string[] | undefined;
  /** Port names of a port group. */
  portGroup?(name: string): readonly string[] | undefined;
}

export interface ParseOptions {
  readonly symtab?: SymbolTable;
  readonly lookup?: MatchLookup;
}

const RELOPS: ReadonlySet<TokenKind> = new Set(['==', '!=', '<', '<=', '>', '>=']);

/** Members of address sets, parsed once per array the lookup returns. */
const addrSetCache = new WeakMap<readonly string[], readonly IntConst[]>();

/** Parses an address-set member list; entries that are not integer constants are skipped, as OVN does. */
export function parseAddressSet(values: readonly string[]): readonly IntConst[] {
  let out = addrSetCache.get(values);
  if (out) return out;
  const list: IntConst[] = [];
  for (const v of values) {
    try {
      const lx = new Lexer(v);
      const t = lx.next();
      if (t.kind === 'int' && lx.next().kind === 'end') list.push({ kind: 'int', value: t.value, mask: t.mask, format: t.format });
    } catch {
      // An invalid entry is dropped (ovn-controller logs a warning and ignores it).
    }
  }
  out = list;
  addrSetCache.set(values, out);
  return out;
}

/** Bits needed by a constant, for the width check: addresses count their full size. */
export function constantWidth(c: IntConst): number {
  switch (c.format) {
    case 'ipv4': return 32;
    case 'ipv6': return 128;
    case 'mac': return 48;
    default: return c.value === 0n ? 0 : c.value.toString(2).length;
  }
}

/** The text a field reference is written as: `reg0`, `reg0[3]`, `reg0[0..15]`. */
export function fieldRefText(f: FieldRef): string {
  if (!f.subscript) return f.symbol;
  return f.nBits === 1 ? `${f.symbol}[${f.ofs}]` : `${f.symbol}[${f.ofs}..${f.ofs + f.nBits - 1}]`;
}

class Parser extends TokenStream {
  /** Parity of the enclosing `!` operators, which decides what nominal fields may be tested for. */
  private not = false;

  constructor(
    input: string,
    private readonly symtab: SymbolTable,
    private readonly lookup: MatchLookup | undefined,
  ) {
    super(input);
  }

  parse(): Expr {
    const e = this.expr();
    if (!this.at('end')) this.syntaxError('expecting end of input');
    return e;
  }

  private expr(): Expr {
    const first = this.unary();
    const op = this.tok.kind;
    if (op !== '&&' && op !== '||') return first;
    const args: Expr[] = [first];
    while (this.tok.kind === op) {
      this.advance();
      args.push(this.unary());
    }
    if (this.at('&&') || this.at('||')) this.error('&& and || must be parenthesized when used together.');
    return op === '&&' ? { kind: 'and', args } : { kind: 'or', args };
  }

  private unary(): Expr {
    if (!this.at('!')) return this.primary().e;
    const bang = this.tok.start;
    this.advance();
    this.not = !this.not;
    const { e, atomic } = this.primary();
    this.not = !this.not;
    if (!atomic) this.error('Missing parentheses around operand of !.', bang, this.tok.start);
    return { kind: 'not', arg: e };
  }

  private primary(): { e: Expr; atomic: boolean } {
    const t = this.tok;
    if (t.kind === '(') {
      this.advance();
      const e = this.expr();
      this.expect(')');
      return { e, atomic: true };
    }
    if (t.kind === 'id') {
      if (this.lx.peek().kind === '(') {
        if (t.text !== 'is_chassis_resident') this.error('parsing function name');
        this.advance();
        this.advance();
        if (!this.at('string')) this.syntaxError('expecting string');
        const port = this.tok.text;
        this.advance();
        this.expect(')');
        return { e: { kind: 'resident', port }, atomic: true };
      }
      const { ref, sym } = this.field();
      if (!RELOPS.has(this.tok.kind)) {
        if (ref.nBits === 0 || this.at('=')) this.syntaxError('expecting relational operator');
        if (ref.nBits > 1 && !this.not) {
          this.error("Explicit `!= 0' is required for inequality test of multibit field against 0.", t.start, this.tok.start);
        }
        // A bare field means `field != 0`; check it like that comparison.
        this.checkCmp(sym, ref, '!=', [{ kind: 'int', value: 0n, mask: undefined, format: 'hex' }], false, t.start, this.tok.start);
        return { e: { kind: 'test', field: ref }, atomic: true };
      }
      const op = this.tok.kind as RelOp;
      this.advance();
      const { items, braces } = this.constantSet();
      return { e: this.makeCmp(sym, ref, op, items, braces, t.start), atomic: false };
    }
    // A constant first: a Boolean literal, `const relop field`, or a range `c1 < field < c2`.
    const { items, braces } = this.constantSet();
    if (!RELOPS.has(this.tok.kind) && items.length === 1 && !braces) {
      const c = items[0]!;
      if (c.kind === 'int' && c.format === 'dec' && c.mask === undefined && c.value <= 1n) {
        return { e: { kind: 'bool', value: c.value === 1n }, atomic: true };
      }
    }
    if (!RELOPS.has(this.tok.kind)) this.syntaxError('expecting relational operator');
    const op1 = this.tok.kind as RelOp;
    this.advance();
    const fieldStart = this.tok.start;
    const { ref, sym } = this.field();
    if (!RELOPS.has(this.tok.kind)) return { e: this.makeCmp(sym, ref, turnRelOp(op1), items, braces, t.start), atomic: false };
    const op2 = this.tok.kind as RelOp;
    const lower = (op: RelOp): boolean => op === '<' || op === '<=';
    const upper = (op: RelOp): boolean => op === '>' || op === '>=';
    if (!((lower(op1) && lower(op2)) || (upper(op1) && upper(op2)))) {
      this.error("Range expressions must have the form `x < field < y' or `x > field > y', with each `<' optionally replaced by `<=' or `>' by `>=').", t.start, this.tok.end);
    }
    this.advance();
    const first = this.makeCmp(sym, ref, turnRelOp(op1), items, braces, t.start);
    const rhs = this.constantSet();
    const second = this.makeCmp(sym, ref, op2, rhs.items, rhs.braces, fieldStart);
    return { e: { kind: 'and', args: [first, second] }, atomic: false };
  }

  private field(): { ref: FieldRef; sym: FieldSymbol } {
    const t = this.tok;
    if (t.kind !== 'id') this.syntaxError('expecting field name');
    const sym = this.symtab.get(t.text);
    if (!sym) this.syntaxError('expecting field name');
    this.advance();
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
    const end = this.prevEnd;
    if (lo > hi) this.error(`Invalid bit range ${lo} to ${hi}.`, t.start, end);
    if (hi >= sym.width) this.error(`Cannot select bits ${lo} to ${hi} of ${sym.width}-bit field ${sym.name}.`, t.start, end);
    if (sym.level === 'nominal' && (lo !== 0 || hi !== sym.width - 1)) {
      this.error(`Cannot select subfield of nominal field ${sym.name}.`, t.start, end);
    }
    return { ref: { symbol: sym.name, ofs: lo, nBits: hi - lo + 1, subscript: true }, sym };
  }

  private constantSet(): { items: SetItem[]; braces: boolean } {
    const items: SetItem[] = [];
    const type = { v: undefined as 'int' | 'str' | undefined };
    if (!this.at('{')) {
      items.push(this.constant(type));
      return { items, braces: false };
    }
    this.advance();
    for (;;) {
      items.push(this.constant(type));
      if (this.at(',')) this.advance();
      if (this.at('}')) break;
    }
    this.advance();
    return { items, braces: true };
  }

  /** One constant; `type` enforces that a set holds only integers or only strings. */
  private constant(type: { v: 'int' | 'str' | undefined }): SetItem {
    const t = this.tok;
    const want = (k: 'int' | 'str'): void => {
      if (type.v !== undefined && type.v !== k) this.syntaxError(`expecting ${type.v === 'int' ? 'integer' : 'string'}`);
      type.v = k;
    };
    switch (t.kind) {
      case 'string': {
        want('str');
        this.advance();
        return { kind: 'str', value: t.text } satisfies StrConst;
      }
      case 'int': {
        want('int');
        this.advance();
        return { kind: 'int', value: t.value, mask: t.mask, format: t.format } satisfies IntConst;
      }
      case 'addrset': {
        const raw = this.lookup?.addressSet?.(t.text);
        if (!raw) this.syntaxError('expecting address set name');
        want('int');
        this.advance();
        return { kind: 'addrset', name: t.text, values: parseAddressSet(raw) } satisfies AddrSetRef;
      }
      case 'portgroup': {
        const ports = this.lookup?.portGroup?.(t.text);
        if (!ports) this.syntaxError('expecting port group name');
        want('str');
        this.advance();
        return { kind: 'portgroup', name: t.text, ports: [...ports] } satisfies PortGroupRef;
      }
      default:
        return this.syntaxError('expecting constant');
    }
  }

  private makeCmp(sym: FieldSymbol, ref: FieldRef, op: RelOp, items: SetItem[], braces: boolean, start: number): CmpExpr {
    this.checkCmp(sym, ref, op, items, braces, start, this.prevEnd);
    return { kind: 'cmp', field: ref, op, items, braces };
  }

  /** The checks of ovn-controller's make_cmp: type, width, operator versus level, nominal negation. */
  private checkCmp(sym: FieldSymbol, ref: FieldRef, op: RelOp, items: readonly SetItem[], braces: boolean, start: number, end: number): void {
    const fail = (m: string): never => this.error(m, start, end);
    const isStr = items.length > 0 && (items[0]!.kind === 'str' || items[0]!.kind === 'portgroup');
    if (isStr !== (sym.width === 0)) {
      fail(`${sym.width ? 'Integer' : 'String'} field ${sym.name} is not compatible with ${isStr ? 'string' : 'integer'} constant.`);
    }
    const ints: IntConst[] = [];
    for (const it of items) {
      if (it.kind === 'int') ints.push(it);
      else if (it.kind === 'addrset') ints.push(...it.values);
    }
    if (sym.width) {
      for (const c of ints) {
        const w = constantWidth(c);
        if (w > ref.nBits) fail(`${w}-bit constant is not compatible with ${ref.nBits}-bit field ${fieldRefText(ref)}.`);
      }
    }
    if (op !== '==' && op !== '!=') {
      if (braces || items.some((i) => i.kind === 'addrset')) fail('Only == and != operators may be used with value sets.');
      if (sym.level !== 'ordinal') fail(`Only == and != operators may be used with ${sym.level === 'nominal' ? 'nominal' : 'Boolean'} field ${sym.name}.`);
      if (ints[0]?.mask !== undefined) {
        fail('Only == and != operators may be used with masked constants.  Consider using subfields instead (e.g. eth.src[0..15] > 0x1111 in place of eth.src > 00:00:00:00:11:11/00:00:00:00:ff:ff).');
      }
    }
    if (sym.level !== 'nominal') return;
    if (sym.kind === 'predicate') {
      // A nominal predicate (one that tests e.g. eth.type) can only be required, never excluded.
      for (const c of ints) {
        const positive = ((c.value & 1n) === 1n) !== (op === '!=') !== this.not;
        if (!positive) {
          const n = sym.name;
          fail(`Nominal predicate ${n} may only be tested positively, e.g. \`${n}' or \`${n} == 1' but not \`!${n}' or \`${n} == 0'.`);
        }
      }
    } else if (op !== (this.not ? '!=' : '==')) {
      fail(`Nominal field ${sym.name} may only be tested for equality (taking enclosing \`!' operators into account).`);
    }
  }
}

/** Parses a match expression; throws MatchError with ovn-controller's message and a position. */
export function parseMatch(input: string, opts: ParseOptions = {}): Expr {
  return new Parser(input, opts.symtab ?? ovnSymbols(), opts.lookup).parse();
}
