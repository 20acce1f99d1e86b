/**
 * A JSON-RPC 1.0 peer over a byte stream, as OVSDB uses it (RFC 7047 §4): requests
 * `{"method", "params", "id"}`, responses `{"id", "result", "error"}`, notifications with
 * `"id": null`. Used by both the server and the client. It bounds what it buffers in both
 * directions and, when asked, probes an idle peer with "echo" and drops it if it stays silent.
 */
import type { Duplex } from 'node:stream';
import { EventEmitter } from 'node:events';
import { JsonStreamSplitter } from './framing.js';

export type JsonRpcId = string | number | null | unknown[] | Record<string, unknown>;

export interface JsonRpcRequest {
  readonly method: string;
  readonly params: unknown[];
  readonly id: JsonRpcId;
}

export interface ConnectionOptions {
  /** Largest message accepted from the peer. */
  readonly maxMessageBytes?: number;
  /** Largest amount of unsent output before the peer is considered stuck and dropped. */
  readonly maxBacklogBytes?: number;
  /** Milliseconds of silence before sending "echo"; 0 disables probing. */
  readonly probeIntervalMs?: number;
}

export class RpcError extends Error {
  constructor(readonly error: unknown) {
    super(typeof error === 'string' ? error : JSON.stringify(error));
    this.name = 'RpcError';
  }
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

/**
 * Events: 'request' (req: JsonRpcRequest) for requests and notifications alike (notifications
 * have id null), 'close' (reason: string).
 */
export class JsonRpcConnection extends EventEmitter {
  private readonly splitter: JsonStreamSplitter;
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;
  private closed = false;
  private inputEnded = false;
  private lastReceived = Date.now();
  private probeTimer: NodeJS.Timeout | undefined;
  private probeSent = false;
  private readonly maxBacklog: number;
  readonly peer: string;

  constructor(
    readonly stream: Duplex,
    opts: ConnectionOptions = {},
    peer = 'peer',
  ) {
    super();
    this.peer = peer;
    this.splitter = new JsonStreamSplitter(opts.maxMessageBytes);
    this.maxBacklog = opts.maxBacklogBytes ?? 512 * 1024 * 1024;
    stream.on('data', (d: Buffer) => this.onData(d));
    stream.on('end', () => this.endInput(this.splitter.hasPartial ? 'connection closed in the middle of a message' : 'connection closed by peer'));
    stream.on('error', (e: Error) => this.close(`connection error: ${e.message}`));
    stream.on('close', () => this.close('connection closed'));
    const probe = opts.probeIntervalMs ?? 0;
    if (probe > 0) {
      this.probeTimer = setInterval(() => this.probe(probe), Math.max(100, Math.floor(probe / 2)));
      this.probeTimer.unref();
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private probe(interval: number): void {
    const idle = Date.now() - this.lastReceived;
    if (idle < interval) return;
    if (this.probeSent && idle >= 2 * interval) {
      this.close(`no response to inactivity probe after ${(idle / 1000).toFixed(1)} seconds, disconnecting`);
      return;
    }
    if (!this.probeSent) {
      this.probeSent = true;
      this.sendText(JSON.stringify({ id: 'echo', method: 'echo', params: [] }));
    }
  }

  private onData(d: Buffer): void {
    this.lastReceived = Date.now();
    this.probeSent = false;
    if (this.inputEnded) return;
    try {
      this.splitter.push(d, (msg) => this.dispatch(msg));
    } catch (e) {
      this.endInput(`protocol error: ${(e as Error).message}`);
    }
  }

  /**
   * No more input will be read (peer half-closed, or sent garbage). Requests already read
   * still deserve their replies: an 'inputEnded' listener closes once they are sent;
   * without one, the connection closes now.
   */
  private endInput(reason: string): void {
    if (this.inputEnded || this.closed) return;
    this.inputEnded = true;
    if (this.listenerCount('inputEnded') > 0) this.emit('inputEnded', reason);
    else this.close(reason);
  }

  private dispatch(msg: unknown): void {
    if (this.closed || this.inputEnded) return;
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      this.endInput('protocol error: message is not a JSON object');
      return;
    }
    const m = msg as Record<string, unknown>;
    if (typeof m['method'] === 'string') {
      const params = Array.isArray(m['params']) ? m['params'] : [];
      const id = (m['id'] ?? null) as JsonRpcId;
      this.emit('request', { method: m['method'], params, id } satisfies JsonRpcRequest);
      return;
    }
    if ('result' in m || 'error' in m) {
      const key = JSON.stringify(m['id'] ?? null);
      const p = this.pending.get(key);
      if (!p) return; // replies to our echo probes, or to requests already cancelled
      this.pending.delete(key);
      const err = m['error'];
      if (err !== null && err !== undefined) p.reject(new RpcError(err));
      else p.resolve(m['result']);
      return;
    }
    this.endInput('protocol error: message is neither a request nor a response');
  }

  /** Sends already-serialized JSON text (lets monitors share one encoding among many peers). */
  sendText(text: string): void {
    if (this.closed) return;
    this.stream.write(text);
    if (this.stream.writableLength > this.maxBacklog) {
      this.close(`output backlog of ${this.stream.writableLength} bytes exceeds ${this.maxBacklog}; peer is not reading`);
    }
  }

  send(msg: unknown): void {
    this.sendText(JSON.stringify(msg));
  }

  reply(id: JsonRpcId, result: unknown): void {
    this.sendText(`{"id":${JSON.stringify(id)},"result":${JSON.stringify(result)},"error":null}`);
  }

  replyError(id: JsonRpcId, error: unknown): void {
    // ovsdb-server omits "result" from error replies; clients accept either.
    this.sendText(`{"id":${JSON.stringify(id)},"error":${JSON.stringify(error)}}`);
  }

  notify(method: string, params: unknown[]): void {
    this.sendText(`{"id":null,"method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}`);
  }

  request(method: string, params: unknown[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('connection is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(String(id), { resolve, reject });
      this.sendText(`{"id":${id},"method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}`);
    });
  }

  /** Sends a request with a caller-chosen id (for `cancel`). */
  requestWithId(id: number, method: string, params: unknown[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('connection is closed'));
    return new Promise((resolve, reject) => {
      this.pending.set(String(id), { resolve, reject });
      this.sendText(`{"id":${id},"method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}`);
    });
  }

  allocateId(): number {
    return this.nextId++;
  }

  close(reason = 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    if (this.probeTimer) clearInterval(this.probeTimer);
    // end() flushes what is queued (e.g. a final error) before closing; destroy() is the backstop.
    this.stream.end();
    setTimeout(() => this.stream.destroy(), 2000).unref();
    for (const p of this.pending.values()) p.reject(new Error(`connection closed: ${reason}`));
    this.pending.clear();
    this.emit('close', reason);
  }
}
