// The packet-fate oracle on the real data path: for every scenario of ../shared/oracle, real
// ovn-northd builds the Southbound DB; the controller's flow computation programs a real
// in-process switch (every VIF local, one internal port each, pinctrl answering packet-ins);
// each probe's packet is sent in on its inport, and what comes out of which ports is judged by
// the oracle's own compare.py. This is also the brief's stretch goal: the ovnts controller and
// switch carrying the traffic of a Southbound DB built by real ovn-northd.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalize, parseMatch } from '@ovnts/lflow';
import { logger, Sb } from '@ovnts/ovsdb';
import { BOOTP_REQUEST, DHCPDISCOVER, buildNeighborSolicitation, buildUdp4, decodeDhcp, decodePacket, encodeDhcp, newMatch, printMatch, setMasked } from '@ovnts/switch';
import { microflowPacket } from '@ovnts/switch/dist/src/control/microflow.js';
import { Switch } from '@ovnts/switch/dist/src/switch.js';
import { northdMissing, withRealOvn } from '@ovnts/testkit';
import { southboundState } from './helpers/sb-rows.js';
import { locOfBase } from '../src/compile/fields.js';
import { control } from './helpers/switch-control.js';
import { computeDesired, type SouthboundState } from '../src/desired.js';
import { Pinctrl } from '../src/pinctrl.js';

const ORACLE = '/work/shared/oracle';
const PYTHON = '/usr/bin/python3';
const missing =
  northdMissing() ?? (existsSync(join(ORACLE, 'scenarios')) ? undefined : `${ORACLE} not found`) ?? (existsSync(PYTHON) ? undefined : `${PYTHON} not found`);

interface Probe {
  readonly microflow: string;
  readonly inport?: string;
  readonly ct?: string | string[];
  readonly lb_dst?: string;
  readonly expected: { readonly verdict: string };
}
interface Scenario {
  readonly name: string;
  readonly nbctl: string[][];
  readonly chassis?: string[][];
  readonly packets: Probe[];
}


/** The microflow as an ofproto/trace flow description (its fields, OpenFlow-named). */
function flowText(microflow: string, inPort: number): string {
  const conj = normalize(parseMatch(microflow))[0]!;
  const m = newMatch();
  for (const [base, fm] of conj.bits) {
    const loc = locOfBase(base);
    if (loc) setMasked(m, loc, fm.value, fm.mask);
  }
  return `in_port=${inPort},${printMatch(m)}`;
}

/**
 * The probe's frame. ovn-trace needs only header fields; a real data path also needs what the
 * controller reads from the payload: a DHCPDISCOVER body for DHCP, the ND target/SLL options.
 */
function probeFrame(microflow: string, inPort: number, tcpFlags?: number): Uint8Array {
  const text = flowText(microflow, inPort) + (tcpFlags !== undefined && /tcp/.test(microflow) ? `,tcp_flags=0x${tcpFlags.toString(16)}` : '');
  const frame = microflowPacket(text).frame;
  const d = decodePacket(frame);
  const field = (name: string): string | undefined => new RegExp(`${name.replace('.', '\\.')} == ([^ ]+)`).exec(microflow)?.[1];
  if (d.eth && d.ip4 && d.udp?.dstPort === 67) {
    const payload = encodeDhcp({ op: BOOTP_REQUEST, xid: 0x1234, chaddr: d.eth.src, options: { messageType: DHCPDISCOVER } });
    return buildUdp4({ src: d.eth.src, dst: d.eth.dst }, { src: d.ip4.src, dst: d.ip4.dst, ttl: d.ip4.ttl }, { srcPort: 68, dstPort: 67, payload });
  }
  if (d.eth && d.ip6 && d.icmp?.type === 135) {
    const sll = field('nd.sll');
    return buildNeighborSolicitation({ ethSrc: d.eth.src, ethDst: d.eth.dst, ipSrc: d.ip6.src, ipDst: d.ip6.dst, target: field('nd.target')!, sll: sll ?? null });
  }
  return frame;
}

const FIN = 0x01;
const SYN = 0x02;
const ACK = 0x10;

/** The microflow of the other direction of a connection (addresses and ports swapped). */
function reversed(microflow: string, inport: string): string {
  const swap: Record<string, string> = { 'eth.src': 'eth.dst', 'eth.dst': 'eth.src', 'ip4.src': 'ip4.dst', 'ip4.dst': 'ip4.src', 'tcp.src': 'tcp.dst', 'tcp.dst': 'tcp.src' };
  return microflow
    .replace(/(eth\.src|eth\.dst|ip4\.src|ip4\.dst|tcp\.src|tcp\.dst) ==/g, (_m, f: string) => `${swap[f]} ==`)
    .replace(/inport == "[^"]+"/, `inport == "${inport}"`);
}

/** A delivered frame's headers, named as the oracle names them. */
function headersOf(frame: Uint8Array): Record<string, string | number> {
  const d = decodePacket(frame);
  const h: Record<string, string | number> = {};
  if (!d.eth) return h;
  h['eth.src'] = d.eth.src;
  h['eth.dst'] = d.eth.dst;
  if (d.arp) {
    Object.assign(h, { 'arp.op': d.arp.op, 'arp.sha': d.arp.sha, 'arp.spa': d.arp.spa, 'arp.tha': d.arp.tha, 'arp.tpa': d.arp.tpa });
    return h;
  }
  const ip = d.ip4 ?? d.ip6;
  if (d.ip4) Object.assign(h, { 'ip4.src': d.ip4.src, 'ip4.dst': d.ip4.dst, 'ip.ttl': d.ip4.ttl });
  if (d.ip6) Object.assign(h, { 'ip6.src': d.ip6.src, 'ip6.dst': d.ip6.dst, 'ip.ttl': d.ip6.hopLimit });
  if (!ip) return h;
  if (d.icmp) {
    const v = d.ip4 ? 'icmp4' : 'icmp6';
    h[`${v}.type`] = d.icmp.type;
    h[`${v}.code`] = d.icmp.code;
    if (d.icmp.ndTarget) h['nd.target'] = d.icmp.ndTarget;
    if (d.icmp.sll) h['nd.sll'] = d.icmp.sll;
    if (d.icmp.tll) h['nd.tll'] = d.icmp.tll;
  }
  if (d.tcp) Object.assign(h, { 'tcp.src': d.tcp.srcPort, 'tcp.dst': d.tcp.dstPort });
  if (d.udp) Object.assign(h, { 'udp.src': d.udp.srcPort, 'udp.dst': d.udp.dstPort });
  return h;
}

/** The DHCP options a reply carries, in the oracle's (OVN's) names. */
function dhcpOptionsOf(frame: Uint8Array): Record<string, string | string[]> | undefined {
  const d = decodePacket(frame);
  const m = d.udp && d.udp.srcPort === 67 ? decodeDhcp(d.udp.payload) : undefined;
  if (!m) return undefined;
  const o = m.options;
  const out: Record<string, string | string[]> = { offerip: m.yiaddr };
  if (o.routers?.[0]) out['router'] = o.routers[0];
  if (o.subnetMask) out['netmask'] = o.subnetMask;
  if (o.dnsServers) out['dns_server'] = [...o.dnsServers];
  if (o.leaseTime !== undefined) out['lease_time'] = String(o.leaseTime);
  if (o.serverId) out['server_id'] = o.serverId;
  return out;
}

t.test('oracle fates hold on the real data path', { skip: missing ? `real OVN unavailable: ${missing}` : false }, async (t) => {
  const scenarios = readdirSync(join(ORACLE, 'scenarios')).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(join(ORACLE, 'scenarios', f), 'utf8')) as Scenario);
  const fates: Record<string, unknown> = {};
  const balanced: { name: string; ports: string[]; want: string }[] = [];
  const queue = [...scenarios];
  await Promise.all([0, 1].map(async () => {
    for (let s = queue.shift(); s; s = queue.shift()) {
      const sc = s;
      await withRealOvn(sc.nbctl, sc.chassis ?? [], async ({ sbctl }) => {
        const base = await southboundState(sbctl);
        // Every VIF (and localnet port) is bound to this chassis: the scenario's own chassis when
        // it registers one (so its gateway routers are hosted here), else a new one.
        const here = base.chassis[0] ?? { ...Sb.tables.Chassis.fromWire({ name: 'here' } as never), _uuid: 'chassis-here' };
        const vifTypes = new Set(['', 'localnet']);
        const ports = base.ports.map((p) => (vifTypes.has(p.type) ? { ...p, chassis: here._uuid } : p));
        const sb: SouthboundState = { ...base, ports, chassis: base.chassis.includes(here) ? base.chassis : [...base.chassis, here] };
        const sw = await Switch.create({ name: 'br-int', expireIntervalMs: 0 });
        try {
          const delivered: { port: string; frame: Uint8Array }[] = [];
          const vifs = new Map<string, number>();
          for (const p of ports.filter((x) => vifTypes.has(x.type))) {
            const info = await sw.addPort({ type: 'internal', name: p.logical_port }, (frame) => delivered.push({ port: p.logical_port, frame }));
            vifs.set(p.logical_port, info.ofport);
          }
          const zones = new Map<string, number>();
          const result = computeDesired(sb, { chassis: here.name, vifs, tunnels: new Map(), zone: (o) => zones.get(o) ?? (zones.set(o, zones.size + 1), zones.size) });
          for (const g of result.flows.groupTable().values()) sw.groupMod({ command: 'add', group: g });
          sw.bundle([...result.flows.entries().values()].map((f) => ({ command: 'add' as const, table: f.table, priority: f.priority, match: f.match, actions: f.actions, cookie: f.cookie })));
          const pinctrl = new Pinctrl({ sw: control(sw), log: logger('pinctrl-test') });
          pinctrl.update({ sb, chassis: here.name, vifs });
          sw.onPacketIn((p) => pinctrl.handle(p));
          for (const [n, probe] of sc.packets.entries()) {
            delivered.length = 0;
            const inport = /inport == "([^"]+)"/.exec(probe.microflow)![1]!;
            const ct = Array.isArray(probe.ct) ? probe.ct[0] : probe.ct;
            const tcp = /tcp\./.test(probe.microflow);
            if (tcp && ct?.startsWith('est')) {
              // An established connection exists only after a handshake: make one first (from
              // the other side when the probe is a reply), then send the probe as an ACK.
              const isReply = ct.includes('rpl');
              const peerOf = (mf: string): string => {
                const mac = /eth\.dst == ([0-9a-f:]+)/.exec(mf)![1]!;
                return ports.find((p) => p.mac.some((m) => m.startsWith(mac)))?.logical_port ?? inport;
              };
              const origIn = isReply ? peerOf(probe.microflow) : inport;
              const orig = isReply ? reversed(probe.microflow, origIn) : probe.microflow;
              const replyIn = isReply ? inport : peerOf(probe.microflow);
              sw.ports.send(origIn, probeFrame(orig, vifs.get(origIn)!, SYN));
              sw.ports.send(replyIn, probeFrame(reversed(orig, replyIn), vifs.get(replyIn)!, SYN | ACK));
              sw.ports.send(origIn, probeFrame(orig, vifs.get(origIn)!, ACK));
              await new Promise((r) => setTimeout(r, 20));
              delivered.length = 0;
            }
            // A new connection starts with a SYN; SYN+FIN is invalid to every connection tracker.
            const flags = !tcp ? undefined : ct?.startsWith('est') ? ACK : ct === 'inv' ? SYN | FIN : SYN;
            sw.ports.send(inport, probeFrame(probe.microflow, vifs.get(inport)!, flags));
            // Packet-ins (ARP, ICMP, DHCP replies) come back asynchronously.
            await new Promise((r) => setTimeout(r, 30));
            const outputs = delivered
              .map((d) => {
                const dhcp = dhcpOptionsOf(d.frame);
                return { port: d.port, headers: headersOf(d.frame), ...(dhcp ? { dhcp_options: dhcp } : {}) };
              })
              .sort((a, b) => (a.port < b.port ? -1 : 1));
            if (probe.lb_dst !== undefined) {
              // The backend is the switch's hash choice here, not --lb-dst's: any backend will do.
              balanced.push({ name: `${sc.name}/${n + 1}`, ports: outputs.map((o) => o.port), want: (probe as { expected: { outputs?: { port: string }[] } }).expected.outputs?.[0]?.port ?? '' });
              continue;
            }
            fates[`${sc.name}/${n + 1}`] = { verdict: outputs.length ? 'output' : 'drop', outputs };
          }
        } finally {
          await sw.close();
        }
      });
    }
  }));
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-dp-fates-'));
  try {
    const file = join(dir, 'fates.json');
    writeFileSync(file, JSON.stringify(fates));
    for (const b of balanced) t.equal(b.ports.length, 1, `${b.name}: the VIP's connection reaches one backend (${b.ports.join(', ')}; ovn-trace was told ${b.want})`);
    const judged = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile(PYTHON, [join(ORACLE, 'compare.py'), file, '-q', '--missing-ok'], (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: stdout + stderr })),
    );
    const summary = judged.out.trim().split('\n').pop() ?? '';
    t.comment(`data path vs oracle: ${summary}`);
    t.equal(judged.code, 0, `compare.py: ${summary}\n${judged.out}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
