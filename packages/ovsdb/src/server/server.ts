/**
 * The OVSDB server: several databases (plus `_Server`), reachable on several remotes at
 * once. Owns what sessions share: databases and their commit logs, locks, monitor groups,
 * transactions blocked in "wait", and the recent-commit history that lets
 * monitor_cond_since clients resume without a full resync.
 */
import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { readFileSync, unlinkSync, existsSync } from 'node:fs';
import { Database, type Commit } from '../database.js';
import { parseSchema, schemaToJson } from '../schema.js';
import { Transaction } from '../transaction.js';
import { JsonRpcConnection, type ConnectionOptions } from '../jsonrpc/connection.js';
import { parseRemote, formatRemote } from '../jsonrpc/remote.js';
import { logger } from '../log.js';
import { LockManager } from './locks.js';
import { SERVER_SCHEMA_JSON } from './server-schema.js';
import { Session } from './session.js';
import { commitUpdate, type TableMonitor, type UpdateVersion } from './monitor.js';

const log = logger('ovsdb-server');

/** Where committed transactions go before the client hears they succeeded. */
export interface CommitLog {
  write(commit: Commit): Promise<void>;
  close?(): Promise<void>;
}

export interface ServedDatabase {
  db: Database;
  log: CommitLog | undefined;
  /** Recent commits, oldest first, for monitor_cond_since. */
  history: Commit[];
  historyRows: number;
  /** Set while an online "convert" swaps the database; transactions wait for it. */
  converting?: Promise<void>;
}

export interface TlsFiles {
  readonly privateKey: string;
  readonly certificate: string;
  readonly caCert?: string;
}

export interface ServerOptions extends ConnectionOptions {
  /** Inactivity probe for tcp/ssl sessions in ms (ovsdb-server's default is 5000); unix sockets are not probed. */
  readonly tcpProbeIntervalMs?: number;
  readonly tls?: TlsFiles;
  /**
   * Recent commits kept for monitor_cond_since resumes: at most this many commits (default
   * 100, ovsdb-server's bound) and this many changed rows in all (default 20,000). Older ones
   * cost memory (and garbage-collector time: every kept commit survives into the old
   * generation) for clients that would do better with a full resync anyway.
   */
  readonly historyMaxCommits?: number;
  readonly historyMaxRows?: number;
}

/** A set of monitors with identical requests: each commit is encoded once for all of them. */
export class MonitorGroup {
  readonly members = new Map<Session, Set<string>>();
  private readonly unsubscribe: () => void;
  private readonly method: string;

  constructor(
    readonly key: string,
    readonly served: ServedDatabase,
    readonly version: UpdateVersion,
    readonly tables: ReadonlyMap<string, TableMonitor>,
    private readonly onEmpty: (g: MonitorGroup) => void,
  ) {
    this.method = version === 1 ? 'update' : version === 2 ? 'update2' : 'update3';
    this.unsubscribe = served.db.onCommit((c) => this.onCommit(c));
  }

  add(session: Session, idJson: string): void {
    let s = this.members.get(session);
    if (!s) this.members.set(session, (s = new Set()));
    s.add(idJson);
  }

  remove(session: Session, idJson: string): void {
    const s = this.members.get(session);
    if (!s) return;
    s.delete(idJson);
    if (s.size === 0) this.members.delete(session);
    if (this.members.size === 0) {
      this.unsubscribe();
      this.onEmpty(this);
    }
  }

  private onCommit(commit: Commit): void {
    const update = commitUpdate(commit, this.tables, this.version);
    if (update === undefined) return;
    const body = JSON.stringify(update);
    const txn = this.version === 3 ? `,${JSON.stringify(commit.txnId)}` : '';
    for (const [session, ids] of this.members) {
      for (const id of ids) session.sendUpdate(id, `{"id":null,"method":"${this.method}","params":[${id}${txn},${body}]}`);
    }
  }
}

export class OvsdbServer {
  readonly serverId = randomUUID();
  readonly databases = new Map<string, ServedDatabase>();
  readonly locks = new LockManager();
  readonly sessions = new Set<Session>();
  readonly serverDb: Database;
  /** `_Server` as a served database (read-only, no log), so clients can monitor it. */
  readonly serverServed: ServedDatabase;
  private readonly groups = new Map<string, MonitorGroup>();
  private readonly listeners: { server: net.Server; remote: string; unixPath?: string }[] = [];
  readonly options: ServerOptions;

  constructor(options: ServerOptions = {}) {
    this.options = options;
    this.serverDb = new Database(parseSchema(SERVER_SCHEMA_JSON));
    this.serverServed = { db: this.serverDb, log: undefined, history: [], historyRows: 0 };
    // Like ovsdb-server, _Server lists itself.
    this.publishDatabase(this.serverDb);
  }

  addDatabase(db: Database, commitLog?: CommitLog): void {
    if (this.databases.has(db.name) || db.name === '_Server') throw new Error(`database ${db.name} is already being served`);
    const served: ServedDatabase = { db, log: commitLog, history: [], historyRows: 0 };
    this.databases.set(db.name, served);
    const maxRows = this.options.historyMaxRows ?? 20_000;
    const maxCommits = this.options.historyMaxCommits ?? 100;
    db.onCommit((c) => {
      let rows = 0;
      for (const t of c.changes.values()) rows += t.size;
      served.history.push(c);
      served.historyRows += rows;
      while ((served.historyRows > maxRows || served.history.length > maxCommits) && served.history.length > 1) {
        const old = served.history.shift()!;
        for (const t of old.changes.values()) served.historyRows -= t.size;
      }
    });
    this.publishDatabase(db);
  }

  /** Writes or refreshes the database's row in `_Server.Database`. */
  private publishDatabase(db: Database): void {
    const row = {
      name: db.name,
      model: 'standalone',
      connected: true,
      leader: true,
      schema: JSON.stringify(schemaToJson(db.schema)),
    };
    const txn = new Transaction(this.serverDb);
    txn.execute([
      { op: 'delete', table: 'Database', where: [['name', '==', db.name]] },
      { op: 'insert', table: 'Database', row },
    ]);
  }

  /** Swaps in a converted database (online schema change): clients learn of it via `_Server`. */
  replaceDatabase(db: Database, commitLog?: CommitLog): void {
    const served = this.databases.get(db.name);
    if (!served) throw new Error(`no database ${db.name}`);
    served.db = db;
    if (commitLog) served.log = commitLog;
    served.history = [];
    served.historyRows = 0;
    for (const s of [...this.sessions]) s.databaseReplaced(db.name);
    for (const g of [...this.groups.values()]) if (g.served === served) this.groups.delete(g.key);
    this.publishDatabase(db);
  }

  monitorGroup(key: string, served: ServedDatabase, version: UpdateVersion, tables: ReadonlyMap<string, TableMonitor>): MonitorGroup {
    let g = this.groups.get(key);
    if (!g) {
      g = new MonitorGroup(key, served, version, tables, (empty) => {
        if (this.groups.get(empty.key) === empty) this.groups.delete(empty.key);
      });
      this.groups.set(key, g);
    }
    return g;
  }

  get monitorGroupCount(): number {
    return this.groups.size;
  }

  /** Starts serving a stream (any Duplex): used by listeners and by in-process clients. */
  handleStream(stream: net.Socket | tls.TLSSocket, peer: string, probeIntervalMs: number): Session {
    const conn = new JsonRpcConnection(stream, { ...this.options, probeIntervalMs }, peer);
    const session = new Session(this, conn);
    this.sessions.add(session);
    log.debug(`${peer}: connected`);
    conn.on('close', (reason: string) => {
      this.sessions.delete(session);
      session.closed();
      if (/error|exceeds|probe/.test(reason)) log.warn(`${peer}: ${reason}`);
      else log.debug(`${peer}: ${reason}`);
    });
    return session;
  }

  /** Listens on a passive remote (ptcp:, punix:, pssl:). Resolves with the bound address. */
  async listen(remoteText: string): Promise<string> {
    const remote = parseRemote(remoteText);
    const probe = this.options.tcpProbeIntervalMs ?? 5000;
    let server: net.Server;
    switch (remote.kind) {
      case 'punix':
        if (existsSync(remote.path)) unlinkSync(remote.path);
        server = net.createServer({ allowHalfOpen: true }, (s) => this.handleStream(s, `unix:${remote.path}`, 0));
        break;
      case 'ptcp':
        server = net.createServer({ allowHalfOpen: true }, (s) => {
          s.setNoDelay(true);
          this.handleStream(s, `tcp:${s.remoteAddress}:${s.remotePort}`, probe);
        });
        break;
      case 'pssl': {
        const t = this.options.tls;
        if (!t) throw new Error(`${remoteText}: pssl requires --private-key, --certificate and --ca-cert`);
        server = tls.createServer(
          {
            allowHalfOpen: true,
            key: readFileSync(t.privateKey),
            cert: readFileSync(t.certificate),
            ...(t.caCert ? { ca: readFileSync(t.caCert), requestCert: true, rejectUnauthorized: true } : {}),
          },
          (s) => {
            s.setNoDelay(true);
            this.handleStream(s, `ssl:${s.remoteAddress}:${s.remotePort}`, probe);
          },
        );
        break;
      }
      default:
        throw new Error(`${remoteText}: not a passive remote (use ptcp:, pssl: or punix:)`);
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (remote.kind === 'punix') server.listen(remote.path, resolve);
      else server.listen(remote.port, remote.host, resolve);
    });
    server.on('error', (e) => log.error(`${remoteText}: ${e.message}`));
    let bound = remoteText;
    if (remote.kind !== 'punix') {
      const a = server.address() as net.AddressInfo;
      bound = formatRemote({ kind: remote.kind, host: a.address, port: a.port });
    }
    this.listeners.push(remote.kind === 'punix' ? { server, remote: bound, unixPath: remote.path } : { server, remote: bound });
    log.info(`listening on ${bound}`);
    return bound;
  }

  get boundRemotes(): string[] {
    return this.listeners.map((l) => l.remote);
  }

  async close(): Promise<void> {
    for (const s of [...this.sessions]) s.conn.close('server shutting down');
    for (const l of this.listeners) {
      await new Promise<void>((r) => l.server.close(() => r()));
      if (l.unixPath && existsSync(l.unixPath)) {
        try {
          unlinkSync(l.unixPath);
        } catch {
          /* already gone */
        }
      }
    }
    this.listeners.length = 0;
    for (const d of this.databases.values()) await d.log?.close?.();
  }
}
