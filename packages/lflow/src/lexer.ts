/**
 * Lexer for OVN's logical-flow language (the token set of ovn-sb(5) "Logical_Flow" matches and
 * actions). Tokens are plain objects; integers of every format (decimal, hex, Ethernet, IPv4,
 * IPv6, optionally /masked) are one token kind carrying a bigint, since fields reach 128 bits.
 */
import { MatchError } from './error.js';

export type TokenKind =
  | 'end' | 'id' | 'int' | 'string' | 'addrset' | 'portgroup'
  | '(' | ')' | '{' | '}' | '[' | ']' | ',' | ';' | ':' | '..'
  | '==' | '!=' | '<' | '<=' | '>' | '>=' | '!' | '&&' | '||'
  | '=' | '<->' | '--' | '-';

/** How an integer constant was written; kept so printing gives back the same notation. */
export type IntFormat = 'dec' | 'hex' | 'mac' | 'ipv4' | 'ipv6';

export interface Token {
  kind: TokenKind;
  /** Offsets of the token in the input: [start, end). */
  start: number;
  end: number;
  /** Identifier, unescaped string, or address set / port group name (without `$`/`@`). */
  text: string;
  value: bigint;
  /** Undefined unless the constant was written value/mask. */
  mask: bigint | undefined;
  format: IntFormat;
}

/** Hex constants may be as wide as an OVS subvalue (128 bytes); anything wider is an error. */
const MAX_HEX_BITS = 1024;
const U64_MAX = (1n << 64n) - 1n;

function isIdStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 46;
}
function isIdChar(c: number): boolean {
  return isIdStart(c) || (c >= 48 && c <= 57);
}
function isAlnum(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
}
function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function parseIpv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    // inet_pton rules: 1-3 decimal digits, no leading zero, at most 255.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseIpv6(s: string): bigint | undefined {
  let tail: bigint[] = [];
  // An embedded dotted IPv4 address supplies the last two groups.
  const lastColon = s.lastIndexOf(':');
  if (lastColon < 0) return undefined;
  let body = s;
  if (s.indexOf('.', lastColon) >= 0) {
    const v4 = parseIpv4(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [v4 >> 16n, v4 & 0xffffn];
    body = s.slice(0, lastColon + 1);
    if (body.endsWith('::')) {
      // "::1.2.3.4": keep the "::".
    } else body = body.slice(0, -1);
  }
  const dbl = body.indexOf('::');
  if (dbl >= 0 && body.indexOf('::', dbl + 1) >= 0) return undefined;
  const groupsOf = (part: string): bigint[] | undefined => {
    if (part === '') return [];
    const out: bigint[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(BigInt('0x' + g));
    }
    return out;
  };
  let groups: bigint[];
  if (dbl >= 0) {
    const head = groupsOf(body.slice(0, dbl));
    const rest = groupsOf(body.slice(dbl + 2));
    if (!head || !rest) return undefined;
    const fill = 8 - head.length - rest.length - tail.length;
    if (fill < 1) return undefined;
    groups = [...head, ...new Array<bigint>(fill).fill(0n), ...rest, ...tail];
  } else {
    const all = groupsOf(body);
    if (!all) return undefined;
    groups = [...all, ...tail];
    if (groups.length !== 8) return undefined;
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | g;
  return v;
}

function parseMac(s: string): bigint | undefined {
  if (s.length !== 17 || !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(s)) return undefined;
  return BigInt('0x' + s.replace(/:/g, ''));
}

function prefixMask(bits: number, width: number): bigint {
  return ((1n << BigInt(bits)) - 1n) << BigInt(width - bits);
}

/** Pull-style lexer: `next()` returns the next token; errors are thrown as MatchError at their position. */
export class Lexer {
  readonly input: string;
  private pos = 0;

  constructor(input: string) {
    this.input = input;
  }

  /** The offset where the next token scan starts (before white space). */
  get offset(): number {
    return this.pos;
  }

  next(): Token {
    const tok = this.scan(this.pos);
    this.pos = tok.end;
    return tok;
  }

  /** The token after the current position, without consuming it. */
  peek(): Token {
    return this.scan(this.pos);
  }

  private tok(kind: TokenKind, start: number, end: number): Token {
    return { kind, start, end, text: '', value: 0n, mask: undefined, format: 'dec' };
  }

  private fail(message: string, start: number, end: number): never {
    throw new MatchError(message, this.input, start, end);
  }

  private scan(from: number): Token {
    const s = this.input;
    const n = s.length;
    let p = from;
    for (;;) {
      // White space and comments.
      while (p < n) {
        const c = s.charCodeAt(p);
        if (c === 32 || (c >= 9 && c <= 13)) p++;
        else break;
      }
      if (p + 1 < n && s[p] === '/' && s[p + 1] === '/') {
        while (p < n && s[p] !== '\n') p++;
        continue;
      }
      if (p + 1 < n && s[p] === '/' && s[p + 1] === '*') {
        const close = s.indexOf('*/', p + 2);
        const nl = s.indexOf('\n', p + 2);
        if (close < 0 || (nl >= 0 && nl < close)) this.fail("`/*' without matching `*/'.", p, close < 0 ? n : nl);
        p = close + 2;
        continue;
      }
      break;
    }
    if (p >= n) return this.tok('end', p, p);
    const c = s[p]!;
    const c2 = s[p + 1];
    switch (c) {
      case '(': case ')': case '{': case '}': case '[': case ']': case ',': case ';':
        return this.tok(c, p, p + 1);
      case '=':
        return c2 === '=' ? this.tok('==', p, p + 2) : this.tok('=', p, p + 1);
      case '!':
        return c2 === '=' ? this.tok('!=', p, p + 2) : this.tok('!', p, p + 1);
      case '&':
        if (c2 === '&') return this.tok('&&', p, p + 2);
        return this.fail("`&' is only valid as part of `&&'.", p, p + 1);
      case '|':
        if (c2 === '|') return this.tok('||', p, p + 2);
        return this.fail("`|' is only valid as part of `||'.", p, p + 1);
      case '<':
        if (c2 === '=') return this.tok('<=', p, p + 2);
        if (c2 === '-' && s[p + 2] === '>') return this.tok('<->', p, p + 3);
        return this.tok('<', p, p + 1);
      case '>':
        return c2 === '=' ? this.tok('>=', p, p + 2) : this.tok('>', p, p + 1);
      case '.':
        if (c2 === '.') return this.tok('..', p, p + 2);
        return this.fail("`.' is only valid as part of `..' or a number.", p, p + 1);
      case '-':
        return c2 === '-' ? this.tok('--', p, p + 2) : this.tok('-', p, p + 1);
      case '/':
        return this.fail("`/' is only valid as part of `//' or `/*'.", p, p + 1);
      case '$':
      case '@': {
        if (p + 1 >= n || !isIdStart(s.charCodeAt(p + 1))) {
          return this.fail(`\`${c}' must be followed by a valid identifier.`, p, p + 1);
        }
        const t = this.identifier(p + 1, c === '$' ? 'addrset' : 'portgroup');
        t.start = p;
        return t;
      }
      case ':':
        if (c2 !== ':') return this.tok(':', p, p + 1);
        return this.integer(p);
      case '"':
        return this.string(p);
      default: {
        const code = s.charCodeAt(p);
        if (code >= 48 && code <= 57) return this.integer(p);
        if (isHexDigit(code)) {
          // Ethernet and IPv6 addresses may start with a hex letter; they always have a colon
          // right after the leading hex digits, which an identifier never has.
          let q = p;
          while (q < n && isHexDigit(s.charCodeAt(q))) q++;
          if (s[q] === ':') return this.integer(p);
        }
        if (isIdStart(code)) return this.identifier(p, 'id');
        if (code >= 32 && code < 127) return this.fail(`Invalid character \`${c}' in input.`, p, p + 1);
        return this.fail(`Invalid byte 0x${code.toString(16)} in input.`, p, p + 1);
      }
    }
  }

  private identifier(p: number, kind: 'id' | 'addrset' | 'portgroup'): Token {
    const s = this.input;
    let q = p + 1;
    while (q < s.length && isIdChar(s.charCodeAt(q))) q++;
    const t = this.tok(kind, p, q);
    t.text = s.slice(p, q);
    return t;
  }

  private string(p: number): Token {
    const s = this.input;
    let q = p + 1;
    let out = '';
    for (;;) {
      if (q >= s.length) return this.fail('Input ends inside quoted string.', p, q);
      const c = s[q]!;
      if (c === '"') break;
      if (c !== '\\') {
        out += c;
        q++;
        continue;
      }
      // JSON string escapes, as OVN unescapes quoted strings with the JSON rules.
      const e = s[q + 1];
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e !== undefined && e in simple) {
        out += simple[e];
        q += 2;
      } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(q + 2, q + 6))) {
        out += String.fromCharCode(parseInt(s.slice(q + 2, q + 6), 16));
        q += 6;
      } else {
        return this.fail('Invalid escape in quoted string.', q, Math.min(q + 2, s.length));
      }
    }
    const t = this.tok('string', p, q + 1);
    t.text = out;
    return t;
  }

  /** Scans the extent of a number-like token: alphanumerics, dots (not "..") and colons (not after a dot). */
  private numberExtent(p: number): number {
    const s = this.input;
    let q = p;
    let sawDot = false;
    for (;;) {
      const c = s.charCodeAt(q);
      if (q < s.length && isAlnum(c)) q++;
      else if (c === 58 && !sawDot) q++;
      else if (c === 46 && s.charCodeAt(q + 1) !== 46) {
        sawDot = true;
        q++;
      } else break;
    }
    return q;
  }

  private plainInteger(p: number): Token {
    const s = this.input;
    const q = this.numberExtent(p);
    const text = s.slice(p, q);
    const t = this.tok('int', p, q);
    if (text.length === 0) return this.fail('Integer constant expected.', p, p + 1);
    const mac = parseMac(text);
    if (mac !== undefined) {
      t.value = mac;
      t.format = 'mac';
    } else if (/^[0-9]+$/.test(text)) {
      if (text.length > 1 && text[0] === '0') return this.fail('Decimal constants must not have leading zeros.', p, q);
      const v = BigInt(text);
      if (v > U64_MAX) return this.fail('Decimal constants must be less than 2**64.', p, q);
      t.value = v;
      t.format = 'dec';
    } else if (text[0] === '0' && (text[1] === 'x' || text[1] === 'X')) {
      const digits = text.slice(2);
      if (digits.length === 0) return this.fail(`Hex digits expected following 0${text[1]}.`, p, q);
      if (!/^[0-9a-fA-F]+$/.test(digits)) return this.fail('Invalid syntax in hexadecimal constant.', p, q);
      const v = BigInt('0x' + digits);
      if (v.toString(2).length > MAX_HEX_BITS) {
        return this.fail(`Hexadecimal constant requires more than ${MAX_HEX_BITS} bits.`, p, q);
      }
      t.value = v;
      t.format = 'hex';
    } else {
      const v4 = parseIpv4(text);
      const v6 = v4 === undefined ? parseIpv6(text) : undefined;
      if (v4 !== undefined) {
        t.value = v4;
        t.format = 'ipv4';
      } else if (v6 !== undefined) {
        t.value = v6;
        t.format = 'ipv6';
      } else return this.fail('Invalid numeric constant.', p, q);
    }
    return t;
  }

  private integer(p: number): Token {
    const t = this.plainInteger(p);
    if (this.input[t.end] !== '/') return t;
    const m = this.plainInteger(t.end + 1);
    t.end = m.end;
    // The value/mask format rules of OVN: same format, or a decimal prefix length after an
    // address, or 0/0xMASK.
    if (m.format === t.format) t.mask = m.value;
    else if (t.format === 'ipv4' && m.format === 'dec' && m.value <= 32n) t.mask = prefixMask(Number(m.value), 32);
    else if (t.format === 'ipv6' && m.format === 'dec' && m.value <= 128n) t.mask = prefixMask(Number(m.value), 128);
    else if (t.format === 'dec' && m.format === 'hex' && t.value === 0n) {
      t.format = 'hex';
      t.mask = m.value;
    } else return this.fail('Value and mask have incompatible formats.', t.start, t.end);
    // Invariant: 1-bits of the value only where the mask has 1-bits.
    t.value &= t.mask;
    return t;
  }
}

/** All tokens of `input` up to (not including) the end token. */
export function tokenize(input: string): Token[] {
  const lx = new Lexer(input);
  const out: Token[] = [];
  for (let t = lx.next(); t.kind !== 'end'; t = lx.next()) out.push(t);
  return out;
}

/** How the token reads in an error message (the source text, or "end of input"). */
export function tokenText(input: string, t: Token): string {
  return input.slice(t.start, t.end);
}
