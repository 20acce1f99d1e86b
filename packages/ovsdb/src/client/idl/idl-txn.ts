/**
 * Optimistic concurrency for the IDL, as OVS's IDL does it: a transaction built from what the
 * replica showed carries, before its own operations, one "wait" per row it read asserting that
 * the columns read still hold the values seen. If another client changed them first, the wait
 * fails, nothing commits, and the transaction is rebuilt from the (now updated) replica and
 * sent again, a bounded number of times.
 */
import { datumToJson, type Datum } from '../../datum.js';
import { TransactionBuilder, TransactionResults, checkResults, type OpRef } from '../builder.js';
import { TransactionError, VerifyConflictError } from '../errors.js';
import type { CountResult, WaitOp } from '../operations.js';
import type { MutationJson, RowJson, ValueJson } from '../wire.js';
import type { Idl } from './idl.js';
import type { IdlRow } from './row.js';

export interface IdlTransactOptions {
  /** Attempts before giving up with VerifyConflictError (default 5). */
  readonly maxAttempts?: number;
  /**
   * After a failed verify, how long (ms, default 1000) to wait for the update that makes the
   * replica current before trying again anyway.
   */
  readonly staleWaitMs?: number;
  readonly signal?: AbortSignal;
}

export interface IdlTransactResult<R> {
  /** What the callback returned on the attempt that committed. */
  readonly value: R;
  readonly results: TransactionResults;
  readonly attempts: number;
}

interface Verified {
  readonly row: IdlRow;
  readonly columns: Set<string>;
}

export class IdlTransaction extends TransactionBuilder {
  private readonly verified = new Map<string, Verified>();

  constructor(readonly idl: Idl) {
    super(idl.database);
  }

  /** Reads a column of a replica row, to be verified at commit. */
  read(row: IdlRow, column: string): Datum {
    this.verify(row, column);
    return row.get(column);
  }

  /** Asserts at commit that these columns of `row` still hold the values this row object has. */
  verify(row: IdlRow, ...columns: string[]): void {
    let v = this.verified.get(row.uuid);
    if (!v || v.row !== row) this.verified.set(row.uuid, (v = { row, columns: v ? v.columns : new Set() }));
    for (const c of columns) {
      if (!row.table.columns.has(c)) throw new Error(`table ${row.table.name} has no column ${c}`);
      v.columns.add(c);
    }
  }

  private whereRow(row: IdlRow): [['_uuid', '==', ['uuid', string]]] {
    return [['_uuid', '==', ['uuid', row.uuid]]];
  }

  updateRow(row: IdlRow, values: RowJson): OpRef<CountResult> {
    return this.update(row.table.name, this.whereRow(row), values);
  }

  mutateRow(row: IdlRow, mutations: readonly MutationJson[]): OpRef<CountResult> {
    return this.mutate(row.table.name, this.whereRow(row), mutations);
  }

  deleteRow(row: IdlRow): OpRef<CountResult> {
    return this.delete(row.table.name, this.whereRow(row));
  }

  /** The "wait" operations checking every verified row (timeout 0: fail at once, never block). */
  verifyOps(): WaitOp[] {
    const ops: WaitOp[] = [];
    for (const { row, columns } of this.verified.values()) {
      if (columns.size === 0) continue;
      const cols = [...columns];
      const expect: Record<string, ValueJson> = {};
      for (const c of cols) expect[c] = datumToJson(row.get(c), row.table.columns.get(c)!.type) as ValueJson;
      ops.push({ op: 'wait', table: row.table.name, where: this.whereRow(row), columns: cols, until: '==', rows: [expect], timeout: 0 });
    }
    return ops;
  }

  /** Whether the replica now differs from what was verified (i.e. its update has arrived). */
  replicaMoved(): boolean {
    for (const { row } of this.verified.values()) {
      if (this.idl.get(row.table.name, row.uuid) !== row) return true;
    }
    return false;
  }
}

function waitForReplica(idl: Idl, txn: IdlTransaction, ms: number): Promise<void> {
  if (txn.replicaMoved()) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      idl.off('change', check);
      idl.off('synced', done);
      resolve();
    };
    const check = (): void => {
      if (txn.replicaMoved()) done();
    };
    const timer = setTimeout(done, ms);
    idl.on('change', check);
    idl.on('synced', done);
  });
}

export async function runIdlTransaction<R>(idl: Idl, fn: (txn: IdlTransaction) => R | Promise<R>, opts: IdlTransactOptions): Promise<IdlTransactResult<R>> {
  const maxAttempts = opts.maxAttempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    await idl.ready();
    const txn = new IdlTransaction(idl);
    const value = await fn(txn);
    const waits = txn.verifyOps();
    const ops = [...waits, ...txn.operations];
    if (ops.length === 0) return { value, results: new TransactionResults([]), attempts: attempt };
    const reply = await idl.client.transact(idl.database, ops, opts.signal ? { signal: opts.signal } : {});
    try {
      return { value, results: checkResults(ops, reply, waits.length), attempts: attempt };
    } catch (e) {
      if (!(e instanceof TransactionError)) throw e;
      if (e.index >= waits.length) {
        // The caller's own operation failed: report it by its position among the caller's operations.
        throw new TransactionError(e.index - waits.length, e.operation, e.error, e.details, e.results);
      }
      if (attempt >= maxAttempts) throw new VerifyConflictError(attempt, e);
      await waitForReplica(idl, txn, opts.staleWaitMs ?? 1000);
    }
  }
}
