#!/usr/bin/env node
// Operator CLIs, beside the real tools, against the same real ovsdb-server (or an ovnts server
// with --ovnts-server):
//
//  1. start-to-exit time of one invocation (`ovnts nbctl` vs ovn-nbctl; median and p90 of
//     --runs, default 11; `node -e 0` as the floor of any Node program). --cli PATH times
//     another build's bin/ovnts.js as well (e.g. a checkout of an older commit), runs
//     interleaved with the current one so that both see the same machine load;
//  2. daemon mode (--daemon-n N, default 1000; 0 skips it): N `lsp-add` one after another,
//     as a shell loop issues them, through an `ovn-nbctl --detach` daemon and through an
//     `ovnts nbctl --detach` daemon, with each client; and the daemons alone, driven over
//     their control socket by one connection sending the same N "run" requests in turn.
//
//   node tools/bench/cli.mjs [--runs 11] [--daemon-n 1000] [--cli PATH] [--ovnts-server]
import { spawn, execFileSync, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const runs = Number(opt('--runs', 11)) || 11;
const daemonN = Number(opt('--daemon-n', 1000));
const root = new URL('../..', import.meta.url).pathname;
const cli = join(root, 'packages/cli/bin/ovnts.js');
const otherCli = opt('--cli', undefined);
const tool = (name) => ['/usr/sbin', '/usr/bin'].map((d) => join(d, name)).find((p) => existsSync(p));

const dir = mkdtempSync(join(tmpdir(), 'bench-cli-'));
const env = { ...process.env, OVN_RUNDIR: dir, OVS_RUNDIR: dir, OVN_LOGDIR: dir };
delete env.OVN_NB_DAEMON;
const children = [];

/** A Northbound server (real unless --ovnts-server or none installed) on a fresh database. */
async function startServer(name) {
  const sock = join(dir, `${name}.sock`);
  let server;
  if (args.includes('--ovnts-server') || !tool('ovsdb-server')) {
    server = spawn(process.execPath, [cli, 'db', 'serve', '--in-memory', 'ovn-nb', '--remote', `punix:${sock}`], { stdio: 'ignore' });
  } else {
    execFileSync(tool('ovsdb-tool'), ['create', join(dir, `${name}.db`), join(root, 'packages/ovsdb/schemas/ovn-nb.ovsschema')]);
    server = spawn(tool('ovsdb-server'), [join(dir, `${name}.db`), `--remote=punix:${sock}`, '--no-chdir', `--unixctl=${join(dir, `${name}.ctl`)}`, '-vconsole:off'], { stdio: 'ignore' });
  }
  children.push(server);
  for (let i = 0; i < 400 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 25));
  return `unix:${sock}`;
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: s[Math.floor((s.length - 1) / 2)], p90: s[Math.floor(s.length * 0.9)] };
};

/**
 * One run: wall-clock ms, and CPU ms (user + system of the command, from bash's `times`): on
 * a shared, loaded machine CPU time is the steadier measure; wall-clock is what users feel
 * (it includes bash's start, ~2 ms, for every implementation alike).
 */
const bash = existsSync('/bin/bash') ? '/bin/bash' : undefined;
async function once(cmd, argv, e = env) {
  const t = performance.now();
  if (!bash) {
    await run(cmd, argv, { env: e });
    return { wall: performance.now() - t, cpu: NaN };
  }
  const { stdout } = await run(bash, ['-c', '"$@" >/dev/null; times', 'bench', cmd, ...argv], { env: e });
  const wall = performance.now() - t;
  const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(stdout);
  return { wall, cpu: m ? (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000 : NaN };
}

const remote = await startServer('nb');
const db = `--db=${remote}`;
await run(process.execPath, [cli, 'nbctl', db, 'ls-add', 'sw0'], { env });

// --- 1. one invocation ---------------------------------------------------------------------
console.log(`CLI start-to-exit, ${runs} runs each, interleaved (ms; CPU = user + system)`);
console.log('command                 | impl          | wall p50 | wall p90 | CPU p50 | vs real (CPU)');
const nbctl = tool('ovn-nbctl');
let daemonSocket;
if (nbctl) daemonSocket = (await run(process.execPath, [cli, 'nbctl', db, '--detach', `--pidfile=${join(dir, 'startup-daemon.pid')}`], { env })).stdout.trim();
const cases = [
  ['ls-list', ['ls-list']],
  ['lsp-add + lsp-del', ['lsp-add', 'sw0', 'p1', '--', 'lsp-del', 'p1']],
  ['show', ['show']],
];
for (const [label, cmdArgs] of cases) {
  const impls = [['ovnts', () => once(process.execPath, [cli, 'nbctl', db, ...cmdArgs])]];
  if (otherCli) impls.push(['ovnts (--cli)', () => once(process.execPath, [otherCli, 'nbctl', db, ...cmdArgs])]);
  if (daemonSocket && label === 'ls-list') impls.push(['ovnts→daemon', () => once(process.execPath, [cli, 'nbctl', ...cmdArgs], { ...env, OVN_NB_DAEMON: daemonSocket })]);
  if (nbctl) impls.push(['real', () => once(nbctl, [db, ...cmdArgs])]);
  impls.push(['node -e 0', () => once(process.execPath, ['-e', '0'])]);
  const times = impls.map(() => []);
  for (let i = 0; i < runs; i++) for (let k = 0; k < impls.length; k++) times[k].push(await impls[k][1]());
  const cpuOf = (k) => stats(times[k].map((x) => x.cpu));
  const realK = impls.findIndex(([n]) => n === 'real');
  const real = realK >= 0 ? cpuOf(realK) : undefined;
  impls.forEach(([name], k) => {
    const w = stats(times[k].map((x) => x.wall));
    const c = cpuOf(k);
    const ratio = real && name !== 'real' ? `${(c.p50 / real.p50).toFixed(1)}x` : '';
    console.log(`${label.padEnd(23)} | ${name.padEnd(13)} | ${w.p50.toFixed(0).padStart(8)} | ${w.p90.toFixed(0).padStart(8)} | ${c.p50.toFixed(0).padStart(7)} | ${ratio}`);
  });
}
if (daemonSocket) await unixctl(daemonSocket, 'exit', []).catch(() => undefined);

// --- 2. daemon mode ------------------------------------------------------------------------
/** One unixctl request over a fresh connection; resolves with the reply. */
function unixctl(path, method, params) {
  return new Promise((resolve, reject) => {
    const s = connect(path, () => s.write(JSON.stringify({ id: 0, method, params })));
    let buf = '';
    s.setEncoding('utf8').on('data', (d) => {
      buf += d;
      try {
        const m = JSON.parse(buf);
        s.end();
        resolve(m);
      } catch {
        /* more to come */
      }
    });
    s.on('error', reject);
  });
}

/** N run requests over one connection, each sent when the previous one was answered. */
function drive(path, lines) {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    let buf = '';
    let i = 0;
    let errors = 0;
    const next = () => {
      if (i === lines.length) {
        s.end();
        resolve(errors);
        return;
      }
      s.write(JSON.stringify({ id: i, method: 'run', params: ['--', ...lines[i++]] }));
    };
    s.setEncoding('utf8').on('data', (d) => {
      buf += d;
      let m;
      try {
        m = JSON.parse(buf);
      } catch {
        return;
      }
      buf = '';
      if (m.error) errors++;
      next();
    });
    s.on('connect', next);
    s.on('error', reject);
  });
}

async function startDaemon(ours, remoteOf, name) {
  const [cmd, pre] = ours ? [process.execPath, [cli, 'nbctl']] : [nbctl, []];
  const { stdout } = await run(cmd, [...pre, `--db=${remoteOf}`, '--detach', `--pidfile=${join(dir, `${name}.pid`)}`, '--no-chdir'], { env });
  return stdout.trim();
}

if (daemonN > 0 && nbctl) {
  console.log(`\nDaemon mode: ${daemonN} × "lsp-add sw0 pN" one after another, each on a fresh database (commands/s)`);
  console.log('client        | daemon        |   cmds/s | total s');
  const configs = [
    ['ovn-nbctl', 'ovn-nbctl', false, false],
    ['ovn-nbctl', 'ovnts', false, true],
    ['ovnts', 'ovnts', true, true],
    ['ovnts', 'ovn-nbctl', true, false],
    ['(socket)', 'ovn-nbctl', null, false],
    ['(socket)', 'ovnts', null, true],
  ];
  let k = 0;
  for (const [clientName, daemonName, clientOurs, daemonOurs] of configs) {
    const r = await startServer(`daemon-${k}`);
    await run(nbctl, [`--db=${r}`, 'ls-add', 'sw0'], { env });
    const sock = await startDaemon(daemonOurs, r, `daemon-${k++}`);
    const lines = Array.from({ length: daemonN }, (_, i) => ['lsp-add', 'sw0', `p${i}`]);
    const t = performance.now();
    if (clientOurs === null) {
      const errors = await drive(sock, lines);
      if (errors) console.log(`  (${errors} errors)`);
    } else {
      const [cmd, pre] = clientOurs ? [process.execPath, [cli, 'nbctl']] : [nbctl, []];
      for (const l of lines) await run(cmd, [...pre, ...l], { env: { ...env, OVN_NB_DAEMON: sock } });
    }
    const s = (performance.now() - t) / 1000;
    const check = await run(nbctl, [`--db=${r}`, 'lsp-list', 'sw0'], { env });
    const n = check.stdout.split('\n').filter(Boolean).length;
    console.log(`${clientName.padEnd(13)} | ${daemonName.padEnd(13)} | ${(daemonN / s).toFixed(0).padStart(8)} | ${s.toFixed(1).padStart(7)}${n === daemonN ? '' : `  (${n} ports!)`}`);
    await unixctl(sock, 'exit', []).catch(() => undefined);
  }
}

for (const c of children) c.kill('SIGTERM');
await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r)))));
rmSync(dir, { recursive: true, force: true });
