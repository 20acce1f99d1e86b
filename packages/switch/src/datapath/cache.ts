/**
 * The megaflow cache: translations keyed on the packet key under the mask of the bits the
 * translation looked at, plus the recirculation id of the pass (0 for a packet's first pass,
 * else the conntrack recirculation it continues), as OVS's datapath flow table is. Entries with
 * the same mask share a subtable (a hash map over the masked words only), and a lookup probes
 * subtables, most used first; the first valid hit wins (any valid megaflow that matches gives
 * the same answer, so overlaps are harmless).
 *
 * Validity: an entry records the change sequence number at which it was translated and the
 * tables and groups the translation read; when any of them changes (ChangeTracker stamps),
 * the entry is stale, found so on its next hit and dropped. Entries validated since the last
 * change of anything skip the check (one number compared per hit).
 *
 * Bounded: past `capacity` entries the oldest is evicted. A lookup allocates nothing.
 */
import { KEY_WORDS, type FlowKey } from '../fields.js';
import type { FlowEntry } from '../flow/table.js';
import type { Op } from './program.js';
import type { ChangeTracker } from './tables.js';
import { finish, mix } from '../flow/murmur.js';

export class Megaflow {
  next: Megaflow | undefined = undefined;
  /** Epoch at which the entry was last known valid. */
  validAt: number;
  dead = false;
  nPackets = 0;
  nBytes = 0;

  constructor(
    readonly sub: CacheSubtable,
    readonly recirc: number,
    readonly hash: number,
    /** Masked key values at the subtable's word indexes. */
    readonly vals: Uint32Array,
    readonly ops: readonly Op[],
    /** The flows the translation went through (their counters are credited per packet). */
    readonly flows: readonly FlowEntry[],
    /** The table of each lookup the translation made (for per-table counters). */
    readonly lookups: Uint8Array,
    readonly tables: Uint8Array,
    readonly groups: readonly number[] | undefined,
    /** Change sequence number the translation saw. */
    readonly since: number,
    epoch: number,
  ) {
    this.validAt = epoch;
  }
}

export class CacheSubtable {
  readonly idx: Int32Array;
  readonly maskAt: Uint32Array;
  readonly map = new Map<number, Megaflow>();
  hits = 0;
  /** The recirculation id all of this subtable's entries belong to. */
  recirc = 0;
  /** Another subtable whose mask has the same hash. */
  nextSameHash: CacheSubtable | undefined = undefined;

  constructor(
    readonly maskHash: number,
    readonly mask: Uint32Array,
  ) {
    let n = 0;
    for (let i = 0; i < KEY_WORDS; i++) if (mask[i] !== 0) n++;
    this.idx = new Int32Array(n);
    this.maskAt = new Uint32Array(n);
    for (let i = 0, j = 0; i < KEY_WORDS; i++) {
      if (mask[i] !== 0) {
        this.idx[j] = i;
        this.maskAt[j++] = mask[i]!;
      }
    }
  }

  sameMask(wc: FlowKey): boolean {
    const m = this.mask;
    for (let i = 0; i < KEY_WORDS; i++) if (m[i] !== wc[i]) return false;
    return true;
  }

  hashKey(key: FlowKey, recirc: number): number {
    const idx = this.idx;
    const m = this.maskAt;
    let h = recirc;
    for (let j = 0; j < idx.length; j++) h = mix(h, key[idx[j]!]! & m[j]!);
    return finish(h);
  }

  same(vals: Uint32Array, key: FlowKey): boolean {
    const idx = this.idx;
    const m = this.maskAt;
    for (let j = 0; j < idx.length; j++) if (vals[j] !== ((key[idx[j]!]! & m[j]!) >>> 0)) return false;
    return true;
  }
}

export interface CacheInsert {
  readonly ops: readonly Op[];
  readonly flows: readonly FlowEntry[];
  readonly lookups: Uint8Array;
  readonly tables: readonly number[];
  readonly groups: readonly number[];
  readonly since: number;
}

export class MegaflowCache {
  /** Subtables by a hash of their mask (collisions chained). */
  private readonly byMask = new Map<number, CacheSubtable>();
  private nSubtables = 0;
  private last: CacheSubtable | undefined;
  /** Subtables holding entries of each recirculation id, most used first. */
  private orders: CacheSubtable[][] = [];
  private n = 0;
  /** Insertion order, for eviction (dead entries are skipped). */
  private fifo: Megaflow[] = [];
  private fifoHead = 0;
  private lookups = 0;
  stale = 0;
  evicted = 0;

  constructor(
    private readonly tracker: ChangeTracker,
    readonly capacity = 65536,
    /** Called for every entry leaving the cache (stale, evicted, cleared). */
    private readonly onRemove?: (m: Megaflow) => void,
  ) {}

  get size(): number {
    return this.n;
  }

  get subtableCount(): number {
    return this.nSubtables;
  }

  /** The valid megaflow for `key` in pass `recirc`, if any. */
  lookup(key: FlowKey, recirc: number): Megaflow | undefined {
    if ((++this.lookups & 0xffff) === 0) this.reorder();
    const order = this.orders[recirc];
    if (order === undefined) return undefined;
    const epoch = this.tracker.epoch;
    for (let s = 0; s < order.length; s++) {
      const st = order[s]!;
      const h = st.hashKey(key, recirc);
      for (let m = st.map.get(h); m !== undefined; m = m.next) {
        if (m.hash !== h || m.recirc !== recirc || !st.same(m.vals, key)) continue;
        if (m.validAt !== epoch) {
          if (!this.tracker.unchangedSince(m.since, m.tables, m.groups)) {
            this.remove(m);
            this.stale++;
            break;
          }
          m.validAt = epoch;
        }
        st.hits++;
        return m;
      }
    }
    return undefined;
  }

  /** Caches a translation of `key` (pass `recirc`) that looked at the bits of `wc`. */
  insert(key: FlowKey, recirc: number, wc: FlowKey, t: CacheInsert): Megaflow {
    // Consecutive translations often share a mask: try the last subtable first.
    let st = this.last !== undefined && this.last.recirc === recirc && this.last.sameMask(wc) ? this.last : undefined;
    let mh = 0;
    if (st === undefined) {
      mh = recirc;
      for (let i = 0; i < KEY_WORDS; i++) if (wc[i] !== 0) mh = mix(mh, (i << 24) ^ mix(0, wc[i]!));
      mh = finish(mh);
      st = this.byMask.get(mh);
      while (st !== undefined && !(st.recirc === recirc && st.sameMask(wc))) st = st.nextSameHash;
    }
    if (st === undefined) {
      st = new CacheSubtable(mh, wc.slice());
      st.recirc = recirc;
      st.nextSameHash = this.byMask.get(mh);
      this.byMask.set(mh, st);
      (this.orders[recirc] ??= []).push(st);
      this.nSubtables++;
    }
    this.last = st;
    const h = st.hashKey(key, recirc);
    const vals = new Uint32Array(st.idx.length);
    for (let j = 0; j < vals.length; j++) vals[j] = (key[st.idx[j]!]! & st.maskAt[j]!) >>> 0;
    // Replace an entry for the same masked key (a stale one not yet found stale).
    for (let m = st.map.get(h); m !== undefined; m = m.next) {
      if (m.hash === h && m.recirc === recirc && st.same(m.vals, key)) {
        this.remove(m);
        break;
      }
    }
    if (this.n >= this.capacity) this.evictOne();
    const tables = new Uint8Array(t.tables.length);
    for (let i = 0; i < tables.length; i++) tables[i] = t.tables[i]!;
    const m = new Megaflow(st, recirc, h, vals, t.ops, t.flows, t.lookups, tables, t.groups.length ? t.groups.slice() : undefined, t.since, this.tracker.epoch);
    m.next = st.map.get(h);
    st.map.set(h, m);
    this.n++;
    this.fifo.push(m);
    if (this.fifo.length - this.fifoHead > 2 * Math.max(this.n, 1024)) this.compact();
    return m;
  }

  clear(): void {
    if (this.onRemove) for (const m of this.entries()) this.onRemove(m);
    this.byMask.clear();
    this.nSubtables = 0;
    this.last = undefined;
    this.orders = [];
    this.n = 0;
    this.fifo = [];
    this.fifoHead = 0;
  }

  /** Every live entry (for inspection). */
  *entries(): IterableIterator<Megaflow> {
    for (const order of this.orders) if (order) for (const st of order) for (const head of st.map.values()) for (let m: Megaflow | undefined = head; m; m = m.next) yield m;
  }

  private remove(m: Megaflow): void {
    if (m.dead) return;
    m.dead = true;
    this.onRemove?.(m);
    const st = m.sub;
    let head = st.map.get(m.hash);
    if (head === m) {
      if (m.next === undefined) st.map.delete(m.hash);
      else st.map.set(m.hash, m.next);
    } else {
      while (head !== undefined && head.next !== m) head = head.next;
      if (head !== undefined) head.next = m.next;
    }
    this.n--;
    if (st.map.size === 0) {
      let head = this.byMask.get(st.maskHash);
      if (head === st) {
        if (st.nextSameHash === undefined) this.byMask.delete(st.maskHash);
        else this.byMask.set(st.maskHash, st.nextSameHash);
      } else {
        while (head !== undefined && head.nextSameHash !== st) head = head.nextSameHash;
        if (head !== undefined) head.nextSameHash = st.nextSameHash;
      }
      this.nSubtables--;
      if (this.last === st) this.last = undefined;
      const order = this.orders[st.recirc];
      if (order !== undefined) {
        const at = order.indexOf(st);
        if (at >= 0) order.splice(at, 1);
      }
    }
  }

  private evictOne(): void {
    while (this.fifoHead < this.fifo.length) {
      const m = this.fifo[this.fifoHead++]!;
      if (!m.dead) {
        this.remove(m);
        this.evicted++;
        break;
      }
    }
    if (this.fifoHead > 4096 && this.fifoHead * 2 > this.fifo.length) this.compact();
  }

  private compact(): void {
    this.fifo = this.fifo.slice(this.fifoHead).filter((m) => !m.dead);
    this.fifoHead = 0;
  }

  /** Most-hit subtables first; hit counts decay so the order follows the current traffic. */
  private reorder(): void {
    for (const order of this.orders) {
      if (order === undefined) continue;
      order.sort((a, b) => b.hits - a.hits);
      for (const st of order) st.hits >>>= 1;
    }
  }
}
