/**
 * OVSDB's error vocabulary (RFC 7047 §3.1 and ovsdb-server's extensions).
 * An OvsdbError travels to the client as `{"error": tag, "details": text}`.
 */
export type OvsdbErrorTag =
  | 'syntax error'
  | 'unknown database'
  | 'unknown method'
  | 'constraint violation'
  | 'referential integrity violation'
  | 'resources exhausted'
  | 'I/O error'
  | 'duplicate uuid-name'
  | 'domain error'
  | 'range error'
  | 'timed out'
  | 'not supported'
  | 'aborted'
  | 'not owner'
  | 'canceled'
  | 'unknown error'
  | 'permission error'
  | 'invalid schema';

export class OvsdbError extends Error {
  /**
   * The piece of the request at fault (ovsdb-server's "syntax" member: the innermost JSON value
   * being parsed), or undefined.
   */
  syntax: unknown = undefined;

  constructor(
    readonly tag: OvsdbErrorTag | string,
    readonly details?: string,
    syntax?: unknown,
  ) {
    super(details === undefined ? tag : `${tag}: ${details}`);
    this.name = 'OvsdbError';
    if (syntax !== undefined) this.syntax = syntax;
  }

  toJSON(): { error: string; details?: string; syntax?: string } {
    const o = this.details === undefined ? { error: this.tag } : { error: this.tag, details: this.details };
    return this.syntax === undefined ? o : { ...o, syntax: sortedJsonText(this.syntax) };
  }
}

/** JSON text with object members sorted, as ovsdb-server prints a "syntax" member. */
export function sortedJsonText(j: unknown): string {
  if (Array.isArray(j)) return `[${j.map(sortedJsonText).join(',')}]`;
  if (typeof j === 'object' && j !== null) {
    const o = j as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJsonText(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(j) ?? 'null';
}

/** Runs `f`; an OvsdbError it throws that names no "syntax" yet gets `j` (the innermost value wins). */
export function withSyntax<T>(j: unknown, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof OvsdbError && e.syntax === undefined) e.syntax = j;
    throw e;
  }
}

export function syntaxError(details: string): OvsdbError {
  return new OvsdbError('syntax error', details);
}

export function constraintViolation(details: string): OvsdbError {
  return new OvsdbError('constraint violation', details);
}
