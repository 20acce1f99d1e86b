/** @ovnts/ovsdb's JSON-RPC connection and remote syntax, imported once (see ovsdb.ts). */
export { JsonRpcConnection, RpcError, type JsonRpcRequest } from '@ovnts/ovsdb/dist/src/jsonrpc/connection.js';
export { parseRemote } from '@ovnts/ovsdb/dist/src/jsonrpc/remote.js';
