// The server's write path on a database file: a transaction's reply leaves only once its
// record is in the file (and synced, for a durable commit), while many clients' commits share
// log writes; replies keep request order; a client's own update arrives before its reply.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { JsonRpcConnection, OvsdbServer, bundledSchemaPath, connectStream, createDatabaseFile, openDatabaseFile, setLogLevel, type JsonRpcRequest } from '../src/index.js';

setLogLevel('off');

const NB = 'OVN_Northbound';

t.test('replies wait for the log (and the sync, if durable); commits share writes; order holds', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-durable-'));
  const file = join(dir, 'nb.db');
  await createDatabaseFile(file, readFileSync(bundledSchemaPath('ovn-nb'), 'utf8'));
  const { db, storage } = await openDatabaseFile(file, { compaction: false });
  const server = new OvsdbServer();
  server.addDatabase(db, storage);
  const remote = (await server.listen(`punix:${join(dir, 'db.sock')}`)).replace(/^p/, '');
  // Watch the syncs: every byte in the file when a sync starts is on disk once it completes.
  const fh = (storage as unknown as { fh: FileHandle }).fh;
  const datasync = fh.datasync.bind(fh);
  let syncedUpTo = 0;
  fh.datasync = async () => {
    const size = statSync(file).size;
    await datasync();
    syncedUpTo = Math.max(syncedUpTo, size);
  };
  const conns: JsonRpcConnection[] = [];
  t.teardown(async () => {
    for (const c of conns) c.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const problems: string[] = [];
  const clients = 6;
  const perClient = 40;
  await Promise.all(
    Array.from({ length: clients }, async (_, k) => {
      const c = new JsonRpcConnection(await connectStream(remote));
      conns.push(c);
      // Client 0 also monitors the table, so it gets an update for each of its own commits.
      const seen: string[] = [];
      if (k === 0) {
        c.on('request', (r: JsonRpcRequest) => {
          if (r.method !== 'update2') return;
          for (const row of Object.values((r.params[1] as Record<string, Record<string, { insert?: { name: string } }>>)['Logical_Switch'] ?? {})) {
            if (row.insert) seen.push(row.insert.name);
          }
        });
        await c.request('monitor_cond', [NB, 'm', { Logical_Switch: [{ columns: ['name'] }] }]);
      }
      let lastAcked = -1;
      // Pipelined: every request is sent before any reply is read.
      await Promise.all(
        Array.from({ length: perClient }, (_, i) => {
          const name = `c${k}-${i}`;
          const durable = i % 3 === 0;
          const ops: unknown[] = [{ op: 'insert', table: 'Logical_Switch', row: { name } }];
          if (durable) ops.push({ op: 'commit', durable: true });
          return c.request('transact', [NB, ...ops]).then((result) => {
            const r = result as { error?: string }[];
            if (r.some((x) => x?.error)) problems.push(`${name}: ${JSON.stringify(r)}`);
            if (i <= lastAcked) problems.push(`${name}: reply out of order`);
            lastAcked = i;
            const text = readFileSync(file, 'latin1');
            const at = text.indexOf(`"name":"${name}"`);
            if (at < 0) problems.push(`${name}: acknowledged before its record was in the file`);
            else if (durable && at > syncedUpTo) problems.push(`${name}: durable commit acknowledged before the sync`);
            if (k === 0 && !seen.includes(name)) problems.push(`${name}: reply arrived before the client's own update`);
          });
        }),
      );
    }),
  );
  t.same(problems, [], 'every reply after its record (and sync), in order, after the own update');
  t.equal(db.table('Logical_Switch').rows.size, clients * perClient);
  const stats = storage.stats;
  t.ok(stats.batches < clients * perClient, `commits shared log writes: ${clients * perClient} commits in ${stats.batches} writes`);
  t.ok(stats.syncs >= 1 && stats.syncs < (clients * perClient) / 3, `durable commits shared syncs: ${stats.syncs} syncs`);
});

t.test('a commit log that fails stops the server rather than acknowledging', async (t) => {
  // The session exits the process on a failed log write; here the exit is intercepted.
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-durable-'));
  const file = join(dir, 'nb.db');
  await createDatabaseFile(file, readFileSync(bundledSchemaPath('ovn-nb'), 'utf8'));
  const { db, storage } = await openDatabaseFile(file, { compaction: false });
  const server = new OvsdbServer();
  server.addDatabase(db, storage);
  const remote = (await server.listen(`punix:${join(dir, 'db.sock')}`)).replace(/^p/, '');
  const fh = (storage as unknown as { fh: FileHandle }).fh;
  fh.datasync = () => Promise.reject(new Error('EIO (simulated)'));
  const exit = process.exit;
  let exitCode: number | undefined;
  process.exit = ((code?: number) => {
    exitCode = code ?? 0;
  }) as typeof process.exit;
  const c = new JsonRpcConnection(await connectStream(remote));
  t.teardown(async () => {
    process.exit = exit;
    c.close();
    await server.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  let replied = false;
  void c.request('transact', [NB, { op: 'insert', table: 'Logical_Switch', row: { name: 'x' } }, { op: 'commit', durable: true }]).then(() => (replied = true), () => undefined);
  const end = Date.now() + 2000;
  while (exitCode === undefined && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 50));
  t.equal(exitCode, 1, 'the server exits');
  t.notOk(replied, 'the commit is never acknowledged');
});
