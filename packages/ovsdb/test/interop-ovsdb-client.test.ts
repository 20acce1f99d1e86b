// ovsdb-client (Debian's real one) against the ovnts server, side by side with a real
// ovsdb-server: every command's output must match after UUIDs are replaced by row labels.
import t, { type Test } from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { setLogLevel } from '../src/index.js';
import { DB_NAMES, SCHEMA_FILES, Sandbox, UuidNormalizer, labelRows, missingTools, normalizeVolatile, waitFor, type Background } from './helpers/real-tools.js';

setLogLevel('off');

const NB = DB_NAMES['ovn-nb'];
const skip = missingTools('ovsdb-client', 'ovsdb-server', 'ovsdb-tool');

interface Side {
  readonly name: 'real' | 'ovnts';
  readonly remote: string;
  readonly norm: UuidNormalizer;
}

async function setup(t: Test): Promise<{ sb: Sandbox; sides: [Side, Side] }> {
  const sb = new Sandbox();
  t.teardown(() => sb.close());
  const real = await sb.startRealServer('real', ['ovn-nb']);
  const { remote: ts } = await sb.startTsServer('ts', ['ovn-nb']);
  return {
    sb,
    sides: [
      { name: 'real', remote: real, norm: new UuidNormalizer() },
      { name: 'ovnts', remote: ts, norm: new UuidNormalizer() },
    ],
  };
}

/** Sorts the data lines of each table in ovsdb-client's text output (their order is UUID order). */
function sortTableRows(text: string): string {
  return text
    .split('\n\n')
    .map((block) => {
      const lines = block.split('\n');
      const sep = lines.findIndex((l) => /^-+( -+)*$/.test(l));
      if (sep < 0) return block;
      const rows = lines.slice(sep + 1).filter((l) => l !== '');
      return [...lines.slice(0, sep + 1), ...rows.sort()].join('\n');
    })
    .join('\n\n');
}

/** Sorts the "data" rows of each line of ovsdb-client's JSON output. */
function sortJsonData(text: string): string {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      const o = JSON.parse(l) as { data?: unknown[][] };
      if (Array.isArray(o.data) && o.data.every((r) => r[0] !== '')) o.data.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
      return JSON.stringify(o);
    })
    .join('\n');
}

t.test('ovsdb-client: list-dbs, schemas, tables, columns, version, checksum', { skip }, async (t) => {
  const { sb, sides } = await setup(t);
  const cmds: string[][] = [
    ['list-dbs', '@'],
    ['get-schema', '@', NB],
    ['get-schema', '@', '_Server'],
    ['list-tables', '@', NB],
    ['list-columns', '@', NB, 'Logical_Switch_Port'],
    ['list-columns', '@', NB],
    ['get-schema-version', '@', NB],
    ['get-schema-cksum', '@', NB],
    ['get-schema', '@', 'Nope'],
    ['list-tables', '@', 'Nope'],
  ];
  // Listing every table's columns follows the client's hash order of the schema it received.
  const unordered = (cmd: string[], out: string): string => (cmd[0] === 'list-columns' && cmd.length === 3 ? out.split('\n').sort().join('\n') : out);
  for (const cmd of cmds) {
    const [real, ts] = await Promise.all(sides.map((s) => sb.run('ovsdb-client', cmd.map((a) => (a === '@' ? s.remote : a)))));
    t.equal(unordered(cmd, ts.stdout), unordered(cmd, real!.stdout), `${cmd.join(' ')}: stdout`);
    t.equal(ts.stderr.replace(/unix:\S+/g, 'SOCK'), real!.stderr.replace(/unix:\S+/g, 'SOCK'), `${cmd.join(' ')}: stderr`);
    t.equal(ts.code, real!.code, `${cmd.join(' ')}: exit code`);
  }
  // The schema served is the one the real tools ship: same version and checksum as ovsdb-tool computes.
  for (const [client, tool] of [['get-schema-version', 'schema-version'], ['get-schema-cksum', 'schema-cksum']] as const) {
    const served = await sb.run('ovsdb-client', [client, sides[1].remote, NB]);
    const file = await sb.run('ovsdb-tool', [tool, SCHEMA_FILES['ovn-nb']]);
    t.equal(served.stdout, file.stdout, `${client} equals ovsdb-tool ${tool} of ovn-nb.ovsschema`);
  }
  // ...and the bundled schema file is the one Debian's OVN ships.
  const shipped = '/usr/share/ovn/ovn-nb.ovsschema';
  if (existsSync(shipped)) t.same(JSON.parse(readFileSync(SCHEMA_FILES['ovn-nb'], 'utf8')), JSON.parse(readFileSync(shipped, 'utf8')), `bundled schema equals ${shipped}`);
});

t.test('ovsdb-client: transact, query, dump (text and JSON)', { skip }, async (t) => {
  const { sb, sides } = await setup(t);
  const txns = [
    [NB, { op: 'insert', table: 'Address_Set', row: { name: 'b' } }, { op: 'insert', table: 'Address_Set', row: { name: 'a', addresses: ['set', ['10.0.0.1', '10.0.0.2']] } }],
    [
      NB,
      { op: 'insert', table: 'Logical_Switch', row: { name: 'ls', acls: ['named-uuid', 'x'], other_config: ['map', [['k', 'v w']]] } },
      { op: 'insert', table: 'ACL', 'uuid-name': 'x', row: { priority: 7, direction: 'to-lport', match: 'ip4 && tcp.dst == 80', action: 'drop', log: true, name: 'acl-x' } },
      { op: 'insert', table: 'ACL', row: { priority: 5, direction: 'to-lport', match: 'ip', action: 'drop' } },
    ],
    [NB, { op: 'insert', table: 'Address_Set', row: { name: 'a' } }],
    [NB, { op: 'select', table: 'Address_Set', where: [['name', '==', 'a']], columns: ['name', 'addresses'] }],
    [NB, { op: 'bogus' }],
  ];
  for (const txn of txns) {
    const [real, ts] = await Promise.all(sides.map((s) => sb.run('ovsdb-client', ['transact', s.remote, JSON.stringify(txn)])));
    t.equal(normalizeVolatile(sides[1].norm.text(ts.stdout)), normalizeVolatile(sides[0].norm.text(real!.stdout)), `transact ${JSON.stringify(txn).slice(0, 100)}`);
    t.equal(ts.code, real!.code, 'exit code');
  }
  // query: like transact, but never commits.
  const q = JSON.stringify([NB, { op: 'insert', table: 'Address_Set', row: { name: 'q' } }, { op: 'select', table: 'Address_Set', where: [['name', '==', 'q']], columns: ['name'] }]);
  const [qr, qt] = await Promise.all(sides.map((s) => sb.run('ovsdb-client', ['query', s.remote, q])));
  t.equal(sides[1].norm.text(qt.stdout), sides[0].norm.text(qr!.stdout), 'query');
  for (const s of sides) {
    const r = await sb.run('ovsdb-client', ['transact', s.remote, JSON.stringify([NB, { op: 'select', table: 'Address_Set', where: [['name', '==', 'q']] }])]);
    t.match(r.stdout, /"rows":\[\]/, `${s.name}: query left nothing behind`);
  }
  for (const s of sides) await labelRows(s.remote, NB, s.norm);
  for (const args of [[NB], [NB, 'Address_Set'], [NB, 'Logical_Switch', 'name', 'acls'], ['--format=json', NB, 'ACL'], ['--format=csv', NB, 'Address_Set', 'name']]) {
    const [real, ts] = await Promise.all(sides.map((s) => sb.run('ovsdb-client', ['dump', s.remote, ...args])));
    const norm = (s: Side, text: string): string => sortTableRows(s.norm.text(text));
    const [nr, nt] = args[0] === '--format=json' ? [sortJsonData(norm(sides[0], real!.stdout)), sortJsonData(norm(sides[1], ts.stdout))] : [norm(sides[0], real!.stdout), norm(sides[1], ts.stdout)];
    t.equal(nt, nr, `dump ${args.join(' ')}`);
    t.equal(ts.code, real!.code, 'exit code');
  }
});

t.test('ovsdb-client monitor / monitor-cond / monitor ALL print the same changes', { skip }, async (t) => {
  const { sb, sides } = await setup(t);
  for (const s of sides) {
    await sb.run('ovsdb-client', ['transact', s.remote, JSON.stringify([NB, { op: 'insert', table: 'Address_Set', row: { name: 'pre', addresses: ['set', ['1.1.1.1']] } }])]);
  }
  const monitors: { args: string[]; json: boolean }[] = [
    { args: ['monitor', '@', NB, 'Address_Set', 'name,addresses', '--format=json'], json: true },
    { args: ['monitor', '@', NB, 'Address_Set', '--format=json'], json: true },
    { args: ['monitor-cond', '@', NB, '[["name","!=","c2"]]', 'Address_Set', 'name,addresses', '--format=json'], json: true },
    { args: ['monitor-cond', '@', NB, '[["addresses","includes","1.1.1.1"]]', 'Address_Set', '--format=json'], json: true },
    // A monitor's clauses are a disjunction (unlike a transaction's where): any clause admits a row.
    { args: ['monitor-cond', '@', NB, '[["name","==","c1"],["name","==","pre"]]', 'Address_Set', 'name,addresses', '--format=json'], json: true },
    { args: ['monitor-cond', '@', NB, '[false,["name","==","pre"]]', 'Address_Set', 'name', '--format=json'], json: true },
    { args: ['monitor-cond', '@', NB, '[true,["name","==","nothing"]]', 'Address_Set', 'name', '--format=json'], json: true },
    { args: ['monitor', '@', NB, 'ALL', '--format=json'], json: true },
    { args: ['monitor', '@', NB, 'Address_Set', 'name'], json: false },
  ];
  const procs: Background[][] = sides.map((s) => monitors.map((m) => sb.spawn('ovsdb-client', m.args.map((a) => (a === '@' ? s.remote : a)))));
  // Every monitor first prints the row "pre" (it matches every condition): then it is registered.
  await waitFor(() => procs.every((ps) => ps.every((p) => p.stdout.includes('pre'))), 10000, 'monitors to print their initial contents');
  const steps = [
    [NB, { op: 'insert', table: 'Address_Set', row: { name: 'c1' } }, { op: 'insert', table: 'Address_Set', row: { name: 'c2', addresses: ['set', ['1.1.1.1']] } }],
    // c1 enters the "includes 1.1.1.1" condition, c2 leaves it
    [NB, { op: 'update', table: 'Address_Set', where: [['name', '==', 'c1']], row: { addresses: ['set', ['1.1.1.1', '8.8.8.8']] } }],
    [NB, { op: 'mutate', table: 'Address_Set', where: [['name', '==', 'c2']], mutations: [['addresses', 'delete', ['set', ['1.1.1.1']]], ['external_ids', 'insert', ['map', [['k', 'v']]]]] }],
    [NB, { op: 'insert', table: 'Logical_Switch', row: { name: 'sw' } }],
    [NB, { op: 'delete', table: 'Address_Set', where: [['name', '==', 'c1']] }],
  ];
  for (const [k, step] of steps.entries()) {
    for (const [j, s] of sides.entries()) {
      const before = procs[j]!.map((p) => p.stdout.length);
      await sb.run('ovsdb-client', ['transact', s.remote, JSON.stringify(step)]);
      await Promise.all(sides.map((ss) => labelRows(ss.remote, NB, ss.norm)));
      // Let the monitors that care print the change before the next step.
      await waitFor(() => procs[j]!.some((p, i) => p.stdout.length > before[i]!), 5000, `a monitor to print step ${k + 1}`);
    }
  }
  await new Promise((r) => setTimeout(r, 200));
  for (const ps of procs) for (const p of ps) await p.stop();
  for (const [i, m] of monitors.entries()) {
    const out = sides.map((s, j) => {
      const text = s.norm.text(procs[j]![i]!.stdout);
      return m.json ? sortJsonData(text) : sortTableRows(text);
    });
    t.equal(out[1], out[0], `ovsdb-client ${m.args.filter((a) => a !== '@').join(' ')}`);
  }
  t.match(procs[1]![1]!.stdout, /_version/, 'ovnts reports _version when all columns are monitored');
});

t.test('ovsdb-client lock / steal: the same notifications as with ovsdb-server', { skip }, async (t) => {
  const { sb, sides } = await setup(t);
  const outputs: string[][] = [];
  for (const s of sides) {
    const a = sb.spawn('ovsdb-client', ['lock', s.remote, 'mylock']);
    await waitFor(() => a.stdout.includes('{"locked":true}'), 5000, 'a to lock');
    const b = sb.spawn('ovsdb-client', ['lock', s.remote, 'mylock']);
    await waitFor(() => b.stdout.includes('{"locked":false}'), 5000, 'b to wait');
    const c = sb.spawn('ovsdb-client', ['steal', s.remote, 'mylock']);
    await waitFor(() => c.stdout.includes('{"locked":true}') && a.stdout.includes('stolen'), 5000, 'c to steal from a');
    await c.stop();
    await waitFor(() => /locked\n\["mylock"\]/.test(a.stdout), 5000, 'a to get the lock back');
    await a.stop();
    await waitFor(() => /locked\n\["mylock"\]/.test(b.stdout), 5000, 'b to get the lock');
    await b.stop();
    outputs.push([a.stdout, b.stdout, c.stdout]);
  }
  t.same(outputs[1], outputs[0], 'lock/steal outputs');
  t.same(outputs[0], ['{"locked":true}\nstolen\n["mylock"]\nlocked\n["mylock"]\n', '{"locked":false}\nlocked\n["mylock"]\n', '{"locked":true}\n'], 'as expected from ovsdb-server');
});

t.test('ovsdb-client wait: database states from _Server', { skip }, async (t) => {
  const { sb, sides } = await setup(t);
  for (const s of sides) {
    const r = await sb.run('ovsdb-client', ['wait', s.remote, NB, 'connected'], { timeoutMs: 10000 });
    t.equal(r.code, 0, `${s.name}: ${NB} is connected`);
    const added = await sb.run('ovsdb-client', ['wait', s.remote, NB, 'added'], { timeoutMs: 10000 });
    t.equal(added.code, 0, `${s.name}: ${NB} is added`);
  }
});
