/**
 * `ovnts lab trace A B`: one view of an ICMP echo's way from VM A to VM B (or an address).
 *   1. the logical pipelines it crosses (the tracer over the lab's Southbound DB), each matched
 *      flow followed by the Northbound object that caused it (northd's stage-hint: the ACL, the
 *      route, the NAT rule, the load balancer, the port…);
 *   2. the switch tables of A's host that realize it (ofproto/trace on that switch), ending in
 *      the datapath actions: a local VIF, or the Geneve tunnel towards the other host;
 *   3. when it left through a tunnel, the tables of the receiving host for that Geneve packet.
 * Addresses come from the lab's records; the next hop's MAC from A's ARP cache after one ping.
 */
import { formatDetailed, southboundFromRows, Tracer } from '@ovnts/lflow';
import { loadSchema } from '@ovnts/ovsdb/dist/src/schemas.js';
import { addressOf, loadState, vmPing, vmRequest, type LabState } from '@ovnts/lab';
import { SwitchClient } from '@ovnts/switch/dist/src/control/client.js';
import { Session } from '../ctl/session.js';
import { readSouthbound } from './trace.js';

type Row = Record<string, unknown>;

async function select(db: string, schema: 'ovn-nb' | 'vswitch', database: string, tables: readonly string[]): Promise<Record<string, Row[]>> {
  const session = await Session.open(db, loadSchema(schema), {});
  try {
    const result = (await session.request('transact', [database, ...tables.map((table) => ({ op: 'select', table, where: [] }))])) as { rows?: Row[] }[];
    return Object.fromEntries(tables.map((t, i) => [t, result[i]?.rows ?? []]));
  } finally {
    session.close();
  }
}

function uuidOf(v: unknown): string {
  return Array.isArray(v) && v[0] === 'uuid' ? String(v[1]) : '';
}

function macText(n: number): string {
  return n.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
}

/** A Northbound row in a few words, by kind. */
function describe(table: string, r: Row): string {
  switch (table) {
    case 'ACL':
      return `ACL ${String(r['direction'])} ${String(r['priority'])} "${String(r['match'])}" ${String(r['action'])}`;
    case 'Logical_Router_Static_Route':
      return `route ${String(r['ip_prefix'])} via ${String(r['nexthop'])}`;
    case 'NAT':
      return `NAT ${String(r['type'])} ${String(r['external_ip'])} ↔ ${String(r['logical_ip'])}`;
    case 'Load_Balancer':
      return `load balancer ${String(r['name'])}`;
    case 'Logical_Router_Policy':
      return `router policy ${String(r['priority'])} "${String(r['match'])}" ${String(r['action'])}`;
    default:
      return `${table} ${String(r['name'] ?? '')}`.trim();
  }
}

function idsOf(r: Readonly<Row>): Map<string, string> {
  return new Map((((r['external_ids'] as unknown[] | undefined)?.[1] ?? []) as [string, string][]));
}

async function switchTrace(control: string, flow: string): Promise<Awaited<ReturnType<SwitchClient['trace']>>> {
  const client = await SwitchClient.connect(control);
  try {
    return await client.trace({ flow });
  } finally {
    client.close();
  }
}

/** Tunnel keys of a logical datapath (by name) and two of its ports, from Southbound rows. */
function keysOf(sb: Readonly<Record<string, readonly Readonly<Row>[]>>, dpName: string, inport: string, outport: string): { dp: number; inport: number; outport: number } | undefined {
  const dp = (sb['Datapath_Binding'] ?? []).find((d) => idsOf(d).get('name') === dpName);
  if (!dp) return undefined;
  const key = (name: string): number | undefined => {
    const pb = (sb['Port_Binding'] ?? []).find((p) => p['logical_port'] === name && uuidOf(p['datapath']) === uuidOf(dp['_uuid']));
    return pb ? Number(pb['tunnel_key']) : undefined;
  };
  const i = key(inport);
  const o = key(outport);
  return i === undefined || o === undefined ? undefined : { dp: Number(dp['tunnel_key']), inport: i, outport: o };
}

const NB_TABLES = ['ACL', 'Logical_Router_Static_Route', 'NAT', 'Load_Balancer', 'Logical_Router_Policy', 'Logical_Switch_Port', 'Logical_Router_Port', 'Logical_Switch', 'Logical_Router'];

export async function labTrace(from: string, to: string, state: LabState | undefined = loadState()): Promise<string> {
  if (!state) throw new Error('no lab is running (ovnts lab up)');
  const a = state.vms.find((v) => v.name === from);
  if (!a?.ip) throw new Error(`unknown vm ${from}, or it has no static address`);
  const dstIp = addressOf(to, state);
  const [srcIp, plen] = a.ip.split('/') as [string, string];
  const toNum = (ip: string): number => ip.split('.').reduce((n, x) => n * 256 + Number(x), 0);
  const mask = plen === '0' ? 0 : (0xffffffff << (32 - Number(plen))) >>> 0;
  const nextHop = ((toNum(srcIp) & mask) >>> 0) === ((toNum(dstIp) & mask) >>> 0) ? dstIp : a.gw;
  if (!nextHop) throw new Error(`${from} has no gateway for ${dstIp}`);
  await vmPing(from, dstIp, { count: 1 }, state).catch(() => undefined);
  const status = (await vmRequest(a.control, { op: 'status' })) as { arp: { ip: string; mac: number }[] };
  const entry = status.arp.find((e) => e.ip === nextHop);
  if (!entry) throw new Error(`${from} could not resolve ${nextHop}'s MAC`);
  const microflow = `inport == "${a.port}" && eth.src == ${a.mac} && eth.dst == ${macText(entry.mac)} && ip4.src == ${srcIp} && ip4.dst == ${dstIp} && ip.ttl == 64 && icmp4.type == 8 && icmp4.code == 0`;

  // 1. The logical view, with the Northbound objects behind each flow.
  const sbRows = await readSouthbound(state.db);
  const hints = new Map<string, string>();
  for (const f of sbRows['Logical_Flow'] ?? []) {
    const ids = new Map((((f['external_ids'] as unknown[])[1] ?? []) as [string, string][]));
    const hint = ids.get('stage-hint');
    if (hint) hints.set(uuidOf(f['_uuid']).slice(0, 8), hint);
  }
  const nb = await select(state.db, 'ovn-nb', 'OVN_Northbound', NB_TABLES);
  const nbByPrefix = new Map<string, string>();
  for (const [table, rows] of Object.entries(nb)) for (const r of rows) nbByPrefix.set(uuidOf(r['_uuid']).slice(0, 8), describe(table, r));
  const result = new Tracer(southboundFromRows(sbRows)).trace(undefined, microflow);
  const logical = formatDetailed(result.root)
    .split('\n')
    .flatMap((line) => {
      const m = /uuid ([0-9a-f]{8})$/.exec(line);
      const nbRow = m ? nbByPrefix.get(hints.get(m[1]!) ?? '') : undefined;
      return nbRow ? [line, `${' '.repeat(line.indexOf('. ') + 2)}[from ${nbRow}]`] : [line];
    })
    .join('\n');

  // 2. The switch tables on A's host.
  const host = state.hosts.find((h) => h.name === a.host)!;
  const vs = await select(host.vswitchDb, 'vswitch', 'Open_vSwitch', ['Interface']);
  const iface = vs['Interface']!.find((i) => idsOf(i).get('iface-id') === a.port);
  const ofport = Number(iface?.['ofport']);
  let physical = `(no OpenFlow port for ${a.port} on ${host.name})`;
  let remote: string[] = [];
  if (ofport > 0) {
    const flow = `in_port=${ofport},icmp,dl_src=${a.mac},dl_dst=${macText(entry.mac)},nw_src=${srcIp},nw_dst=${dstIp},nw_ttl=64,icmp_type=8,icmp_code=0`;
    const t = await switchTrace(host.switchControl, flow);
    physical = t.text ?? `Datapath actions: ${t.datapathActions ?? '?'}`;
    // 3. If it left through a tunnel, the tables of the host at the other end, which receives
    //    the packet as the logical trace delivers it, with the datapath and port keys in the
    //    Geneve header (VNI, OVN option) as A's tunnel flow wrote them.
    // The last datapath actions (after any recirculation) end in the output port.
    const actions = [...(t.text ?? `Datapath actions: ${t.datapathActions ?? ''}`).matchAll(/^Datapath actions: (.*)$/gm)].at(-1)?.[1] ?? '';
    const out = Number(/(?:^|,)(\d+)\s*$/.exec(actions)?.[1]);
    const tunnel = vs['Interface']!.find((i) => Number(i['ofport']) === out);
    const peerChassis = tunnel ? idsOf(tunnel).get('ovn-chassis-id') : undefined;
    const peer = peerChassis ? state.hosts.find((h) => h.name === peerChassis) : undefined;
    const delivered = result.fate.outputs[0];
    const egress = [...formatDetailed(result.root).matchAll(/egress\(dp="([^"]+)", inport="([^"]+)", outport="([^"]+)"\)/g)].reverse().find((m) => m[3] === delivered?.port);
    if (peer && delivered && egress) {
      const keys = keysOf(sbRows, egress[1]!, egress[2]!, egress[3]!);
      const pvs = await select(peer.vswitchDb, 'vswitch', 'Open_vSwitch', ['Interface']);
      const inPort = Number(pvs['Interface']!.find((i) => idsOf(i).get('ovn-chassis-id') === host.name)?.['ofport']);
      if (keys && inPort > 0) {
        const h = delivered.headers;
        const rflow = `in_port=${inPort},tun_id=0x${keys.dp.toString(16)},tun_metadata0=0x${((keys.inport << 16) | keys.outport).toString(16)},icmp,dl_src=${String(h['eth.src'])},dl_dst=${String(h['eth.dst'])},nw_src=${String(h['ip4.src'])},nw_dst=${String(h['ip4.dst'])},nw_ttl=${String(h['ip.ttl'])},icmp_type=8,icmp_code=0`;
        const rt = await switchTrace(peer.switchControl, rflow);
        remote = [`## Switch tables on ${peer.name}, from ${host.name}'s tunnel (ofproto/trace)`, rt.text ?? `Datapath actions: ${rt.datapathActions ?? '?'}`];
      }
    }
  }
  const fate = result.fate.outputs.length ? `delivered to ${result.fate.outputs.map((o) => o.port).join(', ')}` : `dropped (${result.fate.drops.map((d) => `${d.datapath} ${d.stage}: ${d.how}`).join('; ')})`;
  return [
    `# ${from} (${srcIp}, ${host.name}) -> ${to} (${dstIp}): ICMP echo, next hop ${nextHop} at ${macText(entry.mac)}`,
    `# logically: ${fate}`,
    '',
    '## Logical pipelines (ovnts trace), with the Northbound objects behind the flows',
    logical,
    `## Switch tables on ${host.name} (ofproto/trace)`,
    physical,
    ...remote,
  ].join('\n') + '\n';
}
