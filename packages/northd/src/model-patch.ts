/**
 * Updates the topology in place for the most common Northbound changes instead of rebuilding
 * it: ports added to, removed from or changed on existing switches (not router-type ports),
 * switch rows whose port, ACL or QoS lists changed, and rows the topology does not hold at all
 * (ACLs, port groups, address sets, DHCP options, DNS, routes, policies...). Anything else
 * (routers and their ports, NAT, load balancers, gateway chassis, datapaths added or removed,
 * requested tunnel keys, IPAM) returns undefined: the caller rebuilds the model.
 *
 * The previous model object is consumed (its datapaths are updated in place); the datapaths
 * the change reaches are worked out from its state before the update and the new state after.
 */
import type { Nb } from '@ovnts/ovsdb';
import type { NorthdInput } from './input.js';
import { portsByUuid, seedDatapaths, widen } from './incremental.js';
import { existingPortKey, sbDatapathKeys } from './keys.js';
import { lspIsEnabled, newPort, parsedLsp, type Datapath, type Model, type Port } from './model.js';
import { KeyAllocator, MAX_PORT_KEY, MAX_PORT_VXLAN_KEY } from './tunnel-keys.js';

/** Tables whose changes the patch handles. */
const PATCHABLE = new Set([
  'Logical_Switch_Port',
  'Logical_Switch',
  'ACL',
  'Port_Group',
  'Address_Set',
  'QoS',
  'DNS',
  'DHCP_Options',
  'Forwarding_Group',
  'Mirror',
  'Static_MAC_Binding',
  'Chassis_Template_Var',
  'NB_Global',
  'Logical_Router_Static_Route',
  'Logical_Router_Policy',
  'BFD',
]);

export interface ModelPatch {
  readonly model: Model;
  /** Datapaths whose flows and port bindings may have changed. */
  readonly affected: Set<string>;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

const isRouterLsp = (l: Nb.LogicalSwitchPort): boolean => l.type === 'router' || l.addresses.some((a) => a.trim() === 'router');

/** Switches with IPAM (dynamic addresses are allocated across the whole NB): not patched. */
function usesIpam(m: Model): boolean {
  return m.dpList.some((od) => {
    const oc = od.nbs?.other_config;
    return oc !== undefined && (oc['subnet'] !== undefined || oc['ipv6_prefix'] !== undefined || oc['mac_only'] === 'true');
  });
}

export function patchModel(prev: Model, input: NorthdInput, changes: Map<string, Set<string>>, vxlanMode: boolean): ModelPatch | undefined {
  for (const t of changes.keys()) if (!PATCHABLE.has(t)) return undefined;
  // With IPAM, or with duplicate port names (the first one wins), a change reaches further.
  if (usesIpam(prev) || prev.shadowedPorts > 0) return undefined;
  const nb = input.nb;
  const oldNb = prev.input.nb;

  // The switches to rebuild: changed switch rows, and the switches of changed ports.
  const touched = new Set<string>();
  for (const u of changes.get('Logical_Switch') ?? []) {
    const o = oldNb.Logical_Switch.get(u);
    const n = nb.Logical_Switch.get(u);
    if (!o || !n || !prev.datapaths.has(u)) return undefined; // a switch added or removed
    if (o.name !== n.name || !sameRecord(o.other_config, n.other_config) || !sameStrings(o.load_balancer, n.load_balancer) || !sameStrings(o.load_balancer_group, n.load_balancer_group)) return undefined;
    touched.add(u);
  }
  const oldPorts = portsByUuid(prev);
  const lspChanged = changes.get('Logical_Switch_Port') ?? new Set<string>();
  for (const u of lspChanged) {
    for (const r of [oldNb.Logical_Switch_Port.get(u), nb.Logical_Switch_Port.get(u)]) {
      if (r && (isRouterLsp(r) || r.options['requested-tnl-key'] !== undefined)) return undefined;
    }
    const op = oldPorts.get(u);
    if (op && op.kind === 'lsp') touched.add(op.od.key);
  }

  // The new port lists, worked out before anything is changed.
  const plans = new Map<string, { od: Datapath; row: Nb.LogicalSwitch; ports: (Port | Nb.LogicalSwitchPort)[] }>();
  const leaving = new Set<Port>();
  const arriving = new Set<string>();
  for (const k of touched) {
    const od = prev.datapaths.get(k)!;
    const row = nb.Logical_Switch.get(k);
    if (od.kind !== 'ls' || !row) return undefined;
    const before = new Map(od.ports.map((p) => [p.uuid, p]));
    const routersBefore = od.ports.filter((p) => p.nbsp!.type === 'router').map((p) => p.uuid);
    const routersAfter: string[] = [];
    const ports: (Port | Nb.LogicalSwitchPort)[] = [];
    for (const u of row.ports) {
      const lsp = nb.Logical_Switch_Port.get(u);
      if (!lsp) continue;
      if (lsp.type === 'router') routersAfter.push(u);
      const keep = before.get(u);
      if (keep && !lspChanged.has(u)) {
        ports.push(keep);
        before.delete(u);
      } else {
        ports.push(lsp);
        arriving.add(lsp.name);
      }
    }
    // Router ports (and so peers) must stay as they are.
    if (!sameStrings(routersBefore, routersAfter)) return undefined;
    for (const p of before.values()) leaving.add(p);
    plans.set(k, { od, row, ports });
  }
  // A changed port whose switch is not being rebuilt (a port attached elsewhere, or a name
  // conflict being resolved): rebuild everything.
  for (const u of lspChanged) {
    const n = nb.Logical_Switch_Port.get(u);
    if (n && oldPorts.get(u)?.kind !== 'lsp' && ![...plans.values()].some((p) => p.row.ports.includes(u))) return undefined;
  }
  // Names stay unique: an arriving name may only be one that is leaving (or new).
  for (const name of arriving) {
    const cur = prev.ports.get(name);
    if (cur && !leaving.has(cur) && !(cur.nbsp && lspChanged.has(cur.uuid))) return undefined;
  }
  const names = new Set<string>();
  for (const p of plans.values()) {
    for (const x of p.ports) {
      if (names.has(x.name)) return undefined;
      names.add(x.name);
    }
  }
  const oldSeeds = seedDatapaths(prev, changes);
  if (!oldSeeds) return undefined;

  // ---- from here on the previous model is updated.
  const sb = input.sb;
  const dpOfSb = sbDatapathKeys(sb);
  const dynamicAddressWrites = new Map(prev.dynamicAddressWrites);
  for (const p of leaving) dynamicAddressWrites.delete(p.uuid);
  for (const { od, row, ports } of plans.values()) {
    const d = od as Mutable<Datapath>;
    d.nbs = row;
    const alloc = new KeyAllocator(1, vxlanMode ? MAX_PORT_VXLAN_KEY : MAX_PORT_KEY);
    const list: Port[] = [];
    const fresh: Port[] = [];
    for (const x of ports) {
      if ('kind' in x) {
        alloc.reserve(x.tunnelKey);
        list.push(x);
        continue;
      }
      const op = newPort(x.name, 'lsp', od, x._uuid, x);
      const parsed = parsedLsp(x);
      op.lspAddrs.push(...parsed.addrs);
      op.psAddrs.push(...parsed.ps);
      op.hasUnknown = parsed.unknown;
      list.push(op);
      fresh.push(op);
      // Without IPAM, a stale dynamic_addresses is cleared.
      if (x.dynamic_addresses !== undefined) dynamicAddressWrites.set(x._uuid, undefined);
      else dynamicAddressWrites.delete(x._uuid);
    }
    // Keys as assignPortKeys gives them: the SB's key when free, then the lowest free ones.
    for (const op of fresh) {
      const e = existingPortKey(sb, dpOfSb, op.name);
      if (e && e.dp === od.key && alloc.reserve(e.key)) op.tunnelKey = e.key;
    }
    for (const op of fresh) if (!op.tunnelKey) op.tunnelKey = alloc.allocate() ?? 0;
    d.ports = list;
    d.hasUnknown = list.some((p) => p.hasUnknown && lspIsEnabled(p.nbsp!));
    d.localnetPorts = list.filter((p) => p.nbsp!.type === 'localnet');
    d.vtepPorts = list.filter((p) => p.nbsp!.type === 'vtep');
  }
  // The ports map and its UUID index are updated in place (the previous model is consumed;
  // nothing reads the ports map in an order that matters).
  const index = portsByUuid(prev);
  for (const p of leaving) {
    if (prev.ports.get(p.name) === p) prev.ports.delete(p.name);
    if (index.get(p.uuid) === p) index.delete(p.uuid);
  }
  for (const { od } of plans.values()) {
    for (const p of od.ports) {
      prev.ports.set(p.name, p);
      index.set(p.uuid, p);
    }
  }
  const ports = prev.ports;
  const model: Model = { input, datapaths: prev.datapaths, dpList: prev.dpList, ports, lbs: prev.lbs, dynamicAddressWrites, shadowedPorts: 0 };
  const newSeeds = seedDatapaths(model, changes);
  if (!newSeeds) throw new Error('patchModel: seeds of the new model cannot be told');
  for (const k of newSeeds) oldSeeds.add(k);
  return { model, affected: widen(oldSeeds, [model]) };
}
