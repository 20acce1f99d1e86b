/**
 * Parsed forms of the expressions a symbol table holds as text (predicate definitions and
 * prerequisites), parsed once per table and shared by the interpreter and the normalizer.
 */
import type { Expr } from './ast.js';
import { parseMatch } from './parser.js';
import { prereqsOf, type FieldSymbol, type SymbolTable } from './symbols.js';

const cache = new WeakMap<SymbolTable, Map<string, Expr>>();

function parsed(symtab: SymbolTable, text: string): Expr {
  let m = cache.get(symtab);
  if (!m) cache.set(symtab, (m = new Map()));
  let e = m.get(text);
  if (!e) m.set(text, (e = parseMatch(text, { symtab })));
  return e;
}

/** The definition of a predicate symbol. */
export function predicateDefinition(symtab: SymbolTable, sym: FieldSymbol): Expr {
  if (sym.expansion === undefined) throw new Error(`${sym.name} is not a predicate`);
  return parsed(symtab, sym.expansion);
}

/** The prerequisites a test of `sym` implies: its own and its parents', outermost last. */
export function prerequisites(symtab: SymbolTable, sym: FieldSymbol): Expr[] {
  return prereqsOf(symtab, sym).map((p) => parsed(symtab, p));
}

/** Looks a symbol up, failing loudly: ASTs reaching here were checked by the parser. */
export function symbolOf(symtab: SymbolTable, name: string): FieldSymbol {
  const s = symtab.get(name);
  if (!s) throw new Error(`unknown symbol ${name}`);
  return s;
}

export function ones(bits: number): bigint {
  return (1n << BigInt(bits)) - 1n;
}
