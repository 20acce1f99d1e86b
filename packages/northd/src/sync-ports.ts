/**
 * Port_Binding rows (type, options, mac, parent/tag ...), the multicast groups datapaths flood
 * to, the HA chassis groups of gateway and external ports, and the NB writes that follow from
 * ports (Logical_Switch_Port.tag from tag_request, .up from Port_Binding.up).
 */
import type { Nb } from '@ovnts/ovsdb';
import type { DesiredHaChassisGroup, DesiredMulticastGroup, DesiredPortBinding } from './desired.js';
import type { Model, Port } from './model.js';
import { lrpIsEnabled, lspIsEnabled } from './model.js';
import { MC_KEYS, type McGroupName } from './tunnel-keys.js';
import { extractLspAddresses } from './addresses.js';
import { routerLbIps } from './lr-common.js';
import { lrpFindMemberIp } from './model.js';
import { portBindingsByName } from './sb-index.js';

const KNOWN_LSP_TYPES = new Set(['', 'l2gateway', 'localnet', 'localport', 'router', 'vtep', 'external', 'virtual', 'remote']);

/** SB HA_Chassis_Group for a distributed gateway port's gateway_chassis (named after the port). */
function haGroupFromGatewayChassis(model: Model, lrp: Nb.LogicalRouterPort): DesiredHaChassisGroup {
  const ha: Record<string, number> = {};
  for (const u of lrp.gateway_chassis) {
    const gc = model.input.nb.Gateway_Chassis.get(u);
    if (gc) ha[gc.chassis_name] = gc.priority;
  }
  return { name: lrp.name, ha_chassis: ha, external_ids: {} };
}

function haGroupFromNb(model: Model, uuid: string): DesiredHaChassisGroup | undefined {
  const g = model.input.nb.HA_Chassis_Group.get(uuid);
  if (!g) return undefined;
  const ha: Record<string, number> = {};
  for (const u of g.ha_chassis) {
    const c = model.input.nb.HA_Chassis.get(u);
    if (c) ha[c.chassis_name] = c.priority;
  }
  return { name: g.name, ha_chassis: ha, external_ids: {} };
}

/**
 * Port_Binding.nat_addresses of a switch port facing a gateway router or distributed gateway
 * port with options:nat-addresses=router (get_nat_addresses): the router MAC with its
 * centralized NAT and LB addresses, one entry per distributed NAT (external MAC), and, where the
 * gateway chassis answers for the router port itself, its MAC and IPv4 addresses.
 */
function routerNatAddresses(model: Model, op: Port, includeLbIps: boolean): string[] {
  const rp = op.peer!;
  const od = rp.od;
  const out: string[] = [];
  const lbIps = routerLbIps(od);
  if (od.nats.length || lbIps.v4Reachable.size || lbIps.v6Reachable.size) {
    let central = rp.lrpNetworks!.eaS;
    let hasCentral = false;
    for (const nat of od.nats) {
      if (nat.family !== 4) continue;
      if (od.l3dgwPorts.length > 1) {
        const gw = nat.nb.gateway_port;
        if (gw === undefined ? !lrpFindMemberIp(rp, nat.externalIp) : model.input.nb.Logical_Router_Port.get(gw)?.name !== rp.name) continue;
      }
      if (od.l3dgwPorts.length && nat.type === 'dnat_and_snat' && nat.nb.logical_port !== undefined && nat.nb.external_mac !== undefined) {
        out.push(`${nat.nb.external_mac} ${nat.nb.external_ip} is_chassis_resident("${nat.nb.logical_port}")`);
      } else if (!rp.lrpNetworks!.ipv4.some((n) => n.addrS === nat.nb.external_ip)) {
        central += ` ${nat.nb.external_ip}`;
        hasCentral = true;
      }
    }
    if (includeLbIps) {
      for (const ip of [...lbIps.v4Reachable, ...lbIps.v6Reachable]) {
        central += ` ${ip}`;
        hasCentral = true;
      }
    }
    if (hasCentral) {
      if (rp.crPort) central += ` is_chassis_resident(${rp.crPort.json})`;
      out.push(central);
    }
  }
  return out;
}

/** The router port's MAC and IPv4 addresses, announced from the gateway chassis. */
function routerPortGarp(op: Port): string | undefined {
  const rp = op.peer;
  if (!rp || rp.kind !== 'lrp') return undefined;
  const od = rp.od;
  const chassis = od.nbr!.options['chassis'];
  let add = false;
  if (od.l3dgwPorts.length) {
    if (rp.crPort) add = true;
    else if (rp.nbrp!.options['reside-on-redirect-chassis'] === 'true' && od.l3dgwPorts.length === 1) add = true;
  } else if (chassis && op.od.localnetPorts.length) add = true;
  if (!add) return undefined;
  let s = [rp.lrpNetworks!.eaS, ...rp.lrpNetworks!.ipv4.map((n) => n.addrS)].join(' ');
  if (od.l3dgwPorts.length) s += ` is_chassis_resident(${(rp.crPort ?? od.l3dgwPorts[0]!.crPort)!.json})`;
  return s;
}

/**
 * Port_Binding options for IPv6 prefix delegation and periodic router advertisements, which
 * ovn-controller sends itself (copy_ra_to_sb).
 */
function raOptions(op: Port, pdList: string | undefined): Record<string, string> {
  const lrp = op.nbrp!;
  const out: Record<string, string> = {};
  if (lrp.peer !== undefined || !op.peer || !op.lrpNetworks!.ipv6.length) return out;
  const enabled = lrpIsEnabled(lrp);
  if (enabled && lrp.options['prefix_delegation'] === 'true') out['ipv6_prefix_delegation'] = 'true';
  if (enabled && lrp.options['prefix'] === 'true') out['ipv6_prefix'] = 'true';
  const ra = lrp.ipv6_ra_configs;
  const mode = ra['address_mode'];
  if (mode === undefined || !['slaac', 'dhcpv6_stateful', 'dhcpv6_stateless'].includes(mode) || ra['send_periodic'] !== 'true') return out;
  const int = (k: string, d: number): number => {
    const n = Number.parseInt(ra[k] ?? '', 10);
    return Number.isFinite(n) ? n : d;
  };
  out['ipv6_ra_send_periodic'] = 'true';
  out['ipv6_ra_address_mode'] = mode;
  const max = Math.min(1800, Math.max(4, int('max_interval', 600)));
  out['ipv6_ra_max_interval'] = String(max);
  const minMax = Math.floor((max * 3) / 4);
  let min = int('min_interval', max >= 9 ? Math.floor(max / 3) : Math.floor((max * 3) / 4));
  min = Math.max(3, Math.min(minMax, min));
  out['ipv6_ra_min_interval'] = String(min);
  const mtu = int('mtu', 0);
  if (mtu >= 1280) out['ipv6_ra_mtu'] = String(mtu);
  const prefixes: string[] = [];
  for (const n of op.lrpNetworks!.ipv6) {
    if (n.network >> 118n === 0xfe80n >> 6n) {
      out['ipv6_ra_src_addr'] = n.addrS;
      continue;
    }
    prefixes.push(`${n.networkS}/${n.plen}`);
  }
  if (pdList !== undefined) prefixes.push(pdList);
  out['ipv6_ra_prefixes'] = prefixes.join(' ').trim();
  for (const k of ['rdnss', 'dnssl', 'route_info']) if (ra[k] !== undefined) out[`ipv6_ra_${k}`] = ra[k]!;
  out['ipv6_ra_src_eth'] = op.lrpNetworks!.eaS;
  const prf = ra['router_preference'];
  out['ipv6_ra_prf'] = prf === 'HIGH' || prf === 'LOW' ? prf : 'MEDIUM';
  return out;
}

export interface PortSync {
  readonly portBindings: Map<string, DesiredPortBinding>;
  readonly haChassisGroups: Map<string, DesiredHaChassisGroup>;
  readonly lspTag: Map<string, number>;
  readonly lspUp: Map<string, boolean>;
}

/** The HA chassis group a chassisredirect port or an external switch port is bound by. */
function portHaGroup(model: Model, op: Port): DesiredHaChassisGroup | undefined {
  if (op.kind === 'cr') {
    const lrp = op.nbrp!;
    if (lrp.ha_chassis_group !== undefined) return haGroupFromNb(model, lrp.ha_chassis_group);
    if (lrp.gateway_chassis.length) return haGroupFromGatewayChassis(model, lrp);
    return undefined;
  }
  const lsp = op.nbsp;
  if (lsp && lsp.type === 'external' && lsp.ha_chassis_group !== undefined) return haGroupFromNb(model, lsp.ha_chassis_group);
  return undefined;
}

/** Every HA chassis group some port uses (a cheap pass over the ports). */
export function syncHaGroups(model: Model): Map<string, DesiredHaChassisGroup> {
  const out = new Map<string, DesiredHaChassisGroup>();
  for (const op of model.ports.values()) {
    if (op.kind === 'lrp') continue;
    const g = portHaGroup(model, op);
    if (g) out.set(g.name, g);
  }
  return out;
}

/** Every port, or the ports (with their chassisredirect ports) of the datapaths in `only`. */
function* portsOf(model: Model, only: ReadonlySet<string> | undefined): Iterable<Port> {
  if (!only) {
    yield* model.ports.values();
    return;
  }
  for (const k of only) {
    const od = model.datapaths.get(k);
    if (!od) continue;
    for (const op of od.ports) {
      if (model.ports.get(op.name) !== op) continue;
      yield op;
      if (op.crPort && model.ports.get(op.crPort.name) === op.crPort) yield op.crPort;
    }
  }
}

/**
 * The Port_Binding rows of every port (or only of the ports on datapaths in `only`), with the
 * NB writes that follow from them.
 */
export function syncPorts(model: Model, only?: ReadonlySet<string>): PortSync {
  const portBindings = new Map<string, DesiredPortBinding>();
  const haChassisGroups = new Map<string, DesiredHaChassisGroup>();
  const lspTag = new Map<string, number>();
  const lspUp = new Map<string, boolean>();
  const sbByName = portBindingsByName(model.input.sb.Port_Binding);

  // Nested containers with tag_request 0 get the lowest tag free under their parent (the tags
  // in use are gathered when first needed).
  let tagsInUse: Map<string, Set<number>> | undefined;
  const allocTag = (parent: string): number | undefined => {
    if (!tagsInUse) {
      tagsInUse = new Map();
      for (const op of model.ports.values()) {
        const lsp = op.nbsp;
        if (!lsp || !lsp.parent_name || lsp.tag === undefined) continue;
        const s = tagsInUse.get(lsp.parent_name) ?? new Set<number>();
        s.add(lsp.tag);
        tagsInUse.set(lsp.parent_name, s);
      }
    }
    const s = tagsInUse.get(parent) ?? new Set<number>();
    tagsInUse.set(parent, s);
    for (let t = 1; t <= 4095; t++) {
      if (!s.has(t)) {
        s.add(t);
        return t;
      }
    }
    return undefined;
  };

  for (const op of portsOf(model, only)) {
    const od = op.od;
    if (op.kind === 'lrp' || op.kind === 'cr') {
      const lrp = op.nbrp!;
      const chassis = od.nbr!.options['chassis'];
      const options: Record<string, string> = {};
      let type = 'patch';
      let ha: string | undefined;
      if (op.kind === 'cr') {
        type = 'chassisredirect';
        const g = portHaGroup(model, op);
        if (g) {
          haChassisGroups.set(g.name, g);
          ha = g.name;
        }
        options['distributed-port'] = lrp.name;
        let always = !od.nats.some((n) => n.distributed);
        const rt = lrp.options['redirect-type'];
        if (rt !== undefined) {
          options['redirect-type'] = rt;
          if (rt === 'bridged') always = false;
        }
        if (always) options['always-redirect'] = 'true';
      } else {
        if (chassis) type = 'l3gateway';
        if (op.peer) {
          options['peer'] = op.peer.name;
          if (op.crPort) options['chassis-redirect-port'] = op.crPort.name;
        }
        if (chassis) options['l3gateway-chassis'] = chassis;
      }
      const sbpd = sbByName.get(op.name)?.options['ipv6_ra_pd_list'];
      if (sbpd !== undefined) options['ipv6_ra_pd_list'] = sbpd;
      if (op.kind === 'lrp') Object.assign(options, raOptions(op, sbpd));
      // Plain literals (no spread): one object shape for every row, which V8 builds fast.
      portBindings.set(op.name, {
        logical_port: op.name,
        datapath: od.key,
        tunnel_key: op.tunnelKey,
        type,
        mac: [[lrp.mac, ...lrp.networks].join(' ')],
        options,
        parent_port: undefined,
        tag: undefined,
        nat_addresses: [],
        port_security: [],
        external_ids: {},
        ha_chassis_group: ha,
        requested_chassis: undefined,
        mirror_rules: [],
      });
      continue;
    }
    const lsp = op.nbsp!;
    // tag_request -> tag (nested containers needing allocation are not supported yet).
    let tag = lsp.tag;
    if (lsp.tag_request !== undefined && lsp.tag_request !== 0) {
      tag = lsp.tag_request;
      lspTag.set(lsp._uuid, tag);
    } else if (lsp.tag_request === 0 && lsp.parent_name) {
      if (tag === undefined) tag = allocTag(lsp.parent_name);
      if (tag !== undefined) lspTag.set(lsp._uuid, tag);
    }
    const externalIds: Record<string, string> = { ...lsp.external_ids };
    const pname = lsp.external_ids['neutron:port_name'];
    if (pname) externalIds['name'] = pname;
    let type: string;
    let options: Record<string, string>;
    let nat: string[] = [];
    let ha: string | undefined;
    let requested: string | undefined;
    if (lsp.type !== 'router') {
      options = { ...lsp.options };
      if (od.nbs!.other_config['vlan-passthru'] === 'true') options['vlan-passthru'] = 'true';
      const activated = sbByName.get(op.name)?.options['additional-chassis-activated'];
      if (activated !== undefined) options['additional-chassis-activated'] = activated;
      type = KNOWN_LSP_TYPES.has(lsp.type) ? lsp.type : '';
      {
        const g = portHaGroup(model, op);
        if (g) {
          haChassisGroups.set(g.name, g);
          ha = g.name;
        }
      }
      requested = lsp.options['requested-chassis'];
    } else {
      const chassis = op.peer?.od.nbr?.options['chassis'];
      type = chassis ? 'l3gateway' : 'patch';
      options = {};
      const rp = lsp.options['router-port'];
      if (rp !== undefined) options['peer'] = rp;
      if (chassis) options['l3gateway-chassis'] = chassis;
      const natAddresses = lsp.options['nat-addresses'];
      const l3dgw = op.peer !== undefined && op.peer.od.l3dgwPorts.length > 0;
      if (natAddresses === 'router') {
        if (op.peer && (chassis || l3dgw)) nat = routerNatAddresses(model, op, lsp.options['exclude-lb-vips-from-garp'] !== 'true');
      } else if (natAddresses !== undefined && (chassis || l3dgw) && extractLspAddresses(natAddresses)) {
        let s = natAddresses;
        if (l3dgw) {
          const dgp = op.peer!.crPort ? op.peer! : op.peer!.od.l3dgwPorts[0]!;
          s += ` is_chassis_resident(${dgp.crPort!.json})`;
        }
        nat = [s];
      }
      const garp = routerPortGarp(op);
      if (garp !== undefined) nat.push(garp);
    }
    // LSP.up mirrors Port_Binding.up (router ports are always up).
    const sbpb = sbByName.get(op.name);
    let up = false;
    if (lsp.type === 'router') up = true;
    else if (sbpb && sbpb.chassis !== undefined) up = sbpb.up ?? true;
    lspUp.set(lsp._uuid, up);
    portBindings.set(op.name, {
      logical_port: op.name,
      datapath: od.key,
      tunnel_key: op.tunnelKey,
      type,
      mac: lsp.addresses,
      options,
      parent_port: lsp.parent_name,
      tag,
      nat_addresses: nat,
      port_security: lsp.port_security,
      external_ids: externalIds,
      ha_chassis_group: ha,
      requested_chassis: requested,
      mirror_rules: lsp.mirror_rules.map((u) => model.input.nb.Mirror.get(u)?.name).filter((n): n is string => n !== undefined),
    });
  }
  return { portBindings, haChassisGroups, lspTag, lspUp };
}

/** _MC_flood, _MC_flood_l2, _MC_unknown, _MC_mrouter_flood, _MC_static (build_mcast_groups). */
export function buildMulticastGroups(model: Model, only?: ReadonlySet<string>): Map<string, DesiredMulticastGroup> {
  const groups = new Map<string, { datapath: string; name: McGroupName; ports: string[] }>();
  const add = (dp: string, name: McGroupName, port: string): void => {
    if (only && !only.has(dp)) return;
    const k = `${dp}\u0000${name}`;
    const g = groups.get(k);
    if (g) g.ports.push(port);
    else groups.set(k, { datapath: dp, name, ports: [port] });
  };
  // Router ports add their peer switch ports to that switch's _MC_mrouter_flood: with `only`,
  // also the routers next to the switches asked for.
  const extra: Port[] = [];
  if (only) for (const k of only) for (const rp of model.datapaths.get(k)?.routerPorts ?? []) if (rp.peer) extra.push(rp.peer);
  for (const op of [...portsOf(model, only), ...extra]) {
    if (op.kind === 'lrp') {
      if (!lrpIsEnabled(op.nbrp!)) continue;
      if (op.od.nbr!.options['mcast_relay'] === 'true' && op.peer && op.peer.kind === 'lsp') add(op.peer.od.key, '_MC_mrouter_flood', op.peer.name);
      if (op.nbrp!.options['mcast_flood'] === 'true') add(op.od.key, '_MC_static', op.name);
    } else if (op.kind === 'lsp') {
      const lsp = op.nbsp!;
      if (!lspIsEnabled(lsp)) continue;
      add(op.od.key, '_MC_flood', op.name);
      if (lsp.type !== 'router') add(op.od.key, '_MC_flood_l2', op.name);
      if (op.hasUnknown) add(op.od.key, '_MC_unknown', op.name);
      if (op.od.nbs!.other_config['mcast_flood_reports'] === 'true' || lsp.options['mcast_flood_reports'] === 'true') add(op.od.key, '_MC_mrouter_flood', op.name);
      if (lsp.options['mcast_flood'] === 'true') add(op.od.key, '_MC_static', op.name);
    }
  }
  const out = new Map<string, DesiredMulticastGroup>();
  for (const [k, g] of groups) out.set(k, { datapath: g.datapath, name: g.name, tunnel_key: MC_KEYS[g.name], ports: [...new Set(g.ports)].sort() });
  return out;
}
