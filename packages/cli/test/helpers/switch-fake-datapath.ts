// A stand-in Datapath for the ofctl and `ovnts switch` tests (until the real one is in every
// tree): real flow tables and groups, table-0 lookups, output actions, a trace of one step and a
// fixed connection table. `ovnts switch --datapath-module` loads it by its createDatapath export.
import type { Datapath, DatapathStats, PacketIn, PortSink, TraceStep, TunnelMetadata } from '@ovnts/switch/dist/src/datapath/types.js';
import { newKey } from '@ovnts/switch';
import { FlowTables, GroupTable, OFPP, printMatchActions, type Action } from '@ovnts/switch/dist/src/flow/index.js';
import { extractKey } from '@ovnts/switch/dist/src/packet/index.js';
import type { ConntrackRecord } from '@ovnts/switch/dist/src/switch.js';

export class FakeDatapath implements Datapath {
  readonly tables = new FlowTables();
  readonly groups = new GroupTable();
  private readonly handlers: ((p: PacketIn) => void)[] = [];
  received = 0;

  constructor(private readonly sink: PortSink) {}

  receive(inPort: number, frame: Uint8Array): void {
    this.received++;
    const key = newKey();
    extractKey(frame, key, inPort);
    const e = this.tables.lookup(0, key);
    if (!e) return;
    this.tables.credit(e, 1, frame.length);
    this.run(e.actions, frame, inPort);
  }

  private run(actions: readonly Action[], frame: Uint8Array, inPort: number): void {
    for (const a of actions) if (a.type === 'output') this.sink.transmit(a.port === OFPP.IN_PORT ? inPort : a.port, frame, undefined);
  }

  packetOut(frame: Uint8Array, actions: readonly Action[], opts: { inPort?: number } = {}): void {
    this.run(actions, frame, opts.inPort ?? OFPP.NONE);
  }

  resume(): void {}

  onPacketIn(h: (p: PacketIn) => void): void {
    this.handlers.push(h);
  }

  invalidate(): void {}

  stats(): DatapathStats {
    return { cacheHits: 0, cacheMisses: 0, cacheEntries: 0, packetsIn: this.received, dropped: 0 };
  }

  trace(inPort: number, frame: Uint8Array, _tunnel?: TunnelMetadata): TraceStep[] {
    const key = newKey();
    extractKey(frame, key, inPort);
    const e = this.tables.lookup(0, key);
    if (!e) return [{ depth: 0, table: 0, flow: undefined, notes: ['drop'] }];
    return [{ depth: 0, table: 0, flow: printMatchActions(e), notes: [] }];
  }

  tableStats(): { lookup: number; matched: number }[] {
    return Array.from({ length: this.tables.nTables }, (_, t) => (t === 0 ? { lookup: this.received, matched: [...this.tables.classifier(0)].reduce((n, e) => n + e.nPackets, 0) } : { lookup: 0, matched: 0 }));
  }

  dumpConntrack(zone?: number): ConntrackRecord[] {
    const all: ConntrackRecord[] = [
      { proto: 'udp', orig: { src: '10.0.0.1', dst: '10.0.0.2', sport: 1234, dport: 53 }, reply: { src: '10.0.0.2', dst: '10.0.0.1', sport: 53, dport: 1234 }, zone: 5, mark: 3 },
      { proto: 'tcp', orig: { src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 80 }, reply: { src: '10.0.0.2', dst: '10.0.0.1', sport: 80, dport: 40000 }, zone: 7, labels: 0x1234n, state: 'SYN_SENT' },
    ];
    return zone === undefined ? all : all.filter((r) => r.zone === zone);
  }
}

export function createDatapath(sink: PortSink): FakeDatapath {
  return new FakeDatapath(sink);
}
