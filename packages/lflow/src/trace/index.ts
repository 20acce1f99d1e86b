export { Tracer, parseCtState, headersOf, type Fate, type FateOutput, type DropPoint, type TraceNode, type TraceOptions, type TraceResult } from './engine.js';
export { formatDetailed, formatSummary, formatMinimal } from './format.js';
export { southboundFromRows, TRACE_TABLES, type SouthboundRows } from './southbound.js';
export type { Southbound, SbDatapath, SbPortBinding, SbLogicalFlow, SbMulticastGroup, SbMacBinding, Pipeline } from './southbound.js';
export { macText, ip4Text, ip6Text } from './state.js';
