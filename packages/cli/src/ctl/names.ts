/**
 * Table and column names as the ctl tools accept them: exact, or a unique case-insensitive
 * prefix in which "-" stands for "_" (OVS's score_partial_match).
 */
import type { ColumnSchema, DatabaseSchema, TableSchema } from './ovsdb.js';
import { fail } from './errors.js';

const EXACT = Number.MAX_SAFE_INTEGER;

function fold(c: string | undefined): string | undefined {
  return c === '-' ? '_' : c?.toLowerCase();
}

/** How well user input `s` matches `name`: 0 for not at all, higher for better. */
export function scorePartialMatch(name: string, s: string): number {
  if (name === s) return EXACT;
  for (let i = 0; ; i++) {
    if (fold(name[i]) !== fold(s[i])) return i === s.length ? i : 0;
    if (i === name.length) return EXACT - 1;
  }
}

function bestMatches<T extends { readonly name: string }>(items: Iterable<T>, s: string): T[] {
  let best: T[] = [];
  let bestScore = 0;
  for (const it of items) {
    const score = scorePartialMatch(it.name, s);
    if (score && score >= bestScore) {
      if (score > bestScore) best = [];
      best.push(it);
      bestScore = score;
    }
  }
  return best;
}

const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function findTable(schema: DatabaseSchema, name: string): TableSchema {
  const m = bestMatches(schema.tables.values(), name);
  if (m.length === 0) fail(`unknown table "${name}"`);
  if (m.length > 1) fail(`"${name}" matches multiple table names: ${m.sort(byName).map((t) => t.name).join(', ')}`);
  return m[0]!;
}

export function findColumn(table: TableSchema, name: string): ColumnSchema {
  const m = bestMatches(table.columnList, name);
  if (m.length === 0) fail(`${table.name} does not contain a column whose name matches "${name}"`);
  if (m.length > 1) fail(`${table.name} contains more than one column whose name matches "${name}": ${m.sort(byName).map((c) => c.name).join(', ')}`);
  return m[0]!;
}
