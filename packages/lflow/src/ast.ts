/**
 * The match-expression AST. It keeps what was written (predicate names, address-set and
 * port-group references, the notation of constants, braces) so that printing gives back an
 * equivalent text; meaning (prerequisites, predicate definitions, set expansion) is applied by
 * the interpreter and the normalizer, not here. All nodes are plain immutable data.
 */
import type { IntFormat } from './lexer.js';

export type RelOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** A symbol, or bits ofs..ofs+nBits-1 of it when written with a subscript (reg0[0..15]). */
export interface FieldRef {
  readonly symbol: string;
  readonly ofs: number;
  readonly nBits: number;
  /** True when written with [..]; reg0[0..31] and reg0 denote the same bits but print differently. */
  readonly subscript: boolean;
}

export interface IntConst {
  readonly kind: 'int';
  readonly value: bigint;
  /** Undefined for an exact value; otherwise value has 1-bits only where mask has. */
  readonly mask: bigint | undefined;
  readonly format: IntFormat;
}

export interface StrConst {
  readonly kind: 'str';
  readonly value: string;
}

/** `$name`: an address set, with the members the caller's lookup gave for it. */
export interface AddrSetRef {
  readonly kind: 'addrset';
  readonly name: string;
  readonly values: readonly IntConst[];
}

/** `@name`: a port group, with the port names the caller's lookup gave for it. */
export interface PortGroupRef {
  readonly kind: 'portgroup';
  readonly name: string;
  readonly ports: readonly string[];
}

export type SetItem = IntConst | StrConst | AddrSetRef | PortGroupRef;

export type Expr =
  | { readonly kind: 'bool'; readonly value: boolean }
  /** field op constant(s); `braces` when the constants were written as {…}. */
  | { readonly kind: 'cmp'; readonly field: FieldRef; readonly op: RelOp; readonly items: readonly SetItem[]; readonly braces: boolean }
  /** A field written alone: a predicate, a 1-bit field, or (under !) a wider field; means field != 0. */
  | { readonly kind: 'test'; readonly field: FieldRef }
  | { readonly kind: 'not'; readonly arg: Expr }
  | { readonly kind: 'and'; readonly args: readonly Expr[] }
  | { readonly kind: 'or'; readonly args: readonly Expr[] }
  | { readonly kind: 'resident'; readonly port: string };

export type CmpExpr = Extract<Expr, { kind: 'cmp' }>;

export const TRUE: Expr = { kind: 'bool', value: true };
export const FALSE: Expr = { kind: 'bool', value: false };

/** Swaps the sides of a comparison: `5 < x` is `x > 5`. */
export function turnRelOp(op: RelOp): RelOp {
  switch (op) {
    case '<': return '>';
    case '<=': return '>=';
    case '>': return '<';
    case '>=': return '<=';
    default: return op;
  }
}

/** The opposite comparison: !(x < 5) is x >= 5. */
export function negateRelOp(op: RelOp): RelOp {
  switch (op) {
    case '==': return '!=';
    case '!=': return '==';
    case '<': return '>=';
    case '<=': return '>';
    case '>': return '<=';
    case '>=': return '<';
  }
}
