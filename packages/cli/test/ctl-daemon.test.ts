// Daemon mode of `ovnts nbctl` (--detach, OVN_NB_DAEMON) against ovn-nbctl's, four ways, each
// on its own fresh Northbound database:
//   A. real ovn-nbctl client → real `ovn-nbctl --detach` daemon (the reference),
//   B. real ovn-nbctl client → ovnts daemon (our daemon speaks the real unixctl protocol),
//   C. ovnts client → ovnts daemon,
//   D. ovnts client → real daemon (our client speaks it too),
// plus E. ovnts client → ovnts daemon → ovnts database server. After every step stdout, stderr
// and exit status must equal A's once UUIDs are replaced by labels naming their rows. Then
// `ovn-appctl -t SOCKET exit` stops each daemon, which removes its socket and pidfile.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tools, type Captured } from './helpers/ctl-diff.js';

const skip = tools.missingTools('ovn-nbctl', 'ovsdb-server', 'ovsdb-tool', 'ovn-appctl');
const OVNTS = fileURLToPath(new URL('../../bin/ovnts.js', import.meta.url));

interface Side {
  readonly name: string;
  readonly remote: string;
  readonly socket: string;
  readonly pidfile: string;
  readonly ours: boolean;
  readonly norm: InstanceType<typeof tools.UuidNormalizer>;
}

/** Steps: a command line, or {direct} for a change made by another client, not through the daemon. */
type Step = readonly string[] | { readonly direct: readonly string[] };

t.test('nbctl daemon mode: real and ovnts clients and daemons', { skip }, async (t) => {
  const sb = new tools.Sandbox('ovnts-daemon-');
  // Daemons detach from the test: whatever happens, stop them by PID before the sandbox goes.
  const daemonPids: number[] = [];
  t.teardown(async () => {
    for (const pid of daemonPids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await sb.close();
  });
  const remotes = await Promise.all([sb.startRealServer('a', ['ovn-nb']), sb.startRealServer('b', ['ovn-nb']), sb.startRealServer('c', ['ovn-nb']), sb.startRealServer('d', ['ovn-nb'])]);
  const ts = await sb.startTsServer('e', ['ovn-nb']);
  const nbctl = (ours: boolean): [string, string[]] => (ours ? [process.execPath, [OVNTS, 'nbctl']] : ['ovn-nbctl', []]);

  /** Starts a daemon; returns its socket path (what --detach printed). */
  const startDaemon = async (ours: boolean, remote: string, pidfile: string): Promise<string> => {
    const [cmd, pre] = nbctl(ours);
    const r = await sb.run(cmd, [...pre, `--db=${remote}`, '--detach', `--pidfile=${pidfile}`, '--no-chdir', `--log-file=${sb.path(`${pidfile}.log`)}`], { timeoutMs: 20_000 });
    t.equal(r.code, 0, `${ours ? 'ovnts' : 'ovn-nbctl'} --detach: exit status 0 ${r.stderr}`);
    t.match(r.stdout, /^\/\S+\.ctl\n$/, `${ours ? 'ovnts' : 'ovn-nbctl'} --detach prints the control socket`);
    const pid = Number(readFileSync(sb.path(pidfile), 'utf8'));
    t.ok(pid > 0, 'pidfile names the daemon');
    if (pid > 0) daemonPids.push(pid);
    return r.stdout.trim();
  };

  const sides: Side[] = [];
  const defs: [string, number, boolean, boolean][] = [
    ['real client / real daemon', 0, false, false],
    ['real client / ovnts daemon', 1, true, false],
    ['ovnts client / ovnts daemon', 2, true, true],
    ['ovnts client / real daemon', 3, false, true],
    ['ovnts client / ovnts daemon / ovnts db', 4, true, true],
  ];
  const clients = new Map<Side, boolean>();
  for (const [name, i, daemonOurs, clientOurs] of defs) {
    const remote = i < 4 ? remotes[i]! : ts.remote;
    const pidfile = `daemon-${i}.pid`;
    const socket = await startDaemon(daemonOurs, remote, pidfile);
    const side: Side = { name, remote, socket, pidfile, ours: daemonOurs, norm: new tools.UuidNormalizer() };
    sides.push(side);
    clients.set(side, clientOurs);
  }

  const run = async (side: Side, step: Step): Promise<Captured> => {
    const direct = !Array.isArray(step);
    const args = (direct ? (step as { direct: readonly string[] }).direct : (step as readonly string[])).map((a) => a.replace('@REMOTE', side.remote));
    const [cmd, pre] = nbctl(!direct && clients.get(side)!);
    const env = { ...sb.env, OVN_NB_DAEMON: side.socket };
    const r = await sb.run(cmd, direct ? [`--db=${side.remote}`, ...args] : [...pre, ...args], { env: direct ? sb.env : env, timeoutMs: 20_000 });
    return { out: r.stdout, err: r.stderr, code: r.code };
  };

  const steps: Step[] = [
    ['ls-list'],
    ['ls-add', 'sw0'],
    ['ls-add', 'sw0'],
    ['lsp-add', 'sw0', 'p1', '--', 'lsp-set-addresses', 'p1', '00:00:00:00:00:01 10.0.0.1'],
    ['--oneline', 'lsp-list', 'sw0', '--', 'ls-list'],
    ['-f', 'csv', '--columns=name,addresses', 'list', 'Logical_Switch_Port'],
    ['--format', 'table', '--no-headings', '--columns', 'name', 'list', 'Logical_Switch'],
    ['--if-exists', 'ls-del', 'nosuch'],
    ['ls-del', 'nosuch'],
    ['nosuch'],
    [],
    ['--bare', '--columns=name', 'find', 'Logical_Switch_Port', 'name=p1'],
    ['--dry-run', 'ls-add', 'dry'],
    ['ls-list'],
    { direct: ['ls-add', 'outside'] },
    ['ls-list'],
    ['--may-exist', 'ls-add', 'outside'],
    ['--id=@sw', 'create', 'Logical_Switch', 'name=sw9', '--', 'set', 'Logical_Switch', 'sw0', 'other_config:subnet=10.0.0.0/24'],
    ['get', 'Logical_Switch', 'sw0', 'other_config'],
    ['wait-until', 'Logical_Switch', 'sw9'],
    ['lr-add', 'lr0', '--', 'lrp-add', 'lr0', 'lrp0', '00:00:00:00:ff:01', '10.0.0.254/24'],
    ['show'],
    ['-t', '5', '--leader-only', '--no-shuffle-remotes', '--log-file=/dev/null', 'ls-list'],
    ['-t', '0', 'ls-list'],
    ['--db=@REMOTE', 'ls-list'],
    { direct: ['ls-del', 'outside'] },
    ['lsp-add', 'outside', 'p9'],
    ['acl-add', 'sw0', 'to-lport', '1000', 'ip4 && tcp.dst == 22', 'drop', '--', 'acl-list', 'sw0'],
    ['--pretty', '--format=json', '--columns=name', 'list', 'Logical_Router'],
    ['lsp-set-addresses', 'p1', 'garbage'],
    ['ls-del', 'sw0', '--', 'ls-list'],
  ];
  const READ_ONLY = /^(ls-list|lsp-list|list|find|get|show|acl-list|wait-until)$/;
  for (const step of steps) {
    const results = await Promise.all(sides.map((s) => run(s, step)));
    const words = Array.isArray(step) ? (step as readonly string[]) : (step as { direct: readonly string[] }).direct;
    const command = words.find((a) => !a.startsWith('-') && !/^\d+$/.test(a)) ?? '';
    if (!READ_ONLY.test(command)) await Promise.all(sides.map((s) => tools.labelRows(s.remote, 'OVN_Northbound', s.norm)));
    const norm = (s: Side, text: string): string => {
      const n = tools.canonicalOrder(tools.normalizeVolatile(s.norm.text(text.replaceAll(s.remote, 'REMOTE').replaceAll(s.socket, 'SOCKET').replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z\|/gm, 'TIME|'))));
      return command === 'show' ? tools.sortTree(n) : n;
    };
    const [ref, ...others] = results.map((r, i) => ({ out: norm(sides[i]!, r.out), err: norm(sides[i]!, r.err), code: r.code }));
    const label = `${Array.isArray(step) ? '' : '(direct) '}ovn-nbctl ${words.join(' ')}`;
    if (process.env['CTL_DIFF_VERBOSE']) t.comment(`$ ${label}  [exit ${ref!.code}]\n${ref!.out}${ref!.err}`);
    others.forEach((o, i) => {
      const who = sides[i + 1]!.name;
      t.equal(o.out, ref!.out, `${label}: stdout (${who})`);
      t.equal(o.err, ref!.err, `${label}: stderr (${who})`);
      t.equal(o.code, ref!.code, `${label}: exit status ${String(ref!.code)} (${who})`);
    });
  }

  // The unixctl commands every OVS daemon has, through the real ovn-appctl.
  for (const s of sides.filter((x) => x.ours)) {
    const v = await sb.run('ovn-appctl', ['-t', s.socket, 'version']);
    t.match(v.stdout, /^ovn-nbctl \(ovnts\)/, `${s.name}: ovn-appctl version`);
    const l = await sb.run('ovn-appctl', ['-t', s.socket, 'list-commands']);
    t.match(l.stdout, /^The available commands are:\n(?: {2}\S+ *\n)+$/, `${s.name}: ovn-appctl list-commands`);
    const bad = await sb.run('ovn-appctl', ['-t', s.socket, 'no-such-command']);
    const realBad = await sb.run('ovn-appctl', ['-t', sides[0]!.socket, 'no-such-command']);
    t.same([bad.code, bad.stderr.replaceAll(s.socket, 'SOCKET')], [realBad.code, realBad.stderr.replaceAll(sides[0]!.socket, 'SOCKET')], `${s.name}: unknown unixctl command`);
  }

  // --detach refuses commands, and a second daemon on a live pidfile.
  for (const ours of [false, true]) {
    const [cmd, pre] = nbctl(ours);
    const r = await sb.run(cmd, [...pre, `--db=${remotes[0]!}`, '--detach', 'ls-list']);
    t.same([r.code, r.stdout, r.stderr], [1, '', 'ovn-nbctl: non-option arguments not supported with --detach (use --help for help)\n'], `${ours ? 'ovnts' : 'ovn-nbctl'} --detach with a command`);
  }
  const again = await sb.run(process.execPath, [OVNTS, 'nbctl', `--db=${remotes[1]!}`, '--detach', `--pidfile=${sides[1]!.pidfile}`]);
  t.equal(again.code, 1, 'a second ovnts daemon on a live pidfile fails');
  t.match(again.stderr, /already running as pid \d+/, '... and says why');

  // ovn-appctl exit stops every daemon; ours remove their socket and pidfile.
  for (const s of sides) {
    const pid = Number(readFileSync(sb.path(s.pidfile), 'utf8'));
    const r = await sb.run('ovn-appctl', ['-t', s.socket, 'exit']);
    t.equal(r.code, 0, `${s.name}: ovn-appctl exit`);
    await tools.waitFor(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 10_000, `daemon ${pid} to exit`);
    daemonPids.splice(daemonPids.indexOf(pid), 1); // gone: its PID may be reused
    t.notOk(existsSync(s.socket), `${s.name}: control socket removed`);
    t.notOk(existsSync(sb.path(s.pidfile)), `${s.name}: pidfile removed`);
  }
});
