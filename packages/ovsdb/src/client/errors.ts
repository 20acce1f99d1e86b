/**
 * What can go wrong on the client side, as distinct classes so that callers can tell "the
 * server said no" (TransactionError, RpcError) from "we could not ask" (NotConnectedError) and
 * "we asked but don't know the outcome" (ConnectionLostError).
 */
import { RpcError } from '../jsonrpc/connection.js';
import type { Operation } from './operations.js';

export { RpcError };

/** The client has no connection right now (it may be reconnecting). */
export class NotConnectedError extends Error {
  constructor(what: string) {
    super(`${what}: not connected`);
    this.name = 'NotConnectedError';
  }
}

/**
 * The connection dropped while the request was outstanding. For a transaction this means the
 * outcome is unknown: it may or may not have committed.
 */
export class ConnectionLostError extends Error {
  constructor(
    readonly method: string,
    readonly reason: string,
  ) {
    super(`${method}: connection lost before the reply (${reason})`);
    this.name = 'ConnectionLostError';
  }
}

/** The client was closed (close()), so the request or wait was abandoned. */
export class ClientClosedError extends Error {
  constructor() {
    super('client closed');
    this.name = 'ClientClosedError';
  }
}

/** The server's `{"error": …, "details": …}` for one operation or for the commit. */
export interface OvsdbErrorJson {
  readonly error: string;
  readonly details?: string;
  readonly syntax?: string;
}

/**
 * A transaction the server rejected. `index` is the failing operation's position in the
 * submitted array; when the operations all succeeded but the commit failed (a reference, index
 * or size check), `index` equals the number of operations and `operation` is undefined.
 */
export class TransactionError extends Error {
  constructor(
    readonly index: number,
    readonly operation: Operation | undefined,
    readonly error: string,
    readonly details: string | undefined,
    /** The raw reply, one element per operation (plus one for a commit error). */
    readonly results: readonly unknown[],
  ) {
    const where = operation ? `operation ${index} (${operation.op}${'table' in operation ? ` ${operation.table}` : ''})` : 'commit';
    super(`transaction failed at ${where}: ${error}${details ? `: ${details}` : ''}`);
    this.name = 'TransactionError';
  }
}

/** An IDL transaction kept failing its "verify" checks because others kept changing the rows it read. */
export class VerifyConflictError extends Error {
  constructor(
    readonly attempts: number,
    readonly last: TransactionError,
  ) {
    super(`transaction still conflicting after ${attempts} attempts: ${last.message}`);
    this.name = 'VerifyConflictError';
  }
}

/**
 * We sent "cancel" for the request. On a db-change-aware session the server confirmed it (a
 * blocked transaction then did not commit); otherwise the server gives no answer and we just
 * stopped waiting.
 */
export class CanceledError extends Error {
  constructor(readonly method: string) {
    super(`${method}: canceled`);
    this.name = 'CanceledError';
  }
}
