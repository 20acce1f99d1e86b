export * from './processes.js';
export * from './lab.js';
export * from './vms.js';
export * from './topology.js';
export * from './vm-daemon.js';
export * from './netns.js';
