// Batch mode: many invocations from stdin in one process, each with its own output and status.
import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { batchPrefix, splitShellWords } from '../src/ctl/batch.js';
import { NBCTL } from '../src/ctl/nbctl/tool.js';
import { runOurs, tools } from './helpers/ctl-diff.js';

t.test('shell word splitting', async (t) => {
  t.same(splitShellWords(`lsp-set-addresses p1 "00:00:00:00:00:01 10.0.0.1"`), ['lsp-set-addresses', 'p1', '00:00:00:00:00:01 10.0.0.1']);
  t.same(splitShellWords(`set Logical_Switch sw0 'external_ids:a="b c"'`), ['set', 'Logical_Switch', 'sw0', 'external_ids:a="b c"']);
  t.same(splitShellWords(`a\\ b "x\\"y" ''`), ['a b', 'x"y', '']);
  t.throws(() => splitShellWords(`"open`), /unterminated/);
  t.same(batchPrefix(['--db=unix:x', '--batch']), ['--db=unix:x']);
  t.equal(batchPrefix(['ls-add', '--batch']), undefined, '--batch after a command is not batch mode');
});

t.test('ovnts nbctl --batch runs every line against the database', async (t) => {
  const sb = new tools.Sandbox('ovnts-batch-');
  t.teardown(() => sb.close());
  const remote = (await sb.startTsServer('ts', ['ovn-nb'])).remote;
  const lines = ['ls-add sw0', '# a comment', '', ...Array.from({ length: 50 }, (_, i) => `lsp-add sw0 p${i} -- lsp-set-addresses p${i} "00:00:00:00:00:${i.toString(16).padStart(2, '0')} 10.0.0.${i + 1}"`), 'ls-add sw0', 'lsp-list sw0'];
  const cli = fileURLToPath(new URL('../../bin/ovnts.js', import.meta.url));
  const child = spawn(process.execPath, [cli, 'nbctl', `--db=${remote}`, '--batch'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  child.stdin.end(lines.join('\n') + '\n');
  const code = await new Promise<number>((r) => child.once('exit', (c) => r(c ?? -1)));
  t.equal(code, 1, 'the status of the first failing line');
  t.match(err, /ovn-nbctl: sw0: a switch with this name already exists/);
  t.equal(out.trim().split('\n').length, 50, 'lsp-list printed the 50 ports');
  const addrs = await runOurs(NBCTL, [`--db=${remote}`, 'lsp-get-addresses', 'p49']);
  t.equal(addrs.out, '00:00:00:00:00:31 10.0.0.50\n');
});
