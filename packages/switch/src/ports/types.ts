/**
 * The port model of the switch: what a port is to the outside (number, name, type, state,
 * counters) and what each kind of port needs in order to be created (PortSpec). Specs are plain
 * data so that they travel over the control socket unchanged; the one in-process attachment
 * (an internal port's delivery callback) is passed beside the spec, never inside it.
 */
import type { TunnelMetadata } from '../datapath/types.js';

export type PortType = 'internal' | 'dgram' | 'tunnel' | 'patch' | 'local';

/** Counters as OpenFlow port stats carry them. */
export interface PortStats {
  rxPackets: number;
  rxBytes: number;
  rxDropped: number;
  rxErrors: number;
  txPackets: number;
  txBytes: number;
  txDropped: number;
  txErrors: number;
}

export function newPortStats(): PortStats {
  return { rxPackets: 0, rxBytes: 0, rxDropped: 0, rxErrors: 0, txPackets: 0, txBytes: 0, txDropped: 0, txErrors: 0 };
}

interface SpecBase {
  readonly name: string;
  /** The OpenFlow port number to use (ovs-vsctl's ofport_request); default: the first free from 1. */
  readonly ofport?: number;
  /** The port's MAC (shown by dump-ports-desc); default: a random locally administered one. */
  readonly mac?: string;
  /** Administratively down (OFPPC_PORT_DOWN) from the start. */
  readonly down?: boolean;
}

/** A VIF in the same process (a simulated VM): frames out of the switch go to a callback. */
export interface InternalPortSpec extends SpecBase {
  readonly type: 'internal';
}

/**
 * A VIF over a UDP datagram socket, one Ethernet frame per datagram and no header: what QEMU's
 * `-netdev dgram` and `socat TUN,tun-type=tap UDP:…` speak.
 */
export interface DgramPortSpec extends SpecBase {
  readonly type: 'dgram';
  /** Where to bind: `IP:PORT` (port 0 picks one; see PortInfo.options.local for the result). */
  readonly local: string;
  /** The peer's `IP:PORT`; without it the port answers whoever sent the last frame. */
  readonly remote?: string;
}

/** A Geneve tunnel to one remote chassis, over the switch's shared tunnel socket. */
export interface TunnelPortSpec extends SpecBase {
  readonly type: 'tunnel';
  /** The remote tunnel endpoint's IPv4 address, or `flow` to take it from tun_dst (any remote). */
  readonly remoteIp: string;
  /** The remote UDP port; default the switch's own tunnel port (6081 unless configured). */
  readonly remotePort?: number;
}

/** One end of a pair of ports inside the switch: what goes out of one comes in on the other. */
export interface PatchPortSpec extends SpecBase {
  readonly type: 'patch';
  readonly peer: string;
}

export type PortSpec = InternalPortSpec | DgramPortSpec | TunnelPortSpec | PatchPortSpec;

/** A port as dump-ports and dump-ports-desc show it. */
export interface PortInfo {
  readonly ofport: number;
  readonly name: string;
  readonly type: PortType;
  readonly mac: string;
  /** Administrative state (OFPPC_PORT_DOWN when false). */
  readonly adminUp: boolean;
  /** Link state (OFPPS_LINK_DOWN when false): the socket is open, the peer exists. */
  readonly linkUp: boolean;
  /** When the port was added (ms since the epoch), for the duration of OF1.3+ port stats. */
  readonly created: number;
  /** Type-specific settings as text (local, remote, remote_ip, peer …). */
  readonly options: Readonly<Record<string, string>>;
  readonly stats: Readonly<PortStats>;
}

/** What a port driver may do with the port table it belongs to. */
export interface PortContext {
  /** A frame arrived on this port (from outside the switch). */
  receive(frame: Uint8Array, tunnel?: TunnelMetadata): void;
  /** Something could not be received (malformed datagram, socket error). */
  rxError(): void;
  rxDrop(): void;
  /** A send failed after transmit() returned (asynchronous socket errors). */
  txError(): void;
}

/** One kind of port: how frames leave the switch through it. */
export interface PortDriver {
  readonly type: PortType;
  /**
   * Sends a frame out. The frame may be reused by the caller once this returns, so a driver that
   * sends asynchronously copies it. Returns false when the frame could not be sent (counted as a
   * tx drop).
   */
  transmit(frame: Uint8Array, tunnel: TunnelMetadata | undefined): boolean;
  linkUp(): boolean;
  options(): Record<string, string>;
  close(): Promise<void>;
}
