/**
 * The contract between the packet-processing core (Datapath: tables, actions, conntrack, flow
 * cache) and what surrounds it (ports, the control socket, the controller). The core knows ports
 * only as numbers and a way to send frames; everything else talks to it through this interface.
 */
import type { FlowKey } from '../fields.js';
import type { Action } from '../flow/actions.js';
import type { GroupTable } from '../flow/group.js';
import type { FlowTables } from '../flow/table.js';
import type { Conntrack } from '../conntrack/conntrack.js';

/** Where the datapath sends frames: the port layer implements it. */
export interface PortSink {
  /** Sends `frame` out of OpenFlow port `ofport`; tunnel ports get the tunnel metadata too. */
  transmit(ofport: number, frame: Uint8Array, tunnel: TunnelMetadata | undefined): void;
  /** Whether `ofport` exists (output to a missing port is dropped and counted). */
  has(ofport: number): boolean;
  /**
   * Every port, for output to FLOOD / ALL (optional: without it those outputs are dropped).
   * Added by the datapath implementation.
   */
  ports?(): Iterable<number>;
}

/** Tunnel fields of a packet received from or sent to a tunnel port. */
export interface TunnelMetadata {
  /** VNI (24 bits), from/to the key's tun_id. */
  readonly tunId: bigint;
  /** OVN's Geneve option (class 0x0102 type 0x80) value, tun_metadata0. */
  readonly metadata0: number | undefined;
  /** Outer IPv4 source/destination (tun_src/tun_dst), for received packets. */
  readonly src?: number;
  readonly dst?: number;
}

/** Where a paused pipeline continues (controller(pause) actions): what the controller sends back to resume. */
export interface Continuation {
  /** Opaque to the controller; the datapath restores its state from it. */
  readonly id: number;
}

/** A packet sent to the controller by a `controller` action (or a TTL expiry). */
export interface PacketIn {
  readonly reason: 'action' | 'no_match' | 'invalid_ttl';
  readonly table: number;
  readonly cookie: bigint;
  /** Hex digits of the controller action's userdata. */
  readonly userdata: string | undefined;
  /** The packet as it is at that point (all modifications so far applied). */
  readonly frame: Uint8Array;
  /** The full flow key at that point: metadata, registers, ct fields, in_port. */
  readonly key: FlowKey;
  /** Present for `pause` actions: pass to resume() to continue after the controller action. */
  readonly continuation: Continuation | undefined;
}

export interface DatapathStats {
  /** Packets handled from the megaflow cache, and those that needed a full table walk. */
  readonly cacheHits: number;
  readonly cacheMisses: number;
  readonly cacheEntries: number;
  readonly packetsIn: number;
  readonly dropped: number;
  // Optional fields added with the implementation (createDatapath fills them all).
  /** Frames received (receive calls) and frames handed to the sink. */
  readonly received?: number;
  readonly sent?: number;
  /** Conntrack recirculations run, and those refused by the per-packet bound. */
  readonly recirculations?: number;
  readonly recirculationDrops?: number;
  /** Outputs to ports the sink does not have. */
  readonly portDrops?: number;
  /** Translations that failed (resubmit depth or count exceeded); the packet is dropped. */
  readonly translationErrors?: number;
  /** Cache entries found stale (their flows or groups changed) and evicted for space. */
  readonly cacheStale?: number;
  readonly cacheEvictions?: number;
  readonly cacheSubtables?: number;
}

/** One step of a trace (ofproto/trace): which flow matched where, what it did. */
export interface TraceStep {
  readonly depth: number;
  readonly table: number;
  /** The matched flow as ovs-ofctl prints it (match and actions), or undefined for a miss. */
  readonly flow: string | undefined;
  readonly notes: readonly string[];
}

/** A whole trace: the steps, and ofproto/trace-like text (flow, tables, final flow, megaflow, datapath actions, per recirculation). */
export interface TraceResult {
  readonly steps: readonly TraceStep[];
  /** Datapath actions and megaflow of the first pass. */
  readonly datapathActions: string;
  readonly megaflow: string;
  readonly text: string;
}

export interface Datapath {
  readonly tables: FlowTables;
  readonly groups: GroupTable;
  /** A frame arrived on `inPort` (with tunnel metadata when it came from a tunnel port). */
  receive(inPort: number, frame: Uint8Array, tunnel?: TunnelMetadata): void;
  /** Runs `actions` on a frame as if it arrived on `inPort` with the given key fields (packet-out). */
  packetOut(frame: Uint8Array, actions: readonly Action[], opts?: { inPort?: number; key?: FlowKey }): void;
  /**
   * Continues a paused pipeline, optionally with a modified frame and key: header fields come
   * from the frame (default: the paused one), pipeline fields (in_port, metadata, registers,
   * tunnel, ct_*) from the key (default: the paused one).
   */
  resume(cont: Continuation, frame?: Uint8Array, key?: FlowKey): void;
  onPacketIn(handler: (p: PacketIn) => void): void;
  /** Tells the cache the tables changed (flow-mods, group-mods, port changes). */
  invalidate(): void;
  stats(): DatapathStats;
  /** Traces a frame through the tables without sending or committing anything. */
  trace(inPort: number, frame: Uint8Array, tunnel?: TunnelMetadata): TraceStep[];
  // Optional members added with the implementation (createDatapath provides them all):
  /** Like trace, with the text ovs-appctl ofproto/trace would print (conntrack is consulted, not changed). */
  traceDetailed?(inPort: number, frame: Uint8Array, tunnel?: TunnelMetadata): TraceResult;
  /** The connection tracker (dump(), flush(zone), sweep()). */
  readonly conntrack?: Conntrack;
}
