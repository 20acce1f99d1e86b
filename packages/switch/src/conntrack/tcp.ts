/**
 * TCP connection tracking: per-direction sequence-window tracking after Guido van Rooij's
 * algorithm as in FreeBSD pf (which OVS's userspace conntrack also uses), with the rules this
 * switch adds on top: a connection starts only with a SYN (no ACK, RST or FIN), and packets are
 * "established" (ct_state +est) once the responder has answered, as Linux conntrack reports them.
 *
 * Peers are indexed by direction: 0 = the originator, 1 = the responder. Sequence numbers are
 * 32-bit and compared modulo 2^32.
 */
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from '../packet/constants.js';

/** Per-peer states, in pf's order (comparisons such as `>= CLOSING` rely on it). */
export const TCPS_CLOSED = 0;
export const TCPS_SYN_SENT = 2;
export const TCPS_ESTABLISHED = 4;
export const TCPS_CLOSING = 7;
export const TCPS_FIN_WAIT_2 = 9;
export const TCPS_TIME_WAIT = 10;

const WSCALE_FLAG = 0x80;
const WSCALE_UNKNOWN = 0x40;
const WSCALE_MASK = 0x0f;
const MAX_WSCALE = 14;
const MAXACKWINDOW = 0xffff + 1500;

export class TcpPeer {
  /** Highest sequence number sent (end of the data). */
  seqLo = 0;
  /** Highest sequence number the other end acknowledged, plus its window. */
  seqHi = 0;
  /** Largest window advertised (before scaling). */
  maxWin = 0;
  wscale = 0;
  state = TCPS_CLOSED;

  copyFrom(p: TcpPeer): void {
    this.seqLo = p.seqLo;
    this.seqHi = p.seqHi;
    this.maxWin = p.maxWin;
    this.wscale = p.wscale;
    this.state = p.state;
  }
}

export class TcpState {
  readonly peer: [TcpPeer, TcpPeer] = [new TcpPeer(), new TcpPeer()];
  /** A reset was seen (Linux shows the connection as CLOSE). */
  rst = false;

  copyFrom(s: TcpState): void {
    this.peer[0].copyFrom(s.peer[0]);
    this.peer[1].copyFrom(s.peer[1]);
    this.rst = s.rst;
  }
}

/** The TCP header fields tracking needs; filled from the frame by `readSegment`. */
export class TcpSegment {
  flags = 0;
  seq = 0;
  ack = 0;
  win = 0;
  payloadLen = 0;
  /** Window-scale option as pf keeps it (WSCALE_FLAG | shift), 0 without one. */
  wscale = 0;
}

function be16(f: Uint8Array, o: number): number {
  return (f[o]! << 8) | f[o + 1]!;
}
function be32(f: Uint8Array, o: number): number {
  return ((f[o]! << 24) | (f[o + 1]! << 16) | (f[o + 2]! << 8) | f[o + 3]!) >>> 0;
}

/** Reads the TCP header at `l4` (flags from `flags`, which may come from a rewritten key). */
export function readSegment(f: Uint8Array, l4: number, payload: number, end: number, flags: number, out: TcpSegment): TcpSegment {
  out.flags = flags;
  out.seq = be32(f, l4 + 4);
  out.ack = be32(f, l4 + 8);
  out.win = be16(f, l4 + 14);
  out.payloadLen = Math.max(0, end - payload);
  out.wscale = 0;
  if (flags & TCP_SYN) {
    // Options: EOL, NOP, or kind/len/data; window scale is kind 3.
    let o = l4 + 20;
    while (o + 3 <= payload) {
      const kind = f[o]!;
      if (kind === 0) break;
      if (kind === 1) {
        o++;
        continue;
      }
      const len = Math.max(2, f[o + 1]!);
      if (kind === 3) out.wscale = Math.min(f[o + 2]!, MAX_WSCALE) | WSCALE_FLAG;
      o += len;
    }
  }
  return out;
}

const u32 = (x: number): number => x >>> 0;
/** a - b as a signed 32-bit difference. */
const sdiff = (a: number, b: number): number => (a - b) | 0;
const SEQ_GEQ = (a: number, b: number): boolean => sdiff(a, b) >= 0;
const SEQ_GT = (a: number, b: number): boolean => sdiff(a, b) > 0;

/** Flag combinations no TCP sends (pf's normalization rules). */
export function tcpInvalidFlags(flags: number): boolean {
  if (flags & TCP_SYN) {
    if (flags & (TCP_RST | TCP_FIN)) return true;
  } else if (!(flags & (TCP_ACK | TCP_RST))) {
    return true;
  }
  if (!(flags & TCP_ACK) && flags & (TCP_FIN | TCP_PSH | TCP_URG)) return true;
  return false;
}

/** May this segment open a connection? Only a plain SYN may (no ACK: SYN-ACKs answer). */
export function tcpValidNew(flags: number): boolean {
  return !tcpInvalidFlags(flags) && (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
}

/** Initializes tracking state from the opening SYN. */
export function tcpInit(st: TcpState, seg: TcpSegment): void {
  const src = st.peer[0];
  const dst = st.peer[1];
  st.rst = false;
  src.seqLo = seg.seq;
  src.seqHi = u32(seg.seq + seg.payloadLen + 1);
  src.wscale = seg.wscale;
  if (seg.flags & TCP_SYN) src.seqHi = u32(src.seqHi + 1);
  src.maxWin = Math.max(seg.win, 1);
  if (src.wscale & WSCALE_MASK) src.maxWin = Math.ceil(src.maxWin / (1 << (src.wscale & WSCALE_MASK)));
  if (seg.flags & TCP_FIN) src.seqHi = u32(src.seqHi + 1);
  src.state = TCPS_SYN_SENT;
  dst.seqLo = 0;
  dst.seqHi = 1;
  dst.maxWin = 1;
  dst.wscale = 0;
  dst.state = TCPS_CLOSED;
}

export type TcpVerdict = 'valid' | 'invalid' | 'reopen';

/**
 * Updates `st` with a segment sent in direction `reply` (false: originator → responder).
 * 'reopen' means a new SYN on a closed connection: the caller replaces the connection.
 */
export function tcpUpdate(st: TcpState, seg: TcpSegment, reply: boolean): TcpVerdict {
  const src = st.peer[reply ? 1 : 0];
  const dst = st.peer[reply ? 0 : 1];
  const flags = seg.flags;
  if (tcpInvalidFlags(flags)) return 'invalid';
  if ((flags & (TCP_SYN | TCP_ACK)) === TCP_SYN && dst.state >= TCPS_FIN_WAIT_2 && src.state >= TCPS_FIN_WAIT_2) return 'reopen';
  // Before the responder has answered, the originator may only repeat its SYN (or reset).
  if (!reply && dst.state < TCPS_SYN_SENT && !(flags & (TCP_SYN | TCP_RST))) return 'invalid';
  // The responder's first word must be a SYN-ACK or a reset.
  if (reply && src.state < TCPS_SYN_SENT && (flags & (TCP_SYN | TCP_ACK)) !== (TCP_SYN | TCP_ACK) && !(flags & TCP_RST)) return 'invalid';
  if (reply && (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) return 'invalid';

  let sws = 0;
  let dws = 0;
  let win = seg.win;
  if (src.wscale & WSCALE_FLAG && dst.wscale & WSCALE_FLAG && !(flags & TCP_SYN)) {
    sws = src.wscale & WSCALE_MASK;
    dws = dst.wscale & WSCALE_MASK;
  } else if (src.wscale & WSCALE_UNKNOWN && dst.wscale & WSCALE_UNKNOWN && !(flags & TCP_SYN)) {
    sws = MAX_WSCALE;
    dws = MAX_WSCALE;
  }

  let seq = seg.seq;
  const origSeq = seq;
  let end: number;
  let ack = seg.ack;
  let checkAckSkew = true;
  if (src.state < TCPS_SYN_SENT) {
    // First packet from this end.
    end = u32(seq + seg.payloadLen);
    if (flags & TCP_SYN) {
      end = u32(end + 1);
      if (dst.wscale & WSCALE_FLAG) {
        src.wscale = seg.wscale;
        if (src.wscale & WSCALE_FLAG) {
          sws = src.wscale & WSCALE_MASK;
          win = Math.ceil(win / (1 << sws));
          dws = dst.wscale & WSCALE_MASK;
        } else {
          dst.maxWin = dst.maxWin * (1 << (dst.wscale & WSCALE_MASK));
          dst.wscale = 0;
        }
      }
    }
    if (flags & TCP_FIN) end = u32(end + 1);
    src.seqLo = seq;
    src.state = TCPS_SYN_SENT;
    const reach = u32(end + Math.max(1, dst.maxWin * 2 ** dws));
    if (src.seqHi === 1 || SEQ_GEQ(reach, src.seqHi)) {
      src.seqHi = reach;
      checkAckSkew = false;
    }
    if (win > src.maxWin) src.maxWin = win;
  } else {
    end = u32(seq + seg.payloadLen);
    if (flags & TCP_SYN) end = u32(end + 1);
    if (flags & TCP_FIN) end = u32(end + 1);
  }

  if (!(flags & TCP_ACK)) ack = dst.seqLo;
  else if (ack === 0 && (flags & (TCP_ACK | TCP_RST)) === (TCP_ACK | TCP_RST)) ack = dst.seqLo;

  if (seq === end) {
    // Ease sequencing restrictions on packets without data.
    seq = src.seqLo;
    end = seq;
  }

  const ackskew = checkAckSkew ? sdiff(dst.seqLo, ack) : 0;
  const dstWin = dst.maxWin * 2 ** dws;
  if (
    SEQ_GEQ(src.seqHi, end) &&
    SEQ_GEQ(seq, u32(src.seqLo - dstWin)) &&
    ackskew >= -MAXACKWINDOW &&
    ackskew <= MAXACKWINDOW * 2 ** sws &&
    (!(flags & TCP_RST) || origSeq === src.seqLo || origSeq === u32(src.seqLo + 1) || u32(origSeq + 1) === src.seqLo)
  ) {
    if (src.maxWin < win) src.maxWin = win;
    if (SEQ_GT(end, src.seqLo)) src.seqLo = end;
    const scaled = win * 2 ** sws;
    if (SEQ_GEQ(u32(ack + scaled), dst.seqHi)) dst.seqHi = u32(ack + Math.max(scaled, 1));
    if (flags & TCP_SYN && src.state < TCPS_SYN_SENT) src.state = TCPS_SYN_SENT;
    if (flags & TCP_FIN && src.state < TCPS_CLOSING) src.state = TCPS_CLOSING;
    if (flags & TCP_ACK) {
      if (dst.state === TCPS_SYN_SENT) dst.state = TCPS_ESTABLISHED;
      else if (dst.state === TCPS_CLOSING) dst.state = TCPS_FIN_WAIT_2;
    }
    if (flags & TCP_RST) {
      src.state = dst.state = TCPS_TIME_WAIT;
      st.rst = true;
    }
    return 'valid';
  }
  if (
    (dst.state < TCPS_SYN_SENT || dst.state >= TCPS_FIN_WAIT_2 || src.state >= TCPS_FIN_WAIT_2) &&
    SEQ_GEQ(u32(src.seqHi + MAXACKWINDOW), end) &&
    SEQ_GEQ(seq, u32(src.seqLo - MAXACKWINDOW))
  ) {
    // Repeated SYNs before an answer, and stragglers right after a close: loosely accepted.
    if (src.maxWin < win) src.maxWin = win;
    if (SEQ_GT(end, src.seqLo)) src.seqLo = end;
    const scaled = win * 2 ** sws;
    if (SEQ_GEQ(u32(ack + scaled), dst.seqHi)) dst.seqHi = u32(ack + Math.max(scaled, 1));
    if (flags & TCP_FIN && src.state < TCPS_CLOSING) src.state = TCPS_CLOSING;
    if (flags & TCP_RST) {
      src.state = dst.state = TCPS_TIME_WAIT;
      st.rst = true;
    }
    return 'valid';
  }
  return 'invalid';
}

/** The connection's state as Linux conntrack names it (ovs-dpctl dump-conntrack's protoinfo). */
export function tcpStateName(st: TcpState): string {
  const a = st.peer[0].state;
  const b = st.peer[1].state;
  if (st.rst) return 'CLOSE';
  if (b < TCPS_SYN_SENT) return 'SYN_SENT';
  if (a < TCPS_ESTABLISHED || b < TCPS_ESTABLISHED) return 'SYN_RECV';
  if (a < TCPS_CLOSING && b < TCPS_CLOSING) return 'ESTABLISHED';
  if (a >= TCPS_FIN_WAIT_2 && b >= TCPS_FIN_WAIT_2) return 'TIME_WAIT';
  if (a >= TCPS_CLOSING && b >= TCPS_CLOSING) return 'LAST_ACK';
  // One side closed: FIN_WAIT until the other acknowledges it, then CLOSE_WAIT.
  const closer = a >= TCPS_CLOSING ? a : b;
  return closer >= TCPS_FIN_WAIT_2 ? 'CLOSE_WAIT' : 'FIN_WAIT';
}

/** Which timeout applies: 'established', 'opening', 'closing' or 'closed'. */
export function tcpTimeoutClass(st: TcpState): 'established' | 'opening' | 'closing' | 'closed' {
  const a = st.peer[0].state;
  const b = st.peer[1].state;
  if (a >= TCPS_FIN_WAIT_2 && b >= TCPS_FIN_WAIT_2) return 'closed';
  if (a >= TCPS_CLOSING || b >= TCPS_CLOSING) return 'closing';
  if (a < TCPS_ESTABLISHED || b < TCPS_ESTABLISHED) return 'opening';
  return 'established';
}

/** Fully established: the three-way handshake completed in both directions. */
export function tcpEstablished(st: TcpState): boolean {
  return st.peer[0].state >= TCPS_ESTABLISHED && st.peer[1].state >= TCPS_ESTABLISHED;
}
