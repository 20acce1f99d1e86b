export * from './error.js';
export * from './schema.js';
export * from './datum.js';
export * from './row.js';
export * from './condition.js';
export * from './database.js';
export * from './transaction.js';
