/** Mutations (RFC 7047 §5.1 "mutation"): parsing `[column, mutator, value]` and applying it. */
import { OvsdbError, constraintViolation } from './error.js';
import { checkAtomConstraints, checkDatumSize, datumDifference, datumUnion, parseDatum, typeToEnglish, type Datum, type SetDatum, type UuidNamer } from './datum.js';
import { compareAtoms, type Atom, type ColumnSchema, type ColumnType, type TableSchema } from './schema.js';

const INT_MIN = -(2 ** 63);
const INT_MAX = 2 ** 63 - 1;

export interface Mutation {
  readonly column: ColumnSchema;
  readonly mutator: '+=' | '-=' | '*=' | '/=' | '%=' | 'insert' | 'delete';
  readonly arg: Datum;
  readonly keySet?: boolean;
}

function arith(mutator: Mutation['mutator'], a: number, b: number, integer: boolean): number {
  let r: number;
  switch (mutator) {
    case '+=':
      r = a + b;
      break;
    case '-=':
      r = a - b;
      break;
    case '*=':
      r = a * b;
      break;
    case '/=':
      if (b === 0) throw new OvsdbError('domain error', 'Division by zero.');
      r = integer ? Math.trunc(a / b) : a / b;
      break;
    case '%=':
      if (b === 0) throw new OvsdbError('domain error', 'Division by zero.');
      r = a % b;
      break;
    default:
      throw new Error('not arithmetic');
  }
  // 2 ** 63 - 1 rounds to 2 ** 63 as a double, so the upper bound is checked as >= 2 ** 63.
  if (integer ? r < INT_MIN || r >= INT_MAX : !Number.isFinite(r)) {
    throw new OvsdbError('range error', `Result of "${mutator}" operation is out of range.`);
  }
  return integer ? r + 0 : r; // integers have no -0
}

export function applyMutation(m: Mutation, d: Datum): Datum {
  const t = m.column.type;
  let out: Datum;
  switch (m.mutator) {
    case 'insert':
      out = datumUnion(d, m.arg, m.column.isMap);
      break;
    case 'delete':
      out = datumDifference(d, m.arg, m.column.isMap, m.keySet === true);
      break;
    default: {
      const b = m.arg[0] as number;
      const integer = t.key.type === 'integer';
      const atoms: Atom[] = (d as SetDatum).map((a) => arith(m.mutator, a as number, b, integer));
      for (const a of atoms) checkAtomConstraints(a, t.key);
      atoms.sort(compareAtoms);
      for (let i = 1; i < atoms.length; i++) {
        if (atoms[i] === atoms[i - 1]) throw constraintViolation(`Result of "${m.mutator}" operation contains duplicates.`);
      }
      out = atoms;
    }
  }
  checkDatumSize(out, t);
  return out;
}

export function parseMutation(ts: TableSchema, j: unknown, namer: UuidNamer): Mutation {
  if (!Array.isArray(j) || j.length !== 3 || typeof j[0] !== 'string' || typeof j[1] !== 'string') {
    throw new OvsdbError('syntax error', 'Parse error in mutation.', j);
  }
  const [name, mutator, argJ] = j as [string, string, unknown];
  if (name === '_uuid' || name === '_version') throw constraintViolation(`Cannot mutate immutable column ${name} in table ${ts.name}.`);
  const column = ts.columns.get(name);
  if (!column) throw new OvsdbError('unknown column', `No column ${name} in table ${ts.name}.`, j);
  if (!column.mutable) throw constraintViolation(`Cannot mutate immutable column ${name} in table ${ts.name}.`);
  const t = column.type;
  const scalar = t.value === undefined && t.min === 1 && t.max === 1;
  const mismatch = (): OvsdbError =>
    new OvsdbError('syntax error', `Type mismatch: "${mutator}" operator may not be applied to column ${name} of type ${typeToEnglish(t)}.`, j);
  switch (mutator) {
    case '+=':
    case '-=':
    case '*=':
    case '/=':
    case '%=': {
      const kt = t.key.type;
      if (t.value !== undefined || (kt !== 'integer' && kt !== 'real') || (mutator === '%=' && kt !== 'integer')) throw mismatch();
      // The operand is checked against the atomic type only; the column's constraints apply to results.
      const arg = parseDatum(argJ, { key: { type: kt }, min: 1, max: 1 }, namer);
      return { column, mutator, arg };
    }
    case 'insert':
    case 'delete': {
      if (scalar) throw mismatch();
      // "insert" operands may have up to the column's max elements, "delete" operands any number.
      const argType: ColumnType = { ...t, min: 0, max: mutator === 'delete' ? Infinity : t.max };
      try {
        return { column, mutator, arg: parseDatum(argJ, argType, namer) };
      } catch (e) {
        if (mutator !== 'delete' || t.value === undefined) throw e;
      }
      // A map's "delete" also takes a set of keys.
      return { column, mutator, arg: parseDatum(argJ, { key: t.key, min: 0, max: Infinity }, namer), keySet: true };
    }
    default:
      throw new OvsdbError('unknown mutator', `No mutator named ${mutator}.`);
  }
}
