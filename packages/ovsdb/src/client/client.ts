/**
 * OvsdbClient: one logical session with an OVSDB server, kept alive across connections.
 *
 * It connects to one of several remotes (tcp:, ssl:, unix:), fails over to the next when a
 * connection fails or drops, and reconnects with bounded exponential backoff. It answers the
 * server's "echo" probes and probes an idle server itself. Requests are pipelined (many may be
 * outstanding); a request made while disconnected fails at once with NotConnectedError rather
 * than waiting, because only the caller knows whether it is still worth sending later.
 *
 * What belongs to a connection (monitors, locks) is the server's per-connection state: monitor
 * handlers are dropped on disconnect (the IDL re-creates its monitor on 'connected'), while locks
 * the caller asked for are re-requested automatically after each reconnect.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { JsonRpcConnection, RpcError, type JsonRpcRequest } from '../jsonrpc/connection.js';
import { connectStream, type TlsClientFiles } from '../jsonrpc/connect.js';
import { parseRemote } from '../jsonrpc/remote.js';
import { parseSchema, type DatabaseSchema } from '../schema.js';
import { logger } from '../log.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { TransactionBuilder, checkResults, type TransactionResults } from './builder.js';
import { CanceledError, ClientClosedError, ConnectionLostError, NotConnectedError } from './errors.js';
import type { Operation } from './operations.js';
import type { MonitorCondChanges, MonitorHandler, MonitorRequests, MonitorSinceReply, TableUpdates1, TableUpdates2 } from './monitor-types.js';

const log = logger('ovsdb-client');

export interface ClientOptions {
  /** One remote or several to fail over between, tried in order: `tcp:IP:PORT`, `ssl:IP:PORT`, `unix:PATH`. */
  readonly remotes: string | readonly string[];
  /** Key, certificate and CA for ssl: remotes. */
  readonly tls?: TlsClientFiles;
  readonly backoff?: BackoffOptions;
  /**
   * Idle time (ms) before we send "echo"; a server silent for twice as long is dropped.
   * Default: 5000 on tcp/ssl, off (0) on unix sockets, as OVS does.
   */
  readonly probeIntervalMs?: number;
  /** Per-attempt connect timeout, ms (default 10000). */
  readonly connectTimeoutMs?: number;
  /** Largest message accepted from the server (default 64 MiB). */
  readonly maxMessageBytes?: number;
}

export interface RequestOptions {
  /** Aborting sends "cancel" for the request; it then fails with CanceledError (see there). */
  readonly signal?: AbortSignal;
}

export interface ConnectedInfo {
  readonly remote: string;
}

export interface DisconnectedInfo {
  readonly remote: string;
  readonly reason: string;
}

export interface ClientEvents {
  connected: [ConnectedInfo];
  disconnected: [DisconnectedInfo];
  /** This client came to own the lock (granted at once, after waiting, or re-acquired after a reconnect). */
  locked: [string];
  /** Another client stole the lock. */
  stolen: [string];
  /** Reconnection stopped after backoff.maxAttempts consecutive failures. */
  gaveUp: [Error];
  /** close() was called. */
  closed: [];
  /** A notification the client does not handle itself. */
  notification: [JsonRpcRequest];
}

/** A transaction builder bound to a client: `execute()` sends it. */
export class ClientTransaction extends TransactionBuilder {
  constructor(
    private readonly client: OvsdbClient,
    database: string,
  ) {
    super(database);
  }

  /** Sends the operations; resolves with typed results or rejects with TransactionError. */
  async execute(opts: RequestOptions = {}): Promise<TransactionResults> {
    const ops = this.operations;
    return checkResults(ops, await this.client.transact(this.database, ops, opts));
  }
}

export class OvsdbClient extends EventEmitter<ClientEvents> {
  readonly remotes: readonly string[];
  private readonly backoff: Backoff;
  private conn: JsonRpcConnection | undefined;
  private connRemote: string | undefined;
  private nextRemote = 0;
  private closed = false;
  private started = false;
  private loopDone: Promise<void> = Promise.resolve();
  private sleepTimer: NodeJS.Timeout | undefined;
  private wakeSleep: (() => void) | undefined;
  private lastError: Error | undefined;
  private readonly waiters = new Set<{ resolve(): void; reject(e: Error): void }>();
  private readonly monitors = new Map<string, MonitorHandler>();
  /** Locks asked for (and not unlocked), with whether this connection holds them. */
  private readonly locks = new Map<string, { held: boolean }>();
  /** Connections on which we declared ourselves db-change-aware (the server then confirms cancels). */
  private readonly changeAware = new WeakSet<JsonRpcConnection>();

  constructor(readonly options: ClientOptions) {
    super();
    this.remotes = typeof options.remotes === 'string' ? [options.remotes] : [...options.remotes];
    if (this.remotes.length === 0) throw new Error('OvsdbClient: no remotes given');
    for (const r of this.remotes) {
      const k = parseRemote(r).kind;
      if (k !== 'tcp' && k !== 'ssl' && k !== 'unix') throw new Error(`${r}: not an active remote (use tcp:, ssl: or unix:)`);
    }
    this.backoff = new Backoff(options.backoff);
  }

  // --- connection lifecycle ------------------------------------------------------------

  /** Starts connecting (and keeps reconnecting); resolves once connected the first time. */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new ClientClosedError());
    if (!this.started) {
      this.started = true;
      this.loopDone = this.loop();
    }
    return this.waitConnected();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get isConnected(): boolean {
    return this.conn !== undefined && !this.conn.isClosed;
  }

  /** The remote of the current connection. */
  get remote(): string | undefined {
    return this.isConnected ? this.connRemote : undefined;
  }

  /** The current connection (for diagnostics and tests; don't send on it directly). */
  get connection(): JsonRpcConnection | undefined {
    return this.conn;
  }

  /** Resolves when connected (at once if already), rejects if the client is closed or gives up. */
  waitConnected(): Promise<void> {
    if (this.isConnected) return Promise.resolve();
    if (this.closed) return Promise.reject(new ClientClosedError());
    if (this.started && this.backoff.exhausted) return Promise.reject(this.lastError ?? new Error('gave up reconnecting'));
    return new Promise((resolve, reject) => this.waiters.add({ resolve, reject }));
  }

  /** Stops reconnecting and closes the connection; outstanding requests fail with ConnectionLostError. */
  async close(): Promise<void> {
    if (this.closed) return this.loopDone;
    this.closed = true;
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    this.wakeSleep?.();
    this.conn?.close('client closed');
    const err = new ClientClosedError();
    for (const w of this.waiters) w.reject(err);
    this.waiters.clear();
    this.emit('closed');
    await this.loopDone;
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.wakeSleep = resolve;
      this.sleepTimer = setTimeout(resolve, ms);
    });
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      if (this.backoff.exhausted) {
        const e = this.lastError ?? new Error('gave up reconnecting');
        for (const w of this.waiters) w.reject(e);
        this.waiters.clear();
        this.emit('gaveUp', e);
        return;
      }
      await this.sleep(this.backoff.nextDelay());
      if (this.closed) return;
      const remote = this.remotes[this.nextRemote]!;
      // Whatever happens to this attempt, the next one goes to the next remote: that is the failover.
      this.nextRemote = (this.nextRemote + 1) % this.remotes.length;
      let sock: Socket;
      try {
        sock = await connectStream(remote, this.options.tls, this.options.connectTimeoutMs ?? 10_000);
      } catch (e) {
        this.lastError = e as Error;
        this.backoff.failed();
        log.debug(`${remote}: connect failed: ${(e as Error).message}`);
        continue;
      }
      if (this.closed) {
        sock.destroy();
        return;
      }
      const reason = await this.runConnection(remote, sock);
      log.info(`${remote}: disconnected (${reason})`);
    }
  }

  /** Serves one connection until it closes; returns why it closed. */
  private runConnection(remote: string, sock: Socket): Promise<string> {
    const kind = parseRemote(remote).kind;
    const probe = this.options.probeIntervalMs ?? (kind === 'unix' ? 0 : 5000);
    const conn = new JsonRpcConnection(
      sock,
      { probeIntervalMs: probe, ...(this.options.maxMessageBytes !== undefined ? { maxMessageBytes: this.options.maxMessageBytes } : {}) },
      remote,
    );
    const since = Date.now();
    this.conn = conn;
    this.connRemote = remote;
    conn.on('request', (req: JsonRpcRequest) => this.onRequest(conn, req));
    const closed = new Promise<string>((resolve) => {
      conn.once('close', (reason: string) => {
        this.conn = undefined;
        this.monitors.clear();
        for (const l of this.locks.values()) l.held = false;
        this.backoff.disconnected(Date.now() - since);
        this.lastError = new Error(`${remote}: ${reason}`);
        this.emit('disconnected', { remote, reason });
        resolve(reason);
      });
    });
    log.info(`${remote}: connected`);
    for (const w of this.waiters) w.resolve();
    this.waiters.clear();
    this.emit('connected', { remote });
    this.reacquireLocks(conn);
    return closed;
  }

  private onRequest(conn: JsonRpcConnection, req: JsonRpcRequest): void {
    const p = req.params;
    switch (req.method) {
      case 'echo':
        if (req.id !== null) conn.reply(req.id, p);
        return;
      case 'update':
      case 'update2':
      case 'update3':
        this.monitors.get(JSON.stringify(p[0] ?? null))?.update(req.method, p);
        return;
      case 'monitor_canceled': {
        const key = JSON.stringify(p[0] ?? null);
        const h = this.monitors.get(key);
        this.monitors.delete(key);
        h?.canceled?.();
        return;
      }
      case 'locked': {
        const name = String(p[0]);
        const l = this.locks.get(name);
        // ovsdb-server repeats "locked" to the owner whenever a waiter leaves: not news.
        if (l?.held) return;
        if (l) l.held = true;
        this.emit('locked', name);
        return;
      }
      case 'stolen': {
        const name = String(p[0]);
        const l = this.locks.get(name);
        if (l) l.held = false;
        this.emit('stolen', name);
        return;
      }
      default:
        if (req.id !== null) conn.replyError(req.id, 'unknown method');
        else this.emit('notification', req);
    }
  }

  // --- requests --------------------------------------------------------------------------

  /** Sends any JSON-RPC request on the current connection. */
  request(method: string, params: readonly unknown[], opts: RequestOptions = {}): Promise<unknown> {
    const conn = this.conn;
    if (!conn || conn.isClosed) return Promise.reject(this.closed ? new ClientClosedError() : new NotConnectedError(method));
    const id = conn.allocateId();
    const reply = conn.requestWithId(id, method, params as unknown[]);
    const signal = opts.signal;
    if (!signal) return reply.catch((e: unknown) => this.mapError(method, e));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        // "cancel" is a notification naming the request's id. ovsdb-server answers a cancelled
        // request ("canceled") only to db-change-aware sessions and drops it silently otherwise,
        // so then we cannot wait for its word.
        conn.notify('cancel', [id]);
        if (!this.changeAware.has(conn)) reject(new CanceledError(method));
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      reply.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          try {
            this.mapError(method, e);
          } catch (mapped) {
            reject(mapped as Error);
          }
        },
      );
    });
  }

  private mapError(method: string, e: unknown): never {
    if (e instanceof RpcError) {
      const err = e.error as unknown;
      if (err === 'canceled' || (typeof err === 'object' && err !== null && (err as { error?: unknown }).error === 'canceled')) throw new CanceledError(method);
      throw e;
    }
    throw new ConnectionLostError(method, e instanceof Error ? e.message : String(e));
  }

  async listDbs(): Promise<string[]> {
    return (await this.request('list_dbs', [])) as string[];
  }

  /** The schema as JSON, as the server sends it. */
  async getSchemaJson(db: string): Promise<Record<string, unknown>> {
    return (await this.request('get_schema', [db])) as Record<string, unknown>;
  }

  async getSchema(db: string): Promise<DatabaseSchema> {
    return parseSchema(await this.getSchemaJson(db));
  }

  async echo(...args: unknown[]): Promise<unknown[]> {
    return (await this.request('echo', args)) as unknown[];
  }

  async getServerId(): Promise<string> {
    return (await this.request('get_server_id', [])) as string;
  }

  /** Asks to be told ("monitor_canceled") rather than disconnected when a database changes schema. */
  async setDbChangeAware(aware = true): Promise<void> {
    const conn = this.conn;
    await this.request('set_db_change_aware', [aware]);
    if (conn && aware) this.changeAware.add(conn);
    else if (conn) this.changeAware.delete(conn);
  }

  /** Raw transact: the server's reply array (errors inside it are not thrown; see transaction()). */
  async transact(db: string, ops: readonly Operation[], opts: RequestOptions = {}): Promise<unknown[]> {
    return (await this.request('transact', [db, ...ops], opts)) as unknown[];
  }

  /** A typed transaction builder; `execute()` sends it. */
  transaction(db: string): ClientTransaction {
    return new ClientTransaction(this, db);
  }

  // --- monitors --------------------------------------------------------------------------

  /** Routes notifications for monitor `id` (any JSON value) to `handler` until the connection drops. */
  registerMonitor(id: unknown, handler: MonitorHandler): void {
    this.monitors.set(JSON.stringify(id), handler);
  }

  unregisterMonitor(id: unknown): void {
    this.monitors.delete(JSON.stringify(id));
  }

  /**
   * Sends a monitor request with its notification handler registered first (updates may follow
   * the reply at once). Notifications that arrive before the caller has seen the reply (the
   * reply and an update can come in one read) are held back and delivered afterwards, in order:
   * an update must never be applied before the initial contents it follows.
   */
  private async withMonitor<T>(id: unknown, handler: MonitorHandler, send: () => Promise<T>): Promise<T> {
    let held: (() => void)[] | undefined = [];
    const gate: MonitorHandler = {
      update: (m, p) => void (held ? held.push(() => handler.update(m, p)) : handler.update(m, p)),
      canceled: () => void (held ? held.push(() => handler.canceled?.()) : handler.canceled?.()),
    };
    this.registerMonitor(id, gate);
    let result: T;
    try {
      result = await send();
    } catch (e) {
      if (this.monitors.get(JSON.stringify(id)) === gate) this.unregisterMonitor(id);
      held = undefined;
      throw e;
    }
    // The caller's continuation runs in microtasks once we return; setImmediate runs after them.
    setImmediate(() => {
      const q = held ?? [];
      held = undefined;
      for (const f of q) f();
    });
    return result;
  }

  /** RFC 7047 "monitor": full rows in "update" notifications. */
  monitor(db: string, id: unknown, requests: MonitorRequests, onUpdate: (u: TableUpdates1) => void, onCanceled?: () => void): Promise<TableUpdates1> {
    const h: MonitorHandler = { update: (_m, p) => onUpdate(p[1] as TableUpdates1), ...(onCanceled ? { canceled: onCanceled } : {}) };
    return this.withMonitor(id, h, async () => (await this.request('monitor', [db, id, requests])) as TableUpdates1);
  }

  /** "monitor_cond": conditions and "update2" diffs. */
  monitorCond(db: string, id: unknown, requests: MonitorRequests, onUpdate: (u: TableUpdates2) => void, onCanceled?: () => void): Promise<TableUpdates2> {
    const h: MonitorHandler = { update: (_m, p) => onUpdate(p[1] as TableUpdates2), ...(onCanceled ? { canceled: onCanceled } : {}) };
    return this.withMonitor(id, h, async () => (await this.request('monitor_cond', [db, id, requests])) as TableUpdates2);
  }

  /**
   * "monitor_cond_since": like monitor_cond, but resumes from `lastTxnId` when the server still
   * knows it (`found`), sending only the changes since; each "update3" carries its txn id.
   */
  monitorCondSince(
    db: string,
    id: unknown,
    requests: MonitorRequests,
    lastTxnId: string,
    onUpdate: (u: TableUpdates2, lastTxnId: string) => void,
    onCanceled?: () => void,
  ): Promise<MonitorSinceReply> {
    const h: MonitorHandler = { update: (_m, p) => onUpdate(p[2] as TableUpdates2, p[1] as string), ...(onCanceled ? { canceled: onCanceled } : {}) };
    return this.withMonitor(id, h, async () => {
      const r = (await this.request('monitor_cond_since', [db, id, requests, lastTxnId])) as [boolean, string, TableUpdates2];
      return { found: r[0], lastTxnId: r[1], updates: r[2] };
    });
  }

  /** Changes a monitor's conditions (and optionally its id). */
  async monitorCondChange(id: unknown, newId: unknown, changes: MonitorCondChanges): Promise<void> {
    await this.request('monitor_cond_change', [id, newId, changes]);
    const key = JSON.stringify(id);
    const h = this.monitors.get(key);
    if (h && key !== JSON.stringify(newId)) {
      this.monitors.delete(key);
      this.registerMonitor(newId, h);
    }
  }

  async monitorCancel(id: unknown): Promise<void> {
    this.unregisterMonitor(id);
    await this.request('monitor_cancel', [id]);
  }

  // --- locks -----------------------------------------------------------------------------

  /**
   * Asks for a lock; resolves with whether it is held now. If not, 'locked' fires when it is
   * granted. The request is repeated after every reconnect until unlock().
   */
  async lock(name: string): Promise<boolean> {
    if (this.locks.has(name)) throw new Error(`lock ${name} already requested`);
    const l = { held: false };
    this.locks.set(name, l);
    try {
      return await this.requestLock(name, l, 'lock');
    } catch (e) {
      if (this.locks.get(name) === l) this.locks.delete(name);
      throw e;
    }
  }

  /** Takes a lock from its owner (who gets 'stolen'). */
  async steal(name: string): Promise<boolean> {
    let l = this.locks.get(name);
    if (l && !l.held) {
      // The server refuses "steal" while our own "lock" request waits: withdraw it first.
      await this.request('unlock', [name]);
    }
    if (!l) this.locks.set(name, (l = { held: false }));
    return this.requestLock(name, l, 'steal');
  }

  async unlock(name: string): Promise<void> {
    if (!this.locks.delete(name)) throw new Error(`lock ${name} is not requested`);
    if (this.isConnected) await this.request('unlock', [name]);
  }

  hasLock(name: string): boolean {
    return this.locks.get(name)?.held ?? false;
  }

  private async requestLock(name: string, l: { held: boolean }, method: 'lock' | 'steal'): Promise<boolean> {
    const r = (await this.request(method, [name])) as { locked: boolean };
    // A "locked" notification may have raced ahead of the reply; either way we own it now.
    if (r.locked && !l.held && this.locks.get(name) === l) {
      l.held = true;
      this.emit('locked', name);
    }
    return l.held;
  }

  private reacquireLocks(conn: JsonRpcConnection): void {
    for (const [name, l] of this.locks) {
      this.requestLock(name, l, 'lock').catch((e: unknown) => {
        if (this.conn === conn) log.warn(`lock ${name}: ${e instanceof Error ? e.message : String(e)}`);
      });
    }
  }
}
