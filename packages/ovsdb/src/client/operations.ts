/** RFC 7047 §5.2 operations and their results, as the client sends and receives them. */
import type { ClauseJson, MutationJson, RowJson, UuidJson } from './wire.js';

export interface InsertOp {
  readonly op: 'insert';
  readonly table: string;
  readonly row: RowJson;
  readonly 'uuid-name'?: string;
  /** ovsdb-server 2.13+: the UUID to give the new row. */
  readonly uuid?: string;
}
export interface SelectOp {
  readonly op: 'select';
  readonly table: string;
  readonly where: readonly ClauseJson[];
  readonly columns?: readonly string[];
}
export interface UpdateOp {
  readonly op: 'update';
  readonly table: string;
  readonly where: readonly ClauseJson[];
  readonly row: RowJson;
}
export interface MutateOp {
  readonly op: 'mutate';
  readonly table: string;
  readonly where: readonly ClauseJson[];
  readonly mutations: readonly MutationJson[];
}
export interface DeleteOp {
  readonly op: 'delete';
  readonly table: string;
  readonly where: readonly ClauseJson[];
}
export interface WaitOp {
  readonly op: 'wait';
  readonly table: string;
  readonly where: readonly ClauseJson[];
  readonly columns: readonly string[];
  readonly until: '==' | '!=';
  readonly rows: readonly RowJson[];
  /** Milliseconds; 0 fails at once, absent waits forever. */
  readonly timeout?: number;
}
export interface CommentOp {
  readonly op: 'comment';
  readonly comment: string;
}
export interface AssertOp {
  readonly op: 'assert';
  readonly lock: string;
}
export interface CommitOp {
  readonly op: 'commit';
  readonly durable: boolean;
}
export interface AbortOp {
  readonly op: 'abort';
}

export type Operation = InsertOp | SelectOp | UpdateOp | MutateOp | DeleteOp | WaitOp | CommentOp | AssertOp | CommitOp | AbortOp;

/** A successful insert: the new row's UUID (decoded from ["uuid", …]). */
export interface InsertResult {
  readonly uuid: string;
}
/** A select's rows in wire form; `_uuid` and `_version` appear when selected (all columns by default). */
export interface SelectResult {
  readonly rows: readonly RowJson[];
}
/** update, mutate, delete: how many rows matched. */
export interface CountResult {
  readonly count: number;
}
/** wait, comment, assert, commit. */
export type EmptyResult = Readonly<Record<string, never>>;

/** The wire form of an insert result, before decoding. */
export interface InsertResultJson {
  readonly uuid: UuidJson;
}
