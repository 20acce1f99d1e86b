// `ovnts sbctl lflow-list` / `dump-flows` / `count-flows` against ovn-sbctl 23.03 on the SAME
// Southbound database, so flow and datapath UUIDs are identical and outputs must match byte for
// byte:
//   1. a Southbound built by real ovn-northd from a Northbound made with ovn-nbctl (switches,
//      a router, ACLs, a load balancer: flows of logical datapath groups included);
//   2. a hand-made Southbound (no northd) with the corner cases: datapaths without a name or
//      with name2 only, equal names, flows of a group AND a datapath, equal sort keys, flows of
//      no datapath, long stage names;
// each read three ways: real ovn-sbctl and ovnts sbctl against the real ovsdb-server, and ovnts
// sbctl against the ovnts server serving a copy of the same database file.
import t from 'tap';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { northdMissing, withRealOvn } from '@ovnts/testkit';
import { loadDatabaseFile } from '@ovnts/ovsdb/dist/src/storage/open.js';
import { OvsdbServer } from '@ovnts/ovsdb/dist/src/server/server.js';
import { SBCTL } from '../src/ctl/sbctl/tool.js';
import { runOurs, tools, type Captured } from './helpers/ctl-diff.js';

const skipNorthd = northdMissing() ?? tools.missingTools('ovn-sbctl', 'ovsdb-server', 'ovsdb-tool');
const skipSb = tools.missingTools('ovn-sbctl', 'ovsdb-server', 'ovsdb-tool');

/** Log lines carry the time. */
const plain = (s: string): string => s.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z\|/gm, 'TIME|');

/**
 * The "virtual flow" sections of --vflows list rows in the IDL's hash order: compare each
 * section's lines sorted, and the load balancers' entries (and their VIPs) sorted; the flows
 * above them stay as printed.
 */
function sortVflowSections(s: string): string {
  const simple = s.replace(/\n(Port Bindings|MAC Bindings|MC Groups|Chassis):\n((?: {2}.*\n)+)/g, (_m, title: string, body: string) => `\n${title}:\n${body.split('\n').filter(Boolean).sort().join('\n')}\n`);
  return simple.replace(/\nLoad Balancers:\n([\s\S]*)$/, (_m, body: string) => {
    const entries = body.split('\n\n').filter((e) => e.trim() !== '');
    const sorted = entries.map((e) => {
      const [head, vips, ...rest] = e.split('\n');
      return [head, vips, ...rest.sort()].join('\n');
    });
    return `\nLoad Balancers:\n${sorted.sort().map((e) => `${e}\n\n`).join('')}`;
  });
}

interface Target {
  readonly remote: string;
  /** The database file the real server serves (copied for the ovnts server). */
  readonly file: string;
  readonly dir: string;
}

/** Serves a copy of `file` with the ovnts server; returns its remote and a stopper. */
async function ovntsCopy(file: string, dir: string): Promise<{ remote: string; close: () => Promise<void> }> {
  const copy = join(dir, 'ovnts-copy.db');
  copyFileSync(file, copy);
  const { db } = await loadDatabaseFile(copy);
  const server = new OvsdbServer();
  server.addDatabase(db);
  const sock = join(dir, 'ovnts-copy.sock');
  await server.listen(`punix:${sock}`);
  return { remote: `unix:${sock}`, close: () => server.close() };
}

/** Runs each step with ovn-sbctl and ovnts sbctl (real server, ovnts server) and compares. */
async function sameDb(t: Test, target: Target, steps: readonly (readonly string[])[]): Promise<void> {
  const ours = await ovntsCopy(target.file, target.dir);
  const rundir = join(target.dir, 'ovs-run');
  mkdirSync(rundir, { recursive: true });
  const env = { ...process.env, OVS_RUNDIR: rundir };
  const savedRundir = process.env['OVS_RUNDIR'];
  process.env['OVS_RUNDIR'] = rundir;
  try {
    for (const step of steps) {
      const r = await tools.run('ovn-sbctl', [`--db=${target.remote}`, ...step], { env, timeoutMs: 60_000 });
      const ref: Captured = { out: r.stdout, err: r.stderr, code: r.code };
      const sides: [string, Captured][] = [
        ['ovnts / ovsdb-server', await runOurs(SBCTL, [`--db=${target.remote}`, ...step])],
        ['ovnts / ovnts db', await runOurs(SBCTL, [`--db=${ours.remote}`, ...step])],
      ];
      const vflows = step.some((a) => a.startsWith('--vflows'));
      const norm = (c: Captured, remote: string): Captured => ({
        out: vflows ? sortVflowSections(c.out) : c.out,
        err: plain(c.err).replaceAll(remote, 'REMOTE').replace(/^\/\S*\/(?=[\w-]+: )/gm, ''),
        code: c.code,
      });
      const want = norm(ref, target.remote);
      const label = `ovn-sbctl ${step.join(' ')}`;
      if (process.env['CTL_DIFF_VERBOSE']) t.comment(`$ ${label}  [exit ${want.code}]\n${want.out.slice(0, 2000)}${want.err}`);
      for (const [who, c] of sides) {
        const got = norm(c, who.endsWith('ovnts db') ? ours.remote : target.remote);
        t.equal(got.out, want.out, `${label}: stdout (${who})`);
        t.equal(got.err, want.err, `${label}: stderr (${who})`);
        t.equal(got.code, want.code, `${label}: exit status ${String(want.code)} (${who})`);
      }
    }
  } finally {
    if (savedRundir === undefined) delete process.env['OVS_RUNDIR'];
    else process.env['OVS_RUNDIR'] = savedRundir;
    await ours.close();
  }
}

const NB: string[][] = [
  ['ls-add', 'sw0'],
  ['lsp-add', 'sw0', 'vm1'],
  ['lsp-set-addresses', 'vm1', '00:00:00:00:00:01 10.0.0.11'],
  ['lsp-set-port-security', 'vm1', '00:00:00:00:00:01 10.0.0.11'],
  ['lsp-add', 'sw0', 'vm2'],
  ['lsp-set-addresses', 'vm2', '00:00:00:00:00:02 10.0.0.12'],
  ['ls-add', 'sw1'],
  ['lsp-add', 'sw1', 'vm3'],
  ['lsp-set-addresses', 'vm3', '00:00:00:00:00:03 10.0.1.13'],
  ['lr-add', 'lr0'],
  ['lrp-add', 'lr0', 'lr0-sw0', '00:00:00:00:ff:01', '10.0.0.1/24'],
  ['lrp-add', 'lr0', 'lr0-sw1', '00:00:00:00:ff:02', '10.0.1.1/24'],
  ['lsp-add', 'sw0', 'sw0-lr0', '--', 'lsp-set-type', 'sw0-lr0', 'router', '--', 'lsp-set-addresses', 'sw0-lr0', 'router', '--', 'lsp-set-options', 'sw0-lr0', 'router-port=lr0-sw0'],
  ['lsp-add', 'sw1', 'sw1-lr0', '--', 'lsp-set-type', 'sw1-lr0', 'router', '--', 'lsp-set-addresses', 'sw1-lr0', 'router', '--', 'lsp-set-options', 'sw1-lr0', 'router-port=lr0-sw1'],
  ['acl-add', 'sw0', 'to-lport', '1001', 'ip4.src == 10.0.1.13 && tcp.dst == 22', 'drop'],
  ['acl-add', 'sw0', 'from-lport', '1000', 'ip4', 'allow-related'],
  ['lb-add', 'lb0', '10.0.0.100:80', '10.0.0.11:8080,10.0.0.12:8080', 'tcp'],
  ['ls-lb-add', 'sw0', 'lb0'],
  ['lr-nat-add', 'lr0', 'snat', '172.16.0.1', '10.0.0.0/24'],
];

t.test('lflow-list, dump-flows and count-flows over a Southbound built by real ovn-northd', { skip: skipNorthd }, async (t) => {
  await withRealOvn(NB, [['chassis-add', 'hv1', 'geneve', '127.0.0.2'], ['lsp-bind', 'vm1', 'hv1']], async (ovn) => {
    const router = (await ovn.sbctl(['--bare', '--columns=_uuid', 'find', 'Datapath_Binding', 'external_ids:name=lr0'])).trim();
    const flows = (await ovn.sbctl(['--bare', '--columns=_uuid', 'list', 'Logical_Flow'])).split('\n').filter(Boolean);
    const grouped = (await ovn.sbctl(['--bare', '--columns=_uuid', 'find', 'Logical_Flow', 'logical_datapath=[]'])).split('\n').filter(Boolean);
    t.ok(flows.length > 100, `northd wrote ${flows.length} flows`);
    t.ok(grouped.length > 0, `${grouped.length} flows belong to datapath groups`);
    await sameDb(t, { remote: ovn.remote, file: join(ovn.dir, 'sb.db'), dir: ovn.dir }, [
      ['lflow-list'],
      ['dump-flows'],
      ['lflow-list', 'sw0'],
      ['dump-flows', 'sw1'],
      ['lflow-list', router],
      ['lflow-list', router.slice(0, 6)],
      ['--uuid', 'lflow-list'],
      ['--uuid', 'lflow-list', 'lr0'],
      ['lflow-list', flows[0]!.slice(0, 8)],
      ['lflow-list', `0x${flows[1]!.slice(0, 8)}`],
      ['--uuid', 'lflow-list', flows[2]!, flows[3]!.slice(0, 13), grouped[0]!.slice(0, 5)],
      ['lflow-list', 'sw1', grouped[0]!.slice(0, 8), grouped[1]!.slice(0, 8)],
      ['lflow-list', '0'],
      ['lflow-list', 'abc'],
      ['lflow-list', 'nosuch'],
      ['lflow-list', 'sw0', 'nosuch'],
      ['lflow-list', `${flows[0]!.slice(0, 8)}0`],
      ['lflow-list', 'sw0', '--', 'lflow-list', 'sw1'],
      ['--oneline', 'lflow-list', 'sw1'],
      ['count-flows'],
      ['count-flows', 'sw0'],
      ['count-flows', router],
      ['count-flows', 'nosuch'],
      ['--uuid', 'count-flows'],
      ['--vflows', 'lflow-list'],
      ['--vflows', '--uuid', 'lflow-list', 'sw0'],
      ['--vflows', 'lflow-list', 'lr0'],
      ['--ovs', 'lflow-list', 'sw1'],
      ['--ovs=unix:/nonexistent/br-int.mgmt', '--stats', 'lflow-list', 'lr0'],
      ['--ovs', 'lflow-list', 'nosuch'],
      ['lflow-list', 'sw0', 'sw1'],
      ['count-flows', 'sw0', 'sw1'],
    ]);
  });
});

t.test('lflow-list corner cases on a hand-made Southbound', { skip: skipSb }, async (t) => {
  const sb = new tools.Sandbox('ovnts-lflow-');
  t.teardown(() => sb.close());
  const remote = await sb.startRealServer('sb', ['ovn-sb']);
  const sbctl = async (args: string[]): Promise<string> => {
    const r = await sb.run('ovn-sbctl', [`--db=${remote}`, ...args]);
    if (r.code !== 0) throw new Error(`ovn-sbctl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await sbctl(['init']);
  const flow = (dp: string, pipeline: string, table: number, prio: number, match: string, actions: string, stage?: string): string[] => [
    '--',
    'create',
    'Logical_Flow',
    ...(dp ? [dp.startsWith('@g') ? `logical_dp_group=${dp}` : `logical_datapath=${dp}`] : []),
    `pipeline=${pipeline}`,
    `table_id=${table}`,
    `priority=${prio}`,
    `match=${JSON.stringify(match)}`,
    `actions=${JSON.stringify(actions)}`,
    ...(stage ? [`external_ids:stage-name=${stage}`] : []),
  ];
  await sbctl([
    '--id=@a', 'create', 'Datapath_Binding', 'tunnel_key=1', 'external_ids:name=zz',
    '--', '--id=@b', 'create', 'Datapath_Binding', 'tunnel_key=2', 'external_ids:name=aa',
    '--', '--id=@c', 'create', 'Datapath_Binding', 'tunnel_key=3',
    '--', '--id=@d', 'create', 'Datapath_Binding', 'tunnel_key=4', 'external_ids:name2=second-name',
    '--', '--id=@e', 'create', 'Datapath_Binding', 'tunnel_key=5', 'external_ids:name=twin',
    '--', '--id=@f', 'create', 'Datapath_Binding', 'tunnel_key=6', 'external_ids:name=twin',
    '--', '--id=@q', 'create', 'Datapath_Binding', 'tunnel_key=7', 'external_ids:name="with \\"quote\\" and space"',
    '--', '--id=@g1', 'create', 'Logical_DP_Group', 'datapaths=[@a,@b,@c]',
    ...flow('@a', 'ingress', 1, 5, 'm1', 'b', 's1'),
    ...flow('@a', 'ingress', 1, 5, 'm1', 'a', 's1'),
    ...flow('@g1', 'egress', 0, 65535, 'x == 1', 'next;'),
    ...flow('@g1', 'ingress', 0, 0, '1', 'next;', 'stage_zero'),
    ...flow('@c', 'ingress', 10, 12345, 'm', 'a', 'averyveryverylongstagename_xx'),
    ...flow('', 'ingress', 2, 3, 'orphan', 'a'),
    ...flow('@d', 'ingress', 2, 9, 'a', 'b', 'first'),
    ...flow('@d', 'ingress', 2, 1, 'a', 'b'),
    ...flow('@d', 'ingress', 3, 1, 'a', 'c', 'y3'),
    ...flow('@d', 'ingress', 3, 1, 'a', 'b', 'x3'),
    ...flow('@d', 'egress', 3, 0, 'a', 'c', 'z3'),
    ...flow('@e', 'ingress', 0, 1, 'e', 'e'),
    ...flow('@f', 'ingress', 0, 1, 'f', 'f'),
    ...flow('@q', 'ingress', 0, 100, 'ip4.dst == {10.0.0.1, 10.0.0.2} && "quoted"', 'output;', 'ls_in_x'),
    ...flow('@b', 'ingress', 0, 0, 'é ünïcode', 'next;', 'ls_in_y'),
    '--', 'create', 'Port_Binding', 'logical_port=p1', 'tunnel_key=1', 'datapath=@a',
    '--', 'create', 'Port_Binding', 'logical_port=p2', 'tunnel_key=2', 'datapath=@c',
    '--', 'create', 'MAC_Binding', 'logical_port=p1', 'ip=10.0.0.9', 'mac="00:00:00:00:00:09"', 'datapath=@a',
    '--', 'create', 'Load_Balancer', 'name=x', 'vips={"1.1.1.1"="2.2.2.2", "1.1.1.2:80"="2.2.2.3:80,2.2.2.4:80"}', 'datapaths=[@c,@a]',
    '--', 'create', 'Load_Balancer', 'name="y z"', 'protocol=sctp', 'datapaths=@c', 'datapath_group=@g1',
    '--', 'create', 'Load_Balancer', 'name=empty',
    '--', 'create', 'Chassis', 'name=hv1', 'encaps=@en', '--', '--id=@en', 'create', 'Encap', 'type=geneve', 'ip=1.1.1.1', 'chassis_name=hv1',
  ]);
  // A flow of a group that also names one of the group's datapaths itself.
  const [dpB] = (await sbctl(['--bare', '--columns=_uuid', 'find', 'Datapath_Binding', 'tunnel_key=2'])).split('\n');
  const [g1] = (await sbctl(['--bare', '--columns=_uuid', 'list', 'Logical_DP_Group'])).split('\n');
  await sbctl(['create', 'Logical_Flow', `logical_datapath=${dpB!}`, `logical_dp_group=${g1!}`, 'pipeline=ingress', 'table_id=1', 'priority=6', 'match=m1', 'actions=a']);
  const dpC = (await sbctl(['--bare', '--columns=_uuid', 'find', 'Datapath_Binding', 'tunnel_key=3'])).trim();
  const flows = (await sbctl(['--bare', '--columns=_uuid', 'list', 'Logical_Flow'])).split('\n').filter(Boolean);
  await sameDb(t, { remote, file: sb.path('sb-ovn-sb.db'), dir: sb.dir }, [
    ['lflow-list'],
    ['--uuid', 'lflow-list'],
    ['lflow-list', 'zz'],
    ['lflow-list', 'aa'],
    ['lflow-list', 'second-name'],
    ['lflow-list', dpC],
    ['lflow-list', dpC.slice(0, 4)],
    ['lflow-list', dpC.slice(0, 3)],
    ['lflow-list', 'twin'],
    ['lflow-list', 'with "quote" and space'],
    ['lflow-list', flows[0]!.slice(0, 4), flows[5]!.slice(0, 8)],
    ['--uuid', 'lflow-list', flows[2]!.toUpperCase().slice(0, 8)],
    ['lflow-list', ''],
    ['lflow-list', '0x'],
    ['lflow-list', '00'],
    ['count-flows'],
    ['count-flows', 'second-name'],
    ['count-flows', dpC.slice(0, 3)],
    ['--vflows', 'lflow-list'],
    ['--vflows', 'lflow-list', 'zz'],
    ['--vflows', '--uuid', 'lflow-list', 'aa'],
    ['--vflows', 'lflow-list', dpC],
    ['--vflows', 'lflow-list', 'twin'],
  ]);
});
