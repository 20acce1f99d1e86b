#!/usr/bin/env node
// OVSDB server benchmark: the same workloads against `ovnts db serve` and, when installed,
// real ovsdb-server, each as its own process with a file-backed NB database, driven by the
// same JSON-RPC client. Prints ops/s, latency percentiles, server RSS and the ratio.
//
//   node tools/bench/ovsdb.mjs [--only seq,conc,big,fanout,bulk] [--scale 0.1] [--runs 3] [--no-real] [--memory]
//                              [--variant NAME=NODE_FLAGS]... [--warmup mixed|classic]
//
// Each run starts fresh servers; figures are medians over the runs. Before measuring, every
// server gets the same warm-up (10,000 small transactions: see warmUp), so a JIT-compiled
// server is measured in its steady state, as a long-running one would be. OVNTS_NODE_FLAGS passes V8
// flags to the ovnts server process (e.g. --max-semi-space-size=32) for experiments;
// --variant runs one more ovnts server with other flags side by side in the same run (e.g.
// --variant semi4=--max-semi-space-size=4), which is the only fair way to compare flags here;
// a `cli:PATH` word in it runs another build's bin/ovnts.js instead (e.g. a checkout of the
// previous commit: --variant before=cli:/tmp/old/packages/cli/bin/ovnts.js).
//
// Columns: rate (txn/s, rows/s, commits/s, or load time), latency percentiles, the server's
// RSS at the end, its CPU time during the workload (all threads: V8 also compiles and
// collects garbage on helper threads), and ratios against the real server: "ratio" compares
// rates (for bulk, load times), "p50 ratio" compares typical latency (real p50 / ovnts p50,
// so above 1 means ovnts is faster), which the machine's scheduling noise disturbs far less.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonRpcConnection, connectStream, bundledSchemaPath } from '@ovnts/ovsdb';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  const text = readFileSync(new URL(import.meta.url), 'utf8').split('\n');
  console.log(text.slice(1, text.findIndex((l) => l.startsWith('import'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
/** Extra ovnts configurations: NAME=FLAGS, each its own server; a cli:PATH word picks another build. */
const variants = new Map();
const variantCli = new Map();
for (const v of args.flatMap((a, i) => (a === '--variant' && args[i + 1] ? [args[i + 1]] : []))) {
  const eq = v.indexOf('=');
  if (eq <= 0) throw new Error(`--variant ${v}: expected NAME=NODE_FLAGS`);
  const name = v.slice(0, eq);
  const words = v.slice(eq + 1).split(' ').filter(Boolean);
  const cli = words.find((w) => w.startsWith('cli:'));
  if (cli) variantCli.set(name, cli.slice(4));
  variants.set(name, words.filter((w) => !w.startsWith('cli:')));
}
const only = opt('only', 'seq,conc,big,fanout,bulk').split(',');
const scale = Number(opt('scale', '1'));
const withReal = !args.includes('--no-real');
const runs = Number(opt('runs', '1'));
const warmupKind = opt('warmup', 'mixed');
if (warmupKind !== 'mixed' && warmupKind !== 'classic') throw new Error('--warmup: mixed or classic');
const inMemory = args.includes('--memory'); // ovnts without its file storage, to see what storage costs
const root = new URL('../..', import.meta.url).pathname;
const NB = bundledSchemaPath('ovn-nb');

function findTool(name) {
  for (const d of ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']) if (existsSync(join(d, name))) return join(d, name);
  return undefined;
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/** CPU time (ms) of every thread of a process, from the scheduler's nanosecond counters. */
function cpuMs(pid) {
  let ns = 0;
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        /* thread exited */
      }
    }
  } catch {
    return NaN;
  }
  return ns / 1e6;
}

function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

async function waitForSocket(path, ms = 10000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (existsSync(path)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`server did not create ${path}`);
}

/** Starts one server implementation on a fresh NB file; returns {remote, pid, stop}. */
async function startServer(kind) {
  const variantFlags = variants.get(kind);
  const dir = mkdtempSync(join(tmpdir(), `bench-${kind}-`));
  const db = join(dir, 'nb.db');
  const sock = join(dir, 'db.sock');
  let child;
  if (kind === 'real') {
    execFileSync(findTool('ovsdb-tool'), ['create', db, NB]);
    child = spawn(findTool('ovsdb-server'), [db, `--remote=punix:${sock}`, '--no-chdir', `--unixctl=${join(dir, 'ctl')}`, '-vconsole:off'], { stdio: 'ignore' });
  } else {
    const cli = variantCli.get(kind) ?? join(root, 'packages/cli/bin/ovnts.js');
    if (!inMemory) execFileSync(process.execPath, [cli, 'db', 'create', db, 'ovn-nb']);
    const what = inMemory ? ['--in-memory', 'ovn-nb'] : [db];
    const nodeFlags = variantFlags ?? (process.env.OVNTS_NODE_FLAGS ?? '').split(' ').filter(Boolean);
    child = spawn(process.execPath, [...nodeFlags, cli, 'db', 'serve', ...what, '--remote', `punix:${sock}`], { stdio: 'ignore' });
  }
  await waitForSocket(sock);
  return {
    remote: `unix:${sock}`,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function connect(remote) {
  // A server creates its socket file (bind) a moment before it listens: retry a refused connect.
  for (let attempt = 0; ; attempt++) {
    try {
      return new JsonRpcConnection(await connectStream(remote));
    } catch (e) {
      if (attempt >= 50 || !/ECONNREFUSED|ENOENT/.test(e.message)) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

const insertSwitch = (name) => ['OVN_Northbound', { op: 'insert', table: 'Logical_Switch', row: { name } }];

async function seq(srv) {
  const c = await connect(srv.remote);
  const n = Math.round(2000 * scale);
  const lat = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await c.request('transact', insertSwitch(`seq${i}`));
    lat.push(performance.now() - s);
  }
  const secs = (performance.now() - t0) / 1000;
  c.close();
  lat.sort((a, b) => a - b);
  return { rate: n / secs, unit: 'txn/s', p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

async function conc(srv) {
  const clients = await Promise.all(Array.from({ length: 8 }, () => connect(srv.remote)));
  const per = Math.round(1000 * scale);
  const lat = [];
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (c, k) => {
      for (let i = 0; i < per; i++) {
        const s = performance.now();
        await c.request('transact', insertSwitch(`c${k}-${i}`));
        lat.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  for (const c of clients) c.close();
  lat.sort((a, b) => a - b);
  return { rate: (8 * per) / secs, unit: 'txn/s', p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

function switchWithPorts(name, nPorts) {
  const ops = [];
  const refs = [];
  for (let p = 0; p < nPorts; p++) {
    ops.push({ op: 'insert', table: 'Logical_Switch_Port', 'uuid-name': `p${p}`, row: { name: `${name}-p${p}`, addresses: `00:00:00:${((p >> 8) & 255).toString(16).padStart(2, '0')}:${(p & 255).toString(16).padStart(2, '0')}:01 10.0.${p >> 8}.${p & 255}` } });
    refs.push(['named-uuid', `p${p}`]);
  }
  ops.unshift({ op: 'insert', table: 'Logical_Switch', row: { name, ports: ['set', refs] } });
  return ops;
}

async function big(srv) {
  const c = await connect(srv.remote);
  const n = Math.max(1, Math.round(20 * scale));
  const lat = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    const r = await c.request('transact', ['OVN_Northbound', ...switchWithPorts(`big${i}`, 1000)]);
    if (r.some((x) => x && x.error)) throw new Error(JSON.stringify(r.find((x) => x && x.error)));
    lat.push(performance.now() - s);
  }
  const secs = (performance.now() - t0) / 1000;
  c.close();
  lat.sort((a, b) => a - b);
  return { rate: (n * 1001) / secs, unit: 'rows/s', p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

async function fanout(srv) {
  const nMon = 50;
  const commits = Math.round(200 * scale);
  const monitors = await Promise.all(Array.from({ length: nMon }, () => connect(srv.remote)));
  let pending = 0;
  let resolveRound;
  for (const [i, m] of monitors.entries()) {
    m.on('request', (req) => {
      if (req.method === 'update2' && --pending === 0) resolveRound();
    });
    await m.request('monitor_cond', ['OVN_Northbound', `m${i}`, { Logical_Switch: [{ columns: ['name', 'external_ids'] }] }]);
  }
  const w = await connect(srv.remote);
  const lat = [];
  const t0 = performance.now();
  for (let i = 0; i < commits; i++) {
    pending = nMon;
    const round = new Promise((r) => (resolveRound = r));
    const s = performance.now();
    await w.request('transact', insertSwitch(`fan${i}`));
    await round;
    lat.push(performance.now() - s);
  }
  const secs = (performance.now() - t0) / 1000;
  w.close();
  for (const m of monitors) m.close();
  lat.sort((a, b) => a - b);
  return { rate: commits / secs, unit: 'commits/s', p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

async function bulk(srv) {
  const c = await connect(srv.remote);
  const nSwitch = Math.round(1000 * scale);
  const nRouter = Math.round(100 * scale);
  const nAcl = Math.round(5000 * scale);
  const rssBefore = rssKb(srv.pid);
  const t0 = performance.now();
  // Switches with 10 ports each, 50 switches per transaction.
  for (let s = 0; s < nSwitch; s += 50) {
    const ops = [];
    for (let k = s; k < Math.min(nSwitch, s + 50); k++) {
      const sw = switchWithPorts(`ls${k}`, 10).map((op) => (op['uuid-name'] ? { ...op, 'uuid-name': `${op['uuid-name']}_${k}` } : op));
      sw[0] = { ...sw[0], row: { ...sw[0].row, ports: ['set', sw[0].row.ports[1].map((r) => ['named-uuid', `${r[1]}_${k}`])] } };
      ops.push(...sw);
    }
    await c.request('transact', ['OVN_Northbound', ...ops]);
  }
  for (let r = 0; r < nRouter; r++) {
    const ops = [];
    const refs = [];
    for (let p = 0; p < 10; p++) {
      ops.push({ op: 'insert', table: 'Logical_Router_Port', 'uuid-name': `rp${p}`, row: { name: `lr${r}-p${p}`, mac: `00:00:01:00:${r.toString(16).padStart(2, '0')}:${p.toString(16).padStart(2, '0')}`, networks: `10.${r}.${p}.1/24` } });
      refs.push(['named-uuid', `rp${p}`]);
    }
    ops.push({ op: 'insert', table: 'Logical_Router', row: { name: `lr${r}`, ports: ['set', refs] } });
    await c.request('transact', ['OVN_Northbound', ...ops]);
  }
  // ACLs attached to port groups: 100 groups with 50 ACLs each.
  const groups = Math.max(1, Math.round(nAcl / 50));
  for (let g = 0; g < groups; g++) {
    const ops = [];
    const refs = [];
    for (let a = 0; a < 50; a++) {
      ops.push({ op: 'insert', table: 'ACL', 'uuid-name': `a${a}`, row: { priority: 1000 + a, direction: a % 2 ? 'to-lport' : 'from-lport', match: `ip4.src == 10.${g}.${a}.0/24 && tcp.dst == ${1000 + a}`, action: 'allow-related' } });
      refs.push(['named-uuid', `a${a}`]);
    }
    ops.push({ op: 'insert', table: 'Port_Group', row: { name: `pg${g}`, acls: ['set', refs] } });
    await c.request('transact', ['OVN_Northbound', ...ops]);
  }
  const ms = performance.now() - t0;
  const rss = rssKb(srv.pid);
  c.close();
  return { rate: ms, unit: 'ms load', p50: NaN, p99: NaN, rssMb: rss / 1024, rssBeforeMb: rssBefore / 1024 };
}

/**
 * The same 10,000 small transactions for every server. "mixed" (the default): half are a
 * switch with two ports inserted and deleted again on one connection, half single-row
 * inserts and deletes from 8 connections at once, so the request shapes and connection
 * handling the workloads use have all run before measuring, as in a long-running server.
 * "classic" (--warmup classic, what earlier runs in docs/performance.md used): only the first kind.
 */
async function warmUp(srv) {
  const classic = warmupKind === 'classic';
  const c = await connect(srv.remote);
  const pairs = classic ? 5000 : 2500;
  for (let i = 0; i < pairs; i++) {
    await c.request('transact', ['OVN_Northbound', ...switchWithPorts(`warm${i}`, 2)]);
    await c.request('transact', ['OVN_Northbound', { op: 'delete', table: 'Logical_Switch', where: [['name', '==', `warm${i}`]] }]);
  }
  c.close();
  if (classic) return;
  const clients = await Promise.all(Array.from({ length: 8 }, () => connect(srv.remote)));
  await Promise.all(
    clients.map(async (k, n) => {
      for (let i = 0; i < 2500 / 8; i++) {
        await k.request('transact', insertSwitch(`warm-${n}-${i}`));
        await k.request('transact', ['OVN_Northbound', { op: 'delete', table: 'Logical_Switch', where: [['name', '==', `warm-${n}-${i}`]] }]);
      }
    }),
  );
  for (const k of clients) k.close();
}

const median = (xs) => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
};

const workloads = { seq, conc, big, fanout, bulk };
const realAvailable = withReal && findTool('ovsdb-server') && findTool('ovsdb-tool');
if (withReal && !realAvailable) console.log('real ovsdb-server not installed: running ovnts only');
const kinds = ['ovnts', ...variants.keys(), ...(realAvailable ? ['real'] : [])];

console.log(`OVSDB benchmark (scale ${scale}, median of ${runs} run${runs > 1 ? 's' : ''}, Node ${process.version})`);
for (const [v, flags] of variants) console.log(`variant ${v}: ${variantCli.get(v) ?? 'ovnts'}${flags.length ? ` with node ${flags.join(' ')}` : ''}`);
console.log('workload  | impl   |                 rate | p50 ms | p99 ms | server RSS MB | server CPU ms | ratio        | p50 ratio');
for (const name of only) {
  const samples = {};
  for (let run = 0; run < runs; run++) {
    for (const kind of kinds) {
      const srv = await startServer(kind);
      try {
        await warmUp(srv);
        const cpu0 = cpuMs(srv.pid);
        const r = await workloads[name](srv);
        r.cpuMs = cpuMs(srv.pid) - cpu0;
        r.rssMb ??= rssKb(srv.pid) / 1024;
        (samples[kind] ??= []).push(r);
      } finally {
        await srv.stop();
      }
    }
  }
  const results = {};
  for (const [kind, rs] of Object.entries(samples)) {
    const med = (k) => median(rs.map((r) => r[k]));
    results[kind] = { unit: rs[0].unit, rate: med('rate'), p50: med('p50'), p99: med('p99'), rssMb: med('rssMb'), cpuMs: med('cpuMs') };
  }
  for (const [kind, r] of Object.entries(results)) {
    let ratio = '';
    let p50ratio = '';
    if (kind !== 'real' && results.real) {
      ratio = r.unit === 'ms load' ? `${fmt(results.real.rate / r.rate, 2)}x faster` : `${fmt(r.rate / results.real.rate, 2)}x`;
      if (!Number.isNaN(r.p50)) p50ratio = `${fmt(results.real.p50 / r.p50, 2)}x`;
    }
    const rate = r.unit === 'ms load' ? `${fmt(r.rate)} ms` : `${fmt(r.rate)} ${r.unit}`;
    console.log(
      `${name.padEnd(9)} | ${kind.padEnd(6)} | ${rate.padStart(20)} | ${Number.isNaN(r.p50) ? '     -' : fmt(r.p50, 3).padStart(6)} | ${Number.isNaN(r.p99) ? '     -' : fmt(r.p99, 3).padStart(6)} | ${fmt(r.rssMb, 1).padStart(13)} | ${fmt(r.cpuMs).padStart(13)} | ${ratio.padEnd(12)} | ${p50ratio}`,
    );
  }
}
