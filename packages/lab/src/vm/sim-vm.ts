/**
 * A simulated VM: one Ethernet interface with a small host IP stack, attached to a switch port
 * by two callbacks (the port's `transmit`, and `receive` which the port calls). It answers ARP,
 * ND and pings, runs UDP and a small TCP, can take its address from DHCP, and reports ICMP
 * errors so lab checks can say why something did not get through.
 *
 * Received frames are copied into a bounded queue and handled on a later turn of the event
 * loop: a port may call `receive` from inside its own transmit path (two VMs wired back to back
 * would otherwise recurse), and a flood cannot grow memory without bound.
 */
import { EventEmitter } from 'node:events';
import {
  ARP_OP_REPLY, ARP_OP_REQUEST, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP,
  MAC_BROADCAST, buildArp, buildIcmp4Error, buildIcmp6Error, buildIp4Frame, buildIp6Frame, buildNeighborAdvertisement,
  buildNeighborSolicitation, buildUdp4, decodeDhcp, decodePacket, formatIp4, formatIp6, formatMac, ip6LinkLocal,
  ip6MulticastMac, macFromBytes, parseIp4, parseIp6, solicitedNodeAddress, toMac, verifyChecksums, writeMac,
  type DecodedIcmp, type DecodedPacket, type L4Spec,
} from '@ovnts/switch';
import { DhcpClient, type DhcpClientOptions, type DhcpLease } from './dhcp-client.js';
import { NetError, icmp4Reason, icmp6Reason, type IcmpErrorReport } from './errors.js';
import { PingTracker, parseIcmpQuote, type PingOptions, type PingResult } from './icmp.js';
import { inPrefix4, inPrefix6, isV6, mask4, normIp, parseCidr, type IpLayer, type RxInfo, type SendOptions } from './ip.js';
import { NeighborCache, type NeighborEntry, type NeighborOptions } from './neighbors.js';
import { TcpStack, type TcpHandler, type TcpListener, type TcpOptions, type TcpRequestOptions } from './tcp.js';
import { Timers } from './timers.js';
import { UdpStack, type UdpHandler, type UdpMessage, type UdpRequestOptions, type UdpSendOptions, type UdpSocket } from './udp.js';

export interface SimVmOptions {
  /** For DHCP's hostname option and messages. Default "vm". */
  readonly name?: string;
  readonly mac: string;
  /** Static IPv4 address with prefix length, "10.0.0.5/24". */
  readonly ip4?: string;
  readonly gateway4?: string;
  /** Take the IPv4 address from DHCP instead (ignored when `ip4` is given). */
  readonly dhcp?: boolean | DhcpClientOptions;
  /** Static global IPv6 address with prefix length; the link-local address is always configured. */
  readonly ip6?: string;
  /** IPv6 default router (usually its link-local address). */
  readonly gateway6?: string;
  /** Largest IP datagram sent. Default 1500. */
  readonly mtu?: number;
  readonly transmit?: (frame: Uint8Array) => void;
  readonly arp?: NeighborOptions;
  readonly nd?: NeighborOptions;
  readonly tcp?: TcpOptions;
  /** Received frames waiting to be handled; more are dropped. Default 1024. */
  readonly rxQueueLimit?: number;
  /** Gratuitous ARP and unsolicited NAs when addresses come up. Default true. */
  readonly announce?: boolean;
}

export interface SimVmEvents {
  icmpError: [IcmpErrorReport];
  lease: [DhcpLease];
  leaseLost: [DhcpLease, string];
  dhcpFailed: [NetError];
}

export interface SimVmStats {
  rxFrames: number;
  /** Dropped because the receive queue was full. */
  rxDropped: number;
  /** Not for this VM, or a protocol it does not speak. */
  rxIgnored: number;
  rxBadChecksum: number;
  /** Exceptions while handling a frame (a bug: tests expect 0). */
  rxErrors: number;
  txFrames: number;
  /** Frames that could not be transmitted (no port attached, or the port threw). */
  txErrors: number;
}

interface Route4 {
  readonly net: number;
  readonly plen: number;
  /** 0: on-link. */
  readonly gw: number;
}

const ALL_NODES = 0xff020000000000000000000000000001n;

export class SimVm extends EventEmitter<SimVmEvents> {
  readonly name: string;
  /** Normalised (lower case, colon separated). */
  readonly mac: string;
  readonly mtu: number;
  readonly timers = new Timers();
  readonly stats: SimVmStats = { rxFrames: 0, rxDropped: 0, rxIgnored: 0, rxBadChecksum: 0, rxErrors: 0, txFrames: 0, txErrors: 0 };
  /** The last exception while handling a frame, for debugging. */
  lastRxError: unknown;

  private readonly macNum: number;
  private v4: { addr: number; plen: number; text: string } | undefined;
  private routes4: Route4[] = [];
  private readonly ll6: bigint;
  private readonly ll6Text: string;
  private g6: { addr: bigint; plen: number; text: string } | undefined;
  private readonly gw6: bigint | undefined;
  private readonly arp: NeighborCache;
  private readonly nd: NeighborCache;
  private readonly pings: PingTracker;
  private readonly udp: UdpStack;
  private readonly tcp: TcpStack;
  private readonly dhcp: DhcpClient | undefined;
  private transmitFn: ((frame: Uint8Array) => void) | undefined;
  private rxQueue: Uint8Array[] = [];
  private drainScheduled = false;
  private readonly rxQueueLimit: number;
  private readonly announce: boolean;
  private startPromise: Promise<void> | undefined;
  private closed = false;
  private ipId = Math.floor(Math.random() * 0x10000);

  constructor(opts: SimVmOptions) {
    super();
    this.name = opts.name ?? 'vm';
    this.macNum = toMac(opts.mac);
    this.mac = formatMac(this.macNum);
    this.mtu = opts.mtu ?? 1500;
    this.rxQueueLimit = opts.rxQueueLimit ?? 1024;
    this.announce = opts.announce ?? true;
    this.transmitFn = opts.transmit;
    if (opts.ip4 !== undefined) {
      const c = parseCidr(opts.ip4, false);
      this.setIp4(c.addr, c.plen, opts.gateway4 === undefined ? [] : [{ net: 0, plen: 0, gw: parseIp4(opts.gateway4) }]);
    } else if (opts.gateway4 !== undefined) {
      throw new Error('gateway4 needs ip4');
    }
    this.ll6 = ip6LinkLocal(this.macNum);
    this.ll6Text = formatIp6(this.ll6);
    if (opts.ip6 !== undefined) {
      const c = parseCidr(opts.ip6, true);
      this.g6 = { addr: parseIp6(c.addr), plen: c.plen, text: c.addr };
    }
    this.gw6 = opts.gateway6 === undefined ? undefined : parseIp6(opts.gateway6);
    this.arp = new NeighborCache(this.timers, opts.arp ?? {}, (ip) => this.solicitArp(ip), 'ARP');
    this.nd = new NeighborCache(this.timers, opts.nd ?? {}, (ip) => this.solicitNd(ip), 'ND');
    const layer: IpLayer = {
      timers: this.timers, mtu: this.mtu,
      send: (dst, l4, o) => this.sendIp(dst, l4, o),
      sourceFor: (dst) => this.sourceFor(dst),
    };
    this.pings = new PingTracker(layer);
    this.udp = new UdpStack(layer);
    this.tcp = new TcpStack(layer, opts.tcp ?? {});
    if (opts.dhcp && opts.ip4 === undefined) {
      this.dhcp = new DhcpClient({
        mac: this.mac, name: this.name, timers: this.timers,
        broadcast: (payload, src) => this.tx(buildUdp4({ src: this.macNum, dst: MAC_BROADCAST }, { src, dst: '255.255.255.255' }, {
          srcPort: DHCP_CLIENT_PORT, dstPort: DHCP_SERVER_PORT, payload,
        })),
        send: (dst, l4, o) => this.sendIp(dst, l4, o),
        bound: (l) => this.onLease(l),
        unbound: (l, reason) => this.onLeaseLost(l, reason),
        failed: (e) => this.emit('dhcpFailed', e),
      }, opts.dhcp === true ? {} : opts.dhcp);
    }
  }

  // ---------- attachment and life cycle ----------

  /** Sets (or replaces) the port's transmit callback. */
  attach(transmit: (frame: Uint8Array) => void): void {
    this.transmitFn = transmit;
  }

  /**
   * Brings the interface up: announces its addresses and, with DHCP, resolves once a lease is
   * bound (rejecting if DHCP gives up). Calling it again returns the same promise.
   */
  start(): Promise<void> {
    if (this.startPromise) return this.startPromise;
    if (this.closed) return Promise.reject(new NetError('closed', 'the VM is closed'));
    this.announce6(this.ll6);
    if (this.g6) this.announce6(this.g6.addr);
    if (this.dhcp) {
      this.dhcp.start();
      this.startPromise = this.dhcp.waitForLease().then(() => undefined);
    } else {
      this.announce4();
      this.startPromise = Promise.resolve();
    }
    return this.startPromise;
  }

  /** Stops everything: clears every timer, fails pending operations, drops queued frames. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.timers.close();
    this.dhcp?.stop();
    this.pings.close();
    this.tcp.close();
    this.udp.close();
    this.arp.close();
    this.nd.close();
    this.rxQueue = [];
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Called by the port with a frame for this VM (copied; the caller may reuse its buffer). */
  receive(frame: Uint8Array): void {
    if (this.closed) return;
    this.stats.rxFrames++;
    if (this.rxQueue.length >= this.rxQueueLimit) {
      this.stats.rxDropped++;
      return;
    }
    this.rxQueue.push(frame.slice());
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      this.timers.soon(() => this.drain());
    }
  }

  private drain(): void {
    this.drainScheduled = false;
    const batch = this.rxQueue;
    this.rxQueue = [];
    for (const f of batch) {
      if (this.closed) return;
      try {
        this.handleFrame(f);
      } catch (e) {
        this.stats.rxErrors++;
        this.lastRxError = e;
      }
    }
  }

  private tx(frame: Uint8Array): void {
    if (this.closed || !this.transmitFn) {
      this.stats.txErrors++;
      return;
    }
    try {
      this.transmitFn(frame);
      this.stats.txFrames++;
    } catch {
      this.stats.txErrors++;
    }
  }

  // ---------- addresses ----------

  get ip4(): string | undefined {
    return this.v4?.text;
  }

  get prefixLength4(): number | undefined {
    return this.v4?.plen;
  }

  /** The default IPv4 router, if any. */
  get gateway4(): string | undefined {
    const d = this.routes4.find((r) => r.plen === 0 && r.gw !== 0);
    return d ? formatIp4(d.gw) : undefined;
  }

  get ip6(): string | undefined {
    return this.g6?.text;
  }

  get ip6LinkLocal(): string {
    return this.ll6Text;
  }

  get lease(): DhcpLease | undefined {
    return this.dhcp?.lease;
  }

  get dhcpState(): string | undefined {
    return this.dhcp?.state;
  }

  arpTable(): NeighborEntry[] {
    return this.arp.list();
  }

  ndTable(): NeighborEntry[] {
    return this.nd.list();
  }

  /** Open TCP connections (all states); 0 once every exchange has finished and lingered. */
  get tcpConnections(): number {
    return this.tcp.connectionCount;
  }

  /** Resolves with the DHCP lease (rejects without DHCP, or when DHCP gives up). */
  waitForLease(): Promise<DhcpLease> {
    return this.dhcp ? this.dhcp.waitForLease() : Promise.reject(new Error(`${this.name} does not use DHCP`));
  }

  private setIp4(addr: string, plen: number, extra: Route4[]): void {
    const a = parseIp4(addr);
    this.v4 = { addr: a, plen, text: formatIp4(a) };
    this.routes4 = [{ net: (a & mask4(plen)) >>> 0, plen, gw: 0 }, ...extra];
  }

  private onLease(l: DhcpLease): void {
    const routes: Route4[] = l.routes.length
      ? l.routes.map((r) => ({ net: parseIp4(r.prefix), plen: r.plen, gw: parseIp4(r.gateway) }))
      : l.routers.length ? [{ net: 0, plen: 0, gw: parseIp4(l.routers[0]!) }] : [];
    const changed = this.v4?.text !== l.ip;
    this.setIp4(l.ip, l.prefixLength, routes);
    if (changed) this.announce4();
    this.emit('lease', l);
  }

  private onLeaseLost(l: DhcpLease, reason: string): void {
    this.v4 = undefined;
    this.routes4 = [];
    this.emit('leaseLost', l, reason);
  }

  private isOwn6(ip: string): boolean {
    return ip === this.ll6Text || ip === this.g6?.text;
  }

  /** The address this VM sends from to reach `dst`. */
  sourceFor(dst: string): string | undefined {
    if (!isV6(dst)) return this.v4?.text;
    const d = parseIp6(dst);
    // Link-local and link-scope multicast destinations are reached from the link-local address.
    const linkScope = d >> 118n === 0x3fan || d >> 112n === 0xff02n;
    return linkScope ? this.ll6Text : this.g6?.text;
  }

  // ---------- sending ----------

  /**
   * Sends an IP packet carrying `l4` to `dst`: routes it, resolves the next hop's MAC (ARP / ND,
   * waiting if needed) and transmits. Rejects with a NetError: no-address, net-unreachable,
   * host-unreachable (no ARP/ND answer), message-too-long, no-buffer, closed.
   */
  async sendIp(dst: string, l4: L4Spec, opts: SendOptions = {}): Promise<void> {
    if (this.closed) throw new NetError('closed', 'the VM is closed');
    const d = normIp(dst);
    return isV6(d) ? this.sendIp6(d, l4, opts) : this.sendIp4(d, l4, opts);
  }

  private async sendIp4(dst: string, l4: L4Spec, opts: SendOptions): Promise<void> {
    const src = opts.src ?? this.v4?.text;
    if (src === undefined) throw new NetError('no-address', `${this.name} has no IPv4 address`);
    // Built once with a placeholder destination MAC, filled in when the next hop is known.
    const frame = buildIp4Frame({ src: this.macNum, dst: 0 }, {
      src, dst, ttl: opts.ttl ?? 64, id: this.ipId++ & 0xffff, ...(opts.dontFragment ? { dontFragment: true } : {}),
    }, l4);
    if (frame.length - 14 > this.mtu) throw new NetError('message-too-long', `${frame.length - 14}-byte datagram exceeds MTU ${this.mtu}`);
    const d = parseIp4(dst);
    if (this.v4 && d === this.v4.addr) {
      this.loopback(frame);
      return;
    }
    if (d === 0xffffffff || (this.v4 && this.v4.plen < 31 && d === (this.v4.addr | ~mask4(this.v4.plen)) >>> 0)) {
      this.txTo(frame, MAC_BROADCAST);
      return;
    }
    const nextHop = this.route4(d);
    if (nextHop === undefined) throw new NetError('net-unreachable', `no route to ${dst}`);
    this.txTo(frame, await this.arp.resolve(formatIp4(nextHop)));
  }

  private txTo(frame: Uint8Array, mac: number): void {
    writeMac(frame, 0, mac);
    this.tx(frame);
  }

  /** A packet to one of our own addresses goes through our receive path, not the wire. */
  private loopback(frame: Uint8Array): void {
    writeMac(frame, 0, this.macNum);
    this.receive(frame);
  }

  /** Longest-prefix match over the IPv4 routes; the next hop's address. */
  private route4(d: number): number | undefined {
    let best: Route4 | undefined;
    for (const r of this.routes4) if (inPrefix4(d, r.net, r.plen) && (!best || r.plen > best.plen)) best = r;
    return best ? (best.gw || d) : undefined;
  }

  private async sendIp6(dst: string, l4: L4Spec, opts: SendOptions): Promise<void> {
    const src = opts.src ?? this.sourceFor(dst);
    if (src === undefined) throw new NetError('no-address', `${this.name} has no IPv6 address to reach ${dst}`);
    const frame = buildIp6Frame({ src: this.macNum, dst: 0 }, { src, dst, hopLimit: opts.ttl ?? 64 }, l4);
    if (frame.length - 14 > this.mtu) throw new NetError('message-too-long', `${frame.length - 14}-byte datagram exceeds MTU ${this.mtu}`);
    if (this.isOwn6(dst)) {
      this.loopback(frame);
      return;
    }
    const d = parseIp6(dst);
    if (d >> 120n === 0xffn) {
      this.txTo(frame, ip6MulticastMac(d));
      return;
    }
    let nextHop: bigint;
    if (d >> 118n === 0x3fan || (this.g6 && inPrefix6(d, this.g6.addr, this.g6.plen))) nextHop = d;
    else if (this.gw6 !== undefined) nextHop = this.gw6;
    else throw new NetError('net-unreachable', `no route to ${dst}`);
    this.txTo(frame, await this.nd.resolve(formatIp6(nextHop)));
  }

  private solicitArp(ip: string): void {
    this.tx(buildArp(ARP_OP_REQUEST, this.macNum, this.v4?.text ?? '0.0.0.0', 0, ip));
  }

  private solicitNd(ip: string): void {
    this.tx(buildNeighborSolicitation({ ethSrc: this.macNum, ipSrc: this.sourceFor(ip) ?? this.ll6Text, target: ip }));
  }

  /** Gratuitous ARP (a request for our own address) so switches and neighbours learn us. */
  private announce4(): void {
    if (this.announce && this.v4) this.tx(buildArp(ARP_OP_REQUEST, this.macNum, this.v4.addr, 0, this.v4.addr));
  }

  /** Unsolicited Neighbor Advertisement to all nodes (RFC 4861 section 7.2.6). */
  private announce6(addr: bigint): void {
    if (!this.announce) return;
    this.tx(buildNeighborAdvertisement({
      ethSrc: this.macNum, ethDst: ip6MulticastMac(ALL_NODES), ipSrc: addr, ipDst: ALL_NODES, target: addr, solicited: false, override: true,
    }));
  }

  // ---------- applications ----------

  /** Echo requests to `dst` (IPv4 or IPv6), with per-probe RTT, reply TTL, loss and ICMP errors. */
  ping(dst: string, opts?: PingOptions): Promise<PingResult> {
    return this.pings.ping(dst, opts);
  }

  /** Binds a UDP port (0: ephemeral); the handler gets each datagram and can `reply`. */
  bind(port: number, handler: UdpHandler): UdpSocket {
    return this.udp.bind(port, handler);
  }

  sendUdp(dst: string, dstPort: number, payload: Uint8Array, opts?: UdpSendOptions): Promise<void> {
    return this.udp.send(dst, dstPort, payload, opts);
  }

  /** Sends a datagram and waits for the first answer from `dst`:`dstPort` (rejects with the ICMP error or a timeout). */
  udpRequest(dst: string, dstPort: number, payload: Uint8Array, opts?: UdpRequestOptions): Promise<UdpMessage> {
    return this.udp.request(dst, dstPort, payload, opts);
  }

  /** Accepts TCP connections on `port`; each gets one response computed from its request. */
  listen(port: number, handler: TcpHandler): TcpListener {
    return this.tcp.listen(port, handler);
  }

  /** Connects, sends `payload`, resolves with the response (rejects: refused, reset, timeout, ICMP reasons). */
  tcpRequest(dst: string, port: number, payload: Uint8Array, opts?: TcpRequestOptions): Promise<Uint8Array> {
    return this.tcp.request(dst, port, payload, opts);
  }

  // ---------- receiving ----------

  private handleFrame(f: Uint8Array): void {
    // Filter on the destination MAC before decoding, as a NIC does: a flooding switch sends us
    // much that is not ours. IPv6 multicast (33:33:…) is filtered by address further on.
    const dstMac = f.length >= 14 ? macFromBytes(f, 0) : -1;
    if (dstMac !== this.macNum && dstMac !== MAC_BROADCAST && !(f[0] === 0x33 && f[1] === 0x33)) {
      this.stats.rxIgnored++;
      return;
    }
    const d = decodePacket(f);
    // No VLAN-aware guests: a tagged frame is not for us.
    if (!d.eth || d.eth.vlanTci !== undefined) {
      this.stats.rxIgnored++;
      return;
    }
    if (d.arp) this.onArp(d);
    else if (d.ip4) this.onIp4(f, d);
    else if (d.ip6) this.onIp6(f, d);
    else this.stats.rxIgnored++;
  }

  /** RFC 826's algorithm: update a known sender; add it if the request is for us; answer requests for us. */
  private onArp(d: DecodedPacket): void {
    const a = d.arp!;
    if (a.spa !== '0.0.0.0' && this.arp.has(a.spa)) this.arp.learn(a.spa, toMac(a.sha));
    if (!this.v4 || a.tpa !== this.v4.text || a.spa === a.tpa) return;
    if (a.spa !== '0.0.0.0') this.arp.learn(a.spa, toMac(a.sha));
    if (a.op === ARP_OP_REQUEST) this.tx(buildArp(ARP_OP_REPLY, this.macNum, this.v4.addr, a.sha, a.spa));
  }

  private onIp4(f: Uint8Array, d: DecodedPacket): void {
    const ip = d.ip4!;
    const sums = verifyChecksums(f);
    if (sums.ip4 === false || sums.l4 === false) {
      this.stats.rxBadChecksum++;
      return;
    }
    const ours = this.v4 !== undefined && ip.dst === this.v4.text;
    const bcast = ip.dst === '255.255.255.255' ||
      (this.v4 !== undefined && this.v4.plen < 31 && parseIp4(ip.dst) === (this.v4.addr | ~mask4(this.v4.plen)) >>> 0);
    // Before (and while renewing) a lease, DHCP answers may be unicast to the offered address.
    const dhcp = this.dhcp?.active === true && d.udp?.dstPort === DHCP_CLIENT_PORT;
    if (ip.frag !== 0 || !(ours || bcast || dhcp)) {
      this.stats.rxIgnored++;
      return;
    }
    const info: RxInfo = { src: ip.src, dst: ip.dst, ttl: ip.ttl, v6: false, broadcast: !ours };
    if (ip.proto === IPPROTO_ICMP && d.icmp) this.onIcmp4(d.icmp, info);
    else if (ip.proto === IPPROTO_UDP && d.udp) {
      if (dhcp) {
        const m = decodeDhcp(d.udp.payload);
        if (m) this.dhcp!.onMessage(m);
      } else if (!this.udp.deliver(d.udp, info) && ours) {
        this.tx(buildIcmp4Error(3, 3, f, { ipSrc: this.v4!.addr, ethSrc: this.macNum, ttl: 64 }));
      }
    } else if (ip.proto === IPPROTO_TCP && d.tcp) {
      if (ours) this.tcp.segment(d.tcp, info);
    } else if (ours && ip.proto !== IPPROTO_TCP && ip.proto !== IPPROTO_UDP && ip.proto !== IPPROTO_ICMP) {
      this.tx(buildIcmp4Error(3, 2, f, { ipSrc: this.v4!.addr, ethSrc: this.macNum, ttl: 64 }));
    } else {
      this.stats.rxIgnored++;
    }
  }

  private onIcmp4(icmp: DecodedIcmp, info: RxInfo): void {
    switch (icmp.type) {
      case 8:
        // Like Linux's icmp_echo_ignore_broadcasts: only unicast pings are answered.
        if (!info.broadcast) {
          this.sendIp(info.src, { proto: 'icmp', type: 0, code: 0, rest: icmp.rest, payload: icmp.payload }, { src: info.dst }).catch(() => undefined);
        }
        break;
      case 0:
        this.pings.onEchoReply(icmp.rest >>> 16, icmp.rest & 0xffff, info.src, info.ttl);
        break;
      case 3: case 11: case 12:
        this.onIcmpError(false, icmp, info.src);
        break;
      default:
        this.stats.rxIgnored++;
    }
  }

  private onIp6(f: Uint8Array, d: DecodedPacket): void {
    const ip = d.ip6!;
    if (verifyChecksums(f).l4 === false) {
      this.stats.rxBadChecksum++;
      return;
    }
    const ours = this.isOwn6(ip.dst);
    const dst = parseIp6(ip.dst);
    const mcast = dst === ALL_NODES || dst === solicitedNodeAddress(this.ll6) || (this.g6 !== undefined && dst === solicitedNodeAddress(this.g6.addr));
    if (ip.frag !== 0 || !(ours || mcast)) {
      this.stats.rxIgnored++;
      return;
    }
    const info: RxInfo = { src: ip.src, dst: ip.dst, ttl: ip.hopLimit, v6: true, broadcast: !ours };
    if (ip.nextHeader === IPPROTO_ICMPV6 && d.icmp) this.onIcmp6(d, info);
    else if (ip.nextHeader === IPPROTO_UDP && d.udp) {
      if (!this.udp.deliver(d.udp, info) && ours) {
        this.tx(buildIcmp6Error(1, 4, f, { ipSrc: ip.dst, ethSrc: this.macNum, hopLimit: 64 }));
      }
    } else if (ip.nextHeader === IPPROTO_TCP && d.tcp && ours) {
      this.tcp.segment(d.tcp, info);
    } else {
      this.stats.rxIgnored++;
    }
  }

  private onIcmp6(d: DecodedPacket, info: RxInfo): void {
    const icmp = d.icmp!;
    switch (icmp.type) {
      case 135: {
        // Neighbor Solicitation (RFC 4861 section 7.2.3); hop limit 255 proves it is on-link.
        const target = icmp.ndTarget;
        if (info.ttl !== 255 || target === undefined || !this.isOwn6(target)) return;
        const dad = info.src === '::';
        if (!dad && icmp.sll) this.nd.learn(info.src, toMac(icmp.sll));
        this.tx(buildNeighborAdvertisement({
          ethSrc: this.macNum, ethDst: dad ? ip6MulticastMac(ALL_NODES) : toMac(icmp.sll ?? d.eth!.src),
          ipSrc: target, ipDst: dad ? ALL_NODES : info.src, target, solicited: !dad, override: true,
        }));
        break;
      }
      case 136: {
        // Neighbor Advertisement: completes a resolution or refreshes an entry, never creates one.
        const target = icmp.ndTarget;
        if (info.ttl !== 255 || target === undefined || !this.nd.has(target)) return;
        this.nd.learn(target, toMac(icmp.tll ?? d.eth!.src));
        break;
      }
      case 128:
        this.sendIp(info.src, { proto: 'icmp6', type: 129, code: 0, rest: icmp.rest, payload: icmp.payload },
          info.broadcast ? {} : { src: info.dst }).catch(() => undefined);
        break;
      case 129:
        this.pings.onEchoReply(icmp.rest >>> 16, icmp.rest & 0xffff, info.src, info.ttl);
        break;
      case 1: case 2: case 3: case 4:
        this.onIcmpError(true, icmp, info.src);
        break;
      default:
        // Router advertisements and the rest: no SLAAC or MLD here.
        this.stats.rxIgnored++;
    }
  }

  /** An ICMP error about a packet we sent: report it, and tell the probe/socket/connection that sent it. */
  private onIcmpError(v6: boolean, icmp: DecodedIcmp, from: string): void {
    const original = parseIcmpQuote(v6, icmp.payload);
    if (!original || !(v6 ? this.isOwn6(original.src) : original.src === this.v4?.text)) {
      this.stats.rxIgnored++;
      return;
    }
    const report: IcmpErrorReport = {
      from, v6, type: icmp.type, code: icmp.code, reason: v6 ? icmp6Reason(icmp.type, icmp.code) : icmp4Reason(icmp.type, icmp.code),
      rest: icmp.rest, original,
    };
    this.emit('icmpError', report);
    if (original.proto === IPPROTO_ICMP || original.proto === IPPROTO_ICMPV6) this.pings.icmpError(report);
    else if (original.proto === IPPROTO_UDP) this.udp.icmpError(report);
    else if (original.proto === IPPROTO_TCP) this.tcp.icmpError(report);
  }
}
