/**
 * Indexes of Southbound table snapshots that follow the snapshots' lineage: the table cache
 * records, for each new snapshot, the one it was copied from and the changes applied, so an
 * index of the new snapshot is the previous index plus those changes instead of a rebuild.
 */
import { Sb, type IdlRowChange } from '@ovnts/ovsdb';
import { OverlayMap } from './overlay-map.js';

type Snapshot = ReadonlyMap<string, unknown>;

const lineage = new WeakMap<Snapshot, { parent: Snapshot; changes: readonly IdlRowChange[] }>();

/** Records that `child` is `parent` with `changes` applied. */
export function noteLineage(child: Snapshot, parent: Snapshot, changes: readonly IdlRowChange[]): void {
  lineage.set(child, { parent, changes });
}

const byName = new WeakMap<Snapshot, ReadonlyMap<string, Sb.PortBinding>>();

/** Port_Binding rows by logical_port. */
export function portBindingsByName(t: ReadonlyMap<string, Sb.PortBinding>): ReadonlyMap<string, Sb.PortBinding> {
  let m = byName.get(t);
  if (m) return m;
  const l = lineage.get(t);
  const pm = l ? byName.get(l.parent) : undefined;
  if (l && pm) {
    m = OverlayMap.with(pm, (put, del) => {
      // The entry per name as the changes go (a row may come and go within one batch).
      const now = new Map<string, Sb.PortBinding | undefined>();
      const cur = (k: string): Sb.PortBinding | undefined => (now.has(k) ? now.get(k) : pm.get(k));
      for (const c of l.changes) {
        if (c.old) {
          const o = Sb.tables.Port_Binding.fromIdlRow(c.old);
          if (cur(o.logical_port)?._uuid === c.uuid) {
            del(o.logical_port);
            now.set(o.logical_port, undefined);
          }
        }
        if (c.new) {
          const n = Sb.tables.Port_Binding.fromIdlRow(c.new);
          put(n.logical_port, n);
          now.set(n.logical_port, n);
        }
      }
    });
  } else {
    const fresh = new Map<string, Sb.PortBinding>();
    for (const pb of t.values()) fresh.set(pb.logical_port, pb);
    m = fresh;
  }
  byName.set(t, m);
  return m;
}
