/** The switch's packet-processing core (see docs/switch.md, "Packet path"). */
export type {
  Datapath, DatapathStats, PortSink, TunnelMetadata, Continuation, PacketIn, TraceStep, TraceResult,
} from './types.js';
export { createDatapath } from './datapath.js';
export type { DatapathOptions, SwitchDatapath } from './datapath.js';
export { ChangeTracker, TrackedFlowTables, TrackedGroupTable } from './tables.js';
export { MegaflowCache, Megaflow } from './cache.js';
export { Xlate, RecircRegistry, MAX_DEPTH, MAX_RESUBMITS } from './xlate.js';
export type { XlateDeps, XlateStart, XlateMode, RecircState } from './xlate.js';
export { lookupConjunctive, isConjunctive } from './conj.js';
export { formatOps, formatKey, formatMegaflow, formatCtState } from './trace.js';
export type { Op, Frame, StackEntry } from './program.js';
