/** The OVSDB client library: connection with failover, typed transactions, and the IDL replica. */
export * from './wire.js';
export * from './operations.js';
export * from './errors.js';
export * from './backoff.js';
export * from './builder.js';
export * from './monitor-types.js';
export * from './client.js';
export * from './idl/row.js';
export * from './idl/changes.js';
export * from './idl/row-index.js';
export { Replica, ReplicaTable, ReplicaInconsistency, type IdlTable } from './idl/replica.js';
export * from './idl/idl-txn.js';
export * from './idl/idl.js';
