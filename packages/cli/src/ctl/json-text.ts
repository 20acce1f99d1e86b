/**
 * JSON text as OVS writes it (lib/json.c): object members optionally sorted by name, and the
 * "pretty" layout with two spaces per level and closing brackets on the last line.
 */
import { formatReal } from './ovsdb.js';

export interface JsonStyle {
  readonly sort: boolean;
  readonly pretty: boolean;
}

export function jsonToString(v: unknown, style: JsonStyle = { sort: true, pretty: false }): string {
  const out: string[] = [];
  write(v, style, 0, out);
  return out.join('');
}

function newline(style: JsonStyle, depth: number, out: string[]): void {
  if (style.pretty) out.push('\n', ' '.repeat(2 * depth));
}

function write(v: unknown, style: JsonStyle, depth: number, out: string[]): void {
  if (v === null || v === undefined) {
    out.push('null');
  } else if (typeof v === 'string') {
    out.push(JSON.stringify(v));
  } else if (typeof v === 'number') {
    out.push(Number.isInteger(v) ? String(v) : formatReal(v));
  } else if (typeof v === 'boolean') {
    out.push(v ? 'true' : 'false');
  } else if (Array.isArray(v)) {
    out.push('[');
    if (v.length > 0) {
      newline(style, depth + 1, out);
      v.forEach((x, i) => {
        if (i) {
          out.push(',');
          newline(style, depth + 1, out);
        }
        write(x, style, depth + 1, out);
      });
    }
    out.push(']');
  } else {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (style.sort) keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    out.push('{');
    newline(style, depth + 1, out);
    keys.forEach((k, i) => {
      if (i) {
        out.push(',');
        newline(style, depth + 1, out);
      }
      out.push(JSON.stringify(k), style.pretty ? ': ' : ':');
      write(o[k], style, depth + 1, out);
    });
    out.push('}');
  }
}
