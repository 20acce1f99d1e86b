/**
 * The compiled form of each (logical flow, datapath), kept across rounds, as ovn-controller's
 * lflow cache keeps it: a round recompiles only the logical flows that changed or whose inputs
 * changed. A flow's inputs are what its compilation looked up — address sets, port groups, port
 * keys, chassis residency — recorded as it compiles; the cached result stands while each of
 * those lookups still gives the same answer. Parsing and compiling is most of a round's work, so
 * a round after a one-port change costs a lookup check per flow instead of a compilation.
 *
 * Conjunction ids belong to the cache (a cached flow keeps its ids; a recompiled or dropped
 * flow frees them), so cached and fresh flows never share one.
 */
import type { Bucket } from '@ovnts/switch/dist/src/flow/group.js';
import { compileLogicalFlow, type CompileEnv, type CompileResult, type DatapathInput, type LogicalFlowInput } from './compile/lflow.js';

/** One lookup a compilation made and the answer it got (as text, to compare by content). */
type Dep = readonly [kind: 'as' | 'pg' | 'key' | 'res', name: string, answer: string];

interface Entry {
  readonly match: string;
  readonly actions: string;
  readonly priority: number;
  readonly table: number;
  readonly isRouter: boolean;
  readonly deps: readonly Dep[];
  readonly result: CompileResult;
  readonly conjIds: readonly number[];
  readonly groups: readonly (readonly Bucket[])[];
}

/** What a round's compilations look up (the same interface the compiler uses, minus allocation). */
export interface CacheEnv {
  addressSet(name: string): readonly string[] | undefined;
  portGroup(name: string): readonly string[] | undefined;
  portKey(datapathKey: number, name: string): number | undefined;
  isChassisResident(port: string): boolean;
  addSelectGroup(buckets: readonly Bucket[]): number;
}

export interface CacheStats {
  hits: number;
  misses: number;
}

export class LflowCache {
  private entries = new Map<string, Entry>();
  private seen = new Set<string>();
  /** This round's answers for address sets and port groups, as text (they can be large). */
  private memo = new Map<string, string>();
  private nextConj = 1;
  private readonly freeConj: number[] = [];
  readonly stats: CacheStats = { hits: 0, misses: 0 };

  /** Starts a round: entries not compiled or hit by `end()` are dropped. */
  begin(): void {
    this.seen = new Set();
    this.memo = new Map();
    this.stats.hits = 0;
    this.stats.misses = 0;
  }

  /** Drops the entries of logical flows (or datapaths) this round did not visit. */
  end(): void {
    for (const [k, e] of this.entries) {
      if (this.seen.has(k)) continue;
      this.freeConj.push(...e.conjIds);
      this.entries.delete(k);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  compile(flow: LogicalFlowInput, dp: DatapathInput, env: CacheEnv): CompileResult {
    const key = `${flow.uuid}/${dp.key}`;
    this.seen.add(key);
    const old = this.entries.get(key);
    if (old && old.match === flow.match && old.actions === flow.actions && old.priority === flow.priority && old.table === flow.table && old.isRouter === dp.isRouter && old.deps.every((d) => this.answer(env, dp.key, d[0], d[1]) === d[2])) {
      // The same select groups, registered again for this round's group table (same ids).
      for (const b of old.groups) env.addSelectGroup(b);
      this.stats.hits++;
      return old.result;
    }
    this.stats.misses++;
    if (old) this.freeConj.push(...old.conjIds);
    const deps: Dep[] = [];
    const conjIds: number[] = [];
    const groups: (readonly Bucket[])[] = [];
    const note = (kind: Dep[0], name: string): void => {
      deps.push([kind, name, this.answer(env, dp.key, kind, name)]);
    };
    const recording: CompileEnv = {
      lookup: {
        addressSet: (n) => (note('as', n), env.addressSet(n)),
        portGroup: (n) => (note('pg', n), env.portGroup(n)),
      },
      portKey: (dk, n) => (note('key', `${dk}/${n}`), env.portKey(dk, n)),
      isChassisResident: (p) => (note('res', p), env.isChassisResident(p)),
      allocConjunctionId: () => {
        const id = this.freeConj.pop() ?? this.nextConj++;
        conjIds.push(id);
        return id;
      },
      addSelectGroup: (b) => (groups.push(b), env.addSelectGroup(b)),
    };
    const result = compileLogicalFlow(flow, dp, recording);
    this.entries.set(key, { match: flow.match, actions: flow.actions, priority: flow.priority, table: flow.table, isRouter: dp.isRouter, deps, result, conjIds, groups });
    return result;
  }

  private answer(env: CacheEnv, dpKey: number, kind: Dep[0], name: string): string {
    switch (kind) {
      case 'as':
      case 'pg': {
        // Port group names resolve per datapath (northd's "<key>_<name>" groups).
        const k = `${kind}:${dpKey}:${name}`;
        let text = this.memo.get(k);
        if (text === undefined) {
          const v = kind === 'as' ? env.addressSet(name) : env.portGroup(name);
          this.memo.set(k, (text = v?.join(' ') ?? '\u0000'));
        }
        return text;
      }
      case 'key': {
        const slash = name.indexOf('/');
        return String(env.portKey(Number(name.slice(0, slash)), name.slice(slash + 1)));
      }
      case 'res':
        return env.isChassisResident(name) ? '1' : '0';
    }
  }
}
