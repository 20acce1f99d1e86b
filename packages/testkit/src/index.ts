export * from './real-ovn.js';
