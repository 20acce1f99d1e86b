/**
 * The append-only database file: group commit of concurrent writes, and online compaction
 * that keeps accepting writes while it snapshots.
 */
import { rename, unlink, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Commit, Database } from '../database.js';
import { encodeRecord } from './record.js';
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

interface Pending {
  readonly buf: Buffer | null;
  readonly durable: boolean;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

/** State of the log file when the storage takes it over. */
export interface LogPosition {
  readonly size: number;
  readonly baseSize: number;
  readonly records: number;
}

export class FileStorage implements Storage {
  private queue: Pending[] = [];
  private pumping: Promise<void> | null = null;
  /** Set while compaction swaps files: writes queue up but are not appended. */
  private paused = false;
  private closed = false;
  private failed: Error | null = null;
  /** Records queued since the snapshot instant of a running compaction. */
  private sinceSnapshot: Buffer[] | null = null;
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
    if (this.closed) return Promise.reject(new Error(`${this.path}: storage is closed`));
    if (this.failed) return Promise.reject(this.failed);
    let buf: Buffer | null;
    try {
      const text = commitToRecordText(this.db.schema, commit, Date.now());
      buf = text === null ? null : encodeRecord(text);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    this.lastQueuedTxnId = commit.txnId;
    if (buf && this.sinceSnapshot) this.sinceSnapshot.push(buf);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ buf, durable: commit.durable, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (!this.pumping && !this.paused && this.queue.length > 0) this.pumping = this.pump();
  }

  /** Appends queued records a batch at a time: one write and at most one sync per batch. */
  private async pump(): Promise<void> {
    // Let every write of this turn of the event loop join the batch: requests read from many
    // connections in one poll phase then share one write (and one sync).
    await yieldToLoop();
    try {
      while (this.queue.length > 0 && !this.paused) {
        const batch = this.queue;
        this.queue = [];
        const start = this.size;
        try {
          if (this.failed) throw this.failed;
          const bufs = batch.flatMap((p) => (p.buf ? [p.buf] : []));
          if (bufs.length > 0) {
            const data = bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs);
            writeAllSync(this.fh.fd, data, start);
            this.size += data.length;
            this.recordsSinceSnapshot += bufs.length;
            this.batches++;
          }
          if (batch.some((p) => p.durable)) {
            await this.fh.datasync();
            this.syncs++;
          }
        } catch (e) {
          // Memory already holds these commits and the file cannot: stop writing (fail-stop).
          this.failed ??= new Error(`${this.path}: write failed: ${(e as Error).message}`);
          for (const p of batch) p.reject(this.failed);
          continue;
        }
        for (const p of batch) p.resolve();
        this.maybeCompact();
      }
    } finally {
      this.pumping = null;
    }
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
      if (this.pumping) await this.pumping;
      if (this.failed) throw this.failed;
      const tail = this.sinceSnapshot;
      this.sinceSnapshot = null;
      covered = this.queue;
      this.queue = [];
      let end = base;
      if (tail.length > 0) {
        end = await writeAllAsync(fh, [Buffer.concat(tail)], base);
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
      for (const p of covered) p.resolve();
      covered = [];
    } catch (e) {
      this.sinceSnapshot = null;
      if (!swapped) {
        await fh?.close().catch(() => undefined);
        await unlink(tmp).catch(() => undefined);
        this.queue = covered.concat(this.queue);
      } else {
        // The new file is in place; only the directory sync failed.
        for (const p of covered) p.resolve();
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
    while (this.pumping || this.queue.length > 0) {
      this.kick();
      await this.pumping;
    }
    await this.fh.close();
  }
}
