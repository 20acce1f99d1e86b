/**
 * Which datapaths' flows a set of Northbound row changes can affect. A changed row seeds the
 * datapaths that refer to it (in the old or the new topology); the seeds are then widened to
 * neighbours twice over (switch <-> router <-> switch / router), because flows read
 * neighbours' ports and addresses (ARP/ND for router IPs and NAT/LB addresses on switches,
 * next-hop resolution on routers). `undefined` means "cannot tell: recompute everything".
 */
import type { Datapath, Model, Port } from './model.js';

/** What changed since the engine last ran, as the daemon saw it. */
export interface ChangeTracker {
  /** Changed NB rows by table (UUIDs); undefined when unknown (start, resync). */
  nb: Map<string, Set<string>> | undefined;
  /** Southbound binding changes that flows read (keys, virtual ports); plain up/chassis changes are not. */
  sbBindingsForFlows: boolean;
  /** Southbound binding changes that can change any result (keys, what controllers report). */
  sbBindingsChanged: boolean;
  /** Southbound learnt tables that changed (MAC_Binding, FDB, Service_Monitor). */
  sbLearned: Set<string>;
}

export function newTracker(): ChangeTracker {
  return { nb: undefined, sbBindingsForFlows: true, sbBindingsChanged: true, sbLearned: new Set() };
}

/**
 * Tables whose rows change neither flows nor port bindings. (NB_Global matters only through its
 * options, which the nodes compare themselves.)
 */
const NO_FLOWS = new Set(['NB_Global', 'Static_MAC_Binding', 'Connection', 'SSL', 'Chassis_Template_Var']);

/**
 * Ports (not chassisredirect ones) by NB row UUID, per ports map: each model's ports are
 * indexed once (models share their ports map with their copies).
 */
const portIndex = new WeakMap<ReadonlyMap<string, Port>, Map<string, Port>>();
export function portsByUuid(m: Model): Map<string, Port> {
  let out = portIndex.get(m.ports);
  if (!out) {
    out = new Map();
    for (const p of m.ports.values()) if (p.kind !== 'cr') out.set(p.uuid, p);
    portIndex.set(m.ports, out);
  }
  return out;
}

function neighbours(od: Datapath): Datapath[] {
  return [...od.lsPeers, ...od.lrPeers, ...od.lrpPeersIn.map((p) => p.od), ...od.ports.flatMap((p) => (p.kind === 'lrp' && p.peer?.kind === 'lrp' ? [p.peer.od] : []))];
}

/**
 * For one model: every NB row UUID a datapath refers to (directly or through its ports, port
 * groups, load balancers...), mapped to the datapaths referring to it. Built once per call,
 * so a change to many rows costs one pass over the topology.
 */
const referrerIndex = new WeakMap<Model, Map<string, Set<string>>>();
function referrers(m: Model, ports: Map<string, Port>): Map<string, Set<string>> {
  const cached = referrerIndex.get(m);
  if (cached) return cached;
  const out = new Map<string, Set<string>>();
  referrerIndex.set(m, out);
  const add = (u: string | undefined, od: Datapath): void => {
    if (u === undefined) return;
    const s = out.get(u);
    if (s) s.add(od.key);
    else out.set(u, new Set([od.key]));
  };
  const nb = m.input.nb;
  for (const od of m.dpList) {
    if (od.nbs) {
      for (const u of od.nbs.acls) add(u, od);
      for (const u of od.nbs.dns_records) add(u, od);
      for (const u of od.nbs.qos_rules) add(u, od);
      for (const u of od.nbs.forwarding_groups) add(u, od);
      for (const u of od.nbs.load_balancer_group) add(u, od);
    }
    if (od.nbr) {
      for (const u of od.nbr.nat) add(u, od);
      for (const u of od.nbr.static_routes) {
        add(u, od);
        add(nb.Logical_Router_Static_Route.get(u)?.bfd, od);
      }
      for (const u of od.nbr.policies) add(u, od);
      for (const u of od.nbr.load_balancer_group) add(u, od);
    }
    for (const n of od.nats) {
      add(n.nb.allowed_ext_ips, od);
      add(n.nb.exempted_ext_ips, od);
    }
    for (const lb of od.lbs) {
      add(lb.uuid, od);
      for (const hc of nb.Load_Balancer.get(lb.uuid)?.health_check ?? []) add(hc, od);
    }
    for (const p of od.ports) {
      for (const u of p.nbrp?.gateway_chassis ?? []) add(u, od);
      for (const u of p.nbsp?.mirror_rules ?? []) add(u, od);
      add(p.nbsp?.dhcpv4_options, od);
      add(p.nbsp?.dhcpv6_options, od);
    }
  }
  // Port groups: their ACLs apply on the switches of their member ports.
  for (const pg of nb.Port_Group.values()) {
    for (const lp of pg.ports) {
      const p = ports.get(lp);
      if (!p) continue;
      add(pg._uuid, p.od);
      for (const a of pg.acls) add(a, p.od);
    }
  }
  return out;
}

/**
 * The datapaths of one model that refer to the changed rows (undefined: a change whose reach
 * cannot be told). Called on the model before and on the model after the change.
 */
export function seedDatapaths(m: Model, changes: Map<string, Set<string>>): Set<string> | undefined {
  const seeds = new Set<string>();
  const ports = portsByUuid(m);
  let refs: Map<string, Set<string>> | undefined;
  const seedReferrers = (u: string): void => {
    refs ??= referrers(m, ports);
    for (const k of refs.get(u) ?? []) seeds.add(k);
  };
  const seedPortGroupPorts = (lps: readonly string[]): void => {
    for (const lp of lps) {
      const p = ports.get(lp);
      if (p) seeds.add(p.od.key);
    }
  };
  const few = (changes.get('ACL')?.size ?? 0) + (changes.get('Port_Group')?.size ?? 0) <= 16;
  for (const [table, uuids] of changes) {
    if (NO_FLOWS.has(table)) continue;
    for (const u of uuids) {
      switch (table) {
        case 'Logical_Switch':
        case 'Logical_Router':
          if (m.datapaths.has(u)) seeds.add(u);
          break;
        case 'Logical_Switch_Port':
        case 'Logical_Router_Port': {
          const p = ports.get(u);
          if (p) seeds.add(p.od.key);
          break;
        }
        case 'Load_Balancer': {
          seedReferrers(u);
          // Health-check ARP replies live on the monitored ports' switches.
          const lb = m.input.nb.Load_Balancer.get(u);
          for (const v of Object.values(lb?.ip_port_mappings ?? {})) {
            const p = m.ports.get(v.split(':')[0]!);
            if (p) seeds.add(p.od.key);
          }
          break;
        }
        case 'ACL':
          // A few ACLs: look for them directly (building the whole index costs more).
          if (few) {
            for (const od of m.dpList) if (od.nbs?.acls.includes(u)) seeds.add(od.key);
            for (const pg of m.input.nb.Port_Group.values()) if (pg.acls.includes(u)) seedPortGroupPorts(pg.ports);
          } else seedReferrers(u);
          break;
        case 'Port_Group':
          if (few) seedPortGroupPorts(m.input.nb.Port_Group.get(u)?.ports ?? []);
          else seedReferrers(u);
          break;
        case 'Address_Set':
        case 'NAT':
        case 'Logical_Router_Static_Route':
        case 'Logical_Router_Policy':
        case 'Gateway_Chassis':
        case 'BFD':
        case 'DHCP_Options':
        case 'DNS':
        case 'QoS':
        case 'Forwarding_Group':
        case 'Load_Balancer_Group':
        case 'Load_Balancer_Health_Check':
        case 'Mirror':
          seedReferrers(u);
          break;
        default:
          // NB_Global options, meters, CoPP, HA groups ...: rare; recompute everything.
          return undefined;
      }
    }
  }
  return seeds;
}

/** Adds the neighbours of the seeds, and theirs (in any of the models). */
export function widen(seeds: Set<string>, models: readonly Model[]): Set<string> {
  let frontier = [...seeds];
  for (let hop = 0; hop < 2; hop++) {
    const next: string[] = [];
    for (const k of frontier) {
      for (const m of models) {
        const od = m.datapaths.get(k);
        if (!od) continue;
        for (const n of neighbours(od)) {
          if (!seeds.has(n.key)) {
            seeds.add(n.key);
            next.push(n.key);
          }
        }
      }
    }
    frontier = next;
  }
  return seeds;
}

export function affectedDatapaths(oldModel: Model | undefined, newModel: Model, changes: Map<string, Set<string>> | undefined): Set<string> | undefined {
  if (!oldModel || !changes) return undefined;
  const a = seedDatapaths(oldModel, changes);
  const b = a && seedDatapaths(newModel, changes);
  if (!a || !b) return undefined;
  for (const k of b) a.add(k);
  return widen(a, [oldModel, newModel]);
}
