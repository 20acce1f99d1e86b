// The control socket: the real ovn-appctl (when installed) and a plain JSON-RPC client talk to
// ovnts northd as to ovn-northd 23.03: status active/standby/paused, pause hands the lock to
// the other northd, resume, is-paused, connection status, engine stats, errors, exit.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database, JsonRpcConnection, Nb, OvsdbClient, OvsdbServer, loadSchema, setLogLevel } from '@ovnts/ovsdb';
import { runNorthd, startControl, type NorthdHandle } from '../src/index.js';

setLogLevel('off');
const APPCTL = '/usr/bin/ovn-appctl';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function appctl(target: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(APPCTL, ['-t', target, ...args], { timeout: 10_000, env }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The same request without the OVS tools: one JSON-RPC call on the socket. */
async function call(socket: string, method: string, params: string[] = []): Promise<{ result?: unknown; error?: unknown }> {
  const s = createConnection(socket);
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  const conn = new JsonRpcConnection(s);
  try {
    return { result: await conn.request(method, params) };
  } catch (e) {
    return { error: (e as { error?: unknown }).error ?? String(e) };
  } finally {
    conn.close();
  }
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end && !cond()) await sleep(20);
  return cond();
}

t.test('control socket', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-northd-ctl-'));
  const server = new OvsdbServer();
  server.addDatabase(new Database(loadSchema('ovn-nb')));
  server.addDatabase(new Database(loadSchema('ovn-sb')));
  const remote = `unix:${join(dir, 'db.sock')}`;
  await server.listen(`p${remote}`);
  const client = new OvsdbClient({ remotes: [remote] });
  await client.connect();
  const tx = client.transaction('OVN_Northbound');
  tx.insert('NB_Global', Nb.tables.NB_Global.encode({}));
  tx.insert('Logical_Switch', Nb.tables.Logical_Switch.encode({ name: 'sw1' }));
  await tx.execute();

  const a = await runNorthd({ nbRemote: remote, sbRemote: remote });
  const b = await runNorthd({ nbRemote: remote, sbRemote: remote });
  let exitedA = false;
  const ctlA = await startControl(a, { rundir: dir, pidfile: true }, () => (exitedA = true));
  const ctlB = await startControl(b, { rundir: dir, unixctl: 'b.ctl' }, () => undefined);
  t.teardown(async () => {
    await ctlA.close();
    await ctlB.close();
    await a.stop();
    await b.stop();
    await client.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  t.equal(ctlA.socket, join(dir, `ovn-northd.${process.pid}.ctl`), 'default socket name, as ovn-northd names it');
  t.equal(readFileSync(ctlA.pidfile!, 'utf8'), `${process.pid}\n`, 'pidfile written');
  t.equal(ctlB.socket, join(dir, 'b.ctl'), '--unixctl relative to the run directory');
  const sockA = ctlA.socket!;
  const sockB = ctlB.socket!;
  const [active, standby, activeSock, standbySock]: [NorthdHandle, NorthdHandle, string, string] = a.status() === 'active' ? [a, b, sockA, sockB] : [b, a, sockB, sockA];
  t.equal(standby.status(), 'standby');

  t.same(await call(activeSock, 'status'), { result: 'Status: active\n' }, 'status: active');
  t.same(await call(standbySock, 'status'), { result: 'Status: standby\n' }, 'status: standby');
  t.same(await call(activeSock, 'sb-connection-status'), { result: 'connected\n' });
  t.same(await call(activeSock, 'nb-connection-status'), { result: 'connected\n' });
  t.match(await call(activeSock, 'bogus'), { error: /"bogus" is not a valid command/ }, 'unknown command');
  t.match(await call(activeSock, 'status', ['x']), { error: /at most 0 arguments/ }, 'too many arguments');
  t.match(await call(activeSock, 'list-commands'), { result: /^The available commands are:\n(.|\n)*  status\n/ }, 'list-commands');
  t.match(await call(activeSock, 'inc-engine/show-stats'), { result: /Node: lflows\n- recompute: +\d+\n- compute: +\d+\n- cancel: +0\n/ }, 'engine stats');
  t.match(await call(activeSock, 'inc-engine/show-stats', ['lflows', 'recompute']), { result: /^\d+\n$/ }, 'one counter');
  t.match(await call(activeSock, 'inc-engine/show-stats', ['nope']), { error: /Unknown engine node/ });

  // pause hands the lock over; resume makes it a standby.
  t.same(await call(activeSock, 'pause'), { result: '' });
  t.same(await call(activeSock, 'status'), { result: 'Status: paused\n' }, 'status: paused');
  t.same(await call(activeSock, 'is-paused'), { result: 'true\n' });
  t.ok(await waitFor(() => standby.status() === 'active'), 'the other northd took the lock');
  t.same(await call(activeSock, 'resume'), { result: '' });
  t.same(await call(activeSock, 'is-paused'), { result: 'false\n' });
  t.equal(active.status(), 'standby', 'the resumed one waits for the lock');

  if (existsSync(APPCTL)) {
    const r = await appctl(standbySock, ['status']);
    t.same([r.code, r.stdout], [0, 'Status: active\n'], 'real ovn-appctl: status');
    const bad = await appctl(standbySock, ['frobnicate']);
    t.equal(bad.code, 2, 'real ovn-appctl exits 2 on an error reply');
    t.match(bad.stderr, /"frobnicate" is not a valid command/);
    const ver = await appctl(standbySock, ['version']);
    t.match(ver.stdout, /ovnts northd/);
  } else t.comment(`${APPCTL} not installed: real ovn-appctl part skipped`);

  t.same(await call(sockA, 'exit'), { result: '' });
  t.ok(await waitFor(() => exitedA), 'exit asks the daemon to stop');
});
