export * from './fields.js';
export * from './packet/index.js';
export * from './flow/index.js';
export type * from './datapath/types.js';
