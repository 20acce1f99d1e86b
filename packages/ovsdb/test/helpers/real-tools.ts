/**
 * Shared helpers for the interoperability tests (test/interop-*.test.ts): finding Debian's real
 * OVS/OVN tools, running them asynchronously (the ovnts server under test may live in the test
 * process, so a synchronous spawn would deadlock it), starting a real ovsdb-server and an
 * in-process ovnts server side by side on unix sockets in a fresh temporary directory, a raw
 * JSON-RPC client, and output normalization (UUIDs → stable tokens).
 *
 * Every child process is tracked and stopped by its PID in `Sandbox.close()`; nothing is ever
 * killed by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { Database, JsonStreamSplitter, OvsdbServer, loadSchema } from '../../src/index.js';

export const SCHEMA_FILES = {
  'ovn-nb': fileURLToPath(new URL('../../../schemas/ovn-nb.ovsschema', import.meta.url)),
  'ovn-sb': fileURLToPath(new URL('../../../schemas/ovn-sb.ovsschema', import.meta.url)),
  vswitch: fileURLToPath(new URL('../../../schemas/vswitch.ovsschema', import.meta.url)),
} as const;
export type SchemaName = keyof typeof SCHEMA_FILES;

export const DB_NAMES: Record<SchemaName, string> = {
  'ovn-nb': 'OVN_Northbound',
  'ovn-sb': 'OVN_Southbound',
  vswitch: 'Open_vSwitch',
};

/** Directory of this package's test fixtures (Python scripts), in the source tree. */
export const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

const SEARCH_DIRS = [...(process.env['PATH'] ?? '').split(':').filter(Boolean), '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Absolute path of an executable, searching PATH plus /usr/sbin and /usr/bin; undefined if absent. */
export function findTool(name: string): string | undefined {
  if (name.startsWith('/')) return isExecutable(name) ? name : undefined;
  for (const d of SEARCH_DIRS) {
    const p = join(d, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first of `names` that is missing, as a skip message, or false when all are present. */
export function missingTools(...names: string[]): string | false {
  for (const n of names) if (!findTool(n)) return `${n} not installed`;
  return false;
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
  readonly timeoutMs?: number;
  readonly cwd?: string;
}

/** Runs a program to completion without blocking the event loop. Killed (by PID) after the timeout. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const path = findTool(cmd) ?? cmd;
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      stderr += `\n[killed after ${opts.timeoutMs ?? 20000} ms]`;
    }, opts.timeoutMs ?? 20000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => undefined); // the program may exit without reading it
      child.stdin!.end(opts.input);
    }
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` every 20 ms until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** A background child process with its output captured; stopped by PID. */
export class Background {
  stdout = '';
  stderr = '';
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private done = false;

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        this.done = true;
        resolve({ code, signal });
      });
      child.on('error', () => {
        this.done = true;
        resolve({ code: null, signal: null });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.done;
  }

  /** SIGTERM by PID, then SIGKILL if it is still alive after `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.done || this.child.pid === undefined) return;
    try {
      process.kill(this.child.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    const timer = setTimeout(() => {
      if (!this.done && this.child.pid !== undefined) {
        try {
          process.kill(this.child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * A fresh temporary directory plus every process and server started in it. `close()` stops
 * them all (by PID) and removes the directory.
 */
export class Sandbox {
  readonly dir: string;
  /** Environment for OVS/OVN tools: run/log/db dirs point into the sandbox. */
  readonly env: NodeJS.ProcessEnv;
  private readonly procs: Background[] = [];
  private readonly servers: OvsdbServer[] = [];

  constructor(prefix = 'ovnts-interop-') {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
    this.env = {
      ...process.env,
      PATH: `${process.env['PATH'] ?? ''}:/usr/sbin:/usr/bin`,
      OVS_RUNDIR: this.dir,
      OVS_LOGDIR: this.dir,
      OVS_DBDIR: this.dir,
      OVS_SYSCONFDIR: this.dir,
      OVN_RUNDIR: this.dir,
      OVN_LOGDIR: this.dir,
      OVN_DBDIR: this.dir,
      OVN_SYSCONFDIR: this.dir,
    };
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return run(cmd, args, { env: this.env, ...opts });
  }

  /** Starts a long-running program in the background. */
  spawn(cmd: string, args: readonly string[]): Background {
    const path = findTool(cmd) ?? cmd;
    const child = spawn(path, args, { env: this.env, cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const b = new Background(child);
    this.procs.push(b);
    return b;
  }

  /**
   * Real ovsdb-server serving fresh databases of the given schemas on `unix:<dir>/<name>.sock`.
   * Returns the active remote (`unix:...`).
   */
  async startRealServer(name: string, schemas: readonly SchemaName[]): Promise<string> {
    const files: string[] = [];
    for (const s of schemas) {
      const f = this.path(`${name}-${s}.db`);
      const r = await this.run('ovsdb-tool', ['create', f, SCHEMA_FILES[s]]);
      if (r.code !== 0) throw new Error(`ovsdb-tool create failed: ${r.stderr}`);
      files.push(f);
    }
    const sock = this.path(`${name}.sock`);
    const bg = this.spawn('ovsdb-server', [
      ...files,
      `--remote=punix:${sock}`,
      '--no-chdir',
      `--unixctl=${this.path(`${name}.ctl`)}`,
      `--log-file=${this.path(`${name}.log`)}`,
      '-vconsole:off',
    ]);
    await waitFor(() => existsSync(sock) || !bg.running, 10000, `ovsdb-server socket ${sock}`);
    if (!bg.running) throw new Error(`ovsdb-server exited: ${bg.stderr}`);
    return `unix:${sock}`;
  }

  /** ovnts server, in this process, serving fresh in-memory databases; returns `unix:...`. */
  async startTsServer(name: string, schemas: readonly SchemaName[]): Promise<{ remote: string; server: OvsdbServer }> {
    const server = new OvsdbServer();
    for (const s of schemas) server.addDatabase(new Database(loadSchema(s)));
    const sock = this.path(`${name}.sock`);
    await server.listen(`punix:${sock}`);
    this.servers.push(server);
    return { remote: `unix:${sock}`, server };
  }

  async close(): Promise<void> {
    for (const p of this.procs.reverse()) await p.stop();
    for (const s of this.servers) await s.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// --- raw JSON-RPC ----------------------------------------------------------------------------

export interface RpcMessage {
  readonly id?: unknown;
  readonly method?: string;
  readonly params?: unknown;
  readonly result?: unknown;
  readonly error?: unknown;
}

/**
 * A bare JSON-RPC client over a unix socket: sends exactly the text it is given and returns the
 * peer's messages untouched, so two servers' answers can be compared field for field.
 */
export class RawClient {
  private readonly messages: RpcMessage[] = [];
  /** What arrived, in order: "reply:<id>" or "notify:<method>". */
  arrivals: string[] = [];
  private waiters: (() => void)[] = [];
  private closed = false;

  private constructor(private readonly sock: net.Socket) {
    const splitter = new JsonStreamSplitter();
    sock.on('data', (d: Buffer) => {
      splitter.push(d, (m) => {
        const msg = m as RpcMessage;
        // Answer the server's inactivity probes so they never show up in comparisons.
        if (msg.method === 'echo' && msg.id !== null && msg.id !== undefined) {
          sock.write(JSON.stringify({ id: msg.id, result: msg.params ?? [], error: null }));
          return;
        }
        this.messages.push(msg);
        this.arrivals.push(msg.method !== undefined ? `notify:${msg.method}` : `reply:${JSON.stringify(msg.id)}`);
        this.wake();
      });
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => undefined);
  }

  static connect(remote: string): Promise<RawClient> {
    const path = remote.replace(/^unix:/, '');
    return new Promise((resolve, reject) => {
      const s = net.connect(path, () => {
        s.off('error', reject);
        resolve(new RawClient(s));
      });
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  sendText(text: string): void {
    this.sock.write(text);
  }

  send(msg: unknown): void {
    this.sendText(JSON.stringify(msg));
  }

  /** Waits for the first unconsumed message satisfying `pred` and removes it from the queue. */
  async next(pred: (m: RpcMessage) => boolean, timeoutMs = 5000): Promise<RpcMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.messages.findIndex(pred);
      if (i >= 0) return this.messages.splice(i, 1)[0]!;
      if (this.closed) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Sends a request and waits for the reply with the same id. */
  async request(method: string, params: unknown, id: unknown = `r${Math.random().toString(36).slice(2)}`, timeoutMs = 5000): Promise<RpcMessage> {
    this.send({ method, params, id });
    const key = JSON.stringify(id);
    return this.next((m) => m.method === undefined && JSON.stringify(m.id) === key, timeoutMs);
  }

  /** Notifications received and not yet consumed. */
  takeNotifications(): RpcMessage[] {
    const out = this.messages.filter((m) => m.method !== undefined);
    for (const m of out) this.messages.splice(this.messages.indexOf(m), 1);
    return out;
  }

  /** Resolves true when the server closes the connection within `timeoutMs`. */
  async waitClosed(timeoutMs = 3000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.closed;
  }

  close(): void {
    this.sock.destroy();
  }
}

// --- normalization ---------------------------------------------------------------------------

export const UUID_PATTERN = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * Replaces each distinct UUID with a stable token in order of first appearance. Pass the same
 * map to several calls to keep tokens consistent across a script's outputs.
 */
export class UuidNormalizer {
  readonly tokens = new Map<string, string>();

  constructor(private readonly prefix = 'UUID') {}

  /** Pre-assigns a name to a UUID (e.g. from the row it identifies). */
  name(uuid: string, token: string): void {
    this.tokens.set(uuid.toLowerCase(), token);
  }

  text(s: string): string {
    return s.replace(UUID_PATTERN, (u) => this.token(u));
  }

  token(u: string): string {
    const k = u.toLowerCase();
    let t = this.tokens.get(k);
    if (t === undefined) {
      t = `<${this.prefix}${this.tokens.size + 1}>`;
      this.tokens.set(k, t);
    }
    return t;
  }

  json(v: unknown): unknown {
    return JSON.parse(this.text(JSON.stringify(v)));
  }
}

/**
 * Labels every row of a database by its content, so UUIDs in two servers' outputs can be
 * compared even though the servers chose different (random) UUIDs: a row with a unique `name`
 * gets `<Table:name>`, any other row `<Table#i>` by the rank of its content, where references
 * are themselves replaced by labels (a few rounds, so chains of unnamed rows resolve).
 */
export async function labelRows(remote: string, dbName: string, into: UuidNormalizer): Promise<void> {
  const c = await RawClient.connect(remote);
  try {
    const schema = (await c.request('get_schema', [dbName])).result as { tables: Record<string, unknown> };
    const tables = Object.keys(schema.tables).sort();
    const reply = await c.request('transact', [dbName, ...tables.map((table) => ({ op: 'select', table, where: [] }))]);
    const results = reply.result as { rows: Record<string, unknown>[] }[];
    const rowsOf = new Map<string, Record<string, unknown>[]>();
    tables.forEach((t, i) => rowsOf.set(t, results[i]!.rows));
    const labels = new Map<string, string>();
    const strip = (row: Record<string, unknown>): string => {
      const o: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row)) if (k !== '_uuid' && k !== '_version') o[k] = v;
      return stableJson(o).replace(UUID_PATTERN, (u) => labels.get(u.toLowerCase()) ?? '?');
    };
    for (const [t, rows] of rowsOf) {
      const names = rows.map((r) => r['name']).filter((n): n is string => typeof n === 'string' && n !== '');
      for (const r of rows) {
        const n = r['name'];
        if (typeof n === 'string' && n !== '' && names.filter((x) => x === n).length === 1) {
          labels.set(uuidOf(r), `<${t}:${n}>`);
        }
      }
    }
    for (let round = 0; round < 4; round++) {
      for (const [t, rows] of rowsOf) {
        const unnamed = rows.filter((r) => !labels.get(uuidOf(r))?.startsWith(`<${t}:`));
        const keyed = unnamed.map((r) => ({ r, k: strip(r) })).sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
        keyed.forEach(({ r }, i) => labels.set(uuidOf(r), `<${t}#${i + 1}>`));
      }
    }
    for (const [u, l] of labels) into.name(u, l);
    // Row versions (_version, in monitors of all columns) are named after their row.
    for (const rows of rowsOf.values()) {
      for (const r of rows) {
        const v = r['_version'] as [string, string] | undefined;
        if (v) into.name(v[1], labels.get(uuidOf(r))!.replace(/>$/, ' version>'));
      }
    }
  } finally {
    c.close();
  }
}

function uuidOf(row: Record<string, unknown>): string {
  return ((row['_uuid'] as [string, string])[1] ?? '').toLowerCase();
}

/**
 * Makes outputs whose order real OVS leaves to hash order comparable: sorts the items of every
 * `[a, b, ...]` list made only of labels, the records of `list`-style output (blocks separated
 * by blank lines), and the children of each node of indented `show`-style trees.
 */
export function canonicalOrder(s: string): string {
  let out = s.replace(/\[((?:<[^<>\]]+>)(?:, <[^<>\]]+>)+)\]/g, (_m, inner: string) => `[${inner.split(', ').sort().join(', ')}]`);
  if (out.includes('\n\n')) {
    const trailing = out.endsWith('\n');
    out = out
      .replace(/\n+$/, '')
      .split(/\n\n+/)
      .sort()
      .join('\n\n') + (trailing ? '\n' : '');
  }
  return out;
}

/** Sorts the children of every node of an indentation tree (for `show` output). */
export function sortTree(s: string): string {
  const lines = s.split('\n').filter((l) => l !== '');
  interface Node {
    line: string;
    kids: Node[];
  }
  const root: Node = { line: '', kids: [] };
  const stack: { node: Node; indent: number }[] = [{ node: root, indent: -1 }];
  for (const line of lines) {
    const indent = line.length - line.trimStart().length;
    while (stack.length > 1 && stack[stack.length - 1]!.indent >= indent) stack.pop();
    const n: Node = { line, kids: [] };
    stack[stack.length - 1]!.node.kids.push(n);
    stack.push({ node: n, indent });
  }
  const render = (n: Node): string[] => {
    const kids = n.kids.map((k) => render(k).join('\n')).sort();
    return n === root ? kids : [n.line, ...kids];
  };
  return render(root).join('\n') + (lines.length ? '\n' : '');
}

const UUID_ONLY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function maskUuids(s: string): string {
  return s.replace(UUID_PATTERN, 'U');
}

function byMaskedThenRaw(a: string, b: string): number {
  const ma = maskUuids(a);
  const mb = maskUuids(b);
  if (ma !== mb) return ma < mb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * JSON text in a canonical form for comparing two servers' replies, before UUIDs are replaced
 * by tokens: object members sorted by name; objects keyed by UUIDs (table updates) and "rows"
 * arrays (select results) sorted by content with UUIDs masked, since their order is hash order
 * in ovsdb-server; "syntax" and "schema" members (JSON text, which ovsdb-server prints with
 * sorted members) canonicalized too.
 */
export function stableJson(v: unknown, key?: string): string {
  if (Array.isArray(v)) {
    const items = v.map((x) => stableJson(x));
    if (key === 'rows') items.sort(byMaskedThenRaw);
    return `[${items.join(',')}]`;
  }
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    const uuidKeyed = keys.length > 0 && keys.every((k) => UUID_ONLY.test(k));
    const parts = keys.map((k) => {
      let x = o[k];
      if ((k === 'syntax' || k === 'schema') && typeof x === 'string') {
        try {
          x = stableJson(JSON.parse(x));
        } catch {
          /* not JSON: compare as is */
        }
      }
      return { k, text: `${JSON.stringify(k)}:${stableJson(x, k)}` };
    });
    if (uuidKeyed) parts.sort((a, b) => byMaskedThenRaw(a.text, b.text));
    else parts.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
    return `{${parts.map((p) => p.text).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
}

/**
 * Replaces the parts of a reply that legitimately vary between runs: elapsed times, and the
 * order in which a unique-index violation names its two rows (ovsdb-server orders them by
 * UUID, which is random).
 */
export function normalizeVolatile(s: string): string {
  return s
    .replace(/timed out after \d+ ms/g, 'timed out after N ms')
    .replace(/First row, with UUID (<[^>]+>), ([^.]+)\.  Second row, with UUID (<[^>]+>), ([^.]+)\./g, (m, a: string, pa: string, b: string, pb: string) =>
      b < a ? `First row, with UUID ${b}, ${pb}.  Second row, with UUID ${a}, ${pa}.` : m,
    );
}

/**
 * Masks transaction ids (monitor_cond_since replies and update3 notifications): a standalone
 * ovsdb-server keeps no transaction history and reports one constant id, while ovnts (like a
 * clustered ovsdb-server) gives every commit its own id so that clients can resume.
 */
function maskTxnIds(m: RpcMessage, method: string | undefined): RpcMessage {
  if (m.method === 'update3' && Array.isArray(m.params) && m.params.length === 3) {
    return { ...m, params: [m.params[0], '<txn-id>', m.params[2]] };
  }
  if (method === 'monitor_cond_since' && Array.isArray(m.result) && m.result.length === 3) {
    return { ...m, result: [m.result[0], '<txn-id>', m.result[2]] };
  }
  return m;
}

/**
 * One raw connection to each of two servers, fed identical requests; replies come back
 * canonicalized and with UUIDs replaced by per-server tokens, ready to compare.
 */
export class RpcPair {
  readonly norm: [UuidNormalizer, UuidNormalizer] = [new UuidNormalizer(), new UuidNormalizer()];
  private nextId = 1;
  private readonly methods = new Map<string, string>();

  private constructor(
    readonly remotes: [string, string],
    public clients: [RawClient, RawClient],
  ) {}

  static async connect(a: string, b: string): Promise<RpcPair> {
    return new RpcPair([a, b], [await RawClient.connect(a), await RawClient.connect(b)]);
  }

  private canon(i: 0 | 1, m: RpcMessage): string {
    const method = m.method === undefined ? this.methods.get(JSON.stringify(m.id)) : undefined;
    return normalizeVolatile(this.norm[i].text(stableJson(maskTxnIds(m, method))));
  }

  /** Sends one request to both; resolves with [real, ovnts] canonical replies (or "closed"). */
  async request(method: string, params: unknown, id: unknown = this.nextId++, timeoutMs = 3000): Promise<[string, string]> {
    const out: string[] = [];
    this.methods.set(JSON.stringify(id), method);
    for (const i of [0, 1] as const) {
      if (this.clients[i].isClosed) this.clients[i] = await RawClient.connect(this.remotes[i]);
      try {
        const m = await this.clients[i].request(method, params, id, timeoutMs);
        out.push(this.canon(i, m));
      } catch (e) {
        out.push(`<no reply: ${(e as Error).message}>`);
      }
    }
    return out as [string, string];
  }

  /** Sends one request to both without waiting for the replies. */
  send(method: string, params: unknown, id: unknown): void {
    this.methods.set(JSON.stringify(id), method);
    for (const c of this.clients) c.send({ method, params, id });
  }

  /** Waits for both sides' next reply with this id. */
  reply(id: unknown, timeoutMs = 5000): Promise<[string, string]> {
    const key = JSON.stringify(id);
    return Promise.all(
      ([0, 1] as const).map((i) =>
        this.clients[i]
          .next((m) => m.method === undefined && JSON.stringify(m.id) === key, timeoutMs)
          .then((m) => this.canon(i, m))
          .catch((e: Error) => `<no reply: ${e.message}>`),
      ),
    ) as Promise<[string, string]>;
  }

  /** Sends one request to both without waiting; resolves with both canonical replies. */
  start(method: string, params: unknown, id: unknown, timeoutMs = 5000): Promise<[string, string]> {
    this.send(method, params, id);
    return this.reply(id, timeoutMs);
  }

  /** Sends a notification (no reply expected) to both. */
  notify(method: string, params: unknown): void {
    for (const c of this.clients) c.send({ method, params, id: null });
  }

  /** The order in which messages arrived on each side since the last call. */
  arrivals(): [string[], string[]] {
    const out = this.clients.map((c) => c.arrivals) as [string[], string[]];
    for (const c of this.clients) c.arrivals = [];
    return out;
  }

  /** Notifications each side received so far, canonical and sorted (their order across monitors is hash order). */
  notifications(): [string, string] {
    return [0, 1].map((i) => {
      const n = this.clients[i]!.takeNotifications().map((m) => stableJson(maskTxnIds(m, undefined)));
      n.sort(byMaskedThenRaw);
      return normalizeVolatile(this.norm[i]!.text(n.join('\n')));
    }) as [string, string];
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}

// --- CLI differential ------------------------------------------------------------------------

/** Commands that never change the database: no need to relabel rows after them. */
const READ_ONLY = /^(show|list|find|get|ls-list|lr-list|lflow-list|list-br|list-ports|list-ifaces|port-to-br|iface-to-br|br-exists|[a-z-]+-list|lsp-get-[a-z-]+)$/;

interface CtlSide {
  readonly name: string;
  readonly remote: string;
  readonly norm: UuidNormalizer;
}

/**
 * Runs `tool --db=REMOTE <step>` for each step on both servers, in lockstep, and compares
 * stdout, stderr and exit status after normalization.
 */
export async function ctlDifferential(t: Test, schema: SchemaName, tool: string, toolArgs: string[], steps: string[][]): Promise<void> {
  const sb = new Sandbox();
  t.teardown(() => sb.close());
  const sides: CtlSide[] = [
    { name: 'real', remote: await sb.startRealServer('real', [schema]), norm: new UuidNormalizer() },
    { name: 'ovnts', remote: (await sb.startTsServer('ts', [schema])).remote, norm: new UuidNormalizer() },
  ];
  for (const step of steps) {
    const results = await Promise.all(sides.map((s) => sb.run(tool, [`--db=${s.remote}`, ...toolArgs, ...step], { timeoutMs: 10000 })));
    // Name every row (including ones this step deleted, named by the previous step).
    const command = step.find((a) => !a.startsWith('-')) ?? '';
    if (!READ_ONLY.test(command)) await Promise.all(sides.map((s) => labelRows(s.remote, DB_NAMES[schema], s.norm)));
    const show = command === 'show';
    const norm = (s: CtlSide, text: string): string => {
      const n = normalizeVolatile(s.norm.text(text.replaceAll(s.remote, 'REMOTE').replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z\|\d+\|/gm, 'TIME|')));
      return show ? sortTree(canonicalOrder(n)) : canonicalOrder(n);
    };
    const [r, o] = results.map((res, i) => ({ out: norm(sides[i]!, res.stdout), err: norm(sides[i]!, res.stderr), code: res.code }));
    const label = `${tool} ${step.join(' ')}`;
    t.equal(o!.out, r!.out, `${label}: stdout`);
    t.equal(o!.err, r!.err, `${label}: stderr`);
    t.equal(o!.code, r!.code, `${label}: exit code ${r!.code}`);
  }
}
