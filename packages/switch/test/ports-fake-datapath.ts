// A small Datapath for the port and control tests (the real one lives in src/datapath): table
// lookups over real FlowTables, and the few actions these tests need (output, in_port output,
// set_field, resubmit to a table, controller). It records what it was asked to do.
import type { Continuation, Datapath, DatapathStats, PacketIn, PortSink, TraceStep, TunnelMetadata } from '../src/datapath/types.js';
import { field, newKey, type FlowKey } from '../src/fields.js';
import type { Action } from '../src/flow/actions.js';
import { OFPP } from '../src/flow/actions.js';
import { ofField } from '../src/flow/catalog.js';
import { GroupTable } from '../src/flow/group.js';
import { writeBits } from '../src/flow/match.js';
import { printMatchActions } from '../src/flow/syntax.js';
import { FlowTables } from '../src/flow/table.js';
import { extractKey } from '../src/packet/extract.js';

const W_TUN_ID = field('tun_id').word;
const W_TUN_SRC = field('tun_src').word;
const W_TUN_DST = field('tun_dst').word;
const W_MD0 = field('tun_metadata0').word;

export class FakeDatapath implements Datapath {
  readonly tables = new FlowTables();
  readonly groups = new GroupTable();
  readonly received: { inPort: number; frame: Uint8Array; tunnel: TunnelMetadata | undefined }[] = [];
  readonly resumed: Continuation[] = [];
  invalidations = 0;
  private handlers: ((p: PacketIn) => void)[] = [];
  private misses = 0;
  private hits = 0;

  constructor(readonly sink: PortSink) {}

  receive(inPort: number, frame: Uint8Array, tunnel?: TunnelMetadata): void {
    this.received.push({ inPort, frame: frame.slice(), tunnel });
    const key = this.keyOf(inPort, frame, tunnel);
    this.run(key, frame, 0, 0);
  }

  private keyOf(inPort: number, frame: Uint8Array, tunnel: TunnelMetadata | undefined): FlowKey {
    const key = newKey();
    extractKey(frame, key, inPort);
    if (tunnel) {
      key[W_TUN_ID] = Number(tunnel.tunId >> 32n);
      key[W_TUN_ID + 1] = Number(tunnel.tunId & 0xffffffffn);
      key[W_TUN_SRC] = tunnel.src ?? 0;
      key[W_TUN_DST] = tunnel.dst ?? 0;
      key[W_MD0] = tunnel.metadata0 ?? 0;
    }
    return key;
  }

  private run(key: FlowKey, frame: Uint8Array, table: number, depth: number): void {
    if (depth > 8) return;
    const e = this.tables.lookup(table, key);
    if (!e) {
      this.misses++;
      return;
    }
    this.hits++;
    this.tables.credit(e, 1, frame.length);
    this.execute(e.actions, key, frame, depth, table, e.cookie);
  }

  private execute(actions: readonly Action[], key: FlowKey, frame: Uint8Array, depth: number, table: number, cookie: bigint): void {
    for (const a of actions) {
      switch (a.type) {
        case 'output': {
          const port = a.port === OFPP.IN_PORT ? key[0]! : a.port;
          const tunId = (BigInt(key[W_TUN_ID]!) << 32n) | BigInt(key[W_TUN_ID + 1]!);
          const tunnel: TunnelMetadata | undefined =
            tunId || key[W_MD0] || key[W_TUN_DST] ? { tunId, metadata0: key[W_MD0] || undefined, dst: key[W_TUN_DST]! } : undefined;
          this.sink.transmit(port, frame, tunnel);
          break;
        }
        case 'set_field':
          writeBits(key, ofField(a.field), a.value, a.mask);
          break;
        case 'resubmit':
          this.run(key, frame, a.table ?? table, depth + 1);
          break;
        case 'controller': {
          const p: PacketIn = {
            reason: 'action', table, cookie, userdata: a.userdata, frame: frame.slice(), key: key.slice(),
            continuation: a.pause ? { id: 7 } : undefined,
          };
          for (const h of this.handlers) h(p);
          break;
        }
        default:
          break;
      }
    }
  }

  packetOut(frame: Uint8Array, actions: readonly Action[], opts: { inPort?: number; key?: FlowKey } = {}): void {
    const key = opts.key ? opts.key.slice() : this.keyOf(opts.inPort ?? OFPP.NONE, frame, undefined);
    this.execute(actions, key, frame, 0, 0, 0n);
  }

  resume(cont: Continuation): void {
    this.resumed.push(cont);
  }

  onPacketIn(handler: (p: PacketIn) => void): void {
    this.handlers.push(handler);
  }

  invalidate(): void {
    this.invalidations++;
  }

  stats(): DatapathStats {
    return { cacheHits: 0, cacheMisses: this.hits + this.misses, cacheEntries: 0, packetsIn: this.received.length, dropped: this.misses };
  }

  trace(inPort: number, frame: Uint8Array, tunnel?: TunnelMetadata): TraceStep[] {
    const key = this.keyOf(inPort, frame, tunnel);
    const e = this.tables.lookup(0, key);
    return [{ depth: 0, table: 0, flow: e ? printMatchActions(e) : undefined, notes: e ? [] : ['drop'] }];
  }
}

/** A factory for Switch: `new Switch({ name, datapath: fakeDatapath })`. */
export const fakeDatapath = (sink: PortSink): FakeDatapath => new FakeDatapath(sink);

/** Resolves when `cond()` holds (polling), or rejects after `ms`. */
export async function until(cond: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
