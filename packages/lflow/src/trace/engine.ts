/**
 * The logical-pipeline simulator behind `ovnts trace`: given a Southbound database, a datapath
 * and a microflow, it runs the packet through the logical flows the way ovn-trace 23.03 models
 * OVN (table by table, across patch ports and multicast groups, with conntrack states assumed
 * from --ct and load-balancer choices from --lb-dst), and records a tree of what happened plus
 * the packet's fate (which ports receive which packets, where copies were dropped).
 *
 * `next` is a resubmit: the next table runs as a sibling in the same pipeline, on the same
 * packet. Conntrack actions recirculate a copy into the next table under a "transformation"
 * node; `output` starts the egress pipeline (ingress) or leaves through the port (egress).
 */
import type { Action, Arg, ArgValue, Backend } from '../actions.js';
import { argOf, parseActions, printAction } from '../actions.js';
import type { Expr, IntConst } from '../ast.js';
import { MatchError } from '../error.js';
import { evaluate } from '../interp.js';
import { Lexer } from '../lexer.js';
import { normalize } from '../normalize.js';
import { parseMatch, type MatchLookup } from '../parser.js';
import { printConstant } from '../printer.js';
import type { Pipeline, SbDatapath, SbLogicalFlow, SbMulticastGroup, SbPortBinding, Southbound } from './southbound.js';
import { ip4Text, ip6Text, macText, PacketState, type OptionValue } from './state.js';

export type TraceNode =
  | { readonly kind: 'pipeline' | 'table' | 'transform'; readonly title: string; readonly children: TraceNode[] }
  | { readonly kind: 'action' | 'modify' | 'note' | 'error'; readonly text: string }
  | { readonly kind: 'output'; readonly port: string };

export interface FateOutput {
  port: string;
  kind: 'forward' | 'reply';
  headers: Record<string, string | number>;
  generated?: string;
  dhcp_options?: Record<string, OptionValue>;
  dhcpv6_options?: Record<string, OptionValue>;
  nd_ra_options?: Record<string, OptionValue>;
}

export interface DropPoint {
  datapath: string;
  stage: string;
  how: 'drop' | 'no match' | 'inport == outport' | 'trace ends';
}

export interface Fate {
  verdict: 'output' | 'drop';
  outputs: FateOutput[];
  drops: DropPoint[];
  ct: string[];
  notes: string[];
}

export interface TraceResult {
  /** The microflow as the tracer understood it (ovn-trace's first line, in logical terms). */
  readonly flow: string;
  readonly root: TraceNode;
  readonly fate: Fate;
}

export interface TraceOptions {
  /** Conntrack states, one per lookup in order (`new`, `est,rpl`, `inv` …); later lookups get est. */
  readonly ct?: readonly string[];
  /** `IP[:PORT]` (IPv6 as `[IP]:PORT`): the backend a load balancer picks. */
  readonly lbDst?: string;
}

/** ovn-trace's guard against loops in the logical topology. */
const MAX_TABLES = 10_000;
const MAX_DEPTH = 200;

const CT_FLAGS: readonly (readonly [string, number])[] = [
  ['new', 0x01], ['est', 0x02], ['rel', 0x04], ['rpl', 0x08], ['inv', 0x10], ['trk', 0x20], ['snat', 0x40], ['dnat', 0x80],
];
const CS_EST_TRK = 0x02 | 0x20;

/** Parses one --ct state ("new", "est|rpl", "est,rpl"); tracked is implied. */
export function parseCtState(text: string): number {
  let v = 0x20;
  for (const word of text.split(/[,|+\s]+/).filter(Boolean)) {
    const bit = CT_FLAGS.find(([n]) => n === word)?.[1];
    if (bit === undefined) throw new Error(`${word}: unknown connection tracking state (expected one of ${CT_FLAGS.map(([n]) => n).join(', ')})`);
    v |= bit;
  }
  return v;
}

function ctStateText(v: number): string {
  return CT_FLAGS.filter(([, b]) => (v & b) !== 0).map(([n]) => n).join('|');
}

interface LbDst {
  readonly ip: bigint;
  readonly v6: boolean;
  readonly port: number | undefined;
}

function parseLbDst(text: string): LbDst {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text) ?? /^([0-9a-fA-F:]+)$/.exec(text);
  const t = m ? new Lexer(m[1]!).next() : undefined;
  if (!m || !t || t.kind !== 'int' || (t.format !== 'ipv4' && t.format !== 'ipv6')) throw new Error(`${text}: bad --lb-dst (expected IP[:PORT])`);
  return { ip: t.value, v6: t.format === 'ipv6', port: m[2] === undefined ? undefined : Number(m[2]) };
}

interface CompiledFlow {
  readonly flow: SbLogicalFlow;
  readonly match: Expr | MatchError;
  readonly actions: Action[] | MatchError;
}

/** Per-pipeline context while running actions of one table. */
interface Ctx {
  readonly dp: SbDatapath;
  readonly pipeline: Pipeline;
  readonly table: number;
  readonly stage: string;
  /** Where the next table's node goes (the pipeline or transformation holding this table). */
  readonly parent: TraceNode & { children: TraceNode[] };
  /** This table's node: action lines and nested sections. */
  readonly node: TraceNode & { children: TraceNode[] };
  readonly depth: number;
}

export class Tracer {
  private readonly dpByName = new Map<string, SbDatapath>();
  private readonly dpByUuid = new Map<string, SbDatapath>();
  private readonly portByName = new Map<string, SbPortBinding>();
  private readonly mcGroups = new Map<string, SbMulticastGroup>();
  /** Flows by datapath UUID, pipeline and table, highest priority first. */
  private readonly tables = new Map<string, SbLogicalFlow[]>();
  private readonly compiled = new Map<string, CompiledFlow>();
  private readonly gatewayRouters = new Set<string>();

  // Per-trace state.
  private ctStates: number[] = [];
  private ctIndex = 0;
  private lbDst: LbDst | undefined;
  private tablesRun = 0;
  private fate: Fate = newFate();
  private inport = '';

  constructor(private readonly sb: Southbound) {
    for (const dp of sb.datapaths) {
      this.dpByUuid.set(dp.uuid, dp);
      this.dpByName.set(dp.name, dp);
      this.dpByName.set(dp.uuid, dp);
    }
    for (const p of sb.ports) {
      this.portByName.set(p.name, p);
      if (p.type === 'l3gateway') this.gatewayRouters.add(p.datapath);
    }
    for (const g of sb.multicastGroups) this.mcGroups.set(`${g.datapath}/${g.name}`, g);
    for (const f of sb.flows) {
      for (const dp of f.datapaths) {
        const key = `${dp}/${f.pipeline}/${f.table}`;
        let list = this.tables.get(key);
        if (!list) this.tables.set(key, (list = []));
        list.push(f);
      }
    }
    for (const list of this.tables.values()) list.sort((a, b) => b.priority - a.priority);
  }

  /** The datapath a port name or datapath name refers to. */
  datapath(name: string): SbDatapath | undefined {
    return this.dpByName.get(name) ?? (this.portByName.has(name) ? this.dpByUuid.get(this.portByName.get(name)!.datapath) : undefined);
  }

  private lookupFor(dp: SbDatapath): MatchLookup {
    return {
      addressSet: (n) => (n === 'svc_monitor_mac' && this.sb.svcMonitorMac !== undefined ? [this.sb.svcMonitorMac] : this.sb.addressSets.get(n)),
      // northd 23.03 names a port group's per-datapath copy "<datapath key>_<name>".
      portGroup: (n) => this.sb.portGroups.get(`${dp.tunnelKey}_${n}`) ?? this.sb.portGroups.get(n),
    };
  }

  private compile(f: SbLogicalFlow, dp: SbDatapath): CompiledFlow {
    const key = `${f.uuid}/${dp.uuid}`;
    let c = this.compiled.get(key);
    if (!c) {
      const attempt = <T>(fn: () => T): T | MatchError => {
        try {
          return fn();
        } catch (e) {
          if (e instanceof MatchError) return e;
          throw e;
        }
      };
      c = {
        flow: f,
        match: attempt(() => parseMatch(f.match, { lookup: this.lookupFor(dp) })),
        actions: attempt(() => parseActions(f.actions)),
      };
      this.compiled.set(key, c);
    }
    return c;
  }

  /** Parse errors of every flow, for `ovnts trace --check` style validation. */
  check(): { flow: SbLogicalFlow; error: MatchError; what: 'match' | 'actions' }[] {
    const out: { flow: SbLogicalFlow; error: MatchError; what: 'match' | 'actions' }[] = [];
    for (const f of this.sb.flows) {
      const dp = this.dpByUuid.get(f.datapaths[0] ?? '');
      if (!dp) continue;
      const c = this.compile(f, dp);
      if (c.match instanceof MatchError) out.push({ flow: f, error: c.match, what: 'match' });
      if (c.actions instanceof MatchError) out.push({ flow: f, error: c.actions, what: 'actions' });
    }
    return out;
  }

  /**
   * Traces `microflow` (a match expression naming inport) entering datapath `dpName` (a
   * datapath name, or omitted to use the inport's datapath).
   */
  trace(dpName: string | undefined, microflow: string, opts: TraceOptions = {}): TraceResult {
    this.ctStates = (opts.ct ?? []).map(parseCtState);
    this.ctIndex = 0;
    this.lbDst = opts.lbDst === undefined ? undefined : parseLbDst(opts.lbDst);
    this.tablesRun = 0;
    this.fate = newFate();
    const pkt = this.microflowPacket(microflow, dpName);
    this.inport = pkt.str('inport');
    const port = this.portByName.get(this.inport);
    const dp = dpName !== undefined ? this.datapath(dpName) : port ? this.dpByUuid.get(port.datapath) : undefined;
    if (!dp) throw new Error(dpName !== undefined ? `unknown datapath "${dpName}"` : 'microflow must specify an inport of a known port');
    if (port && port.datapath !== dp.uuid) throw new Error(`inport "${this.inport}" is not on datapath "${dp.name}"`);
    const root: TraceNode & { children: TraceNode[] } = { kind: 'pipeline', title: '', children: [] };
    this.runPipeline(dp, 'ingress', pkt, root, 0);
    const fate = this.fate;
    fate.outputs.sort((a, b) => (a.port < b.port ? -1 : a.port > b.port ? 1 : 0));
    fate.verdict = fate.outputs.length ? 'output' : 'drop';
    return { flow: microflow, root: root.children[0]!, fate };
  }

  private microflowPacket(microflow: string, dpName: string | undefined): PacketState {
    const dp = dpName !== undefined ? this.datapath(dpName) : undefined;
    const lookup: MatchLookup = dp ? this.lookupFor(dp) : { addressSet: (n) => this.sb.addressSets.get(n), portGroup: () => undefined };
    const expr = parseMatch(microflow, { lookup });
    const dnf = normalize(expr);
    if (dnf.length === 0) throw new Error('microflow expression is always false');
    const conj = dnf[0]!;
    const pkt = new PacketState();
    for (const [base, m] of conj.bits) pkt.bits.set(base, m.value);
    for (const [name, value] of conj.equal) pkt.strings.set(name, value);
    if (!pkt.strings.get('inport')) throw new Error('microflow must specify an inport');
    return pkt;
  }

  // ---- pipelines and tables ----

  private runPipeline(dp: SbDatapath, pipeline: Pipeline, pkt: PacketState, parent: TraceNode & { children: TraceNode[] }, depth: number): void {
    const title = pipeline === 'ingress'
      ? `ingress(dp="${dp.name}", inport="${pkt.str('inport')}")`
      : `egress(dp="${dp.name}", inport="${pkt.str('inport')}", outport="${pkt.str('outport')}")`;
    const node: TraceNode & { children: TraceNode[] } = { kind: 'pipeline', title, children: [] };
    parent.children.push(node);
    if (depth > MAX_DEPTH) {
      node.children.push({ kind: 'error', text: '*** Too many nested pipelines; probably a loop' });
      return;
    }
    this.runTable(dp, pipeline, 0, pkt, node, depth);
  }

  private runTable(dp: SbDatapath, pipeline: Pipeline, table: number, pkt: PacketState, parent: TraceNode & { children: TraceNode[] }, depth: number): void {
    if (++this.tablesRun > MAX_TABLES) {
      parent.children.push({ kind: 'error', text: '*** Too many tables traversed; probably a loop' });
      return;
    }
    const candidates = this.tables.get(`${dp.uuid}/${pipeline}/${table}`);
    if (!candidates) {
      // Past the last table: OVN's pipelines always end in output/drop, so this is a bad DB.
      parent.children.push({ kind: 'note', text: `no logical flows in ${pipeline} table ${table} (implicit drop)` });
      this.fate.drops.push({ datapath: dp.name, stage: `table ${table}`, how: 'no match' });
      return;
    }
    const isResident = (port: string): boolean => this.portByName.has(port);
    let hit: CompiledFlow | undefined;
    for (const f of candidates) {
      const c = this.compile(f, dp);
      if (c.match instanceof MatchError) continue;
      if (evaluate(c.match, pkt, { isChassisResident: isResident })) {
        hit = c;
        break;
      }
    }
    if (!hit) {
      const stage = candidates[0]!.stage;
      parent.children.push({ kind: 'note', text: `${String(table).padStart(2)}. ${stage}: no match (implicit drop)` });
      this.fate.drops.push({ datapath: dp.name, stage, how: 'no match' });
      return;
    }
    const f = hit.flow;
    if (f.match.trim() === '1' && f.actions.trim() === 'next;') {
      // A flow that matches everything and only passes the packet on is not shown, as in ovn-trace.
      this.runTable(dp, pipeline, table + 1, pkt, parent, depth);
      return;
    }
    const source = f.source ? ` (${f.source})` : '';
    const title = `${String(table).padStart(2)}. ${f.stage}${source}: ${f.match}, priority ${f.priority}, uuid ${f.uuid.slice(0, 8)}`;
    const node: TraceNode & { children: TraceNode[] } = { kind: 'table', title, children: [] };
    parent.children.push(node);
    if (hit.actions instanceof MatchError) {
      node.children.push({ kind: 'error', text: `*** error parsing actions: ${hit.actions.message}` });
      this.fate.drops.push({ datapath: dp.name, stage: f.stage, how: 'drop' });
      return;
    }
    const ctx: Ctx = { dp, pipeline, table, stage: f.stage, parent, node, depth };
    this.runActions(hit.actions, pkt, ctx);
  }

  // ---- actions ----

  private runActions(list: readonly Action[], pkt: PacketState, ctx: Ctx): void {
    if (list.length === 0) {
      ctx.node.children.push({ kind: 'action', text: 'drop;' });
      this.fate.drops.push({ datapath: ctx.dp.name, stage: ctx.stage, how: 'drop' });
      return;
    }
    for (const a of list) this.runAction(a, pkt, ctx);
  }

  private runAction(a: Action, pkt: PacketState, ctx: Ctx): void {
    const line = (text: string = printAction(a)): void => {
      ctx.node.children.push({ kind: 'action', text });
    };
    switch (a.kind) {
      case 'next': {
        line();
        const pipeline = a.pipeline ?? ctx.pipeline;
        this.runTable(ctx.dp, pipeline, a.table ?? ctx.table + 1, pkt, ctx.parent, ctx.depth);
        return;
      }
      case 'drop':
        line();
        this.fate.drops.push({ datapath: ctx.dp.name, stage: ctx.stage, how: 'drop' });
        return;
      case 'output':
        line();
        this.output(pkt, ctx);
        return;
      case 'assign': {
        line();
        if (a.src.kind === 'const') {
          if (a.src.c.kind === 'str') pkt.setStr(a.dst.symbol, a.src.c.value);
          else pkt.set(a.dst, a.src.c.value);
        } else if (a.dst.nBits === 0) pkt.setStr(a.dst.symbol, pkt.str(a.src.ref.symbol));
        else pkt.set(a.dst, pkt.get(a.src.ref));
        this.modified(a.dst.symbol, pkt, ctx, a.dst.nBits === 0 ? undefined : a.dst, a.src.kind === 'field' ? a.src.ref.symbol : undefined);
        return;
      }
      case 'exchange': {
        line();
        if (a.a.nBits === 0) {
          const x = pkt.str(a.a.symbol);
          pkt.setStr(a.a.symbol, pkt.str(a.b.symbol));
          pkt.setStr(a.b.symbol, x);
        } else {
          const x = pkt.get(a.a);
          pkt.set(a.a, pkt.get(a.b));
          pkt.set(a.b, x);
          this.modified(a.a.symbol, pkt, ctx, a.a, a.b.symbol);
          this.modified(a.b.symbol, pkt, ctx, a.b, a.a.symbol);
        }
        return;
      }
      case 'dec_ttl': {
        line();
        const ttl = pkt.field('ip.ttl');
        if (ttl === 0n) {
          ctx.node.children.push({ kind: 'note', text: '*** TTL is already 0: the packet is dropped' });
          this.fate.drops.push({ datapath: ctx.dp.name, stage: ctx.stage, how: 'drop' });
          return;
        }
        pkt.setField('ip.ttl', ttl - 1n);
        ctx.node.children.push({ kind: 'modify', text: 'ip.ttl--;' });
        return;
      }
      case 'result':
        line();
        this.result(a, pkt, ctx);
        return;
      case 'call':
        line();
        this.call(a.name, a.args, pkt, ctx);
        return;
      case 'ct_lb':
        line();
        this.ctLb(a.name, a.backends, pkt, ctx);
        return;
      case 'block':
        this.block(a, pkt, ctx);
        return;
    }
  }

  /** Records a packet-field modification for the minimal form (registers and flags are not packet fields). */
  private modified(symbol: string, pkt: PacketState, ctx: Ctx, ref: Parameters<PacketState['get']>[0] | undefined, from?: string): void {
    if (/^(x{0,2}reg\d|flags|inport|outport|ct_)/.test(symbol)) return;
    // A value copied from another field prints in that field's notation (hex for registers).
    const notation = from ?? symbol;
    const isAddr = MAC_FIELDS.has(notation) || IP4_FIELDS.has(notation) || IP6_FIELDS.has(notation);
    const text = !ref ? JSON.stringify(pkt.str(symbol)) : from !== undefined && !isAddr ? `0x${pkt.get(ref).toString(16)}` : valueText(notation === from && isAddr ? notation : symbol, pkt.get(ref));
    ctx.node.children.push({ kind: 'modify', text: `${ref ? refTextOf(ref) : symbol} = ${text};` });
  }

  private output(pkt: PacketState, ctx: Ctx): void {
    const outport = pkt.str('outport');
    if (ctx.pipeline === 'ingress') {
      const group = this.mcGroups.get(`${ctx.dp.uuid}/${outport}`);
      if (group) {
        const node: TraceNode & { children: TraceNode[] } = { kind: 'transform', title: `multicast(dp="${ctx.dp.name}", mcgroup="${outport}")`, children: [] };
        ctx.node.children.push(node);
        const inport = pkt.str('inport');
        const loopback = pkt.field('flags.loopback') !== 0n;
        for (const member of [...group.ports].sort()) {
          if (member === inport && !loopback) {
            const title = `egress(dp="${ctx.dp.name}", inport="${inport}", outport="${member}")`;
            node.children.push({ kind: 'pipeline', title, children: [{ kind: 'note', text: '/* omitting output because inport == outport && !flags.loopback */' }] });
            continue;
          }
          const copy = egressCopy(pkt);
          copy.setStr('outport', member);
          this.runPipeline(ctx.dp, 'egress', copy, node, ctx.depth + 1);
        }
        return;
      }
      if (!this.portByName.has(outport)) {
        ctx.node.children.push({ kind: 'error', text: `*** unknown port "${outport}"` });
        this.fate.drops.push({ datapath: ctx.dp.name, stage: ctx.stage, how: 'drop' });
        return;
      }
      if (outport === pkt.str('inport') && pkt.field('flags.loopback') === 0n) {
        ctx.node.children.push({ kind: 'note', text: '/* omitting output because inport == outport && !flags.loopback */' });
        this.fate.drops.push({ datapath: ctx.dp.name, stage: ctx.stage, how: 'inport == outport' });
        return;
      }
      const copy = egressCopy(pkt);
      // A chassisredirect port stands for its distributed port on the gateway chassis, where the
      // egress pipeline runs with the distributed port as outport.
      const port = this.portByName.get(outport)!;
      const distributed = port.type === 'chassisredirect' ? port.options.get('distributed-port') : undefined;
      if (distributed !== undefined) {
        ctx.node.children.push({ kind: 'note', text: `/* Replacing type "chassisredirect" outport "${outport}" with distributed port "${distributed}". */` });
        copy.setStr('outport', distributed);
      }
      this.runPipeline(ctx.dp, 'egress', copy, ctx.node, ctx.depth + 1);
      return;
    }
    this.deliver(outport, pkt, ctx);
  }

  /** Egress output: leave the logical network, or cross a patch / redirect to the next datapath. */
  private deliver(outport: string, pkt: PacketState, ctx: Ctx): void {
    const port = this.portByName.get(outport);
    if (!port) {
      ctx.node.children.push({ kind: 'error', text: `*** unknown port "${outport}"` });
      this.fate.drops.push({ datapath: ctx.dp.name, stage: ctx.stage, how: 'drop' });
      return;
    }
    ctx.node.children.push({ kind: 'note', text: `/* output to "${outport}", type "${port.type}" */` });
    if (port.type === 'patch' || port.type === 'l3gateway') {
      const peerName = port.options.get('peer');
      const peer = peerName === undefined ? undefined : this.portByName.get(peerName);
      const dp = peer ? this.dpByUuid.get(peer.datapath) : undefined;
      if (!peer || !dp) {
        ctx.node.children.push({ kind: 'error', text: `*** missing peer for port "${outport}"` });
        this.fate.drops.push({ datapath: ctx.dp.name, stage: ctx.stage, how: 'drop' });
        return;
      }
      // Crossing a patch port starts a fresh pipeline: registers, flags and conntrack are cleared.
      const next = pkt.copy();
      for (const base of [...next.bits.keys()]) if (/^(xx?reg\d|reg\d|flags|ct_)/.test(base)) next.bits.delete(base);
      next.setStr('inport', peer.name);
      next.setStr('outport', '');
      this.runPipeline(dp, 'ingress', next, ctx.node, ctx.depth + 1);
      return;
    }
    ctx.node.children.push({ kind: 'output', port: outport });
    const out: FateOutput = {
      port: outport,
      kind: outport === this.inport ? 'reply' : 'forward',
      headers: headersOf(pkt),
    };
    if (pkt.generated !== undefined) out.generated = pkt.generated;
    if (pkt.options) out[pkt.options.column as 'dhcp_options'] = pkt.options.values;
    this.fate.outputs.push(out);
  }

  // ---- functions with results ----

  private result(a: Extract<Action, { kind: 'result' }>, pkt: PacketState, ctx: Ctx): void {
    let value = 0n;
    switch (a.fn) {
      case 'check_in_port_sec':
        value = this.portSecurityFails(pkt, 'in') ? 1n : 0n;
        break;
      case 'check_out_port_sec':
        value = this.portSecurityFails(pkt, 'out') ? 1n : 0n;
        break;
      case 'lookup_arp':
      case 'lookup_nd': {
        const [port, ip, mac] = [0, 1, 2].map((i) => this.argText(argOf(a.args, i), pkt));
        value = this.sb.macBindings.some((b) => b.logicalPort === port && sameIp(b.ip, ip) && sameMac(b.mac, mac)) ? 1n : 0n;
        if (!value) ctx.node.children.push({ kind: 'note', text: '/* lookup failed - No MAC binding. */' });
        break;
      }
      case 'lookup_arp_ip':
      case 'lookup_nd_ip': {
        const [port, ip] = [0, 1].map((i) => this.argText(argOf(a.args, i), pkt));
        value = this.sb.macBindings.some((b) => b.logicalPort === port && sameIp(b.ip, ip)) ? 1n : 0n;
        break;
      }
      case 'put_dhcp_opts':
      case 'put_dhcpv6_opts':
      case 'put_nd_ra_opts': {
        const column = a.fn === 'put_dhcp_opts' ? 'dhcp_options' : a.fn === 'put_dhcpv6_opts' ? 'dhcpv6_options' : 'nd_ra_options';
        pkt.options = { column, values: optionValues(a.args) };
        pkt.generated = a.fn;
        if (a.fn === 'put_dhcp_opts') {
          const note = '/* We assume that this packet is DHCPDISCOVER or DHCPREQUEST. */';
          ctx.node.children.push({ kind: 'note', text: note });
          this.fate.notes.push(note);
        }
        ctx.node.children.push({ kind: 'modify', text: printAction({ kind: 'call', name: a.fn, args: a.args }) });
        value = 1n;
        break;
      }
      case 'select': {
        const first = a.args[0];
        const text = first ? (first.key ?? this.argText(first.value, pkt)) : '0';
        value = /^\d+$/.test(text) ? BigInt(text) : 0n;
        break;
      }
      case 'get_fdb':
        // ovn-trace has no FDB: every lookup misses, which OVN writes as outport "none".
        pkt.setStr(a.dst.symbol, 'none');
        return;
      default:
        // chk_lb_hairpin, dns_lookup, lookup_fdb, check_pkt_larger, chk_ecmp_nh …: false in a trace.
        value = 0n;
    }
    if (a.dst.nBits) pkt.set(a.dst, value);
    if (a.fn === 'chk_lb_hairpin' || a.fn === 'chk_lb_hairpin_reply') {
      ctx.node.children.push({ kind: 'modify', text: `${refTextOf(a.dst)} = ${value};` });
    }
  }

  /** Text of an argument as the packet has it now (field values resolved). */
  private argText(v: ArgValue | undefined, pkt: PacketState): string {
    if (!v) return '';
    switch (v.kind) {
      case 'field':
        return v.ref.nBits === 0 ? pkt.str(v.ref.symbol) : valueText(v.ref.symbol, pkt.get(v.ref));
      case 'const':
        return v.c.kind === 'str' ? v.c.value : printConstant(v.c);
      case 'word':
        return v.word;
      case 'range':
        return `${printConstant(v.lo)}-${printConstant(v.hi)}`;
      case 'set':
        return v.items.map((c) => (c.kind === 'str' ? c.value : printConstant(c))).join(',');
    }
  }

  private portSecurityFails(pkt: PacketState, dir: 'in' | 'out'): boolean {
    const port = this.portByName.get(pkt.str(dir === 'in' ? 'inport' : 'outport'));
    if (!port || port.portSecurity.length === 0) return false;
    return !port.portSecurity.some((entry) => portSecurityAllows(entry, pkt, dir));
  }

  // ---- calls ----

  private call(name: string, args: readonly Arg[] | undefined, pkt: PacketState, ctx: Ctx): void {
    switch (name) {
      case 'ct_next': {
        const state = this.nextCt();
        this.recirculate(pkt.copy(), `ct_next(ct_state=${ctStateText(state)})`, ctx, state);
        return;
      }
      case 'ct_clear':
        for (const f of ['ct_state', 'ct_mark', 'ct_label']) pkt.setField(f, 0n);
        return;
      case 'ct_commit':
        this.fate.ct.push('ct_commit');
        return;
      case 'ct_dnat':
      case 'ct_snat':
      case 'ct_dnat_in_czone':
      case 'ct_snat_in_czone':
        this.ctNat(name, args, pkt, ctx);
        return;
      case 'ct_snat_to_vip':
      case 'ct_commit_nat':
        this.recirculate(pkt.copy(), `${name} /* assuming no change */`, ctx, undefined);
        return;
      case 'ct_lb':
      case 'ct_lb_mark':
        this.ctLb(name, [], pkt, ctx);
        return;
      case 'get_arp':
      case 'get_nd': {
        const port = this.argText(argOf(args, 0), pkt);
        const ip = this.argText(argOf(args, 1), pkt);
        const b = this.sb.macBindings.find((m) => m.logicalPort === port && sameIp(m.ip, ip));
        const mac = b ? macValue(b.mac) : 0n;
        pkt.setField('eth.dst', mac);
        ctx.node.children.push({ kind: 'note', text: b ? `/* MAC binding to ${macText(mac)}. */` : '/* No MAC binding. */' });
        ctx.node.children.push({ kind: 'modify', text: `eth.dst = ${macText(mac)};` });
        return;
      }
      case 'log': {
        const verdict = this.argText(argOf(args, 'verdict'), pkt);
        const n = this.argText(argOf(args, 'name'), pkt);
        ctx.node.children.push({ kind: 'note', text: `/* log(name=${JSON.stringify(n)}, verdict=${verdict || 'allow'}) */` });
        return;
      }
      default:
        // put_arp, put_nd, put_fdb, set_queue, trigger_event, handle_svc_check … change no packet.
        return;
    }
  }

  private nextCt(): number {
    const s = this.ctIndex < this.ctStates.length ? this.ctStates[this.ctIndex]! : CS_EST_TRK;
    this.ctIndex++;
    return s;
  }

  /** Continues the pipeline at the next table with a copy (in conntrack state `state`), under a transformation node. */
  private recirculate(copy: PacketState, title: string, ctx: Ctx, state: number | undefined): void {
    if (state !== undefined) copy.setField('ct_state', BigInt(state));
    this.fate.ct.push(title);
    const node: TraceNode & { children: TraceNode[] } = { kind: 'transform', title, children: [] };
    ctx.node.children.push(node);
    this.runTable(ctx.dp, ctx.pipeline, ctx.table + 1, copy, node, ctx.depth);
  }


  private ctNat(name: string, args: readonly Arg[] | undefined, pkt: PacketState, ctx: Ctx): void {
    const isDst = name.startsWith('ct_dnat');
    const ipArg = argOf(args, 0);
    if (ipArg === undefined || ipArg.kind !== 'const' || ipArg.c.kind !== 'int') {
      if (!isDst && this.gatewayRouters.has(ctx.dp.uuid)) {
        // ovn-trace 23.03 treats an argument-less ct_snat in a gateway router as the end of the
        // trace (the oracle records this as a quirk); do the same to predict its fates.
        this.fate.drops.push({ datapath: ctx.dp.name, stage: ctx.stage, how: 'trace ends' });
        return;
      }
      const state = this.nextCt();
      this.recirculate(pkt.copy(), `${name} /* assuming no un-${isDst ? 'dnat' : 'snat'} entry, so no change */`, ctx, state);
      return;
    }
    const ip = ipArg.c;
    const v6 = ip.format === 'ipv6';
    const field = `${v6 ? 'ip6' : 'ip4'}.${isDst ? 'dst' : 'src'}`;
    const copy = pkt.copy();
    copy.setField(field, ip.value);
    const portArg = argOf(args, 1);
    const l4 = l4Name(copy);
    if (portArg && l4 && (portArg.kind === 'range' || portArg.kind === 'const')) {
      const lo = portArg.kind === 'range' ? portArg.lo.value : portArg.c.kind === 'int' ? portArg.c.value : undefined;
      if (lo !== undefined) copy.setField(`${l4}.${isDst ? 'dst' : 'src'}`, lo);
    }
    const state = this.nextCt() | (isDst ? 0x80 : 0x40);
    const title = `${name}(${field}=${printConstant(ip)})`;
    this.recirculate(copy, title, ctx, state);
  }

  private ctLb(name: string, backends: readonly Backend[], pkt: PacketState, ctx: Ctx): void {
    let chosen: { ip: bigint; v6: boolean; port: number | undefined } | undefined;
    if (backends.length) {
      const want = this.lbDst;
      const match = want ? backends.find((b) => b.ip.value === want.ip && (want.port === undefined || b.port === want.port)) : undefined;
      const b = match ?? backends[0]!;
      chosen = { ip: b.ip.value, v6: b.ip.format === 'ipv6', port: b.port };
    } else if (this.lbDst) chosen = this.lbDst;
    // ovn-trace shows the chosen backend only as the changed packet, not as a modification.
    const copy = pkt.copy();
    if (chosen) {
      copy.setField(chosen.v6 ? 'ip6.dst' : 'ip4.dst', chosen.ip);
      const l4 = l4Name(copy);
      if (chosen.port !== undefined && l4) copy.setField(`${l4}.dst`, BigInt(chosen.port));
    }
    const state = this.nextCt() | (chosen && backends.length ? 0x80 : 0);
    this.recirculate(copy, name, ctx, state);
  }

  // ---- blocks: new packets and copies ----

  private block(a: Extract<Action, { kind: 'block' }>, pkt: PacketState, ctx: Ctx): void {
    if (a.name === 'ct_commit') {
      ctx.node.children.push({ kind: 'action', text: printAction(a) });
      this.fate.ct.push(printAction(a).replace(/;$/, ''));
      return;
    }
    const built = a.name === 'clone' ? pkt.copy() : synthesize(a.name, pkt);
    const title = a.name;
    ctx.node.children.push({ kind: 'action', text: printAction(a) });
    const node: TraceNode & { children: TraceNode[] } = { kind: 'transform', title, children: [] };
    ctx.node.children.push(node);
    // The block's actions run as if they were this table's, on the new packet.
    const inner: Ctx = { ...ctx, node, parent: node };
    this.runActions(a.body, built, inner);
  }
}

/** The packet entering the egress pipeline: OVN clears the logical registers reg0..reg9 there. */
function egressCopy(pkt: PacketState): PacketState {
  const copy = pkt.copy();
  for (const base of [...copy.bits.keys()]) if (/^x*reg\d/.test(base)) copy.bits.delete(base);
  return copy;
}

function newFate(): Fate {
  return { verdict: 'drop', outputs: [], drops: [], ct: [], notes: [] };
}

/** The packet OVN's controller builds for `name { … }`, as ovn-trace models it. */
function synthesize(name: string, pkt: PacketState): PacketState {
  const p = pkt.copy();
  const clearL4 = (): void => {
    for (const f of ['tcp.src', 'tcp.dst', 'tcp.flags', 'udp.src', 'udp.dst', 'sctp.src', 'sctp.dst', 'icmp4.type', 'icmp4.code', 'icmp6.type', 'icmp6.code']) p.setField(f, 0n);
  };
  const v6 = p.field('eth.type') === 0x86ddn;
  // An ICMP message of `type`/`code` in place of the transport header, as ovn-trace builds it.
  const icmp = (v: 'icmp4' | 'icmp6', type: bigint, code: bigint): void => {
    clearL4();
    p.setField('ip.proto', v === 'icmp4' ? 1n : 58n);
    p.setField('ip.ttl', 255n);
    p.setField(`${v}.type`, type);
    p.setField(`${v}.code`, code);
    p.generated = v;
  };
  switch (name) {
    case 'arp':
      p.setField('arp.sha', pkt.field('eth.src'));
      p.setField('arp.spa', pkt.field('ip4.src'));
      p.setField('arp.tha', 0n);
      p.setField('arp.tpa', pkt.field('ip4.dst'));
      p.setField('arp.op', 1n);
      p.setField('eth.type', 0x806n);
      clearL4();
      p.generated = 'arp';
      break;
    case 'nd_ns': {
      const target = pkt.field('ip6.dst');
      p.setField('nd.target', target);
      p.setField('ip6.dst', (0xff020000000000000000000001ff000000n) | (target & 0xffffffn));
      p.setField('eth.dst', 0x3333ff000000n | (target & 0xffffffn));
      clearL4();
      p.setField('ip.proto', 58n);
      p.setField('icmp6.type', 135n);
      p.setField('ip.ttl', 255n);
      p.setField('nd.sll', pkt.field('eth.src'));
      p.generated = 'nd_ns';
      break;
    }
    case 'nd_na':
    case 'nd_na_router':
      p.setField('eth.dst', pkt.field('eth.src'));
      p.setField('ip6.dst', pkt.field('ip6.src'));
      clearL4();
      p.setField('ip.proto', 58n);
      p.setField('icmp6.type', 136n);
      p.setField('ip.ttl', 255n);
      p.generated = 'nd_na';
      break;
    case 'icmp4':
    case 'icmp4_error':
      icmp('icmp4', 3n, 1n);
      break;
    case 'icmp6':
    case 'icmp6_error':
      icmp('icmp6', 1n, 1n);
      break;
    case 'tcp_reset':
      p.setField('ip.proto', 6n);
      p.setField('tcp.flags', 0x04n);
      p.generated = 'tcp_reset';
      break;
    case 'sctp_abort':
      p.generated = 'sctp_abort';
      break;
    case 'reject': {
      const proto = p.field('ip.proto');
      if (proto === 6n) {
        p.setField('tcp.flags', 0x04n);
        p.generated = 'reject/tcp_reset';
      } else {
        icmp(v6 ? 'icmp6' : 'icmp4', v6 ? 1n : 3n, v6 ? 4n : 3n);
        p.generated = v6 ? 'reject/icmp6' : 'reject/icmp4';
      }
      break;
    }
    default:
      p.generated = name;
  }
  return p;
}

function l4Name(p: PacketState): 'tcp' | 'udp' | 'sctp' | undefined {
  const proto = p.field('ip.proto');
  return proto === 6n ? 'tcp' : proto === 17n ? 'udp' : proto === 132n ? 'sctp' : undefined;
}

const MAC_FIELDS = new Set(['eth.src', 'eth.dst', 'arp.sha', 'arp.tha', 'nd.sll', 'nd.tll']);
const IP4_FIELDS = new Set(['ip4.src', 'ip4.dst', 'arp.spa', 'arp.tpa']);
const IP6_FIELDS = new Set(['ip6.src', 'ip6.dst', 'nd.target']);

/** A field's value in the notation of its kind (MAC, IPv4, IPv6, decimal). */
function valueText(symbol: string, v: bigint): string {
  if (MAC_FIELDS.has(symbol)) return macText(v);
  if (IP4_FIELDS.has(symbol)) return ip4Text(v);
  if (IP6_FIELDS.has(symbol)) return ip6Text(v);
  return v.toString();
}

function refTextOf(ref: { symbol: string; ofs: number; nBits: number; subscript: boolean }): string {
  if (!ref.subscript) return ref.symbol;
  return ref.nBits === 1 ? `${ref.symbol}[${ref.ofs}]` : `${ref.symbol}[${ref.ofs}..${ref.ofs + ref.nBits - 1}]`;
}

/** The headers of a delivered packet, by packet type (the oracle's fate format). */
export function headersOf(p: PacketState): Record<string, string | number> {
  const h: Record<string, string | number> = {};
  const put = (name: string): void => {
    const v = p.field(name);
    h[name] = MAC_FIELDS.has(name) || IP4_FIELDS.has(name) || IP6_FIELDS.has(name) ? valueText(name, v) : Number(v);
  };
  put('eth.src');
  put('eth.dst');
  const type = p.field('eth.type');
  if (type === 0x806n) {
    for (const f of ['arp.op', 'arp.sha', 'arp.spa', 'arp.tha', 'arp.tpa']) put(f);
    return h;
  }
  const v4 = type === 0x800n;
  if (!v4 && type !== 0x86ddn) return h;
  for (const f of v4 ? ['ip4.src', 'ip4.dst'] : ['ip6.src', 'ip6.dst']) put(f);
  put('ip.ttl');
  const proto = p.field('ip.proto');
  if (v4 && proto === 1n) ['icmp4.type', 'icmp4.code'].forEach(put);
  else if (!v4 && proto === 58n) {
    ['icmp6.type', 'icmp6.code'].forEach(put);
    const t = p.field('icmp6.type');
    if (t === 135n || t === 136n) put('nd.target');
    if (t === 135n) put('nd.sll');
    if (t === 136n) put('nd.tll');
  } else if (proto === 6n) ['tcp.src', 'tcp.dst', 'tcp.flags'].forEach(put);
  else if (proto === 17n) ['udp.src', 'udp.dst'].forEach(put);
  else if (proto === 132n) ['sctp.src', 'sctp.dst'].forEach(put);
  return h;
}

function optionValues(args: readonly Arg[]): Record<string, OptionValue> {
  const out: Record<string, OptionValue> = {};
  const text = (c: IntConst | { kind: 'str'; value: string }): string => (c.kind === 'str' ? c.value : printConstant(c));
  for (const a of args) {
    if (a.key === undefined) continue;
    const v = a.value;
    if (v.kind === 'set') out[a.key] = v.items.map(text);
    else if (v.kind === 'const') out[a.key] = text(v.c);
    else if (v.kind === 'word') out[a.key] = v.word;
    else if (v.kind === 'field') out[a.key] = v.ref.symbol;
  }
  return out;
}

function macValue(text: string): bigint {
  return BigInt('0x' + text.split(':').map((x) => x.padStart(2, '0')).join(''));
}

function sameMac(a: string, b: string): boolean {
  try {
    return macValue(a) === macValue(b);
  } catch {
    return false;
  }
}

function ipValue(text: string): bigint | undefined {
  try {
    const t = new Lexer(text).next();
    return t.kind === 'int' ? t.value : undefined;
  } catch {
    return undefined;
  }
}

function sameIp(a: string, b: string): boolean {
  const x = ipValue(a);
  return x !== undefined && x === ipValue(b);
}

/**
 * One port_security entry ("MAC [IP[/PLEN]…]") against the packet, as ovn-controller's port
 * security checks it: the MAC must match; with addresses, IPv4/IPv6 sources (ingress) or
 * destinations (egress) must be among them (DHCP discovery and IPv6 link-local/DAD allowed
 * in), and ARP/ND must carry the MAC and an allowed address.
 */
function portSecurityAllows(entry: string, p: PacketState, dir: 'in' | 'out'): boolean {
  const words = entry.trim().split(/\s+/);
  const mac = ipValue(words[0] ?? '');
  if (mac === undefined) return false;
  const ethMac = p.field(dir === 'in' ? 'eth.src' : 'eth.dst');
  if (ethMac !== mac) {
    // Egress lets broadcast and multicast through (northd also matches eth.mcast first).
    if (!(dir === 'out' && (ethMac >> 40n) & 1n)) return false;
  }
  const nets = words.slice(1).map((w) => new Lexer(w).next()).filter((t) => t.kind === 'int');
  const v4nets = nets.filter((t) => t.format === 'ipv4');
  const v6nets = nets.filter((t) => t.format === 'ipv6');
  const inNet = (addr: bigint, list: typeof nets, width: bigint): boolean =>
    list.some((t) => {
      const m = t.mask ?? (1n << width) - 1n;
      return (addr & m) === (t.value & m);
    });
  const type = p.field('eth.type');
  if (type === 0x806n) {
    if (dir === 'out') return true;
    if (p.field('arp.sha') !== mac) return false;
    return v4nets.length === 0 || inNet(p.field('arp.spa'), v4nets, 32n);
  }
  if (type === 0x800n) {
    if (v4nets.length === 0) return nets.length === 0;
    if (dir === 'in') {
      const src = p.field('ip4.src');
      if (inNet(src, v4nets, 32n)) return true;
      return src === 0n && p.field('ip4.dst') === 0xffffffffn && p.field('ip.proto') === 17n && p.field('udp.src') === 68n && p.field('udp.dst') === 67n;
    }
    const dst = p.field('ip4.dst');
    return inNet(dst, v4nets, 32n) || dst === 0xffffffffn || dst >> 28n === 0xen;
  }
  if (type === 0x86ddn) {
    if (nets.length === 0) return true;
    const addr = p.field(dir === 'in' ? 'ip6.src' : 'ip6.dst');
    const linkLocal = addr >> 64n === 0xfe80000000000000n;
    if (dir === 'in') return addr === 0n || linkLocal || inNet(addr, v6nets, 128n);
    return linkLocal || addr >> 120n === 0xffn || inNet(addr, v6nets, 128n);
  }
  return nets.length === 0;
}


