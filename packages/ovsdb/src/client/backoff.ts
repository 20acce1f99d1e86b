/**
 * Reconnection pacing, as OVS's reconnect.c does it in spirit: the first retry after a
 * connection that had been up for a while is immediate (a server restart should cost nothing),
 * then delays double up to a bound. A connection that drops right after connecting keeps the
 * backoff growing, so a server that accepts and then closes is not hammered.
 */
export interface BackoffOptions {
  /** First non-zero delay, ms (default 100). */
  readonly initialMs?: number;
  /** Largest delay, ms (default 8000, ovsdb-server's client default). */
  readonly maxMs?: number;
  /** Growth factor per failed attempt (default 2). */
  readonly factor?: number;
  /** Randomize each delay by up to ±this fraction (default 0.2), so many clients don't retry in lockstep. */
  readonly jitter?: number;
  /** Give up after this many consecutive failed attempts (default: never). */
  readonly maxAttempts?: number;
  /** A connection that stayed up this long (ms, default maxMs) resets the backoff. */
  readonly stableMs?: number;
}

export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  readonly jitter: number;
  readonly maxAttempts: number;
  readonly stableMs: number;
  /** Consecutive attempts that did not lead to a stable connection. */
  failures = 0;

  constructor(
    o: BackoffOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.initialMs = o.initialMs ?? 100;
    this.maxMs = Math.max(this.initialMs, o.maxMs ?? 8000);
    this.factor = o.factor ?? 2;
    this.jitter = o.jitter ?? 0.2;
    this.maxAttempts = o.maxAttempts ?? Infinity;
    this.stableMs = o.stableMs ?? this.maxMs;
  }

  /** Whether the attempts allowed are used up. */
  get exhausted(): boolean {
    return this.failures >= this.maxAttempts;
  }

  /** Delay before the next attempt, given the consecutive failures so far. */
  nextDelay(): number {
    if (this.failures === 0) return 0;
    const base = Math.min(this.maxMs, this.initialMs * this.factor ** (this.failures - 1));
    const j = this.jitter > 0 ? 1 + this.jitter * (2 * this.random() - 1) : 1;
    return Math.round(Math.min(this.maxMs, base * j));
  }

  failed(): void {
    this.failures++;
  }

  /** A connection ended after `upMs`; resets the backoff if it had been stable. */
  disconnected(upMs: number): void {
    if (upMs >= this.stableMs) this.failures = 0;
    else this.failures++;
  }
}
