/**
 * ovs-ofctl's key-value lists: items separated by commas or white space, each `key`,
 * `key=value`, `key:value` or `key(value)`, where a value runs to the next separator outside
 * parentheses (and brackets, so `NXM_NX_REG0[0..15]` stays whole).
 */

export interface KeyValue {
  readonly key: string;
  readonly value: string;
  /** How the value was attached: '=', ':', '(' or '' (none). */
  readonly sep: '=' | ':' | '(' | '';
}

export class FlowSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlowSyntaxError';
  }
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

/** Index just past the parenthesis closing the one opened at `open`. */
function closeParen(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  throw new FlowSyntaxError(`${s.slice(open)}: unbalanced parentheses`);
}

/** Splits `s` into its key-value items. */
export function splitKeyValues(s: string): KeyValue[] {
  const out: KeyValue[] = [];
  let i = 0;
  const n = s.length;
  while (i < n) {
    while (i < n && (s[i] === ',' || isSpace(s[i]!))) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && !'=:(,'.includes(s[i]!) && !isSpace(s[i]!)) i++;
    const key = s.slice(start, i);
    // Allow white space between a key and its '=' (ovs-ofctl does).
    let j = i;
    while (j < n && isSpace(s[j]!)) j++;
    const c = s[j];
    if (c === '(') {
      const end = closeParen(s, j);
      out.push({ key, value: s.slice(j + 1, end - 1), sep: '(' });
      i = end;
    } else if (c === '=' || c === ':') {
      i = j + 1;
      while (i < n && isSpace(s[i]!)) i++;
      const vstart = i;
      let depth = 0;
      while (i < n) {
        const d = s[i]!;
        if (d === '(' || d === '[') depth++;
        else if (d === ')' || d === ']') depth--;
        else if (depth === 0 && (d === ',' || isSpace(d))) break;
        i++;
      }
      out.push({ key, value: s.slice(vstart, i), sep: c });
    } else {
      if (key === '') throw new FlowSyntaxError(`${s}: syntax error at \`${s.slice(start)}'`);
      out.push({ key, value: '', sep: '' });
    }
  }
  return out;
}

/** Splits a comma-separated list at top level (outside parentheses and brackets). */
export function splitTopLevel(s: string, sep = ','): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (depth === 0 && c === sep) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}
