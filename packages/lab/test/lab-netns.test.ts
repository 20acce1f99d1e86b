// netns VMs end to end: a two-host lab where real Linux network namespaces (joined to the
// switches by socat TAP devices) and a simulated VM share the virtual network. Checks real ping
// from a namespace (same switch, and routed across the Geneve tunnel), the simulated VM pinging
// the namespace's kernel, `lab exec` (output and exit status, and its error for a simulated
// VM), TCP both ways between kernels and between a kernel and the simulated stack, `lab vm del`,
// and that `lab down` leaves no namespace and no socat behind. Needs root, /dev/net/tun, `ip`
// and `socat`; skips, saying so, without them. Every wait is bounded.
import t from 'tap';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  OVNTS_BIN, applyTopology, findProgram, ip, isAlive, labDown, labUp, listNetns, loadState, netnsPing, netnsPrefix,
  netnsUnsupported, ovnts, vmPing, vmRequest, type LabState, type PingResult, type Topology,
} from '../src/index.js';

async function skipReason(): Promise<string | undefined> {
  const why = netnsUnsupported();
  if (why) return why;
  if (!findProgram('ping') && !findProgram('python3')) return 'netns pings need ping (iputils-ping) or python3';
  const probe = `ovnts-probe-${process.pid}`;
  try {
    await ip(['netns', 'add', probe]);
    await ip(['netns', 'del', probe]);
  } catch (e) {
    return `cannot create network namespaces here: ${e instanceof Error ? e.message : String(e)}`;
  }
  return undefined;
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `ovnts ARGS…` against the lab in `dir`, to completion (bounded). */
function cli(dir: string, args: readonly string[], timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [OVNTS_BIN, ...args], { env: { ...process.env, OVNTS_LAB_DIR: dir }, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Pings until a reply comes (ports are bound and flows installed asynchronously), at most `timeoutMs`. */
async function pingUntil(from: string, to: string, state: LabState, timeoutMs = 20_000): Promise<PingResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await vmPing(from, to, { count: 1 }, state);
    if (r.received > 0 || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 200));
  }
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<number | null | 'timeout'> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

const TOPOLOGY: Topology = {
  nbctl: [
    ['ls-add', 'sw1'],
    ['ls-add', 'sw2'],
    ['lr-add', 'r1'],
    ['lrp-add', 'r1', 'r1-sw1', '00:00:00:00:ff:01', '10.0.1.1/24'],
    ['lrp-add', 'r1', 'r1-sw2', '00:00:00:00:ff:02', '10.0.2.1/24'],
    ['lsp-add', 'sw1', 'sw1-r1', '--', 'lsp-set-type', 'sw1-r1', 'router', '--', 'lsp-set-addresses', 'sw1-r1', 'router', '--', 'lsp-set-options', 'sw1-r1', 'router-port=r1-sw1'],
    ['lsp-add', 'sw2', 'sw2-r1', '--', 'lsp-set-type', 'sw2-r1', 'router', '--', 'lsp-set-addresses', 'sw2-r1', 'router', '--', 'lsp-set-options', 'sw2-r1', 'router-port=r1-sw2'],
    // n2's port exists before the VM: `lab vm add n2 --port n2 --netns` takes its MAC from it.
    ['lsp-add', 'sw2', 'n2', '--', 'lsp-set-addresses', 'n2', '00:00:00:00:02:22 10.0.2.22'],
  ],
  vms: [
    { name: 'n1', host: 'hv1', switch: 'sw1', mac: '00:00:00:00:01:21', ip: '10.0.1.21/24', gw: '10.0.1.1', netns: true },
    { name: 's1', host: 'hv1', switch: 'sw1', mac: '00:00:00:00:01:11', ip: '10.0.1.11/24', gw: '10.0.1.1' },
  ],
};

const SERVER = `require('net').createServer((c) => c.on('data', (d) => c.end('pong:' + d))).listen(8080, () => console.log('listening'))`;
const CLIENT = (host: string, port: number, msg: string): string =>
  `const c = require('net').connect(${port}, '${host}', () => c.write('${msg}')); let b = ''; c.on('data', (d) => (b += d));` +
  ` c.on('end', () => { console.log(b); process.exit(0); }); c.on('error', (e) => { console.error(e.message); process.exit(2); }); setTimeout(() => process.exit(9), 5000);`;

const skip = await skipReason();

t.test('netns VMs: real namespaces on the virtual network, lab exec, lab down cleans up', { skip: skip ?? false, timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-netns-test-'));
  const prefix = netnsPrefix(dir);
  let server: ChildProcess | undefined;
  t.teardown(async () => {
    if (server?.pid !== undefined && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    await labDown(dir).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  const state = await labUp({ hosts: 2, dir });
  process.env['OVNTS_LAB_DIR'] = dir;
  await applyTopology(state, TOPOLOGY);
  // The CLI, with the MAC taken from the logical port.
  const add = await cli(dir, ['lab', 'vm', 'add', 'n2', '--host', 'hv2', '--port', 'n2', '--netns', '--ip', '10.0.2.22/24', '--gw', '10.0.2.1'], 60_000);
  t.equal(add.code, 0, `lab vm add n2 --netns: ${add.stderr.trim() || 'ok'}`);
  await ovnts(['nbctl', `--db=${state.db}`, '--timeout=30', '--wait=hv', 'sync']);
  const s = loadState(dir)!;
  const n1 = s.vms.find((v) => v.name === 'n1')!;
  const n2 = s.vms.find((v) => v.name === 'n2')!;
  t.same((await listNetns(prefix)).sort(), [n1.netns, n2.netns].sort(), 'one namespace per netns VM, named with the lab prefix');
  t.equal(n2.mac, '00:00:00:00:02:22', "the VM's MAC is the logical port's");

  // Real ping from a namespace: same switch and host, then routed across hosts.
  const same = await pingUntil('n1', 's1', s);
  t.ok(same.received > 0, `n1 -> s1 (simulated, same switch): ${same.received} replies`);
  t.equal(same.probes.find((p) => p.status === 'ok')?.ttl, 64, 'no router hop');
  const routed = await pingUntil('n1', 'n2', s);
  t.ok(routed.received > 0, `n1 -> n2 (netns, other host, routed): ${routed.received} replies`);
  t.equal(routed.probes.find((p) => p.status === 'ok')?.ttl, 63, 'one router hop across the tunnel');
  // The simulated VM pings the namespace: the kernel answers.
  const back = await pingUntil('s1', 'n1', s);
  t.ok(back.received > 0, `s1 -> n1 (the kernel answers): ${back.received} replies`);
  const cross = await pingUntil('s1', 'n2', s);
  t.ok(cross.received > 0, `s1 -> n2: ${cross.received} replies`);
  // Both pingers (iputils ping, and the python3 fallback where ping is not installed).
  for (const pinger of ['ping', 'python'] as const) {
    if (!findProgram(pinger === 'ping' ? 'ping' : 'python3')) {
      t.comment(`${pinger === 'ping' ? 'ping' : 'python3'} is not installed: that pinger is not exercised`);
      continue;
    }
    const r = await netnsPing(n1.netns!, '10.0.2.22', { count: 2, pinger });
    t.equal(r.received, 2, `pinger ${pinger}: 2 of 2 replies`);
  }
  const cliPing = await cli(dir, ['lab', 'ping', 'n1', 's1', '--count', '2']);
  t.equal(cliPing.code, 0, 'lab ping n1 s1 exits 0');
  t.match(cliPing.stdout, /2 packets transmitted, 2 received, 0% packet loss/, 'and prints the summary');
  const nobody = await vmPing('n1', '10.0.1.99', { count: 1 }, s);
  t.equal(nobody.received, 0, 'no reply from an address nobody has');
  const ttl1 = await vmPing('n1', 'n2', { count: 1, ttl: 1 }, s);
  t.match(ttl1.probes[0], { status: 'error', error: 'ttl-exceeded', from: '10.0.1.1' }, "with ttl 1 the router's time exceeded comes back, and is read as such");

  // lab exec: output and exit status; the interface as configured.
  const ex = await cli(dir, ['lab', 'exec', 'n1', '--', 'sh', '-c', 'ip -o -4 addr show dev eth0; cat /sys/class/net/eth0/mtu /sys/class/net/eth0/address; exit 3']);
  t.equal(ex.code, 3, "lab exec exits with the command's status");
  t.match(ex.stdout, /inet 10\.0\.1\.21\/24/, 'eth0 has the address');
  t.match(ex.stdout, /^1400$/m, 'eth0 MTU 1400');
  t.match(ex.stdout, /^00:00:00:00:01:21$/m, "eth0 has the port's MAC");
  const route = await cli(dir, ['lab', 'exec', 'n2', 'ip', 'route', 'show', 'default']);
  t.equal(route.code, 0, 'lab exec without -- works too');
  t.match(route.stdout, /default via 10\.0\.2\.1 dev eth0/, 'default route via the gateway');
  const sim = await cli(dir, ['lab', 'exec', 's1', '--', 'true']);
  t.equal(sim.code, 1, 'lab exec on a simulated VM fails');
  t.match(sim.stderr, /vm s1 is simulated; exec needs --netns/, 'and says why');

  // TCP: a server in n2 (node), clients in n1 (node) and in the simulated s1; n1 to s1's listener.
  server = spawn(process.execPath, [OVNTS_BIN, 'lab', 'exec', 'n2', '--', process.execPath, '-e', SERVER], { env: { ...process.env, OVNTS_LAB_DIR: dir }, stdio: ['ignore', 'pipe', 'inherit'] });
  const listening = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 15_000);
    let out = '';
    server!.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    server!.once('exit', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  t.ok(listening, 'a TCP server runs in n2');
  const tcp = await cli(dir, ['lab', 'exec', 'n1', '--', process.execPath, '-e', CLIENT('10.0.2.22', 8080, 'ping')]);
  t.equal(tcp.code, 0, `n1 -> n2:8080 over TCP ${tcp.stderr.trim()}`);
  t.equal(tcp.stdout.trim(), 'pong:ping', 'the answer comes back');
  const fromSim = (await vmRequest(s.vms.find((v) => v.name === 's1')!.control, { op: 'tcp', dst: '10.0.2.22', port: 8080, payload: 'sim', timeoutMs: 5000 }, 10_000)) as { response: string };
  t.equal(fromSim.response, 'pong:sim', 'simulated s1 -> n2:8080: the kernel and the simulated TCP talk');
  await vmRequest(s.vms.find((v) => v.name === 's1')!.control, { op: 'listen', port: 9000, response: 'hello from s1' });
  const toSim = await cli(dir, ['lab', 'exec', 'n1', '--', process.execPath, '-e', CLIENT('10.0.1.11', 9000, 'q')]);
  t.equal(toSim.stdout.trim(), 'hello from s1', 'n1 -> simulated s1:9000 over TCP');

  // lab vm del: n1's namespace and socat go.
  const socat1 = s.daemons.find((d) => d.name === 'vm-n1')!;
  t.equal(socat1.command?.endsWith('socat'), true, "n1's process is socat");
  const del = await cli(dir, ['lab', 'vm', 'del', 'n1']);
  t.equal(del.code, 0, 'lab vm del n1');
  t.notOk(isAlive(socat1.pid), "n1's socat is stopped");
  t.same(await listNetns(prefix), [n2.netns], "n1's namespace is gone");

  // lab down: every process (socat, and the server started in n2 by lab exec) and namespace.
  const pids = loadState(dir)!.daemons.map((d) => d.pid);
  const down = await cli(dir, ['lab', 'down'], 60_000);
  t.equal(down.code, 0, `lab down ${down.stderr.trim()}`);
  t.same(pids.filter(isAlive), [], 'lab down stops every process it started, socat included');
  t.same(await listNetns(prefix), [], 'and leaves no namespace behind');
  t.not(await waitExit(server, 5000), 'timeout', 'the program running in the namespace was stopped too');
});
