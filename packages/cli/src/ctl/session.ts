/**
 * The tool's one connection to the database server: connect (failures worded like OVS's
 * "database connection failed (No such file or directory)"), read tables with one "select"
 * transaction (or, in a daemon, from a replica kept by a monitor), commit, and wait for the
 * database to change (a monitor, for wait-until and for waiting on the daemons).
 */
import * as net from 'node:net';
import { readFileSync } from 'node:fs';
import { JsonRpcConnection, RpcError, parseRemote, type JsonRpcRequest } from './ovsdb-rpc.js';
import { defaultDatum, parseDatum, type DatabaseSchema, type TableSchema } from './ovsdb.js';
import type { applyDatumDiff } from '@ovnts/ovsdb/dist/src/updates.js';
import type { RowValues, Snapshot } from './db-txn.js';
import { fail } from './errors.js';
import { jsonToString } from './json-text.js';

const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  ECONNREFUSED: 'Connection refused',
  EACCES: 'Permission denied',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  ENOTSOCK: 'Socket operation on non-socket',
  ECONNRESET: 'Connection reset by peer',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  ENOTFOUND: 'Name or service not known',
  EAFNOSUPPORT: 'Address family not supported by protocol',
  EPIPE: 'Broken pipe',
};

export interface TlsFiles {
  readonly privateKey?: string | undefined;
  readonly certificate?: string | undefined;
  readonly caCert?: string | undefined;
}

function connectionFailed(db: string, code: string | undefined): never {
  return fail(`${db}: database connection failed (${code === undefined ? 'Protocol error' : (STRERROR[code] ?? code)})`);
}

async function openStream(db: string, tlsFiles: TlsFiles): Promise<net.Socket> {
  let r: ReturnType<typeof parseRemote>;
  try {
    r = parseRemote(db);
  } catch {
    connectionFailed(db, 'EAFNOSUPPORT');
  }
  if (r.kind !== 'unix' && r.kind !== 'tcp' && r.kind !== 'ssl') connectionFailed(db, 'EAFNOSUPPORT');
  const tls = r.kind === 'ssl' ? await import('node:tls') : undefined;
  return new Promise((resolve, reject) => {
    let sock: net.Socket;
    const ready = (): void => {
      sock.off('error', onError);
      resolve(sock);
    };
    const onError = (e: NodeJS.ErrnoException): void => {
      try {
        connectionFailed(db, e.code);
      } catch (err) {
        reject(err as Error);
      }
    };
    if (r.kind === 'unix') sock = net.connect(r.path, ready);
    else if (r.kind === 'tcp') sock = net.connect({ host: r.host, port: r.port, noDelay: true }, ready);
    else {
      sock = tls!.connect(
        {
          host: r.host,
          port: r.port,
          ...(tlsFiles.privateKey ? { key: readFileSync(tlsFiles.privateKey) } : {}),
          ...(tlsFiles.certificate ? { cert: readFileSync(tlsFiles.certificate) } : {}),
          ...(tlsFiles.caCert ? { ca: readFileSync(tlsFiles.caCert) } : {}),
          checkServerIdentity: () => undefined,
        },
        ready,
      );
    }
    sock.once('error', onError);
  });
}

/** What the runner needs of a connection: a Session, or a daemon's long-lived replica of one. */
export interface CtlSession {
  readonly changeCount: number;
  request(method: string, params: unknown[]): Promise<unknown>;
  fetch(tables: Iterable<string>): Promise<Snapshot>;
  watch(tables: Iterable<string>): Promise<boolean>;
  waitForChange(seen: number): Promise<void>;
  close(): void;
}

const REPLICA_MONITOR = 'ctl-replica';

export class Session implements CtlSession {
  private readonly monitorIds = new Set<string>();
  private readonly watched = new Set<string>();
  private changes = 0;
  private wake: (() => void) | undefined;
  /** Daemon mode: every table's rows, kept current by a monitor (row maps are replaced, never changed). */
  private replica: Map<string, Map<string, RowValues>> | undefined;
  /** Applies update2 diffs (loaded with the replica: one module less for one-shot invocations). */
  private applyDiff: typeof applyDatumDiff | undefined;

  private constructor(
    readonly db: string,
    readonly conn: JsonRpcConnection,
    readonly schema: DatabaseSchema,
  ) {
    conn.on('request', (req: JsonRpcRequest) => this.onRequest(req));
    conn.on('close', () => {
      this.changes++;
      this.wake?.();
    });
  }

  /** Connects to the first reachable remote of `db` (a comma-separated list, as for a cluster). */
  static async open(db: string, schema: DatabaseSchema, tlsFiles: TlsFiles): Promise<Session> {
    const remotes = db.split(',').filter(Boolean);
    let error: unknown;
    for (const remote of remotes.length > 0 ? remotes : [db]) {
      try {
        const sock = await openStream(remote, tlsFiles);
        return new Session(db, new JsonRpcConnection(sock, {}, remote), schema);
      } catch (e) {
        error = e;
      }
    }
    if (remotes.length > 1 && error instanceof Error) fail(error.message.replace(/^.*?: database connection failed/, `${db}: database connection failed`));
    throw error;
  }

  private onRequest(req: JsonRpcRequest): void {
    if (req.method === 'echo' && req.id !== null) {
      this.conn.reply(req.id, req.params);
      return;
    }
    if ((req.method === 'update' || req.method === 'update2') && typeof req.params[0] === 'string' && this.monitorIds.has(req.params[0])) {
      if (req.params[0] === REPLICA_MONITOR) this.applyUpdate2(req.params[1]);
      this.changes++;
      this.wake?.();
    }
  }

  get isClosed(): boolean {
    return this.conn.isClosed;
  }

  /**
   * Daemon mode: monitors every table of the database (monitor_cond, so that a change arrives
   * as the difference, as the real IDL receives it) and answers fetch() from the replica from
   * then on. The servers (ovsdb-server and ovnts's) send a client the update for its own
   * transaction before the transaction's reply, so the replica is current when a commit returns.
   */
  async replicate(): Promise<void> {
    this.applyDiff = (await import('@ovnts/ovsdb/dist/src/updates.js')).applyDatumDiff;
    this.monitorIds.add(REPLICA_MONITOR);
    const requests: Record<string, unknown> = {};
    for (const t of this.schema.tables.keys()) {
      requests[t] = [{}];
      this.watched.add(t);
    }
    this.replica = new Map([...this.schema.tables.keys()].map((t) => [t, new Map()]));
    this.applyUpdate2(await this.request('monitor_cond', [this.schema.name, REPLICA_MONITOR, requests]));
  }

  private applyUpdate2(updates: unknown): void {
    const applyDiff = this.applyDiff;
    if (!this.replica || !applyDiff || typeof updates !== 'object' || updates === null) return;
    type RowUpdate2 = { initial?: Record<string, unknown>; insert?: Record<string, unknown>; modify?: Record<string, unknown>; delete?: null };
    for (const [table, rows] of Object.entries(updates as Record<string, Record<string, RowUpdate2>>)) {
      const ts = this.schema.tables.get(table);
      const replica = this.replica.get(table);
      if (!ts || !replica) continue;
      for (const [uuid, change] of Object.entries(rows)) {
        const full = change.initial ?? change.insert;
        if (full) {
          replica.set(uuid, decodeRow(ts, full));
        } else if (change.modify) {
          const prev = replica.get(uuid);
          if (!prev) continue;
          const next = new Map(prev);
          for (const [name, j] of Object.entries(change.modify)) {
            const c = ts.columns.get(name);
            if (!c) continue;
            try {
              next.set(name, applyDiff(prev.get(name) ?? defaultDatum(c.type), parseDatum(j, c.type, undefined, true), c.type));
            } catch {
              // A value this schema version does not allow: keep the old one.
            }
          }
          replica.set(uuid, next);
        } else if ('delete' in change) {
          replica.delete(uuid);
        }
      }
    }
  }

  /** How many changes the monitor has seen (see waitForChange). */
  get changeCount(): number {
    return this.changes;
  }

  async request(method: string, params: unknown[]): Promise<unknown> {
    try {
      return await this.conn.request(method, params);
    } catch (e) {
      if (this.conn.isClosed) connectionFailed(this.db, 'EPIPE');
      if (e instanceof RpcError) {
        const err = e.error as { error?: unknown } | undefined;
        // The IDL gives up on a server without our database with no errno to show.
        if (err?.error === 'unknown database') connectionFailed(this.db, '');
        fail(`${method} error: ${jsonToString(e.error)}`);
      }
      throw e;
    }
  }

  /** The current rows of `tables`, all columns, in one consistent read. */
  async fetch(tables: Iterable<string>): Promise<Snapshot> {
    const names = [...tables].filter((t) => this.schema.tables.has(t));
    const snapshot: Snapshot = new Map();
    if (this.replica) {
      if (this.conn.isClosed) connectionFailed(this.db, 'EPIPE');
      for (const name of names) snapshot.set(name, new Map(this.replica.get(name)));
      return snapshot;
    }
    if (names.length === 0) return snapshot;
    const reply = (await this.request('transact', [this.schema.name, ...names.map((table) => ({ op: 'select', table, where: [] }))])) as unknown[];
    names.forEach((name, i) => {
      const res = reply[i] as { rows?: Record<string, unknown>[]; error?: string; details?: string } | undefined;
      if (!res || res.error !== undefined || !res.rows) fail(`transaction error: ${JSON.stringify(res)}`);
      snapshot.set(name, decodeRows(this.schema.tables.get(name)!, res.rows));
    });
    return snapshot;
  }

  /** Starts watching `tables` for changes (later ones wake waitForChange()); false if all were watched already. */
  async watch(tables: Iterable<string>): Promise<boolean> {
    const fresh = [...tables].filter((t) => this.schema.tables.has(t) && !this.watched.has(t));
    if (fresh.length === 0) return false;
    const id = `ctl-watch-${this.monitorIds.size + 1}`;
    this.monitorIds.add(id);
    const requests: Record<string, unknown> = {};
    for (const t of fresh) {
      this.watched.add(t);
      requests[t] = { select: { initial: false, insert: true, delete: true, modify: true } };
    }
    await this.request('monitor', [this.schema.name, id, requests]);
    return true;
  }

  /** Resolves once the change count exceeds `seen`. */
  async waitForChange(seen: number): Promise<void> {
    while (this.changes <= seen) {
      if (this.conn.isClosed) connectionFailed(this.db, 'EPIPE');
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  close(): void {
    this.conn.close();
  }
}

function decodeRows(table: TableSchema, rows: readonly Record<string, unknown>[]): Map<string, RowValues> {
  const out = new Map<string, RowValues>();
  for (const row of rows) out.set((row['_uuid'] as [string, string])[1], decodeRow(table, row));
  return out;
}

/** A row as the server sends it (missing columns have their defaults). */
function decodeRow(table: TableSchema, row: Record<string, unknown>): RowValues {
  const values: RowValues = new Map();
  for (const c of table.columnList) {
    const j = row[c.name];
    let d = defaultDatum(c.type);
    if (j !== undefined) {
      try {
        d = parseDatum(j, c.type, undefined, true);
      } catch {
        // A value this schema version does not allow: keep the default.
      }
    }
    values.set(c.name, d);
  }
  return values;
}
