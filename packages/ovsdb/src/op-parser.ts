/**
 * Parsing of one operation's members as ovsdb-server does it (typed member access, first error
 * wins, unknown members are errors), and the JSON form of an operation's error.
 */
import { OvsdbError } from './error.js';

const ID_RE = /^[_a-zA-Z][_a-zA-Z0-9]*$/;

export function isObject(j: unknown): j is Record<string, unknown> {
  return typeof j === 'object' && j !== null && !Array.isArray(j);
}

/** JSON with object members sorted, as ovsdb-server prints the "syntax" of a bad operation. */
function sortedJson(j: unknown): string {
  if (Array.isArray(j)) return `[${j.map(sortedJson).join(',')}]`;
  if (isObject(j)) {
    return `{${Object.keys(j)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJson(j[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(j) ?? 'null';
}

/** A malformed operation (missing, mistyped or unknown member): reported as "Parsing ovsdb operation N of M failed: …". */
export class OpParseError extends OvsdbError {
  constructor(details: string) {
    super('syntax error', details);
  }
}

type MemberType = 'id' | 'string' | 'array' | 'object' | 'boolean' | 'integer';

/** ovsdb-server's operation parser: typed member access, first error wins, unused members are errors. */
export class OpParser {
  private error: OpParseError | null = null;
  /** Members asked for so far (an operation has a handful: an array beats a Set here). */
  private readonly used: string[] = [];
  readonly obj: Record<string, unknown> | null;

  constructor(op: unknown) {
    this.obj = isObject(op) ? op : null;
    if (!this.obj) this.raise('Object expected.');
  }

  raise(details: string): void {
    this.error ??= new OpParseError(details);
  }

  member(name: string, type: 'id' | 'string', optional?: boolean): string | undefined;
  member(name: string, type: 'array', optional?: boolean): unknown[] | undefined;
  member(name: string, type: 'object', optional?: boolean): Record<string, unknown> | undefined;
  member(name: string, type: 'boolean', optional?: boolean): boolean | undefined;
  member(name: string, type: 'integer', optional?: boolean): number | undefined;
  member(name: string, type: MemberType, optional = false): unknown {
    if (!this.obj) return undefined;
    const v = this.obj[name];
    if (v === undefined) {
      if (!optional) this.raise(`Required '${name}' member is missing.`);
      return undefined;
    }
    let ok: boolean;
    switch (type) {
      case 'id':
        ok = typeof v === 'string' && ID_RE.test(v);
        break;
      case 'string':
        ok = typeof v === 'string';
        break;
      case 'array':
        ok = Array.isArray(v);
        break;
      case 'object':
        ok = isObject(v);
        break;
      case 'boolean':
        ok = typeof v === 'boolean';
        break;
      case 'integer':
        ok = typeof v === 'number' && Number.isInteger(v);
        break;
    }
    if (!ok) {
      this.raise(`Type mismatch for member '${name}'.`);
      return undefined;
    }
    this.used.push(name);
    return v;
  }

  /** Throws the first parse error so far (ovsdb_parser_get_error). */
  check(): void {
    if (this.error) throw this.error;
  }

  /** The parse error, if any, including members that no one asked for (ovsdb_parser_finish). */
  finish(): OpParseError | null {
    if (!this.error && this.obj) {
      for (const k of Object.keys(this.obj)) {
        if (!this.used.includes(k)) {
          this.raise(`Member '${k}' is present but not allowed here.`);
          break;
        }
      }
    }
    return this.error;
  }
}


export function errorJson(e: unknown, opIndex?: number, nOps?: number, op?: unknown): Record<string, unknown> {
  if (e instanceof OpParseError && opIndex !== undefined && nOps !== undefined) {
    const o: Record<string, unknown> = {
      error: e.tag,
      details: `Parsing ovsdb operation ${opIndex + 1} of ${nOps} failed: ${e.details ?? ''}`,
    };
    if (isObject(op)) o['syntax'] = sortedJson(op);
    return o;
  }
  if (e instanceof OvsdbError) return e.toJSON();
  return { error: 'unknown error', details: e instanceof Error ? e.message : String(e) };
}
