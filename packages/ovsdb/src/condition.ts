/**
 * Conditions (RFC 7047 §5.1 "condition"): `[column, function, value]` clauses, all of which must
 * hold. monitor_cond adds the literals `true` and `false` as clauses.
 */
import { syntaxError, OvsdbError } from './error.js';
import { parseDatum, datumIncludes, datumExcludes, datumsEqual, typeToEnglish, type Datum, type UuidNamer } from './datum.js';
import type { ColumnType, TableSchema } from './schema.js';
import type { Row } from './row.js';

export type ConditionFunction = '<' | '<=' | '==' | '!=' | '>=' | '>' | 'includes' | 'excludes';
const FUNCTIONS: readonly string[] = ['<', '<=', '==', '!=', '>=', '>', 'includes', 'excludes'];

export const UUID_COLUMN_TYPE: ColumnType = { key: { type: 'uuid' }, min: 1, max: 1 };

/** A clause with its column resolved to a value accessor. `column === -1` is _uuid, -2 _version. */
export interface Clause {
  readonly columnName: string;
  readonly column: number;
  readonly isMap: boolean;
  readonly fn: ConditionFunction;
  readonly arg: Datum;
  readonly json: unknown;
}

/**
 * `true`/`false` literal clauses are folded: a condition is either constant, a list of clauses
 * that must all hold (a transaction's `where`), or a list of which any must hold (a monitor's).
 */
export type Condition =
  | { readonly kind: 'const'; readonly value: boolean }
  | { readonly kind: 'clauses'; readonly clauses: readonly Clause[] }
  | { readonly kind: 'any'; readonly clauses: readonly Clause[] };

export function columnTypeOf(table: TableSchema, name: string): { index: number; type: ColumnType } | undefined {
  if (name === '_uuid') return { index: -1, type: UUID_COLUMN_TYPE };
  if (name === '_version') return { index: -2, type: UUID_COLUMN_TYPE };
  const c = table.columns.get(name);
  return c ? { index: c.index, type: c.type } : undefined;
}

export function rowValue(row: Row, column: number): Datum {
  if (column === -1) return [row.uuid];
  if (column === -2) return [row.version];
  return row.values[column]!;
}

export function parseClause(table: TableSchema, j: unknown, namer?: UuidNamer): Clause {
  // Errors name the clause as their "syntax" (a bad operand names itself), as in ovsdb-server.
  if (!Array.isArray(j) || j.length !== 3 || typeof j[0] !== 'string' || typeof j[1] !== 'string') {
    throw new OvsdbError('syntax error', 'Parse error in condition.', j);
  }
  const [columnName, fnName, argJ] = j as [string, string, unknown];
  const col = columnTypeOf(table, columnName);
  if (!col) throw new OvsdbError('unknown column', `No column ${columnName} in table ${table.name}.`, j);
  if (!FUNCTIONS.includes(fnName)) throw new OvsdbError('unknown function', `No function named ${fnName}.`);
  const fn = fnName as ConditionFunction;
  let type = col.type;
  const scalar = type.value === undefined && type.min === 1 && type.max === 1;
  const optionalScalar = type.value === undefined && type.min === 0 && type.max === 1;
  if (fn === '<' || fn === '<=' || fn === '>' || fn === '>=') {
    // Allowed on optional scalars too; a missing value then never compares true.
    if (!(scalar || optionalScalar) || (type.key.type !== 'integer' && type.key.type !== 'real')) {
      throw new OvsdbError('syntax error', `Type mismatch: "${fn}" operator may not be applied to column ${columnName} of type ${typeToEnglish(type)}.`, j);
    }
  } else if (fn === 'includes' && !scalar) {
    type = { ...type, min: 0 };
  } else if (fn === 'excludes' && !scalar) {
    type = { ...type, min: 0, max: Infinity };
  }
  const arg = parseDatum(argJ, type, namer);
  return { columnName, column: col.index, isMap: type.value !== undefined, fn, arg, json: j };
}

export function parseCondition(table: TableSchema, j: unknown, namer?: UuidNamer): Condition {
  if (!Array.isArray(j)) throw syntaxError(`Type mismatch for member 'where'.`);
  const clauses: Clause[] = [];
  let constant = true;
  for (const c of j) {
    if (c === true) continue;
    if (c === false) constant = false;
    else clauses.push(parseClause(table, c, namer));
  }
  if (!constant) return { kind: 'const', value: false };
  return clauses.length === 0 ? { kind: 'const', value: true } : { kind: 'clauses', clauses };
}

/**
 * A monitor_cond `where`: a disjunction, as ovsdb-server evaluates it (a row is in when any
 * clause holds; `true` admits every row, `false` adds nothing; `[]` means every row).
 */
export function parseMonitorCondition(table: TableSchema, j: unknown): Condition {
  if (!Array.isArray(j)) throw syntaxError(`Type mismatch for member 'where'.`);
  if (j.length === 0) return { kind: 'const', value: true };
  const clauses: Clause[] = [];
  for (const c of j) {
    if (c === true) return { kind: 'const', value: true };
    if (c !== false) clauses.push(parseClause(table, c));
  }
  return clauses.length === 0 ? { kind: 'const', value: false } : { kind: 'any', clauses };
}

export function evalClause(c: Clause, row: Row): boolean {
  const v = rowValue(row, c.column);
  switch (c.fn) {
    case '==':
      return datumsEqual(v, c.arg, c.isMap);
    case '!=':
      return !datumsEqual(v, c.arg, c.isMap);
    case 'includes':
      return datumIncludes(v, c.arg, c.isMap);
    case 'excludes':
      return datumExcludes(v, c.arg, c.isMap);
    // On an optional scalar, an empty value (or operand) compares false.
    case '<':
      return v.length === 1 && c.arg.length === 1 && (v[0] as number) < (c.arg[0] as number);
    case '<=':
      return v.length === 1 && c.arg.length === 1 && (v[0] as number) <= (c.arg[0] as number);
    case '>':
      return v.length === 1 && c.arg.length === 1 && (v[0] as number) > (c.arg[0] as number);
    case '>=':
      return v.length === 1 && c.arg.length === 1 && (v[0] as number) >= (c.arg[0] as number);
  }
}

export function evalCondition(cond: Condition, row: Row): boolean {
  if (cond.kind === 'const') return cond.value;
  if (cond.kind === 'any') return cond.clauses.some((c) => evalClause(c, row));
  for (const c of cond.clauses) if (!evalClause(c, row)) return false;
  return true;
}

/** If the condition pins `_uuid` to one value, that UUID: lets lookups skip a table scan. */
export function pinnedUuid(cond: Condition): string | undefined {
  if (cond.kind !== 'clauses') return undefined;
  for (const c of cond.clauses) if (c.column === -1 && c.fn === '==') return c.arg[0] as string;
  return undefined;
}
