// Test fixtures for the simulated VM: a hub (one broadcast domain that records and checks every
// frame), a tiny router between two hubs (TTL decrement, MAC rewrite, ICMP errors), and a tiny
// DHCP server built on the switch's DHCP codec.
import {
  ARP_OP_REPLY, ARP_OP_REQUEST, BOOTP_REPLY, DHCPACK, DHCPDISCOVER, DHCPNAK, DHCPOFFER, DHCPREQUEST, MAC_BROADCAST,
  buildArp, buildIcmp4Echo, buildIcmp4Error, buildUdp4, decodeDhcp, decodePacket, dhcpOptionsFromOvn, encodeDhcp,
  internetChecksum, parseIp4, verifyChecksums, type DecodedPacket, type DhcpMessage,
} from '@ovnts/switch';
import type { Test } from 'tap';
import { SimVm, type SimVmOptions } from '../src/index.js';

export type Receive = (frame: Uint8Array) => void;

export interface WireFrame {
  readonly from: string;
  readonly frame: Uint8Array;
  readonly d: DecodedPacket;
}

/**
 * A broadcast domain: every frame goes to every other endpoint (the VMs filter by MAC, as NICs
 * do). Each frame is recorded and checked: all checksums valid, IP frames with a parsed L4.
 */
export class Hub {
  readonly frames: WireFrame[] = [];
  readonly invalid: string[] = [];
  /** Return true to lose a frame (after it is recorded). */
  drop: ((f: WireFrame) => boolean) | undefined;
  private readonly ports = new Map<string, Receive>();

  constructor(readonly name = 'hub') {}

  /** Connects an endpoint; returns its transmit function. */
  attach(name: string, receive: Receive): Receive {
    this.ports.set(name, receive);
    return (frame) => this.send(name, frame);
  }

  send(from: string, frame: Uint8Array): void {
    const d = decodePacket(frame);
    const f: WireFrame = { from, frame: frame.slice(), d };
    this.frames.push(f);
    const sums = verifyChecksums(frame);
    if (!d.eth || sums.ip4 === false || sums.l4 === false || ((d.ip4 || d.ip6) && sums.l4 === undefined)) {
      this.invalid.push(`${from}: ${Buffer.from(frame).toString('hex')} ${JSON.stringify(sums)}`);
    }
    if (this.drop?.(f)) return;
    for (const [name, rx] of this.ports) if (name !== from) rx(frame);
  }

  /** Attaches a new SimVm (not started). */
  vm(opts: SimVmOptions & { name: string }): SimVm {
    const vm = new SimVm(opts);
    vm.attach(this.attach(opts.name, (f) => vm.receive(f)));
    return vm;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `pred` until it holds or `ms` pass (a loaded CI machine makes fixed sleeps flaky). */
export async function waitFor(pred: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) return false;
    await sleep(5);
  }
  return true;
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const str = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A router interface: its MAC, address/prefix, and the hub it sits on. */
export interface RouterPort {
  readonly hub: Hub;
  readonly mac: string;
  readonly ip: string;
  readonly plen: number;
}

/**
 * A tiny IPv4 router: answers ARP for its addresses and pings to them, forwards between its
 * ports with TTL decremented and MACs rewritten (resolving next hops by ARP, holding packets
 * meanwhile), and sends time exceeded / net unreachable. `filter` may drop or reject (ICMP
 * administratively prohibited, type 3 code 13) a packet before it is forwarded.
 */
export class FakeRouter {
  readonly arp = new Map<string, string>();
  filter: ((d: DecodedPacket) => 'drop' | 'reject' | undefined) | undefined;
  forwarded = 0;
  private readonly tx: Receive[] = [];
  private readonly waiting = new Map<string, { port: number; frame: Uint8Array }[]>();

  constructor(readonly ports: readonly RouterPort[], readonly name = 'router') {
    ports.forEach((p, i) => {
      this.tx[i] = p.hub.attach(`${name}:${i}`, (f) => this.receive(i, f));
    });
  }

  private receive(i: number, frame: Uint8Array): void {
    const port = this.ports[i]!;
    const d = decodePacket(frame);
    if (d.arp) {
      if (d.arp.tpa !== port.ip) return;
      this.learn(d.arp.spa, d.arp.sha);
      if (d.arp.op === ARP_OP_REQUEST) this.tx[i]!(buildArp(ARP_OP_REPLY, port.mac, port.ip, d.arp.sha, d.arp.spa));
      return;
    }
    if (!d.ip4 || d.eth?.dst !== port.mac) return;
    const ip = d.ip4;
    if (this.ports.some((p) => p.ip === ip.dst)) {
      if (d.icmp?.type === 8) {
        this.tx[i]!(buildIcmp4Echo({ src: port.mac, dst: d.eth.src }, { src: ip.dst, dst: ip.src },
          { id: d.icmp.rest >>> 16, seq: d.icmp.rest & 0xffff, data: d.icmp.payload, reply: true }));
      }
      return;
    }
    const out = this.ports.findIndex((p) => ((parseIp4(p.ip) ^ parseIp4(ip.dst)) >>> (32 - p.plen)) === 0);
    if (out < 0) {
      this.tx[i]!(buildIcmp4Error(3, 0, frame, { ipSrc: port.ip, ethSrc: port.mac, ethDst: d.eth.src }));
      return;
    }
    if (ip.ttl <= 1) {
      this.tx[i]!(buildIcmp4Error(11, 0, frame, { ipSrc: port.ip, ethSrc: port.mac, ethDst: d.eth.src }));
      return;
    }
    const verdict = this.filter?.(d);
    if (verdict === 'drop') return;
    if (verdict === 'reject') {
      this.tx[i]!(buildIcmp4Error(3, 13, frame, { ipSrc: port.ip, ethSrc: port.mac, ethDst: d.eth.src }));
      return;
    }
    const f = frame.slice();
    const l3 = 14;
    f[l3 + 8] = ip.ttl - 1;
    f[l3 + 10] = 0;
    f[l3 + 11] = 0;
    const c = internetChecksum(f, l3, l3 + ip.headerLength);
    f[l3 + 10] = c >> 8;
    f[l3 + 11] = c & 0xff;
    this.forward(out, ip.dst, f);
  }

  private forward(out: number, dst: string, f: Uint8Array): void {
    const port = this.ports[out]!;
    const mac = this.arp.get(dst);
    if (mac === undefined) {
      const q = this.waiting.get(dst) ?? [];
      if (q.length === 0) this.tx[out]!(buildArp(ARP_OP_REQUEST, port.mac, port.ip, 0, dst));
      if (q.length < 16) q.push({ port: out, frame: f });
      this.waiting.set(dst, q);
      return;
    }
    f.set(Buffer.from(mac.replace(/:/g, ''), 'hex'), 0);
    f.set(Buffer.from(port.mac.replace(/:/g, ''), 'hex'), 6);
    this.forwarded++;
    this.tx[out]!(f);
  }

  private learn(ip: string, mac: string): void {
    this.arp.set(ip, mac);
    const q = this.waiting.get(ip);
    if (!q) return;
    this.waiting.delete(ip);
    for (const w of q) this.forward(w.port, ip, w.frame);
  }
}

export interface DhcpServerConfig {
  readonly mac: string;
  readonly ip: string;
  /** Addresses handed out in order. */
  readonly pool: readonly string[];
  /** put_dhcp_opts-style options (without offerip and server_id, which the server adds). */
  readonly options: Record<string, string | string[]>;
}

/**
 * A tiny DHCP server: OFFER for a DISCOVER, ACK for a REQUEST of the address it offered or
 * leased (NAK otherwise), answers ARP for its address (RENEWING clients unicast to it).
 * `dropDiscovers` / `nakRequests` make it ignore or refuse the first few messages.
 */
export class TinyDhcpServer {
  readonly received: DhcpMessage[] = [];
  readonly leases = new Map<string, string>();
  dropDiscovers = 0;
  nakRequests = 0;
  silent = false;
  private next = 0;
  private readonly tx: Receive;

  constructor(readonly hub: Hub, readonly cfg: DhcpServerConfig) {
    this.tx = hub.attach('dhcp-server', (f) => this.receive(f));
  }

  private receive(frame: Uint8Array): void {
    const d = decodePacket(frame);
    if (d.arp) {
      if (d.arp.op === ARP_OP_REQUEST && d.arp.tpa === this.cfg.ip) this.tx(buildArp(ARP_OP_REPLY, this.cfg.mac, this.cfg.ip, d.arp.sha, d.arp.spa));
      return;
    }
    if (!d.udp || d.udp.dstPort !== 67) return;
    if (d.ip4?.dst !== '255.255.255.255' && d.ip4?.dst !== this.cfg.ip) return;
    const m = decodeDhcp(d.udp.payload);
    if (!m) return;
    this.received.push(m);
    if (this.silent) return;
    const type = m.options.messageType;
    if (type === DHCPDISCOVER) {
      if (this.dropDiscovers > 0) {
        this.dropDiscovers--;
        return;
      }
      const ip = this.leases.get(m.chaddr) ?? this.cfg.pool[this.next++ % this.cfg.pool.length]!;
      this.leases.set(m.chaddr, ip);
      this.reply(m, DHCPOFFER, ip);
    } else if (type === DHCPREQUEST) {
      const want = m.options.requestedIp ?? m.ciaddr;
      if (m.options.serverId !== undefined && m.options.serverId !== this.cfg.ip) return;
      if (this.nakRequests > 0 || this.leases.get(m.chaddr) !== want) {
        if (this.nakRequests > 0) this.nakRequests--;
        this.reply(m, DHCPNAK, '0.0.0.0');
        return;
      }
      this.reply(m, DHCPACK, want);
    }
  }

  private reply(m: DhcpMessage, type: number, yiaddr: string): void {
    const { options } = dhcpOptionsFromOvn({ ...this.cfg.options, server_id: this.cfg.ip });
    const payload = encodeDhcp({
      op: BOOTP_REPLY, xid: m.xid, chaddr: m.chaddr, yiaddr, flags: m.flags, ciaddr: m.ciaddr,
      options: type === DHCPNAK ? { messageType: type, serverId: this.cfg.ip } : { messageType: type, ...options },
    });
    // RFC 2131 section 4.1: broadcast if the client asked or a NAK; else unicast to the new address.
    const bcast = m.broadcast || type === DHCPNAK;
    const dstIp = bcast ? '255.255.255.255' : m.ciaddr !== '0.0.0.0' ? m.ciaddr : yiaddr;
    const dstMac = bcast ? MAC_BROADCAST : m.chaddr;
    this.tx(buildUdp4({ src: this.cfg.mac, dst: dstMac }, { src: this.cfg.ip, dst: dstIp }, { srcPort: 67, dstPort: 68, payload }));
  }
}

/** The frames on `hub` matching `pred`. */
export function framesWhere(hub: Hub, pred: (d: DecodedPacket, f: WireFrame) => boolean): WireFrame[] {
  return hub.frames.filter((f) => pred(f.d, f));
}

/** Every frame seen on the hubs was valid and no VM hit an error handling one. */
export function clean(t: Test, hub: Hub | readonly Hub[], ...vms: SimVm[]): void {
  for (const h of Array.isArray(hub) ? hub : [hub]) t.same(h.invalid, [], `every frame on ${h.name} is valid`);
  for (const vm of vms) {
    t.same({ errors: vm.stats.rxErrors, badSum: vm.stats.rxBadChecksum }, { errors: 0, badSum: 0 }, `${vm.name}: no receive errors`);
    if (vm.stats.rxErrors) t.comment(String(vm.lastRxError));
  }
}
