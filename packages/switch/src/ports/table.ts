/**
 * The switch's ports: OpenFlow numbers and names, drivers (in-process VIF, UDP datagram VIF,
 * Geneve tunnel, patch, local), admin and link state, and counters. It is the datapath's
 * PortSink (frames out) and feeds the datapath's receive (frames in).
 *
 * Frames never re-enter the datapath while it is still processing another one: a frame that
 * arrives during a datapath call (a patch port's output, a simulated VM answering synchronously)
 * waits in a queue that is drained when the outer call returns. That keeps the datapath free to
 * use per-call scratch state, and bounds patch-port loops by a hop count.
 */
import { randomBytes } from 'node:crypto';
import type { PortSink, TunnelMetadata } from '../datapath/types.js';
import { OFPP } from '../flow/actions.js';
import type { PortNames } from '../flow/values.js';
import { GENEVE_PORT } from '../packet/constants.js';
import { DgramPort } from './dgram.js';
import { CallbackPort, type FrameReceiver } from './internal.js';
import { PatchPort, type PatchFabric } from './patch.js';
import { TunnelEndpoint, TunnelPort, type TunnelEndpointStats } from './tunnel.js';
import { newPortStats, type PortContext, type PortDriver, type PortInfo, type PortSpec, type PortStats } from './types.js';

/** Highest number of an ordinary port (OpenFlow 1.0's OFPP_MAX is 0xff00, exclusive). */
export const MAX_OFPORT = 0xfeff;
/** A frame may cross this many patch ports before it counts as looping and is dropped. */
export const MAX_PATCH_HOPS = 64;
/** Frames waiting to enter the datapath beyond this many are dropped. */
const MAX_QUEUE = 65536;

export type Receive = (inPort: number, frame: Uint8Array, tunnel?: TunnelMetadata) => void;

export interface PortTableOptions {
  /** The bridge name: the name of the local port. */
  readonly bridge: string;
  /** The host's tunnel endpoint (needed for tunnel ports). */
  readonly tunnelIp?: string;
  /** Default 6081; 0 picks a free port (tests). */
  readonly tunnelPort?: number;
  readonly now?: () => number;
}

class Port {
  readonly stats: PortStats = newPortStats();
  adminUp: boolean;

  constructor(
    readonly ofport: number,
    readonly name: string,
    readonly driver: PortDriver,
    readonly mac: string,
    readonly created: number,
    down: boolean,
  ) {
    this.adminUp = !down;
  }

  info(): PortInfo {
    return {
      ofport: this.ofport,
      name: this.name,
      type: this.driver.type,
      mac: this.mac,
      adminUp: this.adminUp,
      linkUp: this.driver.linkUp(),
      created: this.created,
      options: this.driver.options(),
      stats: { ...this.stats },
    };
  }
}

interface Pending {
  readonly port: Port;
  readonly frame: Uint8Array;
  readonly tunnel: TunnelMetadata | undefined;
  readonly hops: number;
}

function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfe) | 0x02; // unicast, locally administered
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export class PortTable implements PortSink, PatchFabric {
  private readonly byNumber = new Map<number, Port>();
  private readonly byName = new Map<string, Port>();
  /** The shared Geneve socket; undefined when the switch has no tunnel IP. */
  readonly tunnel: TunnelEndpoint | undefined;
  private receiver: Receive | undefined;
  private readonly now: () => number;
  private readonly changeListeners = new Set<() => void>();
  private busy = false;
  private queue: Pending[] = [];
  /** Patch hops of the frame being processed right now. */
  private hops = 0;
  /** Frames dropped because they crossed too many patch ports or the queue was full. */
  loopDrops = 0;
  readonly bridge: string;

  constructor(opts: PortTableOptions) {
    this.bridge = opts.bridge;
    this.now = opts.now ?? Date.now;
    this.tunnel = opts.tunnelIp !== undefined ? new TunnelEndpoint(opts.tunnelIp, opts.tunnelPort ?? GENEVE_PORT) : undefined;
    this.insert(new Port(OFPP.LOCAL, opts.bridge, new CallbackPort('local'), randomMac(), this.now(), false));
  }

  /** Where received frames go: the datapath's receive. */
  connect(receive: Receive): void {
    this.receiver = receive;
  }

  /** Opens the tunnel socket (if the switch has a tunnel IP). */
  async start(): Promise<void> {
    await this.tunnel?.start();
  }

  /** Closes every port's socket and the tunnel socket. */
  async close(): Promise<void> {
    const ports = [...this.byNumber.values()];
    await Promise.all(ports.map((p) => p.driver.close().catch(() => undefined)));
    await this.tunnel?.stop();
  }

  /** Called after a port is added or removed (the switch invalidates the flow cache). */
  onChange(fn: () => void): () => void {
    this.changeListeners.add(fn);
    return () => this.changeListeners.delete(fn);
  }

  // --- PortSink -------------------------------------------------------------------------

  has(ofport: number): boolean {
    return this.byNumber.has(ofport);
  }

  transmit(ofport: number, frame: Uint8Array, tunnel: TunnelMetadata | undefined): void {
    const port = this.byNumber.get(ofport);
    if (!port) return;
    const s = port.stats;
    if (!port.adminUp || !port.driver.linkUp()) {
      s.txDropped++;
      return;
    }
    let ok: boolean;
    try {
      ok = port.driver.transmit(frame, tunnel);
    } catch {
      s.txErrors++;
      return;
    }
    const d = port.driver;
    if (d instanceof CallbackPort && d.lastError !== undefined) {
      d.lastError = undefined;
      s.txErrors++;
      return;
    }
    if (!ok) {
      s.txDropped++;
      return;
    }
    s.txPackets++;
    s.txBytes += frame.length;
  }

  // --- ports ----------------------------------------------------------------------------

  /**
   * Adds a port. `attach` is the VM end of an internal port (it can also be set later with
   * attach()). Rejects a duplicate name, a taken or invalid ofport, an unbindable socket.
   */
  async add(spec: PortSpec, attach?: FrameReceiver): Promise<PortInfo> {
    if (typeof spec.name !== 'string' || spec.name === '') throw new Error('port name must be a non-empty string');
    if (this.byName.has(spec.name)) throw new Error(`${spec.name}: port already exists`);
    const ofport = this.allocate(spec.ofport);
    const ctx = this.contextFor(spec.name);
    let driver: PortDriver;
    switch (spec.type) {
      case 'internal':
        driver = new CallbackPort('internal', attach);
        break;
      case 'dgram':
        driver = await DgramPort.open(spec, ctx);
        break;
      case 'tunnel':
        if (!this.tunnel) throw new Error(`${spec.name}: the switch has no tunnel IP, so it cannot have tunnel ports`);
        driver = new TunnelPort(spec, this.tunnel, ctx);
        break;
      case 'patch':
        if (typeof spec.peer !== 'string' || spec.peer === '') throw new Error(`${spec.name}: patch port needs a peer`);
        driver = new PatchPort(spec.peer, this);
        break;
      default:
        throw new Error(`${(spec as { name: string }).name}: unknown port type "${(spec as { type: unknown }).type}"`);
    }
    // The await above may have let another add take the name or number.
    if (this.byName.has(spec.name) || this.byNumber.has(ofport)) {
      await driver.close();
      throw new Error(`${spec.name}: port already exists`);
    }
    const port = new Port(ofport, spec.name, driver, spec.mac ?? randomMac(), this.now(), spec.down === true);
    this.insert(port);
    this.changed();
    return port.info();
  }

  /** Removes a port by name (not the local port); false if there is none. */
  async remove(name: string): Promise<boolean> {
    const port = this.byName.get(name);
    if (!port || port.ofport === OFPP.LOCAL) return false;
    this.byName.delete(name);
    this.byNumber.delete(port.ofport);
    await port.driver.close().catch(() => undefined);
    this.changed();
    return true;
  }

  /** Attaches the VM end of an internal port. */
  attach(name: string, receiver: FrameReceiver | undefined): void {
    const d = this.byName.get(name)?.driver;
    if (!(d instanceof CallbackPort) || d.type !== 'internal') throw new Error(`${name}: no such internal port`);
    d.attach(receiver);
  }

  /** A frame sent by the VM (or host) on port `name` (or number): into the datapath. */
  send(port: string | number, frame: Uint8Array, tunnel?: TunnelMetadata): void {
    const p = typeof port === 'number' ? this.byNumber.get(port) : this.byName.get(port);
    if (!p) throw new Error(`${port}: no such port`);
    this.deliver(p, frame, tunnel, 0);
  }

  setAdminUp(name: string, up: boolean): void {
    const p = this.byName.get(name);
    if (!p) throw new Error(`${name}: no such port`);
    p.adminUp = up;
  }

  get(port: string | number): PortInfo | undefined {
    return (typeof port === 'number' ? this.byNumber.get(port) : this.byName.get(port))?.info();
  }

  /** Every port, the local port last (ordinary ports by number). */
  list(): PortInfo[] {
    return [...this.byNumber.values()].sort((a, b) => a.ofport - b.ofport).map((p) => p.info());
  }

  get size(): number {
    return this.byNumber.size;
  }

  /** Port names for ovs-ofctl syntax (--names). */
  readonly names: PortNames = {
    name: (p) => this.byNumber.get(p)?.name,
    number: (n) => this.byName.get(n)?.ofport,
  };

  tunnelStats(): TunnelEndpointStats | undefined {
    return this.tunnel ? { ...this.tunnel.stats } : undefined;
  }

  /**
   * Runs `fn` (a datapath call such as packet-out) with received frames held back until it
   * returns, then lets them in.
   */
  guard<T>(fn: () => T): T {
    if (this.busy) return fn();
    this.busy = true;
    try {
      return fn();
    } finally {
      this.drain();
    }
  }

  // --- PatchFabric ----------------------------------------------------------------------

  hasPeer(peer: string): boolean {
    return this.byName.has(peer);
  }

  deliverToPeer(peer: string, frame: Uint8Array): boolean {
    const p = this.byName.get(peer);
    if (!p) return false;
    if (this.hops + 1 > MAX_PATCH_HOPS) {
      this.loopDrops++;
      return false;
    }
    this.deliver(p, frame, undefined, this.hops + 1);
    return true;
  }

  // --- internals ------------------------------------------------------------------------

  private insert(p: Port): void {
    this.byNumber.set(p.ofport, p);
    this.byName.set(p.name, p);
  }

  private changed(): void {
    for (const fn of this.changeListeners) {
      try {
        fn();
      } catch {
        // A listener's failure is its own business.
      }
    }
  }

  private allocate(requested: number | undefined): number {
    if (requested !== undefined) {
      if (!Number.isInteger(requested) || requested < 1 || requested > MAX_OFPORT) throw new Error(`ofport ${requested} out of range 1..${MAX_OFPORT}`);
      if (this.byNumber.has(requested)) throw new Error(`ofport ${requested} is already in use by ${this.byNumber.get(requested)!.name}`);
      return requested;
    }
    for (let n = 1; n <= MAX_OFPORT; n++) if (!this.byNumber.has(n)) return n;
    throw new Error('no free OpenFlow port number');
  }

  private contextFor(name: string): PortContext {
    // Looked up by name on every call: the context outlives nothing once the port is removed.
    const port = (): Port | undefined => this.byName.get(name);
    return {
      receive: (frame, tunnel) => {
        const p = port();
        if (p) this.deliver(p, frame, tunnel, 0);
      },
      rxError: () => {
        const p = port();
        if (p) p.stats.rxErrors++;
      },
      rxDrop: () => {
        const p = port();
        if (p) p.stats.rxDropped++;
      },
      txError: () => {
        const p = port();
        if (p) p.stats.txErrors++;
      },
    };
  }

  private deliver(port: Port, frame: Uint8Array, tunnel: TunnelMetadata | undefined, hops: number): void {
    const s = port.stats;
    if (!port.adminUp || !this.receiver) {
      s.rxDropped++;
      return;
    }
    if (this.busy) {
      if (this.queue.length >= MAX_QUEUE) {
        s.rxDropped++;
        this.loopDrops++;
        return;
      }
      s.rxPackets++;
      s.rxBytes += frame.length;
      this.queue.push({ port, frame, tunnel, hops });
      return;
    }
    s.rxPackets++;
    s.rxBytes += frame.length;
    this.busy = true;
    try {
      this.dispatch(port, frame, tunnel, hops);
    } finally {
      this.drain();
    }
  }

  /** Lets queued frames in, then leaves the busy state. Called with busy set. */
  private drain(): void {
    try {
      while (this.queue.length) {
        const batch = this.queue;
        this.queue = [];
        for (const q of batch) this.dispatch(q.port, q.frame, q.tunnel, q.hops);
      }
    } finally {
      this.busy = false;
      this.hops = 0;
    }
  }

  private dispatch(port: Port, frame: Uint8Array, tunnel: TunnelMetadata | undefined, hops: number): void {
    // A port removed while its frame waited: the frame goes nowhere.
    if (this.byNumber.get(port.ofport) !== port) return;
    this.hops = hops;
    try {
      this.receiver!(port.ofport, frame, tunnel);
    } catch {
      // A datapath failure on one packet must not stop the switch; it is counted on the port.
      port.stats.rxErrors++;
    }
  }
}
