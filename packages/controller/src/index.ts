export * from './compile/layout.js';
export * from './compile/fields.js';
export * from './compile/match.js';
export * from './compile/actions.js';
export * from './compile/lflow.js';
