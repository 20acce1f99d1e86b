/**
 * The database commands every ctl tool has (OVS's db-ctl-base): comment, get, list, find,
 * set, add, remove, clear, create, destroy, wait-until.
 */
import { datumDifference, datumUnion, findKey, compareAtoms, type Datum, type MapDatum, type Pair, type ColumnSchema, type TableSchema } from './ovsdb.js';
import { checkCondition, checkMutable, parseColumnKeyValue, parseColumnNames, preParseColumn } from './column-args.js';
import { atomFromString, atomToString, datumFromString, datumToString, relaxedType } from './datum-text.js';
import type { ViewRow } from './db-txn.js';
import { CtlError, fail } from './errors.js';
import { findColumn, findTable } from './names.js';
import { getRow } from './rows.js';
import { Table, type Cell } from './table-output.js';
import type { CommandContext, CommandSpec, PreContext } from './tool.js';

const UUID_TYPE = { key: { type: 'uuid' as const }, min: 1, max: 1 };

function isUuidArg(a: string): boolean {
  const l = a.toLowerCase();
  return l === '_uuid' || l === '-uuid';
}

function preTable(ctx: PreContext, name: string): TableSchema {
  const t = findTable(ctx.schema, name);
  ctx.need(t);
  return t;
}

function table(ctx: CommandContext, name: string): TableSchema {
  return findTable(ctx.schema, name);
}

function mustExist(ctx: CommandContext): boolean {
  return !ctx.options.has('--if-exists');
}

/** Sets one column from `COLUMN[:KEY]=VALUE`. */
export function setColumn(ctx: CommandContext, t: TableSchema, row: ViewRow, arg: string): void {
  const { column, key, value } = parseColumnKeyValue(arg, t, ['=']);
  if (value === undefined) fail(`${arg}: missing value`);
  checkMutable(row, column);
  if (key !== undefined) {
    if (column.type.value === undefined) fail(`cannot specify key to set for non-map column ${column.name}`);
    const k = atomFromString(column.type.key, key, ctx.symtab).atom;
    const v = atomFromString(column.type.value, value, ctx.symtab).atom;
    const old = row.get(column.name) as MapDatum;
    const kept = old.filter((p) => compareAtoms(p[0], k) !== 0);
    const next: Pair[] = [...kept, [k, v] as const].sort((a, b) => compareAtoms(a[0], b[0]));
    ctx.txn.writePartial(row, column.name, next);
  } else {
    ctx.txn.write(row, column.name, datumFromString(column.type, value, ctx.symtab));
  }
}

function listRecord(row: ViewRow, columns: readonly (ColumnSchema | null)[], out: Table): void {
  out.addRow(columns.map((c): Cell => (c ? { datum: row.get(c.name), type: c.type } : { datum: [row.uuid], type: UUID_TYPE })));
}

function headings(columns: readonly (ColumnSchema | null)[]): string[] {
  return columns.map((c) => (c ? c.name : '_uuid'));
}

const comment: CommandSpec = { name: 'comment', minArgs: 0, maxArgs: Infinity, args: '[ARG]...', options: '', mode: 'RO', run: () => undefined };

const get: CommandSpec = {
  name: 'get',
  minArgs: 2,
  maxArgs: Infinity,
  args: 'TABLE RECORD [COLUMN[:KEY]]...',
  options: '--if-exists,--id=',
  mode: 'RO',
  pre(ctx) {
    if (!ctx.options.get('--id') && ctx.argv.length <= 3 && process.stdout.isTTY) {
      ctx.log.warn('db_ctl_base', '"get" command without row arguments or "--id" is possibly erroneous');
    }
    const t = preTable(ctx, ctx.argv[1]!);
    for (const a of ctx.argv.slice(3)) if (!isUuidArg(a)) preParseColumn(a, t);
  },
  run(ctx) {
    const id = ctx.options.get('--id') ?? undefined;
    const must = mustExist(ctx);
    if (id !== undefined && !must) fail('--if-exists and --id may not be specified together');
    const t = table(ctx, ctx.argv[1]!);
    const recordId = ctx.argv[2]!;
    const row = getRow(ctx.txn, ctx.tool, t, recordId, must);
    if (!row) return;
    if (id !== undefined) {
      if (!id.startsWith('@')) fail(`row id "${id}" does not begin with "@"`);
      const isNew = ctx.symtab.get(id) === undefined;
      const sym = ctx.symtab.insert(id);
      if (sym.created) fail(`row id "${id}" may only be specified on one --id option`);
      sym.created = true;
      if (!isNew) fail(`row id "${id}" specified on "get" command was used before it was defined`);
      sym.uuid = row.uuid;
      sym.strongRef = true;
    }
    for (const a of ctx.argv.slice(3)) {
      if (isUuidArg(a)) {
        ctx.output += `${row.uuid}\n`;
        continue;
      }
      const { column, key } = parseColumnKeyValue(a, t);
      ctx.txn.verify(row, column.name);
      const datum = row.get(column.name);
      if (key !== undefined) {
        if (column.type.value === undefined) fail(`cannot specify key to get for non-map column ${column.name}`);
        const k = atomFromString(column.type.key, key, ctx.symtab).atom;
        const i = findKey(datum as MapDatum, k);
        if (i < 0) {
          if (must) fail(`no key "${key}" in ${t.name} record "${recordId}" column ${column.name}`);
        } else {
          ctx.output += atomToString((datum as MapDatum)[i]![1], column.type.value.type);
        }
      } else {
        ctx.output += datumToString(datum, column.type);
      }
      ctx.output += '\n';
    }
  },
};

const list: CommandSpec = {
  name: 'list',
  minArgs: 1,
  maxArgs: Infinity,
  args: 'TABLE [RECORD]...',
  options: '--if-exists,--columns=',
  mode: 'RO',
  pre(ctx) {
    const t = preTable(ctx, ctx.argv[1]!);
    parseColumnNames(ctx.options.get('--columns'), t);
  },
  run(ctx) {
    const t = table(ctx, ctx.argv[1]!);
    const columns = parseColumnNames(ctx.options.get('--columns'), t);
    const out = (ctx.table = new Table(headings(columns)));
    if (ctx.argv.length > 2) {
      for (const rid of ctx.argv.slice(2)) {
        const row = getRow(ctx.txn, ctx.tool, t, rid, mustExist(ctx));
        if (row) listRecord(row, columns, out);
      }
    } else {
      for (const row of ctx.txn.rows(t.name)) listRecord(row, columns, out);
    }
  },
};

const find: CommandSpec = {
  name: 'find',
  minArgs: 1,
  maxArgs: Infinity,
  args: 'TABLE [COLUMN[:KEY]=VALUE]...',
  options: '--columns=',
  mode: 'RO',
  pre(ctx) {
    const t = preTable(ctx, ctx.argv[1]!);
    parseColumnNames(ctx.options.get('--columns'), t);
    for (const a of ctx.argv.slice(2)) preParseColumn(a, t);
  },
  run(ctx) {
    const t = table(ctx, ctx.argv[1]!);
    const columns = parseColumnNames(ctx.options.get('--columns'), t);
    const out = (ctx.table = new Table(headings(columns)));
    for (const row of ctx.txn.rows(t.name)) {
      if (ctx.argv.slice(2).every((a) => checkCondition(t, row, a, ctx.symtab))) listRecord(row, columns, out);
    }
  },
};

function preTableAndColumns(ctx: PreContext, from: number): void {
  const t = preTable(ctx, ctx.argv[1]!);
  for (const a of ctx.argv.slice(from)) preParseColumn(a, t);
}

const set: CommandSpec = {
  name: 'set',
  minArgs: 3,
  maxArgs: Infinity,
  args: 'TABLE RECORD COLUMN[:KEY]=VALUE...',
  options: '--if-exists',
  mode: 'RW',
  pre: (ctx) => preTableAndColumns(ctx, 3),
  run(ctx) {
    const t = table(ctx, ctx.argv[1]!);
    const row = getRow(ctx.txn, ctx.tool, t, ctx.argv[2]!, mustExist(ctx));
    if (!row) return;
    for (const a of ctx.argv.slice(3)) setColumn(ctx, t, row, a);
  },
};

function preTableColumn(ctx: PreContext): void {
  const t = preTable(ctx, ctx.argv[1]!);
  findColumn(t, ctx.argv[3]!);
}

const add: CommandSpec = {
  name: 'add',
  minArgs: 4,
  maxArgs: Infinity,
  args: 'TABLE RECORD COLUMN [KEY=]VALUE...',
  options: '--if-exists',
  mode: 'RW',
  pre: preTableColumn,
  run(ctx) {
    const t = table(ctx, ctx.argv[1]!);
    const column = findColumn(t, ctx.argv[3]!);
    const row = getRow(ctx.txn, ctx.tool, t, ctx.argv[2]!, mustExist(ctx));
    if (!row) return;
    checkMutable(row, column);
    let value = row.get(column.name);
    const addType = relaxedType(column.type, 1, Infinity);
    for (const a of ctx.argv.slice(4)) value = datumUnion(value, datumFromString(addType, a, ctx.symtab), column.isMap);
    ctx.txn.writePartial(row, column.name, value);
  },
};

const remove: CommandSpec = {
  name: 'remove',
  minArgs: 4,
  maxArgs: Infinity,
  args: 'TABLE RECORD COLUMN KEY|VALUE|KEY=VALUE...',
  options: '--if-exists',
  mode: 'RW',
  pre: preTableColumn,
  run(ctx) {
    const t = table(ctx, ctx.argv[1]!);
    const column = findColumn(t, ctx.argv[3]!);
    const row = getRow(ctx.txn, ctx.tool, t, ctx.argv[2]!, mustExist(ctx));
    if (!row) return;
    checkMutable(row, column);
    const type = column.type;
    let value: Datum = row.get(column.name);
    for (const a of ctx.argv.slice(4)) {
      const rmType = relaxedType(type, 1, Infinity);
      let rm: Datum;
      let keysOnly = false;
      try {
        rm = datumFromString(rmType, a, ctx.symtab);
      } catch (e) {
        if (!(e instanceof CtlError) || type.value === undefined) throw e;
        rm = datumFromString({ key: type.key, min: 1, max: Infinity }, a, ctx.symtab);
        keysOnly = true;
      }
      value = datumDifference(value, rm, column.isMap, keysOnly);
    }
    if (value.length < type.min) {
      fail(`"remove" operation would put ${value.length} ${type.value === undefined ? 'values' : 'pairs'} in column ${column.name} of table ${t.name} but the minimum number is ${type.min}`);
    }
    ctx.txn.verify(row, column.name);
    ctx.txn.write(row, column.name, value);
  },
};

const clear: CommandSpec = {
  name: 'clear',
  minArgs: 3,
  maxArgs: Infinity,
  args: 'TABLE RECORD COLUMN...',
  options: '--if-exists',
  mode: 'RW',
  pre(ctx) {
    const t = preTable(ctx, ctx.argv[1]!);
    for (const a of ctx.argv.slice(3)) findColumn(t, a);
  },
  run(ctx) {
    const t = table(ctx, ctx.argv[1]!);
    const row = getRow(ctx.txn, ctx.tool, t, ctx.argv[2]!, mustExist(ctx));
    if (!row) return;
    for (const a of ctx.argv.slice(3)) {
      const column = findColumn(t, a);
      checkMutable(row, column);
      if (column.type.min > 0) fail(`"clear" operation cannot be applied to column ${column.name} of table ${t.name}, which is not allowed to be empty`);
      ctx.txn.write(row, column.name, []);
    }
  },
};

const create: CommandSpec = {
  name: 'create',
  minArgs: 2,
  maxArgs: Infinity,
  args: 'TABLE COLUMN[:KEY]=VALUE...',
  options: '--id=',
  mode: 'RW',
  pre(ctx) {
    const t = findTable(ctx.schema, ctx.argv[1]!);
    if (!ctx.options.get('--id') && !t.isRoot) {
      ctx.log.warn('db_ctl_base', `applying "create" command to table ${t.name} without --id option will have no effect`);
    }
  },
  run(ctx) {
    const id = ctx.options.get('--id') ?? undefined;
    const t = table(ctx, ctx.argv[1]!);
    let uuid: string | undefined;
    if (id !== undefined) {
      if (!id.startsWith('@')) fail(`row id "${id}" does not begin with "@"`);
      const sym = ctx.symtab.insert(id);
      if (sym.created) fail(`row id "${id}" may only be specified on one --id option`);
      sym.created = true;
      if (t.isRoot) sym.strongRef = true;
      uuid = sym.uuid;
    }
    const row = ctx.txn.insert(t, uuid);
    for (const a of ctx.argv.slice(2)) setColumn(ctx, t, row, a);
    ctx.output += row.uuid;
  },
  post(ctx) {
    const c = ctx.command;
    c.output = `${ctx.insertedUuid(c.output) ?? c.output}\n`;
  },
};

const destroy: CommandSpec = {
  name: 'destroy',
  minArgs: 1,
  maxArgs: Infinity,
  args: 'TABLE [RECORD]...',
  options: '--if-exists,--all',
  mode: 'RW',
  pre(ctx) {
    preTable(ctx, ctx.argv[1]!);
  },
  run(ctx) {
    const must = mustExist(ctx);
    const all = ctx.options.has('--all');
    const t = table(ctx, ctx.argv[1]!);
    if (all && ctx.argv.length > 2) fail('--all and records argument should not be specified together');
    if (all && !must) fail('--all and --if-exists should not be specified together');
    if (!all && ctx.argv.length === 2) {
      ctx.log.warn('db_ctl_base', 'either --all or records argument should be specified');
      return;
    }
    if (all) {
      for (const r of ctx.txn.rows(t.name)) ctx.txn.delete(r);
      return;
    }
    for (const rid of ctx.argv.slice(2)) {
      const row = getRow(ctx.txn, ctx.tool, t, rid, must);
      if (row) ctx.txn.delete(row);
    }
  },
};

const waitUntil: CommandSpec = {
  name: 'wait-until',
  minArgs: 2,
  maxArgs: Infinity,
  args: 'TABLE RECORD [COLUMN[:KEY]=VALUE]...',
  options: '',
  mode: 'RO',
  pre: (ctx) => preTableAndColumns(ctx, 3),
  run(ctx) {
    const t = table(ctx, ctx.argv[1]!);
    const row = getRow(ctx.txn, ctx.tool, t, ctx.argv[2]!, false);
    if (!row) {
      ctx.tryAgain = true;
      return;
    }
    for (const a of ctx.argv.slice(3)) {
      if (!checkCondition(t, row, a, ctx.symtab)) {
        ctx.tryAgain = true;
        return;
      }
    }
  },
};

export const DB_COMMANDS: readonly CommandSpec[] = [comment, get, list, find, set, add, remove, clear, create, destroy, waitUntil];
