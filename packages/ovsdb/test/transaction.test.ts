import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Database, Transaction, parseSchemaText } from '../src/index.js';

const schemaPath = (n: string) => fileURLToPath(new URL(`../../schemas/${n}.ovsschema`, import.meta.url));
const nb = parseSchemaText(readFileSync(schemaPath('ovn-nb'), 'utf8'));

function run(db: Database, ...ops: unknown[]) {
  const out = new Transaction(db).execute(ops);
  if (out.kind !== 'done') throw new Error('blocked');
  return out.results;
}

t.test('insert, select, GC of unreferenced non-root rows', async (t) => {
  const db = new Database(nb);
  const r = run(db,
    { op: 'insert', table: 'Logical_Switch', row: { name: 'sw0', ports: ['named-uuid', 'p1'] } },
    { op: 'insert', table: 'Logical_Switch_Port', 'uuid-name': 'p1', row: { name: 'lsp1' } },
    { op: 'insert', table: 'Logical_Switch_Port', row: { name: 'orphan' } });
  t.equal(r.length, 3);
  t.equal(db.table('Logical_Switch_Port').rows.size, 1, 'orphan port collected');
  const sel = run(db, { op: 'select', table: 'Logical_Switch_Port', where: [], columns: ['name'] });
  t.same(sel, [{ rows: [{ name: 'lsp1' }] }]);
  // deleting the switch collects its port
  run(db, { op: 'delete', table: 'Logical_Switch', where: [['name', '==', 'sw0']] });
  t.equal(db.table('Logical_Switch_Port').rows.size, 0);
});

t.test('referential integrity and unique index errors', async (t) => {
  const db = new Database(nb);
  const r = run(db, { op: 'insert', table: 'Logical_Switch', row: { ports: ['uuid', '305755d1-7c5b-496a-97af-1c8717387cce'] } });
  t.match(r[1], { error: 'referential integrity violation' });
  run(db, { op: 'insert', table: 'Address_Set', row: { name: 'a' } });
  const r2 = run(db, { op: 'insert', table: 'Address_Set', row: { name: 'a' } });
  t.match(r2[1], { error: 'constraint violation' });
});
