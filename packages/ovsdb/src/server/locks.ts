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

export class LockManager {
  private readonly queues = new Map<string, LockHolder[]>();

  owner(name: string): LockHolder | undefined {
    return this.queues.get(name)?.[0];
  }

  owns(holder: LockHolder, name: string): boolean {
    return this.owner(name) === holder;
  }

  has(holder: LockHolder, name: string): boolean {
    return this.queues.get(name)?.includes(holder) ?? false;
  }

  /** Queues `holder` for `name`; returns whether it owns the lock now. */
  lock(holder: LockHolder, name: string): boolean {
    let q = this.queues.get(name);
    if (!q) this.queues.set(name, (q = []));
    q.push(holder);
    return q[0] === holder;
  }

  steal(holder: LockHolder, name: string): void {
    let q = this.queues.get(name);
    if (!q) this.queues.set(name, (q = []));
    const victim = q[0];
    const i = q.indexOf(holder);
    if (i >= 0) q.splice(i, 1);
    q.unshift(holder);
    if (victim && victim !== holder) victim.lockStolen(name);
  }

  unlock(holder: LockHolder, name: string): void {
    const q = this.queues.get(name);
    if (!q) return;
    const i = q.indexOf(holder);
    if (i < 0) return;
    q.splice(i, 1);
    if (q.length === 0) this.queues.delete(name);
    else if (i === 0) q[0]!.lockAcquired(name);
  }

  releaseAll(holder: LockHolder): void {
    for (const name of [...this.queues.keys()]) this.unlock(holder, name);
  }
}
