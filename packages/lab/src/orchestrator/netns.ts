/**
 * Real VMs for the lab: a Linux network namespace whose eth0 is a TAP device bridged to the
 * host's switch, so unmodified programs (ping, curl, nc, node) run on the virtual network.
 *
 *   socat TUN,tun-type=tap,tun-name=TAP,iff-up,iff-no-pi UDP-DATAGRAM:SWITCH,bind=VM
 *     creates TAP in the host's namespace and copies every frame it reads from it into one UDP
 *     datagram to the switch's `dgram` VIF on loopback, and every datagram back into the TAP;
 *   ip link set TAP netns NS; ip -n NS link set TAP name eth0 …
 *     moves the TAP into the VM's namespace. socat's file descriptor stays attached to the
 *     device wherever it lives, while its UDP socket stays in the host's namespace, where the
 *     switch's loopback address is: no veth pair or second loopback is needed.
 * Killing socat (by PID) removes the TAP; `ip netns del` then removes the namespace.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import type { NetErrorCode, PingProbe, PingResult } from '../vm/index.js';
import { isAlive, sleep, startProcess, stopDaemon, type DaemonRecord } from './processes.js';

/**
 * eth0's MTU in a netns VM. The lab's Geneve tunnels are UDP between processes on loopback
 * (MTU 65536) and the switch does not fragment or drop by size, so 1500 would work too; 1400
 * leaves the headroom a real OVN deployment needs for Geneve over a 1500-byte underlay (OVN
 * itself advertises 1442 by DHCP), so what works in the lab works there. socat copies frames
 * up to its buffer (`-b 65536`).
 */
export const NETNS_MTU = 1400;

/** A lab-unique namespace name: `ovnts-<hash of the lab directory>-<vm>`. */
export function netnsName(labDir: string, vm: string): string {
  return `ovnts-${createHash('sha256').update(resolve(labDir)).digest('hex').slice(0, 6)}-${vm.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

/** The namespace prefix of a lab: every netns VM of the lab in `labDir` is named with it. */
export function netnsPrefix(labDir: string): string {
  return netnsName(labDir, '');
}

/** The TAP device's name while it is still in the host's namespace (≤ 15 characters). */
export function tapName(labDir: string, vm: string): string {
  return `ovt${createHash('sha256').update(`${resolve(labDir)}\0${vm}`).digest('hex').slice(0, 10)}`;
}

/** `name` on PATH (or in /usr/sbin, /sbin, where `ip` lives on Debian), or undefined. */
export function findProgram(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const d of dirs) {
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** Why netns VMs cannot run here, or undefined when they can. */
export function netnsUnsupported(): string | undefined {
  if (process.platform !== 'linux') return 'netns VMs need Linux (network namespaces and TAP devices)';
  if (process.getuid?.() !== 0) return 'netns VMs need root (they create network namespaces and TAP devices): run as root, or use a simulated VM (no --netns)';
  if (!existsSync('/dev/net/tun')) return 'netns VMs need /dev/net/tun (TAP devices)';
  if (!findProgram('ip')) return 'netns VMs need `ip` (apt-get install iproute2)';
  if (!findProgram('socat')) return 'netns VMs need `socat` (apt-get install socat)';
  return undefined;
}

export function requireNetnsSupport(): void {
  const why = netnsUnsupported();
  if (why) throw new Error(why);
}

function ipBin(): string {
  const p = findProgram('ip');
  if (!p) throw new Error('`ip` not found (apt-get install iproute2)');
  return p;
}

/** Runs `ip ARGS…`; rejects with its stderr. */
export function ip(args: readonly string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((res, rej) => {
    execFile(ipBin(), args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) rej(new Error(`ip ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
      else res(String(stdout));
    });
  });
}

export function netnsExists(ns: string): boolean {
  return existsSync(join('/run/netns', ns));
}

/** The namespaces whose names start with `prefix`. */
export async function listNetns(prefix = ''): Promise<string[]> {
  if (!findProgram('ip')) return [];
  const out = await ip(['netns', 'list']).catch(() => '');
  return out.split('\n').map((l) => l.split(/\s+/)[0] ?? '').filter((n) => n && n.startsWith(prefix));
}

export interface NetnsVmSpec {
  readonly name: string;
  readonly netns: string;
  readonly tap: string;
  readonly mac: string;
  /** A.B.C.D/PLEN; without it eth0 is up but unconfigured (run a DHCP client with `lab exec`). */
  readonly ip?: string;
  readonly gw?: string;
  readonly mtu?: number;
  /** The switch's side of the datagram VIF (IP:PORT) and socat's side. */
  readonly switchAddr: string;
  readonly vmAddr: string;
  readonly log: string;
  /** Called as soon as socat runs, so its PID can be recorded before anything else can fail. */
  readonly onStarted?: (d: DaemonRecord) => void;
}

/**
 * Creates the namespace, starts socat with the TAP, moves the TAP in as eth0 and configures it.
 * Returns socat's record. On failure it undoes what it did (socat stopped, namespace deleted).
 */
export async function createNetnsVm(s: NetnsVmSpec): Promise<DaemonRecord> {
  requireNetnsSupport();
  if (netnsExists(s.netns)) throw new Error(`network namespace ${s.netns} exists already (a lab that was not brought down? \`ip netns del ${s.netns}\`)`);
  await ip(['netns', 'add', s.netns]);
  let socat: DaemonRecord | undefined;
  try {
    socat = startProcess(`vm-${s.name}`, findProgram('socat')!, [
      '-d', '-b', '65536',
      `TUN,tun-type=tap,tun-name=${s.tap},iff-up,iff-no-pi`,
      `UDP-DATAGRAM:${s.switchAddr},bind=${s.vmAddr}`,
    ], s.log);
    s.onStarted?.(socat);
    // The TAP appears in the host's namespace once socat has opened /dev/net/tun.
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (await ip(['-o', 'link', 'show', 'dev', s.tap]).then(() => true, () => false)) break;
      if (!isAlive(socat.pid)) throw new Error(`socat exited: ${tail(s.log)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for socat's TAP ${s.tap}: ${tail(s.log)}`);
      await sleep(20);
    }
    const inNs = (args: readonly string[]): Promise<string> => ip(['-n', s.netns, ...args]);
    await ip(['link', 'set', 'dev', s.tap, 'netns', s.netns]);
    await inNs(['link', 'set', 'dev', s.tap, 'name', 'eth0']);
    await inNs(['link', 'set', 'dev', 'eth0', 'address', s.mac, 'mtu', String(s.mtu ?? NETNS_MTU)]);
    await inNs(['link', 'set', 'dev', 'lo', 'up']);
    await inNs(['link', 'set', 'dev', 'eth0', 'up']);
    if (s.ip) await inNs(['addr', 'add', s.ip, 'dev', 'eth0']);
    if (s.gw) await inNs(['route', 'replace', 'default', 'via', s.gw, 'dev', 'eth0']);
    if (!isAlive(socat.pid)) throw new Error(`socat exited: ${tail(s.log)}`);
    return socat;
  } catch (e) {
    if (socat) await stopDaemon(socat);
    await deleteNetns(s.netns).catch(() => undefined);
    throw e;
  }
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-3).join(' / ') || '(no output)';
  } catch {
    return '(no log)';
  }
}

/**
 * Deletes a namespace: first the processes still running in it (started with `lab exec`), by
 * PID, SIGTERM then SIGKILL; then the namespace. Nothing happens if it does not exist.
 */
export async function deleteNetns(ns: string, graceMs = 2000): Promise<void> {
  if (!netnsExists(ns)) return;
  const pids = async (): Promise<number[]> =>
    (await ip(['netns', 'pids', ns]).catch(() => '')).split(/\s+/).filter(Boolean).map(Number).filter((p) => p > 1 && p !== process.pid);
  let left = await pids();
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Gone already.
    }
  }
  const deadline = Date.now() + graceMs;
  while (left.length && Date.now() < deadline) {
    await sleep(25);
    left = (await pids()).filter(isAlive);
  }
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  await ip(['netns', 'del', ns]);
}

/**
 * Runs `argv` inside the namespace (`ip netns exec NS …`) with this process's stdin, stdout and
 * stderr, and resolves with its exit status (128 + signal number when a signal ended it).
 */
export function netnsExec(ns: string, argv: readonly string[], opts: { timeoutMs?: number } = {}): Promise<number> {
  if (argv.length === 0) return Promise.reject(new Error('no command to run'));
  return new Promise((res, rej) => {
    const child = spawn(ipBin(), ['netns', 'exec', ns, ...argv], { stdio: 'inherit' });
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      rej(e);
    });
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      res(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0));
    });
  });
}

/** Runs `argv` in the namespace and collects its output. */
export function netnsRun(ns: string, argv: readonly string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    execFile(ipBin(), ['netns', 'exec', ns, ...argv], { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
      if (e && typeof e.code !== 'number' && !e.killed) rej(e);
      else res({ code: e ? (typeof e.code === 'number' ? e.code : 137) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

export interface NetnsPingOptions {
  readonly count?: number;
  readonly ttl?: number;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  /**
   * 'ping': iputils ping(8) inside the namespace; 'python': a raw-socket pinger in python3, for
   * machines without ping (IPv4 only). Default: ping if installed, else python3.
   */
  readonly pinger?: 'ping' | 'python';
}

/** A ping from inside a namespace, with the result in the shape simulated VMs report. */
export async function netnsPing(ns: string, dst: string, o: NetnsPingOptions = {}): Promise<PingResult> {
  const count = Math.max(1, o.count ?? 3);
  const interval = (o.intervalMs ?? 200) / 1000;
  const timeout = Math.max(1, Math.round((o.timeoutMs ?? 1000) / 1000));
  const pinger = o.pinger ?? (findProgram('ping') ? 'ping' : findProgram('python3') ? 'python' : undefined);
  if (!pinger) throw new Error('neither ping (apt-get install iputils-ping) nor python3 is installed');
  const argv = pinger === 'ping'
    ? ['ping', '-n', '-c', String(count), '-i', String(interval), '-W', String(timeout), ...(o.ttl !== undefined ? ['-t', String(o.ttl)] : []), dst]
    : [findProgram('python3') ?? 'python3', '-c', PY_PING, dst, String(count), String(o.ttl ?? 64), String(interval), String(timeout)];
  const r = await netnsRun(ns, argv, (count * interval + timeout + 10) * 1000);
  return parsePing(dst, count, r.stdout, r.stderr);
}

function reasonOf(text: string): NetErrorCode {
  if (/net(work)?( is)? unreachable/i.test(text)) return 'net-unreachable';
  if (/host unreachable|no route to host/i.test(text)) return 'host-unreachable';
  if (/port unreachable/i.test(text)) return 'port-unreachable';
  if (/protocol unreachable/i.test(text)) return 'protocol-unreachable';
  if (/prohibited|packet filtered/i.test(text)) return 'admin-prohibited';
  if (/time to live exceeded/i.test(text)) return 'ttl-exceeded';
  if (/frag needed|too big/i.test(text)) return 'packet-too-big';
  return 'unreachable';
}

/** Reads ping(8)'s output (iputils, with -n) into a PingResult. Probes are numbered as ping numbers them (from 1). */
export function parsePing(dst: string, count: number, stdout: string, stderr = ''): PingResult {
  const probes = new Map<number, PingProbe>();
  for (const line of stdout.split('\n')) {
    if (line.includes('(DUP!)')) continue;
    let m = /bytes from (\S+?):? icmp_seq=(\d+) ttl=(\d+) time=([\d.]+) ms/.exec(line);
    if (m) {
      const seq = Number(m[2]);
      if (!probes.has(seq)) probes.set(seq, { seq, status: 'ok', from: m[1]!, ttl: Number(m[3]), rttMs: Number(m[4]) });
      continue;
    }
    m = /^From (\S+?):? icmp_seq=(\d+) (.*)$/.exec(line.trim());
    if (m) {
      const seq = Number(m[2]);
      if (!probes.has(seq)) probes.set(seq, { seq, status: 'error', from: m[1]!, error: reasonOf(m[3]!), message: m[3]!.trim() });
    }
  }
  const sent = /(\d+) packets transmitted/.exec(stdout);
  const transmitted = sent ? Number(sent[1]) : probes.size ? count : 0;
  const failure = stderr.trim().split('\n').filter(Boolean).pop();
  const all: PingProbe[] = [];
  for (let seq = 1; seq <= count; seq++) {
    all.push(probes.get(seq) ?? (transmitted === 0 && failure ? { seq, status: 'error', error: reasonOf(failure), message: failure } : { seq, status: 'lost' }));
  }
  const rtts = all.filter((p) => p.status === 'ok').map((p) => p.rttMs!);
  const received = rtts.length;
  return {
    dst, transmitted, received, probes: all,
    lossPercent: (100 * (count - received)) / count,
    ...(received ? { minRttMs: Math.min(...rtts), maxRttMs: Math.max(...rtts), avgRttMs: rtts.reduce((a, b) => a + b, 0) / received } : {}),
  };
}

/**
 * The python3 fallback pinger: ICMP echo over a raw socket (the lab runs netns VMs as root),
 * printing what iputils ping prints, so one parser reads both. Argv: DST COUNT TTL INTERVAL TIMEOUT.
 */
const PY_PING = String.raw`
import errno, os, select, socket, struct, sys, time
dst, count, ttl, interval, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
ident = os.getpid() & 0xffff
def csum(b):
    if len(b) % 2: b += b'\0'
    n = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while n >> 16: n = (n & 0xffff) + (n >> 16)
    return ~n & 0xffff
REASONS = {(3, 0): 'Destination Net Unreachable', (3, 1): 'Destination Host Unreachable', (3, 2): 'Destination Protocol Unreachable',
           (3, 3): 'Destination Port Unreachable', (3, 4): 'Frag needed', (3, 9): 'Destination Net Prohibited',
           (3, 10): 'Destination Host Prohibited', (3, 13): 'Packet filtered', (11, 0): 'Time to live exceeded'}
payload = bytes((i + 0x10) & 0xff for i in range(56))
print('PING %s (%s) 56(84) bytes of data.' % (dst, dst), flush=True)
sent, done, seq, ok = {}, set(), 0, 0
next_send, deadline = time.monotonic(), None
while True:
    now = time.monotonic()
    if seq < count and now >= next_send:
        seq += 1
        pkt = struct.pack('!BBHHH', 8, 0, 0, ident, seq) + payload
        pkt = pkt[:2] + struct.pack('!H', csum(pkt)) + pkt[4:]
        sent[seq] = now
        try:
            s.sendto(pkt, (dst, 0))
        except OSError as e:
            done.add(seq)
            why = {errno.ENETUNREACH: 'Destination Net Unreachable', errno.EHOSTUNREACH: 'Destination Host Unreachable'}.get(e.errno, e.strerror)
            print('From %s icmp_seq=%d %s' % (dst, seq, why), flush=True)
        next_send = now + interval
        if seq == count: deadline = now + timeout
    if deadline is not None and (now >= deadline or len(done) >= count): break
    wait = max(0.0, (next_send if seq < count else deadline) - now)
    if not select.select([s], [], [], wait)[0]: continue
    data, addr = s.recvfrom(65535)
    icmp = data[(data[0] & 15) * 4:]
    if len(icmp) < 8: continue
    if icmp[0] == 0:
        rid, rseq = struct.unpack('!HH', icmp[4:8])
        if rid != ident or rseq not in sent or rseq in done: continue
        done.add(rseq); ok += 1
        print('%d bytes from %s: icmp_seq=%d ttl=%d time=%.3f ms' % (len(icmp), addr[0], rseq, data[8], (time.monotonic() - sent[rseq]) * 1000), flush=True)
    elif icmp[0] in (3, 11) and len(icmp) >= 28:
        inner = icmp[8:]
        q = inner[(inner[0] & 15) * 4:][:8]
        if len(q) < 8 or q[0] != 8: continue
        rid, rseq = struct.unpack('!HH', q[4:8])
        if rid != ident or rseq not in sent or rseq in done: continue
        done.add(rseq)
        print('From %s icmp_seq=%d %s' % (addr[0], rseq, REASONS.get((icmp[0], icmp[1]), 'Destination Unreachable')), flush=True)
print('')
print('--- %s ping statistics ---' % dst)
print('%d packets transmitted, %d received' % (seq, ok))
`;
