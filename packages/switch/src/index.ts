export * from './fields.js';
export * from './packet/index.js';
