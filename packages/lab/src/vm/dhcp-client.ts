/**
 * A DHCPv4 client (RFC 2131 section 4.4): DISCOVER → OFFER → REQUEST → ACK with retransmission
 * on an exponential timeout, NAK handling, then RENEWING at T1 (unicast to the server),
 * REBINDING at T2 (broadcast) and loss of the address when the lease expires.
 */
import {
  BOOTP_REPLY, BOOTP_REQUEST, DHCPACK, DHCPDISCOVER, DHCPNAK, DHCPOFFER, DHCPREQUEST, DHCP_CLIENT_PORT, DHCP_SERVER_PORT,
  encodeDhcp, macToBytes, type DhcpMessage, type DhcpOptions, type DhcpRoute, type L4Spec,
} from '@ovnts/switch';
import { NetError } from './errors.js';
import { maskToPlen, type SendOptions } from './ip.js';
import { now, type TimerHandle, type Timers } from './timers.js';

export interface DhcpClientOptions {
  /** First retransmission timeout; doubles per attempt (RFC 2131 section 4.1). Default 1000 ms. */
  readonly timeoutMs?: number;
  /** Transmissions of a DISCOVER or REQUEST before giving up. Default 4. */
  readonly attempts?: number;
  /** Ask servers to broadcast their answers. Default false (the VM accepts unicast before it has an address). */
  readonly broadcastFlag?: boolean;
  /** Option 12; default the VM's name. */
  readonly hostname?: string;
  /** Option 55. */
  readonly parameterRequestList?: readonly number[];
}

export interface DhcpLease {
  readonly ip: string;
  readonly prefixLength: number;
  readonly subnetMask: string;
  readonly routers: readonly string[];
  /** Option 121 routes; when present, routers are not used for routing (RFC 3442). */
  readonly routes: readonly DhcpRoute[];
  readonly dnsServers: readonly string[];
  readonly domainName?: string;
  readonly hostname?: string;
  readonly mtu?: number;
  readonly broadcastAddress?: string;
  readonly serverId: string;
  /** Seconds; 0xffffffff is infinite. */
  readonly leaseTime: number;
  readonly renewalTime: number;
  readonly rebindingTime: number;
  /** Date.now() when the ACK arrived. */
  readonly obtainedAt: number;
  /** The ACK's options as received. */
  readonly options: DhcpOptions;
}

export type DhcpState = 'init' | 'selecting' | 'requesting' | 'bound' | 'renewing' | 'rebinding' | 'failed' | 'stopped';

/** What the client needs from its VM. */
export interface DhcpHost {
  readonly mac: string;
  readonly name: string;
  readonly timers: Timers;
  /** Sends a UDP payload 68 → 67 from `src` (0.0.0.0 before a lease) to 255.255.255.255, Ethernet broadcast. */
  broadcast(payload: Uint8Array, src: string): void;
  /** Sends through the VM's routing (RENEWING's unicast to the server). */
  send(dst: string, l4: L4Spec, opts: SendOptions): Promise<void>;
  bound(lease: DhcpLease): void;
  unbound(lease: DhcpLease, reason: string): void;
  failed(err: NetError): void;
}

const INFINITE = 0xffffffff;
/** Subnet mask, router, DNS, domain name, MTU, broadcast, lease, server id, T1, T2, classless routes. */
const DEFAULT_PRL = [1, 3, 6, 15, 26, 28, 51, 54, 58, 59, 121];

export class DhcpClient {
  state: DhcpState = 'init';
  lease: DhcpLease | undefined;
  private xid = 0;
  private attempt = 0;
  private naks = 0;
  private startedAt = 0;
  private retx: TimerHandle | undefined;
  private leaseTimers: (TimerHandle | undefined)[] = [];
  private waiters: { resolve: (l: DhcpLease) => void; reject: (e: Error) => void }[] = [];
  private readonly timeoutMs: number;
  private readonly attempts: number;

  constructor(private readonly host: DhcpHost, private readonly opts: DhcpClientOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 1000;
    this.attempts = Math.max(1, opts.attempts ?? 4);
  }

  /** True while the client may receive answers (the VM then accepts port 68 for any address). */
  get active(): boolean {
    return this.state !== 'init' && this.state !== 'failed' && this.state !== 'stopped';
  }

  start(): void {
    this.naks = 0;
    this.discover();
  }

  /** Resolves with the current lease, or the next one. */
  waitForLease(): Promise<DhcpLease> {
    if (this.lease && this.state === 'bound') return Promise.resolve(this.lease);
    if (this.state === 'failed') return Promise.reject(new NetError('timeout', 'DHCP failed'));
    if (this.state === 'stopped') return Promise.reject(new NetError('closed', 'the VM is closed'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private discover(): void {
    this.state = 'selecting';
    this.xid = Math.floor(Math.random() * 0x100000000);
    this.attempt = 0;
    this.startedAt = now();
    this.transmit();
  }

  private message(type: number, extra: DhcpOptions, ciaddr?: string): Uint8Array {
    return encodeDhcp({
      op: BOOTP_REQUEST, xid: this.xid, chaddr: this.host.mac, secs: Math.min(0xffff, Math.floor((now() - this.startedAt) / 1000)),
      broadcast: this.opts.broadcastFlag ?? false, ...(ciaddr ? { ciaddr } : {}),
      options: {
        messageType: type, ...extra, clientId: Uint8Array.of(1, ...macToBytes(this.host.mac)), hostname: this.opts.hostname ?? this.host.name,
        parameterRequestList: this.opts.parameterRequestList ?? DEFAULT_PRL,
      },
    });
  }

  /** Sends the current state's message and arms its retransmission. */
  private transmit(offer?: DhcpMessage): void {
    switch (this.state) {
      case 'selecting':
        this.host.broadcast(this.message(DHCPDISCOVER, {}), '0.0.0.0');
        break;
      case 'requesting':
        this.host.broadcast(this.message(DHCPREQUEST, { requestedIp: offer!.yiaddr, serverId: offer!.options.serverId! }), '0.0.0.0');
        break;
      case 'renewing': {
        const l = this.lease!;
        const payload = this.message(DHCPREQUEST, {}, l.ip);
        this.host.send(l.serverId, { proto: 'udp', srcPort: DHCP_CLIENT_PORT, dstPort: DHCP_SERVER_PORT, payload }, { src: l.ip }).catch(() => undefined);
        break;
      }
      case 'rebinding':
        this.host.broadcast(this.message(DHCPREQUEST, {}, this.lease!.ip), this.lease!.ip);
        break;
      default:
        return;
    }
    const state = this.state;
    this.retx = this.host.timers.cancel(this.retx);
    this.retx = this.host.timers.after(this.timeoutMs * 2 ** Math.min(this.attempt, 6), () => {
      this.retx = undefined;
      if (this.state !== state) return;
      this.attempt++;
      // RENEWING and REBINDING go on until T2 / expiry moves them on.
      if ((state === 'selecting' || state === 'requesting') && this.attempt >= this.attempts) {
        this.fail(new NetError('timeout', `no DHCP ${state === 'selecting' ? 'offer' : 'acknowledgement'} after ${this.attempts} attempts`));
        return;
      }
      this.transmit(offer);
    });
  }

  private fail(err: NetError): void {
    this.state = 'failed';
    this.retx = this.host.timers.cancel(this.retx);
    const w = this.waiters;
    this.waiters = [];
    for (const x of w) x.reject(err);
    this.host.failed(err);
  }

  /** A BOOTREPLY that arrived on port 68. */
  onMessage(m: DhcpMessage): void {
    if (m.op !== BOOTP_REPLY || m.xid !== this.xid || m.chaddr !== this.host.mac.toLowerCase()) return;
    const type = m.options.messageType;
    if (this.state === 'selecting' && type === DHCPOFFER && m.options.serverId !== undefined && m.yiaddr !== '0.0.0.0') {
      this.state = 'requesting';
      this.attempt = 0;
      this.transmit(m);
      return;
    }
    if (this.state !== 'requesting' && this.state !== 'renewing' && this.state !== 'rebinding') return;
    if (type === DHCPACK) this.bind(m);
    else if (type === DHCPNAK) {
      this.retx = this.host.timers.cancel(this.retx);
      this.drop('DHCPNAK');
      if (++this.naks > this.attempts) this.fail(new NetError('refused', `DHCP server refused ${this.naks} times`));
      else this.discover();
    }
  }

  private bind(m: DhcpMessage): void {
    this.retx = this.host.timers.cancel(this.retx);
    this.clearLeaseTimers();
    const o = m.options;
    const mask = o.subnetMask ?? '255.255.255.0';
    const leaseTime = o.leaseTime ?? INFINITE;
    const lease: DhcpLease = {
      ip: m.yiaddr, prefixLength: maskToPlen(mask) ?? 24, subnetMask: mask, routers: o.routers ?? [],
      routes: o.classlessStaticRoutes ?? [], dnsServers: o.dnsServers ?? [], serverId: o.serverId ?? this.lease?.serverId ?? '0.0.0.0',
      leaseTime, renewalTime: o.renewalTime ?? Math.floor(leaseTime * 0.5), rebindingTime: o.rebindingTime ?? Math.floor(leaseTime * 0.875),
      obtainedAt: Date.now(), options: o,
      ...(o.domainName !== undefined ? { domainName: o.domainName } : {}),
      ...(o.hostname !== undefined ? { hostname: o.hostname } : {}),
      ...(o.mtu !== undefined ? { mtu: o.mtu } : {}),
      ...(o.broadcastAddress !== undefined ? { broadcastAddress: o.broadcastAddress } : {}),
    };
    if (this.lease && this.lease.ip !== lease.ip) this.drop('address changed');
    this.lease = lease;
    this.state = 'bound';
    this.naks = 0;
    this.host.bound(lease);
    const w = this.waiters;
    this.waiters = [];
    for (const x of w) x.resolve(lease);
    if (leaseTime === INFINITE) return;
    const at = (s: number, fn: () => void): TimerHandle | undefined => this.host.timers.after(s * 1000, fn);
    this.leaseTimers = [
      at(lease.renewalTime, () => this.enter('renewing')),
      at(lease.rebindingTime, () => this.enter('rebinding')),
      at(leaseTime, () => {
        this.retx = this.host.timers.cancel(this.retx);
        this.drop('lease expired');
        this.discover();
      }),
    ];
  }

  private enter(state: 'renewing' | 'rebinding'): void {
    if (!this.lease || (state === 'renewing' && this.state !== 'bound') || (state === 'rebinding' && this.state !== 'bound' && this.state !== 'renewing')) return;
    this.state = state;
    this.xid = Math.floor(Math.random() * 0x100000000);
    this.attempt = 0;
    this.startedAt = now();
    this.transmit();
  }

  private drop(reason: string): void {
    this.clearLeaseTimers();
    const l = this.lease;
    this.lease = undefined;
    if (l) this.host.unbound(l, reason);
  }

  private clearLeaseTimers(): void {
    for (const t of this.leaseTimers) this.host.timers.cancel(t);
    this.leaseTimers = [];
  }

  stop(): void {
    this.state = 'stopped';
    this.retx = this.host.timers.cancel(this.retx);
    this.clearLeaseTimers();
    const w = this.waiters;
    this.waiters = [];
    const err = new NetError('closed', 'the VM is closed');
    for (const x of w) x.reject(err);
  }
}
