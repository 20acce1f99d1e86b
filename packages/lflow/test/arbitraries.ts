/**
 * fast-check generators of valid match ASTs. Validity depends on the parity of enclosing `!`
 * (nominal fields may only be tested for equality once negations are pushed down), so
 * expressions come in two mutually recursive flavours, `pos` and `neg`.
 */
import fc from 'fast-check';
import type { Expr, FieldRef, IntConst, RelOp, SetItem } from '../src/index.js';
import type { IntFormat } from '../src/index.js';

export const ADDRESS_SETS: Record<string, string[]> = { as1: ['10.0.0.1', '10.0.0.2/31'], empty: [] };
export const PORT_GROUPS: Record<string, string[]> = { pg1: ['a', 'b'] };
export const lookup = {
  addressSet: (n: string): string[] | undefined => ADDRESS_SETS[n],
  portGroup: (n: string): string[] | undefined => PORT_GROUPS[n],
};

interface IntField {
  readonly ref: FieldRef;
  readonly formats: readonly IntFormat[];
  /** Largest constant to generate (small domains make random packets hit). */
  readonly max: bigint;
  readonly nominal: boolean;
  readonly addrsets?: boolean;
}

const ref = (symbol: string, nBits: number, ofs = 0, subscript = false): FieldRef => ({ symbol, ofs, nBits, subscript });

/** Domain: `wide` for the round-trip test (full value ranges), `small` for semantic tests. */
export function fields(wide: boolean): IntField[] {
  const w = (bits: number, small: bigint): bigint => (wide ? (1n << BigInt(bits)) - 1n : small);
  const list: IntField[] = [
    { ref: ref('tcp.dst', 16), formats: ['dec', 'hex'], max: w(16, 9n), nominal: false },
    { ref: ref('udp.src', 16), formats: ['dec'], max: w(16, 3n), nominal: false },
    { ref: ref('reg0', 32, 0, true), formats: ['dec'], max: 1n, nominal: false },
    { ref: ref('reg0', 4, 0, true), formats: ['dec', 'hex'], max: 15n, nominal: false },
    { ref: ref('ip4.src', 32), formats: ['ipv4'], max: w(32, 0x0a000003n), nominal: false, addrsets: true },
    { ref: ref('eth.type', 16), formats: ['hex'], max: w(16, 0x86ddn), nominal: true },
    { ref: ref('ip.proto', 8), formats: ['dec'], max: w(8, 17n), nominal: true },
    { ref: ref('ct_mark.blocked', 1), formats: ['dec'], max: 1n, nominal: false },
  ];
  if (wide) {
    list.push(
      { ref: ref('eth.src', 48), formats: ['mac', 'hex'], max: w(48, 0n), nominal: false },
      { ref: ref('ip6.dst', 128), formats: ['ipv6', 'hex'], max: w(128, 0n), nominal: false },
      { ref: ref('xxreg1', 128), formats: ['hex', 'ipv6'], max: w(128, 0n), nominal: false },
      { ref: ref('reg9', 1, 5, true), formats: ['dec'], max: 1n, nominal: false },
    );
  }
  return list;
}

const BOOL_FIELDS = ['ct.est', 'ct.new', 'ct.trk', 'ct.rpl', 'flags.loopback', 'eth.mcast', 'ip.later_frag', 'vlan.present', 'ip.is_frag'];
const NOMINAL_PREDICATES = ['tcp', 'udp', 'ip4', 'ip6', 'ip', 'arp'];
const PORTS = ['a', 'b', 'c'];

function constant(f: IntField, relational: boolean): fc.Arbitrary<IntConst> {
  const minBits = (fmt: IntFormat): number => (fmt === 'ipv4' ? 32 : fmt === 'mac' ? 48 : fmt === 'ipv6' ? 128 : 0);
  const formats = f.formats.filter((x) => minBits(x) <= f.ref.nBits);
  // Decimal constants are limited to 64 bits by the lexer.
  const cap = (fmt: IntFormat): bigint => (fmt === 'dec' && f.max > (1n << 64n) - 1n ? (1n << 64n) - 1n : f.max);
  return fc.constantFrom(...formats).chain((format) =>
    fc.record({
      v: fc.bigInt(0n, cap(format)),
      m: relational || f.nominal ? fc.constant(undefined) : fc.option(fc.bigInt(0n, cap(format)), { nil: undefined, freq: 3 }),
    }).map(({ v, m }): IntConst => ({ kind: 'int', value: m === undefined ? v : v & m, mask: m, format })),
  );
}

function leaf(wide: boolean, neg: boolean): fc.Arbitrary<Expr> {
  const fs = fields(wide);
  const eqOp: RelOp = neg ? '!=' : '==';
  const intCmp = fc.constantFrom(...fs).chain((f) => {
    const ops: RelOp[] = f.nominal ? [eqOp] : ['==', '!=', '<', '<=', '>', '>='];
    return fc.constantFrom(...ops).chain((op) => {
      if (op !== '==' && op !== '!=') {
        return constant(f, true).map((c): Expr => ({ kind: 'cmp', field: f.ref, op, items: [c], braces: false }));
      }
      const item: fc.Arbitrary<SetItem> = f.addrsets
        ? fc.oneof(constant(f, false), fc.constantFrom('as1', 'empty').map((name): SetItem => ({ kind: 'addrset', name, values: [] })))
        : constant(f, false);
      return fc.record({ items: fc.array(item, { minLength: 1, maxLength: 3 }), braces: fc.boolean() }).map(
        ({ items, braces }): Expr => ({ kind: 'cmp', field: f.ref, op, items, braces: braces || items.length !== 1 }),
      );
    });
  });
  const strCmp = fc.record({
    symbol: fc.constantFrom('inport', 'outport'),
    items: fc.array(fc.oneof(fc.constantFrom(...PORTS).map((value): SetItem => ({ kind: 'str', value })), fc.constant<SetItem>({ kind: 'portgroup', name: 'pg1', ports: PORTS_PG1 })), { minLength: 1, maxLength: 3 }),
    braces: fc.boolean(),
  }).map(({ symbol, items, braces }): Expr => ({ kind: 'cmp', field: ref(symbol, 0), op: eqOp, items, braces: braces || items.length !== 1 }));
  const tests: fc.Arbitrary<Expr>[] = [
    fc.constantFrom(...BOOL_FIELDS).map((s): Expr => ({ kind: 'test', field: ref(s, 1) })),
    fc.constant<Expr>({ kind: 'test', field: ref('reg0', 1, 2, true) }),
  ];
  if (!neg) tests.push(fc.constantFrom(...NOMINAL_PREDICATES).map((s): Expr => ({ kind: 'test', field: ref(s, 1) })));
  else tests.push(fc.constant<Expr>({ kind: 'test', field: ref('reg0', 4, 0, true) }));
  return fc.oneof(
    { arbitrary: intCmp, weight: 4 },
    { arbitrary: strCmp, weight: 1 },
    { arbitrary: fc.oneof(...tests), weight: 2 },
    { arbitrary: fc.boolean().map((value): Expr => ({ kind: 'bool', value })), weight: 1 },
  );
}

const PORTS_PG1 = PORT_GROUPS['pg1']!;

/** Valid match ASTs; address-set members are left empty and filled by `resolveSets`. */
export function exprArb(wide: boolean, depth = 3): fc.Arbitrary<Expr> {
  const { pos } = fc.letrec<{ pos: Expr; neg: Expr }>((tie) => {
    const node = (me: 'pos' | 'neg', other: 'pos' | 'neg'): fc.Arbitrary<Expr> =>
      fc.oneof(
        { depthSize: 'small', maxDepth: depth },
        leaf(wide, me === 'neg'),
        fc.array(tie(me), { minLength: 2, maxLength: 3 }).map((args): Expr => ({ kind: 'and', args })),
        fc.array(tie(me), { minLength: 2, maxLength: 3 }).map((args): Expr => ({ kind: 'or', args })),
        tie(other).map((arg): Expr => ({ kind: 'not', arg })),
      );
    return { pos: node('pos', 'neg'), neg: node('neg', 'pos') };
  });
  return pos.map(resolveSets);
}

/** Fills address-set references with their parsed members, as the parser does. */
function resolveSets(e: Expr): Expr {
  switch (e.kind) {
    case 'not': return { kind: 'not', arg: resolveSets(e.arg) };
    case 'and': case 'or': return { kind: e.kind, args: e.args.map(resolveSets) };
    case 'cmp':
      return {
        ...e,
        items: e.items.map((i): SetItem => (i.kind === 'addrset' ? { ...i, values: ADDRESS_SET_VALUES[i.name]! } : i)),
      };
    default: return e;
  }
}

const ADDRESS_SET_VALUES: Record<string, IntConst[]> = {
  as1: [
    { kind: 'int', value: 0x0a000001n, mask: undefined, format: 'ipv4' },
    { kind: 'int', value: 0x0a000002n, mask: 0xfffffffen, format: 'ipv4' },
  ],
  empty: [],
};
