/**
 * A switch: ports (PortTable) around a packet-processing core (Datapath), with the operations
 * the controller and the operator tools use: flow and group mods, dumps, tracing, packet-out,
 * resume, and packet-in subscription. In process it is used directly; as its own process it is
 * served over a control socket (control/server.ts) by `ovnts switch`.
 */
import { createDatapath } from './datapath/index.js';
import { TrackedFlowTables, TrackedGroupTable } from './datapath/tables.js';
import type { Datapath, DatapathStats, PacketIn, PortSink, TraceResult, TraceStep, TunnelMetadata, Continuation } from './datapath/types.js';
import type { FlowKey } from './fields.js';
import type { Action } from './flow/actions.js';
import type { Group } from './flow/group.js';
import type { FlowEntry, FlowFilter, FlowMod, FlowModResult } from './flow/table.js';
import type { FrameReceiver } from './ports/internal.js';
import { PortTable } from './ports/table.js';
import type { PortInfo, PortSpec } from './ports/types.js';
import type { TunnelEndpointStats } from './ports/tunnel.js';

/** Builds the core for a port table (the core sends frames out through it). */
export type DatapathFactory = (ports: PortSink) => Datapath;

/** One side of a connection as dpctl/dump-conntrack prints it. */
export interface ConntrackTuple {
  /** IPv4 as a number or text, IPv6 as a bigint or text. */
  readonly src: number | bigint | string;
  readonly dst: number | bigint | string;
  readonly sport?: number;
  readonly dport?: number;
  /** ICMP */
  readonly id?: number;
  readonly type?: number;
  readonly code?: number;
}

export interface ConntrackRecord {
  /** `tcp`, `udp`, `icmp`, `icmpv6`, `sctp`, or an IP protocol number. */
  readonly proto: string | number;
  readonly ipv6?: boolean;
  readonly orig: ConntrackTuple;
  readonly reply: ConntrackTuple;
  readonly zone?: number;
  readonly mark?: number;
  readonly labels?: bigint;
  /** TCP state name (ESTABLISHED, SYN_SENT …). */
  readonly state?: string;
}

/**
 * What the switch uses of a datapath beyond the Datapath interface, when it is there: a
 * connection-table dump, per-table lookup/match counters, and a way to release resources.
 */
export interface DatapathExtras {
  dumpConntrack?(zone?: number): readonly (string | ConntrackRecord)[];
  tableStats?(): readonly { readonly lookup: number; readonly matched: number }[];
  close?(): void | Promise<void>;
}

export interface TableStats {
  readonly table: number;
  /** Flows in the table. */
  readonly active: number;
  readonly lookup: number;
  readonly matched: number;
}

export type GroupMod =
  | { readonly command: 'add'; readonly group: Group }
  | { readonly command: 'modify'; readonly group: Group; readonly mayCreate?: boolean }
  | { readonly command: 'delete'; readonly id?: number };

export interface PacketOutOptions {
  readonly inPort?: number;
  readonly key?: FlowKey;
}

export interface SwitchInfo {
  readonly name: string;
  readonly nTables: number;
  readonly tunnelIp: string | undefined;
  readonly tunnelPort: number | undefined;
  readonly ports: number;
  readonly datapath: DatapathStats;
  readonly tunnel: TunnelEndpointStats | undefined;
  /** Frames dropped as patch-port loops or for a full receive queue. */
  readonly loopDrops: number;
}

export interface SwitchOptions {
  /** The bridge name (br-int): also the local port's name. */
  readonly name: string;
  /** The core, or how to build it over this switch's ports; default: createDatapath (src/datapath). */
  readonly datapath?: Datapath | DatapathFactory;
  /** A port table made beforehand (when the datapath was built over it); default: a new one. */
  readonly ports?: PortTable;
  readonly tunnelIp?: string;
  /** Default 6081; 0 picks a free port. */
  readonly tunnelPort?: number;
  /** How often timed-out flows are removed; default 1000 ms, 0 = never. */
  readonly expireIntervalMs?: number;
}

/** The project's datapath (src/datapath) over a port table. */
export const defaultDatapath: DatapathFactory = (ports) => createDatapath({ sink: ports });

export class Switch {
  readonly name: string;
  readonly ports: PortTable;
  readonly datapath: Datapath & DatapathExtras;
  private readonly packetInListeners = new Set<(p: PacketIn) => void>();
  private expireTimer: NodeJS.Timeout | undefined;
  private readonly tablesTracked: boolean;
  private readonly groupsTracked: boolean;
  private closed = false;

  /** Builds a switch (with the default datapath unless one is given) and opens its sockets. */
  static async create(opts: SwitchOptions): Promise<Switch> {
    const sw = new Switch(opts);
    await sw.start();
    return sw;
  }

  constructor(opts: SwitchOptions) {
    this.name = opts.name;
    this.ports =
      opts.ports ??
      new PortTable({
        bridge: opts.name,
        ...(opts.tunnelIp !== undefined ? { tunnelIp: opts.tunnelIp } : {}),
        ...(opts.tunnelPort !== undefined ? { tunnelPort: opts.tunnelPort } : {}),
      });
    const dp = opts.datapath ?? defaultDatapath;
    this.datapath = typeof dp === 'function' ? dp(this.ports) : dp;
    // Tables that stamp their own changes keep the flow cache precise; invalidate() would
    // throw away every cached decision on each flow mod.
    this.tablesTracked = this.datapath.tables instanceof TrackedFlowTables;
    this.groupsTracked = this.datapath.groups instanceof TrackedGroupTable;
    this.ports.connect((inPort, frame, tunnel) => this.datapath.receive(inPort, frame, tunnel));
    this.ports.onChange(() => this.datapath.invalidate());
    this.datapath.onPacketIn((p) => {
      for (const fn of this.packetInListeners) {
        try {
          fn(p);
        } catch {
          // One subscriber's failure must not keep the packet from the others.
        }
      }
    });
    const every = opts.expireIntervalMs ?? 1000;
    if (every > 0) {
      this.expireTimer = setInterval(() => this.expire(), every);
      this.expireTimer.unref();
    }
  }

  /** Opens the tunnel socket. */
  async start(): Promise<void> {
    await this.ports.start();
  }

  /** Closes every socket and stops timers; the switch is unusable afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.expireTimer) clearInterval(this.expireTimer);
    this.packetInListeners.clear();
    await this.ports.close();
    await this.datapath.close?.();
  }

  info(): SwitchInfo {
    return {
      name: this.name,
      nTables: this.datapath.tables.nTables,
      tunnelIp: this.ports.tunnel?.ip,
      tunnelPort: this.ports.tunnel?.port,
      ports: this.ports.size,
      datapath: this.datapath.stats(),
      tunnel: this.ports.tunnelStats(),
      loopDrops: this.ports.loopDrops,
    };
  }

  // --- flows and groups -----------------------------------------------------------------

  flowMod(mod: FlowMod): FlowModResult {
    try {
      return this.datapath.tables.apply(mod);
    } finally {
      if (!this.tablesTracked) this.datapath.invalidate();
    }
  }

  /** Applies flow mods atomically: all or none (FlowModError.index names the failing one). */
  bundle(mods: readonly FlowMod[]): FlowModResult {
    try {
      return this.datapath.tables.bundle(mods);
    } finally {
      if (!this.tablesTracked) this.datapath.invalidate();
    }
  }

  groupMod(gm: GroupMod): number {
    const groups = this.datapath.groups;
    try {
      switch (gm.command) {
        case 'add':
          groups.add(gm.group);
          return 1;
        case 'modify':
          groups.modify(gm.group, gm.mayCreate ?? false);
          return 1;
        case 'delete':
          return groups.delete(gm.id);
        default:
          throw new Error(`unknown group command "${(gm as { command: unknown }).command}"`);
      }
    } finally {
      if (!this.groupsTracked) this.datapath.invalidate();
    }
  }

  /** The selected flows (live entries: read, do not change). */
  dumpFlows(filter: FlowFilter = {}): FlowEntry[] {
    return this.datapath.tables.dump(filter);
  }

  dumpGroups(id?: number): Group[] {
    const all = this.datapath.groups.list();
    return id === undefined ? all : all.filter((g) => g.id === id);
  }

  /** Removes timed-out flows and connections now (also done every expireIntervalMs). */
  expire(): FlowEntry[] {
    const gone = this.datapath.tables.expire();
    if (gone.length && !this.tablesTracked) this.datapath.invalidate();
    this.datapath.conntrack?.sweep();
    return gone;
  }

  // --- ports ----------------------------------------------------------------------------

  addPort(spec: PortSpec, attach?: FrameReceiver): Promise<PortInfo> {
    return this.ports.add(spec, attach);
  }

  delPort(name: string): Promise<boolean> {
    return this.ports.remove(name);
  }

  /** Ports with their counters; one port when `port` (number or name) is given. */
  dumpPorts(port?: number | string): PortInfo[] {
    if (port === undefined) return this.ports.list();
    const p = this.ports.get(port);
    return p ? [p] : [];
  }

  /** Per-table flow counts and lookup/match counters (from the datapath when it keeps them). */
  dumpTables(): TableStats[] {
    const tables = this.datapath.tables;
    const counters = this.datapath.tableStats?.();
    const out: TableStats[] = [];
    for (let t = 0; t < tables.nTables; t++) {
      const c = counters?.[t];
      let matched = c?.matched;
      if (matched === undefined) {
        // Without datapath counters, the flows' own packet counts say how many matched.
        matched = 0;
        for (const e of tables.classifier(t)) matched += e.nPackets;
      }
      out.push({ table: t, active: tables.count(t), lookup: c?.lookup ?? matched, matched });
    }
    return out;
  }

  /** The connection table (optionally one zone); empty when the datapath has none. */
  dumpConntrack(zone?: number): readonly (string | ConntrackRecord)[] {
    const dp = this.datapath;
    if (dp.dumpConntrack) return dp.dumpConntrack(zone);
    return dp.conntrack?.dump(zone) ?? [];
  }

  // --- packets --------------------------------------------------------------------------

  trace(inPort: number, frame: Uint8Array, tunnel?: TunnelMetadata): TraceStep[] {
    return this.datapath.trace(inPort, frame, tunnel);
  }

  /** The steps and, when the datapath writes it, ofproto/trace's text (megaflow, datapath actions). */
  traceDetailed(inPort: number, frame: Uint8Array, tunnel?: TunnelMetadata): { readonly steps: readonly TraceStep[]; readonly detail?: TraceResult } {
    const dp = this.datapath;
    if (dp.traceDetailed) {
      const detail = dp.traceDetailed(inPort, frame, tunnel);
      // The datapath does not know the bridge's name: put it in the text's bridge("…") headers.
      const title = `bridge("${this.name}")`;
      const text = detail.text.replace(/^bridge\("[^"\n]*"\)\n-+$/gm, `${title}\n${'-'.repeat(title.length)}`);
      return { steps: detail.steps, detail: { ...detail, text } };
    }
    return { steps: dp.trace(inPort, frame, tunnel) };
  }

  packetOut(frame: Uint8Array, actions: readonly Action[], opts: PacketOutOptions = {}): void {
    this.ports.guard(() => this.datapath.packetOut(frame, actions, opts));
  }

  resume(cont: Continuation, frame?: Uint8Array, key?: FlowKey): void {
    this.ports.guard(() => this.datapath.resume(cont, frame, key));
  }

  /** Subscribes to packet-ins; returns the unsubscribe function. */
  onPacketIn(fn: (p: PacketIn) => void): () => void {
    this.packetInListeners.add(fn);
    return () => this.packetInListeners.delete(fn);
  }
}
