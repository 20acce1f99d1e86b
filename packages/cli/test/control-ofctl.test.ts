// `ovnts ofctl` against a switch served in this process (with a stand-in datapath whose
// counters and connection table are fixed), and `ovnts switch` as its own process:
// the CLI is spawned asynchronously and its output compared with what ovs-ofctl 3.1 prints for
// the same state (durations and ages, which depend on the clock, are masked).
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ControlServer, SwitchClient } from '@ovnts/switch/dist/src/control/index.js';
import { buildUdp4 } from '@ovnts/switch/dist/src/packet/index.js';
import { Switch } from '@ovnts/switch/dist/src/switch.js';
import { runOfctl } from '../src/commands/ofctl.js';
import { createDatapath } from './helpers/switch-fake-datapath.js';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const bin = here('../../bin/ovnts.js');
const mainSrc = here('../../src/main.ts');
// Until main.ts routes `ofctl` and `switch`, the commands' modules are run directly.
const wired = (name: string): boolean => existsSync(mainSrc) && readFileSync(mainSrc, 'utf8').includes(`commands/${name}.js`);
// Children run without tap's loaders (inherited through NODE_OPTIONS, they triple start-up time).
const env = { ...process.env, NODE_OPTIONS: '' };
const SHIM = 'const m = await import(process.argv[1]); const f = m[process.argv[2]]; process.exit(await f(process.argv.slice(3)))';

function argvFor(cmd: 'ofctl' | 'switch', args: readonly string[]): string[] {
  if (wired(cmd)) return [bin, cmd, ...args];
  const mod = pathToFileURL(here(`../src/commands/${cmd}.js`)).href;
  return ['--input-type=module', '-e', SHIM, mod, cmd === 'ofctl' ? 'runOfctl' : 'runSwitch', ...args];
}

interface Run {
  stdout: string;
  stderr: string;
  code: number;
}

function ofctl(args: readonly string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, argvFor('ofctl', args), { timeout: 20_000, env }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, code: err ? ((err as { code?: number }).code ?? 1) : 0 });
    });
    if (input !== undefined) child.stdin!.end(input);
    else child.stdin!.end();
  });
}

/**
 * The same command run in this process (runOfctl with captured output): spawning every variant
 * would cost a Node start-up each, so only the main commands above are spawned.
 */
async function ofctlIn(args: readonly string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runOfctl(args, { stdout: (x) => (stdout += x), stderr: (x) => (stderr += x), isTTY: false });
  return { stdout, stderr, code };
}

/** Clock-dependent numbers masked. */
const mask = (s: string): string => s.replace(/duration=[\d.]+s/g, 'duration=Xs').replace(/idle_age=\d+/g, 'idle_age=X');

const udp = (n: number): Uint8Array =>
  buildUdp4({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' }, { src: '10.0.0.1', dst: '10.0.0.2' }, { srcPort: 1000 + n, dstPort: 53, payload: new Uint8Array(18) });

t.test('ofctl against an in-process switch', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-ofctl-'));
  const sock = join(dir, 'br-int.ctl');
  const sw = await Switch.create({ name: 'br-int', datapath: createDatapath, expireIntervalMs: 0 });
  const vm2: Uint8Array[] = [];
  await sw.addPort({ name: 'vm1', type: 'internal', mac: '02:00:00:00:00:01' });
  await sw.addPort({ name: 'vm2', type: 'internal', mac: '02:00:00:00:00:02' }, (f) => vm2.push(f));
  const server = new ControlServer(sw);
  await server.listen(`punix:${sock}`);
  t.teardown(async () => {
    await server.close();
    await sw.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const S = `unix:${sock}`;

  // add-flow, add-flows (file and stdin), with port names in the input.
  t.same(await ofctl(['add-flow', S, 'priority=100,in_port=vm1,actions=output:vm2']), { stdout: '', stderr: '', code: 0 });
  writeFileSync(join(dir, 'flows.txt'), '# comment\n\ntable=8,priority=50,cookie=0xabc,ip,actions=set_field:10.0.0.9->ip_dst,output:2\ntable=9,actions=drop\n');
  t.equal((await ofctl(['add-flows', sock, join(dir, 'flows.txt')])).code, 0);
  t.equal((await ofctl(['--bundle', 'add-flows', sock, '-'], 'table=10,priority=1,reg14=0x5,actions=resubmit(,11)\n')).code, 0);
  sw.ports.send('vm1', udp(1));
  sw.ports.send('vm1', udp(2));
  t.equal(vm2.length, 2);

  // Read-only commands run side by side.
  const [flows, flows13, flowsNamed, flowsNoStats] = await Promise.all([
    ofctl(['--no-names', 'dump-flows', S]),
    ofctlIn(['-O', 'OpenFlow13', 'dump-flows', S, 'table=8']),
    ofctlIn(['--names', 'dump-flows', S, 'in_port=vm1']),
    ofctlIn(['--no-stats', 'dump-flows', S]),
  ]);
  t.equal(flows.code, 0);
  t.equal(
    mask(flows.stdout),
    `NXST_FLOW reply (xid=0x4):
 cookie=0x0, duration=Xs, table=0, n_packets=2, n_bytes=120, idle_age=X, priority=100,in_port=1 actions=output:2
 cookie=0xabc, duration=Xs, table=8, n_packets=0, n_bytes=0, idle_age=X, priority=50,ip actions=mod_nw_dst:10.0.0.9,output:2
 cookie=0x0, duration=Xs, table=9, n_packets=0, n_bytes=0, idle_age=X, actions=drop
 cookie=0x0, duration=Xs, table=10, n_packets=0, n_bytes=0, idle_age=X, priority=1,reg14=0x5 actions=resubmit(,11)
`,
  );
  t.equal(
    mask(flows13.stdout),
    `OFPST_FLOW reply (OF1.3) (xid=0x6):
 cookie=0xabc, duration=Xs, table=8, n_packets=0, n_bytes=0, priority=50,ip actions=set_field:10.0.0.9->ip_dst,output:2
`,
  );
  t.equal(
    mask(flowsNamed.stdout),
    ' cookie=0x0, duration=Xs, table=0, n_packets=2, n_bytes=120, priority=100,in_port=vm1 actions=output:vm2\n',
    'with names: no header and no ages, as ovs-ofctl',
  );
  t.equal(
    flowsNoStats.stdout,
    ` priority=100,in_port=1 actions=output:2
 cookie=0xabc, table=8, priority=50,ip actions=mod_nw_dst:10.0.0.9,output:2
 table=9, actions=drop
 table=10, priority=1,reg14=0x5 actions=resubmit(,11)
`,
  );

  // mod-flows and del-flows, strict and not.
  t.equal((await ofctlIn(['mod-flows', S, 'table=8,ip,actions=drop'])).code, 0);
  t.match((await ofctlIn(['--no-stats', 'dump-flows', S, 'table=8'])).stdout, /priority=50,ip actions=drop/);
  t.equal((await ofctlIn(['del-flows', S, '--strict', 'table=9,priority=1'])).code, 0);
  t.equal(sw.dumpFlows({ table: 9 }).length, 1, 'strict delete needs the exact priority');
  t.equal((await ofctlIn(['del-flows', '--strict', S, 'table=9'])).code, 0);
  t.equal(sw.dumpFlows({ table: 9 }).length, 0);
  t.equal((await ofctlIn(['del-flows', S, 'table=10'])).code, 0);
  t.equal(sw.dumpFlows().length, 2);

  // dump-ports, all and one, with and without names, OF1.0 and OF1.3; dump-ports-desc; dump-tables.
  const [ports, portsNamed, ports13, ports9, desc, tables10Run, tables13] = await Promise.all([
    ofctl(['dump-ports', S]),
    ofctlIn(['--names', 'dump-ports', S, 'vm2']),
    ofctlIn(['-O', 'OpenFlow13', 'dump-ports', S, '1']),
    ofctlIn(['dump-ports', S, '9']),
    ofctl(['-O', 'OpenFlow15', 'dump-ports-desc', S]),
    ofctl(['dump-tables', S]),
    ofctlIn(['-O', 'OpenFlow13', 'dump-tables', S]),
  ]);
  t.equal(
    ports.stdout,
    `OFPST_PORT reply (xid=0x2): 3 ports
  port  1: rx pkts=2, bytes=120, drop=0, errs=0, frame=0, over=0, crc=0
           tx pkts=0, bytes=0, drop=0, errs=0, coll=0
  port  2: rx pkts=0, bytes=0, drop=0, errs=0, frame=0, over=0, crc=0
           tx pkts=2, bytes=120, drop=0, errs=0, coll=0
  port LOCAL: rx pkts=0, bytes=0, drop=0, errs=0, frame=0, over=0, crc=0
           tx pkts=0, bytes=0, drop=0, errs=0, coll=0
`,
  );
  t.equal(
    portsNamed.stdout,
    `OFPST_PORT reply (xid=0x4): 1 ports
  port  vm2: rx pkts=0, bytes=0, drop=0, errs=0, frame=0, over=0, crc=0
           tx pkts=2, bytes=120, drop=0, errs=0, coll=0
`,
  );
  t.equal(
    mask(ports13.stdout),
    `OFPST_PORT reply (OF1.3) (xid=0x2): 1 ports
  port  1: rx pkts=2, bytes=120, drop=0, errs=0, frame=0, over=0, crc=0
           tx pkts=0, bytes=0, drop=0, errs=0, coll=0
           duration=Xs
`,
  );
  t.equal(ports9.stdout, 'OFPST_PORT reply (xid=0x2): 0 ports\n');
  t.equal(
    desc.stdout.replace(/LOCAL\(br-int\): addr:[0-9a-f:]{17}/, 'LOCAL(br-int): addr:MAC'),
    `OFPST_PORT_DESC reply (OF1.5) (xid=0x2):
 1(vm1): addr:02:00:00:00:00:01
     config:     0
     state:      LINK_DOWN
     speed: 0 Mbps now, 0 Mbps max
 2(vm2): addr:02:00:00:00:00:02
     config:     0
     state:      LIVE
     speed: 0 Mbps now, 0 Mbps max
 LOCAL(br-int): addr:MAC
     config:     0
     state:      LIVE
     speed: 0 Mbps now, 0 Mbps max
`,
  );

  // dump-tables: OF1.0 shows table 0's features, later versions do not; equal tables say ditto.
  const tables10 = tables10Run.stdout;
  t.equal(
    tables10,
    `OFPST_TABLE reply (xid=0x2):
  table 0:
    active=1, lookup=2, matched=2
    max_entries=1000000
    matching:
      exact match or wildcard: in_port eth_{src,dst,type} vlan_{vid,pcp} ip_{src,dst} nw_{proto,tos} tcp_{src,dst}

  table 1:
    active=0, lookup=0, matched=0
    (same features)

  tables 2...7: ditto

  table 8:
    active=1, lookup=0, matched=0
    (same features)

  table 9:
    active=0, lookup=0, matched=0
    (same features)

  tables 10...254: ditto
`,
  );
  t.match(tables13.stdout, /^OFPST_TABLE reply \(OF1\.3\) \(xid=0x2\):\n {2}table 0:\n {4}active=1, lookup=2, matched=2\n\n {2}table 1:\n/);

  // Groups.
  const adds = await Promise.all([
    ofctlIn(['-O', 'OpenFlow15', 'add-group', S, 'group_id=1,type=select,selection_method=dp_hash,bucket=bucket_id:0,weight:100,actions=output:vm1']),
    ofctlIn(['add-group', S, 'group_id=2,type=all,bucket=output:1,bucket=output:2']),
  ]);
  t.same(adds.map((a) => a.code), [0, 0]);
  const [groups13, group2, dup] = await Promise.all([
    ofctl(['-O', 'OpenFlow13', 'dump-groups', S]),
    ofctlIn(['dump-groups', S, '2']),
    ofctlIn(['add-group', S, 'group_id=2,type=all']),
  ]);
  t.equal(
    groups13.stdout,
    `OFPST_GROUP_DESC reply (OF1.3) (xid=0x2):
 group_id=1,type=select,bucket=weight:100,actions=output:1
 group_id=2,type=all,bucket=actions=output:1,bucket=actions=output:2
`,
  );
  t.equal(
    group2.stdout,
    'NXST_GROUP_DESC reply (xid=0x2):\n group_id=2,type=all,bucket=bucket_id:0,actions=output:1,bucket=bucket_id:1,actions=output:2\n',
  );
  t.equal(dup.code, 1);
  t.match(dup.stderr, /OFPGMFC_GROUP_EXISTS/);
  t.equal((await ofctlIn(['--may-create', 'mod-group', S, 'group_id=3,type=all'])).code, 0);
  t.equal((await ofctlIn(['del-groups', S, 'group_id=1'])).code, 0);
  t.same(sw.dumpGroups().map((g) => g.id), [2, 3]);
  t.equal((await ofctlIn(['del-groups', S])).code, 0);
  t.equal(sw.dumpGroups().length, 0);

  // Conntrack, as dpctl/dump-conntrack prints it; traces of a flow description and of packets in hex.
  const hex = Buffer.from(udp(3)).toString('hex');
  const [ct, ct7, trFlow, trHex, trHex2] = await Promise.all([
    ofctl(['dump-conntrack', S]),
    ofctlIn(['dump-conntrack', S, 'zone=7']),
    ofctl(['ofproto/trace', S, 'in_port=1,udp,nw_dst=10.0.0.2']),
    ofctlIn(['ofproto/trace', S, `in_port=1,${hex}`]),
    ofctlIn(['ofproto/trace', S, 'in_port=vm2', hex]),
  ]);
  t.equal(
    ct.stdout,
    `udp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1234,dport=53),reply=(src=10.0.0.2,dst=10.0.0.1,sport=53,dport=1234),zone=5,mark=3
tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=40000,dport=80),reply=(src=10.0.0.2,dst=10.0.0.1,sport=80,dport=40000),zone=7,labels=0x1234,protoinfo=(state=SYN_SENT)
`,
  );
  t.equal(ct7.stdout.split('\n').length, 2);

  // Traces: a flow description, and a packet in hex.
  const expected = `bridge("br-int")
----------------
 0. in_port=1, priority 100
    output:2
`;
  t.equal(trFlow.stdout, `Flow: in_port=1,udp,nw_dst=10.0.0.2\n\n${expected}`);
  t.equal(trHex.stdout, `Flow: in_port=1, 60-byte packet\n\n${expected}`);
  t.equal(trHex2.stdout, `Flow: in_port=2, 60-byte packet\n\nbridge("br-int")\n----------------\n 0. No match.\n    drop\n`);

  // packet-out, ovnts's add-port/del-port.
  t.equal((await ofctl(['packet-out', S, `in_port=LOCAL packet=${hex} actions=output:vm2`])).code, 0);
  t.equal(vm2.length, 3);
  t.same(await ofctl(['add-port', S, 'tap0', 'dgram', 'local=127.0.0.1:0', 'ofport=7']), { stdout: '7\n', stderr: '', code: 0 });
  t.equal(sw.ports.get('tap0')!.type, 'dgram');
  t.equal((await ofctlIn(['del-port', S, 'tap0'])).code, 0);
  t.equal((await ofctlIn(['del-port', S, 'tap0'])).code, 1);
  t.equal((await ofctlIn(['show', S])).stdout.split('\n')[1], 'n_tables:255, n_buffers:0');
  const show13 = (await ofctlIn(['-O', 'OpenFlow13', 'show', S])).stdout;
  t.match(show13, /^OFPT_FEATURES_REPLY \(OF1\.3\) \(xid=0x2\): dpid:0000[0-9a-f]{12}\nn_tables:255, n_buffers:0\ncapabilities: FLOW_STATS TABLE_STATS PORT_STATS GROUP_STATS QUEUE_STATS\nOFPST_PORT_DESC reply \(OF1\.3\) \(xid=0x3\):\n 1\(vm1\): addr:02:00:00:00:00:01\n/);
  t.match(show13, /\nOFPT_GET_CONFIG_REPLY \(OF1\.3\) \(xid=0x5\): frags=normal miss_send_len=0\n$/);

  // Errors.
  const [overlap, badKey, badCmd, noSock, badOpt, help] = await Promise.all([
    ofctl(['add-flow', S, 'priority=100,check_overlap,in_port=vm1,udp,actions=drop']),
    ofctlIn(['add-flow', S, 'foo=1,actions=drop']),
    ofctl(['bogus', S]),
    ofctl(['dump-flows', join(dir, 'nothere')]),
    ofctlIn(['--frobnicate', 'dump-flows', S]),
    ofctlIn(['--help']),
  ]);
  t.same([overlap.code, overlap.stdout], [1, '']);
  t.equal(overlap.stderr, 'OFPT_ERROR: OFPFMFC_OVERLAP\novnts ofctl: flow overlaps an existing flow of the same priority\n');
  t.same(badKey, { stdout: '', stderr: 'ovnts ofctl: unknown keyword foo\n', code: 1 });
  t.same(badCmd, { stdout: '', stderr: "ovnts ofctl: unknown command 'bogus'; use --help for help\n", code: 1 });
  t.match(noSock, { code: 1, stderr: /is not a bridge or a socket/ });
  t.match(badOpt, { code: 1, stderr: /unrecognized option '--frobnicate'/ });
  t.match(help, { code: 0, stdout: /usage: ovnts ofctl/ });
  t.equal(server.connections, 0, 'every ofctl run closed its connection');
});

t.test('ovnts switch as its own process: control socket, tunnel socket, pidfile, SIGTERM', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-switchd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sock = join(dir, 'br-int.ctl');
  const pidfile = join(dir, 'switch.pid');
  const child = spawn(
    process.execPath,
    argvFor('switch', ['--name', 'br-test', '--control', `punix:${sock}`, '--tunnel-ip', '127.0.0.2', '--tunnel-port', '0', '--pidfile', pidfile, '--verbose']),
    { stdio: ['ignore', 'ignore', 'pipe'], env },
  );
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
  });
  for (let i = 0; i < 400 && !existsSync(pidfile); i++) await new Promise((r) => setTimeout(r, 25));
  t.ok(existsSync(pidfile), `pidfile written (${stderr})`);
  t.equal(readFileSync(pidfile, 'utf8').trim(), String(child.pid));

  const c = await SwitchClient.connect(sock);
  const info = await c.show();
  t.match(info, { name: 'br-test', tunnelIp: '127.0.0.2' });
  t.ok(info.tunnelPort! > 0, 'the tunnel socket is bound');
  c.close();
  t.same(await ofctl(['add-port', sock, 'gnv0', 'tunnel', 'remote_ip=127.0.0.3']), { stdout: '1\n', stderr: '', code: 0 });
  t.same(await ofctlIn(['add-port', sock, 'vm1', 'internal']), { stdout: '2\n', stderr: '', code: 0 });
  t.equal((await ofctlIn(['add-flow', sock, 'in_port=vm1,actions=output:gnv0'])).code, 0);
  t.match((await ofctlIn(['--names', 'dump-flows', sock])).stdout, /in_port=vm1 actions=output:gnv0/);
  t.match((await ofctlIn(['dump-ports-desc', sock])).stdout, / 1\(gnv0\): addr:[0-9a-f:]{17}\n {5}config: {5}0\n {5}state: {6}0\n/);
  // The project datapath writes ofproto/trace's whole text.
  t.match((await ofctl(['ofproto/trace', sock, 'in_port=2,tcp,nw_dst=10.0.0.3'])).stdout, /^Flow: tcp,in_port=2,.*\n\nbridge\("br-test"\)\n-+\n 0\. in_port=2, priority 32768\n {4}output:1\n\nFinal flow: unchanged\nMegaflow: .*\nDatapath actions: 1\n$/);

  // A second switch on the same control socket is refused.
  const second = await new Promise<Run>((resolve) =>
    execFile(process.execPath, argvFor('switch', ['--control', `punix:${sock}`, '--datapath-module', here('./helpers/switch-fake-datapath.js')]), { timeout: 20_000, env }, (err, stdout, stderr2) =>
      resolve({ stdout, stderr: stderr2, code: err ? ((err as { code?: number }).code ?? 1) : 0 }),
    ),
  );
  t.match(second, { code: 1, stderr: /another process is listening/ });

  process.kill(child.pid!, 'SIGTERM');
  t.equal(await exited, 0, 'exits cleanly on SIGTERM');
  t.notOk(existsSync(pidfile), 'pidfile removed');
  t.notOk(existsSync(sock), 'socket removed');
  t.match(stderr, /\|switch\|br-test: serving punix:/);
  t.match(stderr, /SIGTERM: stopping/);
});

t.test('ovnts switch: bad arguments', async (t) => {
  const run = (args: string[]): Promise<Run> =>
    new Promise((resolve) =>
      execFile(process.execPath, argvFor('switch', args), { timeout: 20_000, env }, (err, stdout, stderr) => resolve({ stdout, stderr, code: err ? ((err as { code?: number }).code ?? 1) : 0 })),
    );
  t.match(await run([]), { code: 1, stderr: /--control punix:PATH is required/ });
  t.match(await run(['--control', 'ptcp:6653']), { code: 1, stderr: /only punix/ });
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-switchd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.match(await run(['--control', `punix:${join(dir, 'x.ctl')}`, '--tunnel-ip', 'nope', '--datapath-module', here('./helpers/switch-fake-datapath.js')]), { code: 1, stderr: /not an IPv4 address/ });
});
