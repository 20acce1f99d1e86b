/**
 * Typed rows of replicated tables, as maps by UUID, kept from the IDL's change batches. Maps are
 * copied on write (as overlays, overlay-map.ts): a snapshot handed to the engine (and kept in a
 * model) never changes under it, and an update costs in proportion to the rows that changed.
 */
import type { Idl, IdlRowChange, TableModel, TypedRow } from '@ovnts/ovsdb';
import { noteLineage } from './sb-index.js';
import { OverlayMap } from './overlay-map.js';

export type AnyModel = TableModel<TypedRow>;

export interface TableUpdate {
  /** Every table was rebuilt (first use, after a resync). */
  readonly all: boolean;
  /** Changes applied, by table (empty when `all`). */
  readonly changes: ReadonlyMap<string, readonly IdlRowChange[]>;
}

export class TableCache {
  private tables = new Map<string, ReadonlyMap<string, TypedRow>>();
  private pending = new Map<string, IdlRowChange[]>();
  private stale = true;
  private readonly names: ReadonlySet<string>;

  constructor(
    private readonly idl: Idl,
    private readonly models: Readonly<Record<string, AnyModel>>,
    names: readonly string[],
  ) {
    this.names = new Set(names);
  }

  /** Records a change batch of the IDL (applied at the next update()). */
  note(batch: readonly IdlRowChange[]): void {
    if (this.stale) return;
    for (const c of batch) {
      if (!this.names.has(c.table)) continue;
      const l = this.pending.get(c.table);
      if (l) l.push(c);
      else this.pending.set(c.table, [c]);
    }
  }

  /** Rebuild everything at the next update() (after a resync). */
  invalidate(): void {
    this.stale = true;
    this.pending.clear();
  }

  get hasPending(): boolean {
    return this.stale || this.pending.size > 0;
  }

  /** Applies what changed since the last update. */
  update(): TableUpdate {
    if (this.stale) {
      this.tables = new Map();
      for (const t of this.names) {
        const m = new Map<string, TypedRow>();
        const model = this.models[t]!;
        for (const row of this.idl.rows(t)) m.set(row.uuid, model.fromIdlRow(row));
        this.tables.set(t, m);
      }
      this.stale = false;
      this.pending.clear();
      return { all: true, changes: new Map() };
    }
    const changes = this.pending;
    this.pending = new Map();
    for (const [t, list] of changes) {
      const model = this.models[t]!;
      const parent = this.tables.get(t)!;
      const m = OverlayMap.with(parent, (put, del) => {
        for (const c of list) {
          if (c.new) put(c.uuid, model.fromIdlRow(c.new));
          else del(c.uuid);
        }
      });
      noteLineage(m, parent, list);
      this.tables.set(t, m);
    }
    return { all: false, changes };
  }

  get(t: string): ReadonlyMap<string, TypedRow> {
    const m = this.tables.get(t);
    if (!m) throw new Error(`table ${t} is not cached`);
    return m;
  }

  /** The cached tables `names` as a record (for the engine's inputs). */
  part(names: Iterable<string>): Record<string, ReadonlyMap<string, TypedRow>> {
    const out: Record<string, ReadonlyMap<string, TypedRow>> = {};
    for (const t of names) out[t] = this.get(t);
    return out;
  }
}
