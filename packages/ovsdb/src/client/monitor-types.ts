/** Monitor requests and the table updates the server sends (RFC 7047 §4.1.5-6, ovsdb-server's update2/update3). */
import type { MonitorClauseJson, RowJson } from './wire.js';

export interface MonitorSelect {
  readonly initial?: boolean;
  readonly insert?: boolean;
  readonly delete?: boolean;
  readonly modify?: boolean;
}

export interface MonitorRequest {
  /** Columns to watch (default: all). */
  readonly columns?: readonly string[];
  /** monitor_cond and later only: rows must satisfy every clause. */
  readonly where?: readonly MonitorClauseJson[];
  readonly select?: MonitorSelect;
}

export type MonitorRequests = Readonly<Record<string, MonitorRequest | readonly MonitorRequest[]>>;

/** monitor_cond_change: new conditions (and optionally columns) per table. */
export type MonitorCondChanges = Readonly<Record<string, readonly { readonly where?: readonly MonitorClauseJson[]; readonly columns?: readonly string[] }[]>>;

/** "update" (monitor v1): full old and/or new rows (old holds only changed columns on modify). */
export interface RowUpdate1 {
  readonly old?: RowJson;
  readonly new?: RowJson;
}
export type TableUpdates1 = Readonly<Record<string, Readonly<Record<string, RowUpdate1>>>>;

/** "update2"/"update3": initial and insert rows omit default values; modify carries diffs. */
export type RowUpdate2 = { readonly initial: RowJson } | { readonly insert: RowJson } | { readonly modify: RowJson } | { readonly delete: null };
export type TableUpdates2 = Readonly<Record<string, Readonly<Record<string, RowUpdate2>>>>;

export interface MonitorSinceReply {
  /** The server knew `lastTxnId`: `updates` are only the changes since then. */
  readonly found: boolean;
  readonly lastTxnId: string;
  readonly updates: TableUpdates2;
}

/** Receives a monitor's notifications; registered with the client under the monitor id. */
export interface MonitorHandler {
  update(method: 'update' | 'update2' | 'update3', params: readonly unknown[]): void;
  /** The server cancelled the monitor ("monitor_canceled", e.g. its database changed schema). */
  canceled?(): void;
}
