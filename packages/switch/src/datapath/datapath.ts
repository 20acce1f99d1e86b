/**
 * The switch's packet-processing core: parse → megaflow cache → (on a miss) translation through
 * the flow tables → datapath actions → ports. See docs/switch.md, "Packet path".
 *
 * Per received frame: extractKey fills a preallocated key; the cache is probed with it (pass 0);
 * a hit runs the cached datapath actions, a miss translates (xlate.ts), caches the result when it
 * may be cached, and runs it. Actions modify the key; the frame is rewritten from the key
 * (commitKey, checksums fixed) only when it leaves: output, controller, conntrack. Conntrack
 * recirculations are queued and run after the pass that caused them, each as its own cached pass
 * keyed with its recirculation id and the new ct_* fields.
 *
 * Frames: receive() takes ownership of the frame it is given (it may rewrite it in place), and
 * every frame handed to PortSink.transmit or to a packet-in handler is the receiver's to keep
 * (the last consumer gets the frame itself, earlier ones copies). The TunnelMetadata passed to
 * transmit is reused: read it during the call.
 *
 * Re-entrancy: calls made while a packet is being processed (a sink that delivers synchronously
 * to a VM that answers, a packet-in handler that sends a packet-out …) are queued and run when
 * the current one finishes; packet-in handlers run after the packet has been fully processed.
 */
import { newKey, type FlowKey } from '../fields.js';
import type { Action } from '../flow/actions.js';
import { OFPP } from '../flow/actions.js';
import type { FlowEntry, FlowMod } from '../flow/table.js';
import { hex } from '../flow/format.js';
import { Conntrack, clearCtFields, type ConntrackOptions } from '../conntrack/conntrack.js';
import { commitKey } from '../packet/commit.js';
import { extractKey, PacketLayout, W_IN_PORT } from '../packet/extract.js';
import { field } from '../fields.js';
import { MegaflowCache } from './cache.js';
import {
  OP_CONTROLLER, OP_CT, OP_FLOOD, OP_LOADKEY, OP_OUTPUT, OP_RESTORE, OP_SAVE, OP_SET, PACKET_WORDS_START,
  type ControllerOp, type FloodOp, type Frame, type Op, type StackEntry,
} from './program.js';
import { ChangeTracker, TrackedFlowTables, TrackedGroupTable } from './tables.js';
import { formatCtState, formatKey, formatMegaflow, formatOps, TraceBuilder } from './trace.js';
import type {
  Continuation, Datapath, DatapathStats, PacketIn, PortSink, TraceResult, TraceStep, TunnelMetadata,
} from './types.js';
import { RecircRegistry, Xlate, type XlateDeps } from './xlate.js';

export interface DatapathOptions {
  readonly sink: PortSink;
  /** Number of flow tables (default 255). */
  readonly nTables?: number;
  /** Extra checks on flow mods (see FlowTablesOptions.validate). */
  readonly validate?: (mod: FlowMod) => void;
  /**
   * Clock in milliseconds (flow counters and timeouts, conntrack), read once per received
   * packet; default: a coarse (5 ms) clock that does not allocate (see coarseClock).
   */
  readonly now?: () => number;
  /** A tracker to use, or options for the one created. */
  readonly conntrack?: Conntrack | ConntrackOptions;
  /** Use the megaflow cache (default true; false translates every packet). */
  readonly cache?: boolean;
  /** Most megaflows kept (default 65536). */
  readonly cacheCapacity?: number;
  /** A miss in the first table or after goto_table: drop (default) or packet-in (no_match). */
  readonly tableMiss?: 'drop' | 'controller';
  /** Most recirculations per received packet (default 32); more are dropped. */
  readonly maxRecirculations?: number;
  /** Most paused pipelines kept waiting for resume() (default 4096; the oldest go first). */
  readonly maxContinuations?: number;
}

/** One packet (or recirculated copy) in flight: its key, the key its frame bytes hold, the frame. */
class PacketState {
  readonly key = newKey();
  /** What the frame's bytes currently say (commitKey writes the difference to `key`). */
  readonly fkey = newKey();
  readonly layout = new PacketLayout();
  frame: Uint8Array = EMPTY;
  recirc = 0;
  /** The key's packet fields may differ from the frame's (commit before the frame leaves). */
  dirty = false;
}

const EMPTY = new Uint8Array(0);

/**
 * The default per-packet clock: Date.now() allocates a heap number on every call (its value is
 * beyond small integers), which the fast path must not do; a module-wide millisecond clock
 * refreshed every few milliseconds by an unref'd timer serves all datapaths instead (it lags
 * while a long synchronous burst keeps the event loop busy, which counters and timeouts in
 * seconds do not mind).
 */
let coarseNow = Date.now();
let coarseTimer: ReturnType<typeof setInterval> | undefined;
function coarseClock(): () => number {
  if (coarseTimer === undefined) {
    coarseTimer = setInterval(() => {
      coarseNow = Date.now();
    }, 5);
    coarseTimer.unref();
  }
  coarseNow = Date.now();
  return () => coarseNow;
}

function copyLayout(dst: PacketLayout, src: PacketLayout): void {
  dst.vlan = src.vlan;
  dst.ethType = src.ethType;
  dst.l3 = src.l3;
  dst.l3Type = src.l3Type;
  dst.l4 = src.l4;
  dst.l4Proto = src.l4Proto;
  dst.payload = src.payload;
  dst.end = src.end;
  dst.ndSll = src.ndSll;
  dst.ndTll = src.ndTll;
}

const W_TUN_ID = field('tun_id').word;
const W_TUN_SRC = field('tun_src').word;
const W_TUN_DST = field('tun_dst').word;
const W_TUN_MD0 = field('tun_metadata0').word;

/** Tunnel metadata handed to the sink; one object, refilled per output. */
class OutTunnel implements TunnelMetadata {
  tunId = 0n;
  metadata0: number | undefined = undefined;
  src = 0;
  dst = 0;
  private hi = 0;
  private lo = 0;

  fill(key: FlowKey): this {
    const hi = key[W_TUN_ID]!;
    const lo = key[W_TUN_ID + 1]!;
    if (hi !== this.hi || lo !== this.lo) {
      this.hi = hi;
      this.lo = lo;
      this.tunId = (BigInt(hi) << 32n) | BigInt(lo);
    }
    const md = key[W_TUN_MD0]!;
    this.metadata0 = md === 0 ? undefined : md;
    this.src = key[W_TUN_SRC]!;
    this.dst = key[W_TUN_DST]!;
    return this;
  }
}

interface ContState {
  readonly frames: readonly Frame[];
  readonly key: FlowKey;
  readonly frame: Uint8Array;
  readonly stack: readonly StackEntry[];
}

/** What createDatapath returns: the Datapath interface with every optional member present. */
export interface SwitchDatapath extends Datapath {
  readonly tables: TrackedFlowTables;
  readonly groups: TrackedGroupTable;
  readonly conntrack: Conntrack;
  traceDetailed(inPort: number, frame: Uint8Array, tunnel?: TunnelMetadata): TraceResult;
  stats(): Required<DatapathStats>;
  /** Per table: lookups, and lookups that matched a flow (ovs-ofctl dump-tables). */
  tableStats(): { readonly lookup: number; readonly matched: number }[];
}

class DatapathImpl implements SwitchDatapath {
  readonly tables: TrackedFlowTables;
  readonly groups: TrackedGroupTable;
  readonly conntrack: Conntrack;
  private readonly tracker: ChangeTracker;
  private readonly cache: MegaflowCache;
  private readonly cacheOn: boolean;
  private readonly recircReg = new RecircRegistry();
  private readonly deps: XlateDeps;
  private readonly xlate: Xlate;
  private traceXlate: Xlate | undefined;
  private readonly sink: PortSink;
  private readonly now: () => number;
  private readonly maxRecirc: number;
  private readonly maxConts: number;

  private readonly handlers: ((p: PacketIn) => void)[] = [];
  private busy = false;
  private readonly deferred: (() => void)[] = [];
  private packetIns: PacketIn[] = [];
  private readonly conts = new Map<number, ContState>();
  private nextCont = 1;

  private readonly main = new PacketState();
  private readonly queue: PacketState[] = [];
  private readonly saves: FlowKey[] = [];
  private sp = 0;
  private readonly tun = new OutTunnel();
  /** Things that left during the current packet (to count drops). */
  private leftThisPacket = 0;
  /** The clock, read once per received packet. */
  private clock = 0;
  private qLen = 0;

  /** Per-table lookup and match counts of packets not (or no longer) accounted in the cache. */
  private readonly tLookup: Float64Array;
  private readonly tMatched: Float64Array;
  private nHits = 0;
  private nMisses = 0;
  private nPacketsIn = 0;
  private nDropped = 0;
  private nReceived = 0;
  private nSent = 0;
  private nRecirc = 0;
  private nRecircDrops = 0;
  private nPortDrops = 0;
  private nErrors = 0;

  constructor(opts: DatapathOptions) {
    this.sink = opts.sink;
    this.now = opts.now ?? coarseClock();
    const nTables = opts.nTables ?? 255;
    this.tracker = new ChangeTracker(nTables);
    this.tables = new TrackedFlowTables(
      { nTables, now: opts.now ?? Date.now, ...(opts.validate ? { validate: opts.validate } : {}) },
      this.tracker,
    );
    this.groups = new TrackedGroupTable(this.tracker);
    // Conntrack reads the same clock (a time passed as an argument would be boxed per call).
    this.conntrack = opts.conntrack instanceof Conntrack ? opts.conntrack : new Conntrack({ now: this.now, ...(opts.conntrack ?? {}) });
    this.cacheOn = opts.cache ?? true;
    this.tLookup = new Float64Array(nTables);
    this.tMatched = new Float64Array(nTables);
    this.cache = new MegaflowCache(this.tracker, opts.cacheCapacity ?? 65536, (m) => this.countTables(m.lookups, m.flows, m.nPackets));
    this.maxRecirc = opts.maxRecirculations ?? 32;
    this.maxConts = opts.maxContinuations ?? 4096;
    this.deps = {
      tables: this.tables, groups: this.groups, conntrack: this.conntrack, recirc: this.recircReg,
      tableMiss: opts.tableMiss ?? 'drop', now: this.now,
    };
    this.xlate = new Xlate(this.deps);
  }

  // ---- entry points ----

  receive(inPort: number, frame: Uint8Array, tunnel?: TunnelMetadata): void {
    if (this.busy) {
      // (A closure here would make V8 allocate a context on every call: keep it in deferReceive.)
      this.deferReceive(inPort, frame, tunnel);
      return;
    }
    this.busy = true;
    try {
      this.nReceived++;
      this.leftThisPacket = 0;
      const st = this.main;
      st.frame = frame;
      extractKey(frame, st.fkey, inPort, st.layout);
      if (tunnel !== undefined) setTunnel(st.fkey, tunnel);
      st.key.set(st.fkey);
      st.dirty = false;
      this.clock = this.now();
      this.stage(st, 0);
      this.runRecirculations();
      if (this.leftThisPacket === 0) this.nDropped++;
      st.frame = EMPTY;
    } finally {
      // After an exception (a sink that throws), queued recirculations are dropped.
      this.qLen = 0;
      this.busy = false;
    }
    if (this.deferred.length !== 0 || this.packetIns.length !== 0) this.drain();
  }

  private deferReceive(inPort: number, frame: Uint8Array, tunnel: TunnelMetadata | undefined): void {
    this.deferred.push(() => this.receive(inPort, frame, tunnel));
  }

  packetOut(frame: Uint8Array, actions: readonly Action[], opts: { inPort?: number; key?: FlowKey } = {}): void {
    if (this.busy) {
      this.deferred.push(() => this.packetOut(frame, actions, opts));
      return;
    }
    this.busy = true;
    try {
      const st = this.main;
      st.frame = frame;
      extractKey(frame, st.fkey, opts.inPort ?? OFPP.CONTROLLER, st.layout);
      if (opts.key !== undefined) {
        st.fkey.set(opts.key.subarray(0, PACKET_WORDS_START));
        if (opts.inPort !== undefined) st.fkey[W_IN_PORT] = opts.inPort;
      }
      st.key.set(st.fkey);
      st.dirty = false;
      this.slowPass(st, { mode: 'out', actions });
      this.runRecirculations();
      st.frame = EMPTY;
    } finally {
      // After an exception (a sink that throws), queued recirculations are dropped.
      this.qLen = 0;
      this.busy = false;
    }
    this.drain();
  }

  resume(cont: Continuation, frame?: Uint8Array, key?: FlowKey): void {
    const c = this.conts.get(cont.id);
    if (c === undefined) throw new Error(`continuation ${cont.id} is unknown or was already resumed`);
    this.conts.delete(cont.id);
    this.resumeState(c, frame, key);
  }

  private resumeState(c: ContState, frame: Uint8Array | undefined, key: FlowKey | undefined): void {
    if (this.busy) {
      this.deferred.push(() => this.resumeState(c, frame, key));
      return;
    }
    this.busy = true;
    try {
      const st = this.main;
      st.frame = frame ?? c.frame;
      extractKey(st.frame, st.fkey, 0, st.layout);
      // As OpenFlow's resume: header fields come from the packet, the pipeline fields
      // (in_port, metadata, registers, tunnel, conntrack) from the key.
      st.fkey.set((key ?? c.key).subarray(0, PACKET_WORDS_START));
      st.key.set(st.fkey);
      st.dirty = false;
      this.slowPass(st, { mode: 'resume', frames: c.frames, stack: c.stack });
      this.runRecirculations();
      st.frame = EMPTY;
    } finally {
      // After an exception (a sink that throws), queued recirculations are dropped.
      this.qLen = 0;
      this.busy = false;
    }
    this.drain();
  }

  onPacketIn(handler: (p: PacketIn) => void): void {
    this.handlers.push(handler);
  }

  invalidate(): void {
    this.tracker.touchAll();
  }

  stats(): Required<DatapathStats> {
    return {
      cacheHits: this.nHits,
      cacheMisses: this.nMisses,
      cacheEntries: this.cache.size,
      packetsIn: this.nPacketsIn,
      dropped: this.nDropped,
      received: this.nReceived,
      sent: this.nSent,
      recirculations: this.nRecirc,
      recirculationDrops: this.nRecircDrops,
      portDrops: this.nPortDrops,
      translationErrors: this.nErrors,
      cacheStale: this.cache.stale,
      cacheEvictions: this.cache.evicted,
      cacheSubtables: this.cache.subtableCount,
    };
  }

  trace(inPort: number, frame: Uint8Array, tunnel?: TunnelMetadata): TraceStep[] {
    return [...this.traceDetailed(inPort, frame, tunnel).steps];
  }

  traceDetailed(inPort: number, frame: Uint8Array, tunnel?: TunnelMetadata): TraceResult {
    const key = newKey();
    const layout = new PacketLayout();
    extractKey(frame, key, inPort, layout);
    if (tunnel !== undefined) setTunnel(key, tunnel);
    const tx = (this.traceXlate ??= new Xlate(this.deps));
    const steps: TraceStep[] = [];
    const lines: string[] = [];
    const passes: { recirc: number; key: FlowKey; ctState: number }[] = [{ recirc: 0, key, ctState: 0 }];
    let datapathActions = '';
    let megaflow = '';
    for (let p = 0; p < passes.length && p <= this.maxRecirc; p++) {
      const pass = passes[p]!;
      const rs = this.recircReg.get(pass.recirc)!;
      if (p > 0) {
        const bar = '='.repeat(79);
        lines.push('', bar, `recirc(${hex(pass.recirc)}) - resume conntrack with ct_state=${formatCtState(pass.ctState)}`, bar, '');
      }
      lines.push(`Flow: ${formatKey(pass.key)}`, '', 'bridge("br-int")', '----------------');
      if (p > 0) lines.push('    thaw', `        Resuming from table ${rs.table}`);
      const tb = new TraceBuilder();
      tx.run(pass.key, { mode: 'packet', table: rs.table, stack: rs.stack, trace: tb, frame, layout });
      lines.push(...tb.lines);
      steps.push(...tb.steps);
      const finalSame = tx.key.every((w, i) => w === pass.key[i]);
      const dp = formatOps(tx.ops);
      const mf = formatMegaflow(pass.recirc, pass.key, tx.wc);
      lines.push('', `Final flow: ${finalSame ? 'unchanged' : formatKey(tx.key)}`, `Megaflow: ${mf}`, `Datapath actions: ${dp}`);
      if (p === 0) {
        datapathActions = dp;
        megaflow = mf;
      }
      for (const r of tx.traceRecircs) passes.push({ recirc: r.id, key: r.key, ctState: r.ctState });
    }
    return { steps, datapathActions, megaflow, text: lines.join('\n') };
  }

  // ---- passes ----

  /** One pass of a packet: cached actions, or a translation (cached when it may be). */
  private stage(st: PacketState, recirc: number): void {
    const len = st.frame.length;
    if (this.cacheOn) {
      const m = this.cache.lookup(st.key, recirc);
      if (m !== undefined) {
        this.nHits++;
        m.nPackets++;
        m.nBytes += len;
        this.credit(m.flows, len);
        this.execute(m.ops, st);
        return;
      }
    }
    this.nMisses++;
    const rs = this.recircReg.get(recirc)!;
    const since = this.tracker.seq;
    const x = this.xlate;
    x.run(st.key, { mode: 'packet', table: rs.table, stack: rs.stack });
    if (x.error !== undefined) this.nErrors++;
    const ops = x.ops;
    const flows = x.flows;
    this.countTables(x.lookups, flows, 1);
    if (this.cacheOn && x.cacheable) {
      this.cache.insert(st.key, recirc, x.wc, { ops, flows, lookups: x.lookups, tables: x.tableList, groups: x.groupList, since });
    }
    this.credit(flows, len);
    this.execute(ops, st);
  }

  /** A translation that is never cached (packet-out, resume). */
  private slowPass(st: PacketState, start: { mode: 'out' | 'resume'; actions?: readonly Action[]; frames?: readonly Frame[]; stack?: readonly StackEntry[] }): void {
    this.clock = this.now();
    const x = this.xlate;
    x.run(st.key, start);
    if (x.error !== undefined) this.nErrors++;
    this.countTables(x.lookups, x.flows, 1);
    this.credit(x.flows, st.frame.length);
    this.execute(x.ops, st);
  }

  private runRecirculations(): void {
    const q = this.queue;
    for (let i = 0; i < this.qLen; i++) {
      const job = q[i]!;
      if (i >= this.maxRecirc) {
        this.nRecircDrops++;
      } else {
        this.nRecirc++;
        this.stage(job, job.recirc);
      }
      job.frame = EMPTY;
    }
    this.qLen = 0;
  }

  private drain(): void {
    while (this.deferred.length !== 0 || this.packetIns.length !== 0) {
      if (this.packetIns.length !== 0) {
        const pins = this.packetIns;
        this.packetIns = [];
        for (const p of pins) for (const h of this.handlers) h(p);
        continue;
      }
      this.deferred.shift()!();
    }
  }

  // ---- executing datapath actions ----

  private execute(ops: readonly Op[], st: PacketState): void {
    this.sp = 0;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      switch (op.op) {
        case OP_SET: {
          const k = st.key;
          const d = op.data;
          for (let j = 0; j < d.length; j += 3) {
            const w = d[j]!;
            k[w] = ((k[w]! & ~d[j + 1]!) | d[j + 2]!) >>> 0;
          }
          if (op.packet) st.dirty = true;
          break;
        }
        case OP_OUTPUT: {
          if (st.dirty) this.sync(st);
          const port = op.port;
          if (!this.sink.has(port)) {
            this.nPortDrops++;
            break;
          }
          this.nSent++;
          this.leftThisPacket++;
          this.sink.transmit(port, op.copy ? st.frame.slice() : st.frame, this.tunnelOf(st.key));
          break;
        }
        case OP_FLOOD:
          this.flood(op, st);
          break;
        case OP_CT:
          if (st.dirty) this.sync(st);
          this.conntrack.execute(st.key, st.frame, st.layout, op);
          // NAT rewrites addresses and ports in the key.
          if (op.nat !== undefined) st.dirty = true;
          if (op.recirc >= 0) this.enqueue(st, op.recirc, op.copy);
          clearCtFields(st.key);
          break;
        case OP_CONTROLLER:
          this.toController(op, st);
          break;
        case OP_SAVE: {
          let s = this.saves[this.sp];
          if (s === undefined) this.saves[this.sp] = s = newKey();
          s.set(st.key);
          this.sp++;
          break;
        }
        case OP_RESTORE:
          st.key.set(this.saves[--this.sp]!);
          st.dirty = true;
          break;
        case OP_LOADKEY:
          st.key.set(op.key);
          st.dirty = true;
          break;
      }
    }
  }

  private countTables(lookups: Uint8Array, flows: readonly FlowEntry[], n: number): void {
    if (n === 0) return;
    for (let i = 0; i < lookups.length; i++) this.tLookup[lookups[i]!] += n;
    for (let i = 0; i < flows.length; i++) this.tMatched[flows[i]!.table] += n;
  }

  /**
   * Per table: lookups made and lookups that found a flow (ovs-ofctl dump-tables' lookup and
   * matched). Cached packets are counted from their megaflows' packet counts, on demand.
   */
  tableStats(): { readonly lookup: number; readonly matched: number }[] {
    const lookup = this.tLookup.slice();
    const matched = this.tMatched.slice();
    for (const m of this.cache.entries()) {
      if (m.nPackets === 0) continue;
      for (let i = 0; i < m.lookups.length; i++) lookup[m.lookups[i]!] += m.nPackets;
      for (let i = 0; i < m.flows.length; i++) matched[m.flows[i]!.table] += m.nPackets;
    }
    return Array.from(lookup, (l, t) => ({ lookup: l, matched: matched[t]! }));
  }

  /** Counts a packet against the flows it went through. */
  private credit(flows: readonly FlowEntry[], len: number): void {
    const now = this.clock;
    for (let i = 0; i < flows.length; i++) {
      const e = flows[i]!;
      e.nPackets++;
      e.nBytes += len;
      e.used = now;
    }
  }

  private sync(st: PacketState): void {
    st.frame = commitKey(st.frame, st.fkey, st.key, st.layout);
    st.fkey.set(st.key);
    st.dirty = false;
  }

  private tunnelOf(key: FlowKey): TunnelMetadata | undefined {
    if (key[W_TUN_ID] === 0 && key[W_TUN_ID + 1] === 0 && key[W_TUN_MD0] === 0 && key[W_TUN_DST] === 0) return undefined;
    return this.tun.fill(key);
  }

  private flood(op: FloodOp, st: PacketState): void {
    const all = this.sink.ports?.();
    if (all === undefined) {
      this.nPortDrops++;
      return;
    }
    if (st.dirty) this.sync(st);
    const ports: number[] = [];
    for (const p of all) if (p !== op.exclude) ports.push(p);
    for (let i = 0; i < ports.length; i++) {
      const own = i === ports.length - 1 && !op.copy;
      this.nSent++;
      this.leftThisPacket++;
      this.sink.transmit(ports[i]!, own ? st.frame : st.frame.slice(), this.tunnelOf(st.key));
    }
  }

  private enqueue(st: PacketState, recirc: number, copy: boolean): void {
    // Queue slots keep their PacketState objects for reuse.
    let job = this.queue[this.qLen];
    if (job === undefined) this.queue[this.qLen] = job = new PacketState();
    this.qLen++;
    job.key.set(st.key);
    job.fkey.set(st.fkey);
    copyLayout(job.layout, st.layout);
    job.frame = copy ? st.frame.slice() : st.frame;
    job.recirc = recirc;
    job.dirty = st.dirty;
  }

  private toController(op: ControllerOp, st: PacketState): void {
    if (st.dirty) this.sync(st);
    this.nPacketsIn++;
    this.leftThisPacket++;
    if (this.handlers.length === 0) return;
    const full = op.copy ? st.frame.slice() : st.frame;
    const frame = op.maxLen > 0 && op.maxLen < 0xffff && full.length > op.maxLen ? full.subarray(0, op.maxLen) : full;
    const key = st.key.slice();
    let continuation: Continuation | undefined;
    if (op.pause !== undefined) {
      const id = this.nextCont++;
      this.conts.set(id, { frames: op.pause, key: key.slice(), frame: full.slice(), stack: op.stack });
      if (this.conts.size > this.maxConts) this.conts.delete(this.conts.keys().next().value!);
      continuation = { id };
    }
    const reason = op.reason === 'no_match' || op.reason === 'invalid_ttl' ? op.reason : 'action';
    this.packetIns.push({ reason, table: op.table, cookie: op.cookie, userdata: op.userdata, frame, key, continuation });
  }
}


function setTunnel(key: FlowKey, t: TunnelMetadata): void {
  const id = t.tunId;
  if (id <= 0xffffffffn) {
    key[W_TUN_ID] = 0;
    key[W_TUN_ID + 1] = Number(id);
  } else {
    key[W_TUN_ID] = Number((id >> 32n) & 0xffffffffn);
    key[W_TUN_ID + 1] = Number(id & 0xffffffffn);
  }
  key[W_TUN_SRC] = t.src ?? 0;
  key[W_TUN_DST] = t.dst ?? 0;
  key[W_TUN_MD0] = t.metadata0 ?? 0;
}

/** Creates a datapath with empty flow and group tables and conntrack. */
export function createDatapath(opts: DatapathOptions): SwitchDatapath {
  return new DatapathImpl(opts);
}
