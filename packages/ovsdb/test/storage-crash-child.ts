/**
 * Child process for storage-crash.test.ts: writes commits to a database file in bursts (some
 * durable, with aggressive automatic compaction) and prints the id of each commit on stdout
 * once its write is acknowledged, until it is killed.
 * Usage: node storage-crash-child.js FILE ROUND
 */
import { openDatabaseFile } from '../src/index.js';
import { execute } from './storage-helpers.js';

const [file, round] = process.argv.slice(2) as [string, string];
const { db, storage } = await openDatabaseFile(file, {
  compaction: { minBytes: 30_000, growthFactor: 1.5, minIntervalMs: 0, minRecords: 20 },
  onWarning: (w) => process.stderr.write(`${w}\n`),
});
// The counter row exists after the first round (the unique name index rejects a second one).
const init = execute(db, [{ op: 'insert', table: 'R', row: { name: 'counter' } }]);
if (init) await storage.write(init);
let compactions = 0;
for (let i = 0; ; ) {
  const burst = 1 + (i % 7);
  const writes: Promise<void>[] = [];
  for (let k = 0; k < burst; k++, i++) {
    const id = `${round}-${i}`;
    const c = execute(
      db,
      [
        { op: 'insert', table: 'R', row: { name: id, tags: ['set', ['x', id]], kv: ['map', [['payload', 'p'.repeat(100)]]] } },
        { op: 'update', table: 'R', where: [['name', '==', 'counter']], row: { i: i % 1000, nums: ['set', [i % 10, (i + 3) % 10]] } },
      ],
      i % 3 === 0,
    );
    if (!c) throw new Error(`transaction ${id} failed`);
    writes.push(storage.write(c).then(() => void process.stdout.write(`${id}\n`)));
  }
  await Promise.all(writes);
  if (storage.stats.compactions !== compactions) {
    compactions = storage.stats.compactions;
    process.stderr.write(`compactions ${compactions}\n`);
  }
}
