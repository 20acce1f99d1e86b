/**
 * Shared by the storage tests: a schema with every kind of column, random transactions over
 * it, database dumps for comparison, and access to Debian's real OVSDB tools (run
 * asynchronously; servers are started in a fresh temporary directory and stopped by PID).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Database, Transaction, datumToJson, type Commit, type Storage } from '../src/index.js';

/** Sets, maps, optional values, ranges, enums, refs (strong, weak), an ephemeral column, and
 * the min-1 bounded set (`few`) that exercises OVS's diff quirks. */
export const RICH_SCHEMA = {
  name: 'P',
  version: '1.0.0',
  tables: {
    R: {
      isRoot: true,
      columns: {
        name: { type: 'string' },
        i: { type: { key: { type: 'integer', minInteger: -5, maxInteger: 1000 } } },
        r: { type: 'real' },
        b: { type: 'boolean' },
        u: { type: 'uuid' },
        opt: { type: { key: 'string', min: 0, max: 1 } },
        color: { type: { key: { type: 'string', enum: ['set', ['red', 'green', 'blue']] }, min: 0, max: 1 } },
        tags: { type: { key: 'string', min: 0, max: 'unlimited' } },
        few: { type: { key: 'integer', min: 1, max: 3 } },
        nums: { type: { key: 'integer', min: 0, max: 4 } },
        kv: { type: { key: 'string', value: 'string', min: 0, max: 'unlimited' } },
        iv: { type: { key: 'integer', value: 'real', min: 0, max: 'unlimited' } },
        one: { type: { key: 'string', value: 'integer', min: 0, max: 1 } },
        e: { type: { key: 'string', min: 0, max: 'unlimited' }, ephemeral: true },
        kids: { type: { key: { type: 'uuid', refTable: 'C' }, min: 0, max: 'unlimited' } },
        weak: { type: { key: { type: 'uuid', refTable: 'R', refType: 'weak' }, min: 0, max: 'unlimited' } },
      },
      indexes: [['name']],
    },
    C: {
      columns: {
        n: { type: 'integer' },
        labels: { type: { key: 'string', value: 'string', min: 0, max: 'unlimited' } },
      },
    },
  },
} as const;

export type Dump = Record<string, Record<string, Record<string, unknown>>>;

/** Persistent contents as wire JSON: table → row UUID (sorted) → column → datum. */
export function dump(db: Database): Dump {
  const out: Dump = {};
  for (const [name, td] of db.tables) {
    const rows: Record<string, Record<string, unknown>> = {};
    for (const uuid of [...td.rows.keys()].sort()) {
      const row = td.rows.get(uuid)!;
      const o: Record<string, unknown> = {};
      for (const c of td.schema.columnList) if (!c.ephemeral) o[c.name] = datumToJson(row.values[c.index]!, c.type);
      rows[uuid] = o;
    }
    out[name] = rows;
  }
  return out;
}

/** Runs one transaction; returns its commit (null if it failed or changed nothing). */
export function execute(db: Database, ops: readonly unknown[], durable = false): Commit | null {
  const out = new Transaction(db).execute(ops);
  if (out.kind !== 'done' || !out.commit) return null;
  return durable ? { ...out.commit, durable: true } : out.commit;
}

export async function executeAndWrite(db: Database, storage: Storage, ops: readonly unknown[], durable = false): Promise<Commit | null> {
  const c = execute(db, ops, durable);
  if (c) await storage.write(c);
  return c;
}

export function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-storage-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// --- random transactions over RICH_SCHEMA -----------------------------------------------

const NAMES = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5'];
const str = fc.string({ unit: fc.constantFrom('a', 'b', 'z', '"', '\\', '\n', 'é', '\u0001', '😀', ' '), maxLength: 4 });
// OVS's JSON parser rejects subnormal numbers ("number outside valid range"), so none are generated.
// OVS prints reals with 15 significant digits, which rounds values near the largest double
// (e.g. 1.7976931348623151e+308 → "1.79769313486232e+308") beyond it: its own files then hold
// an infinity. Keep clear of that range; subnormals OVS's JSON parser rejects outright.
const real = fc
  .double({ noNaN: true, noDefaultInfinity: true, min: -1e300, max: 1e300 })
  .map((x) => (Object.is(x, -0) || Math.abs(x) < 2.2250738585072014e-308 ? 0 : x));
const uuid = fc.uuid().map((u) => ['uuid', u]);
const set = <T>(a: fc.Arbitrary<T>, max: number) => fc.uniqueArray(a, { maxLength: max, selector: (x) => JSON.stringify(x) }).map((xs) => ['set', xs]);
const map = <K, V>(k: fc.Arbitrary<K>, v: fc.Arbitrary<V>, max: number) =>
  fc.uniqueArray(fc.tuple(k, v), { maxLength: max, selector: (p) => JSON.stringify(p[0]) }).map((ps) => ['map', ps]);

/** Values for a random subset of R's plain columns. */
const rColumns = fc.record(
  {
    i: fc.integer({ min: -5, max: 1000 }),
    r: real,
    b: fc.boolean(),
    u: uuid,
    opt: set(str, 1),
    color: set(fc.constantFrom('red', 'green', 'blue'), 1),
    tags: set(str, 5),
    few: fc.uniqueArray(fc.integer({ min: -2, max: 6 }), { minLength: 1, maxLength: 3 }).map((xs) => ['set', xs]),
    nums: set(fc.integer({ min: 0, max: 9 }), 4),
    kv: map(str, str, 4),
    iv: map(fc.integer({ min: -3, max: 3 }), real, 3),
    one: map(str, fc.integer(), 1),
    e: set(str, 2),
  },
  { requiredKeys: [] },
);

const name = fc.constantFrom(...NAMES);
const where = name.map((n) => [['name', '==', n]]);

const insertR = fc.tuple(name, rColumns, fc.boolean(), fc.boolean()).map(([n, row, withKid, selfWeak]) => {
  const ops: unknown[] = [];
  const full: Record<string, unknown> = { ...row, name: n };
  if (withKid) {
    full['kids'] = ['named-uuid', 'kid'];
    ops.push({ op: 'insert', table: 'C', 'uuid-name': 'kid', row: { n: 1, labels: ['map', [['x', n]]] } });
  }
  if (selfWeak) full['weak'] = ['named-uuid', 'me'];
  ops.push({ op: 'insert', table: 'R', 'uuid-name': 'me', row: full });
  return ops;
});
const updateR = fc.tuple(where, rColumns).map(([w, row]) => [{ op: 'update', table: 'R', where: w, row }]);
const mutateR = fc
  .tuple(
    where,
    fc.oneof(
      str.map((s) => ['tags', 'insert', ['set', [s]]]),
      str.map((s) => ['tags', 'delete', s]),
      fc.tuple(str, str).map(([k, v]) => ['kv', 'insert', ['map', [[k, v]]]]),
      str.map((k) => ['kv', 'delete', ['set', [k]]]),
      fc.integer({ min: -3, max: 3 }).map((k) => ['i', '+=', k]),
      fc.integer({ min: 0, max: 9 }).map((k) => ['nums', 'insert', k]),
    ),
  )
  .map(([w, m]) => [{ op: 'mutate', table: 'R', where: w, mutations: [m] }]);
const deleteR = where.map((w) => [{ op: 'delete', table: 'R', where: w }]);
const updateC = fc.tuple(fc.integer({ min: 1, max: 3 }), map(str, str, 3)).map(([n, labels]) => [
  { op: 'update', table: 'C', where: [['n', '==', 1]], row: { n, labels } },
]);
const clearKids = where.map((w) => [{ op: 'update', table: 'R', where: w, row: { kids: ['set', []] } }]);

/** One transaction: one to three operations. */
export const txnArb = fc
  .array(fc.oneof({ weight: 3, arbitrary: insertR }, { weight: 3, arbitrary: updateR }, { weight: 2, arbitrary: mutateR }, deleteR, updateC, clearKids), {
    minLength: 1,
    maxLength: 3,
  })
  // Each part's uuid-names ("me", "kid") get the part's index so parts do not collide.
  .map((parts) =>
    parts.flatMap((ops, k) => JSON.parse(JSON.stringify(ops).replace(/"(named-uuid|uuid-name)":?,?"(me|kid)"/g, (m) => m.replace(/"(me|kid)"$/, `"$1${k}"`))) as unknown[]),
  );

// --- real tools --------------------------------------------------------------------------

const SEARCH = [...(process.env['PATH'] ?? '').split(':').filter(Boolean), '/usr/sbin', '/usr/bin'];

export function findTool(name: string): string | undefined {
  for (const d of SEARCH) {
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

export const TOOLS = {
  tool: findTool('ovsdb-tool'),
  server: findTool('ovsdb-server'),
  client: findTool('ovsdb-client'),
  appctl: findTool('ovs-appctl'),
};
export const NO_OVSDB_TOOL = TOOLS.tool ? false : 'ovsdb-tool not found (install openvswitch-common to run interop tests)';
export const NO_OVSDB_SERVER =
  TOOLS.tool && TOOLS.server && TOOLS.client && TOOLS.appctl ? false : 'ovsdb-server/ovsdb-client/ovs-appctl not found (install openvswitch-switch)';

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program without blocking the event loop. */
export function run(cmd: string, args: readonly string[], opts: { cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(opts.cwd ? { cwd: opts.cwd } : {}) });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export async function runOk(cmd: string, args: readonly string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Everything `ovsdb-tool query` reads from a file, shaped like `dump()`. */
export async function toolDump(file: string, db: Database): Promise<Dump> {
  const ops = [...db.tables.keys()].map((table) => ({ op: 'select', table, where: [] }));
  const out = await runOk(TOOLS.tool!, ['query', file, JSON.stringify([db.name, ...ops])]);
  return resultsToDump(JSON.parse(out) as { rows: Record<string, unknown>[] }[], db);
}

/** Select results (all columns) → dump shape, dropping ephemeral columns and `_version`. */
export function resultsToDump(results: readonly { rows: Record<string, unknown>[] }[], db: Database): Dump {
  const out: Dump = {};
  [...db.tables.values()].forEach((td, k) => {
    const rows: Record<string, Record<string, unknown>> = {};
    for (const r of results[k]!.rows) {
      const o: Record<string, unknown> = {};
      for (const c of td.schema.columnList) if (!c.ephemeral) o[c.name] = r[c.name];
      rows[(r['_uuid'] as [string, string])[1]] = o;
    }
    out[td.schema.name] = rows;
  });
  return canonical(out) as Dump;
}

/**
 * For comparing with what OVS prints: set and map members sorted by their JSON text (OVS
 * orders strings by UTF-8 bytes, we by UTF-16), numbers at the 15 significant digits OVS
 * prints reals with.
 */
export function canonical(j: unknown): unknown {
  if (typeof j === 'number') return Number(j.toPrecision(15));
  if (Array.isArray(j)) {
    if ((j[0] === 'set' || j[0] === 'map') && Array.isArray(j[1])) {
      return [j[0], (j[1] as unknown[]).map(canonical).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))];
    }
    return j.map(canonical);
  }
  if (typeof j === 'object' && j !== null) return Object.fromEntries(Object.entries(j).map(([k, v]) => [k, canonical(v)]));
  return j;
}

export interface RealServer {
  readonly sock: string;
  transact(dbName: string, ops: readonly unknown[]): Promise<unknown[]>;
  appctl(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** Starts a real ovsdb-server on `file`, as a child of this process, in `dir`. */
export async function startRealServer(dir: string, file: string): Promise<RealServer> {
  const sock = join(dir, 'sock');
  const ctl = join(dir, 'ctl');
  const child: ChildProcess = spawn(
    TOOLS.server!,
    [file, `--remote=punix:${sock}`, '--no-chdir', `--pidfile=${join(dir, 'pid')}`, `--unixctl=${ctl}`, `--log-file=${join(dir, 'server.log')}`],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; i < 200 && !existsSync(sock); i++) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  if (!existsSync(sock)) {
    child.kill('SIGKILL');
    throw new Error('ovsdb-server did not start');
  }
  return {
    sock,
    async transact(dbName, ops) {
      return JSON.parse(await runOk(TOOLS.client!, ['transact', `unix:${sock}`, JSON.stringify([dbName, ...ops])])) as unknown[];
    },
    appctl: (...args) => runOk(TOOLS.appctl!, ['-t', ctl, ...args]),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid!, 'SIGTERM');
        await exited;
      }
    },
  };
}
