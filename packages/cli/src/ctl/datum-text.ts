/**
 * OVSDB values in the text syntax of the ctl tools (ovsdb-data.c): tokens with `\` escapes and
 * "quoted" strings, atoms (`5`, `true`, `"a b"`, a UUID or `@name`), sets `[a, b]`, maps
 * `{k=v}`, integer ranges `1-5`; and back to text (quoted where needed) or bare words.
 * Error messages are OVS's, word for word.
 */
import { atomToString, checkAtomConstraints, datumToString, typeToEnglish, compareAtoms, OvsdbError, type Datum, type Pair, type Atom, type AtomicType, type BaseType, type ColumnType } from './ovsdb.js';
import { fail } from './errors.js';
import type { SymbolTable } from './symbols.js';

export { atomToString, datumToString };

const DELIMS = ':=, []{}!<>';
const MAX_RANGE = 4096;
const UUID_TEXT = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function isDelim(c: string | undefined): boolean {
  return c === undefined || DELIMS.includes(c);
}

/** A lower-case UUID if `s` is one (any case), else undefined (OVS's uuid_from_string). */
export function parseUuid(s: string): string | undefined {
  return UUID_TEXT.test(s) ? s.toLowerCase() : undefined;
}

/**
 * Reads one token of `s` from `pos`: up to the next unquoted, unescaped delimiter. A backslash
 * escapes the next character (and is dropped outside quotes); double quotes are kept.
 */
export function tokenParse(s: string, pos: number): [string, number] {
  let out = '';
  let inQuotes = false;
  let p = pos;
  while (p < s.length) {
    const c = s[p++]!;
    if (c === '\\') {
      if (inQuotes) out += '\\';
      if (p >= s.length) fail(`${s.slice(pos)}: backslash at end of argument`);
      out += s[p++];
    } else if (!inQuotes && DELIMS.includes(c)) {
      p--;
      break;
    } else {
      out += c;
      if (c === '"') inQuotes = !inQuotes;
    }
  }
  if (inQuotes) fail(`${s.slice(pos)}: quoted string extends past end of argument`);
  return [out, p];
}

/** JSON string unescaping as OVS does it; throws the message OVS gives. */
function jsonUnescape(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; ) {
    const c = s[i++]!;
    if (c === '"') throw new Error('quoted string may not include unescaped "');
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = s[i++];
    switch (e) {
      case '"':
      case '\\':
      case '/':
        out += e;
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        if (s.length - i < 4) throw new Error('quoted string ends in middle of \\u escape');
        const hex = s.slice(i, i + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new Error('malformed \\u escape');
        i += 4;
        let cp = parseInt(hex, 16);
        if (cp >= 0xd800 && cp < 0xdc00 && s.slice(i, i + 2) === '\\u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) {
          const lo = parseInt(s.slice(i + 2, i + 6), 16);
          if (lo >= 0xdc00 && lo < 0xe000) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            i += 6;
          }
        }
        out += String.fromCodePoint(cp);
        break;
      }
      default:
        throw new Error(`bad escape \\${e ?? ''}`);
    }
  }
  return out;
}

/** C's strtoll over the whole string (leading white space and a sign allowed). */
function parseInteger(s: string): number | undefined {
  if (!/^[ \t\n\v\f\r]*[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s.trim());
  return Number.isSafeInteger(n) || Math.abs(n) <= 2 ** 63 ? n : undefined;
}

/** C's strtod over the whole string. */
function parseReal(s: string): number | undefined {
  const t = s.replace(/^[ \t\n\v\f\r]+/, '');
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return Number(t);
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(t)) return NaN;
  return undefined;
}

function constraintMessage(e: unknown): string {
  if (e instanceof OvsdbError) return e.details === undefined ? e.tag : `${e.tag}: ${e.details}`;
  throw e;
}

/** Checks enum and numeric range constraints (string lengths are left to the server, as OVS 3.1 does). */
function checkConstraints(a: Atom, base: BaseType): void {
  if (base.type === 'string' && base.enum === undefined) return;
  try {
    checkAtomConstraints(a, base);
  } catch (e) {
    fail(constraintMessage(e));
  }
}

/**
 * Parses one atom of `base`'s type. With `allowRange`, an integer may be `A-B`, returned as
 * the range's end (the caller adds A..B).
 */
export function atomFromString(base: BaseType, s: string, symtab: SymbolTable | undefined, allowRange = false): { atom: Atom; rangeEnd?: number } {
  let atom: Atom;
  let rangeEnd: number | undefined;
  switch (base.type) {
    case 'integer': {
      const m = allowRange ? /^([ \t\n\v\f\r]*[+-]?\d+)-([+-]?\d+)$/.exec(s) : null;
      if (m) {
        atom = Number(m[1]!.trim());
        rangeEnd = Number(m[2]);
        if (rangeEnd < atom) fail(`"${s}" is not a valid range. Range end cannot be before start.`);
      } else {
        const n = parseInteger(s);
        if (n === undefined) fail(`"${s}" is not a valid integer or range`);
        atom = n;
      }
      break;
    }
    case 'real': {
      const n = parseReal(s);
      if (n === undefined) fail(`"${s}" is not a valid real number`);
      atom = Object.is(n, -0) ? 0 : n;
      break;
    }
    case 'boolean':
      if (s === 'true' || s === 'yes' || s === 'on' || s === '1') atom = true;
      else if (s === 'false' || s === 'no' || s === 'off' || s === '0') atom = false;
      else fail(`"${s}" is not a valid boolean (use "true" or "false")`);
      break;
    case 'string':
      if (s === '') fail('An empty string is not valid as input; use "" to represent the empty string');
      if (s.startsWith('"')) {
        if (s.length < 2 || !s.endsWith('"')) fail(`${s}: missing quote at end of quoted string`);
        try {
          atom = jsonUnescape(s.slice(1, -1));
        } catch (e) {
          fail(`${s}: ${(e as Error).message}`);
        }
      } else {
        atom = s;
      }
      break;
    case 'uuid':
      if (s.startsWith('@') && symtab) {
        const sym = symtab.insert(s);
        symtab.referenced(sym, base);
        atom = sym.uuid;
      } else {
        const u = parseUuid(s);
        if (u === undefined) fail(`"${s}" is not a valid UUID`);
        atom = u;
      }
      break;
  }
  checkConstraints(atom, base);
  if (rangeEnd !== undefined) {
    const start = atom as number;
    if (base.enum !== undefined) for (let i = start + 1; i <= rangeEnd; i++) checkConstraints(i, base);
    else checkConstraints(rangeEnd, base);
    if (rangeEnd - start >= MAX_RANGE) {
      fail(`constraint violation: Range "${start}-${rangeEnd}" is too big. Maximum allowed size is ${MAX_RANGE}.`);
    }
    return { atom, rangeEnd };
  }
  return { atom };
}

function skipSpaces(s: string, p: number): number {
  while (p < s.length && /\s/.test(s[p]!)) p++;
  return p;
}

/**
 * Parses a whole value: atoms (or key=value pairs) separated by spaces or commas, optionally
 * in [] (sets) or {} (maps); the brackets are required for an empty value.
 */
export function datumFromString(type: ColumnType, s: string, symtab: SymbolTable | undefined): Datum {
  const isMap = type.value !== undefined;
  let p = skipSpaces(s, 0);
  let endDelim: string | undefined;
  if (s[p] === (isMap ? '{' : '[')) {
    endDelim = isMap ? '}' : ']';
    p = skipSpaces(s, p + 1);
  } else if (p >= s.length) {
    fail(isMap ? 'use "{}" to specify the empty map' : 'use "[]" to specify the empty set');
  }
  const keys: Atom[] = [];
  const values: Atom[] = [];
  while (p < s.length && s[p] !== endDelim) {
    if (isDelim(s[p])) fail(`${s}: unexpected "${s[p]}" parsing ${typeToEnglish(type)}`);
    const start = p;
    const [keyTok, afterKey] = tokenParse(s, p);
    p = afterKey;
    const { atom: key, rangeEnd } = atomFromString(type.key, keyTok, symtab, true);
    let value: Atom | undefined;
    if (type.value !== undefined) {
      p = skipSpaces(s, p);
      if (s[p] !== '=') {
        // OVS formats the character with %c: at the end of the string that is a NUL, which ends the message.
        fail(p < s.length ? `${s.slice(start)}: syntax error at "${s[p]}" expecting "="` : `${s.slice(start)}: syntax error at "`);
      }
      p = skipSpaces(s, p + 1);
      const [valTok, afterVal] = tokenParse(s, p);
      p = afterVal;
      value = atomFromString(type.value, valTok, symtab).atom;
    }
    const last = rangeEnd ?? (key as number);
    for (let k = key; ; k = (k as number) + 1) {
      keys.push(k);
      if (value !== undefined) values.push(value);
      if (rangeEnd === undefined || (k as number) >= last) break;
    }
    p = skipSpaces(s, p);
    if (s[p] === ',') p = skipSpaces(s, p + 1);
  }
  if (endDelim !== undefined) {
    if (s[p] !== endDelim) fail(`${s}: missing "${endDelim}" at end of data`);
    p = skipSpaces(s, p + 1);
    if (p < s.length) fail(`${s}: trailing garbage after "${endDelim}"`);
  }
  const what = isMap ? 'pair(s)' : 'value(s)';
  if (keys.length < type.min) fail(`${s}: ${keys.length} ${what} specified but the minimum number is ${type.min}`);
  if (keys.length > type.max) fail(`${s}: ${keys.length} ${what} specified but the maximum number is ${type.max === Infinity ? 4294967295 : type.max}`);
  return sortDatum(keys, isMap ? values : undefined, s);
}

function sortDatum(keys: Atom[], values: Atom[] | undefined, s: string): Datum {
  if (values === undefined) {
    const sorted = keys.slice().sort(compareAtoms);
    for (let i = 1; i < sorted.length; i++) if (compareAtoms(sorted[i - 1]!, sorted[i]!) === 0) fail(`${s}: set contains duplicate value`);
    return sorted;
  }
  const pairs: Pair[] = keys.map((k, i) => [k, values[i]!] as const);
  pairs.sort((a, b) => compareAtoms(a[0], b[0]));
  for (let i = 1; i < pairs.length; i++) if (compareAtoms(pairs[i - 1]![0], pairs[i]![0]) === 0) fail(`${s}: map contains duplicate key`);
  return pairs;
}

/** An atom as a bare word: strings unquoted. */
export function atomToBare(a: Atom, t: AtomicType): string {
  return t === 'string' ? (a as string) : atomToString(a, t);
}

/** A value as bare words separated by spaces (`k=v` for maps), no brackets. */
export function datumToBare(d: Datum, t: ColumnType): string {
  if (t.value !== undefined) {
    const vt = t.value.type;
    return (d as readonly Pair[]).map((p) => `${atomToBare(p[0], t.key.type)}=${atomToBare(p[1], vt)}`).join(' ');
  }
  return (d as readonly Atom[]).map((a) => atomToBare(a, t.key.type)).join(' ');
}

/** A column type with its size limits relaxed (for "add", "remove", "find"). */
export function relaxedType(t: ColumnType, min: number, max: number): ColumnType {
  return t.value === undefined ? { key: t.key, min, max } : { key: t.key, value: t.value, min, max };
}
