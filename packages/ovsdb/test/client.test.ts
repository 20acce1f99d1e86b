// OvsdbClient: the typed method wrappers, pipelining, cancel, locks, reconnection with backoff,
// failover between remotes, inactivity probes both ways, TLS; against an in-process ovnts server
// (and the wrappers against a real ovsdb-server when installed).
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as net from 'node:net';
import { Database, OvsdbServer, RpcError, loadSchema, setLogLevel } from '../src/index.js';
import { Backoff, CanceledError, ConnectionLostError, NotConnectedError, OvsdbClient, type ClientOptions } from '../src/client/index.js';
import { ovntsBackend, realBackend, realMissing, sleep, tempDir, until } from './client-helpers.js';

setLogLevel('off');

const FAST: Pick<ClientOptions, 'backoff'> = { backoff: { initialMs: 10, maxMs: 80, jitter: 0 } };

function client(t: Test, remotes: string | string[], extra: Partial<ClientOptions> = {}): OvsdbClient {
  const c = new OvsdbClient({ remotes, ...FAST, ...extra });
  t.teardown(() => c.close());
  return c;
}

t.test('backoff: immediate first retry, doubling, bounded, reset after a stable connection', async (t) => {
  const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0, maxAttempts: 6, stableMs: 500 });
  const delays: number[] = [];
  for (let i = 0; i < 6; i++) {
    delays.push(b.nextDelay());
    b.failed();
  }
  t.same(delays, [0, 100, 200, 400, 800, 1000]);
  t.ok(b.exhausted);
  b.disconnected(600);
  t.equal(b.nextDelay(), 0, 'a connection that was up longer than stableMs resets the backoff');
  b.disconnected(10);
  t.equal(b.nextDelay(), 100, 'one that dropped at once does not');
  const j = new Backoff({ initialMs: 100, jitter: 0.5 }, () => 1);
  j.failed();
  t.equal(j.nextDelay(), 150, 'jitter scales the delay');
});

t.test('method wrappers and pipelining (ovnts)', async (t) => {
  const dir = tempDir(t);
  const b = await ovntsBackend(t, dir);
  const c = client(t, b.remote);
  await c.connect();
  t.ok(c.isConnected);
  t.equal(c.remote, b.remote);
  t.same(await c.listDbs(), ['OVN_Northbound', '_Server']);
  const schema = await c.getSchema('OVN_Northbound');
  t.ok(schema.tables.has('Logical_Switch'));
  t.same(await c.echo('a', 1), ['a', 1]);
  t.equal(await c.getServerId(), b.server.serverId);
  await c.setDbChangeAware(true);
  // Many requests outstanding at once; each reply finds its request.
  const inserts = Array.from({ length: 40 }, () => c.transaction('OVN_Northbound'));
  const refs = inserts.map((tx, i) => tx.insert('Logical_Switch', { name: `ls${i}` }));
  const echoes = Array.from({ length: 40 }, (_, i) => c.echo(i));
  const results = await Promise.all(inserts.map((tx) => tx.execute()));
  t.same(await Promise.all(echoes), Array.from({ length: 40 }, (_, i) => [i]));
  const uuids = results.map((r, i) => r.uuid(refs[i]!));
  t.equal(new Set(uuids).size, 40);
  const sel = c.transaction('OVN_Northbound');
  const s = sel.select('Logical_Switch', [['name', '==', 'ls7']], ['_uuid']);
  t.same((await sel.execute()).get(s).rows, [{ _uuid: ['uuid', uuids[7]] }]);
  const e = await c.getSchema('Nope').catch((x: unknown) => x);
  t.ok(e instanceof RpcError);
  t.match((e as RpcError).error, { error: 'unknown database' });
});

t.test('cancel a blocked transaction; requests while disconnected fail fast', async (t) => {
  const dir = tempDir(t);
  const b = await ovntsBackend(t, dir);
  const c = client(t, b.remote);
  const notYet = await c.echo().catch((x: unknown) => x);
  t.ok(notYet instanceof NotConnectedError, 'before connect');
  await c.connect();
  const ac = new AbortController();
  const tx = c.transaction('OVN_Northbound');
  tx.wait('Logical_Switch', [['name', '==', 'never']], [{ name: 'never' }]);
  const p = tx.execute({ signal: ac.signal });
  await sleep(20);
  ac.abort();
  const err = await p.catch((x: unknown) => x);
  t.ok(err instanceof CanceledError, `blocked wait canceled (${String(err)})`);
  t.same(await c.echo('still'), ['still']);
  // A transaction outstanding when the connection drops: outcome unknown.
  const tx2 = c.transaction('OVN_Northbound');
  tx2.wait('Logical_Switch', [['name', '==', 'never']], [{ name: 'never' }]);
  const p2 = tx2.execute();
  await sleep(10);
  c.connection!.stream.destroy();
  t.ok((await p2.catch((x: unknown) => x)) instanceof ConnectionLostError);
});

t.test('locks: lock, steal, unlock, events, re-acquired after reconnect', async (t) => {
  const dir = tempDir(t);
  const b = await ovntsBackend(t, dir);
  const a = client(t, b.remote);
  const z = client(t, b.remote);
  await Promise.all([a.connect(), z.connect()]);
  const events: string[] = [];
  a.on('locked', (n) => events.push(`a locked ${n}`));
  a.on('stolen', (n) => events.push(`a stolen ${n}`));
  z.on('locked', (n) => events.push(`z locked ${n}`));
  t.equal(await a.lock('L'), true);
  t.equal(await z.lock('L'), false);
  t.same(events, ['a locked L'], "'locked' fires when the lock is granted at once too");
  const assertTx = (c: OvsdbClient) => {
    const tx = c.transaction('OVN_Northbound');
    tx.assert('L');
    return tx.execute().then(
      () => 'ok',
      (e: Error) => e.message,
    );
  };
  t.equal(await assertTx(a), 'ok');
  t.match(await assertTx(z), /not owner/);
  t.equal(await z.steal('L'), true, 'steal withdraws our queued lock request first');
  await until(() => events.includes('a stolen L'));
  t.same([...events].sort(), ['a locked L', 'a stolen L', 'z locked L'], 'two connections: no order between them');
  t.notOk(a.hasLock('L'));
  t.ok(z.hasLock('L'));
  await z.unlock('L');
  await until(() => events.includes('a locked L'), 2000, 'lock returns to the waiting client');
  t.ok(a.hasLock('L'));
  // After a reconnect the client asks again and gets it (nobody else wants it).
  events.length = 0;
  a.connection!.stream.destroy();
  await until(() => events.includes('a locked L'), 3000, 're-acquired after reconnect');
  t.ok(a.hasLock('L'));
  t.same(events, ['a locked L']);
});

t.test('reconnect with backoff after the server restarts; gives up after maxAttempts', async (t) => {
  const dir = tempDir(t);
  const b = await ovntsBackend(t, dir);
  const c = client(t, b.remote);
  const log: string[] = [];
  c.on('connected', () => log.push('connected'));
  c.on('disconnected', () => log.push('disconnected'));
  await c.connect();
  await b.stop();
  await until(() => log.includes('disconnected'));
  await sleep(150); // several failed attempts
  t.notOk(c.isConnected);
  await b.start();
  await until(() => c.isConnected, 2000, 'reconnected');
  t.same(log, ['connected', 'disconnected', 'connected']);
  t.same(await c.echo(1), [1]);

  const g = new OvsdbClient({ remotes: `unix:${join(dir, 'nobody.sock')}`, backoff: { initialMs: 5, maxMs: 20, maxAttempts: 3 } });
  t.teardown(() => g.close());
  const gaveUp = new Promise<Error>((r) => g.once('gaveUp', r));
  const err = await g.connect().catch((x: unknown) => x);
  t.match(String(err), /nobody\.sock/);
  t.match(String(await gaveUp), /nobody\.sock/);
});

t.test('failover between two remotes', async (t) => {
  const dir = tempDir(t);
  const a = await ovntsBackend(t, dir, { name: 'a' });
  const b = await ovntsBackend(t, dir, { name: 'b' });
  await a.stop();
  const c = client(t, [a.remote, b.remote]);
  await c.connect();
  t.equal(c.remote, b.remote, 'the first remote is down: connected to the second');
  t.equal(await c.getServerId(), b.server.serverId);
  await a.start();
  await b.stop();
  await until(() => c.remote === a.remote, 2000, 'failed over to the first remote');
  t.equal(await c.getServerId(), a.server.serverId);
});

t.test('inactivity probe: drop a silent server, answer the server\'s echo', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'silent.sock');
  const socks: net.Socket[] = [];
  const silent = net.createServer((s) => socks.push(s)); // accepts, never answers
  await new Promise<void>((r) => silent.listen(path, r));
  t.teardown(() => {
    for (const s of socks) s.destroy();
    return new Promise((r) => silent.close(r));
  });
  const c = client(t, `unix:${path}`, { probeIntervalMs: 100 });
  const why = new Promise<string>((r) => c.once('disconnected', (d) => r(d.reason)));
  await c.connect();
  const t0 = Date.now();
  t.match(await why, /inactivity probe/);
  t.ok(Date.now() - t0 < 1000, 'dropped after about two probe intervals');

  // The server probes us every 100 ms; we answer, so it keeps us.
  const server = new OvsdbServer({ tcpProbeIntervalMs: 100 });
  server.addDatabase(new Database(loadSchema('ovn-nb')));
  const bound = await server.listen('ptcp:0:127.0.0.1');
  t.teardown(() => server.close());
  const k = client(t, `tcp:127.0.0.1:${bound.split(':')[1]}`, { probeIntervalMs: 0 });
  let drops = 0;
  k.on('disconnected', () => drops++);
  await k.connect();
  await sleep(500);
  t.equal(drops, 0, 'still connected after 5 server probe intervals');
  t.same(await k.echo('alive'), ['alive']);
});

function opensslMissing(): string | false {
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe' });
    return false;
  } catch {
    return 'openssl is not installed; cannot make a test certificate';
  }
}

t.test('ssl remote with key, certificate and CA files', { skip: opensslMissing() }, async (t) => {
  const dir = tempDir(t);
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  // One self-signed certificate serves as server cert, client cert and CA.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=ovnts-test'], { stdio: 'pipe' });
  const server = new OvsdbServer({ tls: { privateKey: key, certificate: cert, caCert: cert } });
  server.addDatabase(new Database(loadSchema('ovn-nb')));
  const bound = await server.listen('pssl:0:127.0.0.1');
  t.teardown(() => server.close());
  const c = client(t, `ssl:127.0.0.1:${bound.split(':')[1]}`, { tls: { privateKey: key, certificate: cert, caCert: cert } });
  await c.connect();
  t.same(await c.listDbs(), ['OVN_Northbound', '_Server']);
});

t.test('method wrappers against a real ovsdb-server', { skip: realMissing() }, async (t) => {
  const dir = tempDir(t);
  const b = await realBackend(t, dir);
  const c = client(t, b.remote);
  await c.connect();
  t.same(await c.listDbs(), ['OVN_Northbound', '_Server']);
  t.ok((await c.getSchema('OVN_Northbound')).tables.has('Logical_Switch_Port'));
  t.same(await c.echo('x'), ['x']);
  t.match(await c.getServerId(), /^[0-9a-f-]{36}$/);
  await c.setDbChangeAware(true);
  const other = client(t, b.remote);
  await other.connect();
  t.equal(await c.lock('L'), true);
  t.equal(await other.lock('L'), false);
  const stolen = new Promise<string>((r) => c.once('stolen', r));
  t.equal(await other.steal('L'), true);
  t.equal(await stolen, 'L');
  const back = new Promise<string>((r) => c.once('locked', r));
  await other.unlock('L');
  t.equal(await back, 'L');
  const ac = new AbortController();
  const tx = c.transaction('OVN_Northbound');
  tx.wait('Logical_Switch', [['name', '==', 'never']], [{ name: 'never' }]);
  const p = tx.execute({ signal: ac.signal });
  await sleep(20);
  ac.abort();
  t.ok((await p.catch((x: unknown) => x)) instanceof CanceledError, 'cancel works with ovsdb-server');
});
