// The server's JSON-RPC methods over real sockets: monitors (v1/v2/v3, resume, condition
// changes, shared encoding), wait/cancel, locks, ordering of updates and replies, bad input.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as net from 'node:net';
import { Database, OvsdbServer, JsonRpcConnection, JsonStreamSplitter, connectStream, loadSchema, setLogLevel, type JsonRpcRequest } from '../src/index.js';

setLogLevel('off');

async function setup(t: Test, opts: ConstructorParameters<typeof OvsdbServer>[0] = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-server-'));
  const server = new OvsdbServer(opts);
  server.addDatabase(new Database(loadSchema('ovn-nb')));
  const remote = (await server.listen(`punix:${join(dir, 'db.sock')}`)).replace(/^p/, '');
  const conns: JsonRpcConnection[] = [];
  const connect = async (): Promise<JsonRpcConnection> => {
    const c = new JsonRpcConnection(await connectStream(remote));
    conns.push(c);
    return c;
  };
  t.teardown(async () => {
    for (const c of conns) c.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { server, remote, connect, dir };
}

/** The JSON-RPC error a request failed with. */
async function rpcErr(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return (e as { error: unknown }).error;
  }
  throw new Error('request unexpectedly succeeded');
}

function notifications(c: JsonRpcConnection): JsonRpcRequest[] {
  const out: JsonRpcRequest[] = [];
  c.on('request', (r: JsonRpcRequest) => out.push(r));
  return out;
}

const until = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
};

const insertLs = (name: string) => ['OVN_Northbound', { op: 'insert', table: 'Logical_Switch', row: { name } }];

t.test('basic methods', async (t) => {
  const { connect, server } = await setup(t);
  const c = await connect();
  t.same(await c.request('list_dbs', []), ['OVN_Northbound', '_Server']);
  t.equal(await c.request('get_server_id', []), server.serverId);
  t.same(await c.request('echo', ['a', 1]), ['a', 1]);
  t.match(await rpcErr(c.request('bogus', [])), 'unknown method');
  t.match(await rpcErr(c.request('get_schema', ['Nope'])), { error: 'unknown database' });
  const schema = (await c.request('get_schema', ['OVN_Northbound'])) as { version: string };
  t.equal(schema.version, '7.0.0');
  const dbs = (await c.request('transact', ['_Server', { op: 'select', table: 'Database', where: [], columns: ['name', 'model', 'leader'] }])) as [{ rows: unknown[] }];
  // Like ovsdb-server, _Server lists itself; writes fail per operation with "not allowed".
  t.same(dbs[0].rows.sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1)), [
    { name: 'OVN_Northbound', model: 'standalone', leader: true },
    { name: '_Server', model: 'standalone', leader: true },
  ]);
  const w = (await c.request('transact', ['_Server', { op: 'delete', table: 'Database', where: [] }])) as [{ error: string }];
  t.equal(w[0].error, 'not allowed');
});

t.test('monitor v1 and monitor_cond v2: own update arrives before the reply', async (t) => {
  const { connect } = await setup(t);
  const c = await connect();
  const seen: string[] = [];
  c.on('request', (r: JsonRpcRequest) => seen.push(r.method));
  const init1 = await c.request('monitor', ['OVN_Northbound', 'v1', { Logical_Switch: { columns: ['name'] } }]);
  t.same(init1, {});
  await c.request('monitor_cond', ['OVN_Northbound', 'v2', { Logical_Switch: [{ columns: ['name'], where: [['name', '==', 'a']] }] }]);
  await c.request('transact', insertLs('a'));
  seen.push('reply');
  t.same(seen, ['update', 'update2', 'reply']);
  await c.request('transact', insertLs('b'));
  seen.push('reply');
  t.same(seen.slice(3), ['update', 'reply'], 'a row outside the condition reaches only the v1 monitor');
});

t.test('update2 encodings: insert omits defaults, modify is a diff, delete is null', async (t) => {
  const { connect } = await setup(t);
  const m = await connect();
  const n = notifications(m);
  await m.request('monitor_cond', ['OVN_Northbound', null, { Logical_Switch: [{ columns: ['name', 'external_ids', 'other_config'] }] }]);
  const w = await connect();
  const [ins] = (await w.request('transact', ['OVN_Northbound', { op: 'insert', table: 'Logical_Switch', row: { name: 'b', external_ids: ['map', [['k', 'v'], ['k2', 'v2']]] } }])) as [{ uuid: [string, string] }];
  const uuid = ins.uuid[1];
  await w.request('transact', ['OVN_Northbound', { op: 'update', table: 'Logical_Switch', where: [], row: { external_ids: ['map', [['k', 'v3'], ['k4', 'v4']]] } }]);
  await w.request('transact', ['OVN_Northbound', { op: 'delete', table: 'Logical_Switch', where: [] }]);
  await until(() => n.length === 3);
  t.same(n.map((x) => x.params[1]), [
    { Logical_Switch: { [uuid]: { insert: { name: 'b', external_ids: ['map', [['k', 'v'], ['k2', 'v2']]] } } } },
    { Logical_Switch: { [uuid]: { modify: { external_ids: ['map', [['k', 'v3'], ['k2', 'v2'], ['k4', 'v4']]] } } } },
    { Logical_Switch: { [uuid]: { delete: null } } },
  ]);
});

t.test('monitor_cond_since resumes from a known transaction id', async (t) => {
  const { connect } = await setup(t);
  const w = await connect();
  await w.request('transact', insertLs('x1'));
  const m1 = await connect();
  const r1 = (await m1.request('monitor_cond_since', ['OVN_Northbound', 'm', { Logical_Switch: [{ columns: ['name'] }] }, '00000000-0000-0000-0000-000000000000'])) as [boolean, string, Record<string, Record<string, unknown>>];
  t.equal(r1[0], false, 'unknown txn id: full contents');
  t.equal(Object.keys(r1[2]['Logical_Switch']!).length, 1);
  const last = r1[1];
  m1.close();
  await w.request('transact', insertLs('x2'));
  await w.request('transact', ['OVN_Northbound', { op: 'update', table: 'Logical_Switch', where: [['name', '==', 'x2']], row: { name: 'x3' } }]);
  const m2 = await connect();
  const n2 = notifications(m2);
  const r2 = (await m2.request('monitor_cond_since', ['OVN_Northbound', 'm', { Logical_Switch: [{ columns: ['name'] }] }, last])) as [boolean, string, Record<string, Record<string, unknown>>];
  t.equal(r2[0], true, 'found');
  const rows = Object.values(r2[2]['Logical_Switch']!);
  t.same(rows, [{ insert: { name: 'x3' } }], 'net change since the last seen txn, merged');
  await w.request('transact', insertLs('x4'));
  await until(() => n2.length === 1);
  t.equal(n2[0]!.method, 'update3');
  t.equal(n2[0]!.params.length, 3);
  t.type(n2[0]!.params[1], 'string', 'update3 carries the last txn id');
});

t.test('monitor_cond_change moves rows in and out', async (t) => {
  const { connect } = await setup(t);
  const w = await connect();
  await w.request('transact', insertLs('a'));
  await w.request('transact', insertLs('b'));
  const m = await connect();
  const n = notifications(m);
  const init = (await m.request('monitor_cond', ['OVN_Northbound', 'old', { Logical_Switch: [{ columns: ['name'], where: [['name', '==', 'a']] }] }])) as Record<string, Record<string, unknown>>;
  t.equal(Object.keys(init['Logical_Switch']!).length, 1);
  t.same(await m.request('monitor_cond_change', ['old', 'new', { Logical_Switch: [{ where: [['name', '==', 'b']] }] }]), {});
  await until(() => n.length === 1);
  t.equal(n[0]!.params[0], 'new');
  const changes = Object.values((n[0]!.params[1] as Record<string, Record<string, unknown>>)['Logical_Switch']!);
  t.same(changes.sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))), [{ delete: null }, { insert: { name: 'b' } }]);
  t.equal(await rpcErr(m.request('monitor_cancel', ['old'])), 'unknown monitor');
  t.same(await m.request('monitor_cancel', ['new']), {});
});

t.test('identical monitors share one group (one encoding per commit)', async (t) => {
  const { connect, server } = await setup(t);
  const req = { Logical_Switch: [{ columns: ['name'] }] };
  const clients = await Promise.all(Array.from({ length: 5 }, () => connect()));
  const seen = clients.map(notifications);
  for (const [i, c] of clients.entries()) await c.request('monitor_cond', ['OVN_Northbound', `id${i}`, req]);
  t.equal(server.monitorGroupCount, 1);
  const w = await connect();
  await w.request('transact', insertLs('s'));
  await until(() => seen.every((s) => s.length === 1));
  t.same(seen.map((s) => s[0]!.params[0]), ['id0', 'id1', 'id2', 'id3', 'id4'], 'each member sees its own monitor id');
  clients[0]!.close();
  await until(() => server.sessions.size === 5);
  t.equal(server.monitorGroupCount, 1);
});

t.test('wait blocks until true or timeout; cancel', async (t) => {
  const { connect } = await setup(t);
  const c = await connect();
  const w = await connect();
  const waitFor = (name: string, timeout?: number) => [
    'OVN_Northbound',
    { op: 'wait', table: 'Logical_Switch', where: [['name', '==', name]], columns: ['name'], until: '==', rows: [{ name }], ...(timeout !== undefined ? { timeout } : {}) },
  ];
  const blocked = c.request('transact', waitFor('late'));
  await new Promise((r) => setTimeout(r, 30));
  await w.request('transact', insertLs('late'));
  t.same(await blocked, [{}], 'a blocked wait completes after the commit that satisfies it');
  t.same(await c.request('transact', waitFor('never', 50)), [{ error: 'timed out', details: '"wait" timed out after 50 ms' }]);
  // As in ovsdb-server, only a db-change-aware client hears back from a cancelled transaction.
  await c.request('set_db_change_aware', [true]);
  const id = c.allocateId();
  const p = c.requestWithId(id, 'transact', waitFor('never2'));
  c.notify('cancel', [id]);
  t.equal(await rpcErr(p), 'canceled');
  t.same(await c.request('echo', []), [], 'the session keeps working');
});

t.test('locks: lock, queue, steal, unlock, release on disconnect', async (t) => {
  const { connect, server } = await setup(t);
  const a = await connect();
  const b = await connect();
  const na = notifications(a);
  const nb = notifications(b);
  t.same(await a.request('lock', ['L']), { locked: true });
  t.same(await b.request('lock', ['L']), { locked: false });
  t.match(await rpcErr(a.request('lock', ['L'])), { error: 'syntax error', details: 'must issue "unlock" before new "lock"' });
  const assertOp = ['OVN_Northbound', { op: 'assert', lock: 'L' }];
  t.same(await a.request('transact', assertOp), [{}]);
  t.match(await b.request('transact', assertOp), [{ error: 'not owner' }]);
  // As in ovsdb-server: a session must unlock before it steals, and an unlock by a waiter
  // re-sends "locked" to the unchanged owner.
  t.match(await rpcErr(b.request('steal', ['L'])), { error: 'syntax error', details: 'must issue "unlock" before new "steal"' });
  t.same(await b.request('unlock', ['L']), {});
  await until(() => na.length === 1);
  t.same([na[0]!.method, na[0]!.params], ['locked', ['L']]);
  t.same(await b.request('steal', ['L']), { locked: true });
  await until(() => na.length === 2);
  t.same([na[1]!.method, na[1]!.params], ['stolen', ['L']]);
  t.same(await b.request('unlock', ['L']), {});
  await until(() => na.length === 3);
  t.same([na[2]!.method, na[2]!.params], ['locked', ['L']], 'the waiting victim gets the lock back');
  a.close();
  await until(() => server.sessions.size === 1);
  t.same(await b.request('lock', ['L']), { locked: true }, 'released when its owner disconnects');
  t.equal(nb.length, 0);
});

t.test('bad input: garbage closes only that connection, everyone else is served', async (t) => {
  const { connect, remote } = await setup(t, { maxMessageBytes: 4096 });
  const good = await connect();
  const path = remote.slice('unix:'.length);
  const sendRaw = (data: string): Promise<string> =>
    new Promise((resolve) => {
      const s = net.connect(path, () => s.end(data));
      let out = '';
      s.on('data', (d) => (out += d.toString()));
      s.on('close', () => resolve(out));
      s.on('error', () => resolve(out));
    });
  await sendRaw('{"method":"echo","params":[],"id":1} this is not json');
  await sendRaw(`{"method":"echo","params":["${'x'.repeat(10000)}"],"id":2}`);
  await sendRaw('{"method":"transact","params":["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":');
  const replies = await sendRaw('{"method":"transact","params":["OVN_Northbound",{"op":"insert","table":"Nope","row":{}}],"id":7}{"id":8,"method":"transact","params":["Nope"]}{"method":"echo","params":[],"id":9}]');
  t.match(replies, /"id":7,"result":\[\{"error":"syntax error"/);
  t.match(replies, /"id":8,"error":\{"error":"unknown database"/);
  t.match(replies, /"id":9,"result":\[\]/);
  const r = (await good.request('transact', insertLs('still-here'))) as unknown[];
  t.equal(r.length, 1);
  t.same(await good.request('echo', ['ok']), ['ok']);
});

t.test('inactivity probe drops a silent tcp peer', async (t) => {
  const server = new OvsdbServer({ tcpProbeIntervalMs: 100 });
  server.addDatabase(new Database(loadSchema('ovn-nb')));
  const bound = await server.listen('ptcp:0:127.0.0.1');
  t.teardown(() => server.close());
  const port = Number(bound.split(':')[1]);
  const silent = net.connect(port, '127.0.0.1');
  let got = '';
  silent.on('data', (d) => (got += d.toString()));
  const closed = new Promise((r) => silent.on('close', r));
  await closed;
  t.match(got, /"method":"echo"/, 'probed with echo before being dropped');
  const answering = new JsonRpcConnection(await connectStream(`tcp:127.0.0.1:${port}`));
  answering.on('request', (req: JsonRpcRequest) => {
    if (req.method === 'echo') answering.reply(req.id, req.params);
  });
  await new Promise((r) => setTimeout(r, 450));
  t.same(await answering.request('echo', [1]), [1], 'a peer that answers echo stays connected');
  answering.close();
});

t.test('an update never overtakes the reply of the monitor it belongs to', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-server-'));
  const server = new OvsdbServer();
  // A commit log that takes a while: replies to writes wait for it, queueing later replies.
  server.addDatabase(new Database(loadSchema('ovn-nb')), { write: () => new Promise((r) => setTimeout(r, 50)) });
  const path = join(dir, 'db.sock');
  const remote = (await server.listen(`punix:${path}`)).replace(/^p/, '');
  const w = new JsonRpcConnection(await connectStream(remote));
  // A raw client, so the order of messages on the wire is what we record.
  const raw = net.connect(path);
  const order: string[] = [];
  const splitter = new JsonStreamSplitter();
  raw.on('data', (d) => splitter.push(d, (m) => {
    const msg = m as { id: unknown; method?: string };
    order.push(msg.method ?? `reply ${String(msg.id)}`);
  }));
  t.teardown(async () => {
    raw.destroy();
    w.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await new Promise((r) => raw.once('connect', r));
  raw.write(JSON.stringify({ id: 1, method: 'transact', params: insertLs('first') }));
  raw.write(JSON.stringify({ id: 2, method: 'monitor_cond', params: ['OVN_Northbound', 'm', { Logical_Switch: [{ columns: ['name'] }] }] }));
  await new Promise((r) => setTimeout(r, 10));
  await w.request('transact', insertLs('second'));
  await until(() => order.length === 3);
  t.same(order, ['reply 1', 'reply 2', 'update2']);
});

t.test('a client that never reads is dropped once its backlog passes the bound; others carry on', async (t) => {
  const { connect, server, remote } = await setup(t, { maxBacklogBytes: 256 * 1024 });
  const path = remote.slice('unix:'.length);
  // Subscribe, then stop reading: pause the socket so the kernel buffers fill up.
  const stuck = net.connect(path);
  await new Promise((r) => stuck.once('connect', r));
  stuck.write(JSON.stringify({ id: 1, method: 'monitor_cond', params: ['OVN_Northbound', 'm', { Logical_Switch: [{ columns: ['name', 'external_ids'] }] }] }));
  await new Promise((r) => setTimeout(r, 50));
  stuck.pause();
  const closed = new Promise((r) => stuck.once('close', r));
  t.teardown(() => stuck.destroy());
  const w = await connect();
  const big = 'x'.repeat(8 * 1024);
  let i = 0;
  // Bounded: at most 400 commits of ~8 KiB updates (3 MiB) must overflow a 256 KiB bound plus socket buffers.
  for (; i < 400 && server.sessions.size === 2; i++) {
    await w.request('transact', ['OVN_Northbound', { op: 'insert', table: 'Logical_Switch', row: { name: `s${i}`, external_ids: ['map', [['k', big]]] } }]);
  }
  t.equal(server.sessions.size, 1, `the stuck client was dropped after ${i} commits`);
  stuck.resume();
  await closed;
  t.same(await w.request('echo', ['still serving']), ['still serving']);
});
