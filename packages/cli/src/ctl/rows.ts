/**
 * Finding the record a command names (OVS's ctl_get_row): a UUID, "." for a table's only row,
 * the tool's name columns (Logical_Switch by name, DHCP_Options via the port that refers to
 * it, ...), or a UUID prefix of at least 4 digits.
 */
import type { TableSchema, Pair } from './ovsdb.js';
import { parseUuid } from './datum-text.js';
import type { DbTxn, ViewRow } from './db-txn.js';
import { fail } from './errors.js';
import type { RowId, ToolSpec } from './tool.js';

/** The shape of a UUID's text: a hex digit at each 'h', a dash elsewhere (for prefix lookups). */
const UUID_SHAPE = 'hhhhhhhh-hhhh-hhhh-hhhh-hhhhhhhhhhhh';

/** How many leading characters of `s` are a UUID prefix, or 0 when `s` is not one. */
function partialUuidLength(s: string): number {
  if (s.length > UUID_SHAPE.length) return 0;
  for (let i = 0; i < s.length; i++) {
    const ok = UUID_SHAPE[i] === 'h' ? /[0-9a-fA-F]/.test(s[i]!) : s[i] === '-';
    if (!ok) return 0;
  }
  return s.length;
}

/** Whether `s` is a UUID or the beginning of one (not empty). */
export function isPartialUuid(s: string): boolean {
  return s.length > 0 && partialUuidLength(s) === s.length;
}

function recordIdEquals(name: string | number, isInteger: boolean, recordId: string): boolean {
  if (isInteger) return name === Number(recordId);
  if (name === recordId) return true;
  const s = name as string;
  return recordId.length >= 4 && parseUuid(s) !== undefined && s.startsWith(recordId);
}

function rowById(txn: DbTxn, table: TableSchema, id: RowId, recordId: string): { row?: ViewRow; multiple?: true } {
  const idTable = txn.schema.tables.get(id.table);
  const column = idTable?.columns.get(id.name);
  if (!idTable || !column) return {};
  const base = id.key !== undefined ? column.type.value : column.type.key;
  const isInteger = base?.type === 'integer';
  if (isInteger && !/^\d+$/.test(recordId)) return {};
  let referrer: ViewRow | undefined;
  for (const r of txn.rows(idTable.name)) {
    const d = r.get(id.name);
    let name: string | number | undefined;
    if (id.key === undefined) {
      if (d.length === 1) name = d[0] as string | number;
    } else {
      const p = (d as readonly Pair[]).find((x) => x[0] === id.key);
      if (p) name = p[1] as string | number;
    }
    if (name === undefined) continue;
    if (recordIdEquals(name, isInteger, recordId)) {
      if (referrer) return { multiple: true };
      referrer = r;
    }
  }
  if (!referrer) return {};
  if (id.uuidColumn === undefined) return { row: referrer };
  txn.verify(referrer, id.uuidColumn);
  const u = referrer.get(id.uuidColumn);
  const row = u.length === 1 ? txn.get(table.name, u[0] as string) : undefined;
  return row ? { row } : {};
}

/** The row `recordId` names in `table`, or undefined (or an error when `mustExist`). */
export function getRow(txn: DbTxn, tool: ToolSpec, table: TableSchema, recordId: string, mustExist: boolean): ViewRow | undefined {
  let row: ViewRow | undefined;
  const uuid = parseUuid(recordId);
  if (uuid !== undefined) row = txn.get(table.name, uuid);
  if (!row && recordId === '.') {
    const rows = txn.rows(table.name);
    if (rows.length === 1) row = rows[0];
  }
  if (!row) {
    for (const id of tool.rowIds[table.name] ?? []) {
      const r = rowById(txn, table, id, recordId);
      if (r.multiple) fail(`multiple rows in ${id.table} match "${recordId}"`);
      if (r.row) {
        row = r.row;
        break;
      }
    }
  }
  if (!row && partialUuidLength(recordId) >= 4) {
    for (const r of txn.rows(table.name)) {
      if (!r.uuid.startsWith(recordId)) continue;
      if (row) fail(`${table.name} contains 2 or more rows whose UUIDs begin with ${recordId}: at least ${row.uuid} and ${r.uuid}`);
      row = r;
    }
  }
  if (!row && mustExist) fail(`no row "${recordId}" in table ${table.name}`);
  return row;
}

/** The tables a lookup in `table` may read. */
export function rowIdTables(tool: ToolSpec, table: string): string[] {
  return [table, ...(tool.rowIds[table] ?? []).map((id) => id.table)];
}
