/** Connection tracking for the switch's `ct` action (see conntrack.ts and docs/switch.md). */
export {
  Conntrack, Conn, Tuple, formatConn, clearCtFields, DEFAULT_TIMEOUTS, CT_FIRST_WORD, CT_LAST_WORD,
  CS_NEW, CS_ESTABLISHED, CS_RELATED, CS_REPLY_DIR, CS_INVALID, CS_TRACKED, CS_SRC_NAT, CS_DST_NAT,
} from './conntrack.js';
export type { ConntrackOptions, ConntrackTimeouts, ConntrackStats, CtParams } from './conntrack.js';
export { TcpState, TcpPeer, TcpSegment, tcpStateName, tcpInvalidFlags, tcpValidNew } from './tcp.js';
