/**
 * Enough TCP (RFC 9293) for one request and one response per connection, which is what lab
 * checks need (an HTTP-like probe through ACLs, NAT and load balancers):
 * - a listener accepts (SYN → SYN-ACK → ACK), reads the request until a segment with PSH or the
 *   client's FIN, calls its handler, sends the response and FINs;
 * - a client connects, sends the request (PSH on its last segment), reads until the server's
 *   FIN and resolves with the bytes, then FINs itself;
 * - segments are sent at most one MSS long; lost ones are retransmitted go-back-N on an
 *   exponential RTO, out-of-order ones dropped and answered with a duplicate ACK;
 * - RST to a SYN means "connection refused"; RSTs answer segments for no connection; ICMP
 *   errors about a connection abort it with their reason.
 * No congestion control, window scaling, SACK or urgent data: peers are lab VMs or ordinary
 * stacks exchanging a few kilobytes.
 */
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type DecodedTcp } from '@ovnts/switch';
import { NetError, describeIcmpError, type IcmpErrorReport } from './errors.js';
import { ephemeralPort, isV6, normIp, type IpLayer, type RxInfo } from './ip.js';
import type { TimerHandle } from './timers.js';

export interface TcpOptions {
  /** Initial retransmission timeout; doubles per retry up to 10 s. Default 200 ms. */
  readonly rtoMs?: number;
  /** Retransmissions before a connection is aborted. Default 6. */
  readonly maxRetries?: number;
  /** Connections at once; further SYNs are dropped. Default 256. */
  readonly maxConnections?: number;
  /** Bytes one connection may receive; more aborts it with a reset. Default 1 MiB. */
  readonly maxBuffer?: number;
  /** How long a closed connection lingers to re-acknowledge a retransmitted FIN. Default 1000 ms. */
  readonly timeWaitMs?: number;
  /** How long an accepted connection may last before it is dropped (a client that went away). Default 30 000 ms. */
  readonly serverTimeoutMs?: number;
}

export interface TcpRequestOptions {
  /** For the whole exchange, connect to response. Default 3000 ms. */
  readonly timeoutMs?: number;
  readonly srcPort?: number;
  readonly ttl?: number;
}

export interface TcpRequestInfo {
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly v6: boolean;
}

/** Computes the response to one request. */
export type TcpHandler = (request: Uint8Array, info: TcpRequestInfo) => Uint8Array | Promise<Uint8Array>;

export class TcpListener {
  constructor(readonly port: number, readonly handler: TcpHandler, private readonly stack: TcpStack) {}

  close(): void {
    this.stack.unlisten(this);
  }
}

type State = 'syn-sent' | 'syn-received' | 'established' | 'time-wait';

/**
 * One connection. Sequence numbers are kept as offsets from the initial ones: offset 0 is our
 * SYN, 1.. our data bytes, then our FIN; on the receive side likewise from the peer's ISN.
 */
interface Conn {
  readonly key: string;
  readonly role: 'client' | 'server';
  readonly local: string;
  readonly remote: string;
  readonly lport: number;
  readonly rport: number;
  readonly ttl: number;
  state: State;
  readonly iss: number;
  irs: number;
  sndUna: number;
  sndNxt: number;
  sndWnd: number;
  mss: number;
  out: Uint8Array;
  outFin: boolean;
  rcvd: Uint8Array[];
  rcvdLen: number;
  pushSeen: boolean;
  finReceived: boolean;
  retries: number;
  rto: number;
  rtxTimer: TimerHandle | undefined;
  /** The client's whole-exchange timeout, the server's lifetime, then TIME-WAIT. */
  lifeTimer: TimerHandle | undefined;
  responded: boolean;
  readonly handler?: TcpHandler;
  settle?: (err: Error | undefined, data?: Uint8Array) => void;
}

const EMPTY = new Uint8Array(0);

function concat(parts: readonly Uint8Array[], len: number): Uint8Array {
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The MSS option of a SYN, if present (RFC 9293 section 3.7.1). */
function peerMss(opts: Uint8Array): number | undefined {
  for (let o = 0; o < opts.length; ) {
    const kind = opts[o]!;
    if (kind === 0) break;
    if (kind === 1) {
      o++;
      continue;
    }
    const len = opts[o + 1] ?? 0;
    if (len < 2) break;
    if (kind === 2 && len === 4 && o + 4 <= opts.length) return (opts[o + 2]! << 8) | opts[o + 3]!;
    o += len;
  }
  return undefined;
}

export class TcpStack {
  private readonly listeners = new Map<number, TcpListener>();
  private readonly conns = new Map<string, Conn>();
  private readonly rtoMs: number;
  private readonly maxRetries: number;
  private readonly maxConnections: number;
  private readonly maxBuffer: number;
  private readonly timeWaitMs: number;
  private readonly serverTimeoutMs: number;

  constructor(private readonly ip: IpLayer, opts: TcpOptions = {}) {
    this.rtoMs = opts.rtoMs ?? 200;
    this.maxRetries = opts.maxRetries ?? 6;
    this.maxConnections = opts.maxConnections ?? 256;
    this.maxBuffer = opts.maxBuffer ?? 1 << 20;
    this.timeWaitMs = opts.timeWaitMs ?? 1000;
    this.serverTimeoutMs = opts.serverTimeoutMs ?? 30_000;
  }

  listen(port: number, handler: TcpHandler): TcpListener {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bad TCP port ${port}`);
    if (this.listeners.has(port)) throw new NetError('address-in-use', `TCP port ${port} is already listening`);
    const l = new TcpListener(port, handler, this);
    this.listeners.set(port, l);
    return l;
  }

  unlisten(l: TcpListener): void {
    if (this.listeners.get(l.port) === l) this.listeners.delete(l.port);
  }

  /** The number of connections in any state (tests check they all end). */
  get connectionCount(): number {
    return this.conns.size;
  }

  /** Connects to `dst`:`port`, sends `payload`, resolves with the whole response. */
  request(dst: string, port: number, payload: Uint8Array, opts: TcpRequestOptions = {}): Promise<Uint8Array> {
    const remote = normIp(dst);
    const local = this.ip.sourceFor(remote);
    if (local === undefined) return Promise.reject(new NetError('no-address', `no source address to reach ${remote}`));
    if (this.conns.size >= this.maxConnections) return Promise.reject(new NetError('no-buffer', 'too many TCP connections'));
    const inUse = (p: number): boolean => this.listeners.has(p) || this.conns.has(`${remote}|${port}|${p}`);
    const lport = opts.srcPort ?? ephemeralPort(inUse);
    if (lport === undefined || inUse(lport)) return Promise.reject(new NetError('address-in-use', `TCP port ${lport} is in use`));
    return new Promise((resolve, reject) => {
      const c = this.newConn('client', local, remote, lport, port, opts.ttl ?? 64, 'syn-sent', 0);
      c.out = payload;
      // Nothing to push: half-close instead, so the server still sees the request end.
      c.outFin = payload.length === 0;
      let settled = false;
      c.settle = (err, data) => {
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else resolve(data!);
      };
      c.lifeTimer = this.ip.timers.after(opts.timeoutMs ?? 3000, () => {
        c.lifeTimer = undefined;
        this.abort(c, new NetError('timeout', `TCP ${remote} port ${port}: no ${c.state === 'syn-sent' ? 'answer to SYN' : 'complete response'} in time`), c.state === 'established');
      });
      this.pump(c);
    });
  }

  private newConn(
    role: 'client' | 'server', local: string, remote: string, lport: number, rport: number, ttl: number, state: State, irs: number,
    handler?: TcpHandler,
  ): Conn {
    const c: Conn = {
      key: `${remote}|${rport}|${lport}`, role, local, remote, lport, rport, ttl, state,
      iss: Math.floor(Math.random() * 0x100000000), irs, sndUna: 0, sndNxt: 0, sndWnd: 65535,
      mss: this.ip.mtu - (isV6(remote) ? 60 : 40), out: EMPTY, outFin: false, rcvd: [], rcvdLen: 0, pushSeen: false,
      finReceived: false, retries: 0, rto: this.rtoMs, rtxTimer: undefined, lifeTimer: undefined, responded: false,
      ...(handler ? { handler } : {}),
    };
    this.conns.set(c.key, c);
    return c;
  }

  private rcvNxt(c: Conn): number {
    return (c.irs + 1 + c.rcvdLen + (c.finReceived ? 1 : 0)) >>> 0;
  }

  private send(c: Conn, flags: number, off: number, payload: Uint8Array = EMPTY, options?: Uint8Array): void {
    const ack = flags & TCP_ACK ? this.rcvNxt(c) : 0;
    this.ip.send(c.remote, {
      proto: 'tcp', srcPort: c.lport, dstPort: c.rport, seq: (c.iss + off) >>> 0, ack, flags, window: 65535, payload,
      ...(options ? { options } : {}),
    }, { src: c.local, ttl: c.ttl }).catch((e: Error) => {
      // No route or no ARP answer will not change by retransmitting: report it now.
      if (e instanceof NetError && (e.code === 'host-unreachable' || e.code === 'net-unreachable' || e.code === 'no-address')) this.abort(c, e, false);
    });
  }

  /** Sends whatever the state allows: the SYN (or SYN-ACK), data up to the window, the FIN. */
  private pump(c: Conn): void {
    if (!this.conns.has(c.key)) return;
    if (c.state === 'syn-sent' || c.state === 'syn-received') {
      if (c.sndNxt === 0) {
        const mss = Uint8Array.of(2, 4, c.mss >> 8, c.mss & 0xff);
        this.send(c, c.state === 'syn-sent' ? TCP_SYN : TCP_SYN | TCP_ACK, 0, EMPTY, mss);
        c.sndNxt = 1;
      }
    } else if (c.state === 'established') {
      const dataEnd = 1 + c.out.length;
      const wnd = Math.max(c.sndWnd, c.mss);
      for (;;) {
        const room = c.sndUna + wnd - c.sndNxt;
        if (room <= 0) break;
        if (c.sndNxt < dataEnd) {
          const len = Math.min(c.mss, dataEnd - c.sndNxt, room);
          const last = c.sndNxt + len === dataEnd;
          const fin = last && c.outFin;
          this.send(c, TCP_ACK | (last ? TCP_PSH : 0) | (fin ? TCP_FIN : 0), c.sndNxt, c.out.subarray(c.sndNxt - 1, c.sndNxt - 1 + len));
          c.sndNxt += len + (fin ? 1 : 0);
        } else if (c.outFin && c.sndNxt === dataEnd) {
          this.send(c, TCP_ACK | TCP_FIN, c.sndNxt);
          c.sndNxt++;
        } else {
          break;
        }
      }
    }
    if (c.sndNxt > c.sndUna && c.rtxTimer === undefined) c.rtxTimer = this.ip.timers.after(c.rto, () => this.onRto(c));
  }

  private onRto(c: Conn): void {
    c.rtxTimer = undefined;
    if (!this.conns.has(c.key)) return;
    if (++c.retries > this.maxRetries) {
      this.abort(c, new NetError('timeout', `TCP ${c.remote} port ${c.rport}: no acknowledgement after ${this.maxRetries} retransmissions`), c.state !== 'syn-sent');
      return;
    }
    c.rto = Math.min(c.rto * 2, 10_000);
    c.sndNxt = c.sndUna;
    this.pump(c);
  }

  private finSentAndAcked(c: Conn): boolean {
    return c.outFin && c.sndUna === c.out.length + 2;
  }

  /** Ends a connection: optionally sends a RST, fails a pending client request, forgets it. */
  private abort(c: Conn, err: Error, rst: boolean): void {
    if (this.conns.get(c.key) !== c) return;
    if (rst) this.send(c, TCP_RST | TCP_ACK, c.sndNxt);
    this.forget(c);
    c.settle?.(err);
  }

  private forget(c: Conn): void {
    c.rtxTimer = this.ip.timers.cancel(c.rtxTimer);
    c.lifeTimer = this.ip.timers.cancel(c.lifeTimer);
    if (this.conns.get(c.key) === c) this.conns.delete(c.key);
  }

  /** A received TCP segment (checksum already verified). */
  segment(t: DecodedTcp, info: RxInfo): void {
    const c = this.conns.get(`${info.src}|${t.srcPort}|${t.dstPort}`);
    if (!c) {
      this.noConnection(t, info);
      return;
    }
    const ackOff = (t.ack - c.iss) >>> 0;
    if (t.flags & TCP_RST) {
      if (c.state === 'syn-sent') {
        if (t.flags & TCP_ACK && ackOff === 1) this.abort(c, new NetError('refused', `TCP ${c.remote} port ${c.rport}: connection refused`), false);
      } else if (((t.seq - this.rcvNxt(c)) >>> 0) < 65536) {
        this.abort(c, new NetError('reset', `TCP ${c.remote} port ${c.rport}: connection reset by peer`), false);
      }
      return;
    }
    if (c.state === 'syn-sent') {
      if (t.flags & TCP_SYN && t.flags & TCP_ACK && ackOff === 1) {
        c.irs = t.seq;
        c.state = 'established';
        this.established(c, t);
        this.send(c, TCP_ACK, c.sndNxt);
        this.pump(c);
      } else if (t.flags & TCP_ACK && ackOff !== 1) {
        this.send(c, TCP_RST, ackOff);
      }
      return;
    }
    if (c.state === 'syn-received') {
      if (t.flags & TCP_SYN && !(t.flags & TCP_ACK)) {
        // Our SYN-ACK was lost and the client tries again: send it again.
        if (t.seq === c.irs) {
          c.sndNxt = 0;
          this.pump(c);
        }
        return;
      }
      if (!(t.flags & TCP_ACK) || ackOff !== 1) return;
      c.state = 'established';
      this.established(c, undefined);
    } else if (t.flags & TCP_SYN) {
      // A retransmitted SYN-ACK: our ACK of it was lost.
      this.send(c, TCP_ACK, c.sndNxt);
      return;
    } else if (!(t.flags & TCP_ACK)) {
      // Past the handshake every segment carries an ACK (RFC 9293 section 3.10.7.4).
      return;
    } else {
      this.onAck(c, ackOff, t.window);
    }
    this.onData(c, t);
    this.maybeDone(c);
  }

  private established(c: Conn, synAck: DecodedTcp | undefined): void {
    c.sndUna = 1;
    c.retries = 0;
    c.rto = this.rtoMs;
    c.rtxTimer = this.ip.timers.cancel(c.rtxTimer);
    if (synAck) {
      const mss = peerMss(synAck.options);
      if (mss) c.mss = Math.min(c.mss, mss);
      c.sndWnd = synAck.window;
    }
  }

  private onAck(c: Conn, ackOff: number, window: number): void {
    if (ackOff <= c.sndUna || ackOff > c.sndNxt) return;
    c.sndUna = ackOff;
    c.sndWnd = window;
    c.retries = 0;
    c.rto = this.rtoMs;
    c.rtxTimer = this.ip.timers.cancel(c.rtxTimer);
    if (c.sndNxt > c.sndUna) c.rtxTimer = this.ip.timers.after(c.rto, () => this.onRto(c));
    this.pump(c);
  }

  private onData(c: Conn, t: DecodedTcp): void {
    let payload = t.payload;
    const fin = (t.flags & TCP_FIN) !== 0;
    if (payload.length === 0 && !fin) return;
    let rel = (t.seq - this.rcvNxt(c)) | 0;
    // Drop the part we already have (a go-back-N retransmission overlapping received data).
    if (rel < 0 && -rel < payload.length) {
      payload = payload.subarray(-rel);
      rel = 0;
    }
    if (rel !== 0 || c.finReceived) {
      this.send(c, TCP_ACK, c.sndNxt);
      return;
    }
    if (payload.length) {
      if (c.rcvdLen + payload.length > this.maxBuffer) {
        this.abort(c, new NetError('no-buffer', `TCP ${c.remote} port ${c.rport}: more than ${this.maxBuffer} bytes received`), true);
        return;
      }
      c.rcvd.push(payload);
      c.rcvdLen += payload.length;
      if (t.flags & TCP_PSH) c.pushSeen = true;
    }
    if (fin) c.finReceived = true;
    this.send(c, TCP_ACK, c.sndNxt);
    if (c.role === 'server') this.serve(c);
    else if (c.finReceived) {
      c.settle?.(undefined, concat(c.rcvd, c.rcvdLen));
      c.lifeTimer = this.ip.timers.cancel(c.lifeTimer);
      c.outFin = true;
      this.pump(c);
    }
  }

  private serve(c: Conn): void {
    if (c.responded || !(c.pushSeen || c.finReceived) || !c.handler) return;
    c.responded = true;
    const request = concat(c.rcvd, c.rcvdLen);
    const info: TcpRequestInfo = { src: c.remote, srcPort: c.rport, dst: c.local, dstPort: c.lport, v6: isV6(c.remote) };
    const handler = c.handler;
    Promise.resolve()
      .then(() => handler(request, info))
      .then((response) => {
        if (this.conns.get(c.key) !== c || c.state !== 'established') return;
        c.out = response;
        c.outFin = true;
        this.pump(c);
      }, (e: unknown) => this.abort(c, e instanceof Error ? e : new Error(String(e)), true));
  }

  /** Both FINs exchanged and ours acknowledged: linger in TIME-WAIT, then forget. */
  private maybeDone(c: Conn): void {
    if (this.conns.get(c.key) !== c || c.state !== 'established' || !c.finReceived || !this.finSentAndAcked(c)) return;
    c.state = 'time-wait';
    c.rtxTimer = this.ip.timers.cancel(c.rtxTimer);
    c.lifeTimer = this.ip.timers.cancel(c.lifeTimer);
    c.lifeTimer = this.ip.timers.after(this.timeWaitMs, () => this.forget(c));
  }

  /** A segment for no connection: a SYN to a listener opens one; anything else but a RST gets a RST. */
  private noConnection(t: DecodedTcp, info: RxInfo): void {
    if (t.flags & TCP_RST || info.broadcast) return;
    const l = this.listeners.get(t.dstPort);
    if (l && t.flags & TCP_SYN && !(t.flags & TCP_ACK)) {
      if (this.conns.size >= this.maxConnections) return;
      const c = this.newConn('server', info.dst, info.src, t.dstPort, t.srcPort, 64, 'syn-received', t.seq, l.handler);
      c.lifeTimer = this.ip.timers.after(this.serverTimeoutMs, () => this.forget(c));
      const mss = peerMss(t.options);
      if (mss) c.mss = Math.min(c.mss, mss);
      c.sndWnd = t.window;
      this.pump(c);
      return;
    }
    const len = t.payload.length + (t.flags & TCP_SYN ? 1 : 0) + (t.flags & TCP_FIN ? 1 : 0);
    const rst = t.flags & TCP_ACK
      ? { seq: t.ack, ack: 0, flags: TCP_RST }
      : { seq: 0, ack: (t.seq + len) >>> 0, flags: TCP_RST | TCP_ACK };
    this.ip.send(info.src, { proto: 'tcp', srcPort: t.dstPort, dstPort: t.srcPort, window: 0, ...rst }, { src: info.dst }).catch(() => undefined);
  }

  /** An ICMP error quoting one of our segments aborts its connection with the error's reason. */
  icmpError(e: IcmpErrorReport): void {
    const o = e.original;
    const c = this.conns.get(`${o.dst}|${o.dstPort}|${o.srcPort}`);
    if (c) this.abort(c, new NetError(e.reason, `TCP ${c.remote} port ${c.rport}: ${describeIcmpError(e)}`, e), false);
  }

  close(): void {
    const err = new NetError('closed', 'the VM is closed');
    for (const c of [...this.conns.values()]) {
      this.forget(c);
      c.settle?.(err);
    }
    this.listeners.clear();
  }
}
