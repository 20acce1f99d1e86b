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
  /**
   * Unique indexes the engine enforces. An index that includes _uuid or _version is unique by
   * construction, so it appears only in `indexNames`.
   */
  readonly indexes: readonly (readonly ColumnSchema[])[];
  /** Every index as the schema lists it (column names, possibly _uuid/_version); for schemaToJson. */
  readonly indexNames?: readonly (readonly string[])[];
  /** Columns that hold references (key or value refTable), precomputed for the commit path. */
  readonly refColumns: readonly ColumnSchema[];
}

export interface DatabaseSchema {
  readonly name: string;
  readonly version: string;
  readonly cksum?: string;
  readonly tables: ReadonlyMap<string, TableSchema>;
  /**
   * Whether some table has `"isRoot": true`. If none does, every table is a root table, as in
   * ovsdb-server (schemas from before isRoot existed had no garbage collection).
   */
  readonly explicitRoots: boolean;
}

const ID_RE = /^[_a-zA-Z][_a-zA-Z0-9]*$/;
const VERSION_RE = /^\d+\.\d+\.\d+$/;
const INT_MIN = -(2 ** 63);
const INT_MAX = 2 ** 63 - 1;
const UINT_MAX = 4294967295;
const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

type Json = unknown;

function fail(path: string, msg: string): never {
  throw new OvsdbError('syntax error', `${path}: ${msg}`);
}

function isObject(j: Json): j is Record<string, Json> {
  return typeof j === 'object' && j !== null && !Array.isArray(j);
}

function checkMembers(path: string, obj: Record<string, Json>, allowed: readonly string[]): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) fail(path, `Member '${k}' is present but not allowed here.`);
  }
}

/** Compares atoms of one type in OVSDB's canonical order (strings: by code point, as strcmp on UTF-8). */
export function compareAtoms(a: Atom, b: Atom): number {
  if (typeof a === 'number') return (a as number) - (b as number);
  if (typeof a === 'boolean') return (a ? 1 : 0) - (b ? 1 : 0);
  return compareStrings(a, b as string);
}

/**
 * Code point order. UTF-16 code unit order (JavaScript's `<`) differs from it only where a
 * surrogate meets a unit in U+E000..U+FFFF, so those are remapped before comparing.
 */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

function parseAtomForEnum(path: string, type: AtomicType, j: Json): Atom {
  switch (type) {
    case 'integer':
      if (typeof j !== 'number' || !Number.isInteger(j)) fail(path, `expected integer`);
      return j;
    case 'real':
      if (typeof j !== 'number') fail(path, `expected real`);
      return j;
    case 'boolean':
      if (typeof j !== 'boolean') fail(path, `expected boolean`);
      return j;
    case 'string':
      if (typeof j !== 'string') fail(path, `expected string`);
      return j;
    case 'uuid':
      if (!Array.isArray(j) || j.length !== 2 || j[0] !== 'uuid' || typeof j[1] !== 'string') fail(path, `expected uuid`);
      if (!UUID_RE.test(j[1])) fail(path, `"${j[1]}" is not a valid UUID`);
      return j[1].toLowerCase();
  }
}

function parseInteger(path: string, j: Json, lo: number, hi: number): number {
  if (typeof j !== 'number' || !Number.isInteger(j)) fail(path, 'Type mismatch: expected an integer');
  if (j < lo || j > hi) fail(path, `out of valid range ${lo} to ${hi}`);
  return j;
}

function parseReal(path: string, j: Json): number {
  if (typeof j !== 'number') fail(path, 'Type mismatch: expected a number');
  return j;
}

/** Members a base type of each atomic type may have besides "type" (none when "enum" is given). */
const BASE_MEMBERS: Record<AtomicType, readonly string[]> = {
  integer: ['minInteger', 'maxInteger'],
  real: ['minReal', 'maxReal'],
  boolean: [],
  string: ['minLength', 'maxLength'],
  uuid: ['refTable', 'refType'],
};

function parseBaseType(path: string, j: Json): BaseType {
  if (typeof j === 'string') {
    if (!ATOMIC_TYPES.includes(j as AtomicType)) fail(path, `"${j}" is not an atomic-type`);
    return { type: j as AtomicType };
  }
  if (!isObject(j)) fail(path, 'base type must be a string or an object');
  const type = j['type'];
  if (type === undefined) fail(path, `Required 'type' member is missing.`);
  if (typeof type !== 'string' || !ATOMIC_TYPES.includes(type as AtomicType)) fail(`${path}.type`, `${JSON.stringify(type)} is not an atomic-type`);
  const t = type as AtomicType;
  // As in ovsdb-server, "enum" excludes every other constraint.
  checkMembers(path, j, j['enum'] !== undefined ? ['type', 'enum'] : ['type', ...BASE_MEMBERS[t]]);
  const base: { -readonly [K in keyof BaseType]: BaseType[K] } = { type: t };
  if (j['enum'] !== undefined) {
    const e = j['enum'];
    let members: Json[];
    if (Array.isArray(e) && e[0] === 'set') {
      if (e.length !== 2 || !Array.isArray(e[1])) fail(`${path}.enum`, 'expected ["set", <array>]');
      members = e[1] as Json[];
      if (members.length === 0) fail(`${path}.enum`, 'set must have 1 to 4294967295 members but 0 are present');
    } else {
      members = [e];
    }
    const atoms = members.map((m, i) => parseAtomForEnum(`${path}.enum[${i}]`, t, m));
    atoms.sort(compareAtoms);
    for (let i = 1; i < atoms.length; i++) {
      if (compareAtoms(atoms[i - 1]!, atoms[i]!) === 0) fail(`${path}.enum`, 'set contains duplicate');
    }
    base.enum = atoms;
    return base;
  }
  switch (t) {
    case 'integer': {
      const lo = j['minInteger'] === undefined ? INT_MIN : parseInteger(`${path}.minInteger`, j['minInteger'], INT_MIN, INT_MAX);
      const hi = j['maxInteger'] === undefined ? INT_MAX : parseInteger(`${path}.maxInteger`, j['maxInteger'], INT_MIN, INT_MAX);
      if (lo > hi) fail(path, `minInteger exceeds maxInteger`);
      if (lo !== INT_MIN) base.minInteger = lo;
      if (hi !== INT_MAX) base.maxInteger = hi;
      break;
    }
    case 'real': {
      const lo = j['minReal'] === undefined ? -Number.MAX_VALUE : parseReal(`${path}.minReal`, j['minReal']);
      const hi = j['maxReal'] === undefined ? Number.MAX_VALUE : parseReal(`${path}.maxReal`, j['maxReal']);
      if (lo > hi) fail(path, `minReal exceeds maxReal`);
      if (lo !== -Number.MAX_VALUE) base.minReal = lo;
      if (hi !== Number.MAX_VALUE) base.maxReal = hi;
      break;
    }
    case 'string': {
      const lo = j['minLength'] === undefined ? 0 : parseInteger(`${path}.minLength`, j['minLength'], 0, UINT_MAX);
      const hi = j['maxLength'] === undefined ? UINT_MAX : parseInteger(`${path}.maxLength`, j['maxLength'], 0, UINT_MAX);
      if (lo > hi) fail(path, `minLength exceeds maxLength`);
      if (lo !== 0) base.minLength = lo;
      if (hi !== UINT_MAX) base.maxLength = hi;
      break;
    }
    case 'uuid':
      if (j['refTable'] !== undefined) {
        if (typeof j['refTable'] !== 'string' || !ID_RE.test(j['refTable'])) fail(`${path}.refTable`, `Type mismatch for member 'refTable'.`);
        base.refTable = j['refTable'];
        const rt = j['refType'] ?? 'strong';
        if (rt !== 'strong' && rt !== 'weak') fail(`${path}.refType`, `refType must be "strong" or "weak" (not ${JSON.stringify(rt)})`);
        base.refType = rt;
      } else if (j['refType'] !== undefined) {
        fail(path, `Member 'refType' is present but not allowed here.`);
      }
      break;
    case 'boolean':
      break;
  }
  return base;
}

function parseColumnType(path: string, j: Json): ColumnType {
  if (typeof j === 'string') return { key: parseBaseType(path, j), min: 1, max: 1 };
  if (!isObject(j)) fail(path, 'column type must be a string or an object');
  checkMembers(path, j, ['key', 'value', 'min', 'max']);
  if (j['key'] === undefined) fail(path, `Required 'key' member is missing.`);
  const key = parseBaseType(`${path}.key`, j['key']);
  const value = j['value'] === undefined ? undefined : parseBaseType(`${path}.value`, j['value']);
  let min = 1;
  if (j['min'] !== undefined) {
    const m = j['min'];
    if (typeof m !== 'number' || !Number.isInteger(m)) fail(`${path}.min`, `Type mismatch for member 'min'.`);
    if (m < 0 || m >= UINT_MAX) fail(`${path}.min`, 'bad min or max value');
    min = m;
  }
  let max = 1;
  if (j['max'] !== undefined) {
    const m = j['max'];
    if (m === 'unlimited') max = Infinity;
    else if (typeof m === 'number' && Number.isInteger(m) && m >= 0 && m < UINT_MAX) max = m;
    else fail(`${path}.max`, 'bad min or max value');
  }
  // ovsdb-server: "ovsdb type fails constraint checks".
  if (min > 1) fail(path, `min must be 0 or 1, not ${min}`);
  if (max < 1) fail(path, `max must be at least 1`);
  if (min > max) fail(path, `min ${min} exceeds max ${max}`);
  return value === undefined ? { key, min, max } : { key, value, min, max };
}

function parseTable(dbPath: string, name: string, j: Json, explicitRoots: boolean): TableSchema {
  const path = `${dbPath}.tables.${name}`;
  if (name.startsWith('_')) fail(path, 'names beginning with "_" are reserved');
  if (!ID_RE.test(name)) fail(path, `table name "${name}" is not a valid identifier`);
  if (!isObject(j)) fail(path, 'table must be an object');
  checkMembers(path, j, ['columns', 'isRoot', 'maxRows', 'indexes']);
  const cols = j['columns'];
  if (cols === undefined) fail(path, `Required 'columns' member is missing.`);
  if (!isObject(cols)) fail(`${path}.columns`, `Type mismatch for member 'columns'.`);
  if (Object.keys(cols).length === 0) fail(`${path}.columns`, 'table must have at least one column');
  const columns = new Map<string, ColumnSchema>();
  const columnList: ColumnSchema[] = [];
  for (const [cname, cj] of Object.entries(cols)) {
    const cpath = `${path}.columns.${cname}`;
    if (cname.startsWith('_')) fail(cpath, 'names beginning with "_" are reserved');
    if (!ID_RE.test(cname)) fail(cpath, `column name "${cname}" is not a valid identifier`);
    if (!isObject(cj)) fail(cpath, 'column must be an object');
    checkMembers(cpath, cj, ['type', 'ephemeral', 'mutable']);
    if (cj['type'] === undefined) fail(cpath, `Required 'type' member is missing.`);
    const type = parseColumnType(`${cpath}.type`, cj['type']);
    const eph = cj['ephemeral'];
    const mut = cj['mutable'];
    if (eph !== undefined && typeof eph !== 'boolean') fail(`${cpath}.ephemeral`, `Type mismatch for member 'ephemeral'.`);
    if (mut !== undefined && typeof mut !== 'boolean') fail(`${cpath}.mutable`, `Type mismatch for member 'mutable'.`);
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
  if (isRootJ !== undefined && typeof isRootJ !== 'boolean') fail(`${path}.isRoot`, `Type mismatch for member 'isRoot'.`);
  let maxRows: number | undefined;
  if (j['maxRows'] !== undefined) {
    const m = j['maxRows'];
    if (typeof m !== 'number' || !Number.isInteger(m)) fail(`${path}.maxRows`, `Type mismatch for member 'maxRows'.`);
    if (m < 1) fail(`${path}.maxRows`, 'maxRows must be at least 1');
    if (m > UINT_MAX) fail(`${path}.maxRows`, `maxRows must be at most ${UINT_MAX}`);
    if (m !== UINT_MAX) maxRows = m; // UINT_MAX is ovsdb-server's "no limit"
  }
  const indexes: ColumnSchema[][] = [];
  const indexNames: string[][] = [];
  if (j['indexes'] !== undefined) {
    const ix = j['indexes'];
    if (!Array.isArray(ix)) fail(`${path}.indexes`, `Type mismatch for member 'indexes'.`);
    ix.forEach((one, i) => {
      const ipath = `${path}.indexes[${i}]`;
      if (!Array.isArray(one)) fail(ipath, 'array of distinct column names expected');
      if (one.length === 0) fail(ipath, 'index must have at least one column');
      const names: string[] = [];
      const cols: ColumnSchema[] = [];
      for (const cn of one) {
        if (typeof cn !== 'string' || names.includes(cn)) fail(ipath, 'array of distinct column names expected');
        names.push(cn);
        if (cn === '_uuid' || cn === '_version') continue;
        const c = columns.get(cn);
        if (!c) fail(ipath, `${cn} is not a valid column name`);
        if (c.ephemeral) fail(ipath, `ephemeral columns (such as ${cn}) may not be indexed`);
        cols.push(c);
      }
      indexNames.push(names);
      // _uuid (and _version, fresh per row) make an index unique by construction: nothing to enforce.
      if (cols.length === names.length) indexes.push(cols);
    });
  }
  const isRoot = explicitRoots ? isRootJ === true : true;
  const base = {
    name,
    columns,
    columnList,
    isRoot,
    indexes,
    indexNames,
    refColumns: columnList.filter((c) => c.type.key.refTable !== undefined || c.type.value?.refTable !== undefined),
  };
  return maxRows === undefined ? base : { ...base, maxRows };
}

/** Parses and validates a schema given as parsed JSON. Throws OvsdbError with a JSON-path-like location. */
export function parseSchema(j: Json): DatabaseSchema {
  if (!isObject(j)) fail('schema', 'must be a JSON object');
  // ovsdb-server 3.1 accepts no "doc" member here (nor in tables or columns).
  checkMembers('schema', j, ['name', 'version', 'cksum', 'tables']);
  const name = j['name'];
  if (name === undefined) fail('schema', `Required 'name' member is missing.`);
  if (typeof name !== 'string' || !ID_RE.test(name)) fail('schema.name', `Type mismatch for member 'name'.`);
  const version = j['version'];
  if (version === undefined) fail('schema', `Required 'version' member is missing.`);
  if (typeof version !== 'string' || !VERSION_RE.test(version)) fail('schema.version', `schema version ${JSON.stringify(version)} not in format x.y.z`);
  const cksum = j['cksum'];
  if (cksum !== undefined && typeof cksum !== 'string') fail('schema.cksum', `Type mismatch for member 'cksum'.`);
  const tablesJ = j['tables'];
  if (tablesJ === undefined) fail('schema', `Required 'tables' member is missing.`);
  if (!isObject(tablesJ)) fail('schema.tables', `Type mismatch for member 'tables'.`);
  // If no table is marked as a root, all are (ovsdb-server's rule for pre-isRoot schemas).
  const explicitRoots = Object.values(tablesJ).some((t) => isObject(t) && t['isRoot'] === true);
  const tables = new Map<string, TableSchema>();
  for (const [tname, tj] of Object.entries(tablesJ)) tables.set(tname, parseTable(name, tname, tj, explicitRoots));
  for (const t of tables.values()) {
    for (const c of t.refColumns) {
      for (const b of [c.type.key, c.type.value]) {
        if (b?.refTable !== undefined && !tables.has(b.refTable)) {
          fail(`${name}.tables.${t.name}.columns.${c.name}`, `column ${c.name} ${b === c.type.key ? 'key' : 'value'} refers to undefined table ${b.refTable}`);
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
  if (b.minInteger !== undefined) o['minInteger'] = b.minInteger;
  if (b.maxInteger !== undefined) o['maxInteger'] = b.maxInteger;
  if (b.minReal !== undefined) o['minReal'] = b.minReal;
  if (b.maxReal !== undefined) o['maxReal'] = b.maxReal;
  if (b.minLength !== undefined) o['minLength'] = b.minLength;
  if (b.maxLength !== undefined) o['maxLength'] = b.maxLength;
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
  // Like ovsdb-server: "isRoot" is printed only when some tables are roots and some are not.
  const allRoots = [...s.tables.values()].every((t) => t.isRoot);
  for (const t of s.tables.values()) {
    const columns: Record<string, Json> = {};
    for (const c of t.columnList) {
      const cj: Record<string, Json> = { type: columnTypeToJson(c.type) };
      if (c.ephemeral) cj['ephemeral'] = true;
      if (!c.mutable) cj['mutable'] = false;
      columns[c.name] = cj;
    }
    const tj: Record<string, Json> = { columns };
    if (t.isRoot && !allRoots) tj['isRoot'] = true;
    if (t.maxRows !== undefined) tj['maxRows'] = t.maxRows;
    const indexes = t.indexNames ?? t.indexes.map((ix) => ix.map((c) => c.name));
    if (indexes.length > 0) tj['indexes'] = indexes;
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
