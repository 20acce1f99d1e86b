/** Typed models: the generator, the runtime converters, typed IDL views and the bundled models (Nb, Sb, Vswitch). */
export * from './runtime.js';
export { generateModels, type GenerateOptions } from './generate.js';
export * from './typed-table.js';
export * from '../models/index.js';
