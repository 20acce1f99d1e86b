/**
 * The slow path: translation of one packet's walk through the OpenFlow tables into datapath
 * actions (program.ts), like OVS's ofproto-dpif-xlate. The translator runs the actions on a copy
 * of the flow key, records which key bits it looked at (the megaflow mask: every table lookup,
 * conjunction probe, move source, TTL, VLAN tag, hashed group field, output-port comparison …),
 * and emits:
 *   - SET ops with the final values of written bits, just before anything that needs them;
 *   - OUTPUT / FLOOD ops (OpenFlow never outputs to the packet's in_port, except to IN_PORT);
 *   - CT ops, each with the recirculation id of its `table=` (the recirculated packet starts a new
 *     translation stage, cached separately);
 *   - CONTROLLER ops (never cached: packets to the controller always take the slow path, like
 *     OVS's slow-path megaflows);
 *   - SAVE/RESTORE around clones and group buckets.
 * A translation error (resubmit depth or count exceeded) drops the packet.
 */
import { KEY_WORDS, field, newKey, type FlowKey } from '../fields.js';
import type { Action, ControllerReason, CtAction } from '../flow/actions.js';
import { OFPP } from '../flow/actions.js';
import { lookupOfField } from '../flow/catalog.js';
import type { Group, GroupField, GroupTable } from '../flow/group.js';
import { groupHash, selectBucket } from '../flow/group.js';
import type { FlowEntry, FlowTables } from '../flow/table.js';
import type { Conntrack } from '../conntrack/conntrack.js';
import { clearCtFields, CT_FIRST_WORD, CT_LAST_WORD } from '../conntrack/conntrack.js';
import { ETH_TYPE_IP4, ETH_TYPE_IP6, VLAN_PRESENT } from '../packet/constants.js';
import type { PacketLayout } from '../packet/extract.js';
import { W_DL_TYPE, W_IN_PORT, W_NW_TTL, W_VLAN_TCI } from '../packet/extract.js';
import {
  applyWrite, bigintWords, compileSetField, compileSub, markLoc, markRange, readRange, readRangeNumber, wordWrite, writeRange,
} from './bits.js';
import { isConjunctive, lookupConjunctive } from './conj.js';
import {
  finalize, OP_CONTROLLER, OP_CT, OP_FLOOD, OP_LOADKEY, OP_OUTPUT, OP_RESTORE, OP_SAVE, OP_SET, PACKET_WORDS_START,
  type ControllerOp, type CtOp, type Frame, type Op, type StackEntry,
} from './program.js';
import { formatCtState, printAction, type TraceBuilder } from './trace.js';

/**
 * OVS's limits: the translation depth, which (as in OVS) only resubmits to the same or an
 * earlier table, and group actions, deepen (OVN chains every logical table to the next with a
 * forward resubmit, so a packet crossing switches and routers nests well over 64 calls deep
 * without ever deepening); and the number of resubmits per translation.
 */
export const MAX_DEPTH = 64;
export const MAX_RESUBMITS = 4096;
/** Our own bound on actual nesting (forward resubmits included), so the JS stack stays safe. */
export const MAX_NESTING = 1024;

const W_TUN_FIRST = field('tun_id').word;
const W_TUN_LAST = field('tun_metadata0').word;

/** What a recirculation id stands for: where the pipeline resumes, and the push/pop stack then. */
export interface RecircState {
  readonly table: number;
  readonly stack: readonly StackEntry[];
}

/** Recirculation ids: 0 is a packet's first pass; others are (table, stack) pairs, allocated once. */
export class RecircRegistry {
  private readonly byKey = new Map<string, number>();
  private readonly states: RecircState[] = [{ table: 0, stack: [] }];

  /** Ids of (table, empty stack), the usual case, without building a string key. */
  private readonly plain: number[] = [];

  id(table: number, stack: readonly StackEntry[]): number {
    if (stack.length === 0) {
      const p = this.plain[table];
      if (p !== undefined) return p;
    }
    let k = String(table);
    for (const e of stack) k += `|${e.bits}:${e.words.join('.')}`;
    let id = this.byKey.get(k);
    if (id === undefined) {
      id = this.states.length;
      this.states.push({ table, stack: stack.slice() });
      this.byKey.set(k, id);
    }
    if (stack.length === 0) this.plain[table] = id;
    return id;
  }

  get(id: number): RecircState | undefined {
    return this.states[id];
  }
}

export interface XlateDeps {
  readonly tables: FlowTables;
  readonly groups: GroupTable;
  readonly conntrack: Conntrack;
  readonly recirc: RecircRegistry;
  /** What a miss in a table reached by goto_table (or the first table) does. */
  readonly tableMiss: 'drop' | 'controller';
  readonly now: () => number;
}

export type XlateMode = 'packet' | 'out' | 'resume';

/** Where a translation starts. */
export interface XlateStart {
  readonly mode: XlateMode;
  /** The stage's table (packet mode). */
  readonly table?: number;
  readonly stack?: readonly StackEntry[];
  /** packet-out: the actions to run. */
  readonly actions?: readonly Action[];
  /** resume: the frozen frames. */
  readonly frames?: readonly Frame[];
  /** For tracing: dry-run conntrack needs the packet bytes. */
  readonly trace?: TraceBuilder;
  readonly frame?: Uint8Array;
  readonly layout?: PacketLayout;
}

/** A recirculation seen while tracing, with the key the packet would have then. */
export interface TraceRecirc {
  readonly id: number;
  readonly key: FlowKey;
  readonly ctState: number;
}

const noteOf = (t: TraceBuilder | undefined): t is TraceBuilder => t !== undefined;

export class Xlate {
  /** The working key (the translation's view of the packet). */
  readonly key = newKey();
  /** Bits looked at. */
  readonly wc = newKey();
  /** Bits written since the last SET op. */
  private readonly pend = newKey();
  ops: Op[] = [];
  flows: FlowEntry[] = [];
  private readonly flowBuf: FlowEntry[] = [];
  private nFlows = 0;
  /** The table of every lookup, in order (for the tables' lookup counters). */
  lookups: Uint8Array = new Uint8Array(0);
  private readonly lookupBuf = new Uint8Array(MAX_RESUBMITS + 2);
  private nLookups = 0;
  /** Paths (flows and lookups) of recent translations, by hash, for sharing. */
  private readonly paths = new Map<number, { readonly flows: FlowEntry[]; readonly lookups: Uint8Array }[]>();
  /** Tables looked up (each once) and groups used. */
  readonly tableList: number[] = [];
  private readonly tableSeen: Uint8Array;
  groupList: number[] = [];
  cacheable = true;
  error: string | undefined;
  traceRecircs: TraceRecirc[] = [];

  /** Nesting of resubmits, clones, groups (trace indentation). */
  private depth = 0;
  /** OVS's translation depth: backward or same-table resubmits and groups. */
  private ovsDepth = 0;
  private resubmits = 0;
  private exit = false;
  private stack: StackEntry[] = [];
  private table = 0;
  private cookie = 0n;
  private entry: FlowEntry | undefined;
  private freezing = false;
  private frozen: Frame[] = [];
  private mode: XlateMode = 'packet';
  private trace: TraceBuilder | undefined;
  private traceFrame: Uint8Array | undefined;
  private traceLayout: PacketLayout | undefined;
  private readonly soft: FlowEntry[] = [];
  private readonly tmp = new Uint32Array(4);
  private readonly flushWords = new Int32Array(KEY_WORDS);

  constructor(private readonly deps: XlateDeps) {
    this.tableSeen = new Uint8Array(deps.tables.nTables);
  }

  /**
   * Translates a packet with flow key `key` (copied) from `start`. The results are left in this
   * object's fields (ops, wc, flows, tableList, groupList, cacheable, error) until the next run.
   */
  run(key: FlowKey, start: XlateStart): void {
    this.key.set(key);
    this.wc.fill(0);
    this.pend.fill(0);
    this.ops = [];
    this.nFlows = 0;
    this.nLookups = 0;
    for (const t of this.tableList) this.tableSeen[t] = 0;
    this.tableList.length = 0;
    this.groupList = [];
    this.cacheable = start.mode === 'packet' && start.trace === undefined;
    this.error = undefined;
    this.traceRecircs = [];
    this.depth = 0;
    this.ovsDepth = 0;
    this.resubmits = 0;
    this.exit = false;
    this.stack = start.stack ? start.stack.slice() : [];
    this.table = start.table ?? 0;
    this.cookie = 0n;
    this.entry = undefined;
    this.freezing = false;
    this.frozen = [];
    this.mode = start.mode;
    this.trace = start.trace;
    this.traceFrame = start.frame;
    this.traceLayout = start.layout;

    if (start.frames !== undefined) this.runFrames(start.frames);
    else if (start.actions !== undefined) this.runActions(start.actions, 0);
    else this.lookupTable(this.table, -1, false);

    this.internPath();
    if (this.error !== undefined) {
      this.ops = [];
      if (noteOf(this.trace)) this.trace.raw(`Translation failed (${this.error}), packet is dropped.`);
    }
    finalize(this.ops);
  }

  /**
   * Sets `flows` and `lookups` from the buffers, sharing the arrays with earlier translations
   * that took the same path (megaflows of one path differ only in the packet bits they matched,
   * and thousands of them may be cached).
   */
  private internPath(): void {
    const nf = this.nFlows;
    const nl = this.nLookups;
    const fb = this.flowBuf;
    const lb = this.lookupBuf;
    let h = Math.imul(nf, 0x9e3779b1) ^ nl;
    for (let i = 0; i < nf; i++) h = Math.imul(h ^ fb[i]!.seq, 0x01000193);
    for (let i = 0; i < nl; i++) h = Math.imul(h ^ lb[i]!, 0x01000193);
    const bucket = this.paths.get(h);
    if (bucket !== undefined) {
      for (const p of bucket) {
        if (p.flows.length !== nf || p.lookups.length !== nl) continue;
        let same = true;
        for (let i = 0; i < nf && same; i++) if (p.flows[i] !== fb[i]) same = false;
        for (let i = 0; i < nl && same; i++) if (p.lookups[i] !== lb[i]) same = false;
        if (same) {
          this.flows = p.flows;
          this.lookups = p.lookups;
          return;
        }
      }
    }
    this.flows = fb.slice(0, nf);
    this.lookups = lb.slice(0, nl);
    // Bounded: past the limit, paths are no longer shared (flows that went away are not kept alive forever).
    if (this.paths.size >= 4096) this.paths.clear();
    const entry = { flows: this.flows, lookups: this.lookups };
    if (bucket !== undefined) bucket.push(entry);
    else this.paths.set(h, [entry]);
  }

  // ---- tables ----

  private fail(msg: string): void {
    if (this.error === undefined) this.error = msg;
  }

  /**
   * Looks `table` up (with in_port temporarily `inPort` if ≥ 0, as resubmit(port,table) does)
   * and runs the matching flow's actions. `resubmit`: a miss does nothing (no table-miss action).
   */
  private lookupTable(table: number, inPort: number, resubmit: boolean): void {
    const tables = this.deps.tables;
    if (table >= tables.nTables) {
      if (noteOf(this.trace)) this.trace.note(this.depth, `table ${table} does not exist`);
      return;
    }
    if (!this.tableSeen[table]) {
      this.tableSeen[table] = 1;
      this.tableList.push(table);
    }
    const key = this.key;
    const saved = key[W_IN_PORT]!;
    if (inPort >= 0) key[W_IN_PORT] = inPort;
    const e = lookupConjunctive(tables.classifier(table), key, this.wc, this.soft);
    key[W_IN_PORT] = saved;
    if (this.nLookups < this.lookupBuf.length) this.lookupBuf[this.nLookups++] = table;
    const tr = this.trace;
    const prevStep = tr?.table(this.depth, table, e);
    if (e === undefined) {
      if (!resubmit && this.deps.tableMiss === 'controller') {
        this.emitController('no_match', undefined, 0xffff, false, table);
        if (tr) tr.note(this.depth, 'controller(reason=no_match)');
      } else if (tr) {
        tr.note(this.depth, 'drop');
      }
      tr?.restore(prevStep);
      return;
    }
    this.flowBuf[this.nFlows++] = e;
    const pt = this.table;
    const pc = this.cookie;
    const pe = this.entry;
    this.table = table;
    this.cookie = e.cookie;
    this.entry = e;
    this.runActions(e.actions, 0);
    this.table = pt;
    this.cookie = pc;
    this.entry = pe;
    tr?.restore(prevStep);
  }

  /** resubmit / goto_table: a nested lookup, within the depth and count limits. */
  private nested(table: number, inPort: number, resubmit: boolean): void {
    const deepens = table <= this.table;
    if ((deepens && this.ovsDepth >= MAX_DEPTH) || this.depth >= MAX_NESTING) {
      this.fail(`over max translation depth ${MAX_DEPTH}`);
      return;
    }
    if (++this.resubmits > MAX_RESUBMITS) {
      this.fail(`over ${MAX_RESUBMITS} resubmit actions`);
      return;
    }
    this.depth++;
    if (deepens) this.ovsDepth++;
    this.lookupTable(table, inPort, resubmit);
    this.depth--;
    if (deepens) this.ovsDepth--;
  }

  // ---- actions ----

  private runFrames(frames: readonly Frame[]): void {
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i]!;
      if (this.exit || this.error !== undefined) return;
      if (f.kind === 'actions') {
        this.table = f.table;
        this.cookie = f.cookie;
        this.runActions(f.actions, f.from);
      } else {
        this.key.set(f.key);
        this.pend.fill(0);
        this.stack = f.stack.slice();
        this.ops.push({ op: OP_LOADKEY, key: f.key.slice() });
      }
      if (this.freezing) {
        for (let j = i + 1; j < frames.length; j++) this.frozen.push(frames[j]!);
        return;
      }
    }
  }

  private runActions(actions: readonly Action[], from: number): void {
    const tr = this.trace;
    for (let i = from; i < actions.length; i++) {
      if (this.exit || this.error !== undefined) return;
      const a = actions[i]!;
      if (tr) tr.note(this.depth, printAction(a, this.entry));
      this.action(a);
      if (this.freezing) {
        this.frozen.push({ kind: 'actions', actions, from: i + 1, table: this.table, cookie: this.cookie });
        return;
      }
    }
  }

  private action(a: Action): void {
    const key = this.key;
    switch (a.type) {
      case 'output':
        this.output(a.port);
        return;
      case 'output_reg':
        this.output(readRangeNumber(key, compileSub(a.src), this.wc));
        return;
      case 'controller':
        this.emitController(a.reason, a.userdata, a.maxLen, a.pause === true);
        return;
      case 'resubmit': {
        const port = a.port === undefined || a.port === OFPP.IN_PORT ? -1 : a.port;
        this.nested(a.table ?? this.table, port, true);
        return;
      }
      case 'goto_table':
        this.nested(a.table, -1, false);
        return;
      case 'set_field':
        applyWrite(key, compileSetField(a), this.pend);
        return;
      case 'move': {
        const src = compileSub(a.src);
        readRange(key, src, this.tmp);
        markRange(this.wc, src);
        writeRange(key, compileSub(a.dst), this.tmp, this.pend);
        return;
      }
      case 'dec_ttl':
        this.decTtl(a.ids);
        return;
      case 'push_vlan':
        this.wc[W_VLAN_TCI] = (this.wc[W_VLAN_TCI]! | VLAN_PRESENT) >>> 0;
        if (!(key[W_VLAN_TCI]! & VLAN_PRESENT)) this.writeWord(W_VLAN_TCI, VLAN_PRESENT);
        else if (this.trace) this.trace.note(this.depth, 'packet already has a VLAN tag (one tag supported): unchanged');
        return;
      case 'pop_vlan':
        this.wc[W_VLAN_TCI] = (this.wc[W_VLAN_TCI]! | VLAN_PRESENT) >>> 0;
        if (key[W_VLAN_TCI]! & VLAN_PRESENT) this.writeWord(W_VLAN_TCI, 0);
        return;
      case 'mod_vlan_vid': {
        this.wc[W_VLAN_TCI] = (this.wc[W_VLAN_TCI]! | 0xffff) >>> 0;
        const tci = key[W_VLAN_TCI]!;
        this.writeWord(W_VLAN_TCI, tci & VLAN_PRESENT ? (tci & ~0xfff) | (a.vid & 0xfff) : VLAN_PRESENT | (a.vid & 0xfff));
        return;
      }
      case 'mod_vlan_pcp': {
        this.wc[W_VLAN_TCI] = (this.wc[W_VLAN_TCI]! | 0xffff) >>> 0;
        const tci = key[W_VLAN_TCI]!;
        const pcp = (a.pcp & 7) << 13;
        this.writeWord(W_VLAN_TCI, tci & VLAN_PRESENT ? (tci & 0x1fff) | pcp : VLAN_PRESENT | pcp);
        return;
      }
      case 'conjunction':
        // Only clause flows carry these, and lookups never select them.
        return;
      case 'group':
        this.group(a.group);
        return;
      case 'clone':
        this.clone(a.actions, undefined);
        return;
      case 'ct':
        this.ct(a);
        return;
      case 'ct_clear':
        for (let w = CT_FIRST_WORD; w <= CT_LAST_WORD; w++) {
          key[w] = 0;
          this.pend[w] = 0xffffffff;
        }
        return;
      case 'note':
        return;
      case 'exit':
        this.exit = true;
        return;
      case 'stack_push': {
        const r = compileSub(a.src);
        const words = new Uint32Array(4);
        readRange(key, r, words);
        markRange(this.wc, r);
        this.stack.push({ bits: r.bits, words });
        return;
      }
      case 'stack_pop': {
        const e = this.stack.pop();
        if (e === undefined) {
          if (this.trace) this.trace.note(this.depth, 'stack underflow: nothing popped');
          return;
        }
        writeRange(key, compileSub(a.dst), e.words, this.pend);
        return;
      }
    }
  }

  private writeWord(w: number, v: number): void {
    // The whole word: the translation marked every bit the new value depends on.
    this.key[w] = v >>> 0;
    this.pend[w] = 0xffffffff;
  }

  private decTtl(ids: readonly number[] | undefined): void {
    const key = this.key;
    this.wc[W_DL_TYPE] = 0xffff;
    const t = key[W_DL_TYPE]!;
    if (t !== ETH_TYPE_IP4 && t !== ETH_TYPE_IP6) return;
    this.wc[W_NW_TTL] = 0xff;
    const ttl = key[W_NW_TTL]!;
    if (ttl > 1) {
      key[W_NW_TTL] = ttl - 1;
      this.pend[W_NW_TTL] = 0xff;
      return;
    }
    // TTL expired: tell the controller (unless no controller ids were given) and stop.
    if (ids === undefined || ids.length > 0) this.emitController('invalid_ttl', undefined, 0xffff, false);
    if (this.trace) this.trace.note(this.depth, `TTL ${ttl}: expired, packet dropped`);
    this.cacheable = false;
    this.exit = true;
  }

  private output(port: number): void {
    const key = this.key;
    const tr = this.trace;
    switch (port) {
      case OFPP.IN_PORT:
        this.wc[W_IN_PORT] = 0xffffffff;
        this.emitOutput(key[W_IN_PORT]!);
        return;
      case OFPP.TABLE:
        if (this.mode === 'out') this.nested(0, -1, false);
        else if (tr) tr.note(this.depth, 'output to TABLE is only for packet-out: ignored');
        return;
      case OFPP.NORMAL:
        if (tr) tr.note(this.depth, 'NORMAL is not supported: dropped');
        return;
      case OFPP.FLOOD:
      case OFPP.ALL:
        this.wc[W_IN_PORT] = 0xffffffff;
        this.flush(false);
        this.ops.push({ op: OP_FLOOD, exclude: key[W_IN_PORT]!, all: port === OFPP.ALL, copy: false });
        return;
      case OFPP.CONTROLLER:
        this.emitController('action', undefined, 0xffff, false);
        return;
      case OFPP.NONE:
        return;
    }
    this.wc[W_IN_PORT] = 0xffffffff;
    if (port === key[W_IN_PORT]) {
      if (tr) tr.note(this.depth, `skipping output to input port ${port}`);
      return;
    }
    this.emitOutput(port);
  }

  private emitOutput(port: number): void {
    this.flush(false);
    this.ops.push({ op: OP_OUTPUT, port, copy: false });
  }

  /**
   * Emits a SET for the pending writes: with `all` every written word, otherwise only what an
   * output needs (packet fields and tunnel metadata); the rest stays pending.
   */
  private flush(all: boolean): void {
    const pend = this.pend;
    const key = this.key;
    let n = 0;
    const words = this.flushWords;
    for (let w = 0; w < KEY_WORDS; w++) {
      if (pend[w] === 0) continue;
      if (!all && w < PACKET_WORDS_START && (w < W_TUN_FIRST || w > W_TUN_LAST)) continue;
      words[n++] = w;
    }
    if (n === 0) return;
    const data = new Uint32Array(3 * n);
    for (let i = 0; i < n; i++) {
      const w = words[i]!;
      data[3 * i] = w;
      data[3 * i + 1] = pend[w]!;
      data[3 * i + 2] = (key[w]! & pend[w]!) >>> 0;
      pend[w] = 0;
    }
    const op = { op: OP_SET, data, packet: words[n - 1]! >= PACKET_WORDS_START } as const;
    this.ops.push(op);
  }

  private emitController(reason: ControllerReason, userdata: string | undefined, maxLen: number, pause: boolean, table = this.table): void {
    this.flush(true);
    const op: ControllerOp = {
      op: OP_CONTROLLER, reason, table, cookie: this.cookie, userdata, maxLen,
      pause: pause ? [] : undefined, stack: this.stack.slice(), copy: false,
    };
    this.ops.push(op);
    this.cacheable = false;
    if (op.pause !== undefined) {
      this.freezing = true;
      this.frozen = op.pause;
    }
  }

  /** Runs `actions` on a copy of the packet state (clone, group buckets). */
  private clone(actions: readonly Action[], trNote: string | undefined): void {
    if (trNote !== undefined && this.trace) this.trace.note(this.depth, trNote);
    const savedKey = this.key.slice();
    const savedPend = this.pend.slice();
    const savedStack = this.stack.slice();
    const at = this.ops.length;
    this.ops.push({ op: OP_SAVE });
    this.depth++;
    this.runActions(actions, 0);
    this.depth--;
    if (this.freezing) {
      this.frozen.push({ kind: 'restore', key: savedKey, stack: savedStack });
      return;
    }
    this.key.set(savedKey);
    this.pend.set(savedPend);
    this.stack = savedStack;
    // A clone that produced nothing needs no save/restore.
    if (this.ops.length === at + 1) this.ops.pop();
    else this.ops.push({ op: OP_RESTORE });
  }

  private group(id: number): void {
    this.groupList.push(id);
    const g = this.deps.groups.get(id);
    const tr = this.trace;
    if (g === undefined) {
      if (tr) tr.note(this.depth, `group ${id} does not exist: dropped`);
      return;
    }
    if (this.ovsDepth >= MAX_DEPTH || this.depth >= MAX_NESTING) {
      this.fail(`over max translation depth ${MAX_DEPTH}`);
      return;
    }
    this.depth++;
    this.ovsDepth++;
    switch (g.type) {
      case 'all':
        for (const b of g.buckets) {
          if (this.exit || this.error !== undefined || this.freezing) break;
          this.clone(b.actions, tr ? `bucket ${b.id}` : undefined);
        }
        break;
      case 'select': {
        markGroupFields(this.wc, g);
        const b = selectBucket(g, groupHash(g, this.key));
        if (b !== undefined) this.clone(b.actions, tr ? `bucket ${b.id}` : undefined);
        else if (tr) tr.note(this.depth, 'no live bucket: dropped');
        break;
      }
      case 'indirect':
      case 'ff': {
        const b = g.buckets[0];
        if (b !== undefined) this.clone(b.actions, tr ? `bucket ${b.id}` : undefined);
        break;
      }
    }
    this.depth--;
    this.ovsDepth--;
  }

  private ct(a: CtAction): void {
    const key = this.key;
    let zone = 0;
    if (typeof a.zone === 'number') zone = a.zone;
    else if (a.zone !== undefined) zone = readRangeNumber(key, compileSub(a.zone), this.wc) & 0xffff;
    let markMask = 0;
    let markValue = 0;
    let labelMask: Uint32Array | undefined;
    let labelValue: Uint32Array | undefined;
    for (const x of a.exec) {
      let name: string;
      let value: bigint;
      let mask: bigint;
      if (x.type === 'set_field') {
        name = x.field;
        value = x.value;
        mask = x.mask;
      } else if (x.type === 'move') {
        const src = compileSub(x.src);
        markRange(this.wc, src);
        readRange(key, src, this.tmp);
        let v = 0n;
        for (let i = 3; i >= 0; i--) v = (v << 32n) | BigInt(this.tmp[i]!);
        name = x.dst.field;
        const m = (1n << BigInt(x.dst.bits)) - 1n;
        value = (v & m) << BigInt(x.dst.ofs);
        mask = m << BigInt(x.dst.ofs);
      } else {
        continue;
      }
      const f = lookupOfField(name);
      if (f === undefined) continue;
      if (f.name === 'ct_mark') {
        markMask = (markMask | Number(mask & 0xffffffffn)) >>> 0;
        markValue = ((markValue & ~Number(mask & 0xffffffffn)) | Number(value & mask & 0xffffffffn)) >>> 0;
      } else if (f.name === 'ct_label') {
        labelMask ??= new Uint32Array(4);
        labelValue ??= new Uint32Array(4);
        // Key order: most significant word first.
        const mw = bigintWords(mask);
        const vw = bigintWords(value & mask);
        for (let i = 0; i < 4; i++) {
          labelMask[3 - i] = (labelMask[3 - i]! | mw[i]!) >>> 0;
          labelValue[3 - i] = ((labelValue[3 - i]! & ~mw[i]!) | vw[i]!) >>> 0;
        }
      }
    }
    const recirc = a.table !== undefined ? this.deps.recirc.id(a.table, this.stack) : -1;
    const op: CtOp = {
      op: OP_CT, zone, commit: a.commit, force: a.force, nat: a.nat, markMask, markValue, labelMask, labelValue,
      recirc, table: a.table, alg: a.alg, copy: false,
    };
    this.flush(true);
    this.ops.push(op);
    const tr = this.trace;
    if (tr && this.traceFrame !== undefined && this.traceLayout !== undefined) {
      // Tracing: what conntrack would say, without changing it.
      const k2 = key.slice();
      const state = this.deps.conntrack.execute(k2, this.traceFrame, this.traceLayout, op, this.deps.now(), true);
      tr.note(this.depth, `-> conntrack: ct_state=${formatCtState(state)}${recirc >= 0 ? `, recirculating to table ${a.table}` : ''}`);
      if (recirc >= 0) this.traceRecircs.push({ id: recirc, key: k2, ctState: state });
    }
    // The rest of this pass sees the packet untracked (the recirculated copy carries the state).
    clearCtFields(key);
  }
}

/** Marks the fields a select group hashes. */
function markGroupFields(wc: FlowKey, g: Group): void {
  let w = groupMarks.get(g);
  if (w === undefined) {
    const fields: readonly GroupField[] = g.selectionMethod === 'hash' && g.fields && g.fields.length
      ? g.fields
      : ['dl_type', 'nw_src', 'nw_dst', 'ipv6_src', 'ipv6_dst', 'nw_proto', 'tp_src', 'tp_dst'].map((field) => ({ field }));
    const acc = newKey();
    for (const gf of fields) {
      const f = lookupOfField(gf.field);
      if (f !== undefined) markLoc(acc, f, gf.mask);
    }
    const idx: number[] = [];
    for (let i = 0; i < KEY_WORDS; i++) if (acc[i] !== 0) idx.push(i);
    w = { idx: Int32Array.from(idx), mask: Uint32Array.from(idx, (i) => acc[i]!), val: new Uint32Array(idx.length) };
    groupMarks.set(g, w);
  }
  for (let i = 0; i < w.idx.length; i++) wc[w.idx[i]!] = (wc[w.idx[i]!]! | w.mask[i]!) >>> 0;
}

const groupMarks = new WeakMap<Group, ReturnType<typeof wordWrite>>();

export { isConjunctive };
