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
  /** Southbound learnt tables that changed (MAC_Binding, FDB, Service_Monitor). */
  sbLearned: Set<string>;
}

export function newTracker(): ChangeTracker {
  return { nb: undefined, sbBindingsForFlows: true, sbLearned: new Set() };
}

/** Tables whose rows never change flows. */
const NO_FLOWS = new Set(['Static_MAC_Binding', 'Connection', 'SSL', 'Chassis_Template_Var', 'Mirror']);

function portsByUuid(m: Model): Map<string, Port> {
  const out = new Map<string, Port>();
  for (const p of m.ports.values()) if (p.kind !== 'cr') out.set(p.uuid, p);
  return out;
}

function neighbours(od: Datapath): Datapath[] {
  return [...od.lsPeers, ...od.lrPeers, ...od.lrpPeersIn.map((p) => p.od), ...od.ports.flatMap((p) => (p.kind === 'lrp' && p.peer?.kind === 'lrp' ? [p.peer.od] : []))];
}

export function affectedDatapaths(oldModel: Model | undefined, newModel: Model, changes: Map<string, Set<string>> | undefined): Set<string> | undefined {
  if (!oldModel || !changes) return undefined;
  const seeds = new Set<string>();
  const models = [oldModel, newModel];
  const oldPorts = portsByUuid(oldModel);
  const newPorts = portsByUuid(newModel);
  const seedWhere = (pred: (od: Datapath, m: Model) => boolean): void => {
    for (const m of models) for (const od of m.dpList) if (pred(od, m)) seeds.add(od.key);
  };
  for (const [table, uuids] of changes) {
    if (NO_FLOWS.has(table)) continue;
    for (const u of uuids) {
      switch (table) {
        case 'Logical_Switch':
        case 'Logical_Router':
          seeds.add(u);
          break;
        case 'Logical_Switch_Port':
        case 'Logical_Router_Port':
          for (const p of [oldPorts.get(u), newPorts.get(u)]) if (p) seeds.add(p.od.key);
          break;
        case 'ACL':
          seedWhere((od, m) => (od.nbs?.acls.includes(u) ?? false) || [...m.input.nb.Port_Group.values()].some((pg) => pg.acls.includes(u) && pg.ports.some((lp) => (m === oldModel ? oldPorts : newPorts).get(lp)?.od === od)));
          break;
        case 'Port_Group':
          for (const m of models) {
            const pg = m.input.nb.Port_Group.get(u);
            const idx = m === oldModel ? oldPorts : newPorts;
            for (const lp of pg?.ports ?? []) {
              const p = idx.get(lp);
              if (p) seeds.add(p.od.key);
            }
          }
          break;
        case 'Address_Set':
          seedWhere((od) => od.nats.some((n) => n.nb.allowed_ext_ips === u || n.nb.exempted_ext_ips === u));
          break;
        case 'NAT':
          seedWhere((od) => od.nbr?.nat.includes(u) ?? false);
          break;
        case 'Logical_Router_Static_Route':
          seedWhere((od) => od.nbr?.static_routes.includes(u) ?? false);
          break;
        case 'Logical_Router_Policy':
          seedWhere((od) => od.nbr?.policies.includes(u) ?? false);
          break;
        case 'Gateway_Chassis':
          seedWhere((od) => od.ports.some((p) => p.nbrp?.gateway_chassis.includes(u) ?? false));
          break;
        case 'BFD':
          seedWhere((od, m) => (od.nbr?.static_routes ?? []).some((r) => m.input.nb.Logical_Router_Static_Route.get(r)?.bfd === u));
          break;
        case 'DHCP_Options':
          seedWhere((od) => od.ports.some((p) => p.nbsp?.dhcpv4_options === u || p.nbsp?.dhcpv6_options === u));
          break;
        case 'DNS':
          seedWhere((od) => od.nbs?.dns_records.includes(u) ?? false);
          break;
        case 'QoS':
          seedWhere((od) => od.nbs?.qos_rules.includes(u) ?? false);
          break;
        case 'Forwarding_Group':
          seedWhere((od) => od.nbs?.forwarding_groups.includes(u) ?? false);
          break;
        case 'Load_Balancer':
          seedWhere((od) => od.lbs.some((lb) => lb.uuid === u));
          // Health-check ARP replies live on the monitored ports' switches.
          for (const m of models) {
            const lb = m.input.nb.Load_Balancer.get(u);
            for (const v of Object.values(lb?.ip_port_mappings ?? {})) {
              const p = m.ports.get(v.split(':')[0]!);
              if (p) seeds.add(p.od.key);
            }
          }
          break;
        case 'Load_Balancer_Group':
          seedWhere((od) => (od.nbs?.load_balancer_group ?? od.nbr?.load_balancer_group ?? []).includes(u));
          break;
        case 'Load_Balancer_Health_Check':
          seedWhere((od, m) => od.lbs.some((lb) => m.input.nb.Load_Balancer.get(lb.uuid)?.health_check.includes(u)));
          break;
        default:
          // NB_Global options, meters, CoPP, HA groups ...: rare; recompute everything.
          return undefined;
      }
    }
  }
  // Widen twice: a changed datapath's neighbours, and theirs.
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
