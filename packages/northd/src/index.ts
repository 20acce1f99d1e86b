/** @ovnts/northd: compiles the OVN Northbound database into the Southbound database. */
export * from './input.js';
export * from './desired.js';
export * from './compute.js';
export { LflowTable, lflowKey, type Lflow, type FlowOptions } from './lflow-table.js';
export { LS_IN, LS_OUT, LR_IN, LR_OUT, ALL_STAGES, type Stage, type Pipeline } from './stages.js';
export { buildModel, type Model, type Datapath, type Port } from './model.js';
export { KeyAllocator } from './tunnel-keys.js';
export { runNorthd, northdMain, type NorthdOptions, type NorthdHandle, type NorthdStatus } from './daemon.js';
export { createNorthdEngine, type NorthdEngine } from './northd-engine.js';
export { Engine, EngineNode, type NodeStats } from './engine.js';
export { writeSouthbound, type WriteStats, type WriterOptions } from './sb-writer.js';
export { startControl, northdCommands, statusText, type Control, type ControlOptions } from './control.js';
export { UnixctlServer, UnixctlError, type UnixctlCommand } from './unixctl.js';
