// The ctl framework's pieces on their own (no servers, no real tools): value syntax, option and
// command parsing, name matching, table output. Expected texts are what OVS 3.1 prints.
import t from 'tap';
import { loadSchema } from '@ovnts/ovsdb';
import { atomToString, datumFromString, datumToBare, datumToString, tokenParse } from '../src/ctl/datum-text.js';
import { CtlError } from '../src/ctl/errors.js';
import { findColumn, findTable } from '../src/ctl/names.js';
import { NBCTL } from '../src/ctl/nbctl/tool.js';
import { parseArgs } from '../src/ctl/options.js';
import { parseCommands } from '../src/ctl/parse-commands.js';
import { SymbolTable } from '../src/ctl/symbols.js';
import { Table, TablePrinter, defaultTableStyle } from '../src/ctl/table-output.js';
import { jsonToString } from '../src/ctl/json-text.js';

const nb = loadSchema('ovn-nb');
const col = (table: string, column: string) => nb.tables.get(table)!.columns.get(column)!.type;
const message = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof CtlError) return e.message;
    throw e;
  }
  return 'no error';
};

t.test('tokens', async (t) => {
  t.same(tokenParse('abc:def', 0), ['abc', 3]);
  t.same(tokenParse('a\\:b=c', 0), ['a:b', 4]);
  t.same(tokenParse('"a:b"=c', 0), ['"a:b"', 5]);
  t.equal(message(() => tokenParse('"abc', 0)), '"abc: quoted string extends past end of argument');
  t.equal(message(() => tokenParse('ab\\', 0)), 'ab\\: backslash at end of argument');
});

t.test('values from text', async (t) => {
  const ids = col('Logical_Switch', 'external_ids');
  t.same(datumFromString(ids, '{b=2, a="x y"}', undefined), [
    ['a', 'x y'],
    ['b', '2'],
  ]);
  t.same(datumFromString(ids, 'a=1 b=2', undefined), [
    ['a', '1'],
    ['b', '2'],
  ]);
  t.equal(message(() => datumFromString(ids, 'x=1 x=2', undefined)), 'x=1 x=2: map contains duplicate key');
  t.equal(message(() => datumFromString(ids, 'x', undefined)), 'x: syntax error at "');
  t.equal(message(() => datumFromString(ids, '', undefined)), 'use "{}" to specify the empty map');
  t.equal(message(() => datumFromString(ids, '{x=1}}', undefined)), '{x=1}}: trailing garbage after "}"');
  t.equal(message(() => datumFromString(ids, ',a=b', undefined)), ',a=b: unexpected "," parsing map of (string, string) pairs');
  const prio = col('ACL', 'priority');
  t.same(datumFromString(prio, '5', undefined), [5]);
  t.equal(message(() => datumFromString(prio, '70000', undefined)), 'constraint violation: 70000 is not in the valid range 0 to 32767 (inclusive)');
  t.equal(message(() => datumFromString(prio, '1-3', undefined)), '1-3: 3 value(s) specified but the maximum number is 1');
  t.equal(message(() => datumFromString(prio, 'x', undefined)), '"x" is not a valid integer or range');
  t.equal(message(() => datumFromString(col('ACL', 'direction'), 'up', undefined)), 'constraint violation: up is not one of the allowed values ([from-lport, to-lport])');
  t.equal(message(() => datumFromString(col('ACL', 'log'), 'maybe', undefined)), '"maybe" is not a valid boolean (use "true" or "false")');
  t.equal(message(() => datumFromString(col('ACL', 'name'), '"\\q"', undefined)), '"\\q": bad escape \\q');
  const symtab = new SymbolTable();
  const acls = datumFromString(col('Logical_Switch', 'acls'), '[@a]', symtab);
  t.equal(acls[0], symtab.get('@a')!.uuid, '@name refers to a symbol');
  t.ok(symtab.get('@a')!.strongRef);
});

t.test('values to text', async (t) => {
  t.equal(atomToString('sw0', 'string'), 'sw0');
  t.equal(atomToString('a.b-c_d', 'string'), 'a.b-c_d');
  for (const s of ['', '10.0.0.1', 'a b', 'true', '-x', 'é', 'abcdef01-0000-0000-0000-000000000000']) {
    t.equal(atomToString(s, 'string'), JSON.stringify(s), `${JSON.stringify(s)} is quoted`);
  }
  const ids = col('Logical_Switch', 'external_ids');
  t.equal(datumToString([['a', '1'], ['b', 'x y']], ids), '{a="1", b="x y"}');
  t.equal(datumToBare([['a', '1'], ['b', 'x y']], ids), 'a=1 b=x y');
  t.equal(datumToString([], col('Logical_Switch_Port', 'tag')), '[]');
  t.equal(datumToString([7], col('Logical_Switch_Port', 'tag')), '7');
});

t.test('table and column names', async (t) => {
  t.equal(findTable(nb, 'logical_switch_p').name, 'Logical_Switch_Port');
  t.equal(findTable(nb, 'nb').name, 'NB_Global');
  t.equal(findTable(nb, 'Logical_Switch').name, 'Logical_Switch');
  t.equal(message(() => findTable(nb, 'logical_s')), '"logical_s" matches multiple table names: Logical_Switch, Logical_Switch_Port');
  t.equal(message(() => findTable(nb, 'ls')), 'unknown table "ls"');
  const lsp = nb.tables.get('Logical_Switch_Port')!;
  t.equal(findColumn(lsp, 'tag-r').name, 'tag_request');
  t.equal(message(() => findColumn(lsp, 'ta')), 'Logical_Switch_Port contains more than one column whose name matches "ta": tag, tag_request');
});

t.test('options and commands', async (t) => {
  const a = parseArgs(NBCTL, ['--db=unix:/x', '-f', 'csv', '--if-exists', '--', 'get', 'Logical_Switch', 'sw0', 'name']);
  t.equal(a.opts.db, 'unix:/x');
  t.equal(a.opts.style.format, 'csv');
  t.same([...a.local], [['--if-exists', null]]);
  t.same(a.rest, ['get', 'Logical_Switch', 'sw0', 'name']);
  t.equal(parseArgs(NBCTL, ['--bare', 'ls-list']).opts.style.cellFormat, 'bare');
  t.equal(parseArgs(NBCTL, ['--time=5', 'ls-list']).opts.timeout, 5, 'long options may be abbreviated');
  t.equal(message(() => parseArgs(NBCTL, ['--bogus'])), "unrecognized option '--bogus'");
  t.equal(message(() => parseArgs(NBCTL, ['--db'])), "option '--db' requires an argument");
  t.equal(message(() => parseArgs(NBCTL, ['--oneline=x'])), "option '--oneline=x' doesn't allow an argument");
  t.equal(message(() => parseArgs(NBCTL, ['--timeout=0'])), 'value 0 on -t or --timeout is invalid');
  t.equal(message(() => parseArgs(NBCTL, ['-f', 'yaml'])), 'unknown output format "yaml"');
  const cmds = parseCommands(NBCTL, ['ls-add', 'a', '--', '--may-exist', 'ls-add', 'b'], new Map());
  t.same(
    cmds.map((c) => [c.argv, [...c.options.keys()]]),
    [
      [['ls-add', 'a'], []],
      [['ls-add', 'b'], ['--may-exist']],
    ],
  );
  t.equal(message(() => parseCommands(NBCTL, ['ls-list', 'x'], new Map())), "'ls-list' command takes at most 0 arguments");
  t.equal(message(() => parseCommands(NBCTL, ['ls-list', '--x'], new Map())), `'ls-list' command takes at most 0 arguments (note that options must precede command names and follow a "--" argument)`);
  t.equal(message(() => parseCommands(NBCTL, ['--if-exists', 'ls-list'], new Map())), "'ls-list' command has no '--if-exists' option");
  t.equal(message(() => parseCommands(NBCTL, ['--id', 'get', 'Logical_Switch', 'x'], new Map())), "missing argument to '--id' option on 'get' command");
  t.equal(message(() => parseCommands(NBCTL, ['--if-exists=1', 'get', 'Logical_Switch', 'x'], new Map())), "'--if-exists' option on 'get' does not accept an argument");
  t.equal(message(() => parseCommands(NBCTL, ['frob'], new Map())), "unknown command 'frob'; use --help for help");
  t.equal(message(() => parseCommands(NBCTL, [], new Map())), 'missing command name (use --help for help)');
  t.equal(message(() => parseCommands(NBCTL, ['set', 'Logical_Switch'], new Map())), "'set' command requires at least 3 arguments");
});

t.test('table output', async (t) => {
  const type = col('Logical_Switch', 'name');
  const tab = new Table(['name', 'other']);
  tab.addRow([{ datum: ['sw0'], type }, { text: 'x' }]);
  tab.addRow([{ datum: ['a b'], type }, { text: 'é' }]);
  const style = defaultTableStyle();
  t.equal(new TablePrinter(style).format(tab), 'name                : sw0\nother               : x\n\nname                : "a b"\nother               : é\n');
  style.format = 'table';
  t.equal(new TablePrinter(style).format(tab), 'name  other\n----- -----\nsw0   x\n"a b" é\n', 'widths count bytes, trailing blanks are cut');
  style.format = 'csv';
  t.equal(new TablePrinter(style).format(tab), 'name,other\nsw0,x\n"""a b""",é\n');
  style.format = 'json';
  t.equal(new TablePrinter(style).format(tab), '{"data":[["sw0","x"],["a b","é"]],"headings":["name","other"]}\n');
  const printer = new TablePrinter({ ...defaultTableStyle(), format: 'list' });
  printer.format(tab);
  t.match(printer.format(tab), /^\n/, 'a second table of the same format is preceded by a blank line');
  t.equal(jsonToString({ b: [1, [2]], a: {} }, { sort: true, pretty: true }), '{\n  "a": {\n    },\n  "b": [\n    1,\n    [\n      2]]}');
});
