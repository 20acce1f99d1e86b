/**
 * Serves a Switch on a unix socket (`ovnts switch --control punix:PATH`): length-prefixed
 * msgpack requests in, replies and packet-in pushes out (see protocol.ts). Every connection is
 * independent: a malformed message gets an error reply, a client that vanishes mid-request
 * loses its reply and its subscriptions and nothing else, and a client too slow to read its
 * packet-ins loses packet-ins (counted) rather than growing the switch's memory.
 */
import { existsSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { PacketIn, TunnelMetadata } from '../datapath/types.js';
import { parseActions } from '../flow/action-syntax.js';
import { parseGroup } from '../flow/group-syntax.js';
import { parseFlowMod } from '../flow/syntax.js';
import { FlowModError } from '../flow/table.js';
import type { FlowFilter, FlowMod, FlowModResult } from '../flow/table.js';
import { parsePort } from '../flow/values.js';
import type { Switch } from '../switch.js';
import { encodeFrame, FrameReader } from './codec.js';
import { formatConntrack } from './format.js';
import { microflowPacket } from './microflow.js';
import { ControlError } from './protocol.js';
import type { ErrorBody, FlowModParam, FlowModSummary, Method, Methods, Push, Request, TraceParams, TraceResult } from './protocol.js';

/** Pushes queued to a client beyond this many bytes are dropped instead. */
const PUSH_BACKLOG_LIMIT = 16 * 1024 * 1024;

export interface ControlServerOptions {
  /** Logs one line per notable event (connections, protocol errors). */
  readonly log?: (line: string) => void;
}

class Connection {
  readonly reader = new FrameReader();
  packetIns = false;
  droppedPushes = 0;
  constructor(readonly socket: Socket) {}

  send(msg: unknown): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    this.socket.write(encodeFrame(msg));
  }
}

function summary(r: FlowModResult): FlowModSummary {
  return { added: r.added.length, modified: r.modified.length, removed: r.removed.length };
}

function errorBody(e: unknown): ErrorBody {
  if (e instanceof FlowModError) return { message: e.message, code: e.code, ...(e.index !== undefined ? { index: e.index } : {}) };
  if (e instanceof ControlError) return { message: e.message, ...(e.code !== undefined ? { code: e.code } : {}), ...(e.index !== undefined ? { index: e.index } : {}) };
  if (e instanceof Error) {
    // GroupTable speaks plain errors; give them their OpenFlow names.
    if (/^group \d+ already exists/.test(e.message)) return { message: e.message, code: 'OFPGMFC_GROUP_EXISTS' };
    if (/^group \d+ does not exist/.test(e.message)) return { message: e.message, code: 'OFPGMFC_UNKNOWN_GROUP' };
    return { message: e.message };
  }
  return { message: String(e) };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class ControlServer {
  private server: Server | undefined;
  private path: string | undefined;
  private readonly conns = new Set<Connection>();
  private readonly log: (line: string) => void;
  private unsubscribe: (() => void) | undefined;

  constructor(
    readonly sw: Switch,
    opts: ControlServerOptions = {},
  ) {
    this.log = opts.log ?? (() => undefined);
  }

  /** Listens on a unix socket path (`punix:PATH` or a bare path). A stale socket file is replaced. */
  async listen(target: string): Promise<void> {
    const path = target.startsWith('punix:') ? target.slice(6) : target;
    if (existsSync(path)) {
      if (await isLive(path)) throw new Error(`${path}: another process is listening on this socket`);
      unlinkSync(path);
    }
    const server = createServer((s) => this.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.log(`control socket error: ${e.message}`));
    this.server = server;
    this.path = path;
    this.unsubscribe = this.sw.onPacketIn((p) => this.pushPacketIn(p));
  }

  get connections(): number {
    return this.conns.size;
  }

  /** Stops listening, drops every client and removes the socket file. */
  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const c of this.conns) c.socket.destroy();
    this.conns.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (this.path && existsSync(this.path)) {
      try {
        unlinkSync(this.path);
      } catch {
        // Already gone.
      }
    }
  }

  private accept(socket: Socket): void {
    const conn = new Connection(socket);
    this.conns.add(conn);
    this.log(`control: client connected (${this.conns.size} now)`);
    socket.on('data', (chunk) => {
      const ok = conn.reader.push(
        chunk,
        (m) => this.onMessage(conn, m),
        (e) => {
          this.log(`control: ${e.message}`);
          conn.send({ id: null, error: { message: e.message } });
        },
      );
      if (!ok) socket.end();
    });
    // A client that vanishes is simply forgotten: its errors are not the switch's.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.conns.delete(conn);
      this.log(`control: client disconnected (${this.conns.size} left)`);
    });
  }

  private onMessage(conn: Connection, m: unknown): void {
    if (!isObject(m) || typeof m['method'] !== 'string' || typeof m['id'] !== 'number') {
      const id = isObject(m) && typeof m['id'] === 'number' ? m['id'] : null;
      conn.send({ id, error: { message: 'malformed request: expected {id: number, method: string, params}' } });
      return;
    }
    const req = m as unknown as Request;
    let result: unknown;
    try {
      result = this.handle(conn, req.method, req.params);
    } catch (e) {
      conn.send({ id: req.id, error: errorBody(e) });
      return;
    }
    Promise.resolve(result).then(
      (r) => this.reply(conn, req.id, r),
      (e: unknown) => conn.send({ id: req.id, error: errorBody(e) }),
    );
  }

  private reply(conn: Connection, id: number, result: unknown): void {
    try {
      conn.send({ id, result: result === undefined ? null : result });
    } catch (e) {
      conn.send({ id, error: errorBody(e) });
    }
  }

  private pushPacketIn(p: PacketIn): void {
    const push: Push = { event: 'packet_in', data: p };
    let frame: Buffer | undefined;
    for (const c of this.conns) {
      if (!c.packetIns || c.socket.destroyed) continue;
      if (c.socket.writableLength > PUSH_BACKLOG_LIMIT) {
        c.droppedPushes++;
        continue;
      }
      frame ??= encodeFrame(push);
      c.socket.write(frame);
    }
  }

  // --- methods --------------------------------------------------------------------------

  private handle(conn: Connection, method: string, params: unknown): unknown {
    const sw = this.sw;
    const p = (params ?? {}) as Record<string, unknown>;
    if (!isObject(p)) throw new ControlError('params must be a map');
    switch (method as Method) {
      case 'show':
        return sw.info();
      case 'flow_mod':
        return summary(sw.flowMod(this.flowMod(p as FlowModParam)));
      case 'bundle': {
        const mods = p['mods'];
        if (!Array.isArray(mods)) throw new ControlError('bundle: mods must be an array');
        const parsed = mods.map((x: FlowModParam, i) => {
          try {
            return this.flowMod(x);
          } catch (e) {
            throw new ControlError(`bundle message ${i}: ${e instanceof Error ? e.message : String(e)}`, undefined, i);
          }
        });
        return summary(sw.bundle(parsed));
      }
      case 'group_mod':
        return { count: sw.groupMod(this.groupMod(p as Methods['group_mod']['params'])) };
      case 'dump_flows':
        return { now: Date.now(), flows: sw.dumpFlows(this.filter(p as NonNullable<Methods['dump_flows']['params']>)) };
      case 'dump_groups':
        return sw.dumpGroups(p['id'] as number | undefined);
      case 'dump_ports':
        return sw.dumpPorts(p['port'] as number | string | undefined);
      case 'dump_tables':
        return sw.dumpTables();
      case 'dump_conntrack':
        return sw.dumpConntrack(p['zone'] as number | undefined).map(formatConntrack);
      case 'add_port':
        if (typeof p['type'] !== 'string') throw new ControlError('add_port: type must be a string');
        return sw.addPort(p as unknown as Methods['add_port']['params']);
      case 'del_port':
        if (typeof p['name'] !== 'string') throw new ControlError('del_port: name must be a string');
        return sw.delPort(p['name']).then((removed) => ({ removed }));
      case 'trace':
        return this.trace(p as TraceParams);
      case 'packet_out': {
        const q = p as Methods['packet_out']['params'];
        if (!(q.frame instanceof Uint8Array)) throw new ControlError('packet_out: frame must be binary');
        const actions = typeof q.actions === 'string' ? parseActions(q.actions, { ports: sw.ports.names }) : q.actions;
        if (!Array.isArray(actions)) throw new ControlError('packet_out: actions must be a list or text');
        const inPort = q.inPort === undefined ? undefined : this.port(q.inPort);
        sw.packetOut(q.frame, actions, { ...(inPort !== undefined ? { inPort } : {}), ...(q.key ? { key: q.key } : {}) });
        return null;
      }
      case 'resume': {
        const q = p as Methods['resume']['params'];
        if (!isObject(q.continuation)) throw new ControlError('resume: continuation missing');
        sw.resume(q.continuation, q.frame, q.key);
        return null;
      }
      case 'subscribe':
      case 'unsubscribe': {
        const events = p['events'];
        if (!Array.isArray(events) || events.some((e) => e !== 'packet_in')) throw new ControlError(`${method}: events must be a list of "packet_in"`);
        if (events.length) conn.packetIns = method === 'subscribe';
        return null;
      }
      default:
        throw new ControlError(`unknown method "${method}"`);
    }
  }

  private port(p: number | string): number {
    if (typeof p === 'number') return p;
    const n = parsePort(p, this.sw.ports.names);
    if (n === undefined) throw new ControlError(`${p}: unknown port`);
    return n;
  }

  private flowMod(x: FlowModParam): FlowMod {
    if (!isObject(x)) throw new ControlError('flow mod must be a map');
    if ('mod' in x) {
      if (!isObject(x.mod) || !isObject(x.mod.match)) throw new ControlError('flow mod: mod.match missing');
      return x.mod;
    }
    if (typeof x.text !== 'string') throw new ControlError('flow mod needs "mod" or "text"');
    return parseFlowMod(x.text, { command: x.command ?? 'add', ports: this.sw.ports.names });
  }

  private groupMod(x: Methods['group_mod']['params']): Parameters<Switch['groupMod']>[0] {
    if (!('text' in x)) return x;
    const ports = this.sw.ports.names;
    if (x.command === 'delete') {
      const m = /^\s*(?:group_id\s*=\s*(\w+))?\s*$/.exec(x.text);
      if (!m) throw new ControlError(`${x.text}: expected group_id=N`);
      if (m[1] === undefined || m[1] === 'all') return { command: 'delete' };
      const id = Number(m[1]);
      if (!Number.isInteger(id)) throw new ControlError(`${m[1]}: invalid group_id`);
      return { command: 'delete', id };
    }
    const group = parseGroup(x.text, { ports });
    return x.command === 'add' ? { command: 'add', group } : { command: 'modify', group, ...(x.mayCreate ? { mayCreate: true } : {}) };
  }

  private filter(p: NonNullable<Methods['dump_flows']['params']>): FlowFilter {
    if (p.spec === undefined) return p.filter ?? {};
    const mod = parseFlowMod(p.spec, { command: p.strict ? 'delete_strict' : 'delete', ports: this.sw.ports.names });
    return {
      match: mod.match,
      ...(p.strict ? { strict: true } : {}),
      ...(mod.table !== undefined ? { table: mod.table } : {}),
      ...(mod.priority !== undefined ? { priority: mod.priority } : {}),
      ...(mod.cookie !== undefined ? { cookie: mod.cookie } : {}),
      ...(mod.cookieMask !== undefined ? { cookieMask: mod.cookieMask } : {}),
      ...(mod.outPort !== undefined ? { outPort: mod.outPort } : {}),
      ...(mod.outGroup !== undefined ? { outGroup: mod.outGroup } : {}),
    };
  }

  private trace(p: TraceParams): TraceResult {
    let inPort: number;
    let frame: Uint8Array;
    let tunnel: TunnelMetadata | undefined;
    let flow: string;
    if ('flow' in p) {
      if (typeof p.flow !== 'string') throw new ControlError('trace: flow must be text');
      const pkt = microflowPacket(p.flow, this.sw.ports.names);
      ({ inPort, frame, tunnel } = pkt);
      flow = p.flow;
    } else {
      if (!(p.frame instanceof Uint8Array)) throw new ControlError('trace: frame must be binary');
      inPort = this.port(p.inPort);
      frame = p.frame;
      if (p.tunId !== undefined || p.metadata0 !== undefined) {
        tunnel = {
          tunId: p.tunId ?? 0n,
          metadata0: p.metadata0,
          ...(p.tunSrc !== undefined ? { src: p.tunSrc } : {}),
          ...(p.tunDst !== undefined ? { dst: p.tunDst } : {}),
        };
      }
      flow = `in_port=${inPort}, ${frame.length}-byte packet`;
    }
    const r = this.sw.traceDetailed(inPort, frame, tunnel);
    const d = r.detail;
    return { flow, inPort, steps: r.steps, ...(d ? { text: d.text, megaflow: d.megaflow, datapathActions: d.datapathActions } : {}) };
  }
}

/** Whether something answers on a unix socket (a live switch) rather than a leftover file. */
function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
