/**
 * Flow and group tables that record when they change, so the megaflow cache can tell whether a
 * cached decision is still valid. Every change bumps a sequence number and stamps the tables
 * (or group ids) it touched with it; a cache entry remembers the sequence number it was built at
 * and the tables and groups its translation read, and is stale once any of them carries a newer
 * stamp. A global epoch lets valid entries skip the check until something changes again.
 */
import { GroupTable } from '../flow/group.js';
import type { Group } from '../flow/group.js';
import { FlowTables } from '../flow/table.js';
import type { FlowEntry, FlowMod, FlowModResult, FlowTablesOptions } from '../flow/table.js';

export class ChangeTracker {
  /** Bumped on every change; stamps are values of it. */
  seq = 1;
  /** Bumped on every change too: a cache entry validated at the current epoch needs no check. */
  epoch = 1;
  /** Changes that invalidate everything (invalidate(), clear) are stamped here. */
  allStamp = 0;
  readonly tableStamp: Float64Array;
  readonly groupStamp = new Map<number, number>();

  constructor(nTables: number) {
    this.tableStamp = new Float64Array(nTables);
  }

  touchTable(t: number): void {
    this.tableStamp[t] = ++this.seq;
    this.epoch++;
  }

  touchGroup(id: number): void {
    this.groupStamp.set(id, ++this.seq);
    this.epoch++;
  }

  touchAll(): void {
    this.allStamp = ++this.seq;
    this.epoch++;
  }

  /** Has nothing a translation built at `since` read (these tables and groups) changed? */
  unchangedSince(since: number, tables: Uint8Array, groups: readonly number[] | undefined): boolean {
    if (this.allStamp > since) return false;
    const ts = this.tableStamp;
    for (let i = 0; i < tables.length; i++) if (ts[tables[i]!]! > since) return false;
    if (groups !== undefined) for (let i = 0; i < groups.length; i++) if ((this.groupStamp.get(groups[i]!) ?? 0) > since) return false;
    return true;
  }
}

/** FlowTables that stamp the tables each successful flow mod, bundle or expiry touched. */
export class TrackedFlowTables extends FlowTables {
  readonly tracker: ChangeTracker;

  constructor(opts: FlowTablesOptions = {}, tracker?: ChangeTracker) {
    super(opts);
    this.tracker = tracker ?? new ChangeTracker(this.nTables);
  }

  override apply(mod: FlowMod): FlowModResult {
    const r = super.apply(mod);
    this.touch(r);
    return r;
  }

  override bundle(mods: readonly FlowMod[]): FlowModResult {
    const r = super.bundle(mods);
    this.touch(r);
    return r;
  }

  override expire(now?: number): FlowEntry[] {
    const gone = now === undefined ? super.expire() : super.expire(now);
    const seen = new Set<number>();
    for (const e of gone) seen.add(e.table);
    for (const t of seen) this.tracker.touchTable(t);
    return gone;
  }

  override clear(): void {
    super.clear();
    this.tracker.touchAll();
  }

  private touch(r: FlowModResult): void {
    const seen = new Set<number>();
    for (const list of [r.added, r.modified, r.removed]) for (const e of list) seen.add(e.table);
    for (const t of seen) this.tracker.touchTable(t);
  }
}

/** A GroupTable that stamps the group ids each add, modify or delete touched. */
export class TrackedGroupTable extends GroupTable {
  constructor(readonly tracker: ChangeTracker) {
    super();
  }

  override add(group: Group): void {
    super.add(group);
    this.tracker.touchGroup(group.id);
  }

  override modify(group: Group, mayCreate = false): void {
    super.modify(group, mayCreate);
    this.tracker.touchGroup(group.id);
  }

  override delete(id?: number): number {
    if (id === undefined) {
      const n = super.delete();
      this.tracker.touchAll();
      return n;
    }
    const n = super.delete(id);
    this.tracker.touchGroup(id);
    return n;
  }
}
