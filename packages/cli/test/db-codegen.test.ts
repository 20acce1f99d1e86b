// `ovnts db codegen`: prints the generator's module for a bundled schema or a schema file, or
// writes it with --out.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateModels, loadSchema } from '@ovnts/ovsdb';

const BIN = fileURLToPath(new URL('../../bin/ovnts.js', import.meta.url));
const ovnts = (...args: string[]): { status: number | null; stdout: string; stderr: string } => spawnSync(process.execPath, [BIN, 'db', ...args], { encoding: 'utf8' });

t.test('db codegen', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-codegen-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  const r = ovnts('codegen', 'ovn-sb');
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, generateModels(loadSchema('ovn-sb')), 'stdout: the module, importing @ovnts/ovsdb');

  const schema = join(dir, 'x.ovsschema');
  writeFileSync(schema, JSON.stringify({ name: 'X', version: '1.0.0', tables: { T: { columns: { a: { type: 'string' } } } } }));
  const out = join(dir, 'x.ts');
  const w = ovnts('codegen', schema, '--out', out, '--import-from', 'my-ovsdb');
  t.equal(w.status, 0, w.stderr);
  t.equal(w.stdout, '');
  const text = readFileSync(out, 'utf8');
  t.match(text, "import { defineModel, type Uuid } from 'my-ovsdb';");
  t.match(text, 'export interface T {');

  const bad = ovnts('codegen', join(dir, 'missing.ovsschema'));
  t.equal(bad.status, 1);
  t.match(bad.stderr, /not a schema file/);
});
