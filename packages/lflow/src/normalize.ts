/**
 * Normalization of a match expression to disjunctive normal form over field/value/mask matches:
 * a list of conjunctions, each of which is what one switch flow can match (every root field at
 * most once, with a bitmask). This is the step before compilation to flows.
 *
 * How each construct becomes masked matches, as OVN does it:
 *   - `f == c/m` is one masked match; `f == {a, b}` one per member (an OR);
 *   - `f != c/m` is an OR of single-bit matches, one per 1-bit of m, each with that bit flipped;
 *   - `f < c`, `f >= c`, … are an interval, covered by the fewest prefix-masked matches; ranges on
 *     the same bits ANDed together (`tcp.dst >= 1000 && tcp.dst <= 2000`) are intersected first,
 *     so their cover is minimal too;
 *   - every comparison carries its field's prerequisites; predicates become their definitions;
 *   - string fields (inport/outport) keep port names: equality, or a list of excluded names
 *     (the compiler turns names into port keys).
 * Not done yet: conjunctive-match (OpenFlow `conjunction`) factoring of crossproducts, and
 * subsumption between conjunctions (only exact duplicates are removed).
 */
import type { Expr, FieldRef, IntConst, RelOp, SetItem } from './ast.js';
import { negateRelOp } from './ast.js';
import { ones, predicateDefinition, prerequisites, symbolOf } from './definitions.js';
import type { Packet } from './interp.js';
import { ovnSymbols, type FieldSymbol, type SymbolTable } from './symbols.js';

/** Bits of a root field to match: (field & mask) == value. */
export interface FieldMatch {
  readonly value: bigint;
  readonly mask: bigint;
}

/** One conjunction: every entry must hold. */
export interface Conjunction {
  readonly bits: ReadonlyMap<string, FieldMatch>;
  /** String fields that must equal a name. */
  readonly equal: ReadonlyMap<string, string>;
  /** String fields that must differ from every listed name. */
  readonly differ: ReadonlyMap<string, readonly string[]>;
}

/** A disjunction of conjunctions; [] never matches, [empty conjunction] always matches. */
export type Dnf = readonly Conjunction[];

export interface NormalizeOptions {
  readonly symtab?: SymbolTable;
  /** Resolves is_chassis_resident("port") to a constant, as ovn-controller does on its chassis. */
  readonly isChassisResident?: (port: string) => boolean;
  /**
   * Largest number of conjunctions any step may produce (default 100000): crossproducts of
   * negated wide fields grow fast, and a conjunctive-match compiler is the real answer to them.
   */
  readonly maxConjunctions?: number;
}

/** Thrown when normalization would exceed NormalizeOptions.maxConjunctions. */
export class NormalizeLimitError extends Error {
  override readonly name = 'NormalizeLimitError';
}

/** Negation-free intermediate form with masked-match leaves. */
type Node =
  | { readonly t: 'const'; readonly v: boolean }
  | { readonly t: 'bits'; readonly base: string; readonly value: bigint; readonly mask: bigint }
  | { readonly t: 'str'; readonly base: string; readonly name: string; readonly eq: boolean }
  /** An interval lo..hi of nBits bits at bit `shift` of `base`. */
  | { readonly t: 'range'; readonly base: string; readonly shift: number; readonly nBits: number; readonly lo: bigint; readonly hi: bigint }
  | { readonly t: 'and' | 'or'; readonly args: readonly Node[] };

const TRUE_NODE: Node = { t: 'const', v: true };
const FALSE_NODE: Node = { t: 'const', v: false };

function and(args: Node[]): Node {
  const flat: Node[] = [];
  for (const a of args) {
    if (a.t === 'and') flat.push(...a.args);
    else if (a.t === 'const') {
      if (!a.v) return FALSE_NODE;
    } else flat.push(a);
  }
  return flat.length === 0 ? TRUE_NODE : flat.length === 1 ? flat[0]! : { t: 'and', args: flat };
}

function or(args: Node[]): Node {
  const flat: Node[] = [];
  for (const a of args) {
    if (a.t === 'or') flat.push(...a.args);
    else if (a.t === 'const') {
      if (a.v) return TRUE_NODE;
    } else flat.push(a);
  }
  return flat.length === 0 ? FALSE_NODE : flat.length === 1 ? flat[0]! : { t: 'or', args: flat };
}

class Lowering {
  constructor(
    private readonly symtab: SymbolTable,
    private readonly resident: ((port: string) => boolean) | undefined,
  ) {}

  /** `e` (or !e when neg) without negations. */
  lower(e: Expr, neg: boolean): Node {
    switch (e.kind) {
      case 'bool':
        return e.value !== neg ? TRUE_NODE : FALSE_NODE;
      case 'not':
        return this.lower(e.arg, !neg);
      case 'and':
      case 'or': {
        const args = e.args.map((a) => this.lower(a, neg));
        return (e.kind === 'and') !== neg ? and(args) : or(args);
      }
      case 'resident': {
        if (!this.resident) throw new Error('is_chassis_resident() needs an isChassisResident option');
        return this.resident(e.port) !== neg ? TRUE_NODE : FALSE_NODE;
      }
      case 'test': {
        const sym = symbolOf(this.symtab, e.field.symbol);
        if (sym.kind === 'predicate') return this.lower(predicateDefinition(this.symtab, sym), neg);
        return this.cmp(sym, e.field, neg ? '==' : '!=', [{ kind: 'int', value: 0n, mask: undefined, format: 'hex' }]);
      }
      case 'cmp':
        return this.cmp(symbolOf(this.symtab, e.field.symbol), e.field, neg ? negateRelOp(e.op) : e.op, e.items);
    }
  }

  private cmp(sym: FieldSymbol, ref: FieldRef, op: RelOp, items: readonly SetItem[]): Node {
    if (sym.kind === 'predicate') {
      const def = predicateDefinition(this.symtab, sym);
      const parts = intsOf(items).map((c) => this.lower(def, ((c.value & 1n) === 1n) === (op === '!=')));
      return op === '==' ? or(parts) : and(parts);
    }
    let body: Node;
    if (sym.kind === 'string') {
      const names: string[] = [];
      for (const i of items) {
        if (i.kind === 'str') names.push(i.value);
        else if (i.kind === 'portgroup') names.push(...i.ports);
      }
      if (names.length === 0) return op === '!=' ? TRUE_NODE : FALSE_NODE;
      const leaves = names.map((name): Node => ({ t: 'str', base: sym.base, name, eq: op === '==' }));
      body = op === '==' ? or(leaves) : and(leaves);
    } else {
      const cs = intsOf(items);
      if (cs.length === 0) return op === '!=' ? TRUE_NODE : FALSE_NODE;
      const shift = sym.baseOfs + ref.ofs;
      const full = ones(ref.nBits);
      const sh = BigInt(shift);
      if (op === '==') {
        body = or(cs.map((c) => bitsLeaf(sym.base, (c.value & (c.mask ?? full)) << sh, ((c.mask ?? full) & full) << sh)));
      } else if (op === '!=') {
        // x & m != v: some 1-bit of m differs from v's bit there.
        body = and(cs.map((c) => {
          const m = (c.mask ?? full) & full;
          const alts: Node[] = [];
          for (let b = 0; b < ref.nBits; b++) {
            const bit = 1n << BigInt(b);
            if (m & bit) alts.push(bitsLeaf(sym.base, ((c.value & bit) ^ bit) << sh, bit << sh));
          }
          return or(alts);
        }));
      } else {
        const v = cs[0]!.value;
        const lo = op === '>' ? v + 1n : op === '>=' ? v : 0n;
        const hi = op === '<' ? v - 1n : op === '<=' ? v : full;
        body = lo > hi ? FALSE_NODE : { t: 'range', base: sym.base, shift, nBits: ref.nBits, lo, hi };
      }
    }
    const pre = prerequisites(this.symtab, sym).map((p) => this.lower(p, false));
    return and([...pre, body]);
  }
}

function bitsLeaf(base: string, value: bigint, mask: bigint): Node {
  return mask === 0n ? TRUE_NODE : { t: 'bits', base, value: value & mask, mask };
}

function intsOf(items: readonly SetItem[]): IntConst[] {
  const out: IntConst[] = [];
  for (const i of items) {
    if (i.kind === 'int') out.push(i);
    else if (i.kind === 'addrset') out.push(...i.values);
  }
  return out;
}

/** The fewest prefix-masked matches covering lo..hi (each an aligned power-of-two block). */
export function rangeToMasks(lo: bigint, hi: bigint, nBits: number): FieldMatch[] {
  const out: FieldMatch[] = [];
  const full = ones(nBits);
  while (lo <= hi) {
    let size = 1n;
    // Grow the block while lo stays aligned to it and it stays inside the range.
    while (size <= full && (lo & (size * 2n - 1n)) === 0n && lo + size * 2n - 1n <= hi) size *= 2n;
    out.push({ value: lo, mask: full & ~(size - 1n) });
    lo += size;
  }
  return out;
}

const EMPTY: Conjunction = { bits: new Map(), equal: new Map(), differ: new Map() };

/** Conjunction of two conjunctions, or undefined when they contradict each other. */
function merge(a: Conjunction, b: Conjunction): Conjunction | undefined {
  if (b.bits.size === 0 && b.equal.size === 0 && b.differ.size === 0) return a;
  if (a.bits.size === 0 && a.equal.size === 0 && a.differ.size === 0) return b;
  const bits = new Map(a.bits);
  for (const [f, m] of b.bits) {
    const o = bits.get(f);
    if (!o) bits.set(f, m);
    else {
      const common = o.mask & m.mask;
      if ((o.value & common) !== (m.value & common)) return undefined;
      bits.set(f, { value: o.value | m.value, mask: o.mask | m.mask });
    }
  }
  const equal = new Map(a.equal);
  for (const [f, n] of b.equal) {
    const o = equal.get(f);
    if (o !== undefined && o !== n) return undefined;
    equal.set(f, n);
  }
  const differ = new Map<string, readonly string[]>();
  for (const src of [a.differ, b.differ]) {
    for (const [f, names] of src) {
      const eq = equal.get(f);
      if (eq !== undefined) {
        if (names.includes(eq)) return undefined;
        continue; // implied by the equality
      }
      const prev = differ.get(f) ?? [];
      differ.set(f, [...new Set([...prev, ...names])].sort());
    }
  }
  for (const [f, eq] of equal) {
    const d = differ.get(f);
    if (d?.includes(eq)) return undefined;
    differ.delete(f);
  }
  return { bits, equal, differ };
}

function leafConj(n: Node): Conjunction {
  if (n.t === 'bits') return { bits: new Map([[n.base, { value: n.value, mask: n.mask }]]), equal: new Map(), differ: new Map() };
  if (n.t === 'str') {
    return n.eq
      ? { bits: new Map(), equal: new Map([[n.base, n.name]]), differ: new Map() }
      : { bits: new Map(), equal: new Map(), differ: new Map([[n.base, [n.name]]]) };
  }
  throw new Error('not a leaf');
}

/** Intersects the ranges on identical bits among AND operands, so each gets one minimal cover. */
function intersectRanges(args: readonly Node[]): Node[] {
  const out: Node[] = [];
  const ranges = new Map<string, { base: string; shift: number; nBits: number; lo: bigint; hi: bigint }>();
  for (const a of args) {
    if (a.t !== 'range') {
      out.push(a);
      continue;
    }
    const key = `${a.base}/${a.shift}/${a.nBits}`;
    const o = ranges.get(key);
    if (!o) ranges.set(key, { ...a });
    else {
      if (a.lo > o.lo) o.lo = a.lo;
      if (a.hi < o.hi) o.hi = a.hi;
    }
  }
  for (const r of ranges.values()) out.push(r.lo > r.hi ? FALSE_NODE : { t: 'range', ...r });
  return out;
}

function dnfOf(n: Node, limit: number): Conjunction[] {
  switch (n.t) {
    case 'const':
      return n.v ? [EMPTY] : [];
    case 'bits':
    case 'str':
      return [leafConj(n)];
    case 'range': {
      const sh = BigInt(n.shift);
      return rangeToMasks(n.lo, n.hi, n.nBits).map((m) =>
        m.mask === 0n ? EMPTY : { bits: new Map([[n.base, { value: m.value << sh, mask: m.mask << sh }]]), equal: new Map(), differ: new Map() },
      );
    }
    case 'or':
      {
      const out = n.args.flatMap((a) => dnfOf(a, limit));
      if (out.length > limit) throw new NormalizeLimitError(`normalization exceeds ${limit} conjunctions`);
      return out;
    }
    case 'and': {
      // Smaller operands first, so contradictions prune the crossproduct early.
      const parts = intersectRanges(n.args).map((a) => dnfOf(a, limit)).sort((a, b) => a.length - b.length);
      let acc: Conjunction[] = [EMPTY];
      for (const p of parts) {
        const next: Conjunction[] = [];
        for (const x of acc) {
          for (const y of p) {
            const m = merge(x, y);
            if (m) next.push(m);
          }
        }
        acc = next;
        if (acc.length > limit) throw new NormalizeLimitError(`normalization exceeds ${limit} conjunctions`);
        if (acc.length === 0) break;
      }
      return acc;
    }
  }
}

/** A canonical text of a conjunction, for de-duplication and for tests. */
export function conjunctionKey(c: Conjunction): string {
  const parts: string[] = [];
  for (const f of [...c.bits.keys()].sort()) {
    const m = c.bits.get(f)!;
    parts.push(`${f}=0x${m.value.toString(16)}/0x${m.mask.toString(16)}`);
  }
  for (const f of [...c.equal.keys()].sort()) parts.push(`${f}=${JSON.stringify(c.equal.get(f))}`);
  for (const f of [...c.differ.keys()].sort()) parts.push(`${f}!=${JSON.stringify(c.differ.get(f))}`);
  return parts.join(',');
}

/** Normalizes a match expression to DNF; see the module comment for the rules. */
export function normalize(e: Expr, opts: NormalizeOptions = {}): Dnf {
  const node = new Lowering(opts.symtab ?? ovnSymbols(), opts.isChassisResident).lower(e, false);
  const seen = new Set<string>();
  const out: Conjunction[] = [];
  for (const c of dnfOf(node, opts.maxConjunctions ?? 100_000)) {
    const k = conjunctionKey(c);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(c);
  }
  return out;
}

/** Whether a packet satisfies a DNF (the flow-table view of a match). */
export function dnfMatches(dnf: Dnf, pkt: Packet): boolean {
  return dnf.some((c) => {
    for (const [f, m] of c.bits) if (((pkt.bits.get(f) ?? 0n) & m.mask) !== m.value) return false;
    for (const [f, n] of c.equal) if ((pkt.strings.get(f) ?? '') !== n) return false;
    for (const [f, ns] of c.differ) if (ns.includes(pkt.strings.get(f) ?? '')) return false;
    return true;
  });
}
