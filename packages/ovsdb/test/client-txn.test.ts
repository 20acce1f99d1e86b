// The typed transaction builder: every operation's result, named UUIDs, and TransactionError for
// an operation's failure and for a commit-time failure; against ovnts and a real ovsdb-server.
import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { setLogLevel } from '../src/index.js';
import { OvsdbClient, TransactionError, mapObject, ovsMap, ovsSet, ovsUuid, setAtoms, uuidOf } from '../src/client/index.js';
import { ovntsBackend, realBackend, realMissing, tempDir, type Backend as TestBackend } from './client-helpers.js';

setLogLevel('off');

type MakeBackend = (t: Test, dir: string) => Promise<TestBackend>;
const BACKENDS: [string, MakeBackend, string | false][] = [
  ['ovnts', (t, dir) => ovntsBackend(t, dir), false],
  ['ovsdb-server', (t, dir) => realBackend(t, dir), realMissing()],
];

async function connected(t: Test, remote: string): Promise<OvsdbClient> {
  const c = new OvsdbClient({ remotes: remote });
  t.teardown(() => c.close());
  await c.connect();
  return c;
}

async function failure(p: Promise<unknown>): Promise<TransactionError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!(e instanceof TransactionError)) throw new Error(`expected a TransactionError, got ${String(e)}`);
  return e;
}

for (const [name, make, skip] of BACKENDS) {
  t.test(`builder results (${name})`, { skip }, async (t) => {
    const dir = tempDir(t);
    const b = await make(t, dir);
    const c = await connected(t, b.remote);
    const DB = 'OVN_Northbound';

    // insert with named UUIDs: the switch refers to the port inserted after it.
    const t1 = c.transaction(DB);
    const port = t1.insert('Logical_Switch_Port', { name: 'p1', addresses: ovsSet('00:00:00:00:00:01', 'router') }, { uuidName: 'port1' });
    const sw = t1.insert('Logical_Switch', { name: 'sw0', ports: ovsSet(port.ref), external_ids: ovsMap({ owner: 'cms' }) });
    const note = t1.comment('client-txn test');
    const commit = t1.commit(false);
    t.same(port.ref, ['named-uuid', 'port1']);
    t.match(sw.uuidName, /^row\d+$/, 'a uuid-name is generated when none is given');
    const r1 = await t1.execute();
    const swUuid = r1.uuid(sw);
    const portUuid = r1.get(port).uuid;
    t.match(swUuid, /^[0-9a-f-]{36}$/);
    t.match(portUuid, /^[0-9a-f-]{36}$/);
    t.same(r1.get(note), {});
    t.same(r1.get(commit), {});

    // select, update, mutate, wait
    const t2 = c.transaction(DB);
    const sel = t2.select('Logical_Switch', [['name', '==', 'sw0']], ['_uuid', 'name', 'ports', 'external_ids']);
    const upd = t2.update('Logical_Switch', [['_uuid', '==', ovsUuid(swUuid)]], { external_ids: ovsMap({ owner: 'cms', k: 'v' }) });
    const mut = t2.mutate('Logical_Switch', [['name', '==', 'sw0']], [['external_ids', 'insert', ovsMap({ added: 'yes' })]]);
    const none = t2.mutate('Logical_Switch', [['name', '==', 'nope']], [['external_ids', 'insert', ovsMap({ a: 'b' })]]);
    const w = t2.wait('Logical_Switch', [['name', '==', 'sw0']], [{ name: 'sw0' }], { timeout: 0 });
    const after = t2.select('Logical_Switch', [['name', '==', 'sw0']], ['external_ids']);
    const r2 = await t2.execute();
    const row = r2.get(sel).rows[0]!;
    t.equal(uuidOf(row['_uuid']), swUuid);
    t.equal(row['name'], 'sw0');
    t.same(setAtoms(row['ports']!), [ovsUuid(portUuid)]);
    t.same(mapObject(row['external_ids']!), { owner: 'cms' });
    t.same(r2.get(upd), { count: 1 });
    t.same(r2.get(mut), { count: 1 });
    t.same(r2.get(none), { count: 0 });
    t.same(r2.get(w), {});
    t.same(mapObject(r2.get(after).rows[0]!['external_ids']!), { added: 'yes', k: 'v', owner: 'cms' });

    // An operation fails: the error names it, later results are null, nothing commits.
    const t3 = c.transaction(DB);
    t3.insert('Logical_Switch', { name: 'not-committed' });
    t3.update('Logical_Switch', [], { no_such_column: 1 });
    const e3 = await failure(t3.execute());
    t.equal(e3.index, 1);
    t.equal(e3.operation?.op, 'update');
    t.ok(e3.error.length > 0);
    t.match(e3.message, /operation 1 \(update Logical_Switch\)/);
    t.equal(e3.results.length, 2);

    // A wait that does not hold, with timeout 0.
    const t4 = c.transaction(DB);
    t4.wait('Logical_Switch', [['name', '==', 'sw0']], [{ name: 'other' }], { timeout: 0 });
    const e4 = await failure(t4.execute());
    t.equal(e4.index, 0);
    t.equal(e4.error, 'timed out');

    // The operations succeed but the commit fails (a dangling strong reference).
    const t5 = c.transaction(DB);
    t5.mutate('Logical_Switch', [['name', '==', 'sw0']], [['ports', 'insert', ovsSet(ovsUuid(randomUUID()))]]);
    const e5 = await failure(t5.execute());
    t.equal(e5.index, 1, 'commit errors come after the last operation');
    t.equal(e5.operation, undefined);
    t.equal(e5.error, 'referential integrity violation');
    t.type(e5.details, 'string');

    // assert: only the lock's owner passes.
    const other = await connected(t, b.remote);
    t.equal(await c.lock('cms'), true);
    t.equal(await other.lock('cms'), false);
    const t6 = c.transaction(DB);
    t6.assert('cms');
    const del = t6.delete('Logical_Switch', [['name', '==', 'sw0']]);
    t.same((await t6.execute()).get(del), { count: 1 });
    const t7 = other.transaction(DB);
    t7.assert('cms');
    t.equal((await failure(t7.execute())).error, 'not owner');

    // A caller-chosen UUID for a new row.
    const want = randomUUID();
    const t8 = c.transaction(DB);
    const ins = t8.insert('Logical_Switch', { name: 'fixed' }, { uuid: want });
    t.equal((await t8.execute()).uuid(ins), want);

    t.throws(() => t8.insert('Logical_Switch', {}, { uuidName: '1bad' }), /not a valid uuid-name/);
    t.throws(() => t8.insert('Logical_Switch', {}, { uuidName: ins.uuidName }), /already used/);
  });
}
