/**
 * The switch's flow tables: numbered classifiers of flow entries, changed by OpenFlow flow mods
 * (add, modify, delete; strict and non-strict) one at a time or in atomic bundles, and read by
 * lookup and dump. Semantics follow OpenFlow 1.3+ as Open vSwitch implements it:
 *
 *  - add replaces an entry with an identical match and priority in place (its counters survive
 *    unless `resetCounts`), and with `checkOverlap` refuses a flow that overlaps another of the
 *    same priority;
 *  - modify changes the actions (and, given `newCookie`, the cookie) of every selected entry,
 *    keeping counters; if it selects nothing, has no cookie filter and sets a cookie, it adds;
 *  - delete removes every selected entry;
 *  - non-strict selection takes every entry whose match is at least as specific as the given
 *    one, at any priority; strict selection takes the entry with exactly that match and priority;
 *  - both can be narrowed by table (undefined = all), cookie under a mask, out_port and out_group.
 */
import type { FlowKey } from '../fields.js';
import type { Action } from './actions.js';
import { outputsTo, outputsToGroup } from './actions.js';
import { Classifier } from './classifier.js';
import type { Match } from './match.js';
import { cloneMatch, isNormalized, matchEqual } from './match.js';

export const DEFAULT_PRIORITY = 32768;
/** Tables 0..254; OpenFlow's table 255 means "all tables". */
export const N_TABLES = 255;
export const ALL_TABLES = 255;

export interface FlowEntry {
  readonly table: number;
  readonly priority: number;
  readonly match: Match;
  /** Insertion order: the tie-break among equal priorities (earliest wins). */
  readonly seq: number;
  actions: readonly Action[];
  cookie: bigint;
  /** Seconds; 0 = never. */
  idleTimeout: number;
  hardTimeout: number;
  importance: number;
  nPackets: number;
  nBytes: number;
  /** Milliseconds (the tables' clock). */
  created: number;
  modified: number;
  used: number;
}

export type FlowModCommand = 'add' | 'modify' | 'modify_strict' | 'delete' | 'delete_strict';

export interface FlowMod {
  readonly command: FlowModCommand;
  /** add: defaults to 0. Others: undefined (or 255) selects every table. */
  readonly table?: number;
  /** add and strict commands; defaults to 32768. */
  readonly priority?: number;
  readonly match: Match;
  /** add and modify. */
  readonly actions?: readonly Action[];
  /** add: the new flow's cookie. Others: filter, with `cookieMask`. */
  readonly cookie?: bigint;
  readonly cookieMask?: bigint;
  /** modify: the cookie to give selected flows. */
  readonly newCookie?: bigint;
  readonly idleTimeout?: number;
  readonly hardTimeout?: number;
  readonly importance?: number;
  /** delete (and modify): only flows that output to this port / group. */
  readonly outPort?: number;
  readonly outGroup?: number;
  readonly checkOverlap?: boolean;
  readonly resetCounts?: boolean;
}

/** An OpenFlow error, with the name of its ofperr code (ovs-ofctl prints those). */
export class FlowModError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** For bundles: the index of the failing mod. */
    readonly index?: number,
  ) {
    super(message);
    this.name = 'FlowModError';
  }
}

export interface FlowModResult {
  readonly added: readonly FlowEntry[];
  readonly modified: readonly FlowEntry[];
  readonly removed: readonly FlowEntry[];
}

export interface FlowTablesOptions {
  /** Number of tables (default 255: 0..254). */
  readonly nTables?: number;
  /** Clock in milliseconds (default Date.now). */
  readonly now?: () => number;
  /** Extra checks before a mod applies (e.g. that groups and ports exist); throw to refuse. */
  readonly validate?: (mod: FlowMod) => void;
}

export interface FlowFilter {
  readonly table?: number;
  /** Non-strict: entries at least as specific; with `strict`, exactly this match and priority. */
  readonly match?: Match;
  readonly strict?: boolean;
  readonly priority?: number;
  readonly cookie?: bigint;
  readonly cookieMask?: bigint;
  readonly outPort?: number;
  readonly outGroup?: number;
}

/** How to take back one step of a bundle. */
type Undo =
  | { readonly kind: 'inserted'; readonly entry: FlowEntry }
  | { readonly kind: 'removed'; readonly entry: FlowEntry }
  | { readonly kind: 'updated'; readonly entry: FlowEntry; readonly before: Snapshot };

type Snapshot = Pick<FlowEntry, 'actions' | 'cookie' | 'idleTimeout' | 'hardTimeout' | 'importance' | 'nPackets' | 'nBytes' | 'created' | 'modified' | 'used'>;

function snapshot(e: FlowEntry): Snapshot {
  const { actions, cookie, idleTimeout, hardTimeout, importance, nPackets, nBytes, created, modified, used } = e;
  return { actions, cookie, idleTimeout, hardTimeout, importance, nPackets, nBytes, created, modified, used };
}

/** Do two matches share a packet (agree wherever both masks are set)? */
function overlaps(a: Match, b: Match): boolean {
  for (let i = 0; i < a.mask.length; i++) if (((a.value[i]! ^ b.value[i]!) & a.mask[i]! & b.mask[i]!) !== 0) return false;
  return true;
}

export class FlowTables {
  private readonly tables: Classifier<FlowEntry>[];
  private readonly now: () => number;
  private readonly validate: ((mod: FlowMod) => void) | undefined;
  private seq = 0;

  constructor(opts: FlowTablesOptions = {}) {
    const n = opts.nTables ?? N_TABLES;
    if (n < 1 || n > 255) throw new RangeError('nTables must be 1..255');
    this.tables = Array.from({ length: n }, () => new Classifier<FlowEntry>());
    this.now = opts.now ?? Date.now;
    this.validate = opts.validate;
  }

  get nTables(): number {
    return this.tables.length;
  }

  /** Number of flows in one table, or in all. */
  count(table?: number): number {
    if (table !== undefined && table !== ALL_TABLES) return this.tables[table]?.size ?? 0;
    let n = 0;
    for (const t of this.tables) n += t.size;
    return n;
  }

  /** The classifier of one table (for lookups in a hot loop). */
  classifier(table: number): Classifier<FlowEntry> {
    const t = this.tables[table];
    if (!t) throw new FlowModError('OFPBRC_BAD_TABLE_ID', `table ${table} does not exist`);
    return t;
  }

  /** The winning entry of `table` for `key`; see Classifier.lookup for `wildcards`. */
  lookup(table: number, key: FlowKey, wildcards?: FlowKey): FlowEntry | undefined {
    return this.tables[table]?.lookup(key, wildcards);
  }

  /** Counts a packet (or several) against an entry. */
  credit(entry: FlowEntry, packets: number, bytes: number, now: number = this.now()): void {
    entry.nPackets += packets;
    entry.nBytes += bytes;
    entry.used = now;
  }

  /** Applies one flow mod. */
  apply(mod: FlowMod): FlowModResult {
    const log: Undo[] = [];
    try {
      return this.applyLogged(mod, log);
    } catch (e) {
      this.rollback(log);
      throw e;
    }
  }

  /**
   * Applies a list of flow mods atomically (an OpenFlow bundle with the atomic flag): if any
   * fails, the tables are left exactly as they were and the error names the failing index.
   */
  bundle(mods: readonly FlowMod[]): FlowModResult {
    const log: Undo[] = [];
    const added: FlowEntry[] = [];
    const modified: FlowEntry[] = [];
    const removed: FlowEntry[] = [];
    for (let i = 0; i < mods.length; i++) {
      try {
        const r = this.applyLogged(mods[i]!, log);
        added.push(...r.added);
        modified.push(...r.modified);
        removed.push(...r.removed);
      } catch (e) {
        this.rollback(log);
        if (e instanceof FlowModError) throw new FlowModError(e.code, `bundle message ${i}: ${e.message}`, i);
        throw e;
      }
    }
    return { added, modified, removed };
  }

  /** Entries selected by `filter`, ordered by table, then priority (high first), then age. */
  dump(filter: FlowFilter = {}): FlowEntry[] {
    const out: FlowEntry[] = [];
    for (const t of this.tableRange(filter.table)) {
      const part = this.select(t, filter);
      part.sort((a, b) => b.priority - a.priority || a.seq - b.seq);
      out.push(...part);
    }
    return out;
  }

  /**
   * Removes entries whose idle or hard timeout has passed at `now` and returns them (the caller
   * may send flow-removed messages).
   */
  expire(now: number = this.now()): FlowEntry[] {
    const gone: FlowEntry[] = [];
    for (const cls of this.tables) {
      for (const e of cls) {
        const hard = e.hardTimeout > 0 && now >= e.modified + e.hardTimeout * 1000;
        const idle = e.idleTimeout > 0 && now >= Math.max(e.used, e.modified) + e.idleTimeout * 1000;
        if (hard || idle) gone.push(e);
      }
    }
    for (const e of gone) this.tables[e.table]!.remove(e);
    return gone;
  }

  /** Removes every flow from every table. */
  clear(): void {
    for (const cls of this.tables) for (const e of [...cls]) cls.remove(e);
  }

  private *tableRange(table: number | undefined): IterableIterator<number> {
    if (table === undefined || table === ALL_TABLES) {
      for (let t = 0; t < this.tables.length; t++) yield t;
    } else {
      if (!this.tables[table]) throw new FlowModError('OFPBRC_BAD_TABLE_ID', `table ${table} does not exist`);
      yield table;
    }
  }

  private select(t: number, f: FlowFilter): FlowEntry[] {
    const cls = this.tables[t]!;
    let candidates: Iterable<FlowEntry>;
    if (f.strict) {
      if (!f.match) throw new Error('strict selection needs a match');
      const e = cls.find(f.match, f.priority ?? DEFAULT_PRIORITY);
      candidates = e ? [e] : [];
    } else {
      candidates = f.match ? cls.covered(f.match) : cls;
    }
    const out: FlowEntry[] = [];
    const mask = f.cookieMask ?? 0n;
    for (const e of candidates) {
      if (mask !== 0n && ((e.cookie ^ (f.cookie ?? 0n)) & mask) !== 0n) continue;
      if (f.outPort !== undefined && !outputsTo(e.actions, f.outPort)) continue;
      if (f.outGroup !== undefined && !outputsToGroup(e.actions, f.outGroup)) continue;
      out.push(e);
    }
    return out;
  }

  private applyLogged(mod: FlowMod, log: Undo[]): FlowModResult {
    if (!isNormalized(mod.match)) throw new FlowModError('OFPBMC_BAD_WILDCARDS', 'match has value bits outside its mask');
    const priority = mod.priority ?? DEFAULT_PRIORITY;
    if (!Number.isInteger(priority) || priority < 0 || priority > 0xffff) throw new FlowModError('OFPBRC_BAD_LEN', `priority ${priority} out of range`);
    if (this.validate) this.validate(mod);
    switch (mod.command) {
      case 'add':
        return this.add(mod, priority, log);
      case 'modify':
      case 'modify_strict':
        return this.modify(mod, priority, log);
      case 'delete':
      case 'delete_strict':
        return this.remove(mod, priority, log);
    }
  }

  private add(mod: FlowMod, priority: number, log: Undo[]): FlowModResult {
    const table = mod.table === undefined || mod.table === ALL_TABLES ? 0 : mod.table;
    const cls = this.tables[table];
    if (!cls) throw new FlowModError('OFPBRC_BAD_TABLE_ID', `table ${table} does not exist`);
    const now = this.now();
    const old = cls.find(mod.match, priority);
    if (mod.checkOverlap) {
      for (const e of cls) {
        if (e !== old && e.priority === priority && overlaps(e.match, mod.match)) {
          throw new FlowModError('OFPFMFC_OVERLAP', 'flow overlaps an existing flow of the same priority');
        }
      }
    }
    if (old) {
      log.push({ kind: 'updated', entry: old, before: snapshot(old) });
      old.actions = mod.actions ?? [];
      old.cookie = mod.cookie ?? 0n;
      old.idleTimeout = mod.idleTimeout ?? 0;
      old.hardTimeout = mod.hardTimeout ?? 0;
      old.importance = mod.importance ?? 0;
      old.modified = now;
      if (mod.resetCounts) {
        old.nPackets = 0;
        old.nBytes = 0;
      }
      return { added: [], modified: [old], removed: [] };
    }
    const entry: FlowEntry = {
      table,
      priority,
      match: cloneMatch(mod.match),
      seq: this.seq++,
      actions: mod.actions ?? [],
      cookie: mod.cookie ?? 0n,
      idleTimeout: mod.idleTimeout ?? 0,
      hardTimeout: mod.hardTimeout ?? 0,
      importance: mod.importance ?? 0,
      nPackets: 0,
      nBytes: 0,
      created: now,
      modified: now,
      used: now,
    };
    cls.insert(entry);
    log.push({ kind: 'inserted', entry });
    return { added: [entry], modified: [], removed: [] };
  }

  private filterOf(mod: FlowMod, priority: number): FlowFilter {
    const strict = mod.command === 'modify_strict' || mod.command === 'delete_strict';
    return {
      match: mod.match,
      strict,
      priority,
      ...(mod.cookie !== undefined ? { cookie: mod.cookie } : {}),
      ...(mod.cookieMask !== undefined ? { cookieMask: mod.cookieMask } : {}),
      ...(mod.outPort !== undefined ? { outPort: mod.outPort } : {}),
      ...(mod.outGroup !== undefined ? { outGroup: mod.outGroup } : {}),
    };
  }

  private modify(mod: FlowMod, priority: number, log: Undo[]): FlowModResult {
    const filter = this.filterOf(mod, priority);
    const selected: FlowEntry[] = [];
    for (const t of this.tableRange(mod.table)) selected.push(...this.select(t, filter));
    if (selected.length === 0) {
      // As OVS: a modify that finds nothing adds, unless it filters by cookie or sets none.
      if ((mod.cookieMask ?? 0n) === 0n && mod.newCookie !== undefined) {
        return this.add({ ...mod, command: 'add', cookie: mod.newCookie }, priority, log);
      }
      return { added: [], modified: [], removed: [] };
    }
    const now = this.now();
    for (const e of selected) {
      log.push({ kind: 'updated', entry: e, before: snapshot(e) });
      e.actions = mod.actions ?? [];
      if (mod.newCookie !== undefined) e.cookie = mod.newCookie;
      if (mod.resetCounts) {
        e.nPackets = 0;
        e.nBytes = 0;
      }
      e.modified = now;
    }
    return { added: [], modified: selected, removed: [] };
  }

  private remove(mod: FlowMod, priority: number, log: Undo[]): FlowModResult {
    const filter = this.filterOf(mod, priority);
    const removed: FlowEntry[] = [];
    for (const t of this.tableRange(mod.table)) {
      for (const e of this.select(t, filter)) {
        this.tables[t]!.remove(e);
        log.push({ kind: 'removed', entry: e });
        removed.push(e);
      }
    }
    return { added: [], modified: [], removed };
  }

  private rollback(log: Undo[]): void {
    for (let i = log.length - 1; i >= 0; i--) {
      const u = log[i]!;
      if (u.kind === 'inserted') this.tables[u.entry.table]!.remove(u.entry);
      else if (u.kind === 'removed') this.tables[u.entry.table]!.insert(u.entry);
      else Object.assign(u.entry, u.before);
    }
  }
}

/** Do two entries have the same identity (table, match, priority)? */
export function sameFlow(a: Pick<FlowEntry, 'table' | 'priority' | 'match'>, b: Pick<FlowEntry, 'table' | 'priority' | 'match'>): boolean {
  return a.table === b.table && a.priority === b.priority && matchEqual(a.match, b.match);
}
