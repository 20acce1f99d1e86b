/**
 * Geneve tunnels: ONE UDP socket per switch, bound to the host's tunnel IP on port 6081 (the lab
 * gives each host its own 127.0.0.x), shared by one tunnel port per remote chassis. A received
 * packet belongs to the port whose remote_ip is the sender's address, else to a `remote_ip=flow`
 * port if there is one; its inner frame enters the datapath with the VNI as tun_id and OVN's
 * option as tun_metadata0. Sending encodes the packet's tun_id and tun_metadata0 the same way.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import type { TunnelMetadata } from '../datapath/types.js';
import { GeneveInfo, encodeGeneve, parseGeneve } from '../packet/geneve.js';
import { GENEVE_PORT } from '../packet/constants.js';
import { ip4Number, ip4Text } from './address.js';
import type { PortContext, PortDriver, TunnelPortSpec } from './types.js';

const MIN_FRAME = 14;

/** Counters of what arrived on the tunnel socket but belongs to no port. */
export interface TunnelEndpointStats {
  /** Packets from an address no tunnel port has as remote_ip (and no flow port). */
  unknownRemote: number;
  /** Socket errors. */
  errors: number;
}

export class TunnelEndpoint {
  private socket: Socket | undefined;
  private readonly byRemote = new Map<number, TunnelPort>();
  private flowPort: TunnelPort | undefined;
  private readonly info = new GeneveInfo();
  private readonly localIp: number;
  private boundPort: number;
  readonly stats: TunnelEndpointStats = { unknownRemote: 0, errors: 0 };

  constructor(
    readonly ip: string,
    port: number = GENEVE_PORT,
  ) {
    if (!isIPv4(ip)) throw new Error(`tunnel IP "${ip}" is not an IPv4 address`);
    this.localIp = ip4Number(ip);
    this.boundPort = port;
  }

  /** The UDP port the socket is bound to (the configured one, or the one picked for port 0). */
  get port(): number {
    return this.boundPort;
  }

  get open(): boolean {
    return this.socket !== undefined;
  }

  async start(): Promise<void> {
    if (this.socket) return;
    const sock = createSocket({ type: 'udp4' });
    await new Promise<void>((resolve, reject) => {
      const fail = (e: Error): void => {
        sock.close();
        reject(e);
      };
      sock.once('error', fail);
      sock.bind(this.boundPort, this.ip, () => {
        sock.off('error', fail);
        resolve();
      });
    });
    sock.on('error', () => this.stats.errors++);
    sock.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address));
    this.boundPort = sock.address().port;
    this.socket = sock;
  }

  async stop(): Promise<void> {
    const sock = this.socket;
    this.socket = undefined;
    if (!sock) return;
    await new Promise<void>((resolve) => {
      try {
        sock.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  /** Registers a port; throws if another port already has its remote. */
  attach(port: TunnelPort): void {
    if (port.remote === undefined) {
      if (this.flowPort) throw new Error('a tunnel port with remote_ip=flow already exists');
      this.flowPort = port;
      return;
    }
    if (this.byRemote.has(port.remote)) throw new Error(`a tunnel port to ${ip4Text(port.remote)} already exists`);
    this.byRemote.set(port.remote, port);
  }

  detach(port: TunnelPort): void {
    if (port.remote === undefined) {
      if (this.flowPort === port) this.flowPort = undefined;
    } else if (this.byRemote.get(port.remote) === port) {
      this.byRemote.delete(port.remote);
    }
  }

  private onMessage(msg: Buffer, from: string): void {
    const src = ip4Number(from);
    const port = this.byRemote.get(src) ?? this.flowPort;
    if (!port) {
      this.stats.unknownRemote++;
      return;
    }
    const info = this.info;
    if (!parseGeneve(msg, info) || msg.length - info.innerOffset < MIN_FRAME) {
      port.ctx.rxError();
      return;
    }
    if (info.unknownCritical) {
      // RFC 8926 section 3.5: a critical option we do not understand means drop.
      port.ctx.rxDrop();
      return;
    }
    const tunnel: TunnelMetadata = {
      tunId: BigInt(info.vni),
      metadata0: info.hasMetadata ? info.tunMetadata0 : undefined,
      src,
      dst: this.localIp,
    };
    port.ctx.receive(msg.subarray(info.innerOffset), tunnel);
  }

  /** Sends one encapsulated frame; false when the socket is not open. */
  send(payload: Uint8Array, address: string, port: number, onError: () => void): boolean {
    const sock = this.socket;
    if (!sock) return false;
    try {
      sock.send(payload, port, address, (err) => {
        if (err) onError();
      });
    } catch {
      onError();
    }
    return true;
  }
}

export class TunnelPort implements PortDriver {
  readonly type = 'tunnel' as const;
  /** The remote endpoint as a number, undefined for remote_ip=flow. */
  readonly remote: number | undefined;
  private readonly remoteText: string | undefined;
  private readonly remotePort: number;

  constructor(
    spec: TunnelPortSpec,
    private readonly endpoint: TunnelEndpoint,
    readonly ctx: PortContext,
  ) {
    if (spec.remoteIp === 'flow') {
      this.remote = undefined;
      this.remoteText = undefined;
    } else {
      if (!isIPv4(spec.remoteIp)) throw new Error(`remote_ip "${spec.remoteIp}" is not an IPv4 address`);
      this.remote = ip4Number(spec.remoteIp);
      this.remoteText = spec.remoteIp;
    }
    this.remotePort = spec.remotePort ?? endpoint.port;
    endpoint.attach(this);
  }

  transmit(frame: Uint8Array, tunnel: TunnelMetadata | undefined): boolean {
    let to = this.remoteText;
    if (to === undefined) {
      // remote_ip=flow: the destination is the packet's tun_dst.
      if (!tunnel?.dst) return false;
      to = ip4Text(tunnel.dst);
    }
    const vni = tunnel ? Number(tunnel.tunId & 0xffffffn) : 0;
    // encodeGeneve copies the frame, so the datapath may reuse its buffer at once.
    const payload = encodeGeneve(vni, tunnel?.metadata0, frame);
    return this.endpoint.send(payload, to, this.remotePort, () => this.ctx.txError());
  }

  linkUp(): boolean {
    return this.endpoint.open;
  }

  options(): Record<string, string> {
    const o: Record<string, string> = { remote_ip: this.remoteText ?? 'flow', key: 'flow' };
    if (this.remotePort !== GENEVE_PORT) o['dst_port'] = String(this.remotePort);
    return o;
  }

  async close(): Promise<void> {
    this.endpoint.detach(this);
  }
}
