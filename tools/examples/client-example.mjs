#!/usr/bin/env node
// A small CMS plugin in plain JavaScript on the ovnts OVSDB client: replicate part of the
// Northbound database, create a logical switch with a port, update it with optimistic
// concurrency, show error handling and change tracking, then clean up.
//
// Usage: node tools/examples/client-example.mjs REMOTE [REMOTE...]
//   e.g. node tools/examples/client-example.mjs unix:/tmp/ovn/nb.sock
//        node tools/examples/client-example.mjs tcp:127.0.0.1:6641 tcp:127.0.0.1:6642   (failover)
// Works against `ovnts db serve` and against ovsdb-server with the OVN Northbound schema.
import { Idl, OvsdbClient, TransactionError, changeKind, ovsMap, ovsSet, ovsUuid } from '@ovnts/ovsdb';

const remotes = process.argv.slice(2);
if (remotes.length === 0) {
  console.error('usage: client-example.mjs REMOTE [REMOTE...]   (e.g. unix:/tmp/ovn/nb.sock, tcp:127.0.0.1:6641)');
  process.exit(2);
}

const DB = 'OVN_Northbound';
const client = new OvsdbClient({ remotes, backoff: { maxAttempts: 5 } });
client.on('connected', ({ remote }) => console.log(`connected to ${remote}`));
client.on('disconnected', ({ remote, reason }) => console.log(`disconnected from ${remote}: ${reason}`));

// The replica: two tables, chosen columns, change tracking on.
const idl = new Idl(client, {
  database: DB,
  tables: {
    Logical_Switch: { columns: ['name', 'ports', 'external_ids'] },
    Logical_Switch_Port: { columns: ['name', 'addresses'] },
  },
  trackChanges: true,
});
const switchByName = idl.createIndex('Logical_Switch', ['name']);
const portByName = idl.createIndex('Logical_Switch_Port', ['name']);

/** What changed in the replica since the last look, as an incremental processor consumes it. */
function printChanges() {
  for (const c of idl.takeChanges()) {
    const row = c.new ?? c.old;
    const ids = c.table === 'Logical_Switch' && c.new ? ` ${JSON.stringify(c.new.map('external_ids'))}` : '';
    console.log(`  change: ${changeKind(c)} ${c.table} ${row.scalar('name')}${ids}`);
  }
}

try {
  await idl.start();
  console.log(`synchronized with ${idl.monitorMethod}: ${idl.table('Logical_Switch').size} switches, ${idl.table('Logical_Switch_Port').size} ports`);
  idl.takeChanges(); // start tracking from here

  // 1. A plain transaction with the typed builder: a switch and its port, linked by a named UUID.
  const tx = client.transaction(DB);
  const port = tx.insert('Logical_Switch_Port', { name: 'example-port', addresses: ovsSet('00:00:00:00:00:01 10.0.0.1') });
  const ls = tx.insert('Logical_Switch', { name: 'example-ls', ports: ovsSet(port.ref), external_ids: ovsMap({ owner: 'client-example' }) });
  tx.comment('client-example: create example-ls');
  const res = await tx.execute();
  console.log(`created switch ${res.uuid(ls)} with port ${res.get(port).uuid}`);
  await idl.client.echo(); // the update reaches the replica before any later reply
  console.log(`replica sees the port by name: ${portByName.findOne('example-port')?.uuid}`);

  // 2. Read-modify-write through the replica, verified: retried if someone changes the row first.
  const bumped = await idl.transact((txn) => {
    const row = switchByName.findOne('example-ls');
    const ids = row.map('external_ids');
    txn.read(row, 'external_ids');
    const n = Number(ids.counter ?? 0) + 1;
    txn.updateRow(row, { external_ids: ovsMap({ ...ids, counter: String(n) }) });
    return n;
  });
  console.log(`counter is now ${bumped.value} (after ${bumped.attempts} attempt(s))`);
  printChanges(); // merged per row: the switch shows as one insert, with its counter already set

  // 3. Error handling: the server names the failing operation (here the commit: a dangling reference).
  try {
    const bad = client.transaction(DB);
    bad.mutate('Logical_Switch', [['name', '==', 'example-ls']], [['ports', 'insert', ovsSet(ovsUuid('00000000-0000-0000-0000-00000000beef'))]]);
    await bad.execute();
  } catch (e) {
    if (!(e instanceof TransactionError)) throw e;
    console.log(`rejected as expected: ${e.error} at ${e.operation ? `operation ${e.index}` : 'commit'}${e.details ? ` (${e.details})` : ''}`);
  }

  // 4. Clean up (the port goes with its switch: ports are not root rows) and look again.
  const del = client.transaction(DB);
  del.delete('Logical_Switch', [['name', '==', 'example-ls']]);
  await del.execute();
  await idl.client.echo();
  printChanges();
} finally {
  idl.close();
  await client.close();
}
