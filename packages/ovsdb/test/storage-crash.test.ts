import t from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabaseFile, loadDatabaseFile, openDatabaseFile } from '../src/index.js';
import { NO_OVSDB_TOOL, RICH_SCHEMA, canonical, dump, runOk, tempDir, toolDump, TOOLS } from './storage-helpers.js';

const CHILD = fileURLToPath(new URL('./storage-crash-child.js', import.meta.url));

interface Round {
  readonly acked: string[];
  readonly compactions: number;
}

/** Runs the writer child until `target` commits are acknowledged (plus a random delay), then SIGKILLs it. */
function crashRound(file: string, round: number, target: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, file, String(round)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: string[] = [];
    let partial = '';
    let stderr = '';
    let compactions = 0;
    let killing = false;
    child.stdout.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      acked.push(...lines);
      if (!killing && acked.length >= target) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 15));
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /compactions (\d+)\n(?![\s\S]*compactions)/.exec(stderr);
      if (m) compactions = Number(m[1]);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      // A line cut by the kill was never fully acknowledged; ignore it.
      if (signal !== 'SIGKILL') reject(new Error(`writer exited with ${code}: ${stderr}`));
      else resolve({ acked, compactions });
    });
  });
}

t.test('kill -9 while writing: every acknowledged commit survives', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'crash.db');
  await createDatabaseFile(file, RICH_SCHEMA);
  const everAcked: string[] = [];
  let compacted = 0;
  for (const [round, target] of [80, 400, 900, 250].entries()) {
    const r = await crashRound(file, round, target);
    t.ok(r.acked.length >= target, `round ${round}: ${r.acked.length} commits acknowledged before the kill`);
    everAcked.push(...r.acked);
    compacted += r.compactions;
    const { db, storage, warnings } = await openDatabaseFile(file, { compaction: false });
    await storage.close();
    const names = new Set([...db.table('R').rows.values()].map((row) => row.values[0]![0] as string));
    const missing = everAcked.filter((id) => !names.has(id));
    t.same(missing, [], `round ${round}: all acknowledged commits present${warnings.length ? ` (recovered: ${warnings.join('; ')})` : ''}`);
    const reloaded = await loadDatabaseFile(file);
    t.equal(reloaded.damage, null, `round ${round}: file valid after recovery`);
    if (!NO_OVSDB_TOOL) {
      await runOk(TOOLS.tool!, ['show-log', file]);
      t.same(await toolDump(file, db), canonical(dump(db)), `round ${round}: ovsdb-tool reads the same contents`);
    }
  }
  t.ok(compacted > 0, `automatic compactions ran during the rounds (${compacted})`);
});
