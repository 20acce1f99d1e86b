/** A committed row: immutable, replaced as a whole when a transaction modifies it. */
import type { Datum } from './datum.js';

export interface Row {
  readonly uuid: string;
  readonly version: string;
  /** One datum per column, in the table schema's column order. */
  readonly values: readonly Datum[];
}
