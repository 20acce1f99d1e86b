/**
 * A typed transaction builder. Each operation method returns a reference whose type carries the
 * result type of that operation, so `results.get(ref)` is typed without casts at the call site:
 *
 *   const txn = client.transaction('OVN_Northbound');
 *   const port = txn.insert('Logical_Switch_Port', { name: 'p1' });
 *   txn.mutate('Logical_Switch', [['name', '==', 'sw0']], [['ports', 'insert', port.ref]]);
 *   const res = await txn.execute();
 *   res.get(port).uuid;   // string
 *
 * The builder only collects operations; `checkResults` turns a raw reply into results or a
 * TransactionError naming the failing operation. Sending is the client's job.
 */
import { TransactionError } from './errors.js';
import type {
  AssertOp,
  CommentOp,
  CommitOp,
  CountResult,
  DeleteOp,
  EmptyResult,
  InsertOp,
  InsertResult,
  InsertResultJson,
  MutateOp,
  Operation,
  SelectOp,
  SelectResult,
  UpdateOp,
  WaitOp,
} from './operations.js';
import type { ClauseJson, MutationJson, NamedUuidJson, RowJson } from './wire.js';

declare const resultBrand: unique symbol;

/** A reference to one operation of a transaction; R is that operation's result type. */
export interface OpRef<R> {
  readonly index: number;
  readonly op: Operation;
  /** Type-level only: never set. */
  readonly [resultBrand]?: R;
}

export interface InsertRef extends OpRef<InsertResult> {
  readonly uuidName: string;
  /** `["named-uuid", uuidName]`, for referring to the new row elsewhere in the same transaction. */
  readonly ref: NamedUuidJson;
}

export interface WaitOptions {
  readonly columns?: readonly string[];
  readonly until?: '==' | '!=';
  readonly timeout?: number;
}

const UUID_NAME_RE = /^[_a-zA-Z][_a-zA-Z0-9]*$/;

export class TransactionBuilder {
  private readonly list: Operation[] = [];
  private readonly namesUsed = new Set<string>();
  private nextName = 1;

  constructor(readonly database: string) {}

  /** The operations so far, in order. */
  get operations(): readonly Operation[] {
    return this.list;
  }

  get size(): number {
    return this.list.length;
  }

  private add<R>(op: Operation): OpRef<R> {
    this.list.push(op);
    return { index: this.list.length - 1, op };
  }

  /** Inserts a row. Without `uuidName`, one is generated so the row can still be referred to via `.ref`. */
  insert(table: string, row: RowJson, opts: { uuidName?: string; uuid?: string } = {}): InsertRef {
    let name = opts.uuidName;
    if (name === undefined) {
      do name = `row${this.nextName++}`;
      while (this.namesUsed.has(name));
    } else if (!UUID_NAME_RE.test(name)) {
      throw new Error(`"${name}" is not a valid uuid-name (letters, digits and _, not starting with a digit)`);
    } else if (this.namesUsed.has(name)) {
      throw new Error(`uuid-name "${name}" is already used in this transaction`);
    }
    this.namesUsed.add(name);
    const op: InsertOp = opts.uuid === undefined ? { op: 'insert', table, row, 'uuid-name': name } : { op: 'insert', table, row, 'uuid-name': name, uuid: opts.uuid };
    const r = this.add<InsertResult>(op);
    return { ...r, uuidName: name, ref: ['named-uuid', name] };
  }

  select(table: string, where: readonly ClauseJson[] = [], columns?: readonly string[]): OpRef<SelectResult> {
    const op: SelectOp = columns === undefined ? { op: 'select', table, where } : { op: 'select', table, where, columns };
    return this.add(op);
  }

  update(table: string, where: readonly ClauseJson[], row: RowJson): OpRef<CountResult> {
    return this.add({ op: 'update', table, where, row } satisfies UpdateOp);
  }

  mutate(table: string, where: readonly ClauseJson[], mutations: readonly MutationJson[]): OpRef<CountResult> {
    return this.add({ op: 'mutate', table, where, mutations } satisfies MutateOp);
  }

  delete(table: string, where: readonly ClauseJson[]): OpRef<CountResult> {
    return this.add({ op: 'delete', table, where } satisfies DeleteOp);
  }

  /**
   * Waits until the rows matching `where`, projected to `columns` (by default the columns of
   * the first expected row), are (`until: '=='`, the default) or are not exactly `rows`.
   */
  wait(table: string, where: readonly ClauseJson[], rows: readonly RowJson[], opts: WaitOptions = {}): OpRef<EmptyResult> {
    const columns = opts.columns ?? Object.keys(rows[0] ?? {});
    const base = { op: 'wait', table, where, columns, until: opts.until ?? '==', rows } as const;
    return this.add((opts.timeout === undefined ? base : { ...base, timeout: opts.timeout }) satisfies WaitOp);
  }

  comment(text: string): OpRef<EmptyResult> {
    return this.add({ op: 'comment', comment: text } satisfies CommentOp);
  }

  /** Fails the transaction with "not owner" unless this session holds `lock`. */
  assert(lock: string): OpRef<EmptyResult> {
    return this.add({ op: 'assert', lock } satisfies AssertOp);
  }

  /** The RFC's "commit" operation: with `durable`, the reply waits until the commit is on disk. */
  commit(durable = true): OpRef<EmptyResult> {
    return this.add({ op: 'commit', durable } satisfies CommitOp);
  }

  /** Appends an operation built elsewhere (raw form). */
  raw<R = unknown>(op: Operation): OpRef<R> {
    return this.add(op);
  }
}

/** A successful transaction's results, looked up by operation reference. */
export class TransactionResults {
  constructor(
    /** The raw reply. */
    readonly raw: readonly unknown[],
    /** Operations placed before the builder's own (e.g. an IDL's verify waits). */
    private readonly offset = 0,
  ) {}

  get<R>(ref: OpRef<R>): R {
    const r = this.raw[ref.index + this.offset];
    if (ref.op.op === 'insert') return { uuid: (r as InsertResultJson).uuid[1] } as R;
    return r as R;
  }

  /** The UUID the server gave an inserted row. */
  uuid(ref: InsertRef): string {
    return this.get(ref).uuid;
  }
}

/**
 * Turns a transact reply into results, or throws a TransactionError for the first failing
 * operation (or for the commit, reported as an extra element after the last operation).
 */
export function checkResults(ops: readonly Operation[], reply: unknown, offset = 0): TransactionResults {
  if (!Array.isArray(reply)) throw new TransactionError(-1, undefined, 'bad reply', `transact reply is not an array: ${JSON.stringify(reply)}`, []);
  for (let i = 0; i < reply.length; i++) {
    const r = reply[i] as unknown;
    if (typeof r === 'object' && r !== null && 'error' in r) {
      const e = r as { error: unknown; details?: unknown };
      const details = typeof e.details === 'string' ? e.details : undefined;
      throw new TransactionError(i, ops[i], String(e.error), details, reply);
    }
  }
  if (reply.length < ops.length) throw new TransactionError(reply.length, ops[reply.length], 'bad reply', `${reply.length} results for ${ops.length} operations`, reply);
  return new TransactionResults(reply, offset);
}
