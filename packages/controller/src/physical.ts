/**
 * The physical flows of one chassis (ovn-architecture(7), "Life Cycle of a Packet"): how packets
 * enter the logical pipelines from VIFs and tunnels, leave them to local VIFs, peer datapaths
 * (patch ports) and remote chassis (Geneve, VNI = datapath key, option = ingress/egress port
 * keys), plus the lookup tables that logical actions consult (MAC bindings, port security).
 * A pure function of what the controller knows; the controller diffs its output into the switch.
 */
import type { Action, SubField } from '@ovnts/switch/dist/src/flow/actions.js';
import type { Match } from '@ovnts/switch/dist/src/flow/match.js';
import { newMatch, setExact, setMasked } from '@ovnts/switch/dist/src/flow/match.js';
import { field } from '@ovnts/switch';
import { Lexer } from '@ovnts/lflow';
import { FLAGS_LOC, INPORT_LOC, METADATA_LOC, OUTPORT_LOC } from './compile/fields.js';
import { FLAG_BIT, OFTABLE, REG } from './compile/layout.js';
import type { DesiredFlow } from './compile/lflow.js';

export interface PhysDatapath {
  readonly key: number;
  readonly isRouter: boolean;
  /** Conntrack zones of a router's DNAT and SNAT (allocated by the controller). */
  readonly dnatZone: number;
  readonly snatZone: number;
}

export interface PhysPort {
  readonly name: string;
  readonly datapathKey: number;
  readonly key: number;
  /**
   * 'patch' (also a gateway port hosted here), 'chassisredirect' (hosted here), 'remote' (a
   * gateway port hosted on another chassis), or the Port_Binding type.
   */
  readonly type: string;
  /** Peer port name for patch ports. */
  readonly peer: string | undefined;
  /** For a chassisredirect port: the distributed gateway port it redirects to. */
  readonly distributedPort?: string | undefined;
  /** The chassis the port is bound to (by name), if any. */
  readonly chassis: string | undefined;
  readonly portSecurity: readonly string[];
  /** OpenFlow port of a local VIF (or localnet patch), when attached here. */
  readonly ofport: number | undefined;
  /** Conntrack zone of a local port. */
  readonly zone: number;
}

export interface PhysMulticastGroup {
  readonly datapathKey: number;
  readonly key: number;
  readonly ports: readonly string[];
}

export interface PhysMacBinding {
  readonly port: string;
  readonly ip: string;
  readonly mac: string;
}

export interface PhysicalInput {
  readonly chassis: string;
  readonly datapaths: readonly PhysDatapath[];
  readonly ports: readonly PhysPort[];
  readonly multicastGroups: readonly PhysMulticastGroup[];
  readonly macBindings: readonly PhysMacBinding[];
  /** OpenFlow tunnel port towards each remote chassis, by chassis name. */
  readonly tunnels: ReadonlyMap<string, number>;
}

const COOKIE = 0n;

function ones(bits: number): bigint {
  return (1n << BigInt(bits)) - 1n;
}

function set(fieldName: string, value: bigint | number, ofs = 0, bits?: number): Action {
  const width = bits ?? field(fieldName.replace(/^eth_/, 'dl_')).bits;
  return { type: 'set_field', field: fieldName, value: (BigInt(value) & ones(width)) << BigInt(ofs), mask: ones(width) << BigInt(ofs) };
}

function sf(fieldName: string, ofs: number, bits: number): SubField {
  return { field: fieldName, ofs, bits };
}

function flow(table: number, priority: number, match: Match, actions: Action[]): DesiredFlow {
  return { table, priority, match, actions, cookie: COOKIE };
}

function onDatapath(dp: number): Match {
  const m = newMatch();
  setExact(m, METADATA_LOC, dp);
  return m;
}

function parseInt(text: string): { value: bigint; mask: bigint | undefined; format: string } | undefined {
  try {
    const t = new Lexer(text).next();
    return t.kind === 'int' ? { value: t.value, mask: t.mask, format: t.format } : undefined;
  } catch {
    return undefined;
  }
}

/** The logical registers reg0..reg9 set to zero, as OVN does where a new pipeline starts. */
const CLEAR_LOGICAL_REGS: Action[] = Array.from({ length: 10 }, (_, i) => set(`reg${i}`, 0, 0, 32));

/** Each port's physical flows from the last round, with the inputs they were made from. */
export type PhysicalMemo = Map<string, { readonly sig: string; readonly flows: readonly DesiredFlow[] }>;

export function physicalFlows(input: PhysicalInput, memo?: PhysicalMemo): DesiredFlow[] {
  const flows: DesiredFlow[] = [];
  const dps = new Map(input.datapaths.map((d) => [d.key, d]));
  const byName = new Map(input.ports.map((p) => [p.name, p]));
  const isLocal = (p: PhysPort): boolean => p.ofport !== undefined || p.type === 'patch' || p.type === 'localnet' || p.type === 'localport';

  // Tunnels: the VNI is the datapath, the option carries ingress (bits 16..30) and egress (0..15) keys.
  for (const ofport of new Set(input.tunnels.values())) {
    const m = newMatch();
    setExact(m, field('in_port'), ofport);
    flows.push(flow(OFTABLE.PHY_TO_LOG, 100, m, [
      { type: 'move', src: sf('tun_id', 0, 24), dst: sf('metadata', 0, 24) },
      { type: 'move', src: sf('tun_metadata0', 16, 15), dst: sf(REG.INPORT, 0, 15) },
      { type: 'move', src: sf('tun_metadata0', 0, 16), dst: sf(REG.OUTPORT, 0, 16) },
      { type: 'resubmit', table: OFTABLE.LOCAL_OUTPUT },
    ]));
  }

  // Tables 37, 38: no large-packet handling; pass through.
  flows.push(flow(OFTABLE.OUTPUT_LARGE_PKT_DETECT, 0, newMatch(), [{ type: 'resubmit', table: OFTABLE.OUTPUT_LARGE_PKT_PROCESS }]));
  flows.push(flow(OFTABLE.OUTPUT_LARGE_PKT_PROCESS, 0, newMatch(), [{ type: 'resubmit', table: OFTABLE.REMOTE_OUTPUT }]));

  // Table 39: outports on other chassis leave through that chassis' tunnel (per port below).
  const toTunnel = (dp: number, ofport: number): Action[] => [
    set('tun_id', dp, 0, 64),
    { type: 'move', src: sf(REG.INPORT, 0, 15), dst: sf('tun_metadata0', 16, 15) },
    { type: 'move', src: sf(REG.OUTPORT, 0, 16), dst: sf('tun_metadata0', 0, 16) },
    { type: 'output', port: ofport },
  ];
  for (const g of input.multicastGroups) {
    const remote = new Set<number>();
    for (const name of g.ports) {
      const p = byName.get(name);
      if (p && !isLocal(p) && p.chassis !== undefined && p.chassis !== input.chassis) {
        const t = input.tunnels.get(p.chassis);
        if (t !== undefined) remote.add(t);
      }
    }
    if (remote.size === 0) continue;
    const m = onDatapath(g.datapathKey);
    setExact(m, OUTPORT_LOC, g.key);
    // Copies to each remote chassis once, then the local members.
    const actions: Action[] = [...remote].sort((a, b) => a - b).map((t): Action => ({ type: 'clone', actions: toTunnel(g.datapathKey, t) }));
    actions.push({ type: 'resubmit', table: OFTABLE.LOCAL_OUTPUT });
    flows.push(flow(OFTABLE.REMOTE_OUTPUT, 100, m, actions));
  }
  flows.push(flow(OFTABLE.REMOTE_OUTPUT, 0, newMatch(), [{ type: 'resubmit', table: OFTABLE.LOCAL_OUTPUT }]));

  // Table 40: local outports get their zones (a router's also its DNAT and SNAT zones, which a
  // packet that came through a tunnel does not carry; per port below); multicast groups fan
  // out to local members.
  const zones = (p: PhysPort): Action[] => {
    const dp = dps.get(p.datapathKey);
    const out = [set(REG.CT_ZONE, p.zone, 0, 32)];
    if (dp?.isRouter) out.push(set(REG.DNAT_ZONE, dp.dnatZone, 0, 32), set(REG.SNAT_ZONE, dp.snatZone, 0, 32));
    return out;
  };
  for (const g of input.multicastGroups) {
    const members = g.ports.map((n) => byName.get(n)).filter((p): p is PhysPort => !!p && isLocal(p));
    if (members.length === 0) continue;
    const m = onDatapath(g.datapathKey);
    setExact(m, OUTPORT_LOC, g.key);
    flows.push(flow(OFTABLE.LOCAL_OUTPUT, 100, m, members.map((p): Action => ({
      type: 'clone',
      actions: [set(REG.OUTPORT, p.key, 0, 32), set(REG.CT_ZONE, p.zone, 0, 32), { type: 'resubmit', table: OFTABLE.CHECK_LOOPBACK }],
    }))));
  }

  // Table 41, otherwise: the egress pipeline starts with clear registers.
  flows.push(flow(OFTABLE.CHECK_LOOPBACK, 0, newMatch(), [...CLEAR_LOGICAL_REGS, { type: 'resubmit', table: OFTABLE.LOG_EGRESS_PIPELINE }]));

  // Table 64: OpenFlow will not output to the packet's own in_port; with flags.loopback hide it.
  const loop = newMatch();
  setMasked(loop, FLAGS_LOC, 1n << BigInt(FLAG_BIT.LOOPBACK), 1n << BigInt(FLAG_BIT.LOOPBACK));
  flows.push(flow(OFTABLE.SAVE_INPORT, 100, loop, [
    { type: 'stack_push', src: sf('in_port', 0, 16) },
    set('in_port', 0, 0, 16),
    { type: 'resubmit', table: OFTABLE.LOG_TO_PHY },
    { type: 'stack_pop', dst: sf('in_port', 0, 16) },
  ]));
  flows.push(flow(OFTABLE.SAVE_INPORT, 0, newMatch(), [{ type: 'resubmit', table: OFTABLE.LOG_TO_PHY }]));

  // Every port's own flows (tables 0, 39, 40, 41, 65, 73, 75), reused from the memo while the
  // port and what its flows read (its datapath, peer, tunnel) are unchanged.
  const portFlows = (p: PhysPort): DesiredFlow[] => {
    const out: DesiredFlow[] = [];
    // Table 0: a VIF enters its datapath's ingress pipeline with its port key and zone.
    if (p.ofport !== undefined) {
      const m = newMatch();
      setExact(m, field('in_port'), p.ofport);
      out.push(flow(OFTABLE.PHY_TO_LOG, 100, m, [
        set('metadata', p.datapathKey, 0, 64),
        set(REG.INPORT, p.key, 0, 32),
        set(REG.CT_ZONE, p.zone, 0, 32),
        { type: 'resubmit', table: OFTABLE.LOG_INGRESS_PIPELINE },
      ]));
    }
    // Table 39: an outport on another chassis leaves through that chassis' tunnel.
    if (!isLocal(p) && p.chassis !== undefined && p.chassis !== input.chassis) {
      const tunnel = input.tunnels.get(p.chassis);
      if (tunnel !== undefined) {
        const m = onDatapath(p.datapathKey);
        setExact(m, OUTPORT_LOC, p.key);
        out.push(flow(OFTABLE.REMOTE_OUTPUT, 100, m, toTunnel(p.datapathKey, tunnel)));
      }
    }
    if (isLocal(p)) {
      // Table 40: a local outport gets its zones.
      const m = onDatapath(p.datapathKey);
      setExact(m, OUTPORT_LOC, p.key);
      out.push(flow(OFTABLE.LOCAL_OUTPUT, 100, m, [...zones(p), { type: 'resubmit', table: OFTABLE.CHECK_LOOPBACK }]));
      // Table 41: no hairpin unless flags.loopback.
      const l = onDatapath(p.datapathKey);
      setExact(l, INPORT_LOC, p.key);
      setExact(l, OUTPORT_LOC, p.key);
      setMasked(l, FLAGS_LOC, 0, 1n << BigInt(FLAG_BIT.LOOPBACK));
      out.push(flow(OFTABLE.CHECK_LOOPBACK, 100, l, []));
    }
    // A chassisredirect port hosted here hands the packet to its distributed port's egress.
    const dgp = p.type === 'chassisredirect' && p.distributedPort !== undefined ? byName.get(p.distributedPort) : undefined;
    if (dgp) {
      const m = onDatapath(p.datapathKey);
      setExact(m, OUTPORT_LOC, p.key);
      out.push(flow(OFTABLE.LOCAL_OUTPUT, 100, m, [set(REG.OUTPORT, dgp.key, 0, 32), ...zones(dgp), { type: 'resubmit', table: OFTABLE.CHECK_LOOPBACK }]));
    }
    // Table 65: to the VIF, or through a patch port into the peer datapath's ingress pipeline.
    const m = onDatapath(p.datapathKey);
    setExact(m, OUTPORT_LOC, p.key);
    if (p.ofport !== undefined) out.push(flow(OFTABLE.LOG_TO_PHY, 100, m, [{ type: 'output', port: p.ofport }]));
    else if (p.type === 'patch' && p.peer !== undefined) {
      const peer = byName.get(p.peer);
      const peerDp = peer ? dps.get(peer.datapathKey) : undefined;
      if (peer && peerDp) {
        out.push(flow(OFTABLE.LOG_TO_PHY, 100, m, [{
          type: 'clone',
          actions: [
            { type: 'ct_clear' },
            ...CLEAR_LOGICAL_REGS,
            set(REG.FLAGS, 0, 0, 32),
            set('metadata', peer.datapathKey, 0, 64),
            set(REG.INPORT, peer.key, 0, 32),
            set(REG.OUTPORT, 0, 0, 32),
            set(REG.CT_ZONE, peer.zone, 0, 32),
            set(REG.DNAT_ZONE, peerDp.dnatZone, 0, 32),
            set(REG.SNAT_ZONE, peerDp.snatZone, 0, 32),
            set('in_port', 0, 0, 16),
            { type: 'resubmit', table: OFTABLE.LOG_INGRESS_PIPELINE },
          ],
        }]));
      }
    }
    // Tables 73 and 75: port security of a local VIF; a violation sets the check bit.
    if (p.ofport !== undefined && p.portSecurity.length > 0) out.push(...portSecurityFlows(p, 'in'), ...portSecurityFlows(p, 'out'));
    return out;
  };
  const seen = new Set<string>();
  for (const p of input.ports) {
    const peer = p.type === 'patch' && p.peer !== undefined ? byName.get(p.peer) : undefined;
    const dgp = p.type === 'chassisredirect' && p.distributedPort !== undefined ? byName.get(p.distributedPort) : undefined;
    const sig = JSON.stringify([
      p, dps.get(p.datapathKey), input.chassis, p.chassis !== undefined ? input.tunnels.get(p.chassis) : undefined,
      peer, peer ? dps.get(peer.datapathKey) : undefined, dgp, dgp ? dps.get(dgp.datapathKey) : undefined,
    ]);
    seen.add(p.name);
    const hit = memo?.get(p.name);
    if (hit && hit.sig === sig) {
      flows.push(...hit.flows);
      continue;
    }
    const made = portFlows(p);
    memo?.set(p.name, { sig, flows: made });
    flows.push(...made);
  }
  if (memo) for (const name of memo.keys()) if (!seen.has(name)) memo.delete(name);

  // Table 66: get_arp/get_nd; table 67: lookup_arp/lookup_nd.
  for (const b of input.macBindings) {
    const p = byName.get(b.port);
    const ip = parseInt(b.ip);
    const mac = parseInt(b.mac);
    if (!p || !ip || !mac) continue;
    const v6 = ip.format === 'ipv6';
    const ipLoc = v6 ? { word: field('reg0').word, words: 4, shift: 0, bits: 128 } : { word: field('reg0').word, words: 1, shift: 0, bits: 32 };
    const get = onDatapath(p.datapathKey);
    setExact(get, OUTPORT_LOC, p.key);
    setExact(get, ipLoc, ip.value);
    flows.push(flow(OFTABLE.MAC_BINDING, 100, get, [set('eth_dst', mac.value, 0, 48)]));
    const look = onDatapath(p.datapathKey);
    setExact(look, INPORT_LOC, p.key);
    setExact(look, ipLoc, ip.value);
    setExact(look, field('dl_src'), mac.value);
    flows.push(flow(OFTABLE.MAC_LOOKUP, 100, look, [set(REG.FLAGS, 1, FLAG_BIT.LOOKUP_RESULT, 1)]));
  }

  return flows;
}

/**
 * Port security as ovn-controller enforces it: a packet is allowed when it carries one of the
 * port's MACs and (for entries listing addresses) one of its IPs; everything else from (to)
 * the port fails the check (priority 80).
 */
function portSecurityFlows(p: PhysPort, dir: 'in' | 'out'): DesiredFlow[] {
  const table = dir === 'in' ? OFTABLE.CHK_IN_PORT_SEC : OFTABLE.CHK_OUT_PORT_SEC;
  const portLoc = dir === 'in' ? INPORT_LOC : OUTPORT_LOC;
  const fail = set(REG.FLAGS, 1, FLAG_BIT.CHECK_PORT_SEC, 1);
  const base = (): Match => {
    const m = onDatapath(p.datapathKey);
    setExact(m, portLoc, p.key);
    return m;
  };
  const out: DesiredFlow[] = [flow(table, 80, base(), [fail])];
  for (const entry of p.portSecurity) {
    const [macText, ...addrs] = entry.trim().split(/\s+/);
    const mac = parseInt(macText ?? '');
    if (!mac) continue;
    const ethField = field(dir === 'in' ? 'dl_src' : 'dl_dst');
    const nets = addrs.map(parseInt).filter((x): x is NonNullable<typeof x> => !!x);
    const v4 = nets.filter((n) => n.format === 'ipv4');
    const v6 = nets.filter((n) => n.format === 'ipv6');
    if (nets.length === 0) {
      const m = base();
      setExact(m, ethField, mac.value);
      out.push(flow(table, 90, m, []));
      continue;
    }
    // ARP must carry the MAC and (inbound) an allowed address; outbound ARP is allowed to the MAC.
    for (const n of dir === 'in' ? v4 : [undefined]) {
      const m = base();
      setExact(m, ethField, mac.value);
      setExact(m, field('dl_type'), 0x806);
      if (dir === 'in') {
        setExact(m, field('arp_sha'), mac.value);
        setMasked(m, field('arp_spa'), n!.value, n!.mask ?? ones(32));
      }
      out.push(flow(table, 90, m, []));
    }
    const ipField = field(dir === 'in' ? 'nw_src' : 'nw_dst');
    for (const n of v4) {
      const m = base();
      setExact(m, ethField, mac.value);
      setExact(m, field('dl_type'), 0x800);
      setMasked(m, ipField, n.value, n.mask ?? ones(32));
      out.push(flow(table, 90, m, []));
    }
    const ip6Field = field(dir === 'in' ? 'ipv6_src' : 'ipv6_dst');
    for (const n of v6) {
      const m = base();
      setExact(m, ethField, mac.value);
      setExact(m, field('dl_type'), 0x86dd);
      setMasked(m, ip6Field, n.value, n.mask ?? ones(128));
      out.push(flow(table, 90, m, []));
    }
    if (dir === 'in') {
      // DHCP discovery from an address-less client.
      const m = base();
      setExact(m, ethField, mac.value);
      setExact(m, field('dl_type'), 0x800);
      setExact(m, field('nw_src'), 0);
      setExact(m, field('nw_dst'), 0xffffffff);
      setExact(m, field('nw_proto'), 17);
      setExact(m, field('tp_src'), 68);
      setExact(m, field('tp_dst'), 67);
      out.push(flow(table, 90, m, []));
    } else {
      // Broadcast and multicast IPv4 to the MAC.
      for (const [value, mask] of [[0xffffffffn, ones(32)], [0xe0000000n, 0xf0000000n]] as const) {
        const m = base();
        setExact(m, ethField, mac.value);
        setExact(m, field('dl_type'), 0x800);
        setMasked(m, ipField, value, mask);
        out.push(flow(table, 90, m, []));
      }
    }
    // IPv6 link-local traffic (neighbour discovery) with the MAC.
    const ll = base();
    setExact(ll, ethField, mac.value);
    setExact(ll, field('dl_type'), 0x86dd);
    setMasked(ll, ip6Field, 0xfe80n << 112n, ones(64) << 64n);
    out.push(flow(table, 90, ll, []));
  }
  return out;
}
