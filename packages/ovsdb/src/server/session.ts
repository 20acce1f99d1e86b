/**
 * One client connection's view of the server: its monitors, locks, blocked transactions and
 * the methods of RFC 7047 §4.1 plus ovsdb-server's extensions. Replies leave in request
 * order, and a transaction's reply only after its commit reached the commit log.
 */
import { OvsdbError, sortedJsonText } from '../error.js';
import { Transaction } from '../transaction.js';
import { parseSchema, schemaToJson } from '../schema.js';
import { convertDatabase } from '../convert.js';
import { FileStorage } from '../storage/file-storage.js';
import { openDatabaseFile } from '../storage/open.js';
import { writeDatabaseFile } from '../storage/rewrite.js';
import type { RowChange } from '../database.js';
import { evalCondition, parseMonitorCondition } from '../condition.js';
import type { JsonRpcConnection, JsonRpcId, JsonRpcRequest } from '../jsonrpc/connection.js';
import { logger } from '../log.js';
import type { LockHolder } from './locks.js';
import { MonitorRequestError, commitUpdate, groupKey, initialUpdate, parseMonitorRequests, type TableMonitor, type UpdateVersion } from './monitor.js';
import type { MonitorGroup, OvsdbServer, ServedDatabase } from './server.js';

const log = logger('ovsdb-server');

interface ActiveMonitor {
  readonly idJson: string;
  /** Updates waiting for the monitor's reply to be sent; null once it has been. */
  held: string[] | null;
  readonly dbName: string;
  readonly version: UpdateVersion;
  tables: Map<string, TableMonitor>;
  group: MonitorGroup;
}

/** A place in a session's reply order; `send` is null until the reply is ready. */
interface ReplySlot {
  send: (() => void) | null;
}

interface BlockedTxn {
  readonly id: JsonRpcId;
  readonly dbName: string;
  readonly ops: unknown[];
  readonly deadline: number;
  readonly waitIndex: number;
  /** When the transaction was first received (Date.now()). */
  readonly submitted: number;
  timer: NodeJS.Timeout | undefined;
  unsubscribe: () => void;
}

function rpcError(tag: string, details?: string, syntax?: unknown): Record<string, unknown> {
  const e: Record<string, unknown> = { error: tag };
  if (details !== undefined) e['details'] = details;
  if (syntax !== undefined) e['syntax'] = sortedJsonText(syntax);
  return e;
}

export class Session implements LockHolder {
  private readonly monitors = new Map<string, ActiveMonitor>();
  private readonly blocked = new Map<string, BlockedTxn>();
  private readonly lockNames = new Set<string>();
  private dbChangeAware = false;
  /** What every transaction of this session is given (one object, not one per request). */
  private readonly txnOptions: { readonly ownsLock: (name: string) => boolean } = { ownsLock: (n) => this.owns(n) };
  /**
   * Replies waiting to go out, in request order: a transaction's reply waits for its commit to
   * reach the log, and every later reply waits behind it.
   */
  private readonly pendingReplies: ReplySlot[] = [];
  /** Run once every pending reply has been sent. */
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly server: OvsdbServer,
    readonly conn: JsonRpcConnection,
  ) {
    conn.on('request', (req: JsonRpcRequest) => this.onRequest(req));
    conn.on('inputEnded', (reason: string) => {
      this.whenRepliesSent(() => conn.close(reason));
    });
  }

  /** Sends now if nothing is waiting ahead, otherwise after everything queued before it. */
  private inOrder(send: () => void): void {
    if (this.pendingReplies.length === 0) send();
    else this.pendingReplies.push({ send });
  }

  /** Holds a place in the reply order for a reply that is not ready yet (see `fill`). */
  private reserve(): ReplySlot {
    const slot: ReplySlot = { send: null };
    this.pendingReplies.push(slot);
    return slot;
  }

  /** The reply for `slot` is ready: send it and every ready one after it. */
  private fill(slot: ReplySlot, send: () => void): void {
    slot.send = send;
    const q = this.pendingReplies;
    while (q.length > 0 && q[0]!.send !== null) {
      const next = q.shift()!.send!;
      try {
        next();
      } catch (e) {
        log.error(`reply failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (q.length === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private whenRepliesSent(f: () => void): void {
    if (this.pendingReplies.length === 0) queueMicrotask(f);
    else this.idleWaiters.push(f);
  }

  private reply(id: JsonRpcId, result: unknown): void {
    this.inOrder(() => this.conn.reply(id, result));
  }

  private replyError(id: JsonRpcId, error: unknown): void {
    this.inOrder(() => this.conn.replyError(id, error));
  }

  private onRequest(req: JsonRpcRequest): void {
    const { method, params, id } = req;
    if (id === null) {
      // Notifications: ovsdb-server acts on "cancel" and "set_db_change_aware" and ignores any other.
      if (method === 'cancel') this.cancel(params);
      else if (method === 'set_db_change_aware' && params.length === 1 && typeof params[0] === 'boolean') this.dbChangeAware = params[0];
      return;
    }
    try {
      switch (method) {
        case 'echo':
          if (id !== null) this.reply(id, params);
          return;
        case 'list_dbs':
          this.reply(id, [...this.server.databases.keys(), '_Server']);
          return;
        case 'get_schema': {
          const target = this.database('get_schema', params);
          this.reply(id, schemaToJson(target === 'server' ? this.server.serverDb.schema : target.db.schema));
          return;
        }
        case 'get_server_id':
          this.reply(id, this.server.serverId);
          return;
        case 'transact':
          this.transact(id, params);
          return;
        case 'cancel':
          // "cancel" is a notification; as a request (with an id) ovsdb-server does not know it.
          this.replyError(id, 'unknown method');
          return;
        case 'monitor':
          this.monitor(id, params, 1);
          return;
        case 'monitor_cond':
          this.monitor(id, params, 2);
          return;
        case 'monitor_cond_since':
          this.monitor(id, params, 3);
          return;
        case 'monitor_cond_change':
          this.monitorCondChange(id, params);
          return;
        case 'monitor_cancel':
          this.monitorCancel(id, params);
          return;
        case 'lock':
        case 'steal':
        case 'unlock':
          this.lockMethod(id, method, params);
          return;
        case 'set_db_change_aware':
          if (params.length !== 1 || typeof params[0] !== 'boolean') {
            return this.replyError(id, rpcError('syntax error', 'set_db_change_aware: true or false parameter expected', params));
          }
          this.dbChangeAware = params[0];
          this.reply(id, {});
          return;
        case 'convert':
          void this.convert(id, params);
          return;
        default:
          this.replyError(id, 'unknown method');
      }
    } catch (e) {
      if (e instanceof RequestError) this.replyError(id, e.error);
      else if (e instanceof OvsdbError) this.replyError(id, e.toJSON());
      else {
        log.error(`${method}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        this.replyError(id, rpcError('internal error', e instanceof Error ? e.message : String(e)));
      }
    }
  }

  /** The database a request's params begin with, or a RequestError as ovsdb-server words it. */
  private database(method: string, params: unknown[]): ServedDatabase | 'server' {
    const name = params[0];
    if (typeof name !== 'string') throw new RequestError(rpcError('syntax error', `${method} request params must begin with <db-name>`, params));
    if (name === '_Server') return 'server';
    const served = this.server.databases.get(name);
    if (!served) throw new RequestError(rpcError('unknown database', `${method} request specifies unknown database ${name}`, params));
    return served;
  }

  // --- transact --------------------------------------------------------------------------

  private transact(id: JsonRpcId, params: unknown[]): void {
    const target = this.database('transact', params);
    if (this.blocked.has(JSON.stringify(id))) return this.replyError(id, rpcError('syntax error', 'transact: duplicate request ID', params));
    const ops = params.slice(1);
    if (target === 'server') {
      // _Server is read-only: as in ovsdb-server, the first write fails and the rest is not run.
      const write = ops.findIndex((o) => typeof o === 'object' && o !== null && ['insert', 'update', 'mutate', 'delete'].includes(String((o as Record<string, unknown>)['op'])));
      const reads = write < 0 ? ops : ops.slice(0, write);
      const out = new Transaction(this.server.serverDb, { ownsLock: (n) => this.owns(n) }).execute(reads);
      const results = out.kind === 'done' ? out.results : Transaction.timedOut(reads, out.waitIndex);
      if (write >= 0 && !results.some((r) => r === null || (typeof r === 'object' && 'error' in (r as object)))) {
        const op = String((ops[write] as Record<string, unknown>)['op']);
        results.push({ error: 'not allowed', details: `${op} operation not allowed on table in reserved database _Server` });
        for (let i = write + 1; i < ops.length; i++) results.push(null);
      }
      this.reply(id, results);
      return;
    }
    this.runTransaction(id, target, ops, Date.now());
  }

  private runTransaction(id: JsonRpcId, served: ServedDatabase, ops: unknown[], submitted: number, previous?: BlockedTxn, elapsedMs?: number): void {
    if (served.converting) {
      // The database is being swapped for its converted copy: run against the new one.
      void served.converting.then(() => this.runTransaction(id, served, ops, submitted, previous, elapsedMs));
      return;
    }
    const opts = previous ? { ownsLock: this.txnOptions.ownsLock, elapsedMs: elapsedMs ?? Date.now() - submitted } : this.txnOptions;
    const out = new Transaction(served.db, opts).execute(ops);
    if (out.kind === 'blocked') {
      if (previous) return; // still waiting; its timer and subscription stay
      this.block(id, served, ops, out.deadline, out.waitIndex, submitted);
      return;
    }
    if (previous) this.unblock(previous);
    if (out.commit && served.log) {
      // The reply goes out only once the commit is in the log (and synced, if durable). This
      // client's own update notifications were sent during the commit, so they precede it.
      const slot = this.reserve();
      const results = out.results;
      const done = (e: Error | null): void => {
        if (e) {
          // The commit is applied in memory but not on disk: serving on would acknowledge data
          // a restart loses. Stop, as databases do on log-write failure; recovery replays the file.
          log.error(`FATAL: cannot write ${served.db.name} log: ${e.message}`);
          process.exit(1);
          return; // (for embedders that intercept exit: never acknowledge the commit)
        }
        this.fill(slot, () => this.conn.reply(id, results));
      };
      const commitLog = served.log;
      if (commitLog instanceof FileStorage) commitLog.append(out.commit, done);
      else commitLog.write(out.commit).then(() => done(null), (e: unknown) => done(e instanceof Error ? e : new Error(String(e))));
    } else {
      this.reply(id, out.results);
    }
  }

  private block(id: JsonRpcId, served: ServedDatabase, ops: unknown[], deadline: number, waitIndex: number, submitted: number): void {
    const key = JSON.stringify(id);
    const b: BlockedTxn = { id, dbName: served.db.name, ops, deadline, waitIndex, submitted, timer: undefined, unsubscribe: () => undefined };
    // Retry after each commit, outside the commit's own call stack.
    b.unsubscribe = served.db.onCommit(() => setImmediate(() => {
      if (this.blocked.get(key) === b) this.runTransaction(id, served, ops, submitted, b);
    }));
    if (deadline !== Infinity) {
      b.timer = setTimeout(() => {
        if (this.blocked.get(key) !== b) return;
        // Run it once more at its deadline: the "wait" now fails with "timed out" and the other
        // operations report what they did (nothing is committed), as in ovsdb-server.
        this.runTransaction(id, served, ops, submitted, b, deadline - submitted);
        if (this.blocked.get(key) === b) {
          this.unblock(b);
          this.reply(id, Transaction.timedOut(ops, waitIndex));
        }
      }, Math.max(0, deadline - Date.now()));
    }
    this.blocked.set(key, b);
    // The reply chain must not wait behind a blocked transaction: later requests proceed.
  }

  private unblock(b: BlockedTxn): void {
    this.blocked.delete(JSON.stringify(b.id));
    b.unsubscribe();
    if (b.timer) clearTimeout(b.timer);
  }

  /**
   * The "cancel" notification ends a blocked transaction. Like ovsdb-server, it answers with
   * error "canceled" only a db-change-aware client; any other gets no reply at all.
   */
  private cancel(params: unknown[]): void {
    if (params.length !== 1) return;
    const b = this.blocked.get(JSON.stringify(params[0]));
    if (!b) return;
    this.unblock(b);
    if (this.dbChangeAware) this.replyError(b.id, 'canceled');
  }

  // --- convert ---------------------------------------------------------------------------

  /** Online schema change: convert the rows, rewrite the file, then swap the database. */
  private async convert(id: JsonRpcId, params: unknown[]): Promise<void> {
    let target: ServedDatabase | 'server';
    try {
      target = this.database('convert', params);
    } catch (e) {
      if (e instanceof RequestError) return this.replyError(id, e.error);
      throw e;
    }
    if (target === 'server') return this.replyError(id, rpcError('not allowed', 'the _Server database cannot be converted'));
    const served = target;
    if (served.converting) return this.replyError(id, rpcError('not allowed', `${served.db.name} is already being converted`));
    let done!: () => void;
    served.converting = new Promise<void>((r) => (done = r));
    try {
      const converted = convertDatabase(served.db, parseSchema(params[1]));
      if (served.log instanceof FileStorage) {
        const path = served.log.path;
        await served.log.close();
        await writeDatabaseFile(path, converted);
        const opened = await openDatabaseFile(path);
        this.server.replaceDatabase(opened.db, opened.storage);
      } else {
        this.server.replaceDatabase(converted, served.log);
      }
      this.reply(id, {});
    } catch (e) {
      this.replyError(id, e instanceof OvsdbError ? e.toJSON() : rpcError('I/O error', e instanceof Error ? e.message : String(e)));
    } finally {
      delete served.converting;
      done();
    }
  }

  // --- monitors --------------------------------------------------------------------------

  private monitor(id: JsonRpcId, params: unknown[], version: UpdateVersion): void {
    const method = version === 1 ? 'monitor' : version === 2 ? 'monitor_cond' : 'monitor_cond_since';
    const target = this.database(method, params);
    // ovsdb-server checks the count for monitor_cond(_since) only (and crashes on a short "monitor").
    if (version === 1 ? params.length < 3 : params.length !== (version === 3 ? 4 : 3)) throw new MonitorRequestError('invalid parameters', params);
    const db = target === 'server' ? this.server.serverDb : target.db;
    if (typeof params[2] !== 'object' || params[2] === null || Array.isArray(params[2])) throw new MonitorRequestError('monitor-requests must be object', params[2]);
    const idJson = JSON.stringify(params[1]);
    if (this.monitors.has(idJson)) throw new MonitorRequestError('duplicate monitor ID', params[1]);
    const tables = parseMonitorRequests(db, params[2], version);
    const since = params[3];
    if (version === 3) {
      if (typeof since !== 'string') throw new MonitorRequestError('last-txn-id must be string', since);
      if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(since)) {
        throw new MonitorRequestError('last-txn-id must be UUID format.', since);
      }
    }
    const served: ServedDatabase = target === 'server' ? this.server.serverServed : target;
    const group = this.server.monitorGroup(groupKey(db.name, version, tables), served, version, tables);
    let result: unknown;
    if (version === 3 && typeof since === 'string') {
      const resumed = /^[0-]+$/.test(since) ? undefined : changesSince(served, since.toLowerCase(), tables);
      if (resumed !== undefined) result = [true, db.lastTxnId, resumed];
      else result = [false, db.lastTxnId, initialUpdate(db, tables, 3)];
    } else {
      result = initialUpdate(db, tables, version);
    }
    group.add(this, idJson);
    const m: ActiveMonitor = { idJson, dbName: db.name, version, tables, group, held: [] };
    this.monitors.set(idJson, m);
    // Updates must not overtake the reply carrying the initial contents (it may wait behind
    // earlier replies): hold them until it is sent.
    this.inOrder(() => {
      this.conn.reply(id, result);
      for (const text of m.held ?? []) this.conn.sendText(text);
      m.held = null;
    });
  }

  /** Called by monitor groups with an encoded update notification for monitor `idJson`. */
  sendUpdate(idJson: string, text: string): void {
    const held = this.monitors.get(idJson)?.held;
    if (held) held.push(text);
    else this.conn.sendText(text);
  }


  private monitorCondChange(id: JsonRpcId, params: unknown[]): void {
    if (params.length !== 3) throw new MonitorRequestError('invalid parameters', params);
    const oldId = JSON.stringify(params[0]);
    const newId = JSON.stringify(params[1]);
    const m = this.monitors.get(oldId);
    if (!m) throw new MonitorRequestError('unknown monitor session', params[0]);
    if (newId !== oldId && this.monitors.has(newId)) throw new MonitorRequestError('duplicate monitor ID', params[1]);
    const db = m.group.served.db;
    const changes = params[2];
    if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) {
      throw new MonitorRequestError('monitor-cond-change-requests must be object');
    }
    const next = new Map(m.tables);
    for (const [tname, reqJ] of Object.entries(changes as Record<string, unknown>)) {
      const td = db.tables.get(tname);
      if (!td) throw new MonitorRequestError(`no table named ${tname}`);
      const old = m.tables.get(tname);
      if (!old) throw new MonitorRequestError(`no table named ${tname} in monitor session`);
      if (!Array.isArray(reqJ)) throw new MonitorRequestError(`table ${tname} no monitor-cond-change JSON array`);
      let whereJ: unknown;
      for (const r of reqJ) {
        if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new MonitorRequestError(`Parsing table ${tname} failed: Object expected.`, r);
        const o = r as Record<string, unknown>;
        for (const k of ['columns', 'where']) {
          if (o[k] !== undefined && !Array.isArray(o[k])) throw new MonitorRequestError(`Parsing table ${tname} failed: Type mismatch for member '${k}'.`, o);
        }
        for (const k of Object.keys(o)) {
          if (k !== 'columns' && k !== 'where') throw new MonitorRequestError(`Parsing table ${tname} failed: Member '${k}' is present but not allowed here.`, o);
        }
        if (o['columns'] !== undefined) throw new MonitorRequestError('changing columns is unsupported', o);
        if (o['where'] !== undefined) whereJ = o['where'];
      }
      // A "monitor" (v1) monitor has no condition: ovsdb-server accepts the change and ignores it.
      if (whereJ !== undefined && m.version !== 1) {
        next.set(tname, { ...old, where: parseMonitorCondition(td.schema, whereJ), whereJson: whereJ });
      }
    }
    // Rows that enter or leave the new conditions, as one update with the new id.
    const diff: Record<string, unknown> = {};
    for (const [tname, tm] of next) {
      const before = m.tables.get(tname)!;
      if (before === tm) continue;
      const entering = new Map<string, RowChange>();
      const leaving = new Map<string, RowChange>();
      for (const [uuid, row] of db.table(tname).rows) {
        const wasIn = evalCondition(before.where, row);
        const isIn = evalCondition(tm.where, row);
        if (isIn && !wasIn) entering.set(uuid, { old: null, new: row });
        else if (wasIn && !isIn) leaving.set(uuid, { old: row, new: null });
      }
      const ins = commitUpdate({ changes: new Map([[tname, entering]]), txnId: '', durable: false }, new Map([[tname, tm]]), 2);
      const del = commitUpdate({ changes: new Map([[tname, leaving]]), txnId: '', durable: false }, new Map([[tname, before]]), 2);
      const rows = { ...(del?.[tname] as object | undefined), ...(ins?.[tname] as object | undefined) };
      if (Object.keys(rows).length > 0) diff[tname] = rows;
    }
    m.group.remove(this, oldId);
    this.monitors.delete(oldId);
    const group = this.server.monitorGroup(groupKey(db.name, m.version, next), m.group.served, m.version, next);
    group.add(this, newId);
    this.monitors.set(newId, { ...m, idJson: newId, tables: next, group });
    // As ovsdb-server does, the update for the new conditions goes out before the reply.
    if (Object.keys(diff).length > 0) {
      const method = m.version === 2 ? 'update2' : 'update3';
      const paramsOut = m.version === 2 ? [JSON.parse(newId), diff] : [JSON.parse(newId), db.lastTxnId, diff];
      this.inOrder(() => this.conn.notify(method, paramsOut));
    }
    this.reply(id, {});
  }

  private monitorCancel(id: JsonRpcId, params: unknown[]): void {
    if (params.length !== 1) return this.replyError(id, 'invalid parameters');
    const idJson = JSON.stringify(params[0]);
    const m = this.monitors.get(idJson);
    if (!m) return this.replyError(id, 'unknown monitor');
    m.group.remove(this, idJson);
    this.monitors.delete(idJson);
    this.reply(id, {});
  }

  /** The database was converted to a new schema: aware clients are told, others dropped. */
  databaseReplaced(dbName: string): void {
    const affected = [...this.monitors.values()].filter((m) => m.dbName === dbName);
    if (affected.length === 0) return;
    if (!this.dbChangeAware) {
      this.conn.close(`database ${dbName} changed schema and client is not db-change-aware`);
      return;
    }
    for (const m of affected) {
      m.group.remove(this, m.idJson);
      this.monitors.delete(m.idJson);
      this.conn.notify('monitor_canceled', [JSON.parse(m.idJson)]);
    }
  }

  // --- locks -----------------------------------------------------------------------------

  private owns(name: string): boolean {
    return this.server.locks.owns(this, name);
  }

  private lockMethod(id: JsonRpcId, method: 'lock' | 'steal' | 'unlock', params: unknown[]): void {
    const name = params[0];
    // ovsdb-server: exactly one param, an <id>.
    if (params.length !== 1 || typeof name !== 'string' || !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) {
      return this.replyError(id, rpcError('syntax error', `${method} request params must be <id>`, params));
    }
    const locks = this.server.locks;
    if (method === 'unlock') {
      if (!this.lockNames.has(name)) return this.replyError(id, rpcError('syntax error', 'unlock: "unlock" without "lock" or "steal"', params));
      this.lockNames.delete(name);
      locks.unlock(this, name);
      return this.reply(id, {});
    }
    if (this.lockNames.has(name)) return this.replyError(id, rpcError('syntax error', `must issue "unlock" before new "${method}"`, params));
    this.lockNames.add(name);
    if (method === 'lock') return this.reply(id, { locked: locks.lock(this, name) });
    locks.steal(this, name);
    this.reply(id, { locked: true });
  }

  lockAcquired(name: string): void {
    this.inOrder(() => this.conn.notify('locked', [name]));
  }

  lockStolen(name: string): void {
    this.inOrder(() => this.conn.notify('stolen', [name]));
  }

  /** Connection gone: release everything it held. */
  closed(): void {
    for (const m of this.monitors.values()) m.group.remove(this, m.idJson);
    this.monitors.clear();
    for (const b of [...this.blocked.values()]) this.unblock(b);
    this.lockNames.clear();
    this.server.locks.releaseAll(this);
  }
}

class RequestError extends Error {
  constructor(readonly error: Record<string, unknown>) {
    super(String(error['details'] ?? error['error']));
  }
}

/** Net changes since `txnId` as update3 table-updates, or undefined when that txn is not in history. */
function changesSince(served: ServedDatabase, txnId: string, tables: ReadonlyMap<string, TableMonitor>): Record<string, unknown> | undefined {
  if (txnId === served.db.lastTxnId) return {};
  const i = served.history.findIndex((c) => c.txnId === txnId);
  if (i < 0) return undefined;
  const merged = new Map<string, Map<string, RowChange>>();
  for (const c of served.history.slice(i + 1)) {
    for (const [tname, rows] of c.changes) {
      if (!tables.has(tname)) continue;
      let t = merged.get(tname);
      if (!t) merged.set(tname, (t = new Map()));
      for (const [uuid, ch] of rows) {
        const prev = t.get(uuid);
        t.set(uuid, { old: prev ? prev.old : ch.old, new: ch.new });
      }
    }
  }
  return commitUpdate({ changes: merged, txnId: served.db.lastTxnId, durable: false }, tables, 3) ?? {};
}
