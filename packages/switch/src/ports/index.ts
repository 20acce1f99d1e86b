/** Switch ports: see docs/switch.md, "Ports". */
export type { PortType, PortStats, PortSpec, InternalPortSpec, DgramPortSpec, TunnelPortSpec, PatchPortSpec, PortInfo } from './types.js';
export type { FrameReceiver } from './internal.js';
export type { TunnelEndpointStats } from './tunnel.js';
export type { Receive, PortTableOptions } from './table.js';
export { PortTable, MAX_OFPORT, MAX_PATCH_HOPS } from './table.js';
export { parseEndpoint, ip4Number, ip4Text } from './address.js';
