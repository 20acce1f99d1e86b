#!/usr/bin/env node
// CLI start-to-exit time: `ovnts nbctl|vsctl` beside ovn-nbctl/ovs-vsctl for the same command
// against the same real ovsdb-server (or an ovnts server with --ovnts-server). Prints the
// median, p90 and the ratio over N runs of each.
//
//   node tools/bench/cli.mjs [--runs 21] [--ovnts-server]
import { spawn, execFileSync, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] || 21) || 21;
const root = new URL('../..', import.meta.url).pathname;
const cli = join(root, 'packages/cli/bin/ovnts.js');
const tool = (name) => ['/usr/sbin', '/usr/bin'].map((d) => join(d, name)).find((p) => existsSync(p));

const dir = mkdtempSync(join(tmpdir(), 'bench-cli-'));
const sock = join(dir, 'db.sock');
let server;
if (args.includes('--ovnts-server') || !tool('ovsdb-server')) {
  server = spawn(process.execPath, [cli, 'db', 'serve', '--in-memory', 'ovn-nb', '--remote', `punix:${sock}`], { stdio: 'ignore' });
} else {
  execFileSync(tool('ovsdb-tool'), ['create', join(dir, 'nb.db'), join(root, 'packages/ovsdb/schemas/ovn-nb.ovsschema')]);
  server = spawn(tool('ovsdb-server'), [join(dir, 'nb.db'), `--remote=punix:${sock}`, '--no-chdir', `--unixctl=${join(dir, 'ctl')}`, '-vconsole:off'], { stdio: 'ignore' });
}
for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 25));
const db = `--db=unix:${sock}`;
await run(process.execPath, [cli, 'nbctl', db, 'ls-add', 'sw0']);

async function time(cmd, argv) {
  const xs = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await run(cmd, argv);
    xs.push(performance.now() - t);
  }
  xs.sort((a, b) => a - b);
  return { p50: xs[Math.floor(xs.length / 2)], p90: xs[Math.floor(xs.length * 0.9)] };
}

console.log(`CLI start-to-exit, ${runs} runs each (ms)`);
console.log('command                 | impl   |   p50 |   p90 | ratio');
const cases = [
  ['ls-list', ['ls-list']],
  ['lsp-add + del', ['lsp-add', 'sw0', 'p1', '--', 'lsp-del', 'p1']],
  ['show', ['show']],
];
for (const [label, cmdArgs] of cases) {
  const ours = await time(process.execPath, [cli, 'nbctl', db, ...cmdArgs]);
  const nbctl = tool('ovn-nbctl');
  const real = nbctl ? await time(nbctl, [db, ...cmdArgs]) : undefined;
  const row = (impl, r, ratio = '') => console.log(`${label.padEnd(23)} | ${impl.padEnd(6)} | ${r.p50.toFixed(0).padStart(5)} | ${r.p90.toFixed(0).padStart(5)} | ${ratio}`);
  row('ovnts', ours, real ? `${(ours.p50 / real.p50).toFixed(1)}x slower` : '');
  if (real) row('real', real);
}
const bare = await time(process.execPath, ['-e', '0']);
console.log(`(node -e 0 alone: p50 ${bare.p50.toFixed(0)} ms: the floor for any Node CLI)`);
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
rmSync(dir, { recursive: true, force: true });
