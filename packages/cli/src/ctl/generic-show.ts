/**
 * The "show" command of ovs-vsctl and ovn-sbctl (OVS's cmd_show): a tree that starts at the
 * rows of the first show table and descends through reference columns into the other show
 * tables, printing each row by its name column and the listed columns when not default.
 */
import { datumToString, type MapDatum, type Atom } from './ovsdb.js';
import { atomToString } from './datum-text.js';
import type { DbTxn, ViewRow } from './db-txn.js';
import type { CommandSpec, ShowTable } from './tool.js';

function isDefault(row: ViewRow, column: string): boolean {
  const c = row.table.columns.get(column)!;
  const d = row.get(column);
  if (d.length !== c.type.min) return false;
  const dflt = (a: Atom, t: string): boolean => (t === 'integer' || t === 'real' ? a === 0 : t === 'boolean' ? a === false : t === 'string' ? a === '' : a === '00000000-0000-0000-0000-000000000000');
  for (const x of d) {
    if (Array.isArray(x)) {
      if (!dflt(x[0] as Atom, c.type.key.type) || !dflt(x[1] as Atom, c.type.value!.type)) return false;
    } else if (!dflt(x as Atom, c.type.key.type)) return false;
  }
  return true;
}

function showRow(txn: DbTxn, tables: readonly ShowTable[], row: ViewRow, level: number, shown: Set<string>, out: string[]): void {
  const show = tables.find((s) => s.table === row.table.name);
  const indent = (n: number): string => ' '.repeat(n * 4);
  let line = indent(level);
  if (show?.nameColumn) {
    const c = row.table.columns.get(show.nameColumn)!;
    line += `${show.table} ${datumToString(row.get(show.nameColumn), c.type)}`;
  } else {
    line += row.uuid;
  }
  out.push(`${line}\n`);
  if (!show || shown.has(show.table)) return;
  shown.add(show.table);
  for (const name of show.columns) {
    const c = row.table.columns.get(name);
    if (!c) continue;
    const d = row.get(name);
    const keyRef = c.type.key.type === 'uuid' ? c.type.key.refTable : undefined;
    const valueRef = c.type.value?.type === 'uuid' ? c.type.value.refTable : undefined;
    if (keyRef !== undefined) {
      const refShow = tables.find((s) => s.table === keyRef);
      if (refShow) {
        for (const u of d as readonly Atom[]) {
          const ref = txn.get(keyRef, u as string);
          if (ref) showRow(txn, tables, ref, level + 1, shown, out);
        }
        continue;
      }
    } else if (c.type.value !== undefined && valueRef !== undefined) {
      const refShow = tables.find((s) => s.table === valueRef);
      if (refShow?.nameColumn) {
        out.push(`${indent(level + 1)}${name}:\n`);
        for (const [k, v] of d as MapDatum) {
          const ref = txn.get(valueRef, v as string);
          const refName = ref ? datumToString(ref.get(refShow.nameColumn), ref.table.columns.get(refShow.nameColumn)!.type) : '"<null>"';
          out.push(`${indent(level + 2)}${atomToString(k, c.type.key.type)}=${refName}\n`);
        }
        continue;
      }
    }
    if (!isDefault(row, name)) out.push(`${indent(level + 1)}${name}: ${datumToString(d, c.type)}\n`);
  }
  if (show.wref) {
    const { table, nameColumn, wrefColumn } = show.wref;
    for (const r of txn.rows(table)) {
      const w = r.get(wrefColumn);
      if (w.length > 0 && w[0] === row.uuid) {
        out.push(`${indent(level + 1)}${table} ${datumToString(r.get(nameColumn), r.table.columns.get(nameColumn)!.type)}\n`);
      }
    }
  }
  shown.delete(show.table);
}

/** The "show" command for a tool with show tables. */
export function genericShow(): CommandSpec {
  return {
    name: 'show',
    minArgs: 0,
    maxArgs: 0,
    args: '',
    options: '',
    mode: 'RO',
    pre(ctx) {
      for (const s of ctx.tool.showTables ?? []) {
        ctx.need(s.table);
        if (s.wref) ctx.need(s.wref.table);
      }
    },
    run(ctx) {
      const tables = ctx.tool.showTables ?? [];
      const out: string[] = [];
      if (tables[0]) for (const row of ctx.txn.rows(tables[0].table)) showRow(ctx.txn, tables, row, 0, new Set(), out);
      ctx.output += out.join('');
    },
  };
}
