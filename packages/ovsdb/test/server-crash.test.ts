// kill -9 of a serving process: every transaction whose reply a client received is in the
// file afterwards, although many clients' commits were written together (group commit) and
// automatic compactions ran meanwhile.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JsonRpcConnection, bundledSchemaPath, connectStream, createDatabaseFile, loadDatabaseFile, openDatabaseFile } from '../src/index.js';
import { NO_OVSDB_TOOL, runOk, tempDir, TOOLS } from './storage-helpers.js';

const CHILD = fileURLToPath(new URL('./server-crash-child.js', import.meta.url));
const NB = 'OVN_Northbound';

function startServer(file: string, sock: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, file, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.on('error', reject);
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve(child);
    });
    child.on('exit', (code, signal) => reject(new Error(`server exited early (${code ?? signal})`)));
  });
}

/**
 * Clients keep transactions in flight against the server until `target` have been
 * acknowledged (plus a random moment), then the server is SIGKILLed. Returns what was acked.
 */
async function crashRound(file: string, sock: string, round: number, target: number): Promise<string[]> {
  const child = await startServer(file, sock);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const acked: string[] = [];
  let killing = false;
  const clients = 4;
  const inFlight = 8;
  const conns = await Promise.all(Array.from({ length: clients }, async () => new JsonRpcConnection(await connectStream(`unix:${sock}`))));
  await Promise.all(
    conns.map(async (c, k) => {
      let i = 0;
      const one = async (): Promise<void> => {
        while (!killing) {
          const name = `r${round}-c${k}-${i++}`;
          const ops: unknown[] = [{ op: 'insert', table: 'Logical_Switch', row: { name, external_ids: ['map', [['payload', 'p'.repeat(i % 200)]]] } }];
          if (i % 4 === 0) ops.push({ op: 'commit', durable: true });
          try {
            const r = (await c.request('transact', [NB, ...ops])) as { error?: string }[];
            if (r.some((x) => x?.error)) throw new Error(`${name}: ${JSON.stringify(r)}`);
          } catch (e) {
            if (killing) return; // the connection died with the server
            throw e;
          }
          acked.push(name);
          if (!killing && acked.length >= target) {
            killing = true;
            setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 15));
          }
        }
      };
      await Promise.all(Array.from({ length: inFlight }, one));
    }),
  );
  await exited;
  for (const c of conns) c.close();
  return acked;
}

t.test('kill -9 of the server: every acknowledged transaction survives', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'nb.db');
  const sock = join(dir, 'db.sock');
  await createDatabaseFile(file, readFileSync(bundledSchemaPath('ovn-nb'), 'utf8'));
  const everAcked: string[] = [];
  for (const [round, target] of [300, 1500, 800].entries()) {
    const acked = await crashRound(file, sock, round, target);
    t.ok(acked.length >= target, `round ${round}: ${acked.length} transactions acknowledged before the kill`);
    everAcked.push(...acked);
    const { db, storage, warnings } = await openDatabaseFile(file, { compaction: false });
    await storage.close();
    const names = new Set([...db.table('Logical_Switch').rows.values()].map((row) => row.values[db.schema.tables.get('Logical_Switch')!.columns.get('name')!.index]![0] as string));
    const missing = everAcked.filter((n) => !names.has(n));
    t.same(missing, [], `round ${round}: all acknowledged transactions present${warnings.length ? ` (recovered: ${warnings.join('; ')})` : ''}`);
    t.equal((await loadDatabaseFile(file)).damage, null, `round ${round}: file valid after recovery`);
    if (!NO_OVSDB_TOOL) await runOk(TOOLS.tool!, ['show-log', file]);
  }
});
