/**
 * UDP for the simulated VM: bound ports with handlers, fire-and-forget sends, and
 * `request` (send one datagram, wait for the first answer) which reports ICMP errors about the
 * datagram (port unreachable, TTL exceeded …) as the reason it failed.
 */
import type { DecodedUdp } from '@ovnts/switch';
import { NetError, describeIcmpError, type IcmpErrorReport } from './errors.js';
import { ephemeralPort, normIp, type IpLayer, type RxInfo } from './ip.js';

export interface UdpMessage {
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly payload: Uint8Array;
  /** TTL / hop limit the datagram arrived with. */
  readonly ttl: number;
  readonly v6: boolean;
  /**
   * Sends `payload` back to the sender, from the port it arrived on. Never rejects (handlers
   * usually do not await it): resolves false if the reply could not be sent.
   */
  reply(payload: Uint8Array): Promise<boolean>;
}

export type UdpHandler = (msg: UdpMessage) => void;

export interface UdpSendOptions {
  /** Default: a free ephemeral port. */
  readonly srcPort?: number;
  readonly ttl?: number;
}

export interface UdpRequestOptions extends UdpSendOptions {
  /** Default 1000 ms. */
  readonly timeoutMs?: number;
}

export class UdpSocket {
  /** Called with an ICMP error about a datagram this socket sent. */
  onError: ((e: NetError) => void) | undefined;

  constructor(readonly port: number, readonly handler: UdpHandler, private readonly stack: UdpStack) {}

  close(): void {
    this.stack.unbind(this);
  }
}

export class UdpStack {
  private readonly sockets = new Map<number, UdpSocket>();

  constructor(private readonly ip: IpLayer) {}

  /** Binds `port` (0: a free ephemeral port); throws NetError 'address-in-use'. */
  bind(port: number, handler: UdpHandler): UdpSocket {
    const p = port === 0 ? ephemeralPort((x) => this.sockets.has(x)) : port;
    if (p === undefined || !Number.isInteger(p) || p < 1 || p > 65535) throw new NetError('no-buffer', `no UDP port ${port} to bind`);
    if (this.sockets.has(p)) throw new NetError('address-in-use', `UDP port ${p} is already bound`);
    const s = new UdpSocket(p, handler, this);
    this.sockets.set(p, s);
    return s;
  }

  unbind(s: UdpSocket): void {
    if (this.sockets.get(s.port) === s) this.sockets.delete(s.port);
  }

  isBound(port: number): boolean {
    return this.sockets.has(port);
  }

  send(dst: string, dstPort: number, payload: Uint8Array, opts: UdpSendOptions = {}): Promise<void> {
    const srcPort = opts.srcPort ?? ephemeralPort((x) => this.sockets.has(x)) ?? 49152;
    return this.ip.send(dst, { proto: 'udp', srcPort, dstPort, payload }, opts.ttl === undefined ? {} : { ttl: opts.ttl });
  }

  /** Sends `payload` and resolves with the first datagram back from `dst`:`dstPort`. */
  request(dst: string, dstPort: number, payload: Uint8Array, opts: UdpRequestOptions = {}): Promise<UdpMessage> {
    const peer = normIp(dst);
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let sock: UdpSocket | undefined;
      const done = (err: Error | undefined, msg?: UdpMessage): void => {
        if (!sock) return;
        sock.close();
        sock = undefined;
        this.ip.timers.cancel(timer);
        if (err) reject(err);
        else resolve(msg!);
      };
      try {
        sock = this.bind(opts.srcPort ?? 0, (m) => {
          if (m.src === peer && m.srcPort === dstPort) done(undefined, m);
        });
      } catch (e) {
        reject(e);
        return;
      }
      sock.onError = (e) => done(e);
      timer = this.ip.timers.after(opts.timeoutMs ?? 1000, () =>
        done(new NetError('timeout', `no UDP answer from ${peer} port ${dstPort}`)));
      this.ip.send(peer, { proto: 'udp', srcPort: sock.port, dstPort, payload }, opts.ttl === undefined ? {} : { ttl: opts.ttl })
        .catch((e: Error) => done(e));
    });
  }

  /** Hands a datagram to its socket; false if the port is closed (the caller answers port unreachable). */
  deliver(udp: DecodedUdp, info: RxInfo): boolean {
    const s = this.sockets.get(udp.dstPort);
    if (!s) return false;
    const replyTo = info.src;
    const msg: UdpMessage = {
      src: info.src, srcPort: udp.srcPort, dst: info.dst, dstPort: udp.dstPort, payload: udp.payload, ttl: info.ttl, v6: info.v6,
      reply: (payload) => this.ip.send(replyTo, { proto: 'udp', srcPort: udp.dstPort, dstPort: udp.srcPort, payload },
        info.broadcast ? {} : { src: info.dst }).then(() => true, () => false),
    };
    s.handler(msg);
    return true;
  }

  /** An ICMP error quoting a datagram we sent: tell the socket that sent it. */
  icmpError(e: IcmpErrorReport): void {
    const port = e.original.srcPort;
    const s = port === undefined ? undefined : this.sockets.get(port);
    s?.onError?.(new NetError(e.reason, `UDP to ${e.original.dst} port ${e.original.dstPort}: ${describeIcmpError(e)}`, e));
  }

  close(): void {
    this.sockets.clear();
  }
}
