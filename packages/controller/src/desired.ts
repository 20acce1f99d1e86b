/**
 * From the Southbound contents and this chassis' local state to the switch flows it needs: every
 * logical flow compiled per datapath, plus the physical flows. A pure function (no I/O), so the
 * controller can run it on any change and a test can run it on a hand-made Southbound.
 */
import type { MatchLookup } from '@ovnts/lflow';
import type { Sb } from '@ovnts/ovsdb';
import { compileLogicalFlow } from './compile/lflow.js';
import { DesiredFlows } from './flow-state.js';
import { gatewayPlacement } from './gateway.js';
import type { LflowCache } from './lflow-cache.js';
import { physicalFlows, type PhysDatapath, type PhysicalMemo, type PhysPort } from './physical.js';

/** The Southbound rows the controller reads (typed rows of packages/ovsdb's Sb models). */
export interface SouthboundState {
  readonly datapaths: readonly Sb.DatapathBinding[];
  readonly ports: readonly Sb.PortBinding[];
  readonly flows: readonly Sb.LogicalFlow[];
  readonly dpGroups: readonly Sb.LogicalDPGroup[];
  readonly multicastGroups: readonly Sb.MulticastGroup[];
  readonly macBindings: readonly Sb.MACBinding[];
  readonly addressSets: readonly Sb.AddressSet[];
  readonly portGroups: readonly Sb.PortGroup[];
  readonly chassis: readonly Sb.Chassis[];
  readonly haGroups: readonly Sb.HAChassisGroup[];
  readonly haChassis: readonly Sb.HAChassis[];
  /** DNS records (for pinctrl's dns_lookup; not needed to compute flows). */
  readonly dns?: readonly Sb.DNS[];
}

export interface LocalState {
  /** This chassis' name (system-id). */
  readonly chassis: string;
  /** Local VIFs: logical port (iface-id) → OpenFlow port. */
  readonly vifs: ReadonlyMap<string, number>;
  /** Tunnel port towards each remote chassis. */
  readonly tunnels: ReadonlyMap<string, number>;
  /** Conntrack zone allocator (stable across recomputes). */
  zone(owner: string): number;
  /** Compiled logical flows kept from earlier rounds (without it, every flow is compiled). */
  readonly cache?: LflowCache;
  /** Each port's physical flows from earlier rounds. */
  readonly physicalMemo?: PhysicalMemo;
}

export interface ComputeResult {
  readonly flows: DesiredFlows;
  /** Logical flows that failed to compile, with the reason (ovn-controller logs these). */
  readonly errors: readonly { readonly uuid: string; readonly error: string }[];
  readonly logicalFlows: number;
}

export function computeDesired(sb: SouthboundState, local: LocalState, previousGroups?: ReadonlyMap<string, number>): ComputeResult {
  const out = new DesiredFlows(previousGroups);
  const chassisName = new Map(sb.chassis.map((c) => [c._uuid, c.name]));
  const dpByUuid = new Map(sb.datapaths.map((d) => [d._uuid, d]));
  const isRouter = (d: Sb.DatapathBinding): boolean => 'logical-router' in d.external_ids;
  const physDps: PhysDatapath[] = sb.datapaths.map((d) => ({
    key: d.tunnel_key,
    isRouter: isRouter(d),
    dnatZone: isRouter(d) ? local.zone(`${d._uuid}_dnat`) : 0,
    snatZone: isRouter(d) ? local.zone(`${d._uuid}_snat`) : 0,
  }));

  // Port keys by datapath key and name (ports and multicast groups share the namespace).
  const keys = new Map<string, number>();
  const pbByUuid = new Map(sb.ports.map((p) => [p._uuid, p]));
  const pbByName = new Map(sb.ports.map((p) => [p.logical_port, p]));
  const physPorts: PhysPort[] = [];
  // Gateway ports are local on their gateway chassis only; elsewhere they are remote ports there.
  const placement = gatewayPlacement(sb);
  for (const p of sb.ports) {
    const dp = dpByUuid.get(p.datapath);
    if (!dp) continue;
    keys.set(`${dp.tunnel_key}/${p.logical_port}`, p.tunnel_key);
    const boundTo = p.chassis === undefined ? undefined : chassisName.get(p.chassis);
    const ofport = boundTo === local.chassis ? local.vifs.get(p.logical_port) : undefined;
    const gateway = placement.get(p.logical_port);
    let type = p.type;
    if (p.type === 'l3gateway') type = gateway === local.chassis ? 'patch' : 'remote';
    else if (p.type === 'chassisredirect') type = gateway === local.chassis ? 'chassisredirect' : 'remote';
    const localish = ofport !== undefined || type === 'patch' || type === 'chassisredirect';
    physPorts.push({
      name: p.logical_port,
      datapathKey: dp.tunnel_key,
      key: p.tunnel_key,
      type,
      peer: p.options['peer'],
      distributedPort: p.options['distributed-port'],
      chassis: gateway ?? boundTo,
      portSecurity: p.port_security,
      ofport,
      zone: localish ? local.zone(type === 'chassisredirect' ? (p.options['distributed-port'] ?? p.logical_port) : p.logical_port) : 0,
    });
  }
  const mcGroups = sb.multicastGroups.flatMap((g) => {
    const dp = dpByUuid.get(g.datapath);
    if (!dp) return [];
    keys.set(`${dp.tunnel_key}/${g.name}`, g.tunnel_key);
    return [{ datapathKey: dp.tunnel_key, key: g.tunnel_key, ports: g.ports.map((u) => pbByUuid.get(u)?.logical_port ?? '').filter(Boolean) }];
  });

  for (const f of physicalFlows({
    chassis: local.chassis,
    datapaths: physDps,
    ports: physPorts,
    multicastGroups: mcGroups,
    macBindings: sb.macBindings.map((b) => ({ port: b.logical_port, ip: b.ip, mac: b.mac })),
    tunnels: local.tunnels,
  }, local.physicalMemo)) out.add(f);

  // Logical flows, per datapath.
  const groups = new Map(sb.dpGroups.map((g) => [g._uuid, g.datapaths]));
  const addressSets = new Map(sb.addressSets.map((a) => [a.name, a.addresses]));
  const portGroups = new Map(sb.portGroups.map((g) => [g.name, g.ports]));
  const lookupFor = (dpKey: number): MatchLookup => ({
    addressSet: (n) => addressSets.get(n),
    portGroup: (n) => portGroups.get(`${dpKey}_${n}`) ?? portGroups.get(n),
  });
  const envs = new Map<number, ReturnType<typeof makeEnv>>();
  const cache = local.cache;
  cache?.begin();
  const errors: { uuid: string; error: string }[] = [];
  let logicalFlows = 0;
  const makeEnv = (dpKey: number) => ({
      lookup: lookupFor(dpKey),
      addressSet: (n: string) => addressSets.get(n),
      portGroup: (n: string) => portGroups.get(`${dpKey}_${n}`) ?? portGroups.get(n),
      portKey: (dk: number, name: string) => keys.get(`${dk}/${name}`),
      isChassisResident: (port: string) => {
        const placed = placement.get(port);
        if (placed !== undefined) return placed === local.chassis;
        const pb = pbByName.get(port);
        return pb?.chassis !== undefined && chassisName.get(pb.chassis) === local.chassis;
      },
      allocConjunctionId: () => out.allocConjunctionId(),
      addSelectGroup: (b: Parameters<DesiredFlows['addSelectGroup']>[0]) => out.addSelectGroup(b),
  });
  const env = (dpKey: number): ReturnType<typeof makeEnv> => {
    let e = envs.get(dpKey);
    if (!e) envs.set(dpKey, (e = makeEnv(dpKey)));
    return e;
  };
  for (const f of sb.flows) {
    const dpUuids = f.logical_datapath !== undefined ? [f.logical_datapath] : f.logical_dp_group !== undefined ? (groups.get(f.logical_dp_group) ?? []) : [];
    for (const u of dpUuids) {
      const dp = dpByUuid.get(u);
      if (!dp) continue;
      logicalFlows++;
      const input = { uuid: f._uuid, pipeline: f.pipeline, table: f.table_id, priority: f.priority, match: f.match, actions: f.actions };
      const dpInput = { key: dp.tunnel_key, isRouter: isRouter(dp) };
      const r = cache ? cache.compile(input, dpInput, env(dp.tunnel_key)) : compileLogicalFlow(input, dpInput, env(dp.tunnel_key));
      if (r.error !== undefined) errors.push({ uuid: f._uuid, error: r.error });
      for (const x of r.flows) out.add(x);
    }
  }
  cache?.end();
  return { flows: out, errors, logicalFlows };
}
