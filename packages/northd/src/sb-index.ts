/**
 * Indexes of Southbound table snapshots that follow the snapshots' lineage: the table cache
 * records, for each new snapshot, the one it was copied from and the changes applied, so an
 * index of the new snapshot is the previous index plus those changes instead of a rebuild.
 */
import { Sb, type IdlRowChange } from '@ovnts/ovsdb';

type Snapshot = ReadonlyMap<string, unknown>;

const lineage = new WeakMap<Snapshot, { parent: Snapshot; changes: readonly IdlRowChange[] }>();

/** Records that `child` is `parent` with `changes` applied. */
export function noteLineage(child: Snapshot, parent: Snapshot, changes: readonly IdlRowChange[]): void {
  lineage.set(child, { parent, changes });
}

const byName = new WeakMap<Snapshot, Map<string, Sb.PortBinding>>();

/** Port_Binding rows by logical_port. */
export function portBindingsByName(t: ReadonlyMap<string, Sb.PortBinding>): ReadonlyMap<string, Sb.PortBinding> {
  let m = byName.get(t);
  if (m) return m;
  const l = lineage.get(t);
  const pm = l ? byName.get(l.parent) : undefined;
  if (l && pm) {
    m = new Map(pm);
    for (const c of l.changes) {
      if (c.old) {
        const o = Sb.tables.Port_Binding.fromIdlRow(c.old);
        if (m.get(o.logical_port)?._uuid === c.uuid) m.delete(o.logical_port);
      }
      if (c.new) {
        const n = Sb.tables.Port_Binding.fromIdlRow(c.new);
        m.set(n.logical_port, n);
      }
    }
  } else {
    m = new Map();
    for (const pb of t.values()) m.set(pb.logical_port, pb);
  }
  byName.set(t, m);
  return m;
}
