// Acceptance for the tracer: for every scenario of the packet-fate oracle (../shared/oracle),
// build the Southbound DB with real ovn-nbctl + ovn-northd 23.03, then
//   - trace every probe in process and let the oracle's own compare.py judge the fates
//     (strict mode, quirks included: ovnts trace predicts what ovn-trace 23.03 predicts);
//   - run the `ovnts trace --all` command over the live database and compare its text with
//     ovn-trace's recorded output (flow UUIDs blanked, as the oracle records them).
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { southboundFromRows, TRACE_TABLES, Tracer, type Fate } from '../src/index.js';
import { listTables, northdMissing, withRealOvn } from '@ovnts/testkit';

const ORACLE = '/work/shared/oracle';
/** How the oracle's recorded traces write every flow UUID (they differ from run to run). */
const ORACLE_UUID = 'uuid ' + 'x'.repeat(8);
const PYTHON = '/usr/bin/python3';
const OVNTS = fileURLToPath(new URL('../../../cli/bin/ovnts.js', import.meta.url));
const missing =
  northdMissing() ??
  (existsSync(join(ORACLE, 'scenarios')) ? undefined : `${ORACLE}/scenarios not found`) ??
  (existsSync(PYTHON) ? undefined : `${PYTHON} not found (compare.py needs it)`);

interface Probe {
  readonly microflow: string;
  readonly ct?: string | string[];
  readonly lb_dst?: string;
}
interface Scenario {
  readonly name: string;
  readonly nbctl: string[][];
  readonly chassis?: string[][];
  readonly packets: Probe[];
}

function ctList(p: Probe): string[] {
  return p.ct === undefined ? [] : Array.isArray(p.ct) ? p.ct : Array<string>(16).fill(p.ct);
}

function runFile(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** ovn-trace's output with the parts that differ between runs blanked: flow UUIDs, and the
 * ls_*_pre_lb priority-110 flows, where several flows match and ovn-trace picks either. */
function comparable(text: string): string {
  return text
    .replace(/uuid [0-9a-fx]{8}/g, ORACLE_UUID)
    .replace(/(ls_(?:in|out)_pre_lb) \(northd\.c:\d+\): .*, priority 110,/g, '$1: …, priority 110,')
    .trim();
}

t.test('ovnts trace reaches the recorded fates of real OVN', { skip: missing ? `real OVN unavailable: ${missing}` : false }, async (t) => {
  const scenarios = readdirSync(join(ORACLE, 'scenarios')).filter((f) => f.endsWith('.json')).sort()
    .map((f) => JSON.parse(readFileSync(join(ORACLE, 'scenarios', f), 'utf8')) as Scenario);
  const fates: Record<string, Fate[]> = {};
  const textMismatches: string[] = [];
  let texts = 0;
  const queue = [...scenarios];
  // Two sandboxes at a time: the machine has two cores.
  await Promise.all([0, 1].map(async () => {
    for (let s = queue.shift(); s; s = queue.shift()) {
      const sc = s;
      await withRealOvn(sc.nbctl, sc.chassis ?? [], async ({ remote, sbctl }) => {
        const tracer = new Tracer(southboundFromRows(await listTables(sbctl, TRACE_TABLES)));
        t.same(tracer.check().map((e) => `${e.flow.match} / ${e.flow.actions}: ${e.error.message}`), [], `${sc.name}: every logical flow parses`);
        fates[sc.name] = sc.packets.map((p) => tracer.trace(undefined, p.microflow, { ct: ctList(p), ...(p.lb_dst ? { lbDst: p.lb_dst } : {}) }).fate);
        for (const [i, p] of sc.packets.entries()) {
          const recorded = join(ORACLE, 'traces', `${sc.name}-${i + 1}.txt`);
          if (!existsSync(recorded)) continue;
          const args = ['trace', `--db=${remote}`, '--all', ...ctList(p).map((c) => `--ct=${c}`), ...(p.lb_dst ? [`--lb-dst=${p.lb_dst}`] : []), p.microflow];
          const r = await runFile(process.execPath, [OVNTS, ...args]);
          texts++;
          // Our first line is the microflow in OVN syntax; ovn-trace's is the OpenFlow flow.
          const ours = comparable(r.stdout.split('\n').slice(1).join('\n'));
          const theirs = comparable(readFileSync(recorded, 'utf8').split('\n').slice(1).join('\n'));
          if (r.code !== 0 || ours !== theirs) textMismatches.push(`${sc.name}-${i + 1}${r.code ? `: exit ${r.code}: ${r.stderr}` : ''}`);
        }
      });
    }
  }));
  t.same(textMismatches, [], `ovnts trace --all prints what ovn-trace printed (${texts} probes)`);
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-fates-'));
  try {
    const file = join(dir, 'fates.json');
    writeFileSync(file, JSON.stringify(fates));
    const judged = await runFile(PYTHON, [join(ORACLE, 'compare.py'), file, '--strict', '--include-quirks', '-q']);
    const summary = judged.stdout.trim().split('\n').pop() ?? '';
    t.equal(judged.code, 0, `compare.py --strict --include-quirks: ${summary}\n${judged.stdout}${judged.stderr}`);
    t.match(summary, /^\d+ passed, 0 failed/, 'no probe fails');
    t.comment(`oracle: ${summary}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

t.test('ovnts trace reports bad usage in its own words', async (t) => {
  const r = await runFile(process.execPath, [OVNTS, 'trace', '--db=unix:/nonexistent/sb.sock', 'inport == "x"']);
  t.equal(r.code, 1);
  t.match(r.stderr, /database connection failed \(No such file or directory\)/);
  const noArgs = await runFile(process.execPath, [OVNTS, 'trace']);
  t.equal(noArgs.code, 1);
  t.match(noArgs.stderr, /expected \[DATAPATH\] MICROFLOW/);
});
