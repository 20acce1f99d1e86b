/**
 * The logical topology northd compiles, joined from Northbound rows: datapaths (switches and
 * routers) and their ports, with peers linked (switch port of type "router" <-> router port,
 * router port <-> router port), addresses parsed, chassisredirect ports derived for distributed
 * gateway ports, NAT rules and load balancers attached. Pure data: no flows here.
 */
import type { Nb } from '@ovnts/ovsdb';
import { extractLrpNetworks, extractLspAddresses, isDynamicLspAddress, type LportAddresses } from './addresses.js';
import type { NbTables, NorthdInput } from './input.js';
import { parseLb, type Lb } from './lb.js';
import { parseNat, type NatEntry } from './nat.js';
import { ip6Mask, parseIp4, parseIp6 } from './ip.js';

export type DatapathKind = 'ls' | 'lr';

export interface Datapath {
  /** NB row UUID: the datapath's identity. */
  readonly key: string;
  readonly kind: DatapathKind;
  readonly name: string;
  readonly nbs: Nb.LogicalSwitch | undefined;
  readonly nbr: Nb.LogicalRouter | undefined;
  tunnelKey: number;
  /** Ports in NB order (router: LRPs; switch: LSPs). Derived cr- ports are not listed here. */
  readonly ports: Port[];
  // --- switches
  /** LSPs of type "router" with a peer. */
  readonly routerPorts: Port[];
  readonly localnetPorts: Port[];
  readonly vtepPorts: Port[];
  hasUnknown: boolean;
  readonly lbs: Lb[];
  // --- routers
  /** options:chassis set: a gateway router bound to one chassis. */
  readonly isGwRouter: boolean;
  /** Distributed gateway ports (LRPs with gateway_chassis / ha_chassis_group). */
  readonly l3dgwPorts: Port[];
  readonly nats: NatEntry[];
  /** Unique SNAT external IPs (snat rules). */
  readonly snatIps: Map<string, NatEntry[]>;
  /** external_mac of distributed dnat_and_snat rules. */
  readonly externalMacs: string[];
  /** Switches connected to this router through router ports. */
  readonly lsPeers: Datapath[];
  /** Routers connected to this switch. */
  readonly lrPeers: Datapath[];
  /** Router ports of other routers whose `peer` is a port of this router. */
  readonly lrpPeersIn: Port[];
}

export type PortKind = 'lsp' | 'lrp' | 'cr';

export interface Port {
  /** Logical port name (Port_Binding.logical_port). */
  readonly name: string;
  /** JSON-quoted name, as flows write it. */
  readonly json: string;
  readonly kind: PortKind;
  readonly od: Datapath;
  readonly nbsp: Nb.LogicalSwitchPort | undefined;
  readonly nbrp: Nb.LogicalRouterPort | undefined;
  peer: Port | undefined;
  tunnelKey: number;
  /** Parsed `addresses` (LSP), with "router" replaced by the peer's networks. */
  readonly lspAddrs: LportAddresses[];
  /** Parsed `port_security` (LSP). */
  readonly psAddrs: LportAddresses[];
  /** Router port networks (LRP, and cr- ports: their primary's). */
  readonly lrpNetworks: LportAddresses | undefined;
  hasUnknown: boolean;
  /** For a distributed gateway port: its chassisredirect port. */
  crPort: Port | undefined;
  /** For a chassisredirect port: the distributed gateway port it stands for. */
  l3dgwPort: Port | undefined;
  /** The NB row UUID (stage hints). */
  readonly uuid: string;
  /** Addresses IPAM assigned for a "dynamic" entry (Logical_Switch_Port.dynamic_addresses). */
  dynamicAddresses: string | undefined;
}

export interface Model {
  readonly input: NorthdInput;
  /** By NB UUID. */
  readonly datapaths: Map<string, Datapath>;
  /** Switches then routers, each in name order (deterministic iteration). */
  readonly dpList: Datapath[];
  /** By logical port name, including derived cr- ports. */
  readonly ports: Map<string, Port>;
  /** Load balancers by NB UUID. */
  readonly lbs: Map<string, Lb>;
  /** Logical_Switch_Port.dynamic_addresses IPAM wants, by LSP UUID (filled by runIpam). */
  readonly dynamicAddressWrites: Map<string, string | undefined>;
  /** Ports left out because another port has the same name. */
  readonly shadowedPorts: number;
}

function newDatapath(key: string, kind: DatapathKind, name: string, nbs: Nb.LogicalSwitch | undefined, nbr: Nb.LogicalRouter | undefined): Datapath {
  return {
    key,
    kind,
    name,
    nbs,
    nbr,
    tunnelKey: 0,
    ports: [],
    routerPorts: [],
    localnetPorts: [],
    vtepPorts: [],
    hasUnknown: false,
    lbs: [],
    isGwRouter: nbr !== undefined && (nbr.options['chassis'] ?? '') !== '',
    l3dgwPorts: [],
    nats: [],
    snatIps: new Map(),
    externalMacs: [],
    lsPeers: [],
    lrPeers: [],
    lrpPeersIn: [],
  };
}

/*
 * Parsed row contents, memoized per row object. Typed rows are immutable and the same object
 * while the row is unchanged, so rebuilding the model after a small change re-parses only the
 * rows that changed. (The parsed values are shared between models and never mutated.)
 */
interface LspParsed {
  readonly addrs: readonly LportAddresses[];
  readonly ps: readonly LportAddresses[];
  readonly unknown: boolean;
}
const lspMemo = new WeakMap<Nb.LogicalSwitchPort, LspParsed>();
const lrpMemo = new WeakMap<Nb.LogicalRouterPort, LportAddresses | null>();
const lbMemo = new WeakMap<Nb.LoadBalancer, Lb>();
const natMemo = new WeakMap<Nb.NAT, NatEntry | null>();

export function parsedLsp(lsp: Nb.LogicalSwitchPort): LspParsed {
  let p = lspMemo.get(lsp);
  if (!p) {
    const addrs: LportAddresses[] = [];
    const ps: LportAddresses[] = [];
    let unknown = false;
    for (const a of lsp.addresses) {
      const t = a.trim();
      if (t === 'unknown') {
        unknown = true;
        continue;
      }
      if (t === 'router') continue;
      // "dynamic" entries get their addresses from IPAM (ipam.ts).
      if (isDynamicLspAddress(t)) continue;
      const parsed = extractLspAddresses(t);
      if (parsed) addrs.push(parsed);
    }
    for (const a of lsp.port_security) {
      const parsed = extractLspAddresses(a);
      if (parsed) ps.push(parsed);
    }
    p = { addrs, ps, unknown };
    lspMemo.set(lsp, p);
  }
  return p;
}

function parsedLrp(lrp: Nb.LogicalRouterPort): LportAddresses | undefined {
  let p = lrpMemo.get(lrp);
  if (p === undefined) {
    p = extractLrpNetworks(lrp.mac, lrp.networks) ?? null;
    lrpMemo.set(lrp, p);
  }
  return p ?? undefined;
}

function parsedLb(row: Nb.LoadBalancer): Lb {
  let p = lbMemo.get(row);
  if (!p) {
    p = parseLb(row);
    lbMemo.set(row, p);
  }
  return p;
}

function parsedNat(row: Nb.NAT): NatEntry | undefined {
  let p = natMemo.get(row);
  if (p === undefined) {
    p = parseNat(row) ?? null;
    natMemo.set(row, p);
  }
  return p ?? undefined;
}

export function newPort(name: string, kind: PortKind, od: Datapath, uuid: string, nbsp?: Nb.LogicalSwitchPort, nbrp?: Nb.LogicalRouterPort): Port {
  return {
    name,
    json: JSON.stringify(name),
    kind,
    od,
    nbsp,
    nbrp,
    peer: undefined,
    tunnelKey: 0,
    lspAddrs: [],
    psAddrs: [],
    lrpNetworks: nbrp ? parsedLrp(nbrp) : undefined,
    hasUnknown: false,
    crPort: undefined,
    l3dgwPort: undefined,
    uuid,
    dynamicAddresses: undefined,
  };
}

const byName = <T extends { name: string; _uuid: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : a._uuid < b._uuid ? -1 : 1);

export function lspIsEnabled(p: Nb.LogicalSwitchPort): boolean {
  return p.enabled !== false;
}

export function lrpIsEnabled(p: Nb.LogicalRouterPort): boolean {
  return p.enabled !== false;
}

/** Builds the topology from the NB tables. */
export function buildModel(input: NorthdInput): Model {
  const nb: NbTables = input.nb;
  const datapaths = new Map<string, Datapath>();
  const ports = new Map<string, Port>();
  const lbs = new Map<string, Lb>();
  for (const lb of nb.Load_Balancer.values()) lbs.set(lb._uuid, parsedLb(lb));

  const lbsOf = (direct: readonly string[], groups: readonly string[]): Lb[] => {
    const seen = new Set<string>();
    const out: Lb[] = [];
    const add = (u: string): void => {
      const lb = lbs.get(u);
      if (lb && !seen.has(u)) {
        seen.add(u);
        out.push(lb);
      }
    };
    direct.forEach(add);
    for (const g of groups) nb.Load_Balancer_Group.get(g)?.load_balancer.forEach(add);
    return out;
  };

  const switches = [...nb.Logical_Switch.values()].sort(byName);
  const routers = [...nb.Logical_Router.values()].sort(byName);
  for (const ls of switches) {
    const od = newDatapath(ls._uuid, 'ls', ls.name, ls, undefined);
    od.lbs.push(...lbsOf(ls.load_balancer, ls.load_balancer_group));
    datapaths.set(ls._uuid, od);
  }
  for (const lr of routers) {
    if (lr.enabled === false) continue;
    const od = newDatapath(lr._uuid, 'lr', lr.name, undefined, lr);
    od.lbs.push(...lbsOf(lr.load_balancer, lr.load_balancer_group));
    datapaths.set(lr._uuid, od);
  }

  // Ports. A port name must be unique across the whole NB; OVN keeps the first it meets.
  let shadowed = 0;
  for (const od of datapaths.values()) {
    if (od.nbs) {
      for (const u of od.nbs.ports) {
        const lsp = nb.Logical_Switch_Port.get(u);
        if (!lsp) continue;
        if (ports.has(lsp.name)) {
          shadowed++;
          continue;
        }
        const op = newPort(lsp.name, 'lsp', od, lsp._uuid, lsp);
        ports.set(lsp.name, op);
        od.ports.push(op);
        const parsed = parsedLsp(lsp);
        op.lspAddrs.push(...parsed.addrs);
        op.psAddrs.push(...parsed.ps);
        op.hasUnknown = parsed.unknown;
        if (op.hasUnknown && lspIsEnabled(lsp)) od.hasUnknown = true;
        if (lsp.type === 'localnet') od.localnetPorts.push(op);
        if (lsp.type === 'vtep') od.vtepPorts.push(op);
      }
    } else if (od.nbr) {
      for (const u of od.nbr.ports) {
        const lrp = nb.Logical_Router_Port.get(u);
        if (!lrp) continue;
        if (ports.has(lrp.name)) {
          shadowed++;
          continue;
        }
        const op = newPort(lrp.name, 'lrp', od, lrp._uuid, undefined, lrp);
        if (!op.lrpNetworks) continue;
        ports.set(lrp.name, op);
        od.ports.push(op);
      }
    }
  }

  // Distributed gateway ports and their chassisredirect ports (not on gateway routers).
  for (const od of datapaths.values()) {
    if (!od.nbr || od.isGwRouter) continue;
    for (const op of od.ports) {
      const lrp = op.nbrp!;
      const isDgp = lrp.gateway_chassis.length > 0 || lrp.ha_chassis_group !== undefined || (lrp.options['redirect-chassis'] ?? '') !== '';
      if (!isDgp) continue;
      const crName = `cr-${lrp.name}`;
      if (ports.has(crName)) continue;
      const cr = newPort(crName, 'cr', od, lrp._uuid, undefined, lrp);
      cr.l3dgwPort = op;
      op.crPort = cr;
      ports.set(crName, cr);
      od.l3dgwPorts.push(op);
    }
  }

  // Peers.
  for (const op of ports.values()) {
    if (op.kind === 'lsp' && op.nbsp!.type === 'router') {
      const peerName = op.nbsp!.options['router-port'];
      if (peerName === undefined) continue;
      const peer = ports.get(peerName);
      if (!peer || peer.kind !== 'lrp' || peer.peer) continue;
      op.peer = peer;
      peer.peer = op;
      op.od.routerPorts.push(op);
      if (!op.od.lrPeers.includes(peer.od)) op.od.lrPeers.push(peer.od);
      if (!peer.od.lsPeers.includes(op.od)) peer.od.lsPeers.push(op.od);
      if (op.nbsp!.addresses.some((a) => a.trim() === 'router') && peer.lrpNetworks) op.lspAddrs.push(peer.lrpNetworks);
    }
  }
  for (const op of ports.values()) {
    if (op.kind === 'lrp' && op.nbrp!.peer !== undefined && !op.peer) {
      const peer = ports.get(op.nbrp!.peer);
      if (peer && peer.kind === 'lrp') {
        op.peer = peer;
        peer.od.lrpPeersIn.push(op);
      }
    }
  }

  // NAT.
  for (const od of datapaths.values()) {
    if (!od.nbr) continue;
    for (const u of od.nbr.nat) {
      const row = nb.NAT.get(u);
      if (!row) continue;
      const e = parsedNat(row);
      if (!e) continue;
      od.nats.push(e);
      if (e.type === 'snat') {
        const l = od.snatIps.get(e.externalIp);
        if (l) l.push(e);
        else od.snatIps.set(e.externalIp, [e]);
      }
      if (e.distributed && !od.externalMacs.includes(row.external_mac!)) od.externalMacs.push(row.external_mac!);
    }
  }

  const dpList = [...datapaths.values()];
  return { input, datapaths, dpList, ports, lbs, dynamicAddressWrites: new Map(), shadowedPorts: shadowed };
}

/** The JSON-quoted port name, as in `outport == "vm1"`. */
export function jsonKey(name: string): string {
  return JSON.stringify(name);
}

/** The port's primary MAC for a router port. */
export function lrpMac(op: Port): string {
  return op.lrpNetworks!.eaS;
}

/** The router port's network address (text) whose subnet holds `ip` (lrp_find_member_ip). */
export function lrpFindMemberIp(op: Port, ip: string): string | undefined {
  const nets = op.lrpNetworks;
  if (!nets) return undefined;
  const a4 = parseIp4(ip);
  if (a4 !== undefined) {
    for (const n of nets.ipv4) if (((a4 & n.mask) >>> 0) === n.network) return n.addrS;
    return undefined;
  }
  const a6 = parseIp6(ip);
  if (a6 !== undefined) {
    for (const n of nets.ipv6) if ((a6 & ip6Mask(n.plen)) === n.network) return n.addrS;
  }
  return undefined;
}
