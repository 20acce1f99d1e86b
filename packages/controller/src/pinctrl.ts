/**
 * Packet-in handlers (ovn-controller's pinctrl): the logical actions the switch cannot perform
 * itself arrive here as packet-ins whose userdata names the action (compile/actions.ts). For
 * actions that build a packet (`arp {…}`, `icmp4 {…}`, `nd_na {…}`, `tcp_reset {…}`) the handler
 * builds it from the original, compiles the block's own actions for the same datapath and
 * table, and sends the new packet back through the switch with the original's metadata and
 * registers, so its `output` continues in the logical pipeline. `put_arp`/`put_nd` learn
 * MAC_Binding rows in the Southbound DB.
 */
import { ip4Text, ip6Text, macText, ovnSymbols, parseActions, printConstant, type Action as LAction, type ArgValue, type FieldRef } from '@ovnts/lflow';
import { ovsUuid, type Idl, type Logger } from '@ovnts/ovsdb';
import type { Sb } from '@ovnts/ovsdb';
import {
  BOOTP_REPLY,
  DHCPACK,
  DHCPDISCOVER,
  DHCPOFFER,
  DHCPREQUEST,
  buildArp,
  buildUdp4,
  buildUdp6,
  macToBytes,
  decodeDhcp6,
  dnsNames,
  duidLl,
  encodeDhcp6,
  iaNaOption,
  parseIp6,
  writeIp6,
  DHCP6_ADVERTISE,
  DHCP6_CONFIRM,
  DHCP6_INFORMATION_REQUEST,
  DHCP6_OPT_CLIENTID,
  DHCP6_OPT_DNS_SERVERS,
  DHCP6_OPT_DOMAIN_LIST,
  DHCP6_OPT_IA_NA,
  DHCP6_OPT_RAPID_COMMIT,
  DHCP6_OPT_SERVERID,
  DHCP6_REBIND,
  DHCP6_RENEW,
  DHCP6_REPLY,
  DHCP6_REQUEST,
  DHCP6_SOLICIT,
  type Dhcp6Option,
  decodeDhcp,
  dhcpOptionsFromOvn,
  encodeDhcp,
  writeBits,
  buildIp4Frame,
  buildIp6Frame,
  buildNeighborAdvertisement,
  buildNeighborSolicitation,
  buildTcp4,
  decodePacket,
  field,
  getBits,
  readBits,
  type FlowKey,
} from '@ovnts/switch';
import type { PacketIn } from '@ovnts/switch/dist/src/datapath/types.js';
import { ActionCompiler, decodeControllerOp, type ControllerOp } from './compile/actions.js';
import { INPORT_LOC, METADATA_LOC, locOfBase } from './compile/fields.js';
import type { SouthboundState } from './desired.js';
import type { SwitchControl } from './controller.js';

interface PinctrlOptions {
  readonly sw: SwitchControl;
  /** Where put_arp/put_nd write MAC_Binding rows; without it they learn nothing. */
  readonly sb?: Idl;
  readonly log: Logger;
}

interface View {
  readonly sb: SouthboundState;
  readonly chassis: string;
  readonly vifs: ReadonlyMap<string, number>;
}

export interface PinctrlStats {
  handled: number;
  failed: number;
  byOp: Record<string, number>;
}

const TCP_RST = 0x04;
const TCP_ACK = 0x10;

export class Pinctrl {
  private view: View | undefined;
  readonly stats: PinctrlStats = { handled: 0, failed: 0, byOp: {} };

  constructor(private readonly opts: PinctrlOptions) {}

  update(view: View): void {
    this.view = view;
  }

  handle(p: PacketIn): void {
    if (!p.userdata) return;
    let op: ControllerOp;
    try {
      op = decodeControllerOp(p.userdata);
    } catch {
      this.stats.failed++;
      return;
    }
    this.stats.byOp[op.op] = (this.stats.byOp[op.op] ?? 0) + 1;
    this.dispatch(op, p).then(
      () => this.stats.handled++,
      (e: unknown) => {
        this.stats.failed++;
        this.opts.log.warn(`pinctrl ${op.op}: ${e instanceof Error ? e.message : String(e)}`);
      },
    );
  }

  private async dispatch(op: ControllerOp, p: PacketIn): Promise<void> {
    const [action] = parseActions(op.action);
    if (!action) return;
    switch (op.op) {
      case 'put_arp':
      case 'put_nd':
        return this.putMacBinding(action, p);
      case 'arp':
      case 'icmp4':
      case 'icmp4_error':
      case 'nd_na':
      case 'nd_na_router':
      case 'nd_ns':
      case 'icmp6':
      case 'icmp6_error':
      case 'tcp_reset':
        if (action.kind !== 'block') return;
        return this.synthesize(op, action.body, p);
      case 'put_dhcp_opts':
        if (action.kind !== 'result' || !p.continuation) return;
        return this.dhcp(action, p);
      case 'put_dhcpv6_opts':
        if (action.kind !== 'result' || !p.continuation) return;
        return this.dhcp6(action, p);
      case 'put_nd_ra_opts':
        if (action.kind !== 'result' || !p.continuation) return;
        return this.routerAdvertisement(action, p);
      case 'dns_lookup':
        if (action.kind !== 'result' || !p.continuation) return;
        return this.dnsLookup(action, p);
      default:
        // log, trigger_event, … need no packet; the rest are not handled on this chassis yet.
        return;
    }
  }

  /** The datapath key and the compile context of a packet-in. */
  private context(op: ControllerOp, key: FlowKey): ActionCompiler {
    const dpKey = Number(readBits(key, METADATA_LOC));
    const view = this.view;
    const dp = view?.sb.datapaths.find((d) => d.tunnel_key === dpKey);
    const ports = new Map<string, number>();
    if (view && dp) {
      for (const pb of view.sb.ports) if (pb.datapath === dp._uuid) ports.set(pb.logical_port, pb.tunnel_key);
      for (const g of view.sb.multicastGroups) if (g.datapath === dp._uuid) ports.set(g.name, g.tunnel_key);
    }
    return new ActionCompiler({
      pipeline: op.pipeline,
      table: op.table,
      datapathKey: dpKey,
      isRouter: !!dp && 'logical-router' in dp.external_ids,
      portKey: (n) => ports.get(n),
      addSelectGroup: () => {
        throw new Error('load balancing inside a controller action is not supported');
      },
    });
  }

  private async synthesize(op: ControllerOp, body: readonly LAction[], p: PacketIn): Promise<void> {
    const frame = this.build(op.op, p.frame);
    if (!frame) return;
    const actions = this.context(op, p.key).compile(body);
    await this.opts.sw.packetOut(frame, actions, { inPort: Number(getBits(p.key, field('in_port'))), key: p.key });
  }

  /** The packet OVN's controller builds for the action, before the block's own actions run. */
  private build(op: string, original: Uint8Array): Uint8Array | undefined {
    const d = decodePacket(original);
    if (!d.eth) return undefined;
    switch (op) {
      case 'arp':
        // An ARP request for the IPv4 destination; the block sets what it needs (spa, tpa, eth.dst).
        if (!d.ip4) return undefined;
        return buildArp(1, d.eth.src, d.ip4.src, '00:00:00:00:00:00', d.ip4.dst, { src: d.eth.src, dst: 'ff:ff:ff:ff:ff:ff' });
      case 'icmp4':
      case 'icmp4_error': {
        // Destination unreachable quoting the original's IP header and 8 bytes, with the
        // original's addresses: the block's own actions turn it around (eth.dst <-> eth.src …).
        if (!d.ip4) return undefined;
        const l3 = original.subarray(d.layout.l3);
        const quote = l3.subarray(0, Math.min(l3.length, d.ip4.headerLength + 8));
        return buildIp4Frame({ src: d.eth.src, dst: d.eth.dst }, { src: d.ip4.src, dst: d.ip4.dst, ttl: 255 }, { proto: 'icmp', type: 3, code: 1, payload: quote });
      }
      case 'nd_na':
      case 'nd_na_router':
        if (!d.ip6 || !d.icmp) return undefined;
        return buildNeighborAdvertisement({
          ethSrc: d.eth.dst,
          ethDst: d.eth.src,
          ipSrc: d.icmp.ndTarget ?? d.ip6.dst,
          ipDst: d.ip6.src,
          target: d.icmp.ndTarget ?? d.ip6.dst,
          router: op === 'nd_na_router',
        });
      case 'nd_ns':
        // A neighbour solicitation for the IPv6 destination, from the packet's own addresses;
        // the block may set nd.target (a next hop other than the destination).
        if (!d.ip6) return undefined;
        return buildNeighborSolicitation({ ethSrc: d.eth.src, ipSrc: d.ip6.src, target: d.ip6.dst });
      case 'icmp6':
      case 'icmp6_error': {
        // Destination unreachable (type 1, code 1) quoting as much of the original as fits the
        // 1280-byte minimum MTU, with the original's addresses (the block turns them around).
        if (!d.ip6) return undefined;
        const l3 = original.subarray(d.layout.l3);
        const quote = l3.subarray(0, Math.min(l3.length, 1280 - 48));
        return buildIp6Frame({ src: d.eth.src, dst: d.eth.dst }, { src: d.ip6.src, dst: d.ip6.dst, hopLimit: 255 }, { proto: 'icmp6', type: 1, code: 1, rest: 0, payload: quote });
      }
      case 'tcp_reset': {
        if (!d.ip4 || !d.tcp) return undefined;
        const seqEnd = (d.tcp.seq + Math.max(1, d.tcp.payload.length)) >>> 0;
        // Addresses as in the original (the block swaps them); ports already those of a reply.
        return buildTcp4(
          { src: d.eth.src, dst: d.eth.dst },
          { src: d.ip4.src, dst: d.ip4.dst, ttl: 255 },
          { srcPort: d.tcp.dstPort, dstPort: d.tcp.srcPort, seq: d.tcp.ack, ack: seqEnd, flags: TCP_RST | TCP_ACK, window: 0 },
        );
      }
      default:
        return undefined;
    }
  }

  /**
   * put_dhcp_opts: turns a DHCPDISCOVER/REQUEST into the OFFER/ACK carrying the flow's options,
   * sets the result bit and resumes the pipeline (whose next flows address the reply back to
   * the client). Anything else resumes with the bit clear.
   */
  private async dhcp(a: Extract<LAction, { kind: 'result' }>, p: PacketIn): Promise<void> {
    const key = p.key.slice();
    const d = decodePacket(p.frame);
    const request = d.udp ? decodeDhcp(d.udp.payload) : undefined;
    const type = request?.options.messageType;
    let frame: Uint8Array | undefined;
    if (d.eth && d.ip4 && d.udp && request && (type === DHCPDISCOVER || type === DHCPREQUEST)) {
      const { offerIp, options } = dhcpOptionsFromOvn(resultArgs(a));
      const reply = encodeDhcp({
        op: BOOTP_REPLY,
        xid: request.xid,
        chaddr: request.chaddr,
        flags: request.flags,
        ...(offerIp ? { yiaddr: offerIp } : {}),
        options: { ...options, messageType: type === DHCPDISCOVER ? DHCPOFFER : DHCPACK },
      });
      frame = buildUdp4({ src: d.eth.src, dst: d.eth.dst }, { src: d.ip4.src, dst: d.ip4.dst, ttl: d.ip4.ttl }, { srcPort: d.udp.srcPort, dstPort: d.udp.dstPort, payload: reply });
      setResult(key, a.dst, 1n);
    } else setResult(key, a.dst, 0n);
    await this.opts.sw.resume(p.continuation!, frame, key);
  }

  /**
   * put_dhcpv6_opts: answers a DHCPv6 client (RFC 8415) with the flow's options — SOLICIT with
   * an ADVERTISE (a REPLY when the client asked for rapid commit), REQUEST, RENEW, REBIND,
   * CONFIRM and INFORMATION-REQUEST with a REPLY: the server's DUID from server_id, the client's
   * DUID back, the address (ia_addr) in the client's IA_NA unless stateless, DNS servers and
   * the domain search list — then resumes with the result bit set. Anything else resumes with
   * the bit clear.
   */
  private async dhcp6(a: Extract<LAction, { kind: 'result' }>, p: PacketIn): Promise<void> {
    const key = p.key.slice();
    const d = decodePacket(p.frame);
    const request = d.udp ? decodeDhcp6(d.udp.payload) : undefined;
    const values = resultArgs(a);
    const serverMac = typeof values['server_id'] === 'string' ? parseMacText(values['server_id']) : undefined;
    const answers: Record<number, number> = {
      [DHCP6_SOLICIT]: DHCP6_ADVERTISE,
      [DHCP6_REQUEST]: DHCP6_REPLY,
      [DHCP6_RENEW]: DHCP6_REPLY,
      [DHCP6_REBIND]: DHCP6_REPLY,
      [DHCP6_CONFIRM]: DHCP6_REPLY,
      [DHCP6_INFORMATION_REQUEST]: DHCP6_REPLY,
    };
    let frame: Uint8Array | undefined;
    const clientId = request?.options.find((o) => o.code === DHCP6_OPT_CLIENTID);
    if (d.eth && d.ip6 && d.udp && request && serverMac && clientId && answers[request.type] !== undefined) {
      const rapid = request.type === DHCP6_SOLICIT && request.options.some((o) => o.code === DHCP6_OPT_RAPID_COMMIT);
      const options: Dhcp6Option[] = [{ code: DHCP6_OPT_SERVERID, data: duidLl(serverMac) }, clientId];
      if (rapid) options.push({ code: DHCP6_OPT_RAPID_COMMIT, data: new Uint8Array(0) });
      const ia = request.options.find((o) => o.code === DHCP6_OPT_IA_NA);
      const addr = values['ia_addr'];
      if (ia && ia.data.length >= 4 && typeof addr === 'string' && request.type !== DHCP6_INFORMATION_REQUEST) options.push(iaNaOption(ia.data.subarray(0, 4), addr));
      const dns = values['dns_server'];
      const dnsList = Array.isArray(dns) ? dns : typeof dns === 'string' ? [dns] : [];
      if (dnsList.length) {
        const data = new Uint8Array(16 * dnsList.length);
        dnsList.forEach((x, i) => writeIp6(data, 16 * i, parseIp6(x)));
        options.push({ code: DHCP6_OPT_DNS_SERVERS, data });
      }
      const domain = values['domain_search'];
      if (typeof domain === 'string' && domain) options.push({ code: DHCP6_OPT_DOMAIN_LIST, data: dnsNames([domain]) });
      const reply = encodeDhcp6({ type: rapid ? DHCP6_REPLY : answers[request.type]!, xid: request.xid, options });
      frame = buildUdp6({ src: d.eth.src, dst: d.eth.dst }, { src: d.ip6.src, dst: d.ip6.dst, hopLimit: d.ip6.hopLimit }, { srcPort: d.udp.srcPort, dstPort: d.udp.dstPort, payload: reply });
      setResult(key, a.dst, 1n);
    } else setResult(key, a.dst, 0n);
    await this.opts.sw.resume(p.continuation!, frame, key);
  }

  /**
   * put_nd_ra_opts: answers a router solicitation with a router advertisement (RFC 4861 §4.2)
   * built from the flow's options — M/O flags from addr_mode, router preference, the router's
   * link-layer address, MTU, each prefix (autonomous unless DHCPv6-stateful), RDNSS — with the
   * original's addresses (the next flows turn them around), then resumes with the bit set.
   */
  private async routerAdvertisement(a: Extract<LAction, { kind: 'result' }>, p: PacketIn): Promise<void> {
    const key = p.key.slice();
    const d = decodePacket(p.frame);
    const v = resultArgs(a);
    const list = (x: string | string[] | undefined): string[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
    let frame: Uint8Array | undefined;
    if (d.eth && d.ip6 && d.icmp?.type === 133 && typeof v['slla'] === 'string') {
      const mode = String(v['addr_mode'] ?? 'slaac');
      const flags = (mode === 'dhcpv6_stateful' ? 0x80 : 0) | (mode !== 'slaac' ? 0x40 : 0) | ({ HIGH: 0x08, LOW: 0x18 }[String(v['router_preference'] ?? '')] ?? 0);
      const opts: number[] = [1, 1, ...macToBytes(v['slla'])];
      const mtu = Number(v['mtu'] ?? 0);
      if (mtu > 0) opts.push(5, 1, 0, 0, (mtu >>> 24) & 0xff, (mtu >>> 16) & 0xff, (mtu >>> 8) & 0xff, mtu & 0xff);
      for (const prefix of list(v['prefix'])) {
        const [net, plen] = prefix.split('/');
        const addr = new Uint8Array(16);
        writeIp6(addr, 0, parseIp6(net!));
        // On-link; autonomous (SLAAC) unless addresses come from DHCPv6; lifetimes infinite.
        opts.push(3, 4, Number(plen), 0x80 | (mode === 'dhcpv6_stateful' ? 0 : 0x40), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, ...addr);
      }
      const rdnss = list(v['rdnss']);
      if (rdnss.length) {
        opts.push(25, 1 + 2 * rdnss.length, 0, 0, 0xff, 0xff, 0xff, 0xff);
        for (const x of rdnss) {
          const addr = new Uint8Array(16);
          writeIp6(addr, 0, parseIp6(x));
          opts.push(...addr);
        }
      }
      // Current hop limit 255, flags, router lifetime 0xffff s; then reachable time, retrans timer (0: unspecified).
      const rest = ((255 << 24) | (flags << 16) | 0xffff) >>> 0;
      frame = buildIp6Frame({ src: d.eth.src, dst: d.eth.dst }, { src: d.ip6.src, dst: d.ip6.dst, hopLimit: 255 }, { proto: 'icmp6', type: 134, code: 0, rest, payload: Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, ...opts]) });
      setResult(key, a.dst, 1n);
    } else setResult(key, a.dst, 0n);
    await this.opts.sw.resume(p.continuation!, frame, key);
  }

  /**
   * dns_lookup: answers an A or AAAA query for a name in the datapath's DNS records (Southbound
   * DNS rows) with a response carrying the original's addresses and ports (the next flows turn
   * them around); a query it cannot answer resumes with the bit clear and goes on its way.
   */
  private async dnsLookup(a: Extract<LAction, { kind: 'result' }>, p: PacketIn): Promise<void> {
    const key = p.key.slice();
    const d = decodePacket(p.frame);
    const q = d.udp ? parseDnsQuery(d.udp.payload) : undefined;
    const dpKey = Number(readBits(p.key, METADATA_LOC));
    const view = this.view;
    const dp = view?.sb.datapaths.find((x) => x.tunnel_key === dpKey);
    let frame: Uint8Array | undefined;
    if (d.eth && d.udp && (d.ip4 || d.ip6) && q && dp && (q.type === 1 || q.type === 28)) {
      const values = (view?.sb.dns ?? []).filter((r) => r.datapaths.includes(dp._uuid)).map((r) => r.records[q.name.toLowerCase()]).find((x) => x !== undefined);
      const addrs = (values ?? '').split(/\s+/).filter((x) => (q.type === 1 ? /^\d+\.\d+\.\d+\.\d+$/.test(x) : x.includes(':')));
      if (addrs.length) {
        const payload = dnsResponse(d.udp.payload, q, addrs);
        frame = d.ip4
          ? buildUdp4({ src: d.eth.src, dst: d.eth.dst }, { src: d.ip4.src, dst: d.ip4.dst, ttl: d.ip4.ttl }, { srcPort: d.udp.srcPort, dstPort: d.udp.dstPort, payload })
          : buildUdp6({ src: d.eth.src, dst: d.eth.dst }, { src: d.ip6!.src, dst: d.ip6!.dst, hopLimit: d.ip6!.hopLimit }, { srcPort: d.udp.srcPort, dstPort: d.udp.dstPort, payload });
      }
    }
    setResult(key, a.dst, frame ? 1n : 0n);
    await this.opts.sw.resume(p.continuation!, frame, key);
  }

  /** put_arp(inport, ip, mac) / put_nd: learn (or refresh) a MAC_Binding. */
  private async putMacBinding(a: LAction, p: PacketIn): Promise<void> {
    if (a.kind !== 'call' || !a.args) return;
    const view = this.view;
    if (!view) return;
    const text = (v: ArgValue | undefined, kind: 'ip' | 'mac'): string | undefined => {
      if (!v || v.kind !== 'field') return undefined;
      const loc = locOfBase(v.ref.symbol);
      if (!loc) return undefined;
      const value = readBits(p.key, loc);
      return kind === 'mac' ? macText(value) : loc.bits === 32 ? ip4Text(value) : ip6Text(value);
    };
    const portKey = Number(readBits(p.key, INPORT_LOC));
    const dpKey = Number(readBits(p.key, METADATA_LOC));
    const dp = view.sb.datapaths.find((d) => d.tunnel_key === dpKey);
    const pb = dp && view.sb.ports.find((x) => x.datapath === dp._uuid && x.tunnel_key === portKey);
    const ip = text(a.args[1]?.value, 'ip');
    const mac = text(a.args[2]?.value, 'mac');
    if (!dp || !pb || !ip || !mac) return;
    const existing = view.sb.macBindings.find((b: Sb.MACBinding) => b.logical_port === pb.logical_port && b.ip === ip);
    if (existing?.mac === mac) return;
    if (!this.opts.sb) return;
    const tx = this.opts.sb.client.transaction('OVN_Southbound');
    if (existing) tx.update('MAC_Binding', [['_uuid', '==', ovsUuid(existing._uuid)]], { mac, timestamp: Date.now() });
    else tx.insert('MAC_Binding', { logical_port: pb.logical_port, ip, mac, datapath: ovsUuid(dp._uuid), timestamp: Date.now() });
    await tx.execute();
  }
}

interface DnsQuery {
  readonly name: string;
  readonly type: number;
  /** Where the question ends (answers follow it). */
  readonly end: number;
}

/** The single question of a standard DNS query (RFC 1035 §4.1), or undefined. */
function parseDnsQuery(b: Uint8Array): DnsQuery | undefined {
  if (b.length < 12 || (b[2]! & 0xf8) !== 0 || ((b[4]! << 8) | b[5]!) !== 1) return undefined;
  const labels: string[] = [];
  let off = 12;
  for (let n = b[off]; n !== undefined && n !== 0; n = b[off]) {
    if (n > 63 || off + 1 + n > b.length) return undefined;
    labels.push(new TextDecoder().decode(b.subarray(off + 1, off + 1 + n)));
    off += 1 + n;
  }
  if (off + 5 > b.length) return undefined;
  return { name: labels.join('.'), type: (b[off + 1]! << 8) | b[off + 2]!, end: off + 5 };
}

/** The response to `query`: its header (as an authoritative answer) and question, then the addresses. */
function dnsResponse(query: Uint8Array, q: DnsQuery, addrs: readonly string[]): Uint8Array {
  const out: number[] = [...query.subarray(0, q.end)];
  out[2] = 0x84 | (query[2]! & 0x01); // QR, AA, RD as asked
  out[3] = 0;
  out[6] = 0;
  out[7] = addrs.length;
  out[8] = out[9] = out[10] = out[11] = 0;
  for (const addr of addrs) {
    const rdata = q.type === 1 ? addr.split('.').map(Number) : (() => {
      const b = new Uint8Array(16);
      writeIp6(b, 0, parseIp6(addr));
      return [...b];
    })();
    // A pointer to the question's name, type, class IN, TTL 3600, the address.
    out.push(0xc0, 12, 0, q.type, 0, 1, 0, 0, 0x0e, 0x10, 0, rdata.length, ...rdata);
  }
  return Uint8Array.from(out);
}

/** A put_dhcp(v6)_opts call's key = value arguments as text (sets as lists). */
function resultArgs(a: Extract<LAction, { kind: 'result' }>): Record<string, string | string[]> {
  const values: Record<string, string | string[]> = {};
  for (const arg of a.args) {
    if (arg.key === undefined) continue;
    const v = arg.value;
    values[arg.key] = v.kind === 'set' ? v.items.map((c) => (c.kind === 'str' ? c.value : printConstant(c))) : v.kind === 'const' ? (v.c.kind === 'str' ? v.c.value : printConstant(v.c)) : v.kind === 'word' ? v.word : '';
  }
  return values;
}

function parseMacText(text: string): Uint8Array | undefined {
  try {
    return macToBytes(text);
  } catch {
    return undefined;
  }
}

/** Writes a function's result into its destination bits of a key (e.g. reg0[3]). */
function setResult(key: FlowKey, dst: FieldRef, value: bigint): void {
  const sym = ovnSymbols().get(dst.symbol);
  const loc = sym ? locOfBase(sym.base) : undefined;
  if (!sym || !loc) return;
  const ofs = BigInt(sym.baseOfs + dst.ofs);
  const mask = ((1n << BigInt(dst.nBits)) - 1n) << ofs;
  writeBits(key, loc, value << ofs, mask);
}
