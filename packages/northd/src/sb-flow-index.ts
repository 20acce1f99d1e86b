/**
 * An index of the Southbound Logical_Flow table by flow identity (see desired.ts flowIdentity),
 * kept up to date from the IDL's change batches, so that diffing the desired flows against
 * the Southbound DB costs map lookups instead of re-deriving every row's identity each run.
 * A datapath whose key changes, or a datapath group whose members change, makes it rebuild itself.
 */
import { Sb, typedTable, type Idl, type IdlRowChange } from '@ovnts/ovsdb';
import { flowIdentity } from './desired.js';

const T = Sb.tables;

export interface IndexedFlow {
  readonly uuid: string;
  readonly identity: string;
  readonly externalIds: Readonly<Record<string, string>>;
}

export class SbFlowIndex {
  private byUuid = new Map<string, IndexedFlow>();
  /** identity -> row UUIDs holding it (more than one only after foreign inserts). */
  private byIdentity = new Map<string, string[]>();
  private stale = true;
  private dpKey = new Map<string, string>();
  private groupKey = new Map<string, string[]>();

  constructor(private readonly idl: Idl) {}

  /** Forget everything; the next use rebuilds from the replica. */
  invalidate(): void {
    this.stale = true;
  }

  /** Feeds one IDL change batch. */
  apply(batch: readonly IdlRowChange[]): void {
    if (this.stale) return;
    for (const c of batch) {
      if (c.table === 'Datapath_Binding') {
        // Identities name datapaths by key: only a row whose key changed invalidates them.
        // (A datapath is deleted after every flow on it, a group after its last flow.)
        if (c.old === null) continue;
        if (c.new === null) {
          this.dpKey.delete(c.uuid);
          continue;
        }
        const ko = T.Datapath_Binding.fromIdlRow(c.old).external_ids;
        const kn = T.Datapath_Binding.fromIdlRow(c.new).external_ids;
        if ((ko['logical-switch'] ?? ko['logical-router']) === (kn['logical-switch'] ?? kn['logical-router'])) continue;
        this.stale = true;
        return;
      }
      if (c.table === 'Logical_DP_Group') {
        if (c.old === null) continue;
        if (c.new === null) {
          this.groupKey.delete(c.uuid);
          continue;
        }
        this.stale = true;
        return;
      }
      if (c.table !== 'Logical_Flow') continue;
      if (c.old) this.remove(c.uuid);
      if (c.new) {
        const f = this.describe(T.Logical_Flow.fromIdlRow(c.new));
        if (!f) {
          this.stale = true;
          return;
        }
        this.add(f);
      }
    }
  }

  private remove(uuid: string): void {
    const f = this.byUuid.get(uuid);
    if (!f) return;
    this.byUuid.delete(uuid);
    const l = this.byIdentity.get(f.identity);
    if (!l) return;
    const i = l.indexOf(uuid);
    if (i >= 0) l.splice(i, 1);
    if (!l.length) this.byIdentity.delete(f.identity);
  }

  private add(f: IndexedFlow): void {
    this.byUuid.set(f.uuid, f);
    const l = this.byIdentity.get(f.identity);
    if (l) l.push(f.uuid);
    else this.byIdentity.set(f.identity, [f.uuid]);
  }

  private keyOfDp(u: string): string {
    let k = this.dpKey.get(u);
    if (k === undefined) {
      const row = this.idl.get('Datapath_Binding', u);
      if (row) {
        const dp = T.Datapath_Binding.fromIdlRow(row);
        k = dp.external_ids['logical-switch'] ?? dp.external_ids['logical-router'];
      }
      k = k ?? `?${u}`;
      this.dpKey.set(u, k);
    }
    return k;
  }

  private keysOfGroup(u: string): string[] | undefined {
    let g = this.groupKey.get(u);
    if (g === undefined) {
      const row = this.idl.get('Logical_DP_Group', u);
      if (!row) return undefined;
      g = T.Logical_DP_Group.fromIdlRow(row).datapaths.map((d) => this.keyOfDp(d)).sort();
      this.groupKey.set(u, g);
    }
    return g;
  }

  private describe(f: Sb.LogicalFlow): IndexedFlow | undefined {
    let dps: string[];
    if (f.logical_datapath !== undefined) dps = [this.keyOfDp(f.logical_datapath)];
    else if (f.logical_dp_group !== undefined) {
      const g = this.keysOfGroup(f.logical_dp_group);
      if (!g) return undefined;
      dps = g;
    } else dps = [];
    return { uuid: f._uuid, identity: flowIdentity(f.pipeline, f.table_id, f.priority, f.match, f.actions, f.controller_meter, f.tags['in_out_port'], dps), externalIds: f.external_ids };
  }

  private rebuild(): void {
    this.byUuid = new Map();
    this.byIdentity = new Map();
    this.dpKey = new Map();
    this.groupKey = new Map();
    for (const f of typedTable(this.idl, T.Logical_Flow)) {
      const d = this.describe(f);
      if (d) this.add(d);
    }
    this.stale = false;
  }

  /** Every indexed flow (rebuilding first if needed). */
  flows(): IterableIterator<IndexedFlow> {
    if (this.stale) this.rebuild();
    return this.byUuid.values();
  }

  /** The row UUIDs holding an identity. */
  get(identity: string): readonly string[] | undefined {
    if (this.stale) this.rebuild();
    return this.byIdentity.get(identity);
  }

  lookup(uuid: string): IndexedFlow | undefined {
    if (this.stale) this.rebuild();
    return this.byUuid.get(uuid);
  }
}
