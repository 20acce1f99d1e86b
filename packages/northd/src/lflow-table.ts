/**
 * Logical flows as builders add them. A flow is identified by its stage, priority, match,
 * actions, controller meter and `in_out_port` tag (lflowKey); flow-set.ts merges the same flow
 * of several datapaths into one Southbound row with a Logical_DP_Group.
 */
import type { Stage } from './stages.js';

export interface FlowOptions {
  /** UUID of the Northbound row that caused the flow (external_ids:stage-hint is its first 8 hex digits). */
  readonly hint?: string | undefined;
  /** Logical_Flow.controller_meter. */
  readonly meter?: string | undefined;
  /** tags:in_out_port: the port whose presence on a chassis makes the flow relevant there. */
  readonly ioPort?: string | undefined;
  /** external_ids:source (which module of ovnts made it). */
  readonly source?: string | undefined;
}

export interface Lflow {
  readonly stage: Stage;
  readonly priority: number;
  readonly match: string;
  readonly actions: string;
  readonly hint: string | undefined;
  readonly meter: string | undefined;
  readonly ioPort: string | undefined;
  readonly source: string | undefined;
  /** Key of the datapath (NB row UUID) the flow is on. */
  readonly dp: string;
}

export function lflowKey(stage: Stage, priority: number, match: string, actions: string, meter: string | undefined, ioPort: string | undefined): string {
  return `${stage.name}\u0000${priority}\u0000${match}\u0000${actions}\u0000${meter ?? ''}\u0000${ioPort ?? ''}`;
}

/**
 * The flows one datapath's builders add (a "unit", see flow-set.ts). Adding the same flow twice
 * keeps the first (and its hint).
 */
export class LflowTable {
  private readonly flows = new Map<string, Lflow>();

  add(dp: string, stage: Stage, priority: number, match: string, actions: string, opts: FlowOptions = {}): void {
    const key = lflowKey(stage, priority, match, actions, opts.meter, opts.ioPort);
    const f = this.flows.get(key);
    if (f) {
      if (f.dp !== dp) throw new Error(`flow added to ${dp} and ${f.dp} in one unit: ${stage.name} ${match}`);
      return;
    }
    this.flows.set(key, { stage, priority, match, actions, hint: opts.hint, meter: opts.meter, ioPort: opts.ioPort, source: opts.source, dp });
  }

  get size(): number {
    return this.flows.size;
  }

  values(): IterableIterator<Lflow> {
    return this.flows.values();
  }

  entries(): IterableIterator<[string, Lflow]> {
    return this.flows.entries();
  }

  /** The flows by key (the table's own map: do not modify). */
  get map(): ReadonlyMap<string, Lflow> {
    return this.flows;
  }
}
