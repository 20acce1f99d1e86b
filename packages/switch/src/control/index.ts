/** The switch's control socket: see docs/switch.md, "Control socket and ofctl". */
export { SwitchClient, socketPath } from './client.js';
export type { SwitchClientOptions } from './client.js';
export { ControlServer } from './server.js';
export type { ControlServerOptions } from './server.js';
export { ControlError, METHODS } from './protocol.js';
export type { Methods, Method, Params, Result, FlowModParam, FlowModSummary, TraceParams, TraceResult, Request, Response, Push, ErrorBody } from './protocol.js';
export { encodeFrame, decodeBody, FrameReader, MAX_FRAME } from './codec.js';
export { formatPortStats, formatPortDescs, formatTableStats, formatConntrack, formatTrace, replyHeader, versionTag } from './format.js';
export { microflowPacket } from './microflow.js';
export type { MicroflowPacket } from './microflow.js';
