/**
 * Conditional monitoring (ovn-controller's default): a chassis replicates only the Southbound
 * rows of its *local datapaths* — those with a port bound here (a VIF or a gateway port hosted
 * here) and every datapath reachable from them through patch ports, since a packet from a local
 * VIF crosses those pipelines on this chassis. Logical flows, multicast groups and MAC bindings
 * of other datapaths never reach it. Monitor conditions are disjunctions: a row is replicated
 * when any clause holds.
 *
 * To find its ports before their datapaths are local, the chassis also asks for the
 * Port_Binding of each local VIF's iface-id, the peers of patch ports on local datapaths, and
 * every gateway port (few, and needed to place gateways).
 */
import type { Sb } from '@ovnts/ovsdb';

type Clause = readonly [column: string, fn: '==', value: unknown];
/** A table's monitor condition (clauses ORed), or undefined for every row. */
export type MonitorConditions = Readonly<Record<string, readonly (Clause | boolean)[] | undefined>>;

export interface LocalView {
  readonly ports: readonly Sb.PortBinding[];
  readonly dpGroups: readonly Sb.LogicalDPGroup[];
  /** This chassis' Chassis row UUID, once registered. */
  readonly chassisUuid: string | undefined;
  /** iface-ids of the VIFs on this chassis' integration bridge. */
  readonly ifaceIds: ReadonlySet<string>;
  /** Gateway ports this chassis hosts. */
  readonly gateways: ReadonlySet<string>;
}

/** Datapath UUIDs with a local port, closed under patch-port peering. */
export function localDatapaths(v: LocalView): Set<string> {
  const byName = new Map(v.ports.map((p) => [p.logical_port, p]));
  const byDatapath = new Map<string, Sb.PortBinding[]>();
  for (const p of v.ports) {
    const list = byDatapath.get(p.datapath);
    if (list) list.push(p);
    else byDatapath.set(p.datapath, [p]);
  }
  const local = new Set<string>();
  const queue: string[] = [];
  const add = (dp: string): void => {
    if (local.has(dp)) return;
    local.add(dp);
    queue.push(dp);
  };
  for (const p of v.ports) {
    if (v.ifaceIds.has(p.logical_port) || v.gateways.has(p.logical_port) || (v.chassisUuid !== undefined && p.chassis === v.chassisUuid)) add(p.datapath);
  }
  for (let dp = queue.shift(); dp !== undefined; dp = queue.shift()) {
    for (const p of byDatapath.get(dp) ?? []) {
      const peer = p.options['peer'];
      if ((p.type === 'patch' || p.type === 'l3gateway') && peer !== undefined) {
        const q = byName.get(peer);
        if (q) add(q.datapath);
      }
    }
  }
  return local;
}

const uuid = (u: string): unknown => ['uuid', u];

/** The Southbound monitor conditions for this view (tables not named: every row). */
export function monitorConditions(v: LocalView, local: ReadonlySet<string> = localDatapaths(v)): MonitorConditions {
  const dps = [...local].sort();
  const peers = new Set<string>();
  for (const p of v.ports) {
    const peer = p.options['peer'];
    if (local.has(p.datapath) && peer !== undefined) peers.add(peer);
  }
  const groups = v.dpGroups.filter((g) => g.datapaths.some((d) => local.has(d))).map((g) => g._uuid).sort();
  const onDatapaths = (column: string): (Clause | boolean)[] => (dps.length ? dps.map((d): Clause => [column, '==', uuid(d)]) : [false]);
  return {
    Port_Binding: [
      ['type', '==', 'chassisredirect'],
      ['type', '==', 'l3gateway'],
      ...dps.map((d): Clause => ['datapath', '==', uuid(d)]),
      ...[...new Set([...v.ifaceIds, ...peers])].sort().map((n): Clause => ['logical_port', '==', n]),
    ],
    Logical_Flow: dps.length || groups.length ? [...dps.map((d): Clause => ['logical_datapath', '==', uuid(d)]), ...groups.map((g): Clause => ['logical_dp_group', '==', uuid(g)])] : [false],
    Multicast_Group: onDatapaths('datapath'),
    MAC_Binding: onDatapaths('datapath'),
  };
}
