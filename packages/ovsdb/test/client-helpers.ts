/**
 * Helpers for the client tests: an in-process ovnts server that can be "restarted" (a new
 * server object on the same socket and database), a real ovsdb-server child (standalone or a
 * one-server cluster, which is what makes monitor_cond_since resume), a proxy that hides monitor
 * methods (to exercise the IDL's fallbacks), and a normalized dump of a database for comparing
 * the replica with the server's contents.
 *
 * Child processes are stopped by their PID in teardown; nothing is killed by name.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import {
  Database,
  JsonRpcConnection,
  OvsdbServer,
  RpcError,
  connectStream,
  datumToJson,
  loadSchema,
  parseDatum,
  type DatabaseSchema,
  type JsonRpcRequest,
} from '../src/index.js';
import type { Idl, OvsdbClient, RowJson } from '../src/client/index.js';

export const OVSDB_SERVER = '/usr/sbin/ovsdb-server';
export const OVSDB_TOOL = '/usr/bin/ovsdb-tool';
export const OVSDB_CLIENT = '/usr/bin/ovsdb-client';
export const REAL_NB_SCHEMA = '/usr/share/ovn/ovn-nb.ovsschema';

/** Why real ovsdb-server tests cannot run here, or false when they can. */
export function realMissing(): string | false {
  for (const p of [OVSDB_SERVER, OVSDB_TOOL, REAL_NB_SCHEMA]) {
    if (!existsSync(p)) return `${p} is not installed (Debian packages openvswitch-switch, ovn-common); skipping real ovsdb-server tests`;
  }
  return false;
}

export const until = async (cond: () => boolean, ms = 3000, what = 'condition'): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function tempDir(t: Test, prefix = 'ovnts-client-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A backend the same test can run against: a socket to connect to, and ways to disturb it. */
export interface Backend {
  readonly name: string;
  readonly remote: string;
  /** Stops the server and starts it again on the same socket with the same contents. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface OvntsBackend extends Backend {
  server: OvsdbServer;
  db: Database;
  start(): Promise<void>;
}

/** An in-process ovnts server on a unix socket. */
export async function ovntsBackend(t: Test, dir: string, opts: { name?: string; schema?: DatabaseSchema } = {}): Promise<OvntsBackend> {
  const sock = join(dir, `${opts.name ?? 'ovnts'}.sock`);
  const db = new Database(opts.schema ?? loadSchema('ovn-nb'));
  let running = false;
  const b: OvntsBackend = {
    name: 'ovnts',
    remote: `unix:${sock}`,
    server: new OvsdbServer(),
    db,
    async start() {
      if (running) return;
      // A new server object each time: sessions, monitors and commit history start empty.
      b.server = new OvsdbServer();
      b.server.addDatabase(b.db);
      await b.server.listen(`punix:${sock}`);
      running = true;
    },
    async stop() {
      if (!running) return;
      running = false;
      await b.server.close();
    },
    async restart() {
      await b.stop();
      await b.start();
    },
  };
  await b.start();
  t.teardown(() => b.stop());
  return b;
}

export interface RealBackend extends Backend {
  readonly pid: number | undefined;
  start(): Promise<void>;
}

/**
 * A real ovsdb-server serving the installed OVN NB schema. `clustered` makes a one-server
 * cluster (a raft address on a unix socket): standalone ovsdb-server 3.1 keeps no transaction
 * history, so only a clustered database can answer monitor_cond_since with found=true.
 */
export async function realBackend(t: Test, dir: string, opts: { clustered?: boolean; name?: string } = {}): Promise<RealBackend> {
  const name = opts.name ?? 'real';
  const dbFile = join(dir, `${name}.db`);
  const sock = join(dir, `${name}.sock`);
  if (opts.clustered) execFileSync(OVSDB_TOOL, ['create-cluster', dbFile, REAL_NB_SCHEMA, `unix:${join(dir, `${name}.raft`)}`], { stdio: 'pipe' });
  else execFileSync(OVSDB_TOOL, ['create', dbFile, REAL_NB_SCHEMA], { stdio: 'pipe' });
  let child: ChildProcess | undefined;
  const b: RealBackend = {
    name: opts.clustered ? 'ovsdb-server (clustered)' : 'ovsdb-server',
    remote: `unix:${sock}`,
    get pid() {
      return child?.pid;
    },
    async start() {
      if (child) return;
      if (existsSync(sock)) unlinkSync(sock);
      child = spawn(
        OVSDB_SERVER,
        [`--remote=punix:${sock}`, '--no-chdir', `--unixctl=${join(dir, `${name}.ctl`)}`, `--log-file=${join(dir, `${name}.log`)}`, dbFile],
        { stdio: 'ignore' },
      );
      const c = child;
      for (let i = 0; i < 400; i++) {
        if (c.exitCode !== null) throw new Error(`ovsdb-server exited with ${c.exitCode}`);
        if (existsSync(sock) && (await canConnect(sock))) return;
        await sleep(10);
      }
      throw new Error(`ovsdb-server did not listen on ${sock}`);
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null || c.pid === undefined) return;
      const exited = new Promise((r) => c.once('exit', r));
      process.kill(c.pid, 'SIGTERM');
      await exited;
    },
    async restart() {
      await b.stop();
      await b.start();
    },
  };
  await b.start();
  t.teardown(() => b.stop());
  return b;
}

function canConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/**
 * A JSON-RPC proxy in front of `upstream` that answers the `hidden` methods with
 * "unknown method", like an older server would.
 */
export async function hidingProxy(t: Test, dir: string, upstream: string, hidden: readonly string[]): Promise<string> {
  const path = join(dir, 'proxy.sock');
  const conns = new Set<JsonRpcConnection>();
  const server = net.createServer(async (sock) => {
    // The downstream socket stays paused (no 'data' listener) until upstream is connected.
    const up = new JsonRpcConnection(await connectStream(upstream));
    const down = new JsonRpcConnection(sock);
    conns.add(down).add(up);
    down.on('close', () => up.close());
    up.on('close', () => down.close());
    up.on('request', (r: JsonRpcRequest) => {
      if (r.method === 'echo' && r.id !== null) up.reply(r.id, r.params);
      else if (r.id === null) down.notify(r.method, r.params);
    });
    down.on('request', (r: JsonRpcRequest) => {
      if (r.id === null) return up.notify(r.method, r.params);
      if (hidden.includes(r.method)) return down.replyError(r.id, 'unknown method');
      up.request(r.method, r.params).then(
        (res) => down.reply(r.id, res),
        (e: unknown) => down.replyError(r.id, e instanceof RpcError ? e.error : String(e)),
      );
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  t.teardown(async () => {
    for (const c of conns) c.close();
    await new Promise((r) => server.close(r));
  });
  return `unix:${path}`;
}

/** Canonical contents: table → uuid → column → datum JSON (as text); rows sorted by UUID. */
export type Dump = Record<string, Record<string, Record<string, string>>>;

function sortedRows(rows: Record<string, Record<string, string>>): Record<string, Record<string, string>> {
  return Object.fromEntries(Object.entries(rows).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** What the server holds, read with a plain select. */
export async function selectDump(client: OvsdbClient, db: string, schema: DatabaseSchema, tables: Record<string, readonly string[]>): Promise<Dump> {
  const names = Object.keys(tables);
  const reply = await client.transact(
    db,
    names.map((table) => ({ op: 'select' as const, table, where: [], columns: ['_uuid', ...tables[table]!] })),
  );
  const out: Dump = {};
  names.forEach((table, i) => {
    const ts = schema.tables.get(table)!;
    const rows: Record<string, Record<string, string>> = {};
    for (const r of (reply[i] as { rows: RowJson[] }).rows) {
      const o: Record<string, string> = {};
      for (const c of tables[table]!) {
        const type = ts.columns.get(c)!.type;
        o[c] = JSON.stringify(datumToJson(parseDatum(r[c], type), type));
      }
      rows[(r['_uuid'] as [string, string])[1]] = o;
    }
    out[table] = sortedRows(rows);
  });
  return out;
}

/** What the IDL's replica holds, in the same form. */
export function replicaDump(idl: Idl, tables: Record<string, readonly string[]>): Dump {
  const out: Dump = {};
  for (const [table, cols] of Object.entries(tables)) {
    const rows: Record<string, Record<string, string>> = {};
    for (const r of idl.rows(table)) {
      const o: Record<string, string> = {};
      for (const c of cols) o[c] = JSON.stringify(datumToJson(r.get(c), r.table.columns.get(c)!.type));
      rows[r.uuid] = o;
    }
    out[table] = sortedRows(rows);
  }
  return out;
}

/** Kills the client's current socket (as a network failure would). */
export function dropConnection(client: OvsdbClient): void {
  client.connection?.stream.destroy();
}
