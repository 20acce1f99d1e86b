/**
 * A small incremental-processing engine in the shape of OVN's lib/inc-proc-eng: a graph of
 * nodes, each owning its data. Input nodes are told when their data changed; a computed node
 * whose inputs changed first offers the change to its per-input handlers (which may update the
 * data in place and report whether they could), and recomputes from scratch otherwise. Nodes
 * run in dependency order; the graph can be printed and per-node counters read at run time.
 */

export interface NodeStats {
  /** Full recomputes. */
  recomputes: number;
  /** Changes handled incrementally by a handler. */
  handled: number;
  /** Runs where no input had changed. */
  unchanged: number;
  /** Time spent in the last recompute or handler, ms. */
  lastMs: number;
}

/** Handler for a change of one input: returns true when it brought the node's data up to date. */
export type ChangeHandler = () => boolean;

/** What the engine needs of any node, whatever its data type. */
export abstract class NodeBase {
  /** Engine run in which this node's data last changed. */
  changedAt = -1;
  /** Engine run in which this node last ran. */
  ranAt = -1;
  readonly stats: NodeStats = { recomputes: 0, handled: 0, unchanged: 0, lastMs: 0 };
  readonly handlers = new Map<NodeBase, ChangeHandler>();

  constructor(
    readonly name: string,
    readonly inputs: readonly NodeBase[],
  ) {}

  abstract get isInput(): boolean;
  abstract get hasData(): boolean;
  /** Recomputes the data from scratch. */
  abstract recompute(): void;
}

export class EngineNode<T> extends NodeBase {
  data: T | undefined;

  constructor(
    name: string,
    inputs: readonly NodeBase[],
    /** Full recompute; undefined for input nodes (their data is set from outside). */
    readonly compute: (() => T) | undefined,
  ) {
    super(name, inputs);
  }

  get isInput(): boolean {
    return this.compute === undefined;
  }

  get hasData(): boolean {
    return this.data !== undefined;
  }

  recompute(): void {
    if (this.compute) this.data = this.compute();
  }

  /** The node's current data; throws before the first run. */
  get value(): T {
    if (this.data === undefined) throw new Error(`engine node ${this.name} has no data yet`);
    return this.data;
  }

  /** Registers an incremental handler for changes of `input` (it updates `data` in place). */
  onChange(input: NodeBase, handler: ChangeHandler): this {
    if (!this.inputs.includes(input)) throw new Error(`${input.name} is not an input of ${this.name}`);
    this.handlers.set(input, handler);
    return this;
  }
}

export class Engine {
  private readonly nodes: NodeBase[] = [];
  private runNo = 0;
  /** Input nodes changed since the last run. */
  private readonly dirty = new Set<NodeBase>();

  /** An input node whose data the caller provides with `set`. */
  input<T>(name: string, initial: T): EngineNode<T> {
    const n = new EngineNode<T>(name, [], undefined);
    n.data = initial;
    this.nodes.push(n);
    this.dirty.add(n);
    return n;
  }

  /** A computed node; its inputs must already be in the engine (so the list is in dependency order). */
  node<T>(name: string, inputs: readonly NodeBase[], compute: () => T): EngineNode<T> {
    for (const i of inputs) if (!this.nodes.includes(i)) throw new Error(`input ${i.name} of ${name} is not in the engine`);
    const n = new EngineNode<T>(name, inputs, compute);
    this.nodes.push(n);
    return n;
  }

  /** Sets an input node's data and marks it changed. */
  set<T>(node: EngineNode<T>, data: T): void {
    node.data = data;
    this.dirty.add(node);
  }

  /**
   * Sets an input node's data without marking it changed: for updates the caller knows cannot
   * change any result (later recomputes still see the current data).
   */
  setQuiet<T>(node: EngineNode<T>, data: T): void {
    node.data = data;
  }

  /** Marks an input node changed (its data was updated in place). */
  touch(node: NodeBase): void {
    this.dirty.add(node);
  }

  /** Forces every computed node to recompute at the next run. */
  forceRecompute(): void {
    this.forceAll = true;
  }

  /** Every computed node recomputes at the next run (first run, resync). */
  private forceAll = true;

  get hasPendingChanges(): boolean {
    return this.dirty.size > 0 || this.forceAll;
  }

  /** Brings every node up to date; returns the names of the nodes whose data changed. */
  run(): string[] {
    const run = ++this.runNo;
    const changed: string[] = [];
    for (const n of this.nodes) {
      if (n.isInput) {
        if (this.dirty.has(n)) {
          n.changedAt = run;
          changed.push(n.name);
        }
        n.ranAt = run;
        continue;
      }
      const changedInputs = n.inputs.filter((i) => i.changedAt === run);
      if (!this.forceAll && n.hasData && changedInputs.length === 0) {
        n.stats.unchanged++;
        n.ranAt = run;
        continue;
      }
      const t0 = performance.now();
      let done = false;
      if (!this.forceAll && n.hasData && changedInputs.every((i) => n.handlers.has(i))) {
        done = changedInputs.every((i) => n.handlers.get(i)!());
        if (done) n.stats.handled++;
      }
      if (!done) {
        n.recompute();
        n.stats.recomputes++;
      }
      n.stats.lastMs = performance.now() - t0;
      n.changedAt = run;
      n.ranAt = run;
      changed.push(n.name);
    }
    this.dirty.clear();
    this.forceAll = false;
    return changed;
  }

  /** The graph in Graphviz dot syntax (inputs at the top). */
  dumpGraph(): string {
    const lines = ['digraph northd {', '  rankdir=TB;'];
    for (const n of this.nodes) {
      lines.push(`  "${n.name}" [shape=${n.isInput ? 'ellipse' : 'box'}];`);
      for (const i of n.inputs) lines.push(`  "${i.name}" -> "${n.name}"${n.handlers.has(i) ? ' [style=dashed]' : ''};`);
    }
    lines.push('}');
    return lines.join('\n');
  }

  /** Per-node counters. */
  stats(): Record<string, NodeStats> {
    const out: Record<string, NodeStats> = {};
    for (const n of this.nodes) out[n.name] = { ...n.stats };
    return out;
  }

  /** Zeroes the per-node counters (inc-engine/clear-stats). */
  clearStats(): void {
    for (const n of this.nodes) Object.assign(n.stats, { recomputes: 0, handled: 0, unchanged: 0, lastMs: 0 });
  }

  get nodeNames(): string[] {
    return this.nodes.map((n) => n.name);
  }
}
