// `ovnts db` end to end, as a user runs it: create a file, serve it, write and read through
// the CLI, stop the server by PID, convert the file offline, and read it with real ovsdb-tool.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../../bin/ovnts.js', import.meta.url));
const ovnts = (...args: string[]) => run(process.execPath, [cli, ...args], { timeout: 20_000 });

async function waitFor(path: string): Promise<void> {
  for (let i = 0; i < 200 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 25));
  if (!existsSync(path)) throw new Error(`${path} did not appear`);
}

t.test('create, serve, transact, query, stop, convert', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-dbcli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'nb.db');
  const sock = join(dir, 'db.sock');
  await ovnts('db', 'create', db, 'ovn-nb');
  const again = await ovnts('db', 'create', db, 'ovn-nb').catch((e: { stderr: string; code: number }) => e);
  t.match((again as { stderr: string }).stderr, /file already exists/, 'create refuses to overwrite');

  const server = spawn(process.execPath, [cli, 'db', 'serve', db, '--remote', `punix:${sock}`, '--pidfile', join(dir, 'pid')], { stdio: 'ignore' });
  t.teardown(() => {
    if (server.exitCode === null) server.kill('SIGKILL');
  });
  await waitFor(join(dir, 'pid'));
  await waitFor(sock);
  const ins = await ovnts('db', 'transact', `unix:${sock}`, '["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"sw0"}}]');
  t.match(JSON.parse(ins.stdout), [{ uuid: ['uuid', /^[0-9a-f-]{36}$/] }]);
  const q = await ovnts('db', 'query', `unix:${sock}`, '["OVN_Northbound",{"op":"select","table":"Logical_Switch","where":[],"columns":["name"]}]');
  t.same(JSON.parse(q.stdout), [{ rows: [{ name: 'sw0' }] }]);
  const bad = await ovnts('db', 'transact', `unix:${sock}`, '["OVN_Northbound",{"op":"insert","table":"Nope","row":{}}]').catch((e: { code: number; stdout: string }) => e);
  t.equal((bad as { code: number }).code, 1, 'a failed operation gives exit status 1');
  t.equal(readFileSync(join(dir, 'pid'), 'utf8').trim(), String(server.pid));
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  t.notOk(existsSync(join(dir, 'pid')), 'pidfile removed on exit');

  // Offline conversion to a schema with one more column keeps the data.
  const schema = JSON.parse(readFileSync(fileURLToPath(new URL('../../../ovsdb/schemas/ovn-nb.ovsschema', import.meta.url)), 'utf8'));
  schema.version = '7.0.1';
  schema.tables.Logical_Switch.columns.note = { type: { key: 'string', min: 0, max: 1 } };
  writeFileSync(join(dir, 'nb2.ovsschema'), JSON.stringify(schema));
  await ovnts('db', 'convert', db, join(dir, 'nb2.ovsschema'));
  const tool = ['/usr/bin/ovsdb-tool'].find((p) => existsSync(p));
  if (!tool) {
    t.comment('ovsdb-tool not installed: skipping the real-tool read-back');
    return;
  }
  const version = await run(tool, ['db-version', db]);
  t.equal(version.stdout.trim(), '7.0.1');
  const rows = await run(tool, ['query', db, '["OVN_Northbound",{"op":"select","table":"Logical_Switch","where":[],"columns":["name","note"]}]']);
  t.same(JSON.parse(rows.stdout), [{ rows: [{ name: 'sw0', note: ['set', []] }] }], 'real ovsdb-tool reads the converted file');
});
