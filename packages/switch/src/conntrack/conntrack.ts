/**
 * Connection tracking for the switch's `ct` action: a per-zone table of connections keyed on the
 * 5-tuple in both directions, for TCP (state machine with sequence windows, see tcp.ts), UDP,
 * SCTP and other IP protocols (addresses and ports only), and ICMP/ICMPv6 echo (request/reply
 * pairing by identifier); ICMP errors whose quoted header belongs to a connection are "related".
 * IPv4 and IPv6. NAT (source or destination, address and port ranges, first free tuple) is bound
 * when a connection is committed and applied to later packets of either direction on request.
 *
 * The table is bounded: when full, the oldest connection that has not seen a reply goes first,
 * then the oldest of all. Entries expire after per-protocol timeouts (checked lazily on lookup,
 * and by `sweep`).
 *
 * `execute` is on the per-packet path (cache hits run it too): it reads the packet's fields from
 * the flow key and the frame, allocates nothing except when it creates a connection, and writes
 * the ct_* fields into the key (ct_state, ct_zone, ct_mark, ct_label and the original-direction
 * tuple), rewriting the key's addresses and ports for NAT (the caller writes them to the frame
 * with commitKey, which fixes checksums). ICMP identifiers and headers quoted in ICMP errors have
 * no key fields, so those are rewritten in the frame here, with their checksums.
 */
import { field, type FlowKey } from '../fields.js';
import { formatIpv4, formatIpv6 } from '../flow/format.js';
import type { NatSpec } from '../flow/actions.js';
import { checksumAdjust16, internetChecksum, pseudoHeaderSum } from '../packet/checksum.js';
import {
  ETH_TYPE_IP4, ETH_TYPE_IP6, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP,
} from '../packet/constants.js';
import type { PacketLayout } from '../packet/extract.js';
import {
  W_ICMP_TYPE, W_IPV6_DST, W_IPV6_SRC, W_NW_DST, W_NW_FRAG, W_NW_PROTO, W_NW_SRC, W_TCP_FLAGS, W_TP_DST, W_TP_SRC,
} from '../packet/extract.js';
import {
  TcpSegment, TcpState, readSegment, tcpEstablished, tcpInit, tcpStateName, tcpTimeoutClass, tcpUpdate, tcpValidNew,
} from './tcp.js';

// ---- ct_state bits (OVS's order: new est rel rpl inv trk snat dnat) ----
export const CS_NEW = 0x01;
export const CS_ESTABLISHED = 0x02;
export const CS_RELATED = 0x04;
export const CS_REPLY_DIR = 0x08;
export const CS_INVALID = 0x10;
export const CS_TRACKED = 0x20;
export const CS_SRC_NAT = 0x40;
export const CS_DST_NAT = 0x80;

const W_DL_TYPE = field('dl_type').word;
const W_CT_STATE = field('ct_state').word;
const W_CT_ZONE = field('ct_zone').word;
const W_CT_MARK = field('ct_mark').word;
const W_CT_LABEL = field('ct_label').word;
const W_CT_NW_PROTO = field('ct_nw_proto').word;
const W_CT_NW_SRC = field('ct_nw_src').word;
const W_CT_NW_DST = field('ct_nw_dst').word;
const W_CT_IPV6_SRC = field('ct_ipv6_src').word;
const W_CT_IPV6_DST = field('ct_ipv6_dst').word;
const W_CT_TP_SRC = field('ct_tp_src').word;
const W_CT_TP_DST = field('ct_tp_dst').word;
/** The key words holding ct_* fields: [first, last], contiguous in the layout. */
export const CT_FIRST_WORD = W_CT_STATE;
export const CT_LAST_WORD = W_CT_TP_DST;

/** Clears every ct_* field of a key (the `ct_clear` action; untracked state). */
export function clearCtFields(key: FlowKey): void {
  for (let w = CT_FIRST_WORD; w <= CT_LAST_WORD; w++) key[w] = 0;
}

/** Timeouts in milliseconds. */
export interface ConntrackTimeouts {
  readonly tcpOpening: number;
  readonly tcpEstablished: number;
  readonly tcpClosing: number;
  readonly tcpClosed: number;
  readonly udp: number;
  readonly icmp: number;
  readonly other: number;
}

export const DEFAULT_TIMEOUTS: ConntrackTimeouts = {
  tcpOpening: 30_000,
  tcpEstablished: 24 * 3600_000,
  tcpClosing: 30_000,
  tcpClosed: 30_000,
  udp: 30_000,
  icmp: 30_000,
  other: 30_000,
};

export interface ConntrackOptions {
  /** Most connections kept (default 65536); beyond it the oldest unanswered one is evicted. */
  readonly maxConnections?: number;
  readonly timeouts?: Partial<ConntrackTimeouts>;
  /** Clock in milliseconds (default Date.now); `execute` takes the time as an argument too. */
  readonly now?: () => number;
}

/** What a `ct` action asks of the tracker. */
export interface CtParams {
  readonly zone: number;
  readonly commit: boolean;
  readonly force: boolean;
  readonly nat: NatSpec | undefined;
  /** ct_mark bits to set on commit (exec(set_field/move)). */
  readonly markMask: number;
  readonly markValue: number;
  /** ct_label bits to set on commit, 4 words most significant first (as in the key). */
  readonly labelMask: Uint32Array | undefined;
  readonly labelValue: Uint32Array | undefined;
}

/** One direction's addresses and ports; for ICMP, `sp` is the identifier and `dp` the type. */
export class Tuple {
  s0 = 0;
  s1 = 0;
  s2 = 0;
  s3 = 0;
  d0 = 0;
  d1 = 0;
  d2 = 0;
  d3 = 0;
  sp = 0;
  dp = 0;

  copyFrom(t: Tuple): this {
    this.s0 = t.s0;
    this.s1 = t.s1;
    this.s2 = t.s2;
    this.s3 = t.s3;
    this.d0 = t.d0;
    this.d1 = t.d1;
    this.d2 = t.d2;
    this.d3 = t.d3;
    this.sp = t.sp;
    this.dp = t.dp;
    return this;
  }

  equals(t: Tuple): boolean {
    return (
      this.s0 === t.s0 && this.d0 === t.d0 && this.sp === t.sp && this.dp === t.dp &&
      this.s1 === t.s1 && this.s2 === t.s2 && this.s3 === t.s3 && this.d1 === t.d1 && this.d2 === t.d2 && this.d3 === t.d3
    );
  }

  /** The tuple of the other direction: addresses and ports swapped (ICMP: type answered). */
  reverseOf(t: Tuple, proto: number): this {
    const s0 = t.s0, s1 = t.s1, s2 = t.s2, s3 = t.s3;
    this.s0 = t.d0;
    this.s1 = t.d1;
    this.s2 = t.d2;
    this.s3 = t.d3;
    this.d0 = s0;
    this.d1 = s1;
    this.d2 = s2;
    this.d3 = s3;
    if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
      this.sp = t.sp;
      this.dp = icmpReverseType(t.dp, proto);
    } else {
      const sp = t.sp;
      this.sp = t.dp;
      this.dp = sp;
    }
    return this;
  }
}

/** The type answering an ICMP query type (echo 8 → 0 …), or -1 for types that are not queries. */
function icmpReverseType(type: number, proto: number): number {
  if (proto === IPPROTO_ICMP) {
    switch (type) {
      case 8: return 0;
      case 0: return 8;
      case 13: return 14;
      case 14: return 13;
      case 15: return 16;
      case 16: return 15;
      case 17: return 18;
      case 18: return 17;
    }
  } else {
    switch (type) {
      case 128: return 129;
      case 129: return 128;
    }
  }
  return -1;
}

function icmpIsQuery(type: number, proto: number): boolean {
  return proto === IPPROTO_ICMP ? type === 8 || type === 13 || type === 15 || type === 17 : type === 128;
}

function icmpIsError(type: number, proto: number): boolean {
  return proto === IPPROTO_ICMP ? type === 3 || type === 4 || type === 5 || type === 11 || type === 12 : type >= 1 && type <= 4;
}

function hasPorts(proto: number): boolean {
  return proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP;
}

const NAT_NONE = 0;
const NAT_SRC = 1;
const NAT_DST = 2;

/** One direction of a connection in the lookup index. */
class CtNode {
  next: CtNode | undefined = undefined;
  hash = 0;
  readonly t = new Tuple();
  constructor(
    readonly conn: Conn,
    /** 0: original direction, 1: reply. */
    readonly dir: number,
  ) {}
}

/** A tracked connection (read-only to users; see `Conntrack.connections`). */
export class Conn {
  readonly nodes: [CtNode, CtNode];
  mark = 0;
  readonly label = new Uint32Array(4);
  /** 0 none, 1 source NAT, 2 destination NAT. */
  nat = NAT_NONE;
  seenReply = false;
  tcp: TcpState | undefined = undefined;
  expires = 0;
  /** In the table's set of assured (answered, established) connections. */
  listedAssured = false;

  constructor(
    readonly id: number,
    readonly zone: number,
    readonly proto: number,
    readonly v6: boolean,
    readonly created: number,
  ) {
    this.nodes = [new CtNode(this, 0), new CtNode(this, 1)];
  }

  /** The original-direction tuple, as first seen (before NAT). */
  get orig(): Tuple {
    return this.nodes[0].t;
  }
  /** The reply-direction tuple, as replies arrive (after NAT). */
  get reply(): Tuple {
    return this.nodes[1].t;
  }
  /** Established in the conntrack sense: answered (and, for TCP, the handshake completed). */
  get assured(): boolean {
    return this.seenReply && (this.tcp === undefined || tcpEstablished(this.tcp));
  }
}

export interface ConntrackStats {
  readonly connections: number;
  readonly created: number;
  readonly evicted: number;
  readonly expired: number;
  readonly invalid: number;
  readonly natExhausted: number;
}

function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function hashTuple(zone: number, proto: number, t: Tuple): number {
  let h = mix(zone, proto);
  h = mix(h, t.s0);
  h = mix(h, t.s1);
  h = mix(h, t.s2);
  h = mix(h, t.s3);
  h = mix(h, t.d0);
  h = mix(h, t.d1);
  h = mix(h, t.d2);
  h = mix(h, t.d3);
  h = mix(h, (t.sp << 16) ^ t.dp);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}

function be16(f: Uint8Array, o: number): number {
  return (f[o]! << 8) | f[o + 1]!;
}
function be32(f: Uint8Array, o: number): number {
  return ((f[o]! << 24) | (f[o + 1]! << 16) | (f[o + 2]! << 8) | f[o + 3]!) >>> 0;
}
function put16(f: Uint8Array, o: number, v: number): void {
  f[o] = v >>> 8;
  f[o + 1] = v;
}
function put32(f: Uint8Array, o: number, v: number): void {
  f[o] = v >>> 24;
  f[o + 1] = v >>> 16;
  f[o + 2] = v >>> 8;
  f[o + 3] = v;
}

export class Conntrack {
  private readonly index = new Map<number, CtNode>();
  /** Connections by age (insertion order), split by whether they have been answered. */
  private readonly unassured = new Set<Conn>();
  private readonly assuredSet = new Set<Conn>();
  private readonly maxConns: number;
  readonly timeouts: ConntrackTimeouts;
  private readonly clock: () => number;
  private nextId = 1;
  private nCreated = 0;
  private nEvicted = 0;
  private nExpired = 0;
  private nInvalid = 0;
  private nNatExhausted = 0;

  // Scratch state for the per-packet path.
  private readonly pt = new Tuple();
  private readonly rt = new Tuple();
  private readonly tmp = new Tuple();
  private readonly seg = new TcpSegment();
  private readonly dryTcp = new TcpState();

  constructor(opts: ConntrackOptions = {}) {
    this.maxConns = opts.maxConnections ?? 65536;
    if (!(this.maxConns >= 1)) throw new RangeError('maxConnections must be at least 1');
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...(opts.timeouts ?? {}) };
    this.clock = opts.now ?? Date.now;
  }

  get size(): number {
    return this.unassured.size + this.assuredSet.size;
  }

  stats(): ConntrackStats {
    return {
      connections: this.size, created: this.nCreated, evicted: this.nEvicted, expired: this.nExpired,
      invalid: this.nInvalid, natExhausted: this.nNatExhausted,
    };
  }

  /** Every connection (oldest first within unanswered, then answered ones), optionally of one zone. */
  connections(zone?: number): Conn[] {
    const out: Conn[] = [];
    for (const set of [this.unassured, this.assuredSet]) for (const c of set) if (zone === undefined || c.zone === zone) out.push(c);
    return out.sort((a, b) => a.id - b.id);
  }

  /**
   * Runs the `ct` action for a packet: `key` is its flow key (addresses, ports, flags; ct_*
   * fields are overwritten), `frame`/`layout` its bytes (TCP sequence numbers, ICMP ids and
   * quoted headers are read there). With `dryRun` nothing changes, in the table or in the frame:
   * the key shows what the packet would get (for tracing). Returns the ct_state written.
   */
  execute(key: FlowKey, frame: Uint8Array, layout: PacketLayout, p: CtParams, now: number = this.clock(), dryRun = false): number {
    const zone = p.zone & 0xffff;
    clearCtFields(key);
    key[W_CT_ZONE] = zone;
    const dlType = key[W_DL_TYPE]!;
    const v6 = dlType === ETH_TYPE_IP6;
    if ((dlType !== ETH_TYPE_IP4 && !v6) || key[W_NW_FRAG] !== 0) return this.invalid(key);
    const proto = key[W_NW_PROTO]!;
    const pt = this.pt;
    this.readAddresses(key, v6, pt);
    let icmpError = false;
    if (hasPorts(proto)) {
      if (layout.l4 < 0) return this.invalid(key);
      pt.sp = key[W_TP_SRC]!;
      pt.dp = key[W_TP_DST]!;
    } else if ((proto === IPPROTO_ICMP && !v6) || (proto === IPPROTO_ICMPV6 && v6)) {
      if (layout.l4 < 0) return this.invalid(key);
      const type = key[W_ICMP_TYPE]!;
      if (icmpIsError(type, proto)) {
        icmpError = true;
      } else if (icmpReverseType(type, proto) >= 0) {
        if (layout.end - layout.l4 < 8) return this.invalid(key);
        pt.sp = be16(frame, layout.l4 + 4);
        pt.dp = type;
      } else {
        // Neither a query/answer nor an error (ND, router discovery …): not trackable.
        return this.invalid(key);
      }
    } else {
      pt.sp = 0;
      pt.dp = 0;
    }

    if (icmpError) return this.related(key, frame, layout, p, zone, proto, v6, now, dryRun);

    let node = this.lookup(zone, proto, pt, now, dryRun);
    if (node !== undefined && p.force && p.commit && node.dir === 1) {
      // force: a reply-direction packet of an existing connection starts a new one its way.
      if (!dryRun) this.remove(node.conn);
      node = undefined;
    }
    let state = CS_TRACKED;
    let conn: Conn | undefined;
    let dir = 0;
    if (node !== undefined) {
      conn = node.conn;
      dir = node.dir;
      const verdict = this.update(conn, dir, key, frame, layout, now, dryRun);
      if (verdict === 'invalid') return this.invalid(key);
      if (verdict === 'reopen') {
        if (!dryRun) this.remove(conn);
        conn = undefined;
      } else {
        const seen = conn.seenReply || dir === 1;
        state |= seen ? CS_ESTABLISHED : CS_NEW;
        if (dir === 1) state |= CS_REPLY_DIR;
      }
    }
    if (conn === undefined) {
      if (proto === IPPROTO_TCP && !tcpValidNew(key[W_TCP_FLAGS]!)) return this.invalid(key);
      if ((proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) && !icmpIsQuery(pt.dp, proto)) return this.invalid(key);
      state |= CS_NEW;
      dir = 0;
      if (p.commit) {
        const c = this.create(zone, proto, v6, pt, p.nat, key, frame, layout, now, dryRun);
        if (c === undefined) return this.invalid(key);
        conn = c;
      }
    }

    if (conn !== undefined) {
      if (p.commit && !dryRun) this.applyExec(conn, p);
      key[W_CT_MARK] = p.commit && dryRun ? ((conn.mark & ~p.markMask) | (p.markValue & p.markMask)) >>> 0 : conn.mark;
      for (let i = 0; i < 4; i++) {
        let l = conn.label[i]!;
        if (p.commit && dryRun && p.labelMask) l = ((l & ~p.labelMask[i]!) | (p.labelValue![i]! & p.labelMask[i]!)) >>> 0;
        key[W_CT_LABEL + i] = l;
      }
      this.writeOrig(key, conn.orig, proto, v6);
      if (p.nat !== undefined && conn.nat !== NAT_NONE) state |= this.natPacket(key, frame, layout, conn, dir, dryRun);
    } else {
      this.writeOrig(key, pt, proto, v6);
    }
    key[W_CT_STATE] = state;
    return state;
  }

  /** Removes every connection, or those of one zone. Returns how many went. */
  flush(zone?: number): number {
    let n = 0;
    for (const set of [this.unassured, this.assuredSet]) {
      for (const c of [...set]) {
        if (zone === undefined || c.zone === zone) {
          this.remove(c);
          n++;
        }
      }
    }
    return n;
  }

  /** Removes expired connections; returns how many. */
  sweep(now: number = this.clock()): number {
    let n = 0;
    for (const set of [this.unassured, this.assuredSet]) {
      for (const c of [...set]) {
        if (c.expires <= now) {
          this.remove(c);
          n++;
        }
      }
    }
    this.nExpired += n;
    return n;
  }

  /**
   * The table in `ovs-appctl dpctl/dump-conntrack` format, one line per connection, e.g.
   * `tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=40000,dport=80),reply=(…),zone=5,mark=2,protoinfo=(state=ESTABLISHED)`.
   */
  dump(zone?: number): string[] {
    return this.connections(zone).map(formatConn);
  }

  // ---- internals ----

  private invalid(key: FlowKey): number {
    this.nInvalid++;
    key[W_CT_STATE] = CS_TRACKED | CS_INVALID;
    return CS_TRACKED | CS_INVALID;
  }

  private readAddresses(key: FlowKey, v6: boolean, t: Tuple): void {
    if (v6) {
      t.s0 = key[W_IPV6_SRC]!;
      t.s1 = key[W_IPV6_SRC + 1]!;
      t.s2 = key[W_IPV6_SRC + 2]!;
      t.s3 = key[W_IPV6_SRC + 3]!;
      t.d0 = key[W_IPV6_DST]!;
      t.d1 = key[W_IPV6_DST + 1]!;
      t.d2 = key[W_IPV6_DST + 2]!;
      t.d3 = key[W_IPV6_DST + 3]!;
    } else {
      t.s0 = key[W_NW_SRC]!;
      t.d0 = key[W_NW_DST]!;
      t.s1 = t.s2 = t.s3 = t.d1 = t.d2 = t.d3 = 0;
    }
  }

  private writeOrig(key: FlowKey, t: Tuple, proto: number, v6: boolean): void {
    key[W_CT_NW_PROTO] = proto;
    if (v6) {
      key[W_CT_IPV6_SRC] = t.s0;
      key[W_CT_IPV6_SRC + 1] = t.s1;
      key[W_CT_IPV6_SRC + 2] = t.s2;
      key[W_CT_IPV6_SRC + 3] = t.s3;
      key[W_CT_IPV6_DST] = t.d0;
      key[W_CT_IPV6_DST + 1] = t.d1;
      key[W_CT_IPV6_DST + 2] = t.d2;
      key[W_CT_IPV6_DST + 3] = t.d3;
    } else {
      key[W_CT_NW_SRC] = t.s0;
      key[W_CT_NW_DST] = t.d0;
    }
    if (hasPorts(proto)) {
      key[W_CT_TP_SRC] = t.sp;
      key[W_CT_TP_DST] = t.dp;
    } else if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
      // As OVS: the original direction's ICMP type and code.
      key[W_CT_TP_SRC] = t.dp;
      key[W_CT_TP_DST] = 0;
    }
  }

  /** The live node for a tuple (expired connections are dropped on the way). */
  private lookup(zone: number, proto: number, t: Tuple, now: number, dryRun: boolean): CtNode | undefined {
    const h = hashTuple(zone, proto, t);
    for (let n = this.index.get(h); n !== undefined; n = n.next) {
      const c = n.conn;
      if (n.hash === h && c.zone === zone && c.proto === proto && n.t.equals(t)) {
        if (c.expires <= now) {
          if (!dryRun) {
            this.remove(c);
            this.nExpired++;
          }
          return undefined;
        }
        return n;
      }
    }
    return undefined;
  }

  private taken(zone: number, proto: number, t: Tuple, now: number): boolean {
    return this.lookup(zone, proto, t, now, true) !== undefined;
  }

  private link(n: CtNode, zone: number, proto: number): void {
    n.hash = hashTuple(zone, proto, n.t);
    n.next = this.index.get(n.hash);
    this.index.set(n.hash, n);
  }

  private unlink(n: CtNode): void {
    let head = this.index.get(n.hash);
    if (head === n) {
      if (n.next === undefined) this.index.delete(n.hash);
      else this.index.set(n.hash, n.next);
      return;
    }
    while (head !== undefined && head.next !== n) head = head.next;
    if (head !== undefined) head.next = n.next;
  }

  private remove(c: Conn): void {
    this.unlink(c.nodes[0]);
    this.unlink(c.nodes[1]);
    this.unassured.delete(c);
    this.assuredSet.delete(c);
  }

  private timeoutFor(c: Conn): number {
    const T = this.timeouts;
    if (c.tcp !== undefined) {
      switch (tcpTimeoutClass(c.tcp)) {
        case 'established': return T.tcpEstablished;
        case 'opening': return T.tcpOpening;
        case 'closing': return T.tcpClosing;
        case 'closed': return T.tcpClosed;
      }
    }
    if (c.proto === IPPROTO_UDP) return T.udp;
    if (c.proto === IPPROTO_ICMP || c.proto === IPPROTO_ICMPV6) return T.icmp;
    return T.other;
  }

  /** Updates protocol state for a packet of an existing connection. */
  private update(c: Conn, dir: number, key: FlowKey, frame: Uint8Array, layout: PacketLayout, now: number, dryRun: boolean): 'valid' | 'invalid' | 'reopen' {
    if (c.tcp !== undefined) {
      const seg = readSegment(frame, layout.l4, layout.payload, layout.end, key[W_TCP_FLAGS]!, this.seg);
      let st = c.tcp;
      if (dryRun) {
        this.dryTcp.copyFrom(st);
        st = this.dryTcp;
      }
      const v = tcpUpdate(st, seg, dir === 1);
      if (v !== 'valid' || dryRun) return v;
    } else if (dryRun) {
      return 'valid';
    }
    if (dir === 1 && !c.seenReply) c.seenReply = true;
    this.refresh(c, now);
    return 'valid';
  }

  private refresh(c: Conn, now: number): void {
    c.expires = now + this.timeoutFor(c);
    if (!c.listedAssured && c.assured) {
      this.unassured.delete(c);
      this.assuredSet.add(c);
      c.listedAssured = true;
    }
  }

  private applyExec(c: Conn, p: CtParams): void {
    if (p.markMask !== 0) c.mark = ((c.mark & ~p.markMask) | (p.markValue & p.markMask)) >>> 0;
    if (p.labelMask !== undefined && p.labelValue !== undefined) {
      for (let i = 0; i < 4; i++) c.label[i] = ((c.label[i]! & ~p.labelMask[i]!) | (p.labelValue[i]! & p.labelMask[i]!)) >>> 0;
    }
  }

  /** Commits a new connection for the packet tuple `pt` (binding NAT); undefined when NAT has no free tuple. */
  private create(
    zone: number, proto: number, v6: boolean, pt: Tuple, nat: NatSpec | undefined,
    key: FlowKey, frame: Uint8Array, layout: PacketLayout, now: number, dryRun: boolean,
  ): Conn | undefined {
    const c = new Conn(this.nextId, zone, proto, v6, now);
    c.orig.copyFrom(pt);
    const reply = c.reply.reverseOf(pt, proto);
    if (nat !== undefined && nat.kind !== undefined) {
      if (!this.bindNat(c, nat, now)) {
        if (!dryRun) this.nNatExhausted++;
        return undefined;
      }
    } else if (this.taken(zone, proto, reply, now)) {
      // The reverse tuple already belongs to another connection (e.g. a NAT binding).
      return undefined;
    }
    if (proto === IPPROTO_TCP) {
      c.tcp = dryRun ? this.dryTcp : new TcpState();
      tcpInit(c.tcp, readSegment(frame, layout.l4, layout.payload, layout.end, key[W_TCP_FLAGS]!, this.seg));
    }
    if (dryRun) return c;
    this.nextId++;
    if (this.size >= this.maxConns) this.evict(now);
    this.link(c.nodes[0], zone, proto);
    this.link(c.nodes[1], zone, proto);
    c.expires = now + this.timeoutFor(c);
    this.unassured.add(c);
    this.nCreated++;
    return c;
  }

  private evict(now: number): void {
    // Expired connections first; then the oldest unanswered; then the oldest of all.
    for (const set of [this.unassured, this.assuredSet]) {
      for (const c of set) {
        if (c.expires <= now) {
          this.remove(c);
          this.nExpired++;
          return;
        }
        break;
      }
    }
    const victim = this.unassured.values().next().value ?? this.assuredSet.values().next().value;
    if (victim !== undefined) {
      this.remove(victim);
      this.nEvicted++;
    }
  }

  /**
   * Chooses the translated tuple for a new connection: the first address of the range, then
   * the first port of the range (without a port range the port is kept, falling back to
   * 1024–65535 for source NAT), whose reply tuple no other connection uses.
   */
  private bindNat(c: Conn, nat: NatSpec, now: number): boolean {
    const src = nat.kind === 'src';
    const proto = c.proto;
    const o = c.orig;
    const r = c.reply;
    const ports = hasPorts(proto) || proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6;
    const origPort = src ? o.sp : proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6 ? o.sp : o.dp;
    const pMin = ports && nat.portMin !== undefined ? nat.portMin : origPort;
    const pMax = ports && nat.portMin !== undefined ? (nat.portMax ?? nat.portMin) : origPort;
    const tryPorts = (lo: number, hi: number): boolean => {
      for (const a of this.addressRange(c, nat)) {
        for (let port = lo; port <= hi; port++) {
          this.setNatTuple(c, src, a, port);
          if (!this.taken(c.zone, proto, r, now)) return true;
        }
      }
      return false;
    };
    c.nat = src ? NAT_SRC : NAT_DST;
    if (tryPorts(pMin, pMax)) return true;
    if (src && ports && nat.portMin === undefined && proto !== IPPROTO_ICMP && proto !== IPPROTO_ICMPV6) return tryPorts(1024, 65535);
    if (src && nat.portMin === undefined && (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6)) return tryPorts(0, 65535);
    return false;
  }

  /** Candidate translated addresses (each 4 words, v4 in word 0), in order; at most 65536. */
  private *addressRange(c: Conn, nat: NatSpec): Generator<Uint32Array> {
    const src = nat.kind === 'src';
    const w = new Uint32Array(4);
    if (nat.ipMin === undefined) {
      const t = c.orig;
      // No address: keep the one being translated.
      if (src) w.set([t.s0, t.s1, t.s2, t.s3]);
      else w.set([t.d0, t.d1, t.d2, t.d3]);
      yield w;
      return;
    }
    const max = nat.ipMax ?? nat.ipMin;
    let n = 0;
    for (let a = nat.ipMin; a <= max && n < 65536; a++, n++) {
      if (c.v6) {
        w[0] = Number((a >> 96n) & 0xffffffffn);
        w[1] = Number((a >> 64n) & 0xffffffffn);
        w[2] = Number((a >> 32n) & 0xffffffffn);
        w[3] = Number(a & 0xffffffffn);
      } else {
        w[0] = Number(a & 0xffffffffn);
        w[1] = w[2] = w[3] = 0;
      }
      yield w;
    }
  }

  /** Sets the reply tuple for a translation of the source (SNAT) or destination (DNAT) to `a`:`port`. */
  private setNatTuple(c: Conn, src: boolean, a: Uint32Array, port: number): void {
    const r = c.reply;
    r.reverseOf(c.orig, c.proto);
    const icmp = c.proto === IPPROTO_ICMP || c.proto === IPPROTO_ICMPV6;
    if (src) {
      // Replies come back to the translated source.
      r.d0 = a[0]!;
      r.d1 = a[1]!;
      r.d2 = a[2]!;
      r.d3 = a[3]!;
      if (icmp) r.sp = port;
      else if (hasPorts(c.proto)) r.dp = port;
    } else {
      r.s0 = a[0]!;
      r.s1 = a[1]!;
      r.s2 = a[2]!;
      r.s3 = a[3]!;
      if (icmp) r.sp = port;
      else if (hasPorts(c.proto)) r.sp = port;
    }
  }

  /**
   * Rewrites a packet of `c` travelling in direction `dir` to what the other side expects:
   * an original-direction packet becomes the reverse of the reply tuple, a reply the reverse of
   * the original tuple. Returns the ct_state NAT bits (what was mangled).
   */
  private natPacket(key: FlowKey, frame: Uint8Array, layout: PacketLayout, c: Conn, dir: number, dryRun: boolean): number {
    const target = this.tmp.reverseOf(dir === 0 ? c.reply : c.orig, c.proto);
    const v6 = c.v6;
    if (v6) {
      key[W_IPV6_SRC] = target.s0;
      key[W_IPV6_SRC + 1] = target.s1;
      key[W_IPV6_SRC + 2] = target.s2;
      key[W_IPV6_SRC + 3] = target.s3;
      key[W_IPV6_DST] = target.d0;
      key[W_IPV6_DST + 1] = target.d1;
      key[W_IPV6_DST + 2] = target.d2;
      key[W_IPV6_DST + 3] = target.d3;
    } else {
      key[W_NW_SRC] = target.s0;
      key[W_NW_DST] = target.d0;
    }
    if (hasPorts(c.proto)) {
      key[W_TP_SRC] = target.sp;
      key[W_TP_DST] = target.dp;
    } else if ((c.proto === IPPROTO_ICMP || c.proto === IPPROTO_ICMPV6) && !dryRun) {
      // The echo identifier has no key field: rewrite it in place, with the ICMP checksum.
      const l4 = layout.l4;
      const old = be16(frame, l4 + 4);
      if (old !== target.sp) {
        put16(frame, l4 + 4, target.sp);
        put16(frame, l4 + 2, checksumAdjust16(be16(frame, l4 + 2), old, target.sp));
      }
    }
    const srcMangled = (c.nat === NAT_SRC) === (dir === 0);
    return srcMangled ? CS_SRC_NAT : CS_DST_NAT;
  }

  /**
   * An ICMP error: related to the connection its quoted header belongs to. With NAT, the outer
   * addresses and the quoted header are translated like the packet they answer.
   */
  private related(
    key: FlowKey, frame: Uint8Array, layout: PacketLayout, p: CtParams, zone: number, proto: number, v6: boolean,
    now: number, dryRun: boolean,
  ): number {
    const q = layout.payload;
    const end = layout.end;
    if (q < 0) return this.invalid(key);
    // The quoted packet: IP header, then at least 8 bytes of its L4 header.
    let innerProto: number;
    let l4: number;
    const e = this.rt;
    if (!v6) {
      if (end - q < 20 || frame[q]! >> 4 !== 4) return this.invalid(key);
      const ihl = (frame[q]! & 15) << 2;
      if (ihl < 20 || end - q < ihl + 8) return this.invalid(key);
      innerProto = frame[q + 9]!;
      e.s0 = be32(frame, q + 12);
      e.d0 = be32(frame, q + 16);
      e.s1 = e.s2 = e.s3 = e.d1 = e.d2 = e.d3 = 0;
      l4 = q + ihl;
    } else {
      if (end - q < 48 || frame[q]! >> 4 !== 6) return this.invalid(key);
      innerProto = frame[q + 6]!;
      e.s0 = be32(frame, q + 8);
      e.s1 = be32(frame, q + 12);
      e.s2 = be32(frame, q + 16);
      e.s3 = be32(frame, q + 20);
      e.d0 = be32(frame, q + 24);
      e.d1 = be32(frame, q + 28);
      e.d2 = be32(frame, q + 32);
      e.d3 = be32(frame, q + 36);
      l4 = q + 40;
    }
    if (hasPorts(innerProto)) {
      e.sp = be16(frame, l4);
      e.dp = be16(frame, l4 + 2);
    } else if (innerProto === proto) {
      const t = frame[l4]!;
      if (icmpReverseType(t, proto) < 0) return this.invalid(key);
      e.sp = be16(frame, l4 + 4);
      e.dp = t;
    } else {
      e.sp = e.dp = 0;
    }
    // The quoted packet went the other way: its reverse is this error's direction.
    const rev = this.pt.reverseOf(e, innerProto);
    const node = this.lookup(zone, innerProto, rev, now, dryRun);
    if (node === undefined) return this.invalid(key);
    const c = node.conn;
    let state = CS_TRACKED | CS_RELATED;
    if (node.dir === 1) state |= CS_REPLY_DIR;
    if (p.commit && !dryRun) this.applyExec(c, p);
    key[W_CT_MARK] = c.mark;
    for (let i = 0; i < 4; i++) key[W_CT_LABEL + i] = c.label[i]!;
    this.writeOrig(key, c.orig, c.proto, c.v6);
    if (p.nat !== undefined && c.nat !== NAT_NONE) state |= this.natRelated(key, frame, layout, c, node.dir, rev, l4, v6, dryRun);
    key[W_CT_STATE] = state;
    return state;
  }

  private natRelated(
    key: FlowKey, frame: Uint8Array, layout: PacketLayout, c: Conn, dir: number, cur: Tuple, innerL4: number, v6: boolean,
    dryRun: boolean,
  ): number {
    const target = this.tmp.reverseOf(dir === 0 ? c.reply : c.orig, c.proto);
    // Outer header: translate the address that plays the connection's part.
    if (!v6) {
      if (key[W_NW_SRC] === cur.s0) key[W_NW_SRC] = target.s0;
      if (key[W_NW_DST] === cur.d0) key[W_NW_DST] = target.d0;
    } else {
      const sameSrc = key[W_IPV6_SRC] === cur.s0 && key[W_IPV6_SRC + 1] === cur.s1 && key[W_IPV6_SRC + 2] === cur.s2 && key[W_IPV6_SRC + 3] === cur.s3;
      const sameDst = key[W_IPV6_DST] === cur.d0 && key[W_IPV6_DST + 1] === cur.d1 && key[W_IPV6_DST + 2] === cur.d2 && key[W_IPV6_DST + 3] === cur.d3;
      if (sameSrc) {
        key[W_IPV6_SRC] = target.s0;
        key[W_IPV6_SRC + 1] = target.s1;
        key[W_IPV6_SRC + 2] = target.s2;
        key[W_IPV6_SRC + 3] = target.s3;
      }
      if (sameDst) {
        key[W_IPV6_DST] = target.d0;
        key[W_IPV6_DST + 1] = target.d1;
        key[W_IPV6_DST + 2] = target.d2;
        key[W_IPV6_DST + 3] = target.d3;
      }
    }
    if (!dryRun) {
      // Quoted header: it is the reverse of the outer flow, so it becomes the reverse of the target.
      const q = layout.payload;
      if (!v6) {
        put32(frame, q + 12, target.d0);
        put32(frame, q + 16, target.s0);
        frame[q + 10] = 0;
        frame[q + 11] = 0;
        put16(frame, q + 10, internetChecksum(frame, q, q + ((frame[q]! & 15) << 2)));
      } else {
        put32(frame, q + 8, target.d0);
        put32(frame, q + 12, target.d1);
        put32(frame, q + 16, target.d2);
        put32(frame, q + 20, target.d3);
        put32(frame, q + 24, target.s0);
        put32(frame, q + 28, target.s1);
        put32(frame, q + 32, target.s2);
        put32(frame, q + 36, target.s3);
      }
      if (hasPorts(c.proto)) {
        put16(frame, innerL4, target.dp);
        put16(frame, innerL4 + 2, target.sp);
      } else if (c.proto === IPPROTO_ICMP || c.proto === IPPROTO_ICMPV6) {
        put16(frame, innerL4 + 4, target.sp);
      }
      // The ICMP checksum covers the quote: recompute it over the message as it is in the frame
      // now (ICMPv6 with the frame's current pseudo-header; the outer address change that
      // commitKey writes later patches it incrementally).
      const l4 = layout.l4;
      frame[l4 + 2] = 0;
      frame[l4 + 3] = 0;
      const len = layout.end - l4;
      const init = v6 ? pseudoHeaderSum(frame, layout.l3 + 8, 32, IPPROTO_ICMPV6, len) : 0;
      put16(frame, l4 + 2, internetChecksum(frame, l4, layout.end, init));
    }
    const srcMangled = (c.nat === NAT_SRC) === (dir === 0);
    return srcMangled ? CS_SRC_NAT : CS_DST_NAT;
  }
}

// ---- dump format ----

function protoName(p: number): string {
  switch (p) {
    case IPPROTO_TCP: return 'tcp';
    case IPPROTO_UDP: return 'udp';
    case IPPROTO_ICMP: return 'icmp';
    case IPPROTO_ICMPV6: return 'icmpv6';
    case IPPROTO_SCTP: return 'sctp';
    case 136: return 'udplite';
    case 33: return 'dccp';
    case 2: return 'igmp';
  }
  return String(p);
}

function addr(v6: boolean, a0: number, a1: number, a2: number, a3: number): string {
  if (!v6) return formatIpv4(a0);
  return formatIpv6((BigInt(a0 >>> 0) << 96n) | (BigInt(a1 >>> 0) << 64n) | (BigInt(a2 >>> 0) << 32n) | BigInt(a3 >>> 0));
}

function formatTuple(c: Conn, t: Tuple): string {
  let s = `src=${addr(c.v6, t.s0, t.s1, t.s2, t.s3)},dst=${addr(c.v6, t.d0, t.d1, t.d2, t.d3)}`;
  if (hasPorts(c.proto)) s += `,sport=${t.sp},dport=${t.dp}`;
  else if (c.proto === IPPROTO_ICMP || c.proto === IPPROTO_ICMPV6) s += `,id=${t.sp},type=${t.dp},code=0`;
  return s;
}

/** One `dpctl/dump-conntrack` line. */
export function formatConn(c: Conn): string {
  let s = `${protoName(c.proto)},orig=(${formatTuple(c, c.orig)}),reply=(${formatTuple(c, c.reply)})`;
  if (c.zone) s += `,zone=${c.zone}`;
  if (c.mark) s += `,mark=${c.mark}`;
  if (c.label.some((w) => w !== 0)) {
    let v = 0n;
    for (const w of c.label) v = (v << 32n) | BigInt(w);
    s += `,labels=0x${v.toString(16)}`;
  }
  if (c.tcp !== undefined) s += `,protoinfo=(state=${tcpStateName(c.tcp)})`;
  return s;
}
