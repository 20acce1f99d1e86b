/**
 * Tabular output of "list" and "find" (OVS lib/table.c): formats list (the default: one
 * `column : value` line per cell), table (aligned columns under headings), csv, json and html;
 * cells as text (quoted where needed), bare words, or JSON.
 */
import { datumToJson, type Datum, type ColumnType } from './ovsdb.js';
import { fail } from './errors.js';
import { datumToBare, datumToString } from './datum-text.js';
import { jsonToString } from './json-text.js';

export type TableFormat = 'table' | 'list' | 'html' | 'csv' | 'json';
export type CellFormat = 'string' | 'bare' | 'json';

export interface TableStyle {
  format: TableFormat;
  cellFormat: CellFormat;
  headings: boolean;
  pretty: boolean;
  maxColumnWidth: number;
}

export function defaultTableStyle(): TableStyle {
  return { format: 'list', cellFormat: 'string', headings: true, pretty: false, maxColumnWidth: 0 };
}

export function parseTableFormat(style: TableStyle, s: string): void {
  if (s === 'table' || s === 'list' || s === 'html' || s === 'csv' || s === 'json') style.format = s;
  else fail(`unknown output format "${s}"`);
}

export function parseCellFormat(style: TableStyle, s: string): void {
  if (s === 'string' || s === 'bare' || s === 'json') style.cellFormat = s;
  else fail(`unknown data format "${s}"`);
}

export type Cell = { readonly datum: Datum; readonly type: ColumnType } | { readonly text: string };

export class Table {
  readonly rows: Cell[][] = [];

  constructor(readonly headings: readonly string[]) {}

  addRow(cells: Cell[]): void {
    this.rows.push(cells);
  }
}

function cellToText(c: Cell, style: TableStyle): string {
  if ('text' in c) return c.text;
  switch (style.cellFormat) {
    case 'json':
      return jsonToString(datumToJson(c.datum, c.type));
    case 'string':
      return datumToString(c.datum, c.type);
    case 'bare':
      return datumToBare(c.datum, c.type);
  }
}

function cellToJson(c: Cell): unknown {
  return 'text' in c ? c.text : datumToJson(c.datum, c.type);
}

const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');

/** printf("%-*.*s", width, width, s) with byte counts, as C does. */
function pad(s: string, width: number, truncate: boolean): string {
  let t = s;
  if (truncate && byteLength(t) > width) t = Buffer.from(t, 'utf8').subarray(0, width).toString('utf8');
  const n = byteLength(t);
  return n >= width ? t : t + ' '.repeat(width - n);
}

/** Prints tables; like OVS, tables after the first of the same format are preceded by a blank line. */
export class TablePrinter {
  private readonly printed = new Map<TableFormat, number>();

  constructor(private readonly style: TableStyle) {}

  format(t: Table): string {
    const style = this.style;
    const n = this.printed.get(style.format) ?? 0;
    this.printed.set(style.format, n + 1);
    const sep = n > 0 && style.format !== 'json' && style.format !== 'html' ? '\n' : '';
    switch (style.format) {
      case 'table':
        return sep + formatTable(t, style);
      case 'list':
        return sep + formatList(t, style);
      case 'csv':
        return sep + formatCsv(t, style);
      case 'json':
        return formatJson(t, style);
      case 'html':
        return formatHtml(t, style);
    }
  }
}

function finishLine(line: string): string {
  return line.replace(/ +$/, '') + '\n';
}

function formatTable(t: Table, style: TableStyle): string {
  const texts = t.rows.map((r) => r.map((c) => cellToText(c, style)));
  const widths = t.headings.map((h, x) => {
    let w = 0;
    for (const r of texts) w = Math.max(w, byteLength(r[x] ?? ''));
    if (style.maxColumnWidth > 0 && w > style.maxColumnWidth) w = style.maxColumnWidth;
    if (style.headings) w = Math.max(w, byteLength(h));
    return w;
  });
  let out = '';
  if (style.headings) {
    out += finishLine(t.headings.map((h, x) => pad(h, widths[x]!, false)).join(' '));
    out += finishLine(widths.map((w) => '-'.repeat(w)).join(' '));
  }
  for (const r of texts) out += finishLine(r.map((s, x) => pad(s, widths[x]!, true)).join(' '));
  return out;
}

function formatList(t: Table, style: TableStyle): string {
  let out = '';
  t.rows.forEach((r, y) => {
    if (y > 0) out += '\n';
    r.forEach((c, x) => {
      if (style.headings) out += pad(t.headings[x]!, 20, false) + ': ';
      out += cellToText(c, style) + '\n';
    });
  });
  return out;
}

function csvCell(s: string): string {
  return /[\n",]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function formatCsv(t: Table, style: TableStyle): string {
  let out = '';
  if (style.headings) out += t.headings.map(csvCell).join(',') + '\n';
  for (const r of t.rows) out += r.map((c) => csvCell(cellToText(c, style))).join(',') + '\n';
  return out;
}

function formatJson(t: Table, style: TableStyle): string {
  const o = { headings: [...t.headings], data: t.rows.map((r) => r.map(cellToJson)) };
  return jsonToString(o, { sort: true, pretty: style.pretty }) + '\n';
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

const UUID_PREFIX = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/;

function htmlCell(element: string, content: string): string {
  let out = `    <${element}>`;
  for (let p = 0; p < content.length; ) {
    const m = UUID_PREFIX.exec(content.slice(p));
    if (m) {
      out += `<a href="#${m[0]}">${m[0].slice(0, 8)}</a>`;
      p += m[0].length;
    } else {
      out += escapeHtml(content[p]!);
      p++;
    }
  }
  return `${out}</${element}>\n`;
}

function formatHtml(t: Table, style: TableStyle): string {
  let out = '<table border=1>\n';
  if (style.headings) out += '  <tr>\n' + t.headings.map((h) => htmlCell('th', h)).join('') + '  </tr>\n';
  for (const r of t.rows) {
    out += '  <tr>\n';
    r.forEach((c, x) => {
      const content = cellToText(c, style);
      if (t.headings[x] === '_uuid') out += `    <td><a name="${escapeHtml(content)}">${escapeHtml(content.slice(0, 8))}</a></td>\n`;
      else out += htmlCell('td', content);
    });
    out += '  </tr>\n';
  }
  return out + '</table>\n';
}
