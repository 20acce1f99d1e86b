/**
 * The append-only database file: group commit of concurrent writes, and online compaction
 * that keeps accepting writes while it snapshots.
 */
import { rename, unlink, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Commit, Database } from '../database.js';
import { recordText } from './record.js';
import { commitToRecordText } from './txn-record.js';
import { serializeSnapshot, type TableRows } from './snapshot.js';
import { syncDirectory, writeAllAsync, writeAllSync } from './log.js';
import type { Storage } from './storage.js';

/** When to compact. Defaults are ovsdb-server's: no worse than the real thing. */
export interface CompactionPolicy {
  /** The log must be larger than this (bytes)… */
  readonly minBytes: number;
  /** …and larger than this many times its size right after the last snapshot. */
  readonly growthFactor: number;
  /** Never compact sooner than this after opening or the last compaction. */
  readonly minIntervalMs: number;
  /** After this long, compact whatever the size (given `minRecords`). */
  readonly maxIntervalMs: number;
  /** Records written since the last snapshot before compaction is worth it. */
  readonly minRecords: number;
  /** Wait this long before trying again after a failed compaction. */
  readonly retryMs: number;
}

export const DEFAULT_COMPACTION: CompactionPolicy = {
  minBytes: 10 * 1024 * 1024,
  growthFactor: 4,
  minIntervalMs: 10 * 60 * 1000,
  maxIntervalMs: 24 * 60 * 60 * 1000,
  minRecords: 100,
  retryMs: 60 * 1000,
};

export interface FileStorageOptions {
  /** Overrides of the automatic compaction policy, or false to compact only on request. */
  readonly compaction?: Partial<CompactionPolicy> | false;
  /** Receives problems that do not fail a write (a failed automatic compaction). */
  readonly onWarning?: (message: string) => void;
  /** Longest time (ms) compaction works before yielding to the event loop. Default 20. */
  readonly sliceMs?: number;
}

/** Where the log stands, for monitoring and tests. */
export interface FileStorageStats {
  readonly size: number;
  /** Size right after the last snapshot (or the first transaction record, at open). */
  readonly baseSize: number;
  readonly recordsSinceSnapshot: number;
  readonly compactions: number;
  /** Appends (each one group of commits) and syncs since opening. */
  readonly batches: number;
  readonly syncs: number;
}

/** Called once a commit's record is written (and synced, if durable), or with the error. */
export type AppendCallback = (error: Error | null) => void;

interface Pending {
  /** The complete record (header and body) as text, or null for a commit with nothing to store. */
  readonly rec: string | null;
  readonly durable: boolean;
  readonly done: AppendCallback;
}

/** State of the log file when the storage takes it over. */
export interface LogPosition {
  readonly size: number;
  readonly baseSize: number;
  readonly records: number;
}

export class FileStorage implements Storage {
  private queue: Pending[] = [];
  /** A flush is scheduled for the end of this turn of the event loop. */
  private scheduled = false;
  /** The sync of the batch in flight (durable commits); settles when its callbacks have run. */
  private syncing: Promise<void> | null = null;
  /** Set while compaction swaps files: writes queue up but are not appended. */
  private paused = false;
  private closed = false;
  private failed: Error | null = null;
  /** Records queued since the snapshot instant of a running compaction. */
  private sinceSnapshot: string[] | null = null;
  private compaction: Promise<void> | null = null;
  private lastQueuedTxnId: string;
  private size: number;
  private baseSize: number;
  private recordsSinceSnapshot: number;
  private compactions = 0;
  private batches = 0;
  private syncs = 0;
  private nextCompactAt: number;
  private lastCompactAt: number;
  private readonly policy: CompactionPolicy | null;
  private readonly sliceMs: number;

  /** Use openDatabaseFile(), which replays the file into `db` first. */
  constructor(
    readonly path: string,
    private fh: FileHandle,
    private readonly db: Database,
    private readonly schemaText: string,
    at: LogPosition,
    private readonly options: FileStorageOptions = {},
  ) {
    this.size = at.size;
    this.baseSize = at.baseSize;
    this.recordsSinceSnapshot = at.records;
    this.lastQueuedTxnId = db.lastTxnId;
    this.policy = options.compaction === false ? null : { ...DEFAULT_COMPACTION, ...options.compaction };
    this.sliceMs = options.sliceMs ?? 20;
    this.lastCompactAt = Date.now();
    this.nextCompactAt = this.lastCompactAt + (this.policy?.minIntervalMs ?? 0);
  }

  get stats(): FileStorageStats {
    return {
      size: this.size,
      baseSize: this.baseSize,
      recordsSinceSnapshot: this.recordsSinceSnapshot,
      compactions: this.compactions,
      batches: this.batches,
      syncs: this.syncs,
    };
  }

  write(commit: Commit): Promise<void> {
    return new Promise<void>((resolve, reject) => this.append(commit, (e) => (e ? reject(e) : resolve())));
  }

  /**
   * `write()` without a promise, for the server's hot path: `done` runs once the commit's
   * record is written (and synced, if durable), in commit order. Errors come the same way.
   */
  append(commit: Commit, done: AppendCallback): void {
    if (this.closed || this.failed) {
      const e = this.failed ?? new Error(`${this.path}: storage is closed`);
      process.nextTick(done, e);
      return;
    }
    let rec: string | null;
    try {
      const text = commitToRecordText(this.db.schema, commit, Date.now());
      rec = text === null ? null : recordText(text);
    } catch (e) {
      process.nextTick(done, e as Error);
      return;
    }
    this.lastQueuedTxnId = commit.txnId;
    if (rec !== null && this.sinceSnapshot) this.sinceSnapshot.push(rec);
    this.queue.push({ rec, durable: commit.durable, done });
    this.kick();
  }

  /**
   * Schedules a flush at the end of this turn of the event loop (the check phase, right after
   * I/O polling): requests read from many connections in one poll phase then share one write
   * (and one sync).
   */
  private kick(): void {
    if (this.scheduled || this.syncing || this.paused || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(this.onTurnEnd);
  }

  private readonly onTurnEnd = (): void => {
    this.scheduled = false;
    this.flush();
  };

  /** Appends everything queued as one write, then syncs if any commit in the batch is durable. */
  private flush(): void {
    if (this.syncing || this.paused || this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    let durable = false;
    try {
      if (this.failed) throw this.failed;
      let text = '';
      let records = 0;
      for (const p of batch) {
        if (p.rec !== null) {
          text += p.rec;
          records++;
        }
        if (p.durable) durable = true;
      }
      if (records > 0) {
        const data = Buffer.from(text, 'utf8');
        writeAllSync(this.fh.fd, data, this.size);
        this.size += data.length;
        this.recordsSinceSnapshot += records;
        this.batches++;
      }
    } catch (e) {
      this.failBatch(batch, e as Error);
      return;
    }
    if (!durable) {
      this.finish(batch);
      return;
    }
    this.syncing = this.fh.datasync().then(
      () => {
        this.syncs++;
        this.syncing = null;
        this.finish(batch);
      },
      (e: unknown) => {
        this.syncing = null;
        this.failBatch(batch, e as Error);
      },
    );
  }

  private finish(batch: readonly Pending[]): void {
    settle(batch, null);
    this.maybeCompact();
    this.kick();
  }

  /** Memory already holds these commits and the file cannot: stop writing (fail-stop). */
  private failBatch(batch: readonly Pending[], e: Error): void {
    this.failed ??= new Error(`${this.path}: write failed: ${e.message}`);
    settle(batch, this.failed);
    this.kick();
  }

  private maybeCompact(): void {
    const p = this.policy;
    if (!p || this.compaction || this.closed) return;
    const now = Date.now();
    if (now < this.nextCompactAt || this.recordsSinceSnapshot < p.minRecords) return;
    const grewLots = this.size > p.minBytes && this.size > p.growthFactor * this.baseSize;
    if (!grewLots && now < this.lastCompactAt + p.maxIntervalMs) return;
    // A commit applied to the database but not yet handed to write() would be in the
    // snapshot and then appended again; wait for a moment when the two agree.
    if (this.db.lastTxnId !== this.lastQueuedTxnId) return;
    this.startCompaction().catch((e: unknown) => {
      this.nextCompactAt = Date.now() + p.retryMs;
      this.options.onWarning?.(`${this.path}: compaction failed: ${(e as Error).message}`);
    });
  }

  /** Snapshots now (or joins a compaction already running). */
  compactNow(): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`${this.path}: storage is closed`));
    if (this.compaction) return this.compaction;
    if (this.db.lastTxnId !== this.lastQueuedTxnId) {
      return Promise.reject(new Error(`${this.path}: the database has commits not yet written to storage`));
    }
    return this.startCompaction();
  }

  private startCompaction(): Promise<void> {
    const c = this.compact().finally(() => {
      this.compaction = null;
    });
    this.compaction = c;
    return c;
  }

  private async compact(): Promise<void> {
    // The snapshot instant: every commit in the database has been queued (checked by the
    // callers), and rows are immutable, so these arrays are a consistent copy.
    const tables: TableRows[] = [];
    for (const td of this.db.tables.values()) tables.push({ schema: td.schema, rows: Array.from(td.rows.values()) });
    this.sinceSnapshot = [];
    const tmp = `${this.path}.tmp`;
    let fh: FileHandle | null = null;
    let covered: Pending[] = [];
    let swapped = false;
    try {
      const bufs = await serializeSnapshot(this.schemaText, tables, Date.now(), this.sliceMs);
      fh = await open(tmp, 'w');
      const base = await writeAllAsync(fh, bufs, 0);
      await fh.sync();
      // Swap: stop appending to the old file, then move everything queued since the snapshot
      // instant into the new one. Queued, unwritten commits are all in the new file now
      // (in the snapshot or in this tail), so they complete with it.
      this.paused = true;
      if (this.syncing) await this.syncing;
      if (this.failed) throw this.failed;
      const tail = this.sinceSnapshot;
      this.sinceSnapshot = null;
      covered = this.queue;
      this.queue = [];
      let end = base;
      if (tail.length > 0) {
        end = await writeAllAsync(fh, [Buffer.from(tail.join(''), 'utf8')], base);
        await fh.sync();
      }
      await rename(tmp, this.path);
      swapped = true;
      const old = this.fh;
      this.fh = fh;
      fh = null;
      this.size = end;
      this.baseSize = base;
      this.recordsSinceSnapshot = tail.length;
      this.compactions++;
      this.lastCompactAt = Date.now();
      this.nextCompactAt = this.lastCompactAt + (this.policy?.minIntervalMs ?? 0);
      await old.close().catch(() => undefined);
      await syncDirectory(dirname(this.path));
      const done = covered;
      covered = [];
      settle(done, null);
    } catch (e) {
      this.sinceSnapshot = null;
      if (!swapped) {
        await fh?.close().catch(() => undefined);
        await unlink(tmp).catch(() => undefined);
        this.queue = covered.concat(this.queue);
      } else {
        // The new file is in place; only the directory sync failed.
        settle(covered, null);
      }
      throw e;
    } finally {
      this.paused = false;
      this.kick();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.compaction?.catch(() => undefined);
    // Drain: write what is queued now rather than waiting for the scheduled flush.
    while (this.syncing || this.queue.length > 0) {
      if (this.syncing) await this.syncing;
      else this.flush();
    }
    await this.fh.close();
  }
}

/** Runs each callback; one that throws does not keep the others from running. */
function settle(batch: readonly Pending[], e: Error | null): void {
  for (const p of batch) {
    try {
      p.done(e);
    } catch (thrown) {
      process.nextTick(() => {
        throw thrown;
      });
    }
  }
}
