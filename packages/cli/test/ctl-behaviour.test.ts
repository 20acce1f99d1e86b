// How `ovnts nbctl|vsctl` behave beyond one invocation's output: concurrent read-modify-write
// invocations retry instead of losing updates, wait-until waits for the change, --timeout
// ends the wait, failures to connect read like OVS's, and the `ovnts` binary starts them.
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { NBCTL } from '../src/ctl/nbctl/tool.js';
import { VSCTL } from '../src/ctl/vsctl/tool.js';
import { runOurs, tools } from './helpers/ctl-diff.js';

const realServer = tools.missingTools('ovsdb-server', 'ovsdb-tool');

async function servers(t: Test): Promise<{ name: string; remote: string }[]> {
  const sb = new tools.Sandbox('ovnts-ctlb-');
  t.teardown(() => sb.close());
  const out = [{ name: 'ovnts db', remote: (await sb.startTsServer('ts', ['ovn-nb'])).remote }];
  if (!realServer) out.push({ name: 'ovsdb-server', remote: await sb.startRealServer('real', ['ovn-nb']) });
  return out;
}

t.test('concurrent read-modify-writes all take effect (verify and retry)', async (t) => {
  for (const { name, remote } of await servers(t)) {
    const keys = Array.from({ length: 8 }, (_, i) => `k${i}`);
    const setup = await runOurs(NBCTL, [`--db=${remote}`, 'ls-add', 'sw0', '--', 'set', 'Logical_Switch', 'sw0', ...keys.map((k) => `other_config:${k}=v`)]);
    t.equal(setup.code, 0, `${name}: setup`);
    // Each "remove" rewrites the whole column from what it read: without the verify-and-retry
    // of the real tools, most of these would undo each other.
    const results = await Promise.all(keys.map((k) => runOurs(NBCTL, [`--db=${remote}`, 'remove', 'Logical_Switch', 'sw0', 'other_config', k])));
    t.same(results.map((r) => r.code), keys.map(() => 0), `${name}: all removes succeed`);
    const left = await runOurs(NBCTL, [`--db=${remote}`, 'get', 'Logical_Switch', 'sw0', 'other_config']);
    t.equal(left.out, '{}\n', `${name}: every key was removed`);
  }
});

t.test('wait-until waits for the row and the condition', async (t) => {
  for (const { name, remote } of await servers(t)) {
    let done = false;
    const waiting = runOurs(NBCTL, [`--db=${remote}`, 'wait-until', 'Logical_Switch', 'sw9', 'external_ids:ready=yes']).then((r) => {
      done = true;
      return r;
    });
    await runOurs(NBCTL, [`--db=${remote}`, 'ls-add', 'sw9']);
    await new Promise((r) => setTimeout(r, 100));
    t.notOk(done, `${name}: still waiting while the condition is false`);
    await runOurs(NBCTL, [`--db=${remote}`, 'set', 'Logical_Switch', 'sw9', 'external_ids:ready=yes']);
    const r = await waiting;
    t.same({ code: r.code, out: r.out, err: r.err }, { code: 0, out: '', err: '' }, `${name}: done once it holds`);
  }
});

t.test('--timeout ends a wait like SIGALRM ends the real tools', async (t) => {
  const [{ remote }] = await servers(t);
  const r = await runOurs(NBCTL, [`--db=${remote!}`, '--timeout=1', 'wait-until', 'Logical_Switch', 'never']);
  t.equal(r.code, 142);
  t.match(r.err, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|\d{5}\|fatal_signal\|WARN\|terminating with signal 14 \(Alarm clock\)\n$/);
});

t.test('connection failures and argument errors read like the real tools', async (t) => {
  const cases: string[][] = [
    ['--db=unix:/nonexistent/db.sock', 'ls-list'],
    ['--db=tcp:127.0.0.1:1', 'ls-list'],
    ['--db=foo:bar', 'ls-list'],
    ['--db=unix:/nonexistent/db.sock', 'list', 'NoSuchTable'],
    ['--db=unix:/nonexistent/db.sock', 'nosuch'],
    ['--db=unix:/nonexistent/db.sock'],
    ['--db=unix:/nonexistent/db.sock', '--timeout=0', 'ls-list'],
    ['--db=unix:/nonexistent/db.sock', '--wait=maybe', 'ls-list'],
    ['--db'],
  ];
  const real = tools.missingTools('ovn-nbctl');
  for (const c of cases) {
    const ours = await runOurs(NBCTL, c);
    if (real) {
      t.equal(ours.code, 1, `${c.join(' ')}: exit status 1`);
      continue;
    }
    const r = await tools.run('ovn-nbctl', c);
    t.same({ code: ours.code, err: ours.err, out: ours.out }, { code: r.code, err: r.stderr, out: r.stdout }, c.join(' '));
  }
});

t.test('the ovnts binary runs the ctl tools', async (t) => {
  const sb = new tools.Sandbox('ovnts-ctlbin-');
  t.teardown(() => sb.close());
  const remote = (await sb.startTsServer('ts', ['ovn-nb', 'vswitch'])).remote;
  const cli = fileURLToPath(new URL('../../bin/ovnts.js', import.meta.url));
  const run = promisify(execFile);
  const ovnts = (...args: string[]) => run(process.execPath, [cli, ...args], { timeout: 20_000 }).catch((e: { code: number; stdout: string; stderr: string }) => e);
  await ovnts('nbctl', `--db=${remote}`, 'ls-add', 'sw0');
  const list = await ovnts('nbctl', `--db=${remote}`, 'ls-list');
  t.match(list.stdout, /^[0-9a-f-]{36} \(sw0\)\n$/);
  const bad = (await ovnts('nbctl', `--db=${remote}`, 'ls-del', 'nosuch')) as { code: number; stderr: string };
  t.equal(bad.code, 1);
  t.equal(bad.stderr, 'ovn-nbctl: nosuch: switch name not found\n');
  const exists = (await ovnts('vsctl', `--db=${remote}`, '--no-wait', 'br-exists', 'br0')) as { code: number };
  t.equal(exists.code, 2, 'br-exists: status 2 for a missing bridge');
  const help = await ovnts('--help');
  t.match(help.stdout, /nbctl/);
  t.match(help.stdout, /vsctl/);
  const vshelp = await ovnts('vsctl', '--help');
  t.match(vshelp.stdout, /add-br/);
});

t.test('vsctl waits for the switch to apply the change unless --no-wait', async (t) => {
  const sb = new tools.Sandbox('ovnts-ctlw-');
  t.teardown(() => sb.close());
  const remote = (await sb.startTsServer('ts', ['vswitch'])).remote;
  t.equal((await runOurs(VSCTL, [`--db=${remote}`, '--no-wait', 'init'])).code, 0);
  let done = false;
  const adding = runOurs(VSCTL, [`--db=${remote}`, 'add-br', 'br0']).then((r) => {
    done = true;
    return r;
  });
  await new Promise((r) => setTimeout(r, 200));
  t.notOk(done, 'waits for cur_cfg to reach next_cfg');
  const next = await runOurs(VSCTL, [`--db=${remote}`, '--no-wait', 'get', 'Open_vSwitch', '.', 'next_cfg']);
  t.equal(next.out, '1\n');
  await runOurs(VSCTL, [`--db=${remote}`, '--no-wait', 'set', 'Open_vSwitch', '.', 'cur_cfg=1']);
  t.equal((await adding).code, 0, 'returns once the switch caught up');
  const ro = await runOurs(VSCTL, [`--db=${remote}`, 'list-br']);
  t.same({ code: ro.code, out: ro.out }, { code: 0, out: 'br0\n' }, 'read-only commands do not wait');
});
