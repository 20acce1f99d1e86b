/**
 * The logical flows of all datapaths, assembled from per-datapath units. A unit is everything
 * one datapath's builders produce (flows on that datapath only); replacing a unit updates the
 * flows it contributed and, for each flow text whose datapath set changed, the desired
 * Logical_Flow row (one row per distinct flow, with a datapath group when it is on several).
 */
import { flowIdentity, type DesiredLflow } from './desired.js';
import type { Lflow, LflowTable } from './lflow-table.js';

interface Shared {
  /** The flow text (any unit's copy: all are equal but for hint/source). */
  readonly flow: Lflow;
  /** Contributing datapaths, with their unit's copy (for its hint and source). */
  readonly dps: Map<string, Lflow>;
}

const EMPTY: ReadonlyMap<string, Lflow> = new Map();

export class FlowSet {
  private readonly units = new Map<string, ReadonlyMap<string, Lflow>>();
  private readonly shared = new Map<string, Shared>();
  /** Flow key -> identity of its current desired row. */
  private readonly identityOf = new Map<string, string>();
  private readonly rows = new Map<string, DesiredLflow>();
  /** Flow keys whose desired row must be redone (batched until `desired` is read). */
  private readonly pending = new Set<string>();
  /** Identities of desired rows added or removed since the last takeTouched(). */
  private touched = new Set<string>();

  /** Desired Logical_Flow rows by identity (see desired.ts). */
  get desired(): Map<string, DesiredLflow> {
    if (this.pending.size) {
      for (const k of this.pending) this.refresh(k);
      this.pending.clear();
    }
    return this.rows;
  }

  /**
   * The identities of the desired rows added or removed since the last call (what a writer
   * that applied the previous state must look at).
   */
  takeTouched(): Set<string> {
    void this.desired;
    const t = this.touched;
    this.touched = new Set();
    return t;
  }

  /** Replaces the flows of datapath `dp` with those in `table` (all must be on `dp`). */
  setUnit(dp: string, table: LflowTable): void {
    for (const f of table.values()) if (f.dp !== dp) throw new Error(`flow of unit ${dp} on datapath ${f.dp}: ${f.stage.name} ${f.match}`);
    this.replace(dp, table.map);
  }

  removeUnit(dp: string): void {
    this.replace(dp, new Map());
  }

  get unitKeys(): IterableIterator<string> {
    return this.units.keys();
  }

  private replace(dp: string, next: ReadonlyMap<string, Lflow>): void {
    const prev = this.units.get(dp) ?? EMPTY;
    const changed = this.pending;
    for (const k of prev.keys()) {
      if (next.has(k)) continue;
      const s = this.shared.get(k)!;
      s.dps.delete(dp);
      if (!s.dps.size) this.shared.delete(k);
      changed.add(k);
    }
    for (const [k, f] of next) {
      const p = prev.get(k);
      if (p && p.hint === f.hint && p.source === f.source) continue;
      let s = this.shared.get(k);
      if (!s) {
        s = { flow: f, dps: new Map() };
        this.shared.set(k, s);
      }
      s.dps.set(dp, f);
      changed.add(k);
    }
    if (next.size) this.units.set(dp, next);
    else this.units.delete(dp);
  }

  private refresh(k: string): void {
    const old = this.identityOf.get(k);
    if (old !== undefined) {
      this.rows.delete(old);
      this.identityOf.delete(k);
      this.touched.add(old);
    }
    const s = this.shared.get(k);
    if (!s) return;
    const datapaths = [...s.dps.keys()].sort();
    // Hint and source from the first datapath (in key order) that gives a hint: deterministic
    // whatever order units were built in.
    const first = datapaths.map((d) => s.dps.get(d)!).find((x) => x.hint !== undefined) ?? s.dps.get(datapaths[0]!)!;
    const f = s.flow;
    const ext: Record<string, string> = { 'stage-name': f.stage.name };
    if (first.hint !== undefined) ext['stage-hint'] = first.hint.slice(0, 8);
    if (first.source !== undefined) ext['source'] = first.source;
    const identity = flowIdentity(f.stage.pipeline, f.stage.table, f.priority, f.match, f.actions, f.meter, f.ioPort, datapaths);
    this.identityOf.set(k, identity);
    this.touched.add(identity);
    this.rows.set(identity, {
      datapaths,
      pipeline: f.stage.pipeline,
      table_id: f.stage.table,
      priority: f.priority,
      match: f.match,
      actions: f.actions,
      controller_meter: f.meter,
      tags: f.ioPort !== undefined ? { in_out_port: f.ioPort } : {},
      external_ids: ext,
    });
  }
}
