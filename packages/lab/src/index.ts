/** The lab: simulated VMs (and, later, the multi-process lab driver). */
export * from './vm/index.js';
export * from './orchestrator/index.js';
