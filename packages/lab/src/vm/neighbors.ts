/**
 * A neighbour cache shared by ARP (IPv4) and ND (IPv6): address → MAC with an expiry, and
 * resolution with retries. Packets waiting for a resolution are represented by their promises;
 * at most `maxPending` wait per address (Linux's unres_qlen), later ones fail at once with
 * 'no-buffer' rather than queueing without bound.
 */
import { NetError } from './errors.js';
import { now, type TimerHandle, type Timers } from './timers.js';

export interface NeighborOptions {
  /** How long a learned entry is used before it must be resolved again. Default 30 000 ms. */
  readonly reachableMs?: number;
  /** Requests sent per resolution. Default 3. */
  readonly attempts?: number;
  /** Time between requests, and after the last one before giving up. Default 1000 ms. */
  readonly retryMs?: number;
  /** Senders that may wait on one address. Default 32. */
  readonly maxPending?: number;
}

export interface NeighborEntry {
  readonly ip: string;
  readonly mac: number;
  /** Milliseconds until the entry expires. */
  readonly expiresInMs: number;
}

interface Pending {
  readonly waiters: { resolve: (mac: number) => void; reject: (e: Error) => void }[];
  attempt: number;
  timer: TimerHandle | undefined;
}

export class NeighborCache {
  private readonly entries = new Map<string, { mac: number; expires: number }>();
  private readonly pending = new Map<string, Pending>();
  private readonly reachableMs: number;
  private readonly attempts: number;
  private readonly retryMs: number;
  private readonly maxPending: number;

  constructor(
    private readonly timers: Timers,
    opts: NeighborOptions,
    /** Sends one request (ARP request / Neighbor Solicitation) for `ip`. */
    private readonly solicit: (ip: string) => void,
    private readonly protocol: string,
  ) {
    this.reachableMs = opts.reachableMs ?? 30_000;
    this.attempts = Math.max(1, opts.attempts ?? 3);
    this.retryMs = opts.retryMs ?? 1000;
    this.maxPending = opts.maxPending ?? 32;
  }

  /** The MAC of `ip` if known and fresh. */
  lookup(ip: string): number | undefined {
    const e = this.entries.get(ip);
    if (!e) return undefined;
    if (e.expires <= now()) {
      this.entries.delete(ip);
      return undefined;
    }
    return e.mac;
  }

  /** True if `ip` has an entry or a resolution in progress (RFC 826's "merge" condition). */
  has(ip: string): boolean {
    return this.lookup(ip) !== undefined || this.pending.has(ip);
  }

  /** Records `ip` → `mac` and releases everything waiting for it. */
  learn(ip: string, mac: number): void {
    this.entries.set(ip, { mac, expires: now() + this.reachableMs });
    const p = this.pending.get(ip);
    if (!p) return;
    this.pending.delete(ip);
    this.timers.cancel(p.timer);
    for (const w of p.waiters) w.resolve(mac);
  }

  forget(ip: string): void {
    this.entries.delete(ip);
  }

  /** The MAC of `ip`, sending requests if it is not cached. */
  resolve(ip: string): Promise<number> {
    const mac = this.lookup(ip);
    if (mac !== undefined) return Promise.resolve(mac);
    if (this.timers.isClosed) return Promise.reject(new NetError('closed', 'the VM is closed'));
    let p = this.pending.get(ip);
    if (p && p.waiters.length >= this.maxPending) {
      return Promise.reject(new NetError('no-buffer', `too many packets waiting for ${this.protocol} resolution of ${ip}`));
    }
    return new Promise((resolve, reject) => {
      if (!p) {
        p = { waiters: [], attempt: 0, timer: undefined };
        this.pending.set(ip, p);
        this.request(ip, p);
      }
      p.waiters.push({ resolve, reject });
    });
  }

  private request(ip: string, p: Pending): void {
    p.attempt++;
    this.solicit(ip);
    p.timer = this.timers.after(this.retryMs, () => {
      if (p.attempt < this.attempts) {
        this.request(ip, p);
        return;
      }
      this.pending.delete(ip);
      const err = new NetError('host-unreachable', `no ${this.protocol} reply from ${ip} after ${p.attempt} requests`);
      for (const w of p.waiters) w.reject(err);
    });
  }

  list(): NeighborEntry[] {
    const t = now();
    const out: NeighborEntry[] = [];
    for (const [ip, e] of this.entries) if (e.expires > t) out.push({ ip, mac: e.mac, expiresInMs: e.expires - t });
    return out;
  }

  /** Fails every waiting sender (the timers themselves are cleared by the VM's Timers). */
  close(): void {
    const err = new NetError('closed', 'the VM is closed');
    for (const p of this.pending.values()) for (const w of p.waiters) w.reject(err);
    this.pending.clear();
  }
}
