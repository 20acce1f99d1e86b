#!/usr/bin/env node
// Runs every compiled test file with tap and ends with the line "N passed, M failed[, K skipped]".
// Tests are compiled by `tsc -b` first (npm test does that), so tap runs plain JS: fast, no loader.
import { spawn } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const files = [];
function collect(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) collect(p);
    else if (name.endsWith('.test.js')) files.push(p.slice(root.length));
  }
}
for (const pkg of readdirSync(join(root, 'packages'))) collect(join(root, 'packages', pkg, 'dist', 'test'));
collect(join(root, 'test', 'dist'));
const only = process.argv.slice(2);
const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;
if (selected.length === 0) {
  console.log('no test files found');
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const tap = spawn(
  process.execPath,
  [join(root, 'node_modules', 'tap', 'dist', 'esm', 'run.mjs'), '--disable-coverage', '--reporter=tap', '--jobs=2', '--timeout=300', ...selected],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
);
let tail = '';
tap.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString()).slice(-4000);
});
tap.on('close', (code) => {
  const m = /# \{ ([^}]*) \}/.exec(tail);
  const counts = { total: 0, pass: 0, fail: 0, skip: 0, todo: 0 };
  if (m) for (const part of m[1].split(',')) {
    const [k, v] = part.split(':').map((s) => s.trim());
    if (k in counts) counts[k] = Number(v);
  }
  const failed = counts.fail + (code !== 0 && counts.fail === 0 ? 1 : 0);
  console.log(`${counts.pass} passed, ${failed} failed${counts.skip ? `, ${counts.skip} skipped` : ''}`);
  process.exit(code ?? 1);
});
