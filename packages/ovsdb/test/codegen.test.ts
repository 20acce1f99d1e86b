// Typed models: the generator's output for the bundled schemas (shapes, determinism, checked-in
// copies up to date), the converters on hand-written rows, a fast-check property that random
// rows of random schemas survive wire → typed → wire through the module the generator writes
// (transpiled and imported), typed IDL views against an in-process server, and compile-time
// checks of the generated types (this file only builds if they hold).
import t from 'tap';
import fc from 'fast-check';
import { deepStrictEqual } from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { IdlRow, parseSchema, loadSchema, setLogLevel, modelFromSchema, typedTable, generateModels, Nb, Sb, Vswitch, type DatabaseModel, type AnyRow } from '../src/index.js';
import { Idl, OvsdbClient } from '../src/client/index.js';
import { bundledModelSources, BUNDLED_MODELS } from '../src/codegen/bundled.js';
import { pascalCase, tsString } from '../src/codegen/generate.js';
import { TRICKY, nastyString, schemaWithRowsArb } from './codegen-helpers.js';
import { ovntsBackend, tempDir, until } from './client-helpers.js';

if (!process.env['OVNTS_LOG']) setLogLevel('off');
const REPLAY = process.env['FC_SEED'] ? { seed: Number(process.env['FC_SEED']), ...(process.env['FC_PATH'] ? { path: process.env['FC_PATH'] } : {}) } : {};
const RUNTIME_URL = new URL('../src/codegen/runtime.js', import.meta.url).href;
const MODELS_DIR = fileURLToPath(new URL('../../src/models/', import.meta.url));
const U1 = '6b1c8e4f-0d5e-4d47-9a55-1f2e3d4c5b6a';
const U2 = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

t.test('models are up to date (regenerate with: npm run codegen)', async (t) => {
  const want = bundledModelSources();
  t.same([...want.keys()].sort(), [...BUNDLED_MODELS.map((m) => m.file), 'index.ts'].sort());
  for (const [file, text] of want) {
    const path = MODELS_DIR + file;
    const have = existsSync(path) ? readFileSync(path, 'utf8') : '<missing>';
    t.ok(have === text, `packages/ovsdb/src/models/${file} is what the generator makes now; if not, run: npm run codegen`);
  }
});

t.test('output is deterministic and independent of the schema file order', async (t) => {
  const nb = loadSchema('ovn-nb');
  const a = generateModels(nb);
  t.equal(generateModels(nb), a);
  // The same schema with tables and columns listed in reverse order.
  const json = JSON.parse(readFileSync(new URL('../../schemas/ovn-nb.ovsschema', import.meta.url), 'utf8')) as { tables: Record<string, { columns: Record<string, unknown> }> };
  const rev = Object.fromEntries(Object.entries(json.tables).reverse().map(([n, tj]) => [n, { ...tj, columns: Object.fromEntries(Object.entries(tj.columns).reverse()) }]));
  t.equal(generateModels(parseSchema({ ...json, tables: rev })), a);
  t.notOk(/[ \t]$/m.test(a), 'no trailing whitespace');
  t.ok(a.endsWith(';\n'));
});

t.test('generated shapes (OVN_Northbound)', async (t) => {
  const src = generateModels(loadSchema('ovn-nb'), { importFrom: '@ovnts/ovsdb' });
  const has = (s: string): void => void t.ok(src.includes(s), s);
  has("import { defineModel, type Uuid } from '@ovnts/ovsdb';");
  has("export const SCHEMA_NAME = 'OVN_Northbound';");
  has("export const SCHEMA_VERSION = '7.0.0';");
  has("export type ACLAction = 'allow' | 'allow-related' | 'allow-stateless' | 'drop' | 'reject';");
  has('export interface LogicalSwitch {\n  readonly _uuid: Uuid;\n  readonly _version: Uuid;\n');
  has('  /** strong reference to Logical_Switch_Port */\n  readonly ports: readonly Uuid[];\n');
  has('  /** weak reference to Copp */\n  readonly copp: Uuid | undefined;\n');
  has('  readonly external_ids: Readonly<Record<string, string>>;\n');
  has('  readonly severity: ACLSeverity | undefined;\n');
  has("export type QoSBandwidthKey = 'burst' | 'rate';");
  has('  readonly bandwidth: Readonly<Partial<Record<QoSBandwidthKey, number>>>;\n');
  has('  /** integer 0 to 32767 */\n  readonly priority: number;\n');
  has('  readonly Logical_Switch: LogicalSwitch;\n');
  has('export type TableName = keyof Tables;');
  has("      ports: ['set', 'uuid'],\n");
  has("      severity: ['optional', 'string'],\n");
  const vs = generateModels(loadSchema('vswitch'));
  t.ok(vs.includes('  readonly queues: Readonly<Record<number, Uuid>>;\n'), 'integer-keyed map');
  t.ok(vs.includes('export interface OpenVSwitch {'));
});

t.test('names and string literals', async (t) => {
  t.equal(pascalCase('Logical_Switch'), 'LogicalSwitch');
  t.equal(pascalCase('ACL'), 'ACL');
  t.equal(pascalCase('Open_vSwitch'), 'OpenVSwitch');
  t.equal(pascalCase('ipv6_ra_configs'), 'Ipv6RaConfigs');
  fc.assert(
    fc.property(nastyString, (s) => {
      const lit = tsString(s);
      t.equal(new Function(`return ${lit};`)(), s);
      // Written to a UTF-8 file and read back, the literal is unchanged (no lone surrogates in it).
      t.equal(Buffer.from(lit, 'utf8').toString('utf8'), lit);
      t.notOk(/[\n\r\u2028\u2029]/.test(lit));
      t.ok(lit.startsWith((s.match(/'/g)?.length ?? 0) > (s.match(/"/g)?.length ?? 0) ? '"' : "'"), 'quoted as prettier would');
    }),
    { numRuns: 200, ...REPLAY },
  );
  // Clashing names: row types keep theirs, later ones get a suffix.
  const s = parseSchema({
    name: 'X',
    version: '1.0.0',
    tables: {
      Tables: { columns: { a: { type: 'string' } } },
      A_B: { columns: { n: { type: 'integer' } } },
      AB: { columns: { c: { type: { key: { type: 'string', enum: ['set', ['x', "y'z"]] } } } } },
      ABC: { columns: { z: { type: 'integer' } } },
    },
  });
  const src = generateModels(s);
  for (const want of [
    'export interface TablesRow {',
    'export interface AB {',
    'export interface ABRow {',
    'export interface ABC {',
    `export type ABCEnum = 'x' | "y'z";`,
    '  readonly c: ABCEnum;\n',
    '  readonly A_B: ABRow;\n',
    '  readonly Tables: TablesRow;\n',
  ]) {
    t.ok(src.includes(want), want);
  }
});

t.test('converters on bundled models', async (t) => {
  const ls = Nb.tables.Logical_Switch;
  t.equal(ls.database, 'OVN_Northbound');
  t.equal(Nb.model.tables.Logical_Switch, ls);
  const wire = {
    _uuid: ['uuid', U1],
    _version: ['uuid', U2],
    name: 'sw0',
    ports: ['set', [['uuid', U1], ['uuid', U2]]],
    copp: ['set', []],
    external_ids: ['map', [['b', '2'], ['a', '1']]],
  } as const;
  const row: Nb.LogicalSwitch = ls.fromWire(wire);
  t.equal(row._uuid, U1);
  t.equal(row._version, U2);
  t.equal(row.name, 'sw0');
  t.same(row.ports, [U1, U2]);
  t.equal(row.copp, undefined);
  t.same(row.external_ids, { a: '1', b: '2' });
  t.same(row.acls, [], 'absent set column: empty');
  t.same(row.other_config, {}, 'absent map column: empty');
  t.equal(ls.fromWire({ name: 'x' }, U2)._uuid, U2, 'monitor rows carry the uuid outside');
  t.equal(ls.fromWire({ name: 'x' })._version, '');
  t.same(ls.fromWire({ ports: ['uuid', U1] }).ports, [U1], 'a lone atom is a one-element set');

  const back = ls.toWire(row);
  t.same(back['_uuid'], ['uuid', U1]);
  t.same(back['external_ids'], ['map', [['a', '1'], ['b', '2']]], 'maps come out sorted');
  t.same(back['copp'], ['set', []]);
  t.same(back['acls'], ['set', []]);
  t.equal(back['name'], 'sw0');

  // encode: only the given columns; uuid-names become named-uuid; undefined clears an optional column.
  t.same(ls.encode({ name: 'sw1', ports: ['newport', U1], copp: undefined }), { name: 'sw1', ports: ['set', [['named-uuid', 'newport'], ['uuid', U1]]], copp: ['set', []] });
  t.same(ls.encode(row), ls.encode({ ...row }), 'a whole typed row can be written back');
  t.notOk('_uuid' in ls.encode(row));
  t.throws(() => ls.encode({ nope: 1 } as never), /no column nope/);
  t.throws(() => ls.encode({ name: undefined } as never), /undefined is not a value/);
  t.same(ls.value('name', 'sw0'), 'sw0');
  t.same(ls.value('ports', [U1]), ['uuid', U1]);
  t.same(ls.decodeValue('external_ids', ['map', [['k', 'v']]]), { k: 'v' });

  // Enum-keyed map with integer values; integer-keyed map.
  const qos = Nb.tables.QoS.fromWire({ bandwidth: ['map', [['rate', 100], ['burst', 10]]], action: ['map', []], direction: 'to-lport' });
  t.same(qos.bandwidth, { burst: 10, rate: 100 });
  t.equal(qos.direction, 'to-lport');
  const q = Vswitch.tables.QoS;
  const vq = q.fromWire({ queues: ['map', [[2, ['uuid', U2]], [10, ['uuid', U1]]]] });
  t.equal(vq.queues[10], U1);
  t.same(q.toWire(vq)['queues'], ['map', [[2, ['uuid', U2]], [10, ['uuid', U1]]]]);
  // Map keys that are not plain object keys.
  const odd = ls.fromWire({ external_ids: ['map', [['10', 'a'], ['9', 'b'], ['__proto__', 'c'], ['constructor', 'd']]] });
  t.equal(Object.getPrototypeOf(odd.external_ids), Object.prototype);
  t.same(Object.keys(odd.external_ids).sort(), ['10', '9', '__proto__', 'constructor']);
  t.equal(odd.external_ids['__proto__'], 'c');
  t.same(ls.toWire(odd)['external_ids'], ['map', [['10', 'a'], ['9', 'b'], ['__proto__', 'c'], ['constructor', 'd']]]);
  // Southbound and vswitch namespaces are there.
  t.equal(Sb.SCHEMA_NAME, 'OVN_Southbound');
  t.equal(Vswitch.SCHEMA_NAME, 'Open_vSwitch');
  t.equal(Sb.tables.Chassis.name, 'Chassis');
});

/** The generator's module for `schema`, transpiled and imported, with its runtime import pointed at this build. */
async function importGenerated(schema: Parameters<typeof generateModels>[0]): Promise<{ model: DatabaseModel<Record<string, AnyRow>>; SCHEMA_NAME: string }> {
  const src = generateModels(schema, { importFrom: RUNTIME_URL });
  const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true } }).outputText;
  return (await import(`data:text/javascript;charset=utf-8,${encodeURIComponent(js)}`)) as never;
}

t.test('property: random rows of random schemas round-trip through the generated module', async (t) => {
  let rows = 0;
  await fc.assert(
    fc.asyncProperty(schemaWithRowsArb, async ({ schema, rows: byTable }) => {
      const gen = await importGenerated(schema);
      const dyn = modelFromSchema(schema);
      deepStrictEqual(gen.SCHEMA_NAME, schema.name);
      for (const [name, list] of byTable) {
        const m = gen.model.tables[name]!;
        deepStrictEqual(m.spec, dyn.tables[name]!.spec, 'generated spec = runtime spec');
        const table = schema.tables.get(name)!;
        for (const r of list) {
          rows++;
          const typed = m.fromWire(r.wire);
          deepStrictEqual(m.toWire(typed), r.wire);
          // The replica's form of the same row converts to the same typed row.
          const idlRow = new IdlRow(table, r.uuid, r.datums, r.version);
          deepStrictEqual(m.fromIdlRow(idlRow), typed);
          deepStrictEqual(m.fromIdlRow(idlRow), m.fromIdlRow(idlRow));
          // encode: the columns only.
          const { _uuid: _u, _version: _v, ...cols } = r.wire;
          deepStrictEqual(m.encode(typed), cols);
          for (const c of table.columnList) deepStrictEqual(m.value(c.name, typed[c.name]), r.wire[c.name]);
        }
      }
    }),
    { numRuns: 60, ...REPLAY },
  );
  t.ok(rows > 60, `${rows} rows`);
});

t.test('a replica row from a server with a different schema', async (t) => {
  // The server lacks `b` and types `c` differently: both read as their defaults.
  const server = parseSchema({ name: 'D', version: '1.0.0', tables: { T: { columns: { c: { type: { key: 'string', value: 'string', min: 0, max: 'unlimited' } }, a: { type: 'integer' } } } } });
  const mine = modelFromSchema(parseSchema({ name: 'D', version: '1.0.0', tables: { T: { columns: { a: { type: 'integer' }, b: { type: 'string' }, c: { type: { key: 'string', min: 0, max: 'unlimited' } } } } } }));
  const row = new IdlRow(server.tables.get('T')!, U1, [[['k', 'v']], [7]], '');
  t.same(mine.tables['T']!.fromIdlRow(row), { _uuid: U1, _version: '', a: 7, b: '', c: [] });
});

t.test('typed IDL views', async (t) => {
  const dir = tempDir(t, 'ovnts-codegen-');
  const b = await ovntsBackend(t, dir);
  const client = new OvsdbClient({ remotes: b.remote });
  t.teardown(() => client.close());
  await client.connect();
  const idl = new Idl(client, { database: 'OVN_Northbound', tables: { Logical_Switch: true, Logical_Switch_Port: { columns: ['name', 'addresses'] } }, trackChanges: true });
  t.teardown(() => idl.close());
  const switches = typedTable(idl, Nb.tables.Logical_Switch);
  const ports = typedTable(idl, Nb.tables.Logical_Switch_Port);
  t.equal(switches.size, 0);
  await idl.start();

  const LS = Nb.tables.Logical_Switch;
  const tx = client.transaction('OVN_Northbound');
  const p = tx.insert('Logical_Switch_Port', Nb.tables.Logical_Switch_Port.encode({ name: 'p1', addresses: ['00:00:00:00:00:01 10.0.0.1'], type: 'router' }));
  const ls = tx.insert('Logical_Switch', LS.encode({ name: 'sw0', ports: [p.uuidName], external_ids: { owner: 'cms' }, copp: undefined }));
  const res = await tx.execute();
  await until(() => switches.size === 1 && ports.size === 1);

  const sw = switches.get(res.uuid(ls))!;
  t.equal(sw.name, 'sw0');
  t.same(sw.ports, [res.uuid(p)]);
  t.same(sw.external_ids, { owner: 'cms' });
  t.equal(sw._version, idl.get('Logical_Switch', sw._uuid)!.version, "'' unless _version is monitored");
  t.equal(switches.get(res.uuid(ls)), sw, 'converted once per replica row');
  const port = ports.get(sw.ports[0]!)!;
  t.equal(port.name, 'p1');
  t.equal(port.type, '', 'a column not replicated holds its default');
  t.same([...switches].map((s) => s.name), ['sw0']);
  t.same(switches.rows(), [sw]);
  t.throws(() => switches.of(idl.get('Logical_Switch_Port', port._uuid)!), /row of Logical_Switch_Port/);
  t.throws(() => typedTable(idl, Sb.tables.Chassis), /used with an IDL of OVN_Northbound/);

  const first = switches.changes(idl.takeChanges());
  t.same(first.map((c) => [c.kind, c.new?.name]), [['insert', 'sw0']]);

  // Update through a typed condition and typed values.
  await idl.transact((txn) => {
    txn.update('Logical_Switch', [['name', '==', LS.value('name', 'sw0')]], LS.encode({ external_ids: { ...sw.external_ids, n: '1' } }));
  });
  await until(() => switches.get(sw._uuid)?.external_ids['n'] === '1');
  const [upd] = switches.changes(idl.takeChanges());
  t.equal(upd?.kind, 'update');
  t.same(upd?.old?.external_ids, { owner: 'cms' });
  t.same(upd?.new?.external_ids, { n: '1', owner: 'cms' });
  // The untyped API is untouched.
  t.equal(idl.get('Logical_Switch', sw._uuid)?.scalar('name'), 'sw0');
  t.same(idl.get('Logical_Switch', sw._uuid)?.map('external_ids'), { n: '1', owner: 'cms' });
});

t.test('generated modules for random schemas type-check under the repo tsconfig', async (t) => {
  const schemas = fc.sample(schemaWithRowsArb.map((x) => x.schema), { numRuns: 8, seed: 42 });
  const runtime = fileURLToPath(RUNTIME_URL);
  // And one schema made of every awkward name, as tables and as columns of every kind.
  const kinds = [
    'string',
    { key: { type: 'string', enum: ['set', ['a', "b'c", '*/']] } },
    { key: 'uuid', min: 0, max: 1 },
    { key: { type: 'integer', enum: ['set', [-1, 2]] }, min: 0, max: 'unlimited' },
    { key: 'boolean', value: 'real', min: 0, max: 'unlimited' },
    { key: { type: 'string', enum: 'only' }, value: { type: 'boolean', enum: true }, min: 0, max: 'unlimited' },
  ];
  const tricky = parseSchema({
    name: 'Tricky',
    version: '1.0.0',
    tables: Object.fromEntries(TRICKY.map((tn) => [tn, { columns: Object.fromEntries(TRICKY.map((cn, i) => [cn, { type: kinds[i % kinds.length] }])) }])),
  });
  schemas.push(tricky);
  const files = new Map(schemas.map((s, i) => [`/virtual/gen${i}.mts`, generateModels(s, { importFrom: runtime })]));
  // A user of the bundled models, too.
  files.set(
    '/virtual/use.mts',
    `import { Nb } from ${tsString(fileURLToPath(new URL('../src/index.js', import.meta.url)))};\n` +
      `export const a: Nb.ACLAction = 'drop';\nexport const m: Nb.TableName = 'ACL';\n`,
  );
  const base = ts.parseConfigFileTextToJson('tsconfig.base.json', readFileSync(new URL('../../../../tsconfig.base.json', import.meta.url), 'utf8'));
  const opts = ts.convertCompilerOptionsFromJson((base.config as { compilerOptions: unknown }).compilerOptions, '/').options;
  const options: ts.CompilerOptions = { ...opts, composite: false, incremental: false, declaration: false, declarationMap: false, sourceMap: false, noEmit: true, types: [] };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  const exists = host.fileExists.bind(host);
  host.readFile = (f) => files.get(f) ?? read(f);
  host.fileExists = (f) => files.has(f) || exists(f);
  host.getSourceFile = ((orig) => (f, lang, ...rest) => (files.has(f) ? ts.createSourceFile(f, files.get(f)!, lang) : orig(f, lang, ...rest)))(host.getSourceFile.bind(host));
  const program = ts.createProgram([...files.keys()], options, host);
  const diags = ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  t.same(diags, [], 'no diagnostics');
  if (diags.length) t.comment(files.get(diags[0]!.split(':')[0]!) ?? '');
});

// Compile-time checks: this file builds only if the generated types are what the docs say.
export function typeChecks(r: Nb.LogicalSwitchPort, q: Nb.QoS, b: Vswitch.Bridge): void {
  const name: string = r.name;
  const parent: string | undefined = r.parent_name;
  const addrs: readonly string[] = r.addresses;
  const ids: Readonly<Record<string, string>> = r.external_ids;
  const rate: number | undefined = q.bandwidth.rate;
  const mode: Vswitch.BridgeFailMode | undefined = b.fail_mode;
  const row: Nb.Tables['Logical_Switch'] = Nb.tables.Logical_Switch.fromWire({});
  void [name, parent, addrs, ids, rate, mode, row];
  // @ts-expect-error not an allowed value
  const bad: Nb.ACLAction = 'permit';
  // @ts-expect-error not a table
  const t2: Nb.TableName = 'Nope';
  // @ts-expect-error not a column
  Nb.tables.Logical_Switch.encode({ nope: 1 });
  // @ts-expect-error wrong value type
  Nb.tables.Logical_Switch.encode({ name: 1 });
  // @ts-expect-error rows are read-only
  r.name = 'x';
  void [bad, t2];
}
