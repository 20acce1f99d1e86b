/**
 * Differential testing of `ovnts nbctl|sbctl|vsctl` against ovn-nbctl, ovn-sbctl and ovs-vsctl:
 * the same script of invocations runs as
 *   A. the real tool against a real ovsdb-server (the reference),
 *   B. ovnts against another real ovsdb-server,
 *   C. ovnts against the ovnts server,
 * each on its own fresh database; after every step stdout, stderr and the exit status of B and
 * C must equal A's once UUIDs are replaced by labels naming the rows (rows with a unique name
 * by that name, others by their content) and hash-ordered output is put in a canonical order.
 *
 * ovnts runs in this process (runTool with captured output), which keeps the tests fast; the
 * shared helpers of the ovsdb package's interop tests (sandbox, servers, labels) are reused.
 */
import type { Test } from 'tap';
import { runTool } from '../../src/ctl/runner.js';
import type { ToolSpec } from '../../src/ctl/tool.js';
import type * as RealTools from '../../../ovsdb/dist/test/helpers/real-tools.js';

/** The ovsdb package's interop helpers (compiled), loaded by path: they are test code, not exported. */
export const tools = (await import(new URL('../../../../ovsdb/dist/test/helpers/real-tools.js', import.meta.url).href)) as typeof RealTools;

export type SchemaName = RealTools.SchemaName;

export interface Captured {
  readonly out: string;
  readonly err: string;
  readonly code: number | null;
}

/** Runs `ovnts <tool>` in this process with its output captured. */
export async function runOurs(tool: ToolSpec, args: readonly string[]): Promise<Captured> {
  let out = '';
  let err = '';
  const code = await runTool(tool, args, { stdout: (s) => (out += s), stderr: (s) => (err += s), onTimeout: () => undefined });
  return { out, err, code };
}

interface Side {
  readonly name: string;
  readonly remote: string;
  readonly norm: RealTools.UuidNormalizer;
  run(step: readonly string[]): Promise<Captured>;
}

/** Commands that do not change the database (their rows need no relabelling). */
const READ_ONLY = /^(show|list|find|get|ls-list|lr-list|list-br|list-ports|br-exists|[a-z-]+-list|lsp-get-[a-z-]+|comment|wait-until)$/;

/** Rows of `--format=table` output come in hash order: sort the lines under the "----" rule. */
function sortTableRows(s: string): string {
  const lines = s.split('\n');
  const rule = lines.findIndex((l) => /^-+( -+)*$/.test(l));
  if (rule < 1) return s;
  const end = lines.indexOf('', rule + 1);
  const stop = end < 0 ? lines.length : end;
  return [...lines.slice(0, rule + 1), ...lines.slice(rule + 1, stop).sort(), ...lines.slice(stop)].join('\n');
}

export interface DiffOptions {
  /** Options put before every step (e.g. --no-wait for vsctl). */
  readonly prefix?: readonly string[];
}

/** Runs the steps on the three sides and compares B and C with A after every step. */
export async function ctlDiff(t: Test, schema: SchemaName, realTool: string, ours: ToolSpec, steps: readonly (readonly string[])[], opts: DiffOptions = {}): Promise<void> {
  const sb = new tools.Sandbox('ovnts-ctl-');
  t.teardown(() => sb.close());
  const prefix = opts.prefix ?? [];
  const [realA, realB, ts] = await Promise.all([sb.startRealServer('a', [schema]), sb.startRealServer('b', [schema]), sb.startTsServer('c', [schema])]);
  const real = async (remote: string, step: readonly string[]): Promise<Captured> => {
    const r = await sb.run(realTool, [`--db=${remote}`, ...prefix, ...step], { timeoutMs: 10000 });
    return { out: r.stdout, err: r.stderr, code: r.code };
  };
  const sides: Side[] = [
    { name: `${realTool} / ovsdb-server`, remote: realA, norm: new tools.UuidNormalizer(), run: (s) => real(realA, s) },
    { name: 'ovnts / ovsdb-server', remote: realB, norm: new tools.UuidNormalizer(), run: (s) => runOurs(ours, [`--db=${realB}`, ...prefix, ...s]) },
    { name: 'ovnts / ovnts db', remote: ts.remote, norm: new tools.UuidNormalizer(), run: (s) => runOurs(ours, [`--db=${ts.remote}`, ...prefix, ...s]) },
  ];
  for (const step of steps) {
    const results = await Promise.all(sides.map((s) => s.run(step)));
    const command = step.find((a) => !a.startsWith('-')) ?? '';
    const dbName = tools.DB_NAMES[schema];
    if (!READ_ONLY.test(command)) await Promise.all(sides.map((s) => tools.labelRows(s.remote, dbName, s.norm)));
    const show = command === 'show';
    const norm = (s: Side, text: string): string => {
      // getopt names the program by its path when the test runs it by path.
      const plain = text.replaceAll(s.remote, 'REMOTE').replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z\|\d+\|/gm, 'TIME|').replace(/^\/\S*\/(?=[\w-]+: )/gm, '');
      const n = tools.normalizeVolatile(s.norm.text(plain));
      return show ? tools.sortTree(tools.canonicalOrder(n)) : sortTableRows(tools.canonicalOrder(n));
    };
    const [ref, ...others] = results.map((r, i) => ({ out: norm(sides[i]!, r.out), err: norm(sides[i]!, r.err), code: r.code }));
    const label = `${realTool} ${step.join(' ')}`;
    if (process.env['CTL_DIFF_VERBOSE']) t.comment(`$ ${label}  [exit ${ref!.code}]\n${ref!.out}${ref!.err}`);
    others.forEach((o, i) => {
      const who = sides[i + 1]!.name;
      t.equal(o.out, ref!.out, `${label}: stdout (${who})`);
      t.equal(o.err, ref!.err, `${label}: stderr (${who})`);
      t.equal(o.code, ref!.code, `${label}: exit status ${ref!.code} (${who})`);
    });
  }
}
