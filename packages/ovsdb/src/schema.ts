/**
 * Database schemas (RFC 7047 §3.2): parsing, validation, and the normalized JSON form
 * that ovsdb-server returns from get_schema and writes as a file's first record.
 */
import { OvsdbError } from './error.js';

export type AtomicType = 'integer' | 'real' | 'boolean' | 'string' | 'uuid';
export type Atom = number | boolean | string;
export const ATOMIC_TYPES: readonly AtomicType[] = ['integer', 'real', 'boolean', 'string', 'uuid'];

export interface BaseType {
  readonly type: AtomicType;
  /** Allowed values, sorted (canonical order), or undefined when unrestricted. */
  readonly enum?: readonly Atom[];
  readonly minInteger?: number;
  readonly maxInteger?: number;
  readonly minReal?: number;
  readonly maxReal?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly refTable?: string;
  readonly refType?: 'strong' | 'weak';
}

export interface ColumnType {
  readonly key: BaseType;
  readonly value?: BaseType;
  readonly min: number;
  /** Infinity for "unlimited". */
  readonly max: number;
}

export interface ColumnSchema {
  readonly name: string;
  readonly type: ColumnType;
  readonly ephemeral: boolean;
  readonly mutable: boolean;
  /** Position of this column in a row's value array. */
  readonly index: number;
  readonly isMap: boolean;
}

export interface TableSchema {
  readonly name: string;
  readonly columns: ReadonlyMap<string, ColumnSchema>;
  /** User columns in index order (no _uuid/_version). */
  readonly columnList: readonly ColumnSchema[];
  readonly isRoot: boolean;
  readonly maxRows?: number;
  readonly indexes: readonly (readonly ColumnSchema[])[];
  /** Columns that hold references (key or value refTable), precomputed for the commit path. */
  readonly refColumns: readonly ColumnSchema[];
}

export interface DatabaseSchema {
  readonly name: string;
  readonly version: string;
  readonly cksum?: string;
  readonly tables: ReadonlyMap<string, TableSchema>;
  /** Whether isRoot was given anywhere; if not, every table is a root table (RFC 7047 §3.2). */
  readonly explicitRoots: boolean;
}

const ID_RE = /^[_a-zA-Z][_a-zA-Z0-9]*$/;
const VERSION_RE = /^\d+\.\d+\.\d+$/;
const INT_MIN = -(2 ** 63);
const INT_MAX = 2 ** 63 - 1;
const UINT_MAX = 4294967295;

type Json = unknown;

function fail(path: string, msg: string): never {
  throw new OvsdbError('syntax error', `${path}: ${msg}`);
}

function isObject(j: Json): j is Record<string, Json> {
  return typeof j === 'object' && j !== null && !Array.isArray(j);
}

function checkMembers(path: string, obj: Record<string, Json>, allowed: readonly string[]): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) fail(path, `unknown member "${k}"`);
  }
}

/** Compares atoms of one type in OVSDB's canonical order. */
export function compareAtoms(a: Atom, b: Atom): number {
  if (typeof a === 'number') return (a as number) - (b as number);
  if (typeof a === 'boolean') return (a ? 1 : 0) - (b ? 1 : 0);
  return a < (b as string) ? -1 : a > (b as string) ? 1 : 0;
}

function parseAtomForEnum(path: string, type: AtomicType, j: Json): Atom {
  switch (type) {
    case 'integer':
      if (typeof j !== 'number' || !Number.isInteger(j)) fail(path, `expected integer enum value`);
      return j;
    case 'real':
      if (typeof j !== 'number') fail(path, `expected real enum value`);
      return j;
    case 'boolean':
      if (typeof j !== 'boolean') fail(path, `expected boolean enum value`);
      return j;
    case 'string':
      if (typeof j !== 'string') fail(path, `expected string enum value`);
      return j;
    case 'uuid':
      if (!Array.isArray(j) || j[0] !== 'uuid' || typeof j[1] !== 'string') fail(path, `expected uuid enum value`);
      return j[1];
  }
}

function parseNumber(path: string, j: Json, integer: boolean): number {
  if (typeof j !== 'number' || (integer && !Number.isInteger(j))) fail(path, `expected ${integer ? 'integer' : 'number'}`);
  return j;
}

function parseBaseType(path: string, j: Json): BaseType {
  if (typeof j === 'string') {
    if (!ATOMIC_TYPES.includes(j as AtomicType)) fail(path, `unknown atomic type "${j}"`);
    return { type: j as AtomicType };
  }
  if (!isObject(j)) fail(path, 'base type must be a string or an object');
  checkMembers(path, j, ['type', 'enum', 'minInteger', 'maxInteger', 'minReal', 'maxReal', 'minLength', 'maxLength', 'refTable', 'refType']);
  const type = j['type'];
  if (typeof type !== 'string' || !ATOMIC_TYPES.includes(type as AtomicType)) fail(`${path}.type`, `unknown atomic type ${JSON.stringify(type)}`);
  const t = type as AtomicType;
  const base: { -readonly [K in keyof BaseType]: BaseType[K] } = { type: t };
  const only = (member: string, allowedFor: AtomicType): void => {
    if (j[member] !== undefined && t !== allowedFor) fail(path, `"${member}" is not allowed for type ${t}`);
  };
  only('minInteger', 'integer');
  only('maxInteger', 'integer');
  only('minReal', 'real');
  only('maxReal', 'real');
  only('minLength', 'string');
  only('maxLength', 'string');
  only('refTable', 'uuid');
  only('refType', 'uuid');
  if (j['enum'] !== undefined) {
    const e = j['enum'];
    let members: Json[];
    if (Array.isArray(e) && e[0] === 'set') {
      if (e.length !== 2 || !Array.isArray(e[1])) fail(`${path}.enum`, 'malformed set');
      members = e[1] as Json[];
    } else {
      members = [e];
    }
    const atoms = members.map((m, i) => parseAtomForEnum(`${path}.enum[${i}]`, t, m));
    atoms.sort(compareAtoms);
    base.enum = atoms.filter((a, i) => i === 0 || compareAtoms(atoms[i - 1]!, a) !== 0);
  }
  if (j['minInteger'] !== undefined) base.minInteger = parseNumber(`${path}.minInteger`, j['minInteger'], true);
  if (j['maxInteger'] !== undefined) base.maxInteger = parseNumber(`${path}.maxInteger`, j['maxInteger'], true);
  if (base.minInteger !== undefined && base.maxInteger !== undefined && base.minInteger > base.maxInteger) {
    fail(path, `minInteger ${base.minInteger} exceeds maxInteger ${base.maxInteger}`);
  }
  if (j['minReal'] !== undefined) base.minReal = parseNumber(`${path}.minReal`, j['minReal'], false);
  if (j['maxReal'] !== undefined) base.maxReal = parseNumber(`${path}.maxReal`, j['maxReal'], false);
  if (base.minReal !== undefined && base.maxReal !== undefined && base.minReal > base.maxReal) {
    fail(path, `minReal ${base.minReal} exceeds maxReal ${base.maxReal}`);
  }
  if (j['minLength'] !== undefined) base.minLength = parseNumber(`${path}.minLength`, j['minLength'], true);
  if (j['maxLength'] !== undefined) base.maxLength = parseNumber(`${path}.maxLength`, j['maxLength'], true);
  if (base.minLength !== undefined && base.maxLength !== undefined && base.minLength > base.maxLength) {
    fail(path, `minLength ${base.minLength} exceeds maxLength ${base.maxLength}`);
  }
  if (j['refTable'] !== undefined) {
    if (typeof j['refTable'] !== 'string' || !ID_RE.test(j['refTable'])) fail(`${path}.refTable`, 'expected a table name');
    base.refTable = j['refTable'];
    base.refType = 'strong';
  }
  if (j['refType'] !== undefined) {
    if (j['refType'] !== 'strong' && j['refType'] !== 'weak') fail(`${path}.refType`, 'must be "strong" or "weak"');
    if (base.refTable === undefined) fail(path, 'refType given without refTable');
    base.refType = j['refType'];
  }
  return base;
}

function parseColumnType(path: string, j: Json): ColumnType {
  if (typeof j === 'string') return { key: parseBaseType(path, j), min: 1, max: 1 };
  if (!isObject(j)) fail(path, 'column type must be a string or an object');
  checkMembers(path, j, ['key', 'value', 'min', 'max']);
  if (j['key'] === undefined) fail(path, 'missing "key"');
  const key = parseBaseType(`${path}.key`, j['key']);
  const value = j['value'] === undefined ? undefined : parseBaseType(`${path}.value`, j['value']);
  let min = 1;
  if (j['min'] !== undefined) {
    const m = j['min'];
    if (typeof m !== 'number' || !Number.isInteger(m) || (m !== 0 && m !== 1)) fail(`${path}.min`, 'must be 0 or 1');
    min = m;
  }
  let max = 1;
  if (j['max'] !== undefined) {
    const m = j['max'];
    if (m === 'unlimited') max = Infinity;
    else if (typeof m === 'number' && Number.isInteger(m) && m >= 1) max = m;
    else fail(`${path}.max`, 'must be a positive integer or "unlimited"');
  }
  if (min > max) fail(path, `min ${min} exceeds max ${max}`);
  return value === undefined ? { key, min, max } : { key, value, min, max };
}

function parseTable(dbPath: string, name: string, j: Json, explicitRoots: boolean): TableSchema {
  const path = `${dbPath}.tables.${name}`;
  if (!ID_RE.test(name) || name.startsWith('_')) fail(path, `invalid table name "${name}"`);
  if (!isObject(j)) fail(path, 'table must be an object');
  checkMembers(path, j, ['columns', 'isRoot', 'maxRows', 'indexes']);
  const cols = j['columns'];
  if (!isObject(cols) || Object.keys(cols).length === 0) fail(`${path}.columns`, 'table must have at least one column');
  const columns = new Map<string, ColumnSchema>();
  const columnList: ColumnSchema[] = [];
  for (const [cname, cj] of Object.entries(cols)) {
    const cpath = `${path}.columns.${cname}`;
    if (!ID_RE.test(cname) || cname.startsWith('_')) fail(cpath, `invalid column name "${cname}"`);
    if (!isObject(cj)) fail(cpath, 'column must be an object');
    checkMembers(cpath, cj, ['type', 'ephemeral', 'mutable']);
    if (cj['type'] === undefined) fail(cpath, 'missing "type"');
    const type = parseColumnType(`${cpath}.type`, cj['type']);
    const eph = cj['ephemeral'];
    const mut = cj['mutable'];
    if (eph !== undefined && typeof eph !== 'boolean') fail(`${cpath}.ephemeral`, 'must be a boolean');
    if (mut !== undefined && typeof mut !== 'boolean') fail(`${cpath}.mutable`, 'must be a boolean');
    const col: ColumnSchema = {
      name: cname,
      type,
      ephemeral: eph === true,
      mutable: mut !== false,
      index: columnList.length,
      isMap: type.value !== undefined,
    };
    columns.set(cname, col);
    columnList.push(col);
  }
  const isRootJ = j['isRoot'];
  if (isRootJ !== undefined && typeof isRootJ !== 'boolean') fail(`${path}.isRoot`, 'must be a boolean');
  let maxRows: number | undefined;
  if (j['maxRows'] !== undefined) {
    const m = j['maxRows'];
    if (typeof m !== 'number' || !Number.isInteger(m) || m < 1 || m > UINT_MAX) fail(`${path}.maxRows`, 'must be a positive integer');
    maxRows = m;
  }
  const indexes: ColumnSchema[][] = [];
  if (j['indexes'] !== undefined) {
    const ix = j['indexes'];
    if (!Array.isArray(ix)) fail(`${path}.indexes`, 'must be an array');
    ix.forEach((one, i) => {
      if (!Array.isArray(one) || one.length === 0) fail(`${path}.indexes[${i}]`, 'index must be a non-empty array of column names');
      indexes.push(
        one.map((cn) => {
          const c = typeof cn === 'string' ? columns.get(cn) : undefined;
          if (!c) fail(`${path}.indexes[${i}]`, `index refers to unknown column ${JSON.stringify(cn)}`);
          if (c.ephemeral) fail(`${path}.indexes[${i}]`, `ephemeral column "${c.name}" may not be indexed`);
          return c;
        }),
      );
    });
  }
  const isRoot = explicitRoots ? isRootJ === true : true;
  const base = {
    name,
    columns,
    columnList,
    isRoot,
    indexes,
    refColumns: columnList.filter((c) => c.type.key.refTable !== undefined || c.type.value?.refTable !== undefined),
  };
  return maxRows === undefined ? base : { ...base, maxRows };
}

/** Parses and validates a schema given as parsed JSON. Throws OvsdbError with a JSON-path-like location. */
export function parseSchema(j: Json): DatabaseSchema {
  if (!isObject(j)) fail('schema', 'must be a JSON object');
  checkMembers('schema', j, ['name', 'version', 'cksum', 'tables', 'doc']);
  const name = j['name'];
  if (typeof name !== 'string' || !ID_RE.test(name)) fail('schema.name', 'must be an identifier');
  const version = j['version'];
  if (typeof version !== 'string' || !VERSION_RE.test(version)) fail('schema.version', 'must be of the form x.y.z');
  const cksum = j['cksum'];
  if (cksum !== undefined && typeof cksum !== 'string') fail('schema.cksum', 'must be a string');
  const tablesJ = j['tables'];
  if (!isObject(tablesJ)) fail('schema.tables', 'must be an object');
  const explicitRoots = Object.values(tablesJ).some((t) => isObject(t) && t['isRoot'] !== undefined);
  const tables = new Map<string, TableSchema>();
  for (const [tname, tj] of Object.entries(tablesJ)) tables.set(tname, parseTable(name, tname, tj, explicitRoots));
  for (const t of tables.values()) {
    for (const c of t.refColumns) {
      for (const b of [c.type.key, c.type.value]) {
        if (b?.refTable !== undefined && !tables.has(b.refTable)) {
          fail(`${name}.tables.${t.name}.columns.${c.name}`, `refTable "${b.refTable}" is not a table in the schema`);
        }
      }
    }
  }
  const base = { name, version, tables, explicitRoots };
  return cksum === undefined ? base : { ...base, cksum };
}

export function parseSchemaText(text: string): DatabaseSchema {
  let j: Json;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new OvsdbError('syntax error', `schema is not valid JSON: ${(e as Error).message}`);
  }
  return parseSchema(j);
}

function atomToJson(t: AtomicType, a: Atom): Json {
  return t === 'uuid' ? ['uuid', a] : a;
}

function baseTypeToJson(b: BaseType): Json {
  const simple =
    b.enum === undefined &&
    b.minInteger === undefined &&
    b.maxInteger === undefined &&
    b.minReal === undefined &&
    b.maxReal === undefined &&
    b.minLength === undefined &&
    b.maxLength === undefined &&
    b.refTable === undefined;
  if (simple) return b.type;
  const o: Record<string, Json> = { type: b.type };
  if (b.enum !== undefined) {
    o['enum'] = b.enum.length === 1 ? atomToJson(b.type, b.enum[0]!) : ['set', b.enum.map((a) => atomToJson(b.type, a))];
  }
  if (b.minInteger !== undefined && b.minInteger !== INT_MIN) o['minInteger'] = b.minInteger;
  if (b.maxInteger !== undefined && b.maxInteger !== INT_MAX) o['maxInteger'] = b.maxInteger;
  if (b.minReal !== undefined) o['minReal'] = b.minReal;
  if (b.maxReal !== undefined) o['maxReal'] = b.maxReal;
  if (b.minLength !== undefined && b.minLength !== 0) o['minLength'] = b.minLength;
  if (b.maxLength !== undefined && b.maxLength !== UINT_MAX) o['maxLength'] = b.maxLength;
  if (b.refTable !== undefined) {
    o['refTable'] = b.refTable;
    if (b.refType === 'weak') o['refType'] = 'weak';
  }
  return o;
}

export function columnTypeToJson(t: ColumnType): Json {
  if (t.value === undefined && t.min === 1 && t.max === 1) {
    const k = baseTypeToJson(t.key);
    if (typeof k === 'string') return k;
    return { key: k };
  }
  const o: Record<string, Json> = { key: baseTypeToJson(t.key) };
  if (t.value !== undefined) o['value'] = baseTypeToJson(t.value);
  if (t.min !== 1) o['min'] = t.min;
  if (t.max !== 1) o['max'] = t.max === Infinity ? 'unlimited' : t.max;
  return o;
}

/** The normalized JSON form of a schema, as ovsdb-server prints it for get_schema. */
export function schemaToJson(s: DatabaseSchema): Record<string, Json> {
  const tables: Record<string, Json> = {};
  for (const t of s.tables.values()) {
    const columns: Record<string, Json> = {};
    for (const c of t.columnList) {
      const cj: Record<string, Json> = { type: columnTypeToJson(c.type) };
      if (c.ephemeral) cj['ephemeral'] = true;
      if (!c.mutable) cj['mutable'] = false;
      columns[c.name] = cj;
    }
    const tj: Record<string, Json> = { columns };
    if (t.isRoot) tj['isRoot'] = true;
    if (t.maxRows !== undefined) tj['maxRows'] = t.maxRows;
    if (t.indexes.length > 0) tj['indexes'] = t.indexes.map((ix) => ix.map((c) => c.name));
    tables[t.name] = tj;
  }
  const o: Record<string, Json> = { name: s.name, version: s.version };
  if (s.cksum !== undefined) o['cksum'] = s.cksum;
  o['tables'] = tables;
  return o;
}

/** Looks a table up, failing the way ovsdb-server does for an unknown one. */
export function getTable(s: DatabaseSchema, name: unknown): TableSchema {
  if (typeof name !== 'string') throw new OvsdbError('syntax error', `table name must be a string`);
  const t = s.tables.get(name);
  if (!t) throw new OvsdbError('syntax error', `No table named ${name}.`);
  return t;
}
