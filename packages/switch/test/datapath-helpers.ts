// Shared helpers for the datapath tests: a recording port sink, datapaths from ovs-ofctl flow
// text, and a few frames.
import { createDatapath, type DatapathOptions, type SwitchDatapath } from '../src/datapath/index.js';
import type { PacketIn, PortSink, TunnelMetadata } from '../src/datapath/types.js';
import { parseFlowMods, parseGroup } from '../src/flow/index.js';
import { buildTcp4, buildUdp4, decodePacket, type DecodedPacket } from '../src/packet/index.js';

export interface Sent {
  readonly port: number;
  readonly frame: Uint8Array;
  readonly tunnel: { tunId: bigint; metadata0: number | undefined } | undefined;
}

export class RecordingSink implements PortSink {
  readonly sent: Sent[] = [];
  readonly portSet: Set<number>;

  /** `ports`: the ports that exist; 'any' makes every port exist (listing none for FLOOD). */
  constructor(ports: Iterable<number> | 'any' = [1, 2, 3, 4, 5, 6, 7, 8]) {
    this.any = ports === 'any';
    this.portSet = new Set(ports === 'any' ? [] : ports);
  }

  private readonly any: boolean;

  transmit(ofport: number, frame: Uint8Array, tunnel: TunnelMetadata | undefined): void {
    this.sent.push({ port: ofport, frame, tunnel: tunnel ? { tunId: tunnel.tunId, metadata0: tunnel.metadata0 } : undefined });
  }

  has(ofport: number): boolean {
    return this.any || this.portSet.has(ofport);
  }

  ports(): Iterable<number> {
    return this.portSet;
  }

  take(): Sent[] {
    return this.sent.splice(0);
  }
}

export interface TestDp {
  readonly dp: SwitchDatapath;
  readonly sink: RecordingSink;
  readonly packetIns: PacketIn[];
}

/** A datapath with the flows (ovs-ofctl add-flows text) and groups installed. */
export function makeDp(flows: string, opts: Partial<DatapathOptions> & { groups?: readonly string[]; ports?: Iterable<number> | 'any' } = {}): TestDp {
  const sink = new RecordingSink(opts.ports);
  const dp = createDatapath({ ...opts, sink });
  for (const g of opts.groups ?? []) dp.groups.add(parseGroup(g));
  if (flows.trim()) dp.tables.bundle(parseFlowMods(flows));
  const packetIns: PacketIn[] = [];
  dp.onPacketIn((p) => packetIns.push(p));
  return { dp, sink, packetIns };
}

export function addFlows(dp: SwitchDatapath, text: string): void {
  dp.tables.bundle(parseFlowMods(text));
}

export const MAC_A = '00:00:00:00:00:0a';
export const MAC_B = '00:00:00:00:00:0b';

export function udp(src = '10.0.0.1', dst = '10.0.0.2', sport = 1000, dport = 2000, opts: { ttl?: number; vlanTci?: number; payload?: Uint8Array } = {}): Uint8Array {
  return buildUdp4(
    { src: MAC_A, dst: MAC_B, ...(opts.vlanTci !== undefined ? { vlanTci: opts.vlanTci } : {}) },
    { src, dst, ttl: opts.ttl ?? 64 },
    { srcPort: sport, dstPort: dport, payload: opts.payload ?? new Uint8Array(18) },
  );
}

export function tcp(src: string, dst: string, sport: number, dport: number, flags: number, seq = 0, ack = 0, payload?: Uint8Array): Uint8Array {
  return buildTcp4({ src: MAC_A, dst: MAC_B }, { src, dst }, { srcPort: sport, dstPort: dport, flags, seq, ack, ...(payload ? { payload } : {}) });
}

export function decode(f: Uint8Array): DecodedPacket {
  return decodePacket(f);
}

export function ports(sent: readonly Sent[]): number[] {
  return sent.map((s) => s.port);
}
