/**
 * SwitchClient: the typed client of a switch's control socket (`unix:PATH` or a bare path).
 * Requests are pipelined and matched to replies by id. With `reconnect`, a lost connection is
 * re-established with backoff: requests made meanwhile wait for it, requests that were in flight
 * fail (the switch may or may not have applied them), and packet-in subscriptions are renewed.
 */
import { connect, type Socket } from 'node:net';
import type { Continuation, PacketIn } from '../datapath/types.js';
import type { FlowKey } from '../fields.js';
import type { Action } from '../flow/actions.js';
import type { Group } from '../flow/group.js';
import type { FlowFilter, FlowMod, FlowModCommand } from '../flow/table.js';
import type { PortInfo, PortSpec } from '../ports/types.js';
import type { GroupMod, SwitchInfo, TableStats } from '../switch.js';
import { encodeFrame, FrameReader } from './codec.js';
import { ControlError, type ErrorBody, type FlowModParam, type FlowModSummary, type Method, type Params, type Result, type TraceParams, type TraceResult } from './protocol.js';

export interface SwitchClientOptions {
  /** Reconnect after losing the connection (and keep trying to connect at first). Default false. */
  readonly reconnect?: boolean;
  /** Longest wait between reconnection attempts, ms (default 2000). */
  readonly maxBackoffMs?: number;
  /** How long connect() keeps trying with `reconnect` before it gives up, ms (default 10000). */
  readonly connectTimeoutMs?: number;
  /** Called when the connection is lost or (re)established. */
  readonly onStateChange?: (connected: boolean) => void;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

/** `unix:PATH` or a bare path to the socket path. */
export function socketPath(target: string): string {
  if (target.startsWith('unix:')) return target.slice(5);
  if (/^[a-z]+:/.test(target) && !target.startsWith('/')) throw new ControlError(`${target}: only unix: sockets are supported`);
  return target;
}

export class SwitchClient {
  private readonly path: string;
  private socket: Socket | undefined;
  private connected = false;
  private closed = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private waiters: { resolve(): void; reject(e: Error): void }[] = [];
  private readonly packetInListeners = new Set<(p: PacketIn) => void>();
  private backoff = 100;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(
    target: string,
    private readonly opts: SwitchClientOptions = {},
  ) {
    this.path = socketPath(target);
  }

  /** Connects a new client (see SwitchClientOptions for retrying). */
  static async connect(target: string, opts: SwitchClientOptions = {}): Promise<SwitchClient> {
    const c = new SwitchClient(target, opts);
    await c.connect();
    return c;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  async connect(): Promise<void> {
    const deadline = Date.now() + (this.opts.connectTimeoutMs ?? 10_000);
    for (;;) {
      try {
        await this.open();
        return;
      } catch (e) {
        if (!this.opts.reconnect || this.closed || Date.now() >= deadline) throw e;
        await new Promise((r) => setTimeout(r, this.nextBackoff()));
      }
    }
  }

  /** Closes the connection for good; pending requests fail. */
  close(): void {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.socket?.destroy();
    this.socket = undefined;
    this.failAll(new ControlError('client closed'));
    for (const w of this.waiters) w.reject(new ControlError('client closed'));
    this.waiters = [];
  }

  private nextBackoff(): number {
    const b = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.opts.maxBackoffMs ?? 2000);
    return b;
  }

  private open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = connect(this.path);
      const reader = new FrameReader();
      let up = false;
      s.once('connect', () => {
        up = true;
        this.socket = s;
        this.connected = true;
        this.backoff = 100;
        this.opts.onStateChange?.(true);
        if (this.packetInListeners.size) this.send('subscribe', { events: ['packet_in'] }).catch(() => undefined);
        const ws = this.waiters;
        this.waiters = [];
        for (const w of ws) w.resolve();
        resolve();
      });
      s.on('data', (chunk) => {
        reader.push(chunk, (m) => this.onMessage(m), () => s.destroy());
      });
      s.on('error', (e) => {
        if (!up) reject(new ControlError(`${this.path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such switch socket' : e.message}`));
      });
      s.on('close', () => {
        if (!up) return;
        this.connected = false;
        if (this.socket === s) this.socket = undefined;
        this.failAll(new ControlError('connection to the switch was lost'));
        this.opts.onStateChange?.(false);
        if (this.opts.reconnect && !this.closed) this.scheduleReconnect();
      });
    });
  }

  private scheduleReconnect(): void {
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.open().catch(() => {
        if (!this.closed) this.scheduleReconnect();
      });
    }, this.nextBackoff());
  }

  private failAll(e: Error): void {
    const ps = [...this.pending.values()];
    this.pending.clear();
    for (const p of ps) p.reject(e);
  }

  private onMessage(m: unknown): void {
    if (typeof m !== 'object' || m === null) return;
    const msg = m as { id?: number | null; result?: unknown; error?: ErrorBody; event?: string; data?: unknown };
    if (msg.event === 'packet_in') {
      for (const fn of this.packetInListeners) {
        try {
          fn(msg.data as PacketIn);
        } catch {
          // A listener's failure is its own.
        }
      }
      return;
    }
    if (typeof msg.id !== 'number') return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.error) p.reject(new ControlError(msg.error.message, msg.error.code, msg.error.index));
    else p.resolve(msg.result);
  }

  private async whenConnected(): Promise<void> {
    if (this.connected) return;
    if (this.closed) throw new ControlError('client closed');
    if (!this.opts.reconnect) throw new ControlError('not connected to the switch');
    await new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Sends any request (the typed methods below are thin wrappers). */
  async request<M extends Method>(method: M, params: Params<M>): Promise<Result<M>> {
    return (await this.send(method, params)) as Result<M>;
  }

  private async send(method: string, params: unknown): Promise<unknown> {
    await this.whenConnected();
    const socket = this.socket;
    if (!socket || !this.connected) throw new ControlError('connection to the switch was lost');
    const id = this.nextId++;
    const frame = encodeFrame({ id, method, params: params ?? null });
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      socket.write(frame);
    });
  }

  // --- typed API ------------------------------------------------------------------------

  show(): Promise<SwitchInfo> {
    return this.request('show', undefined);
  }

  /** A structured flow mod, or ovs-ofctl text for `command` (parsed by the switch with its port names). */
  flowMod(mod: FlowMod | string, command?: FlowModCommand): Promise<FlowModSummary> {
    return this.request('flow_mod', toParam(mod, command));
  }

  bundle(mods: readonly (FlowMod | string)[], command?: FlowModCommand): Promise<FlowModSummary> {
    return this.request('bundle', { mods: mods.map((m) => toParam(m, command)) });
  }

  groupMod(gm: GroupMod): Promise<{ readonly count: number }> {
    return this.request('group_mod', gm);
  }

  /** Group text as add-group/mod-group/del-groups take it. */
  groupModText(command: 'add' | 'modify' | 'delete', text: string, mayCreate = false): Promise<{ readonly count: number }> {
    return this.request('group_mod', { command, text, ...(mayCreate ? { mayCreate } : {}) });
  }

  dumpFlows(filter: FlowFilter | string = {}, strict = false) {
    return this.request('dump_flows', typeof filter === 'string' ? { spec: filter, ...(strict ? { strict } : {}) } : { filter });
  }

  dumpGroups(id?: number): Promise<readonly Group[]> {
    return this.request('dump_groups', id === undefined ? {} : { id });
  }

  dumpPorts(port?: number | string): Promise<readonly PortInfo[]> {
    return this.request('dump_ports', port === undefined ? {} : { port });
  }

  dumpTables(): Promise<readonly TableStats[]> {
    return this.request('dump_tables', undefined);
  }

  dumpConntrack(zone?: number): Promise<readonly string[]> {
    return this.request('dump_conntrack', zone === undefined ? {} : { zone });
  }

  addPort(spec: PortSpec): Promise<PortInfo> {
    return this.request('add_port', spec);
  }

  async delPort(name: string): Promise<boolean> {
    return (await this.request('del_port', { name })).removed;
  }

  trace(params: TraceParams): Promise<TraceResult> {
    return this.request('trace', params);
  }

  async packetOut(frame: Uint8Array, actions: readonly Action[] | string, opts: { inPort?: number | string; key?: FlowKey } = {}): Promise<void> {
    await this.request('packet_out', { frame, actions, ...opts });
  }

  async resume(continuation: Continuation, frame?: Uint8Array, key?: FlowKey): Promise<void> {
    await this.request('resume', { continuation, ...(frame ? { frame } : {}), ...(key ? { key } : {}) });
  }

  /** Receives packet-ins; returns a function that stops them. */
  async onPacketIn(fn: (p: PacketIn) => void): Promise<() => Promise<void>> {
    const first = this.packetInListeners.size === 0;
    this.packetInListeners.add(fn);
    if (first) await this.send('subscribe', { events: ['packet_in'] });
    return async () => {
      this.packetInListeners.delete(fn);
      if (this.packetInListeners.size === 0 && this.connected) await this.send('unsubscribe', { events: ['packet_in'] });
    };
  }
}

function toParam(mod: FlowMod | string, command: FlowModCommand | undefined): FlowModParam {
  return typeof mod === 'string' ? { text: mod, ...(command ? { command } : {}) } : { mod };
}
