/**
 * A tuple-space-search classifier (Srinivasan et al., SIGCOMM '99; the design of OVS's classifier):
 * rules with the same mask live in one subtable, a hash map from the masked key to rules, so a
 * lookup costs one hash probe per distinct mask rather than one comparison per rule. Subtables are
 * kept in order of the highest priority they hold, so a lookup stops as soon as its best hit beats
 * every subtable still to be probed.
 *
 * Ties between rules of equal priority (which OpenFlow leaves undefined) go to the rule with the
 * lowest `seq` (the earliest added, when the caller numbers rules as it adds them).
 *
 * A lookup can report which key bits it examined: the union of the masks of the subtables it
 * probed. Any key that agrees with the looked-up one on those bits gets the same answer, which
 * is what a megaflow cache entry needs. The lookup itself allocates nothing.
 */
import { KEY_WORDS } from '../fields.js';
import type { FlowKey } from '../fields.js';
import type { Match } from './match.js';
import { finish, mix } from './murmur.js';

/** What the classifier needs from a rule. */
export interface Classifiable {
  readonly match: Match;
  readonly priority: number;
  /** Tie-break among equal priorities: lower wins. */
  readonly seq: number;
}

/** Is `a` preferred over `b` (higher priority, then lower seq)? */
export function beats(a: Classifiable, b: Classifiable): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);
}

class Subtable<R extends Classifiable> {
  readonly mask: Uint32Array;
  /** Key words where the mask is nonzero, and the mask there: all a probe needs to look at. */
  readonly idx: Int32Array;
  readonly maskAt: Uint32Array;
  /** Masked-key hash → rules, best first (priority descending, then seq ascending). */
  readonly buckets = new Map<number, R[]>();
  count = 0;
  /** Highest priority held, and the lowest seq among rules of that priority. */
  maxPriority = -1;
  maxSeq = Infinity;
  /** Set when a removal may have lowered maxPriority/maxSeq; recomputed before the next lookup. */
  stale = false;

  constructor(mask: Uint32Array) {
    this.mask = mask.slice();
    const idx: number[] = [];
    for (let i = 0; i < KEY_WORDS; i++) if (mask[i] !== 0) idx.push(i);
    this.idx = Int32Array.from(idx);
    this.maskAt = Uint32Array.from(idx, (i) => mask[i]!);
  }

  /** Hash of a key under this subtable's mask. */
  hashKey(key: FlowKey): number {
    const idx = this.idx;
    const m = this.maskAt;
    let h = 0;
    for (let j = 0; j < idx.length; j++) h = mix(h, key[idx[j]!]! & m[j]!);
    return finish(h);
  }

  /** Does rule value `v` (already masked) equal `key` under the mask? */
  same(v: FlowKey, key: FlowKey): boolean {
    const idx = this.idx;
    const m = this.maskAt;
    for (let j = 0; j < idx.length; j++) {
      const i = idx[j]!;
      if (v[i] !== ((key[i]! & m[j]!) >>> 0)) return false;
    }
    return true;
  }

  /** The best rule of this subtable matching `key`. */
  find(key: FlowKey): R | undefined {
    const bucket = this.buckets.get(this.hashKey(key));
    if (bucket === undefined) return undefined;
    for (let i = 0; i < bucket.length; i++) {
      const r = bucket[i]!;
      if (this.same(r.match.value, key)) return r;
    }
    return undefined;
  }

  insert(r: R): void {
    const h = this.hashKey(r.match.value);
    let bucket = this.buckets.get(h);
    if (!bucket) this.buckets.set(h, (bucket = []));
    let at = bucket.length;
    while (at > 0 && beats(r, bucket[at - 1]!)) at--;
    bucket.splice(at, 0, r);
    this.count++;
    if (r.priority > this.maxPriority || (r.priority === this.maxPriority && r.seq < this.maxSeq)) {
      this.maxPriority = r.priority;
      this.maxSeq = r.seq;
    }
  }

  remove(r: R): boolean {
    const h = this.hashKey(r.match.value);
    const bucket = this.buckets.get(h);
    if (!bucket) return false;
    const at = bucket.indexOf(r);
    if (at < 0) return false;
    bucket.splice(at, 1);
    if (bucket.length === 0) this.buckets.delete(h);
    this.count--;
    if (r.priority === this.maxPriority) this.stale = true;
    return true;
  }

  refresh(): void {
    let p = -1;
    let s = Infinity;
    for (const bucket of this.buckets.values()) {
      const r = bucket[0]!;
      if (r.priority > p || (r.priority === p && r.seq < s)) {
        p = r.priority;
        s = r.seq;
      }
    }
    this.maxPriority = p;
    this.maxSeq = s;
    this.stale = false;
  }
}

function maskId(mask: Uint32Array): string {
  return mask.join(',');
}

export class Classifier<R extends Classifiable> {
  private readonly byMask = new Map<string, Subtable<R>>();
  /** Subtables by descending maxPriority; rebuilt lazily when `dirty`. */
  private order: Subtable<R>[] = [];
  private dirty = false;
  private n = 0;

  get size(): number {
    return this.n;
  }

  /** Number of distinct masks (subtables). */
  get subtableCount(): number {
    return this.byMask.size;
  }

  /**
   * Adds a rule. The caller must first remove any rule with an identical match and priority
   * (see `find`); the classifier does not check.
   */
  insert(r: R): void {
    const id = maskId(r.match.mask);
    let st = this.byMask.get(id);
    if (!st) {
      st = new Subtable<R>(r.match.mask);
      this.byMask.set(id, st);
    }
    st.insert(r);
    this.n++;
    this.dirty = true;
  }

  /** Removes a rule (by identity); false if it was not here. */
  remove(r: R): boolean {
    const id = maskId(r.match.mask);
    const st = this.byMask.get(id);
    if (!st || !st.remove(r)) return false;
    this.n--;
    if (st.count === 0) this.byMask.delete(id);
    this.dirty = true;
    return true;
  }

  /** The rule with exactly this match and priority (OpenFlow's "strict" identity), if any. */
  find(match: Match, priority: number): R | undefined {
    const st = this.byMask.get(maskId(match.mask));
    if (!st) return undefined;
    const bucket = st.buckets.get(st.hashKey(match.value));
    if (!bucket) return undefined;
    for (const r of bucket) if (r.priority === priority && st.same(r.match.value, match.value)) return r;
    return undefined;
  }

  private prepare(): void {
    const order: Subtable<R>[] = [];
    for (const st of this.byMask.values()) {
      if (st.stale) st.refresh();
      order.push(st);
    }
    order.sort((a, b) => b.maxPriority - a.maxPriority || a.maxSeq - b.maxSeq);
    this.order = order;
    this.dirty = false;
  }

  /**
   * The highest-priority rule matching `key`, or undefined. If `wildcards` is given, the masks of
   * the subtables probed are OR-ed into it (it is not cleared first), so it can accumulate over
   * the lookups of a whole pipeline.
   */
  lookup(key: FlowKey, wildcards?: FlowKey): R | undefined {
    if (this.dirty) this.prepare();
    const order = this.order;
    let best: R | undefined;
    for (let s = 0; s < order.length; s++) {
      const st = order[s]!;
      if (best !== undefined) {
        // Sorted by maxPriority: nothing from here on can beat a strictly better hit.
        if (best.priority > st.maxPriority) break;
        // Same priority: this subtable can only win the tie if it holds an earlier rule.
        if (best.priority === st.maxPriority && best.seq < st.maxSeq) continue;
      }
      if (wildcards !== undefined) {
        const idx = st.idx;
        const m = st.maskAt;
        for (let j = 0; j < idx.length; j++) wildcards[idx[j]!] = (wildcards[idx[j]!]! | m[j]!) >>> 0;
      }
      const hit = st.find(key);
      if (hit !== undefined && (best === undefined || beats(hit, best))) best = hit;
    }
    return best;
  }

  /**
   * A lookup that tells "hard" rules from "soft" ones (for OpenFlow conjunctive matches: flows
   * whose actions are `conjunction(...)` are soft). Returns the best matching hard rule, as
   * `lookup` would among hard rules only. When `softOut` is given, every matching soft rule that
   * may beat the returned hard rule is appended to it (at least those of higher priority: the
   * caller filters by priority); without it, soft rules are skipped. Wildcards accumulate as in
   * `lookup`. Allocates nothing beyond `softOut`'s growth.
   */
  lookupSoft(key: FlowKey, wildcards: FlowKey | undefined, isSoft: (r: R) => boolean, softOut?: R[]): R | undefined {
    if (this.dirty) this.prepare();
    const order = this.order;
    let best: R | undefined;
    for (let s = 0; s < order.length; s++) {
      const st = order[s]!;
      if (best !== undefined) {
        // A soft rule only matters above the hard winner's priority, so the same pruning holds.
        if (best.priority > st.maxPriority) break;
        if (best.priority === st.maxPriority && best.seq < st.maxSeq) continue;
      }
      if (wildcards !== undefined) {
        const idx = st.idx;
        const m = st.maskAt;
        for (let j = 0; j < idx.length; j++) wildcards[idx[j]!] = (wildcards[idx[j]!]! | m[j]!) >>> 0;
      }
      const bucket = st.buckets.get(st.hashKey(key));
      if (bucket === undefined) continue;
      // Best first: soft rules are collected, and the first hard rule is this subtable's answer.
      for (let i = 0; i < bucket.length; i++) {
        const r = bucket[i]!;
        if (!st.same(r.match.value, key)) continue;
        if (isSoft(r)) {
          if (softOut !== undefined) softOut.push(r);
          continue;
        }
        if (best === undefined || beats(r, best)) best = r;
        break;
      }
    }
    return best;
  }

  /** Every rule, in no particular order. */
  *[Symbol.iterator](): IterableIterator<R> {
    for (const st of this.byMask.values()) for (const bucket of st.buckets.values()) yield* bucket;
  }

  /**
   * Rules at least as specific as `target` (every packet they match, `target` matches): OpenFlow's
   * non-strict selection. Subtables whose mask lacks some bit of `target`'s are skipped whole.
   */
  *covered(target: Match): IterableIterator<R> {
    const tm = target.mask;
    const tv = target.value;
    for (const st of this.byMask.values()) {
      let ok = true;
      for (let i = 0; i < KEY_WORDS; i++) if ((tm[i]! & ~st.mask[i]!) !== 0) { ok = false; break; }
      if (!ok) continue;
      for (const bucket of st.buckets.values()) {
        for (const r of bucket) {
          const v = r.match.value;
          let hit = true;
          for (let i = 0; i < KEY_WORDS; i++) if (((v[i]! & tm[i]!) ^ tv[i]!) !== 0) { hit = false; break; }
          if (hit) yield r;
        }
      }
    }
  }
}
