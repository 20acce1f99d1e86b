/**
 * One client connection's view of the server: its monitors, locks, blocked transactions and
 * the methods of RFC 7047 §4.1 plus ovsdb-server's extensions. Replies leave in request
 * order, and a transaction's reply only after its commit reached the commit log.
 */
import { OvsdbError } from '../error.js';
import { Transaction } from '../transaction.js';
import { schemaToJson } from '../schema.js';
import type { RowChange } from '../database.js';
import { evalCondition } from '../condition.js';
import type { JsonRpcConnection, JsonRpcId, JsonRpcRequest } from '../jsonrpc/connection.js';
import { logger } from '../log.js';
import type { LockHolder } from './locks.js';
import { commitUpdate, groupKey, initialUpdate, parseMonitorRequests, type TableMonitor, type UpdateVersion } from './monitor.js';
import type { MonitorGroup, OvsdbServer, ServedDatabase } from './server.js';

const log = logger('ovsdb-server');

interface ActiveMonitor {
  readonly idJson: string;
  readonly dbName: string;
  readonly version: UpdateVersion;
  tables: Map<string, TableMonitor>;
  group: MonitorGroup;
}

interface BlockedTxn {
  readonly id: JsonRpcId;
  readonly dbName: string;
  readonly ops: unknown[];
  readonly deadline: number;
  readonly waitIndex: number;
  timer: NodeJS.Timeout | undefined;
  unsubscribe: () => void;
}

function rpcError(tag: string, details?: string, syntax?: unknown): Record<string, unknown> {
  const e: Record<string, unknown> = { error: tag };
  if (details !== undefined) e['details'] = details;
  if (syntax !== undefined) e['syntax'] = JSON.stringify(syntax);
  return e;
}

export class Session implements LockHolder {
  private readonly monitors = new Map<string, ActiveMonitor>();
  private readonly blocked = new Map<string, BlockedTxn>();
  private readonly lockNames = new Set<string>();
  private dbChangeAware = false;
  /** Replies are chained so they leave in request order even when commits wait for the log. */
  private replyTail: Promise<void> = Promise.resolve();

  constructor(
    private readonly server: OvsdbServer,
    readonly conn: JsonRpcConnection,
  ) {
    conn.on('request', (req: JsonRpcRequest) => this.onRequest(req));
    conn.on('inputEnded', (reason: string) => {
      void this.replyTail.then(() => conn.close(reason));
    });
  }

  private inOrder(work: Promise<unknown> | unknown, send: (v: unknown) => void): void {
    const p = this.replyTail.then(() => work);
    this.replyTail = p.then(
      (v) => send(v),
      (e: unknown) => log.error(`reply failed: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  private reply(id: JsonRpcId, result: unknown): void {
    this.inOrder(undefined, () => this.conn.reply(id, result));
  }

  private replyError(id: JsonRpcId, error: unknown): void {
    this.inOrder(undefined, () => this.conn.replyError(id, error));
  }

  private onRequest(req: JsonRpcRequest): void {
    const { method, params, id } = req;
    try {
      switch (method) {
        case 'echo':
          if (id !== null) this.reply(id, params);
          return;
        case 'list_dbs':
          this.reply(id, [...this.server.databases.keys(), '_Server']);
          return;
        case 'get_schema': {
          const name = params[0];
          if (name === '_Server') return this.reply(id, schemaToJson(this.server.serverDb.schema));
          const served = typeof name === 'string' ? this.server.databases.get(name) : undefined;
          if (!served) return this.replyError(id, rpcError('unknown database', `get_schema request specifies unknown database ${String(name)}`, params));
          this.reply(id, schemaToJson(served.db.schema));
          return;
        }
        case 'get_server_id':
          this.reply(id, this.server.serverId);
          return;
        case 'transact':
          this.transact(id, params);
          return;
        case 'cancel':
          this.cancel(params);
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
          this.dbChangeAware = params[0] === true;
          this.reply(id, {});
          return;
        case 'convert':
          this.replyError(id, rpcError('not supported', 'use "ovnts db convert" on the database file'));
          return;
        default:
          if (id !== null) this.replyError(id, 'unknown method');
      }
    } catch (e) {
      if (id === null) return;
      if (e instanceof OvsdbError) this.replyError(id, e.toJSON());
      else {
        log.error(`${method}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        this.replyError(id, rpcError('internal error', e instanceof Error ? e.message : String(e)));
      }
    }
  }

  private database(method: string, name: unknown, params: unknown): ServedDatabase | 'server' {
    if (name === '_Server') return 'server';
    const served = typeof name === 'string' ? this.server.databases.get(name) : undefined;
    if (!served) throw new RequestError(rpcError('unknown database', `${method} request specifies unknown database ${String(name)}`, params));
    return served;
  }

  // --- transact --------------------------------------------------------------------------

  private transact(id: JsonRpcId, params: unknown[]): void {
    let target: ServedDatabase | 'server';
    try {
      target = this.database('transact', params[0], params);
    } catch (e) {
      if (e instanceof RequestError) return this.replyError(id, e.error);
      throw e;
    }
    const ops = params.slice(1);
    if (target === 'server') {
      const readOnly = ops.every((o) => typeof o === 'object' && o !== null && ['select', 'wait', 'comment', 'assert'].includes(String((o as Record<string, unknown>)['op'])));
      if (!readOnly) return this.replyError(id, rpcError('not allowed', 'the _Server database is read-only'));
      const out = new Transaction(this.server.serverDb, { ownsLock: (n) => this.owns(n) }).execute(ops);
      if (out.kind === 'done') this.reply(id, out.results);
      else this.reply(id, Transaction.timedOut(ops, out.waitIndex));
      return;
    }
    this.runTransaction(id, target, ops);
  }

  private runTransaction(id: JsonRpcId, served: ServedDatabase, ops: unknown[], previous?: BlockedTxn): void {
    const out = new Transaction(served.db, { ownsLock: (n) => this.owns(n) }).execute(ops);
    if (out.kind === 'blocked') {
      if (previous) return; // still waiting; its timer and subscription stay
      this.block(id, served, ops, out.deadline, out.waitIndex);
      return;
    }
    if (previous) this.unblock(previous);
    if (out.commit && served.log) {
      const written = served.log.write(out.commit).then(() => out.results);
      written.catch((e: unknown) => {
        // The commit is applied in memory but not on disk: serving on would acknowledge data
        // a restart loses. Stop, as databases do on log-write failure; recovery replays the file.
        log.error(`FATAL: cannot write ${served.db.name} log: ${e instanceof Error ? e.message : String(e)}`);
        process.exit(1);
      });
      this.inOrder(written, (r) => this.conn.reply(id, r));
    } else {
      this.reply(id, out.results);
    }
  }

  private block(id: JsonRpcId, served: ServedDatabase, ops: unknown[], deadline: number, waitIndex: number): void {
    const key = JSON.stringify(id);
    const b: BlockedTxn = { id, dbName: served.db.name, ops, deadline, waitIndex, timer: undefined, unsubscribe: () => undefined };
    // Retry after each commit, outside the commit's own call stack.
    b.unsubscribe = served.db.onCommit(() => setImmediate(() => {
      if (this.blocked.get(key) === b) this.runTransaction(id, served, ops, b);
    }));
    if (deadline !== Infinity) {
      b.timer = setTimeout(() => {
        if (this.blocked.get(key) !== b) return;
        this.unblock(b);
        this.reply(id, Transaction.timedOut(ops, waitIndex));
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

  private cancel(params: unknown[]): void {
    const key = JSON.stringify(params[0] ?? null);
    const b = this.blocked.get(key);
    if (!b) return;
    this.unblock(b);
    this.replyError(b.id, rpcError('canceled'));
  }

  // --- monitors --------------------------------------------------------------------------

  private monitor(id: JsonRpcId, params: unknown[], version: UpdateVersion): void {
    const method = version === 1 ? 'monitor' : version === 2 ? 'monitor_cond' : 'monitor_cond_since';
    let target: ServedDatabase | 'server';
    try {
      target = this.database(method, params[0], params);
    } catch (e) {
      if (e instanceof RequestError) return this.replyError(id, e.error);
      throw e;
    }
    const db = target === 'server' ? this.server.serverDb : target.db;
    const idJson = JSON.stringify(params[1] ?? null);
    if (this.monitors.has(idJson)) return this.replyError(id, rpcError('duplicate monitor ID', undefined, params[1]));
    const tables = parseMonitorRequests(db, params[2], version);
    const served: ServedDatabase = target === 'server' ? this.serverServed() : target;
    const group = this.server.monitorGroup(groupKey(db.name, version, tables), served, version, tables);
    let result: unknown;
    if (version === 3) {
      const since = typeof params[3] === 'string' ? params[3] : undefined;
      const resumed = since === undefined ? undefined : changesSince(served, since, tables);
      if (resumed !== undefined) result = [true, db.lastTxnId, resumed];
      else result = [false, db.lastTxnId, initialUpdate(db, tables, 3)];
    } else {
      result = initialUpdate(db, tables, version);
    }
    group.add(this, idJson);
    this.monitors.set(idJson, { idJson, dbName: db.name, version, tables, group });
    this.reply(id, result);
  }

  private serverServedCache: ServedDatabase | undefined;
  private serverServed(): ServedDatabase {
    return (this.serverServedCache ??= { db: this.server.serverDb, log: undefined, history: [], historyRows: 0 });
  }

  private monitorCondChange(id: JsonRpcId, params: unknown[]): void {
    const oldId = JSON.stringify(params[0] ?? null);
    const newId = JSON.stringify(params[1] ?? null);
    const m = this.monitors.get(oldId);
    if (!m) return this.replyError(id, rpcError('unknown monitor', undefined, params[0]));
    if (m.version === 1) return this.replyError(id, rpcError('syntax error', 'monitor_cond_change is not allowed on a "monitor" monitor'));
    if (newId !== oldId && this.monitors.has(newId)) return this.replyError(id, rpcError('duplicate monitor ID', undefined, params[1]));
    const db = m.group.served.db;
    const changes = params[2];
    if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) {
      return this.replyError(id, rpcError('syntax error', 'monitor_cond_change requests must be an object'));
    }
    const next = new Map(m.tables);
    for (const [tname, reqJ] of Object.entries(changes as Record<string, unknown>)) {
      const old = m.tables.get(tname);
      if (!old) return this.replyError(id, rpcError('syntax error', `table ${tname} is not monitored`));
      const reqs = Array.isArray(reqJ) ? reqJ : [reqJ];
      const merged = reqs.map((r) => {
        const o = r as Record<string, unknown>;
        return {
          columns: o['columns'] ?? old.columns.map((c) => c.name),
          select: old.select,
          ...(o['where'] !== undefined ? { where: o['where'] } : old.whereJson !== undefined ? { where: old.whereJson } : {}),
        };
      });
      next.set(tname, parseMonitorRequests(db, { [tname]: merged }, 2).get(tname)!);
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
    this.reply(id, {});
    if (Object.keys(diff).length > 0) {
      const method = m.version === 2 ? 'update2' : 'update3';
      const paramsOut = m.version === 2 ? [JSON.parse(newId), diff] : [JSON.parse(newId), db.lastTxnId, diff];
      this.inOrder(undefined, () => this.conn.notify(method, paramsOut));
    }
  }

  private monitorCancel(id: JsonRpcId, params: unknown[]): void {
    const idJson = JSON.stringify(params[0] ?? null);
    const m = this.monitors.get(idJson);
    if (!m) return this.replyError(id, rpcError('unknown monitor', undefined, params[0]));
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
    if (typeof name !== 'string' || !/^[a-zA-Z_][a-zA-Z0-9_.-]*$/.test(name)) {
      return this.replyError(id, rpcError('syntax error', `invalid lock name ${JSON.stringify(name)}`, params));
    }
    const locks = this.server.locks;
    if (method === 'unlock') {
      if (!this.lockNames.has(name)) return this.replyError(id, rpcError('syntax error', `lock ${name} is not held or requested`, params));
      this.lockNames.delete(name);
      locks.unlock(this, name);
      return this.reply(id, {});
    }
    if (method === 'lock') {
      if (this.lockNames.has(name)) return this.replyError(id, rpcError('duplicate lock', `lock ${name} already requested`, params));
      this.lockNames.add(name);
      return this.reply(id, { locked: locks.lock(this, name) });
    }
    this.lockNames.add(name);
    locks.steal(this, name);
    this.reply(id, { locked: true });
  }

  lockAcquired(name: string): void {
    this.inOrder(undefined, () => this.conn.notify('locked', [name]));
  }

  lockStolen(name: string): void {
    this.inOrder(undefined, () => this.conn.notify('stolen', [name]));
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
