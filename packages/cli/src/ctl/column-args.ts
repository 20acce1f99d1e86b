/**
 * Command arguments that name a column: `COLUMN[:KEY]` and `COLUMN[:KEY]OP VALUE` (set, find,
 * wait-until), `--columns=a,b`, and the conditions of find/wait-until.
 */
import { compareDatums, datumExcludes, datumIncludes, findKey, type Datum, type MapDatum, type ColumnSchema, type ColumnType, type TableSchema } from './ovsdb.js';
import { atomFromString, datumFromString, relaxedType, tokenParse } from './datum-text.js';
import type { ViewRow } from './db-txn.js';
import { fail } from './errors.js';
import { findColumn } from './names.js';
import type { SymbolTable } from './symbols.js';

export interface ColumnKeyValue {
  readonly column: ColumnSchema;
  readonly key: string | undefined;
  /** Index of the operator in the allowed list. */
  readonly op: number;
  readonly value: string | undefined;
}

function missingOperator(arg: string, ops: readonly string[]): string {
  let s = `${arg}: argument does not end in "${ops[0]}"`;
  if (ops.length === 2) s += ` or "${ops[1]}"`;
  else if (ops.length > 2) s += ops.slice(1, -1).map((o) => `, "${o}"`).join('') + `, or "${ops[ops.length - 1]}"`;
  return `${s} followed by a value.`;
}

/**
 * Splits `arg` into a column (abbreviations allowed), an optional ":KEY", and, when `ops` is
 * given, an operator from `ops` followed by a value.
 */
export function parseColumnKeyValue(arg: string, table: TableSchema, ops?: readonly string[]): ColumnKeyValue {
  const [name, afterName] = tokenParse(arg, 0);
  if (name === '') fail(`${arg}: missing column name`);
  const column = findColumn(table, name);
  let p = afterName;
  let key: string | undefined;
  if (arg[p] === ':') {
    const [k, afterKey] = tokenParse(arg, p + 1);
    key = k;
    p = afterKey;
  }
  if (ops === undefined) {
    if (p < arg.length) fail(`${arg}: trailing garbage "${arg.slice(p)}" in argument`);
    return { column, key, op: -1, value: undefined };
  }
  let best = -1;
  let bestLen = 0;
  ops.forEach((op, i) => {
    if (op.length > bestLen && arg.startsWith(op, p) && p + op.length < arg.length) {
      best = i;
      bestLen = op.length;
    }
  });
  if (best < 0) fail(missingOperator(arg, ops));
  return { column, key, op: best, value: arg.slice(p + bestLen) };
}

/** Validates the column name at the start of `arg` (the "prerequisites" check). */
export function preParseColumn(arg: string, table: TableSchema): ColumnSchema {
  const [name] = tokenParse(arg, 0);
  if (name === '') fail(`${arg}: missing column name`);
  return findColumn(table, name);
}

/** --columns=a,b: the columns to print; null stands for _uuid. Without the option: _uuid and all. */
export function parseColumnNames(names: string | null | undefined, table: TableSchema): (ColumnSchema | null)[] {
  // The IDL's tables list their columns by name.
  if (names === undefined || names === null) return [null, ...[...table.columnList].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))];
  const out: (ColumnSchema | null)[] = [];
  for (const n of names.split(/[, ]+/).filter(Boolean)) out.push(n.toLowerCase() === '_uuid' ? null : findColumn(table, n));
  if (out.length === 0) fail('must specify at least one column name');
  return out;
}

export function checkMutable(row: ViewRow, column: ColumnSchema): void {
  if (!column.mutable && !row.inserted) fail(`cannot modify read-only column ${column.name} in table ${row.table.name}`);
}

export const RELOPS = ['=', '!=', '<', '>', '<=', '>=', '{=}', '{!=}', '{<}', '{>}', '{<=}', '{>=}', '{in}', '{not-in}'] as const;
const SET_OPS = new Set(['{=}', '{!=}', '{<}', '{>}', '{<=}', '{>=}', '{in}', '{not-in}']);

function evaluate(a: Datum, b: Datum, isMap: boolean, op: string): boolean {
  const cmp = (): number => compareDatums(a, b, isMap);
  switch (op) {
    case '=':
    case '{=}':
      return cmp() === 0;
    case '!=':
    case '{!=}':
      return cmp() !== 0;
    case '<':
      return cmp() < 0;
    case '>':
      return cmp() > 0;
    case '<=':
      return cmp() <= 0;
    case '>=':
      return cmp() >= 0;
    case '{<}':
      return b.length > a.length && datumIncludes(b, a, isMap);
    case '{>}':
      return a.length > b.length && datumIncludes(a, b, isMap);
    case '{<=}':
    case '{in}':
      return datumIncludes(b, a, isMap);
    case '{>=}':
      return datumIncludes(a, b, isMap);
    case '{not-in}':
      return datumExcludes(a, b, isMap);
    default:
      return false;
  }
}

/** Whether `row` satisfies the condition `arg` (COLUMN[:KEY]OP VALUE). */
export function checkCondition(table: TableSchema, row: ViewRow, arg: string, symtab: SymbolTable): boolean {
  const { column, key, op, value } = parseColumnKeyValue(arg, table, RELOPS);
  if (value === undefined) fail(`${arg}: missing value`);
  const relop = RELOPS[op]!;
  const have = row.get(column.name);
  if (key !== undefined) {
    if (column.type.value === undefined) fail(`cannot specify key to check for non-map column ${column.name}`);
    const wantKey = atomFromString(column.type.key, key, symtab).atom;
    const valueType: ColumnType = { key: column.type.value, min: column.type.min, max: Infinity };
    const b = datumFromString(valueType, value, symtab);
    const i = findKey(have as MapDatum, wantKey);
    if (i < 0 && !SET_OPS.has(relop)) return false;
    const a: Datum = i < 0 ? [] : [(have as MapDatum)[i]![1]];
    return evaluate(a, b, false, relop);
  }
  const want = datumFromString(column.type, value, symtab);
  return evaluate(have, want, column.isMap, relop);
}

export { relaxedType };
