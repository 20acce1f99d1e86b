/**
 * Child process for server-crash.test.ts: serves a database file on a unix socket (with
 * aggressive automatic compaction) and prints "ready" once listening, until it is killed.
 * Usage: node server-crash-child.js FILE SOCKET
 */
import { OvsdbServer, openDatabaseFile, setLogLevel } from '../src/index.js';

setLogLevel('off');
const [file, sock] = process.argv.slice(2) as [string, string];
const { db, storage } = await openDatabaseFile(file, {
  compaction: { minBytes: 200_000, growthFactor: 1.5, minIntervalMs: 0, minRecords: 50 },
  onWarning: (w) => process.stderr.write(`${w}\n`),
});
const server = new OvsdbServer();
server.addDatabase(db, storage);
await server.listen(`punix:${sock}`);
process.stdout.write('ready\n');
