/**
 * What the match and action parsers share: a cursor over the lexer's tokens, and errors worded
 * as ovn-controller words them ("Syntax error at `TOKEN' expecting …."), located in the input.
 */
import { MatchError } from './error.js';
import { Lexer, type Token, type TokenKind } from './lexer.js';

export abstract class TokenStream {
  protected readonly lx: Lexer;
  protected tok: Token;
  /** End offset of the last consumed token, where error spans end. */
  protected prevEnd = 0;

  constructor(protected readonly input: string) {
    this.lx = new Lexer(input);
    this.tok = this.lx.next();
  }

  /** Current token kind (a method, so TypeScript does not narrow it across advance()). */
  protected at(kind: TokenKind): boolean {
    return this.tok.kind === kind;
  }

  /** Consumes the current token and returns it. */
  protected advance(): Token {
    const t = this.tok;
    this.prevEnd = t.end;
    this.tok = this.lx.next();
    return t;
  }

  protected error(message: string, start: number = this.tok.start, end: number = this.tok.end): never {
    throw new MatchError(message, this.input, start, end);
  }

  /** ovn-controller's "Syntax error at `TOKEN' MESSAGE." form. */
  protected syntaxError(message: string): never {
    const at = this.at('end') ? 'at end of input' : `at \`${this.input.slice(this.tok.start, this.tok.end)}'`;
    return this.error(`Syntax error ${at} ${message}.`);
  }

  protected expect(kind: TokenKind): void {
    if (!this.at(kind)) this.syntaxError(`expecting \`${kind}'`);
    this.advance();
  }

  protected smallInt(): number {
    const t = this.tok;
    if (t.kind !== 'int' || t.format !== 'dec' || t.mask !== undefined || t.value > 0x7fffffffn) this.syntaxError('expecting small integer');
    this.advance();
    return Number(t.value);
  }
}
