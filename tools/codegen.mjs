#!/usr/bin/env node
// Regenerates the bundled typed models in packages/ovsdb/src/models/ from the bundled schemas
// (run through `npm run codegen`, which builds first). With --check, only reports whether they
// are up to date (exit status 1 if not).
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const { bundledModelSources } = await import(join(root, 'packages/ovsdb/dist/src/codegen/bundled.js'));
const dir = join(root, 'packages/ovsdb/src/models');
const check = process.argv.includes('--check');
mkdirSync(dir, { recursive: true });
let stale = 0;
for (const [file, text] of bundledModelSources()) {
  const path = join(dir, file);
  if (existsSync(path) && readFileSync(path, 'utf8') === text) continue;
  stale++;
  if (check) console.log(`out of date: packages/ovsdb/src/models/${file}`);
  else {
    writeFileSync(path, text);
    console.log(`wrote packages/ovsdb/src/models/${file}`);
  }
}
if (check && stale) {
  console.log('run: npm run codegen');
  process.exit(1);
}
if (!stale) console.log('models are up to date');
