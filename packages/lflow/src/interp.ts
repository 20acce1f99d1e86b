/**
 * A direct interpreter of match expressions over one packet: the reference semantics that the
 * normalizer (and later the flow compiler) are tested against, so it is written to be obviously
 * right rather than fast, and shares no logic with normalize.ts beyond the symbol table.
 *
 * Semantics as in OVN: negations are pushed down to the comparisons first, then every
 * comparison of a field is ANDed with the field's prerequisites, so `!(tcp.dst == 80)` is
 * `tcp && tcp.dst != 80` and never matches a UDP packet; predicates stand for their definitions.
 */
import type { Expr, FieldRef, IntConst, RelOp, SetItem } from './ast.js';
import { negateRelOp } from './ast.js';
import { ones, predicateDefinition, prerequisites, symbolOf } from './definitions.js';
import { Lexer } from './lexer.js';
import { ovnSymbols, type FieldSymbol, type SymbolTable } from './symbols.js';

/** Field values of one packet, by root field (see FieldSymbol.base); absent fields read as 0 / "". */
export interface Packet {
  readonly bits: ReadonlyMap<string, bigint>;
  readonly strings: ReadonlyMap<string, string>;
}

export type PacketValue = bigint | number | string;

/**
 * Builds a packet from values given by field name: any field or subfield, optionally with a
 * subscript ("reg0[0..3]"), so subfields and their parents can be given either way. Integer
 * fields take numbers or constant text ("10.0.0.1", "00:00:00:00:00:01", "0x800"); constant
 * text with a mask ("10.0.0.0/8") sets only the masked bits. String fields take port names.
 * Later entries override earlier ones where bits overlap.
 */
export function makePacket(fields: Readonly<Record<string, PacketValue>>, symtab: SymbolTable = ovnSymbols()): Packet {
  const bits = new Map<string, bigint>();
  const strings = new Map<string, string>();
  for (const [key, raw] of Object.entries(fields)) {
    const m = /^([^[]+)(?:\[(\d+)(?:\.\.(\d+))?\])?$/.exec(key);
    const sym = m ? symtab.get(m[1]!) : undefined;
    if (!m || !sym || sym.kind === 'predicate') throw new Error(`makePacket: ${key} is not a field`);
    if (sym.kind === 'string') {
      if (typeof raw !== 'string') throw new Error(`makePacket: ${key} takes a port name`);
      strings.set(sym.base, raw);
      continue;
    }
    const lo = m[2] === undefined ? 0 : Number(m[2]);
    const hi = m[3] === undefined ? (m[2] === undefined ? sym.width - 1 : lo) : Number(m[3]);
    if (lo > hi || hi >= sym.width) throw new Error(`makePacket: bad bit range in ${key}`);
    let value: bigint;
    let mask = ones(hi - lo + 1);
    if (typeof raw === 'string') {
      const t = new Lexer(raw).next();
      if (t.kind !== 'int') throw new Error(`makePacket: ${key}: ${raw} is not an integer constant`);
      value = t.value;
      if (t.mask !== undefined) mask &= t.mask;
    } else value = BigInt(raw);
    const shift = BigInt(sym.baseOfs + lo);
    const old = bits.get(sym.base) ?? 0n;
    bits.set(sym.base, (old & ~(mask << shift)) | ((value & mask) << shift));
  }
  return { bits, strings };
}

export interface EvalOptions {
  readonly symtab?: SymbolTable;
  /** Decides is_chassis_resident("port"); required only when the expression uses it. */
  readonly isChassisResident?: (port: string) => boolean;
}

class Interp {
  constructor(
    private readonly pkt: Packet,
    private readonly symtab: SymbolTable,
    private readonly resident: ((port: string) => boolean) | undefined,
  ) {}

  /** The value of `e`, or of !e when `neg`. */
  ev(e: Expr, neg: boolean): boolean {
    switch (e.kind) {
      case 'bool':
        return e.value !== neg;
      case 'not':
        return this.ev(e.arg, !neg);
      case 'and':
      case 'or': {
        // De Morgan: under negation an AND is an OR of negations and vice versa.
        const all = (e.kind === 'and') !== neg;
        return all ? e.args.every((a) => this.ev(a, neg)) : e.args.some((a) => this.ev(a, neg));
      }
      case 'resident': {
        if (!this.resident) throw new Error('is_chassis_resident() needs an isChassisResident option');
        return this.resident(e.port) !== neg;
      }
      case 'test': {
        const sym = symbolOf(this.symtab, e.field.symbol);
        if (sym.kind === 'predicate') return this.ev(predicateDefinition(this.symtab, sym), neg);
        return this.leaf(sym, e.field, neg ? '==' : '!=', [{ kind: 'int', value: 0n, mask: undefined, format: 'hex' }]);
      }
      case 'cmp': {
        const sym = symbolOf(this.symtab, e.field.symbol);
        return this.leaf(sym, e.field, neg ? negateRelOp(e.op) : e.op, e.items);
      }
    }
  }

  /** A comparison after negations were applied to its operator. */
  private leaf(sym: FieldSymbol, ref: FieldRef, op: RelOp, items: readonly SetItem[]): boolean {
    if (sym.kind === 'predicate') {
      // `pred == 1` is pred, `pred == 0` is !pred; a set ORs (==) or ANDs (!=) the values.
      const one = (c: IntConst): boolean => {
        const positive = ((c.value & 1n) === 1n) !== (op === '!=');
        return this.ev(predicateDefinition(this.symtab, sym), !positive);
      };
      const cs = ints(items);
      return op === '==' ? cs.some(one) : cs.every(one);
    }
    // An empty set is a constant: nothing equals a member, everything differs from all members.
    if (countItems(items) === 0) return op === '!=';
    if (!prerequisites(this.symtab, sym).every((p) => this.ev(p, false))) return false;
    if (sym.kind === 'string') {
      const x = this.pkt.strings.get(sym.base) ?? '';
      const names = strs(items);
      return op === '==' ? names.includes(x) : !names.includes(x);
    }
    const x = ((this.pkt.bits.get(sym.base) ?? 0n) >> BigInt(sym.baseOfs + ref.ofs)) & ones(ref.nBits);
    const cs = ints(items);
    const eq = (c: IntConst): boolean => {
      const m = c.mask ?? ones(ref.nBits);
      return (x & m) === (c.value & m);
    };
    switch (op) {
      case '==': return cs.some(eq);
      case '!=': return !cs.some(eq);
      case '<': return x < cs[0]!.value;
      case '<=': return x <= cs[0]!.value;
      case '>': return x > cs[0]!.value;
      case '>=': return x >= cs[0]!.value;
    }
  }
}

function ints(items: readonly SetItem[]): IntConst[] {
  const out: IntConst[] = [];
  for (const i of items) {
    if (i.kind === 'int') out.push(i);
    else if (i.kind === 'addrset') out.push(...i.values);
  }
  return out;
}

function strs(items: readonly SetItem[]): string[] {
  const out: string[] = [];
  for (const i of items) {
    if (i.kind === 'str') out.push(i.value);
    else if (i.kind === 'portgroup') out.push(...i.ports);
  }
  return out;
}

function countItems(items: readonly SetItem[]): number {
  let n = 0;
  for (const i of items) n += i.kind === 'addrset' ? i.values.length : i.kind === 'portgroup' ? i.ports.length : 1;
  return n;
}

/** Whether `e` matches packet `pkt`. */
export function evaluate(e: Expr, pkt: Packet, opts: EvalOptions = {}): boolean {
  return new Interp(pkt, opts.symtab ?? ovnSymbols(), opts.isChassisResident).ev(e, false);
}
