import t from 'tap';
import fc from 'fast-check';
import { copyFileSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDatabaseFile, encodeRecord, openDatabaseFile, loadDatabaseFile, type Database } from '../src/index.js';
import { NO_OVSDB_TOOL, RICH_SCHEMA, canonical, dump, execute, tempDir, toolDump } from './storage-helpers.js';

/** A file of known records: the contents after each one, and where each one ends. */
interface Fixture {
  readonly path: string;
  readonly ends: number[];
  readonly dumps: string[];
}

async function buildFixture(dir: string): Promise<Fixture> {
  const path = join(dir, 'base.db');
  await createDatabaseFile(path, RICH_SCHEMA);
  const { db, storage } = await openDatabaseFile(path, { compaction: false });
  const ends = [storage.stats.size];
  const dumps = [JSON.stringify(dump(db))];
  const step = async (ops: unknown[]): Promise<void> => {
    const c = execute(db, ops);
    if (!c) throw new Error(`fixture transaction failed: ${JSON.stringify(ops)}`);
    await storage.write(c);
    ends.push(storage.stats.size);
    dumps.push(JSON.stringify(dump(db)));
  };
  for (let i = 0; i < 6; i++) {
    await step([{ op: 'insert', table: 'R', row: { name: `r${i}`, tags: ['set', ['a', `é${i}`]], kv: ['map', [['k', String(i)]]], few: ['set', [i, i + 1]] } }]);
  }
  await step([{ op: 'update', table: 'R', where: [['name', '==', 'r1']], row: { tags: ['set', ['b']], kv: ['map', [['k', 'changed'], ['n', 'new']]] } }]);
  await step([{ op: 'mutate', table: 'R', where: [], mutations: [['i', '+=', 3]] }]);
  await step([{ op: 'delete', table: 'R', where: [['name', '==', 'r2']] }]);
  await step([{ op: 'update', table: 'R', where: [['name', '==', 'r3']], row: { opt: 'x', few: ['set', [5]] } }]);
  await storage.close();
  return { path, ends, dumps };
}

/** Number of whole records in the first `offset` bytes. */
function recordsBefore(f: Fixture, offset: number): number {
  let k = 0;
  while (k + 1 < f.ends.length && f.ends[k + 1]! <= offset) k++;
  return k;
}

async function reopen(path: string): Promise<{ db: Database; warnings: string[] }> {
  const r = await openDatabaseFile(path, { compaction: false });
  await r.storage.close();
  return { db: r.db, warnings: r.warnings };
}

t.test('torn tail: truncating anywhere keeps every whole record', async (t) => {
  const dir = tempDir(t);
  const f = await buildFixture(dir);
  const size = statSync(f.path).size;
  let n = 0;
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: f.ends[0]!, max: size }), async (cut) => {
      const p = join(dir, `cut${n++}.db`);
      copyFileSync(f.path, p);
      truncateSync(p, cut);
      const { db, warnings } = await reopen(p);
      const k = recordsBefore(f, cut);
      const clean = f.ends[k] === cut;
      return JSON.stringify(dump(db)) === f.dumps[k] && statSync(p).size === f.ends[k] && warnings.length === (clean ? 0 : 1);
    }),
    { numRuns: 150 },
  );
  t.pass('every cut recovered to the last whole record');
});

t.test('corruption: a flipped byte discards that record and what follows', async (t) => {
  const dir = tempDir(t);
  const f = await buildFixture(dir);
  const bytes = readFileSync(f.path);
  let n = 0;
  const flip = fc
    .tuple(fc.integer({ min: f.ends[0]!, max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }))
    // Changing the case of a hex letter in the SHA-1 field is harmless, as in OVS.
    .filter(([, x]) => x !== 0x20);
  await fc.assert(
    fc.asyncProperty(flip, async ([pos, x]) => {
      const p = join(dir, `flip${n++}.db`);
      const copy = Buffer.from(bytes);
      copy[pos] = copy[pos]! ^ x;
      writeFileSync(p, copy);
      const { db, warnings } = await reopen(p);
      const k = recordsBefore(f, pos);
      return JSON.stringify(dump(db)) === f.dumps[k] && statSync(p).size === f.ends[k] && warnings.length === 1;
    }),
    { numRuns: 150 },
  );
  t.pass('every flip recovered to the record before it');
});

t.test('recovery details: warning text, side file, appending afterwards', async (t) => {
  const dir = tempDir(t);
  const f = await buildFixture(dir);
  const last = f.ends.length - 1;

  // Torn last record: cut, reported, no side file.
  const torn = join(dir, 'torn.db');
  copyFileSync(f.path, torn);
  truncateSync(torn, f.ends[last]! - 10);
  const r = await openDatabaseFile(torn, { compaction: false });
  t.match(r.warnings, [/extends past end of file at offset \d+; truncated \d+ bytes/]);
  t.equal(JSON.stringify(dump(r.db)), f.dumps[last - 1]);
  // The storage appends after the cut, and the result is clean.
  const c = execute(r.db, [{ op: 'insert', table: 'R', row: { name: 'after' } }])!;
  await r.storage.write(c);
  const expected = JSON.stringify(dump(r.db));
  await r.storage.close();
  const again = await reopen(torn);
  t.same(again.warnings, []);
  t.equal(JSON.stringify(dump(again.db)), expected);
  t.same(readdirSync(dir).filter((n) => n.startsWith('torn.db.damaged')), []);

  // Damage in the middle loses the records after it too; they are kept in a side file.
  const mid = join(dir, 'mid.db');
  const bytes = readFileSync(f.path);
  bytes[f.ends[2]! + 3] = 0x58; // inside the header of record 3
  writeFileSync(mid, bytes);
  const m = await reopen(mid);
  t.match(m.warnings, [/bad record header.*saved to .*mid\.db\.damaged-\d+/]);
  t.equal(JSON.stringify(dump(m.db)), f.dumps[2]);
  const side = readdirSync(dir).filter((n) => n.startsWith('mid.db.damaged'));
  t.equal(side.length, 1);
  t.equal(statSync(join(dir, side[0]!)).size, bytes.length - f.ends[2]!);

  // A record that is well framed but does not apply (deletes a missing row) ends the log too.
  const bad = join(dir, 'bad.db');
  copyFileSync(f.path, bad);
  writeFileSync(bad, encodeRecord('{"R":{"00000000-0000-0000-0000-000000000009":null}}'), { flag: 'a' });
  const b = await reopen(bad);
  t.match(b.warnings, [/record does not apply: transaction deletes row/]);
  t.equal(statSync(bad).size, f.ends[last]);

  // loadDatabaseFile reports but never modifies.
  copyFileSync(f.path, torn);
  truncateSync(torn, f.ends[last]! - 1);
  const l = await loadDatabaseFile(torn);
  t.match(l.damage, { offset: f.ends[last - 1] });
  t.equal(statSync(torn).size, f.ends[last]! - 1);

  // Nothing but a schema, or not even that.
  const empty = join(dir, 'empty.db');
  writeFileSync(empty, '');
  await t.rejects(openDatabaseFile(empty), /contains no schema/);
});

t.test('ovsdb-tool reads recovered files', { skip: NO_OVSDB_TOOL }, async (t) => {
  const dir = tempDir(t);
  const f = await buildFixture(dir);
  for (const cut of [f.ends[3]! + 1, f.ends[5]! + 30, f.ends[f.ends.length - 1]! - 2]) {
    const p = join(dir, `tool${cut}.db`);
    copyFileSync(f.path, p);
    truncateSync(p, cut);
    const { db } = await reopen(p);
    t.same(await toolDump(p, db), canonical(dump(db)), `cut at ${cut}`);
  }
});
