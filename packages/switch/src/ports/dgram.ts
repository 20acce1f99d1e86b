/**
 * A VIF over a UDP datagram socket: each datagram is one Ethernet frame, no header, as QEMU's
 * `-netdev dgram,local.type=inet,…,remote.type=inet,…` and `socat TUN,tun-type=tap UDP:…` send
 * them. With no fixed remote, the port replies to the sender of the latest frame (socat's
 * UDP-RECVFROM style), so a peer with an ephemeral source port can still attach.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { TunnelMetadata } from '../datapath/types.js';
import { formatEndpoint, parseEndpoint, type Endpoint } from './address.js';
import type { DgramPortSpec, PortContext, PortDriver } from './types.js';

/** Shorter than an Ethernet header: not a frame. */
const MIN_FRAME = 14;

export class DgramPort implements PortDriver {
  readonly type = 'dgram' as const;
  private socket: Socket | undefined;
  private bound: Endpoint | undefined;
  private remote: Endpoint | undefined;
  private readonly fixedRemote: boolean;

  private constructor(
    private readonly local: Endpoint,
    remote: Endpoint | undefined,
    private readonly ctx: PortContext,
  ) {
    this.remote = remote;
    this.fixedRemote = remote !== undefined;
  }

  /** Binds the socket; rejects if the address cannot be bound. */
  static async open(spec: DgramPortSpec, ctx: PortContext): Promise<DgramPort> {
    const local = parseEndpoint(spec.local, 'local');
    const remote = spec.remote !== undefined ? parseEndpoint(spec.remote, 'remote') : undefined;
    const port = new DgramPort(local, remote, ctx);
    await port.bind();
    return port;
  }

  private bind(): Promise<void> {
    const sock = createSocket({ type: 'udp4' });
    return new Promise((resolve, reject) => {
      const fail = (e: Error): void => {
        sock.close();
        reject(e);
      };
      sock.once('error', fail);
      sock.bind(this.local.port, this.local.address, () => {
        sock.off('error', fail);
        // From here on errors are counted, never thrown: a dead peer must not kill the switch.
        sock.on('error', () => this.ctx.rxError());
        sock.on('message', (msg, rinfo) => {
          if (msg.length < MIN_FRAME) {
            this.ctx.rxError();
            return;
          }
          if (!this.fixedRemote) this.remote = { address: rinfo.address, port: rinfo.port };
          this.ctx.receive(msg);
        });
        const a = sock.address();
        this.bound = { address: a.address, port: a.port };
        this.socket = sock;
        resolve();
      });
    });
  }

  transmit(frame: Uint8Array, _tunnel: TunnelMetadata | undefined): boolean {
    const sock = this.socket;
    const to = this.remote;
    if (!sock || !to) return false;
    try {
      // Copied: the datapath may reuse its buffer before the send completes.
      sock.send(Buffer.from(frame), to.port, to.address, (err) => {
        if (err) this.ctx.txError();
      });
    } catch {
      this.ctx.txError();
    }
    return true;
  }

  linkUp(): boolean {
    return this.socket !== undefined;
  }

  options(): Record<string, string> {
    const o: Record<string, string> = { local: formatEndpoint(this.bound ?? this.local) };
    if (this.remote) o['remote'] = formatEndpoint(this.remote);
    return o;
  }

  close(): Promise<void> {
    const sock = this.socket;
    this.socket = undefined;
    if (!sock) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        sock.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
