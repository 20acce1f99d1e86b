/**
 * Why a VM operation failed, in the terms `ping`, `nc` and `curl` use, so lab output and tests
 * can say "port unreachable from 10.0.0.1" instead of "timeout".
 */
export type NetErrorCode =
  | 'timeout'
  | 'refused'
  | 'reset'
  | 'host-unreachable'
  | 'net-unreachable'
  | 'port-unreachable'
  | 'protocol-unreachable'
  | 'admin-prohibited'
  | 'unreachable'
  | 'ttl-exceeded'
  | 'packet-too-big'
  | 'parameter-problem'
  | 'no-address'
  | 'message-too-long'
  | 'no-buffer'
  | 'address-in-use'
  | 'closed';

/** An ICMP or ICMPv6 error the VM received, with the header fields of the packet it quotes. */
export interface IcmpErrorReport {
  /** The router or host that sent the error. */
  readonly from: string;
  readonly v6: boolean;
  readonly type: number;
  readonly code: number;
  /** What the type/code mean, as a NetErrorCode. */
  readonly reason: NetErrorCode;
  /** ICMP header bytes 4..7: the next-hop MTU for "fragmentation needed" / "packet too big". */
  readonly rest: number;
  /** From the quoted packet. */
  readonly original: {
    readonly proto: number;
    readonly src: string;
    readonly dst: string;
    readonly ttl: number;
    readonly srcPort?: number;
    readonly dstPort?: number;
    readonly echoId?: number;
    readonly echoSeq?: number;
  };
}

export class NetError extends Error {
  readonly code: NetErrorCode;
  /** The ICMP error behind this failure, when one was received. */
  readonly icmp?: IcmpErrorReport;

  constructor(code: NetErrorCode, message: string, icmp?: IcmpErrorReport) {
    super(message);
    this.name = 'NetError';
    this.code = code;
    if (icmp) this.icmp = icmp;
  }
}

/** ICMPv4 type/code → reason (RFC 792, RFC 1812 section 5.2.7.1 for the administrative codes). */
export function icmp4Reason(type: number, code: number): NetErrorCode {
  if (type === 11) return 'ttl-exceeded';
  if (type === 12) return 'parameter-problem';
  if (type !== 3) return 'unreachable';
  switch (code) {
    case 0: case 6: return 'net-unreachable';
    case 1: case 7: return 'host-unreachable';
    case 2: return 'protocol-unreachable';
    case 3: return 'port-unreachable';
    case 4: return 'packet-too-big';
    case 9: case 10: case 13: return 'admin-prohibited';
    default: return 'unreachable';
  }
}

/** ICMPv6 type/code → reason (RFC 4443 section 3). */
export function icmp6Reason(type: number, code: number): NetErrorCode {
  switch (type) {
    case 1:
      switch (code) {
        case 0: return 'net-unreachable';
        case 1: case 5: case 6: return 'admin-prohibited';
        case 3: return 'host-unreachable';
        case 4: return 'port-unreachable';
        default: return 'unreachable';
      }
    case 2: return 'packet-too-big';
    case 3: return 'ttl-exceeded';
    case 4: return 'parameter-problem';
    default: return 'unreachable';
  }
}

export function describeIcmpError(e: IcmpErrorReport): string {
  return `${e.reason} from ${e.from} (ICMP${e.v6 ? 'v6' : ''} type ${e.type} code ${e.code})`;
}
