/**
 * Match expressions → switch matches. The expression is normalized to disjunctive normal form
 * (packages/lflow); each conjunction becomes one switch match on the logical datapath, with
 * port names turned into port keys in reg14/reg15. A conjunction naming a port this chassis
 * does not know matches nothing here and is left out, as ovn-controller does.
 *
 * Crossproducts are factored into OpenFlow conjunctive matches, like OVN: when a top-level AND
 * has two or more operands that are each a set of alternatives (`ip4.src == $big && tcp.dst ==
 * {80, 443}`), each operand becomes one clause with one flow per alternative, and a single flow
 * on `conj_id` carries the actions — |A| + |B| + 1 flows instead of |A| × |B|.
 */
import { normalize, type Conjunction, type Dnf, type Expr } from '@ovnts/lflow';
import type { Match } from '@ovnts/switch/dist/src/flow/match.js';
import { cloneMatch, newMatch, readBits, setMasked } from '@ovnts/switch/dist/src/flow/match.js';
import { INPORT_LOC, locOfBase, METADATA_LOC, OUTPORT_LOC } from './fields.js';

export interface MatchContext {
  /** The logical datapath's tunnel key (OpenFlow metadata). */
  readonly datapathKey: number;
  /** The tunnel key of a logical port or multicast group of this datapath, if known here. */
  portKey(name: string): number | undefined;
  isChassisResident(port: string): boolean;
  /** Bound on the disjunctive normal form's size (see lflow's normalize; default 100000). */
  readonly maxConjunctions?: number;
}

export interface CompiledMatch {
  /** Plain matches: one flow each with the logical flow's actions. */
  readonly matches: Match[];
  /** Conjunctive form, when it was smaller: clause k's alternatives, and the common part. */
  readonly conjunction: { readonly clauses: readonly Match[][]; readonly common: Match } | undefined;
}

/** Crossproducts smaller than this are left as plain flows (conjunctive matching costs 1 + n flows too). */
const CONJ_THRESHOLD = 4;

function ones(bits: number): bigint {
  return (1n << BigInt(bits)) - 1n;
}

/** ANDs one conjunction into a match; false when they contradict (or name an unknown port). */
function addConjunction(m: Match, c: Conjunction, ctx: MatchContext): boolean {
  for (const [base, fm] of c.bits) {
    const loc = locOfBase(base);
    if (!loc) throw new Error(`cannot compile a match on ${base}`);
    const oldMask = readBits(m.mask, loc);
    const oldValue = readBits(m.value, loc);
    if ((oldValue & fm.mask) !== (fm.value & oldMask)) return false;
    setMasked(m, loc, oldValue | fm.value, oldMask | fm.mask);
  }
  for (const [name, port] of c.equal) {
    const key = ctx.portKey(port);
    if (key === undefined) return false;
    const loc = name === 'inport' ? INPORT_LOC : OUTPORT_LOC;
    const oldMask = readBits(m.mask, loc);
    if (oldMask !== 0n && readBits(m.value, loc) !== BigInt(key)) return false;
    setMasked(m, loc, key, ones(loc.bits));
  }
  return true;
}

function baseMatch(ctx: MatchContext): Match {
  const m = newMatch();
  setMasked(m, METADATA_LOC, ctx.datapathKey, ones(64));
  return m;
}

/**
 * One conjunction as switch matches on `start` (none when it contradicts `start` or names a port
 * unknown here). String fields are nominal, so the parser admits only port equalities.
 */
function toMatches(c: Conjunction, ctx: MatchContext, start: Match): Match[] {
  if (c.differ.size) throw new Error('port inequalities cannot be compiled');
  const m = cloneMatch(start);
  return addConjunction(m, c, ctx) ? [m] : [];
}

function matchesOf(dnf: Dnf, ctx: MatchContext, start: Match): Match[] {
  const out: Match[] = [];
  const seen = new Set<string>();
  for (const c of dnf) {
    for (const m of toMatches(c, ctx, start)) {
      const k = `${m.value.join(',')}/${m.mask.join(',')}`;
      if (!seen.has(k)) {
        seen.add(k);
        out.push(m);
      }
    }
  }
  return out;
}

/** The bits every match of a list fixes to the same value (what a clause always requires). */
function invariant(list: readonly Match[]): Match {
  const first = list[0]!;
  const mask = first.mask.slice();
  for (const m of list) for (let i = 0; i < mask.length; i++) mask[i] = (mask[i]! & m.mask[i]! & ~(first.value[i]! ^ m.value[i]!)) >>> 0;
  const value = first.value.map((v, i) => (v & mask[i]!) >>> 0);
  return { value, mask };
}

function compatible(a: Match, b: Match): boolean {
  for (let i = 0; i < a.mask.length; i++) if (((a.value[i]! ^ b.value[i]!) & a.mask[i]! & b.mask[i]!) !== 0) return false;
  return true;
}

/**
 * Drops clause alternatives that contradict what another clause always requires: in
 * `ip4.src == {…} && tcp.dst == {…}` the tcp.dst clause's IPv6 alternatives (from tcp's
 * prerequisite `ip`) can never meet the ip4.src clause's `eth.type == 0x800`.
 */
function pruneClauses(clauses: Match[][]): Match[][] {
  const inv = clauses.map((c) => (c.length ? invariant(c) : undefined));
  return clauses.map((alts, k) => alts.filter((m) => inv.every((x, j) => j === k || !x || compatible(m, x))));
}

/** Compiles a parsed match expression for one datapath. */
export function compileMatch(expr: Expr, ctx: MatchContext): CompiledMatch {
  const opts = { isChassisResident: (p: string) => ctx.isChassisResident(p), ...(ctx.maxConjunctions !== undefined ? { maxConjunctions: ctx.maxConjunctions } : {}) };
  const start = baseMatch(ctx);
  if (expr.kind === 'and') {
    // `a && (b && c)` (northd wraps ACL matches in parentheses) is one AND of a, b and c.
    const flat = (e: Expr): Expr[] => (e.kind === 'and' ? e.args.flatMap(flat) : [e]);
    const parts = flat(expr).map((a) => normalize(a, opts));
    const multi = parts.filter((d) => d.length > 1);
    const single = parts.filter((d) => d.length <= 1);
    const product = multi.reduce((n, d) => n * d.length, 1);
    const sum = multi.reduce((n, d) => n + d.length, 0);
    if (multi.length >= 2 && product >= CONJ_THRESHOLD && product > sum + 1) {
      if (single.some((d) => d.length === 0)) return { matches: [], conjunction: undefined };
      const common = cloneMatch(start);
      let ok = true;
      for (const d of single) if (d.length === 1) ok &&= addConjunction(common, d[0]!, ctx);
      if (ok) {
        const clauses = pruneClauses(multi.map((d) => matchesOf(d, ctx, common)));
        if (clauses.some((c) => c.length === 0)) return { matches: [], conjunction: undefined };
        return { matches: [], conjunction: { clauses, common } };
      }
    }
  }
  return { matches: matchesOf(normalize(expr, opts), ctx, start), conjunction: undefined };
}
