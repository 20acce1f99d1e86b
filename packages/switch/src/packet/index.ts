/** The switch's packet codec: flow-key extraction and commit, builders, checksums, Geneve. */
export * from './addr.js';
export * from './checksum.js';
export * from './constants.js';
export { extractKey, PacketLayout, IP6_MAX_EXT_HEADERS } from './extract.js';
export { commitKey } from './commit.js';
export * from './build.js';
export * from './decode.js';
export * from './geneve.js';
export * from './dhcp.js';
export * from './dhcp6.js';
