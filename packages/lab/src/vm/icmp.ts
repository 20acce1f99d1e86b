/**
 * ICMP for the simulated VM: `ping` (echo requests with per-probe RTT, reply TTL, loss, and the
 * ICMP error that explains a failed probe), and the parsing of ICMP error quotes that lets
 * ping, UDP and TCP attribute an error to the probe, socket or connection that caused it.
 */
import { formatIp4, formatIp6, ip4FromBytes, ip6FromBytes } from '@ovnts/switch';
import { NetError, describeIcmpError, type IcmpErrorReport, type NetErrorCode } from './errors.js';
import { isV6, normIp, type IpLayer } from './ip.js';
import { now, type TimerHandle } from './timers.js';

export interface PingOptions {
  /** Echo requests to send. Default 3. */
  readonly count?: number;
  /** Between requests. Default 1000 ms, as ping(8). */
  readonly intervalMs?: number;
  /** How long each probe waits for its reply. Default 1000 ms. */
  readonly timeoutMs?: number;
  /** TTL / hop limit of the requests. Default 64. */
  readonly ttl?: number;
  /** Echo data bytes. Default 56, as ping(8). */
  readonly size?: number;
}

export interface PingProbe {
  readonly seq: number;
  /** ok: a reply came; lost: nothing within the timeout; error: an ICMP error or a local failure. */
  readonly status: 'ok' | 'lost' | 'error';
  readonly rttMs?: number;
  /** TTL / hop limit of the reply. */
  readonly ttl?: number;
  /** Who answered: the target, or the router that sent an ICMP error. */
  readonly from?: string;
  readonly error?: NetErrorCode;
  readonly message?: string;
  readonly icmp?: IcmpErrorReport;
}

export interface PingResult {
  readonly dst: string;
  readonly transmitted: number;
  readonly received: number;
  readonly lossPercent: number;
  readonly probes: readonly PingProbe[];
  readonly minRttMs?: number;
  readonly avgRttMs?: number;
  readonly maxRttMs?: number;
}

interface Run {
  readonly dst: string;
  readonly id: number;
  readonly count: number;
  readonly probes: (PingProbe | undefined)[];
  readonly sentAt: number[];
  readonly timers: Map<number, TimerHandle | undefined>;
  transmitted: number;
  done: (r: PingResult) => void;
}

export class PingTracker {
  private readonly runs = new Map<number, Run>();
  private nextId = Math.floor(Math.random() * 0x10000);

  constructor(private readonly ip: IpLayer) {}

  ping(dst: string, opts: PingOptions = {}): Promise<PingResult> {
    const target = normIp(dst);
    const count = Math.max(1, opts.count ?? 3);
    const interval = opts.intervalMs ?? 1000;
    const timeout = opts.timeoutMs ?? 1000;
    const v6 = isV6(target);
    const data = new Uint8Array(opts.size ?? 56).map((_, i) => (i + 0x10) & 0xff);
    let id = this.nextId;
    while (this.runs.has(id)) id = (id + 1) & 0xffff;
    this.nextId = (id + 1) & 0xffff;
    return new Promise((resolve) => {
      const run: Run = { dst: target, id, count, probes: [], sentAt: [], timers: new Map(), transmitted: 0, done: resolve };
      this.runs.set(id, run);
      const send = (seq: number): void => {
        if (!this.runs.has(id)) return;
        run.transmitted++;
        run.sentAt[seq] = now();
        run.timers.set(seq, this.ip.timers.after(timeout, () => this.settle(run, { seq, status: 'lost' })));
        this.ip.send(target, {
          proto: v6 ? 'icmp6' : 'icmp', type: v6 ? 128 : 8, code: 0, rest: ((id << 16) | seq) >>> 0, payload: data,
        }, { ttl: opts.ttl ?? 64 }).catch((e: Error) => {
          const code = e instanceof NetError ? e.code : 'unreachable';
          this.settle(run, { seq, status: 'error', error: code, message: e.message });
        });
        if (seq + 1 < count) this.ip.timers.after(interval, () => send(seq + 1));
      };
      send(0);
    });
  }

  /** An echo reply (ICMP type 0 / ICMPv6 type 129). */
  onEchoReply(id: number, seq: number, from: string, ttl: number): void {
    const run = this.runs.get(id);
    if (!run || run.sentAt[seq] === undefined || run.probes[seq]) return;
    this.settle(run, { seq, status: 'ok', rttMs: now() - run.sentAt[seq]!, ttl, from });
  }

  /** An ICMP error that quotes one of our echo requests. */
  icmpError(e: IcmpErrorReport): void {
    const { echoId, echoSeq } = e.original;
    if (echoId === undefined || echoSeq === undefined) return;
    const run = this.runs.get(echoId);
    if (!run || run.sentAt[echoSeq] === undefined || run.probes[echoSeq]) return;
    this.settle(run, { seq: echoSeq, status: 'error', from: e.from, error: e.reason, message: describeIcmpError(e), icmp: e });
  }

  private settle(run: Run, p: PingProbe): void {
    if (run.probes[p.seq]) return;
    run.probes[p.seq] = p;
    this.ip.timers.cancel(run.timers.get(p.seq));
    run.timers.delete(p.seq);
    if (run.probes.filter(Boolean).length === run.count) this.finish(run);
  }

  private finish(run: Run): void {
    this.runs.delete(run.id);
    const probes = run.probes.map((p, seq) => p ?? { seq, status: 'error' as const, error: 'closed' as const });
    const rtts = probes.filter((p) => p.status === 'ok').map((p) => p.rttMs!);
    const received = rtts.length;
    run.done({
      dst: run.dst, transmitted: run.transmitted, received, probes,
      lossPercent: run.count ? (100 * (run.count - received)) / run.count : 0,
      ...(received ? {
        minRttMs: Math.min(...rtts), maxRttMs: Math.max(...rtts), avgRttMs: rtts.reduce((a, b) => a + b, 0) / received,
      } : {}),
    });
  }

  /** Ends every running ping: probes not yet answered count as 'closed' errors. */
  close(): void {
    for (const run of [...this.runs.values()]) {
      for (let seq = 0; seq < run.count; seq++) run.probes[seq] ??= { seq, status: 'error', error: 'closed', message: 'the VM is closed' };
      this.finish(run);
    }
  }
}

/**
 * The header fields of the packet an ICMP error quotes (its payload: the original IP header
 * and at least 8 bytes after it). Undefined if the quote is too short to be useful.
 */
export function parseIcmpQuote(v6: boolean, q: Uint8Array): IcmpErrorReport['original'] | undefined {
  let proto: number;
  let l4: number;
  let src: string;
  let dst: string;
  let ttl: number;
  if (!v6) {
    if (q.length < 20 || q[0]! >> 4 !== 4) return undefined;
    l4 = (q[0]! & 15) * 4;
    proto = q[9]!;
    ttl = q[8]!;
    src = formatIp4(ip4FromBytes(q, 12));
    dst = formatIp4(ip4FromBytes(q, 16));
  } else {
    if (q.length < 40 || q[0]! >> 4 !== 6) return undefined;
    proto = q[6]!;
    ttl = q[7]!;
    src = formatIp6(ip6FromBytes(q, 8));
    dst = formatIp6(ip6FromBytes(q, 24));
    l4 = 40;
    // Skip hop-by-hop, routing and destination options headers to find the transport header.
    for (let i = 0; i < 8 && (proto === 0 || proto === 43 || proto === 60) && l4 + 8 <= q.length; i++) {
      const next = q[l4]!;
      l4 += (q[l4 + 1]! + 1) * 8;
      proto = next;
    }
  }
  const base = { proto, src, dst, ttl };
  if (l4 + 8 > q.length) return base;
  const be16 = (o: number): number => (q[o]! << 8) | q[o + 1]!;
  if (proto === 6 || proto === 17 || proto === 132) return { ...base, srcPort: be16(l4), dstPort: be16(l4 + 2) };
  if ((proto === 1 && q[l4] === 8) || (proto === 58 && q[l4] === 128)) return { ...base, echoId: be16(l4 + 4), echoSeq: be16(l4 + 6) };
  return base;
}
