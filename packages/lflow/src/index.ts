export { MatchError } from './error.js';
export { Lexer, tokenize, type Token, type TokenKind, type IntFormat } from './lexer.js';
export { SymbolTable, ovnSymbols, prereqsOf, type FieldSymbol, type Level, type SymbolKind } from './symbols.js';
export * from './ast.js';
export { parseMatch, parseAddressSet, constantWidth, fieldRefText, type MatchLookup, type ParseOptions } from './parser.js';
export { printMatch, printConstant } from './printer.js';
export { evaluate, makePacket, type Packet, type PacketValue, type EvalOptions } from './interp.js';
export {
  normalize,
  NormalizeLimitError,
  dnfMatches,
  rangeToMasks,
  conjunctionKey,
  type Conjunction,
  type Dnf,
  type FieldMatch,
  type NormalizeOptions,
} from './normalize.js';
export { parseActions, printActions, printAction, argOf, type Action, type Arg, type ArgValue, type Backend, type Value, type ActionParseOptions } from './actions.js';
export * from './trace/index.js';
