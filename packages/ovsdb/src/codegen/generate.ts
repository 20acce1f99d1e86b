/**
 * Typed models from a schema, as libovsdb's modelgen makes Go structs: one TypeScript module
 * per database with a row interface per table, a named union type per enum, a `Tables` map, the
 * schema's name and version, and `model`/`tables`, the converters (see runtime.ts).
 *
 * Output depends only on the schema's content (tables and columns sorted by name), never on
 * the file it came from or the time, so a checked-in module can be compared with a fresh one.
 */
import { compareStrings, type Atom, type AtomicType, type BaseType, type ColumnSchema, type DatabaseSchema, type TableSchema } from '../schema.js';
import { columnSpec } from './runtime.js';

export interface GenerateOptions {
  /** Module the generated code imports the runtime from (default '@ovnts/ovsdb'). */
  readonly importFrom?: string;
  /** The command that regenerates the module, for its header (default: `ovnts db codegen`). */
  readonly regenerate?: string;
}

/** Names the generated module defines or uses, which row and enum types must not take. */
const RESERVED = ['Uuid', 'Tables', 'TableName', 'Readonly', 'Record', 'Partial'];
const WIDTH = 110;

/** `Logical_Switch` → `LogicalSwitch`, `ipv6_ra_configs` → `Ipv6RaConfigs`. */
export function pascalCase(name: string): string {
  return name
    .split('_')
    .filter((p) => p !== '')
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
}

/**
 * A TypeScript string literal for any string (control characters and lone surrogates escaped),
 * quoted as prettier would: single quotes unless the string holds more of them than double quotes.
 */
export function tsString(s: string): string {
  const q = (s.match(/'/g)?.length ?? 0) > (s.match(/"/g)?.length ?? 0) ? '"' : "'";
  const esc = s.replace(/[\\'"\u0000-\u001f\u007f\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (c) => {
    switch (c) {
      case '\\':
        return '\\\\';
      case "'":
      case '"':
        return c === q ? `\\${c}` : c;
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      default:
        return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }
  });
  return q + esc + q;
}

function literal(a: Atom, t: AtomicType, asKey: boolean): string {
  if (t === 'string' || t === 'uuid') return tsString(a as string);
  if (t === 'boolean') return asKey ? `'${String(a)}'` : String(a);
  return String(a);
}

class Names {
  private readonly used = new Set(RESERVED);

  take(base: string, fallback: string): string {
    let name = base;
    if (this.used.has(name)) name = base + fallback;
    for (let n = 2; this.used.has(name); n++) name = `${base}${fallback}${n}`;
    this.used.add(name);
    return name;
  }
}

interface EnumType {
  readonly name: string;
  readonly column: string;
  readonly role: '' | 'key' | 'value';
  readonly members: readonly string[];
}

/** The TypeScript type of one atom of `b`: a named enum, or the atomic type's. */
function atomType(b: BaseType, enumName: string | undefined, asKey: boolean): string {
  if (enumName !== undefined) return enumName;
  switch (b.type) {
    case 'integer':
    case 'real':
      return 'number';
    case 'boolean':
      return asKey ? "'true' | 'false'" : 'boolean';
    case 'string':
      return 'string';
    case 'uuid':
      return 'Uuid';
  }
}

/** Whether enum members would say no more than the plain type (a boolean enum of both values; uuids). */
function enumWorthNaming(b: BaseType, asKey: boolean): boolean {
  if (b.enum === undefined || b.type === 'uuid') return false;
  return !(b.type === 'boolean' && b.enum.length === 2 && !asKey);
}

function range(what: string, lo: number | undefined, hi: number | undefined): string | undefined {
  if (lo !== undefined && hi !== undefined) return lo === hi ? `${what} ${lo}` : `${what} ${lo} to ${hi}`;
  if (lo !== undefined) return `${what} at least ${lo}`;
  if (hi !== undefined) return `${what} at most ${hi}`;
  return undefined;
}

function describeBase(b: BaseType): string | undefined {
  if (b.refTable !== undefined) return `${b.refType === 'weak' ? 'weak' : 'strong'} reference to ${b.refTable}`;
  switch (b.type) {
    case 'integer':
      return range('integer', b.minInteger, b.maxInteger);
    case 'real':
      return range('real', b.minReal, b.maxReal);
    case 'string':
      return range('length', b.minLength, b.maxLength);
    default:
      return undefined;
  }
}

/** A column's constraints in words, for its doc comment (undefined when there is nothing to say). */
export function describeColumn(c: ColumnSchema): string | undefined {
  const t = c.type;
  const parts: string[] = [];
  const k = describeBase(t.key);
  if (t.value !== undefined) {
    if (k !== undefined) parts.push(`key: ${k}`);
    const v = describeBase(t.value);
    if (v !== undefined) parts.push(`value: ${v}`);
  } else if (k !== undefined) {
    parts.push(k);
  }
  if (t.max > 1 && (t.min > 0 || t.max !== Infinity)) {
    parts.push(t.max === Infinity ? `${t.min} or more elements` : t.min === 0 ? `at most ${t.max} elements` : `${t.min} to ${t.max} elements`);
  }
  if (!c.mutable) parts.push('immutable');
  if (c.ephemeral) parts.push('ephemeral');
  return parts.length === 0 ? undefined : parts.join('; ');
}

function sorted<T extends { readonly name: string }>(xs: Iterable<T>): T[] {
  return [...xs].sort((a, b) => compareStrings(a.name, b.name));
}

function unionLines(decl: string, members: readonly string[]): string[] {
  const one = `${decl} = ${members.join(' | ')};`;
  if (one.length <= WIDTH) return [one];
  return [`${decl} =`, ...members.map((m, i) => `  | ${m}${i === members.length - 1 ? ';' : ''}`)];
}

interface TablePlan {
  readonly table: TableSchema;
  readonly typeName: string;
  readonly enums: EnumType[];
  readonly columns: { readonly col: ColumnSchema; readonly tsType: string; readonly doc: string | undefined }[];
}

function planTable(t: TableSchema, typeName: string, names: Names): TablePlan {
  const enums: EnumType[] = [];
  const columns: TablePlan['columns'][number][] = [];
  const enumFor = (col: ColumnSchema, b: BaseType, role: EnumType['role']): string | undefined => {
    const asKey = role === 'key';
    if (!enumWorthNaming(b, asKey)) return undefined;
    const suffix = role === 'key' ? 'Key' : role === 'value' ? 'Value' : '';
    const name = names.take(typeName + pascalCase(col.name) + suffix, 'Enum');
    enums.push({ name, column: col.name, role, members: b.enum!.map((a) => literal(a, b.type, asKey)) });
    return name;
  };
  for (const col of sorted(t.columnList)) {
    const ct = col.type;
    let tsType: string;
    if (ct.value !== undefined) {
      const kName = enumFor(col, ct.key, 'key');
      const vName = enumFor(col, ct.value, 'value');
      const k = atomType(ct.key, kName, true);
      const v = atomType(ct.value, vName, false);
      const finiteKeys = kName !== undefined || ct.key.type === 'boolean';
      tsType = finiteKeys ? `Readonly<Partial<Record<${k}, ${v}>>>` : `Readonly<Record<${k}, ${v}>>`;
    } else {
      const a = atomType(ct.key, enumFor(col, ct.key, ''), false);
      const kind = columnSpec(ct)[0];
      tsType = kind === 'scalar' ? a : kind === 'optional' ? `${a} | undefined` : `readonly ${a}[]`;
    }
    columns.push({ col, tsType, doc: describeColumn(col) });
  }
  return { table: t, typeName, enums, columns };
}

/** The TypeScript module for `schema`. */
export function generateModels(schema: DatabaseSchema, opts: GenerateOptions = {}): string {
  const importFrom = opts.importFrom ?? '@ovnts/ovsdb';
  const regenerate = opts.regenerate ?? 'ovnts db codegen SCHEMA --out FILE';
  const names = new Names();
  const tables = sorted(schema.tables.values());
  // Row types first, so that they keep their natural names if an enum's name would clash.
  const typeNames = tables.map((t) => names.take(pascalCase(t.name), 'Row'));
  const plans = tables.map((t, i) => planTable(t, typeNames[i]!, names));

  const out: string[] = [
    `// Typed rows of ${schema.name} ${schema.version}, generated by \`ovnts db codegen\`. Do not edit.`,
    `// Regenerate: ${regenerate}`,
    `import { defineModel, type Uuid } from ${tsString(importFrom)};`,
    '',
    `export const SCHEMA_NAME = ${tsString(schema.name)};`,
    `export const SCHEMA_VERSION = ${tsString(schema.version)};`,
  ];
  if (schema.cksum !== undefined) out.push(`export const SCHEMA_CKSUM = ${tsString(schema.cksum)};`);

  for (const p of plans) {
    for (const e of p.enums) {
      const of = e.role === '' ? '' : ` (map ${e.role}s)`;
      out.push('', `/** Allowed values of ${p.table.name}.${e.column}${of}. */`, ...unionLines(`export type ${e.name}`, e.members));
    }
    out.push('', `/** A row of ${p.table.name}. */`, `export interface ${p.typeName} {`, '  readonly _uuid: Uuid;', '  readonly _version: Uuid;');
    for (const c of p.columns) {
      if (c.doc !== undefined) out.push(`  /** ${c.doc} */`);
      out.push(`  readonly ${c.col.name}: ${c.tsType};`);
    }
    out.push('}');
  }

  out.push('', '/** Row types by table name. */', 'export interface Tables {');
  for (const p of plans) out.push(`  readonly ${p.table.name}: ${p.typeName};`);
  out.push('}', '', 'export type TableName = keyof Tables;', '');

  out.push('/** Converters between wire rows and typed rows, per table. */', 'export const model = defineModel<Tables>({');
  out.push('  name: SCHEMA_NAME,', '  version: SCHEMA_VERSION,', '  tables: {');
  for (const p of plans) {
    out.push(`    ${p.table.name}: {`);
    for (const c of p.columns) out.push(`      ${c.col.name}: [${columnSpec(c.col.type).map((s) => `'${s}'`).join(', ')}],`);
    out.push('    },');
  }
  out.push('  },', '});', '', 'export const tables = model.tables;', '');
  return out.join('\n');
}
