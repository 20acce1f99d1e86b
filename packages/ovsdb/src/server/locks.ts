/**
 * OVSDB locks (RFC 7047 §4.1.8-4.1.10): per name, a queue of waiting sessions whose head
 * owns the lock. "steal" moves the thief to the head; the victim keeps waiting behind it.
 */
export interface LockHolder {
  /** Told when it becomes the owner of `name` after having waited. */
  lockAcquired(name: string): void;
  /** Told when another session stole `name` from it. */
  lockStolen(name: string): void;
}

interface Waiter {
  readonly holder: LockHolder;
  /** Whether it got into the queue by "steal": a stealer that is stolen from leaves the queue. */
  readonly stole: boolean;
}

export class LockManager {
  private readonly queues = new Map<string, Waiter[]>();

  owner(name: string): LockHolder | undefined {
    return this.queues.get(name)?.[0]?.holder;
  }

  owns(holder: LockHolder, name: string): boolean {
    return this.owner(name) === holder;
  }

  has(holder: LockHolder, name: string): boolean {
    return this.queues.get(name)?.some((w) => w.holder === holder) ?? false;
  }

  /** Queues `holder` for `name`; returns whether it owns the lock now. */
  lock(holder: LockHolder, name: string): boolean {
    let q = this.queues.get(name);
    if (!q) this.queues.set(name, (q = []));
    q.push({ holder, stole: false });
    return q[0]!.holder === holder;
  }

  /**
   * Makes `holder` the owner. The previous owner is told and keeps waiting behind the thief,
   * unless it had itself stolen the lock, in which case it leaves the queue (as in ovsdb-server).
   */
  steal(holder: LockHolder, name: string): void {
    let q = this.queues.get(name);
    if (!q) this.queues.set(name, (q = []));
    const victim = q[0];
    const i = q.findIndex((w) => w.holder === holder);
    if (i >= 0) q.splice(i, 1);
    q.unshift({ holder, stole: true });
    if (victim && victim.holder !== holder) {
      if (victim.stole) q.splice(q.indexOf(victim), 1);
      victim.holder.lockStolen(name);
    }
  }

  /**
   * Leaves the queue. Whoever owns the lock afterwards is sent "locked", even when the owner did
   * not change: ovsdb-server does so, and clients treat it as a no-op.
   */
  unlock(holder: LockHolder, name: string): void {
    const q = this.queues.get(name);
    if (!q) return;
    const i = q.findIndex((w) => w.holder === holder);
    if (i < 0) return;
    q.splice(i, 1);
    if (q.length === 0) this.queues.delete(name);
    else q[0]!.holder.lockAcquired(name);
  }

  releaseAll(holder: LockHolder): void {
    for (const name of [...this.queues.keys()]) this.unlock(holder, name);
  }
}
