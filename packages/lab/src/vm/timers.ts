/**
 * Every timer a simulated VM starts goes through one `Timers`, so `close()` can clear them all
 * at once and no callback runs after the VM is closed (a leaked timer would keep a test process
 * or the lab alive, and a late callback would transmit on a detached port).
 */
export type TimerHandle = ReturnType<typeof setTimeout>;

export class Timers {
  private readonly timeouts = new Set<TimerHandle>();
  private readonly immediates = new Set<ReturnType<typeof setImmediate>>();
  private closed = false;

  /** Runs `fn` once after `ms`; returns a handle for `cancel`, or undefined once closed. */
  after(ms: number, fn: () => void): TimerHandle | undefined {
    if (this.closed) return undefined;
    const h = setTimeout(() => {
      this.timeouts.delete(h);
      fn();
    }, Math.max(0, ms));
    this.timeouts.add(h);
    return h;
  }

  /** Runs `fn` on the next turn of the event loop (after I/O), unless closed first. */
  soon(fn: () => void): void {
    if (this.closed) return;
    const h = setImmediate(() => {
      this.immediates.delete(h);
      fn();
    });
    this.immediates.add(h);
  }

  cancel(h: TimerHandle | undefined): undefined {
    if (h !== undefined) {
      clearTimeout(h);
      this.timeouts.delete(h);
    }
    return undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The number of pending timers (tests check that close() leaves none). */
  get pending(): number {
    return this.timeouts.size + this.immediates.size;
  }

  close(): void {
    this.closed = true;
    for (const h of this.timeouts) clearTimeout(h);
    for (const h of this.immediates) clearImmediate(h);
    this.timeouts.clear();
    this.immediates.clear();
  }
}

/** Milliseconds on a monotonic clock (RTTs must not jump with the wall clock). */
export function now(): number {
  return performance.now();
}
