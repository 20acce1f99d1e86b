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
  constructor(
    readonly tag: OvsdbErrorTag | string,
    readonly details?: string,
  ) {
    super(details === undefined ? tag : `${tag}: ${details}`);
    this.name = 'OvsdbError';
  }

  toJSON(): { error: string; details?: string } {
    return this.details === undefined ? { error: this.tag } : { error: this.tag, details: this.details };
  }
}

export function syntaxError(details: string): OvsdbError {
  return new OvsdbError('syntax error', details);
}

export function constraintViolation(details: string): OvsdbError {
  return new OvsdbError('constraint violation', details);
}
