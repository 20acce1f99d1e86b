/**
 * The IDL: a replica of chosen tables and columns of one database, kept current over an
 * OvsdbClient's successive connections (like OVS's IDL, or libovsdb's cache).
 *
 * On every connection it fetches the schema, then monitors with monitor_cond_since (falling back
 * to monitor_cond, then monitor, when the server does not know a method). After a reconnect it
 * asks for the changes since the last transaction id it saw: when the server still knows that
 * id (`found`), the cache is kept and only the difference arrives; otherwise the full dump
 * replaces the cache and readers see the difference as ordinary changes.
 *
 * It is db-change-aware: it asks the server to cancel rather than drop monitors on a schema
 * change, and watches `_Server.Database` for the database's schema; either signal makes it
 * fetch the new schema and resync on the same connection.
 */
import { EventEmitter } from 'node:events';
import { ZERO_UUID } from '../../datum.js';
import { parseMonitorCondition } from '../../condition.js';
import { RpcError } from '../../jsonrpc/connection.js';
import { parseSchema, type ColumnSchema, type DatabaseSchema, type TableSchema } from '../../schema.js';
import { logger } from '../../log.js';
import type { OvsdbClient } from '../client.js';
import { ClientClosedError } from '../errors.js';
import type { MonitorCondChanges, MonitorRequest, MonitorRequests, TableUpdates1, TableUpdates2 } from '../monitor-types.js';
import type { MonitorClauseJson } from '../wire.js';
import { IdlChanges, type IdlRowChange } from './changes.js';
import { Replica, ReplicaInconsistency, countRowUpdates, type IdlTable } from './replica.js';
import { RowIndex } from './row-index.js';
import type { IdlRow } from './row.js';
import { runIdlTransaction, type IdlTransaction, type IdlTransactOptions, type IdlTransactResult } from './idl-txn.js';

const log = logger('ovsdb-idl');

export type MonitorMethod = 'monitor_cond_since' | 'monitor_cond' | 'monitor';
const ALL_METHODS: readonly MonitorMethod[] = ['monitor_cond_since', 'monitor_cond', 'monitor'];

export interface IdlTableSpec {
  /** Columns to replicate (default: all). `_version` may be listed too. */
  readonly columns?: readonly string[];
  /** Initial condition: only rows satisfying every clause are replicated. */
  readonly where?: readonly MonitorClauseJson[];
}

export interface IdlOptions {
  readonly database: string;
  /** Tables to replicate; `true` means all columns, all rows. */
  readonly tables: Readonly<Record<string, IdlTableSpec | true>>;
  /** Keep a record of row changes for takeChanges() (default false: it holds old rows until taken). */
  readonly trackChanges?: boolean;
  /** Watch for the server's schema changes (default true). */
  readonly dbChangeAware?: boolean;
  /** Monitor methods to try, best first (default: monitor_cond_since, monitor_cond, monitor). */
  readonly methods?: readonly MonitorMethod[];
}

/** How the last (re)synchronization went: method used, whether the server resumed, reply size. */
export interface SyncInfo {
  readonly method: MonitorMethod;
  /** monitor_cond_since found our last transaction id: the cache was kept. */
  readonly found: boolean;
  /** Row entries in the monitor reply (0 on a resume with nothing new). */
  readonly rows: number;
}

export interface IdlEvents {
  /** The changes of one applied update (or resync), after the replica is consistent again. */
  change: [readonly IdlRowChange[]];
  synced: [SyncInfo];
  schemaChanged: [DatabaseSchema];
}

export interface IdlStats {
  fullSyncs: number;
  resumes: number;
  updates: number;
  condChanges: number;
}

/** Per table, the condition (and its canonical text, for comparing). */
type Conds = Map<string, { readonly key: string; readonly where: readonly MonitorClauseJson[] | undefined }>;

interface TableDef {
  readonly schema: TableSchema;
  readonly columns: readonly ColumnSchema[];
  readonly columnNames: readonly string[];
}

let idlSerial = 0;

function isUnknownMethod(e: unknown): boolean {
  if (!(e instanceof RpcError)) return false;
  const err = e.error as unknown;
  return err === 'unknown method' || (typeof err === 'object' && err !== null && (err as { error?: unknown }).error === 'unknown method');
}

function condKey(where: readonly MonitorClauseJson[] | undefined): string {
  return where === undefined ? '' : JSON.stringify(where);
}

export class Idl extends EventEmitter<IdlEvents> {
  readonly database: string;
  private readonly replica: Replica;
  private readonly monitorId: string;
  private readonly serverMonitorId: string;
  private readonly methods: readonly MonitorMethod[];
  private readonly specs: ReadonlyMap<string, IdlTableSpec>;
  /** Conditions the caller wants, per table (absent: all rows). */
  private readonly desired = new Map<string, readonly MonitorClauseJson[] | undefined>();
  /** Conditions the replica's contents reflect; undefined while unknown (a change in flight). */
  private replicaConds: Conds | undefined;
  private schemaObj: DatabaseSchema | undefined;
  private schemaText: string | undefined;
  private serverSchemaText: string | undefined;
  private defs = new Map<string, TableDef>();
  /** Last transaction id seen (monitor_cond_since/update3); the zero UUID when none. */
  lastTxnId = ZERO_UUID;
  /** Bumped for every (re)synchronization; async steps of an older one drop their results. */
  private generation = 0;
  private method: MonitorMethod | undefined;
  private unsupported = new Set<MonitorMethod>();
  private synced = false;
  private started = false;
  private closed = false;
  private resyncPending = false;
  /** The connection on which `_Server` is being watched. */
  private watchedConn: object | undefined;
  private readonly syncWaiters = new Set<{ resolve(): void; reject(e: Error): void }>();
  private condChain: Promise<void> = Promise.resolve();
  readonly stats: IdlStats = { fullSyncs: 0, resumes: 0, updates: 0, condChanges: 0 };
  lastSync: SyncInfo | undefined;
  private readonly onConnected = (): void => {
    this.unsupported = new Set();
    this.startSync();
  };
  private readonly onDisconnected = (): void => {
    this.synced = false;
    this.method = undefined;
    this.generation++;
  };
  private readonly onClientClosed = (): void => this.rejectWaiters(new ClientClosedError());
  private readonly onClientGaveUp = (e: Error): void => this.rejectWaiters(e);

  constructor(
    readonly client: OvsdbClient,
    readonly options: IdlOptions,
  ) {
    super();
    this.database = options.database;
    this.replica = new Replica(options.trackChanges ?? false);
    this.methods = options.methods ?? ALL_METHODS;
    const n = ++idlSerial;
    this.monitorId = `idl${n}:${options.database}`;
    this.serverMonitorId = `idl${n}:_Server`;
    const specs = new Map<string, IdlTableSpec>();
    for (const [name, s] of Object.entries(options.tables)) {
      const spec = s === true ? {} : s;
      specs.set(name, spec);
      this.desired.set(name, spec.where);
    }
    this.specs = specs;
  }

  /** Starts replicating (connecting the client if needed); resolves at the first sync. */
  async start(): Promise<void> {
    if (!this.started) {
      this.started = true;
      this.client.on('connected', this.onConnected);
      this.client.on('disconnected', this.onDisconnected);
      this.client.on('gaveUp', this.onClientGaveUp);
      this.client.on('closed', this.onClientClosed);
      if (this.client.isConnected) this.startSync();
      else void this.client.connect().catch(() => undefined);
    }
    return this.ready();
  }

  /** Stops replicating (the client stays open); the cache stays readable. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.generation++;
    this.client.off('connected', this.onConnected);
    this.client.off('disconnected', this.onDisconnected);
    this.client.off('gaveUp', this.onClientGaveUp);
    this.client.off('closed', this.onClientClosed);
    if (this.client.isConnected) {
      // Best effort: the server stops sending us updates nobody will read.
      this.client.monitorCancel(this.monitorId).catch(() => undefined);
      if (this.watchedConn === this.client.connection) this.client.monitorCancel(this.serverMonitorId).catch(() => undefined);
    }
    this.client.unregisterMonitor(this.monitorId);
    this.client.unregisterMonitor(this.serverMonitorId);
    this.rejectWaiters(new ClientClosedError());
  }

  /** Whether the replica is current with a live connection. */
  get isSynced(): boolean {
    return this.synced;
  }

  /** Resolves once the replica is synchronized on the current (or next) connection. */
  ready(): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (this.closed || this.client.isClosed) return Promise.reject(new ClientClosedError());
    return new Promise((resolve, reject) => this.syncWaiters.add({ resolve, reject }));
  }

  private rejectWaiters(e: Error): void {
    for (const w of this.syncWaiters) w.reject(e);
    this.syncWaiters.clear();
  }

  get schema(): DatabaseSchema | undefined {
    return this.schemaObj;
  }

  /** The monitor method in use on this connection. */
  get monitorMethod(): MonitorMethod | undefined {
    return this.method;
  }

  // --- reading ---------------------------------------------------------------------------

  /** A replicated table (undefined before the first sync or if the server lacks it). */
  table(name: string): IdlTable | undefined {
    return this.replica.tables.get(name);
  }

  /** Rows of a table (empty if not replicated). */
  rows(table: string): Iterable<IdlRow> {
    return this.replica.tables.get(table)?.rows.values() ?? [];
  }

  get(table: string, uuid: string): IdlRow | undefined {
    return this.replica.tables.get(table)?.rows.get(uuid);
  }

  /** A secondary index on `columns` of `table`, maintained from now on (may be created before the first sync). */
  createIndex(table: string, columns: readonly string[]): RowIndex {
    if (!this.specs.has(table)) throw new Error(`table ${table} is not replicated by this IDL`);
    const spec = this.specs.get(table)!;
    for (const c of columns) {
      if (spec.columns && !spec.columns.includes(c)) throw new Error(`index on ${table}: column ${c} is not replicated`);
    }
    const ix = new RowIndex(table, columns);
    this.replica.addIndex(ix);
    return ix;
  }

  /** Changes since the last call (requires trackChanges). */
  takeChanges(): IdlChanges {
    const t = this.replica.changeTracker;
    if (!t) throw new Error('takeChanges() needs the IDL option trackChanges: true');
    return t.take();
  }

  // --- conditions ------------------------------------------------------------------------

  /**
   * Replaces a table's condition (undefined: all rows). Resolves when the replica reflects it;
   * when disconnected, it applies at the next synchronization.
   */
  setCondition(table: string, where: readonly MonitorClauseJson[] | undefined): Promise<void> {
    if (!this.specs.has(table)) return Promise.reject(new Error(`table ${table} is not replicated by this IDL`));
    const ts = this.defs.get(table)?.schema;
    if (ts && where !== undefined) {
      // Checked here, so that a bad condition fails this call instead of every later monitor request.
      try {
        parseMonitorCondition(ts, where);
      } catch (e) {
        return Promise.reject(e as Error);
      }
    }
    this.desired.set(table, where);
    // A condition changed without the server's knowledge makes our last txn id meaningless for
    // a resume: the server would send changes under the new condition only.
    if (!this.synced) this.replicaConds = undefined;
    const run = this.condChain.then(() => this.syncConditions());
    this.condChain = run.catch(() => undefined);
    return run;
  }

  private async syncConditions(): Promise<void> {
    for (;;) {
      await this.ready();
      const gen = this.generation;
      const changes: Record<string, { where: readonly MonitorClauseJson[] }[]> = {};
      let any = false;
      const target: Conds = new Map();
      for (const [name, where] of this.desired) {
        if (!this.defs.has(name)) continue;
        const k = condKey(where);
        target.set(name, { key: k, where });
        if (this.replicaConds?.get(name)?.key !== k) {
          changes[name] = [{ where: where ?? [true] }];
          any = true;
        }
      }
      if (!any && this.replicaConds !== undefined) return;
      try {
        if (this.method === 'monitor') {
          // No monitor_cond_change with plain "monitor": subscribe again, filtering here.
          await this.client.monitorCancel(this.monitorId).catch(() => undefined);
          this.replicaConds = undefined;
          await this.sync(gen, 'monitor');
        } else {
          const before = this.replicaConds;
          this.replicaConds = undefined;
          try {
            await this.client.monitorCondChange(this.monitorId, this.monitorId, changes as MonitorCondChanges);
          } catch (e) {
            if (e instanceof RpcError && gen === this.generation && before) {
              // Refused: the server keeps the old conditions, and so do we.
              this.replicaConds = before;
              for (const name of Object.keys(changes)) this.desired.set(name, before.get(name)?.where);
            }
            throw e;
          }
          // Updates caused by the change may follow the reply (ovnts) or precede it
          // (ovsdb-server); an echo round trip makes sure they have been applied either way.
          await this.client.echo();
          if (gen !== this.generation) continue;
          this.replicaConds = target;
          this.stats.condChanges++;
        }
        return;
      } catch (e) {
        if (gen !== this.generation || !this.client.isConnected) continue; // the next sync sends our conditions
        throw e;
      }
    }
  }

  // --- transactions ----------------------------------------------------------------------

  /**
   * Runs `fn` in a transaction that verifies what it read from the replica, retrying (up to
   * `maxAttempts`) when another client changed those rows first. `fn` may run several times.
   */
  transact<R>(fn: (txn: IdlTransaction) => R | Promise<R>, opts: IdlTransactOptions = {}): Promise<IdlTransactResult<R>> {
    return runIdlTransaction(this, fn, opts);
  }

  // --- synchronization -------------------------------------------------------------------

  /** Forgets the last transaction id, so the next sync is a full one (e.g. after an inconsistency). */
  private forgetResume(): void {
    this.lastTxnId = ZERO_UUID;
  }

  private startSync(): void {
    if (this.closed) return;
    const gen = ++this.generation;
    this.synced = false;
    this.method = undefined;
    this.handshake(gen).catch((e: unknown) => {
      if (gen !== this.generation) return;
      const broken = e instanceof ReplicaInconsistency;
      log.warn(`${this.database}: synchronization failed: ${e instanceof Error ? e.message : String(e)}`);
      if (broken) {
        // The reply did not fit our copy: only a full dump can repair it.
        this.forgetResume();
        this.replicaConds = undefined;
      }
      // Retry on this connection unless it is gone (then 'connected' restarts us). The monitor
      // may exist on the server already, so it is cancelled first.
      this.scheduleResync(broken ? 'inconsistent reply' : 'retry', broken ? 0 : 500);
    });
  }

  /** Cancels the monitor and synchronizes again on the current connection; coalesced. */
  private scheduleResync(reason: string, delayMs = 0): void {
    if (this.resyncPending || this.closed) return;
    this.resyncPending = true;
    log.info(`${this.database}: resynchronizing (${reason})`);
    const gen = this.generation;
    setTimeout(() => {
      this.resyncPending = false;
      if (!this.client.isConnected || this.closed) return;
      this.client
        .monitorCancel(this.monitorId)
        .catch(() => undefined)
        .then(() => {
          if (gen === this.generation) this.startSync();
        });
    }, delayMs).unref();
  }

  private async handshake(gen: number): Promise<void> {
    if (this.options.dbChangeAware ?? true) await this.watchServer();
    if (gen !== this.generation) return;
    const schemaJson = await this.client.getSchemaJson(this.database);
    if (gen !== this.generation) return;
    this.installSchema(schemaJson);
    for (const m of this.methods) {
      if (this.unsupported.has(m)) continue;
      try {
        await this.sync(gen, m);
        return;
      } catch (e) {
        if (!isUnknownMethod(e)) throw e;
        log.info(`${this.database}: server does not support ${m}`);
        this.unsupported.add(m);
      }
    }
    throw new Error(`server supports none of ${this.methods.join(', ')}`);
  }

  /** Asks to be db-change-aware and monitors this database's `_Server` row; best effort. */
  private async watchServer(): Promise<void> {
    const conn = this.client.connection;
    // One _Server monitor per connection; a resync on the same connection keeps it.
    if (conn === undefined || conn === this.watchedConn) return;
    this.watchedConn = conn;
    try {
      await this.client.setDbChangeAware(true);
      const onRows = (u: TableUpdates2): void => {
        if (this.client.connection !== conn || this.closed) return;
        for (const ru of Object.values(u['Database'] ?? {})) {
          const row = (ru as Record<string, Record<string, unknown>>)['initial'] ?? (ru as Record<string, Record<string, unknown>>)['insert'] ?? (ru as Record<string, Record<string, unknown>>)['modify'];
          const text = row?.['schema'];
          if (typeof text !== 'string' || text === '') continue;
          if (this.serverSchemaText !== undefined && text !== this.serverSchemaText) this.scheduleResync('schema changed (_Server)');
          this.serverSchemaText = text;
        }
      };
      const initial = await this.client.monitorCond(
        '_Server',
        this.serverMonitorId,
        { Database: [{ columns: ['name', 'schema'], where: [['name', '==', this.database]] }] },
        onRows,
      );
      this.serverSchemaText = undefined;
      onRows(initial);
    } catch (e) {
      // Old servers lack _Server or set_db_change_aware; a schema change then drops the
      // connection instead, and the reconnect fetches the new schema anyway.
      log.debug(`${this.database}: not watching _Server: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private installSchema(json: Record<string, unknown>): void {
    const text = JSON.stringify(json);
    if (text === this.schemaText && this.schemaObj) return;
    const first = this.schemaObj === undefined;
    const schema = parseSchema(json);
    this.schemaText = text;
    this.schemaObj = schema;
    const defs = new Map<string, TableDef>();
    for (const [name, spec] of this.specs) {
      const ts = schema.tables.get(name);
      if (!ts) {
        // Version skew between us and the server is normal in OVN upgrades: replicate what exists.
        log.warn(`${this.database}: server has no table ${name}; not replicating it`);
        continue;
      }
      const names: string[] = [];
      for (const c of spec.columns ?? ts.columnList.map((c) => c.name)) {
        if (c === '_version' || ts.columns.has(c)) names.push(c);
        else log.warn(`${this.database}: table ${name} has no column ${c}; not replicating it`);
      }
      const columns = names.filter((c) => c !== '_version').map((c) => ts.columns.get(c)!);
      defs.set(name, { schema: ts, columns, columnNames: names });
    }
    this.defs = defs;
    // New schema: the old transaction id and row layouts are meaningless.
    this.forgetResume();
    this.replicaConds = undefined;
    this.replica.configure(defs);
    this.emitBatch();
    if (!first) this.emit('schemaChanged', schema);
  }

  private monitorRequests(withWhere: boolean): { requests: MonitorRequests; conds: Conds } {
    const requests: Record<string, MonitorRequest[]> = {};
    const conds: Conds = new Map();
    for (const [name, def] of this.defs) {
      const where = this.desired.get(name);
      conds.set(name, { key: condKey(where), where });
      requests[name] = [withWhere && where !== undefined ? { columns: def.columnNames, where } : { columns: def.columnNames }];
    }
    return { requests, conds };
  }

  private setFilters(conds: boolean): void {
    for (const [name, t] of this.replica.tables) {
      const where = this.desired.get(name);
      t.filter = conds && where !== undefined ? parseMonitorCondition(t.schema, where) : undefined;
    }
  }

  private acknowledge(conds: Conds): void {
    this.replicaConds = conds;
  }

  private condsMatch(conds: Conds): boolean {
    const r = this.replicaConds;
    if (!r || r.size !== conds.size) return false;
    for (const [k, v] of conds) if (r.get(k)?.key !== v.key) return false;
    return true;
  }

  /** Sends one monitor request with `method` and applies the reply. */
  private async sync(gen: number, method: MonitorMethod): Promise<void> {
    const id = this.monitorId;
    // Updates that overtake the reply wait until the reply is applied (see OvsdbClient.withMonitor;
    // this makes the order independent of how the promise continuations are scheduled).
    let early: (() => void)[] | undefined = [];
    const deliver = (f: () => void): void => void (early ? early.push(f) : f());
    const canceled = (): void => deliver(() => this.onCanceled(gen));
    let info: SyncInfo;
    let conds: Conds;
    let apply: () => void;
    let txnId = ZERO_UUID;
    if (method === 'monitor_cond_since') {
      const req = this.monitorRequests(true);
      conds = req.conds;
      const since = this.condsMatch(conds) ? this.lastTxnId : ZERO_UUID;
      const r = await this.client.monitorCondSince(this.database, id, req.requests, since, (u, txn) => deliver(() => this.onUpdate(gen, () => this.replica.applyUpdate2(u), txn)), canceled);
      apply = () => (r.found ? this.replica.applyUpdate2(r.updates) : this.replica.replace(r.updates, 2));
      txnId = r.lastTxnId;
      info = { method, found: r.found, rows: countRowUpdates(r.updates) };
    } else if (method === 'monitor_cond') {
      const req = this.monitorRequests(true);
      conds = req.conds;
      const r = await this.client.monitorCond(this.database, id, req.requests, (u) => deliver(() => this.onUpdate(gen, () => this.replica.applyUpdate2(u))), canceled);
      apply = () => this.replica.replace(r, 2);
      info = { method, found: false, rows: countRowUpdates(r) };
    } else {
      const req = this.monitorRequests(false);
      conds = req.conds;
      const r = await this.client.monitor(this.database, id, req.requests, (u: TableUpdates1) => deliver(() => this.onUpdate(gen, () => this.replica.applyUpdate1(u))), canceled);
      apply = () => this.replica.replace(r, 1);
      info = { method, found: false, rows: countRowUpdates(r) };
    }
    if (gen !== this.generation) return;
    this.setFilters(method === 'monitor');
    try {
      this.apply(apply);
    } catch (e) {
      throw e instanceof ReplicaInconsistency ? e : new ReplicaInconsistency(`cannot apply ${method} reply: ${e instanceof Error ? e.message : String(e)}`);
    }
    // Without monitor_cond_since there is nothing to resume from next time.
    this.lastTxnId = txnId;
    this.acknowledge(conds);
    this.method = method;
    if (info.found) this.stats.resumes++;
    else this.stats.fullSyncs++;
    this.lastSync = info;
    this.synced = true;
    const queued = early;
    early = undefined;
    for (const f of queued) f();
    for (const w of this.syncWaiters) w.resolve();
    this.syncWaiters.clear();
    this.emit('synced', info);
  }

  private apply(fn: () => void): void {
    try {
      fn();
    } finally {
      this.emitBatch();
    }
  }

  private emitBatch(): void {
    const batch = this.replica.takeBatch();
    if (batch.length > 0 && this.listenerCount('change') > 0) this.emit('change', batch);
  }

  private onUpdate(gen: number, apply: () => void, txnId?: string): void {
    if (gen !== this.generation) return;
    try {
      this.apply(apply);
      this.stats.updates++;
      // ovsdb-server may send the zero UUID when an update is not a transaction (a condition
      // change): the last real transaction id is still the right place to resume from.
      if (txnId !== undefined && txnId !== ZERO_UUID) this.lastTxnId = txnId;
    } catch (e) {
      // Our copy no longer matches the server's (or the update was malformed): start over with a full dump.
      const what = e instanceof ReplicaInconsistency ? e.message : `cannot apply update: ${e instanceof Error ? e.message : String(e)}`;
      log.warn(`${this.database}: ${what}; full resync`);
      this.forgetResume();
      this.replicaConds = undefined;
      this.scheduleResync(what);
    }
  }

  private onCanceled(gen: number): void {
    if (gen !== this.generation) return;
    // ovsdb-server cancels monitors of db-change-aware clients when the database changes schema.
    this.scheduleResync('monitor canceled by the server');
  }
}
