/** What a server needs from durable storage, and an in-memory stand-in for tests and labs. */
import type { Commit } from '../database.js';

export interface Storage {
  /**
   * Records one commit, after the database has applied it. Resolves once it is written
   * (and on stable storage when `commit.durable`); commits are written in call order.
   */
  write(commit: Commit): Promise<void>;
  /** Rewrites the log as a snapshot of the current contents. */
  compactNow(): Promise<void>;
  /** Finishes pending writes and releases the file; later writes are rejected. */
  close(): Promise<void>;
}

/** Keeps nothing: for databases that live only as long as the process. */
export class MemoryStorage implements Storage {
  /** Number of commits written, for tests. */
  commits = 0;
  private closed = false;

  write(_commit: Commit): Promise<void> {
    if (this.closed) return Promise.reject(new Error('storage is closed'));
    this.commits++;
    return Promise.resolve();
  }

  compactNow(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
