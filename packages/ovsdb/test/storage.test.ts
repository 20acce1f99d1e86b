import t from 'tap';
import fc from 'fast-check';
import { readFileSync, statSync, existsSync } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  Database,
  MemoryStorage,
  RecordReader,
  createDatabaseFile,
  encodeRecord,
  loadDatabaseFile,
  openDatabaseFile,
  parseSchema,
  recordToCommit,
  commitToRecordText,
  sha1Hex,
} from '../src/index.js';
import { RICH_SCHEMA, dump, execute, executeAndWrite, tempDir, txnArb } from './storage-helpers.js';

const rich = parseSchema(RICH_SCHEMA);
const nbSchemaText = readFileSync(fileURLToPath(new URL('../../schemas/ovn-nb.ovsschema', import.meta.url)), 'utf8');

t.test('record framing: length and SHA-1 cover the JSON text and its newline', async (t) => {
  const rec = encodeRecord('{"a":"é"}');
  const text = rec.toString('utf8');
  const body = '{"a":"é"}\n';
  t.equal(text, `OVSDB JSON ${Buffer.byteLength(body)} ${sha1Hex(body)}\n${body}`);
  const dir = tempDir(t);
  const path = join(dir, 'r');
  const fh = await open(path, 'w+');
  await fh.writeFile(Buffer.concat([rec, encodeRecord('[1,2]')]));
  const reader = new RecordReader(fh, (await fh.stat()).size);
  t.match(await reader.next(), { kind: 'record', start: 0, json: { a: 'é' } });
  t.match(await reader.next(), { kind: 'record', json: [1, 2] });
  t.same(await reader.next(), { kind: 'eof' });
  await fh.close();
});

t.test('create: normalized schema record, refuses an existing file', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'nb.db');
  const schema = await createDatabaseFile(path, nbSchemaText);
  t.equal(schema.name, 'OVN_Northbound');
  const f = await loadDatabaseFile(path);
  t.equal(f.db.schema.version, schema.version);
  t.equal(f.records, 0);
  t.equal(f.damage, null);
  await t.rejects(createDatabaseFile(path, nbSchemaText), { code: 'EEXIST' });
  await t.rejects(createDatabaseFile(join(dir, 'bad.db'), '{"name":"x"}'), /version/);
  t.notOk(existsSync(join(dir, 'bad.db')), 'no file left for an invalid schema');
});

t.test('record encoding follows ovsdb-server: defaults omitted, diffs, ephemeral skipped', async (t) => {
  const db = new Database(rich);
  const ins = execute(db, [{ op: 'insert', table: 'R', row: { name: 'a', tags: ['set', ['x', 'y']], kv: ['map', [['k1', 'v1'], ['k2', 'v2']]], e: 'z', i: 0 } }])!;
  const j1 = JSON.parse(commitToRecordText(rich, ins, 5)!) as Record<string, Record<string, unknown>>;
  const uuid = Object.keys(j1['R']!)[0]!;
  t.same(j1, { _date: 5, _is_diff: true, R: { [uuid]: { name: 'a', tags: ['set', ['x', 'y']], kv: ['map', [['k1', 'v1'], ['k2', 'v2']]] } } });
  const upd = execute(db, [
    { op: 'update', table: 'R', where: [], row: { tags: ['set', ['y', 'w']], kv: ['map', [['k1', 'v1'], ['k2', 'V'], ['k3', 'v3']]], opt: 'o', few: ['set', [1, 2]], e: 'q' } },
  ])!;
  t.same(JSON.parse(commitToRecordText(rich, upd, 6)!), {
    _date: 6,
    _is_diff: true,
    R: { [uuid]: { opt: 'o', tags: ['set', ['w', 'x']], few: ['set', [1, 2]], kv: ['map', [['k2', 'V'], ['k3', 'v3']]] } },
  });
  // Clearing an optional value writes the empty set, as OVS does.
  const clr = execute(db, [{ op: 'update', table: 'R', where: [], row: { opt: ['set', []] } }])!;
  t.same(JSON.parse(commitToRecordText(rich, clr, 7)!)['R'], { [uuid]: { opt: ['set', []] } });
  // Only an ephemeral column changed: nothing to write.
  const eph = execute(db, [{ op: 'update', table: 'R', where: [], row: { e: 'other' } }])!;
  t.equal(commitToRecordText(rich, eph, 8), null);
  // A diff longer than a bounded column's max: the record falls back to full values.
  execute(db, [{ op: 'update', table: 'R', where: [], row: { nums: ['set', [1, 2, 3, 4]] } }]);
  const big = execute(db, [{ op: 'update', table: 'R', where: [], row: { nums: ['set', [5, 6, 7]], tags: ['set', []] } }])!;
  t.same(JSON.parse(commitToRecordText(rich, big, 9)!), { _date: 9, R: { [uuid]: { nums: ['set', [5, 6, 7]], tags: ['set', []] } } });
  // A composite column leaving its (non-empty) default is written whole.
  execute(db, [{ op: 'update', table: 'R', where: [], row: { few: 0 } }]);
  const fromDefault = execute(db, [{ op: 'update', table: 'R', where: [], row: { few: ['set', [0, 7]] } }])!;
  t.same(JSON.parse(commitToRecordText(rich, fromDefault, 10)!)['R'], { [uuid]: { few: ['set', [0, 7]] } });
  const del = execute(db, [{ op: 'delete', table: 'R', where: [] }])!;
  t.same(JSON.parse(commitToRecordText(rich, { ...del, comment: 'bye' }, 11)!), { _date: 11, _is_diff: true, _comment: 'bye', R: { [uuid]: null } });
});

t.test('reading records: diffs, full values, OVS quirks, errors', async (t) => {
  const db = new Database(rich);
  const u = '11111111-2222-3333-4444-555555555555';
  const apply = (j: unknown) => db.applyCommit(recordToCommit(db, j));
  apply({ _date: 1, R: { [u]: { name: 'a', few: ['set', [1, 2]], tags: ['set', ['a', 'b']], kv: ['map', [['k', 'v']]] } }, _is_diff: true });
  apply({ R: { [u]: { tags: ['set', ['b', 'c']], kv: ['map', [['k', 'v'], ['j', 'w']]], few: ['set', [2, 3]] } }, _is_diff: true });
  t.same(dump(db)['R']![u]!['tags'], ['set', ['a', 'c']]);
  t.same(dump(db)['R']![u]!['kv'], ['map', [['j', 'w']]]);
  t.same(dump(db)['R']![u]!['few'], ['set', [1, 3]]);
  apply({ R: { [u]: { tags: ['set', ['q']] } } }); // no _is_diff: replace
  t.same(dump(db)['R']![u]!['tags'], 'q');
  apply({ R: { [u]: { few: 0 } }, _is_diff: true }); // [1,3] → toggles 0 in: [0,1,3]
  t.same(dump(db)['R']![u]!['few'], ['set', [0, 1, 3]]);
  apply({ R: { [u]: { few: ['set', [1, 3]] } }, _is_diff: true });
  t.same(dump(db)['R']![u]!['few'], 0);
  apply({ R: { [u]: { few: 7 } }, _is_diff: true }); // current value is the default: replaced (OVS)
  t.same(dump(db)['R']![u]!['few'], 7);
  t.throws(() => recordToCommit(db, { R: { '00000000-0000-0000-0000-000000000001': null } }), /does not exist/);
  t.throws(() => recordToCommit(db, { Nope: {} }), /No table named Nope/);
  t.throws(() => recordToCommit(db, { _date: 'x' }), /No table named _date/);
  t.throws(() => recordToCommit(db, { R: { [u]: { zz: 1 } } }), /No column zz/);
  t.throws(() => recordToCommit(db, { R: { [u]: { nums: ['set', [1, 2, 3, 4, 5]] } } }), /set must have 0 to 4 members/);
  t.throws(() => recordToCommit(db, [1]), /not a JSON object/);
});

t.test('round trip through the transaction engine (OVN Northbound)', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'nb.db');
  await createDatabaseFile(path, nbSchemaText);
  const { db, storage, warnings } = await openDatabaseFile(path);
  t.same(warnings, []);
  await executeAndWrite(db, storage, [
    { op: 'insert', table: 'Logical_Switch', row: { name: 'sw0', ports: ['named-uuid', 'p1'], external_ids: ['map', [['a', 'b']]] } },
    { op: 'insert', table: 'Logical_Switch_Port', 'uuid-name': 'p1', row: { name: 'lsp1', addresses: ['set', ['00:00:00:00:00:01 10.0.0.1']] } },
  ]);
  await executeAndWrite(db, storage, [
    { op: 'insert', table: 'Logical_Router', row: { name: 'lr0', ports: ['named-uuid', 'lrp'] } },
    { op: 'insert', table: 'Logical_Router_Port', 'uuid-name': 'lrp', row: { name: 'lrp', mac: '00:00:00:00:00:02', networks: ['set', ['10.0.0.1/24', '10.1.0.1/24']] } },
  ]);
  await executeAndWrite(db, storage, [{ op: 'mutate', table: 'Logical_Switch', where: [], mutations: [['external_ids', 'insert', ['map', [['c', 'd']]]]] }]);
  await executeAndWrite(db, storage, [{ op: 'update', table: 'Logical_Router_Port', where: [], row: { networks: '10.2.0.1/24' } }], true);
  await executeAndWrite(db, storage, [{ op: 'update', table: 'Logical_Switch_Port', where: [], row: { addresses: ['set', []], enabled: false } }]);
  await executeAndWrite(db, storage, [
    { op: 'insert', table: 'ACL', 'uuid-name': 'acl', row: { priority: 100, direction: 'to-lport', match: 'ip4', action: 'allow' } },
    { op: 'mutate', table: 'Logical_Switch', where: [], mutations: [['acls', 'insert', ['named-uuid', 'acl']]] },
  ]);
  await executeAndWrite(db, storage, [{ op: 'update', table: 'Logical_Switch', where: [], row: { acls: ['set', []] } }, { op: 'comment', comment: 'drop acl' }]);
  t.equal(db.table('ACL').rows.size, 0, 'unreferenced ACL collected');
  t.equal(db.table('Logical_Router_Port').rows.size, 1);
  const before = dump(db);
  t.equal(storage.stats.recordsSinceSnapshot, 7);
  await storage.close();
  await t.rejects(storage.write(execute(db, [{ op: 'insert', table: 'ACL', row: { priority: 1, direction: 'to-lport', match: '1', action: 'drop' } }])!), /closed/);
  const again = await openDatabaseFile(path);
  t.same(again.warnings, []);
  t.strictSame(dump(again.db), before);
  await again.storage.close();
});

t.test('property: random transactions survive reopen and compaction', async (t) => {
  const dir = tempDir(t);
  let n = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(txnArb, fc.boolean()), { minLength: 1, maxLength: 40 }), async (txns) => {
      const path = join(dir, `p${n++}.db`);
      await createDatabaseFile(path, RICH_SCHEMA);
      const { db, storage } = await openDatabaseFile(path, { compaction: false });
      // Issue the writes without awaiting each, as a busy server would.
      const writes: Promise<void>[] = [];
      for (const [ops, durable] of txns) {
        const c = execute(db, ops, durable);
        if (c) writes.push(storage.write(c));
      }
      await Promise.all(writes);
      await storage.close();
      const expected = dump(db);
      const r1 = await openDatabaseFile(path, { compaction: false });
      if (JSON.stringify(dump(r1.db)) !== JSON.stringify(expected) || r1.warnings.length > 0) return false;
      await r1.storage.compactNow();
      // And keep writing after the compaction.
      const c = execute(r1.db, [{ op: 'insert', table: 'R', row: { name: 'after', tags: ['set', ['t']] } }]);
      if (c) await r1.storage.write(c);
      await r1.storage.close();
      const r2 = await openDatabaseFile(path, { compaction: false });
      const ok = JSON.stringify(dump(r2.db)) === JSON.stringify(dump(r1.db)) && r2.warnings.length === 0;
      await r2.storage.close();
      return ok;
    }),
    { numRuns: 60 },
  );
  t.pass('random transaction sequences round-trip');
});

t.test('group commit: writes of one tick share one write and one sync', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'g.db');
  await createDatabaseFile(path, RICH_SCHEMA);
  const { db, storage } = await openDatabaseFile(path, { compaction: false });
  const order: number[] = [];
  const ps: Promise<void>[] = [];
  for (let i = 0; i < 50; i++) {
    const c = execute(db, [{ op: 'insert', table: 'R', row: { name: `r${i}`, i } }], i % 10 === 0)!;
    ps.push(storage.write(c).then(() => void order.push(i)));
  }
  await Promise.all(ps);
  t.same(order, [...Array(50).keys()], 'acknowledged in commit order');
  t.equal(storage.stats.batches, 1, 'one write');
  t.equal(storage.stats.syncs, 1, 'one sync');
  await storage.close();
  const r = await openDatabaseFile(path);
  t.equal(r.db.table('R').rows.size, 50);
  await r.storage.close();
});

t.test('compaction: snapshot record, concurrent writes kept, automatic policy', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'c.db');
  await createDatabaseFile(path, RICH_SCHEMA);
  const warnings: string[] = [];
  const { db, storage } = await openDatabaseFile(path, { compaction: false, onWarning: (w) => warnings.push(w) });
  for (let i = 0; i < 300; i++) {
    await executeAndWrite(db, storage, [{ op: 'insert', table: 'R', row: { name: `r${i}`, tags: ['set', [String(i)]] } }]);
  }
  for (let i = 0; i < 300; i += 2) await executeAndWrite(db, storage, [{ op: 'delete', table: 'R', where: [['name', '==', `r${i}`]] }]);
  const grown = statSync(path).size;
  // Writes issued while the snapshot is being taken must land in the new file.
  const compacting = storage.compactNow();
  const during: Promise<void>[] = [];
  for (let i = 0; i < 20; i++) {
    const c = execute(db, [{ op: 'update', table: 'R', where: [['name', '==', 'r1']], row: { i: i + 1 } }], i === 5)!;
    during.push(storage.write(c));
    if (i % 5 === 0) await new Promise((r) => setImmediate(r));
  }
  await Promise.all([compacting, ...during]);
  t.equal(storage.stats.compactions, 1);
  t.ok(statSync(path).size < grown / 2, 'file shrank');
  t.notOk(existsSync(`${path}.tmp`), 'no temporary file left');
  const expected = dump(db);
  await storage.close();
  const r = await openDatabaseFile(path, { compaction: false });
  t.strictSame(dump(r.db), expected);
  const r1 = Object.values(dump(r.db)['R']!).find((row) => row['name'] === 'r1');
  t.equal(r1?.['i'], 20, 'the last write made during compaction is there');
  // The snapshot is the first transaction record, marked like ovsdb-server's.
  const text = readFileSync(path, 'utf8').split('\n');
  t.match(JSON.parse(text[3]!), { _comment: 'compacting database online', _is_diff: true });
  await r.storage.close();

  // Automatic compaction with a tiny policy.
  const auto = await openDatabaseFile(path, { compaction: { minBytes: 10_000, growthFactor: 2, minIntervalMs: 0, minRecords: 10 } });
  for (let i = 0; i < 400 && auto.storage.stats.compactions === 0; i++) {
    await executeAndWrite(auto.db, auto.storage, [{ op: 'update', table: 'R', where: [['name', '==', 'r1']], row: { tags: ['set', [`v${i}`]] } }]);
    await new Promise((r) => setImmediate(r));
  }
  await auto.storage.compactNow(); // joins a running compaction, if any
  t.ok(auto.storage.stats.compactions >= 1, 'compacted automatically');
  const autoExpected = dump(auto.db);
  await auto.storage.close();
  const r2 = await loadDatabaseFile(path);
  t.strictSame(dump(r2.db), autoExpected);
  t.same(warnings, []);
});

t.test('compaction of a large database yields to the event loop', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'big.db');
  await createDatabaseFile(path, RICH_SCHEMA);
  const { db, storage } = await openDatabaseFile(path, { compaction: false });
  for (let k = 0; k < 25; k++) {
    const ops = [];
    for (let i = 0; i < 1000; i++) ops.push({ op: 'insert', table: 'R', row: { name: `r${k}-${i}`, tags: ['set', ['a', 'b', String(i)]], kv: ['map', [['key', 'x'.repeat(40)]]] } });
    await executeAndWrite(db, storage, ops);
  }
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  await storage.compactNow();
  h.disable();
  const maxMs = h.max / 1e6;
  t.ok(maxMs < 200, `longest event-loop stall during compaction ${maxMs.toFixed(1)} ms`);
  const expected = JSON.stringify(dump(db));
  await storage.close();
  t.ok(JSON.stringify(dump((await loadDatabaseFile(path)).db)) === expected, 'contents intact');
});

t.test('a failed write stops the storage instead of letting memory and file diverge', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'f.db');
  await createDatabaseFile(path, RICH_SCHEMA);
  const { db, storage } = await openDatabaseFile(path, { compaction: false });
  await executeAndWrite(db, storage, [{ op: 'insert', table: 'R', row: { name: 'a' } }]);
  // Swap in a descriptor number that is not open to make the next write fail.
  const inner = storage as unknown as { fh: { fd: number; close(): Promise<void> } };
  const real = inner.fh;
  inner.fh = { fd: 1_000_000, close: () => Promise.resolve() };
  t.teardown(() => real.close());
  await t.rejects(storage.write(execute(db, [{ op: 'insert', table: 'R', row: { name: 'b' } }])!), /write failed/);
  await t.rejects(storage.write(execute(db, [{ op: 'insert', table: 'R', row: { name: 'c' } }])!), /write failed/);
});

t.test('MemoryStorage has the same interface', async (t) => {
  const db = new Database(rich);
  const s = new MemoryStorage();
  await executeAndWrite(db, s, [{ op: 'insert', table: 'R', row: { name: 'a' } }]);
  await s.compactNow();
  t.equal(s.commits, 1);
  await s.close();
  await t.rejects(s.write(execute(db, [{ op: 'insert', table: 'R', row: { name: 'b' } }])!), /closed/);
});

t.test('clustered files are refused, not truncated', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'cl.db');
  const body = '{"name":"x"}\n';
  await writeFile(path, `OVSDB CLUSTER ${body.length} ${sha1Hex(body)}\n${body}`);
  const size = statSync(path).size;
  await t.rejects(openDatabaseFile(path), /clustered/);
  t.equal(statSync(path).size, size);
});
