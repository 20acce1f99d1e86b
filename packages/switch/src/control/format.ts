/**
 * ovs-ofctl's (and ovs-appctl's) text for what the switch reports: port stats and port
 * descriptions, table stats, the connection table, and traces. Checked against ovs-ofctl 3.1
 * talking to ovs-vswitchd (docs/switch.md, "Control socket and ofctl").
 */
import type { TraceStep } from '../datapath/types.js';
import type { OfVersion } from '../flow/action-syntax.js';
import { formatIpv6 } from '../flow/format.js';
import { formatDuration } from '../flow/syntax.js';
import { splitTopLevel } from '../flow/tokens.js';
import type { PortNames } from '../flow/values.js';
import { formatPort } from '../flow/values.js';
import { ip4Text } from '../ports/address.js';
import type { PortInfo } from '../ports/types.js';
import type { ConntrackRecord, ConntrackTuple, TableStats } from '../switch.js';

/** ` (OF1.3)` after a reply's name for OpenFlow 1.1+, nothing for 1.0. */
export function versionTag(version: OfVersion): string {
  return version === 10 ? '' : ` (OF1.${version - 10})`;
}

/** `NAME reply[ (OF1.x)] (xid=0xN):` */
export function replyHeader(name: string, version: OfVersion, xid: number): string {
  return `${name} reply${versionTag(version)} (xid=0x${xid.toString(16)}):`;
}

export interface PortFormatOptions {
  readonly version?: OfVersion;
  readonly names?: PortNames;
  /** The clock for OF1.3+ durations (ms). */
  readonly now?: number;
  readonly xid?: number;
}

/** `ovs-ofctl dump-ports` output. */
export function formatPortStats(ports: readonly PortInfo[], opts: PortFormatOptions = {}): string {
  const version = opts.version ?? 10;
  const now = opts.now ?? Date.now();
  let out = `${replyHeader('OFPST_PORT', version, opts.xid ?? 2)} ${ports.length} ports\n`;
  for (const p of ports) {
    const s = p.stats;
    // ovs-ofctl pads one-digit port numbers by a space, whatever is printed for them.
    out += `  port ${p.ofport < 10 ? ' ' : ''}${formatPort(p.ofport, opts.names)}: rx pkts=${s.rxPackets}, bytes=${s.rxBytes}, drop=${s.rxDropped}, errs=${s.rxErrors}, frame=0, over=0, crc=0\n`;
    out += `           tx pkts=${s.txPackets}, bytes=${s.txBytes}, drop=${s.txDropped}, errs=${s.txErrors}, coll=0\n`;
    if (version >= 13) out += `           duration=${formatDuration(now - p.created)}\n`;
  }
  return out;
}

/** `ovs-ofctl dump-ports-desc` output (ports by number, LOCAL last). */
export function formatPortDescs(ports: readonly PortInfo[], opts: PortFormatOptions = {}): string {
  const version = opts.version ?? 10;
  let out = `${replyHeader('OFPST_PORT_DESC', version, opts.xid ?? 2)}\n`;
  for (const p of [...ports].sort((a, b) => a.ofport - b.ofport)) {
    out += ` ${formatPort(p.ofport)}(${p.name}): addr:${p.mac}\n`;
    out += `     config:     ${p.adminUp ? '0' : 'PORT_DOWN'}\n`;
    // OpenFlow 1.1 added the LIVE state bit, which OVS sets on every port whose link is up.
    out += `     state:      ${!p.linkUp ? 'LINK_DOWN' : version >= 11 ? 'LIVE' : '0'}\n`;
    out += `     speed: 0 Mbps now, 0 Mbps max\n`;
  }
  return out;
}

const OF10_TABLE_FEATURES =
  '    max_entries=1000000\n    matching:\n      exact match or wildcard: in_port eth_{src,dst,type} vlan_{vid,pcp} ip_{src,dst} nw_{proto,tos} tcp_{src,dst}\n';

/** `ovs-ofctl dump-tables` output: tables like the one before them collapse into "ditto". */
export function formatTableStats(tables: readonly TableStats[], opts: { readonly version?: OfVersion; readonly xid?: number } = {}): string {
  const version = opts.version ?? 10;
  const blocks: string[] = [];
  const same = (a: TableStats, b: TableStats): boolean => a.active === b.active && a.lookup === b.lookup && a.matched === b.matched;
  for (let i = 0; i < tables.length; ) {
    const t = tables[i]!;
    if (i > 0 && same(t, tables[i - 1]!)) {
      let j = i;
      while (j + 1 < tables.length && same(tables[j + 1]!, t)) j++;
      blocks.push(j === i ? `  table ${t.table}: ditto\n` : `  tables ${t.table}...${tables[j]!.table}: ditto\n`);
      i = j + 1;
      continue;
    }
    let b = `  table ${t.table}:\n    active=${t.active}, lookup=${t.lookup}, matched=${t.matched}\n`;
    if (version === 10) b += i === 0 ? OF10_TABLE_FEATURES : '    (same features)\n';
    blocks.push(b);
    i++;
  }
  return `${replyHeader('OFPST_TABLE', version, opts.xid ?? 2)}\n${blocks.join('\n')}`;
}

const PROTO_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 132: 'sctp' };

function addr(a: number | bigint | string): string {
  if (typeof a === 'string') return a;
  if (typeof a === 'bigint') return formatIpv6(a);
  return ip4Text(a);
}

function tuple(t: ConntrackTuple, icmp: boolean): string {
  const parts = [`src=${addr(t.src)}`, `dst=${addr(t.dst)}`];
  if (icmp) {
    if (t.id !== undefined) parts.push(`id=${t.id}`);
    if (t.type !== undefined) parts.push(`type=${t.type}`);
    if (t.code !== undefined) parts.push(`code=${t.code}`);
  } else {
    if (t.sport !== undefined) parts.push(`sport=${t.sport}`);
    if (t.dport !== undefined) parts.push(`dport=${t.dport}`);
  }
  return `(${parts.join(',')})`;
}

/** One line of `ovs-appctl dpctl/dump-conntrack` (lines the datapath already formatted pass through). */
export function formatConntrack(rec: string | ConntrackRecord): string {
  if (typeof rec === 'string') return rec;
  let proto = typeof rec.proto === 'number' ? (PROTO_NAMES[rec.proto] ?? `proto=${rec.proto}`) : rec.proto;
  if (rec.ipv6 && (proto === 'tcp' || proto === 'udp' || proto === 'sctp')) proto += '6';
  const icmp = proto === 'icmp' || proto === 'icmpv6';
  let s = `${proto},orig=${tuple(rec.orig, icmp)},reply=${tuple(rec.reply, icmp)}`;
  if (rec.zone) s += `,zone=${rec.zone}`;
  if (rec.mark) s += `,mark=${rec.mark}`;
  if (rec.labels) s += `,labels=0x${rec.labels.toString(16)}`;
  if (rec.state) s += `,protoinfo=(state=${rec.state})`;
  return s;
}

/**
 * A trace in the shape of `ovs-appctl ofproto/trace`, for datapaths that give only steps: the
 * flow, then per table the matched flow (`MATCH, priority P`) or "No match.", then the step's
 * notes (what it did), or the flow's actions one per line when it has none.
 */
export function formatTrace(bridge: string, flow: string, steps: readonly TraceStep[]): string {
  const title = `bridge("${bridge}")`;
  let out = `Flow: ${flow}\n\n${title}\n${'-'.repeat(title.length)}\n`;
  for (const step of steps) {
    const pad = '    '.repeat(step.depth);
    const num = `${step.table}.`.padStart(3);
    if (step.flow === undefined) {
      out += `${pad}${num} No match.\n`;
    } else {
      const m = /^(.*?)\s*actions=(.*)$/s.exec(step.flow);
      let head = m ? m[1]! : step.flow;
      const acts = m ? splitTopLevel(m[2]!).map((a) => a.trim()) : [];
      const parts = splitTopLevel(head).map((x) => x.trim()).filter((x) => x !== '');
      const pi = parts.findIndex((x) => x.startsWith('priority='));
      if (pi >= 0) {
        const prio = parts.splice(pi, 1)[0]!.slice('priority='.length);
        parts.push(`priority ${prio}`);
      }
      head = parts.join(',').replace(/,priority /, ', priority ');
      out += `${pad}${num} ${head}\n`;
      if (step.notes.length === 0) for (const a of acts) out += `${pad}    ${a}\n`;
    }
    for (const n of step.notes) out += `${pad}    ${n}\n`;
  }
  return out;
}
