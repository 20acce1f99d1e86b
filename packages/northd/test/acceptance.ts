/**
 * Acceptance through the protocol: an OVSDB server serving NB and SB (the in-process ovnts
 * server, or a real ovsdb-server), ovnts northd on it, a scenario applied with the real
 * ovn-nbctl/ovn-sbctl, `ovn-nbctl --wait=sb sync`, then the real ovn-trace for each probe,
 * parsed into a fate by the oracle's ovntrace_parse.py and scored by its compare.py.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database, OvsdbServer, loadSchema, setLogLevel, type RowJson } from '@ovnts/ovsdb';
import { computeNorthd, nbFromDump, runNorthd, sbFromDump, type NorthdHandle } from '../src/index.js';
import { ORACLE_DIR, OvnSandbox, TOOLS, dumpDatabase, type Probe, type Scenario } from './real-northd.js';
import { oursLines, realLines } from './compare.js';

const CT_ALL_COUNT = 16;

export function traceOptions(p: Probe): string[] {
  const opts: string[] = [];
  if (typeof p.ct === 'string') for (let i = 0; i < CT_ALL_COUNT; i++) opts.push(`--ct=${p.ct}`);
  else if (Array.isArray(p.ct)) for (const c of p.ct) opts.push(`--ct=${c}`);
  if (p.lb_dst) opts.push(`--lb-dst=${p.lb_dst}`);
  return opts;
}

function run(file: string, args: readonly string[], input?: string, env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = execFile(file, args, { timeout: 60_000, maxBuffer: 64 << 20, env: env ?? process.env }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) {
      c.stdin?.end(input);
    }
  });
}

const PARSE = `
import sys, json
sys.path.insert(0, sys.argv[1])
import ovntrace_parse
text = sys.stdin.read()
lb = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
try:
    fate, diag = ovntrace_parse.fate_from_trace(text, sys.argv[2], lb)
    if diag["errors"]:
        fate["notes"] = diag["errors"]
except Exception as e:
    fate = {"verdict": "error", "error": "parse: %s" % e}
print(json.dumps(fate))
`;

/** One probe's fate from real ovn-trace over `remote`'s Southbound database. */
export async function traceFate(remote: string, p: Probe, env: NodeJS.ProcessEnv): Promise<unknown> {
  const r = await run(TOOLS.trace, [`--db=${remote}`, '--all', ...traceOptions(p), p.microflow], undefined, env);
  if (r.code !== 0) return { verdict: 'error', error: `ovn-trace exit ${r.code}: ${r.stderr.trim().split('\n').pop() ?? ''}` };
  const parsed = await run('/usr/bin/python3', ['-c', PARSE, ORACLE_DIR, p.inport, p.lb_dst ?? ''], r.stdout);
  return JSON.parse(parsed.stdout) as unknown;
}

export interface ScenarioRun {
  readonly name: string;
  readonly fates: unknown[];
  readonly northd: { runs: number; sbTransactions: number; errors: number };
}

/** Runs one scenario against a fresh server with ovnts northd and returns the probes' fates. */
export async function runScenario(s: Scenario, server: 'ovnts' | 'real' = 'ovnts'): Promise<ScenarioRun> {
  setLogLevel('off');
  let ts: OvsdbServer | undefined;
  let sb: OvnSandbox;
  if (server === 'ovnts') {
    const dir = mkdtempSync(join(tmpdir(), 'ovnts-northd-acc-'));
    ts = new OvsdbServer();
    ts.addDatabase(new Database(loadSchema('ovn-nb')));
    ts.addDatabase(new Database(loadSchema('ovn-sb')));
    const sock = join(dir, 'db.sock');
    await ts.listen(`punix:${sock}`);
    sb = OvnSandbox.forRemote(`unix:${sock}`);
    const close = sb.close.bind(sb);
    sb.close = async () => {
      await close();
      rmSync(dir, { recursive: true, force: true });
    };
  } else {
    sb = await OvnSandbox.start('ovnts-northd-acc-');
  }
  let northd: NorthdHandle | undefined;
  try {
    northd = await runNorthd({ nbRemote: sb.remote, sbRemote: sb.remote });
    await sb.applyScenario(s);
    const fates: unknown[] = [];
    for (const p of s.packets) fates.push(await traceFate(sb.remote, p, sb.env));
    return { name: s.name, fates, northd: { ...northd.counters } };
  } finally {
    await northd?.stop();
    await sb.close();
    await ts?.close();
  }
}

/** Scores fates with the oracle's compare.py; returns its per-probe lines and totals. */
export async function scoreFates(fates: Record<string, unknown[]>, extraArgs: string[] = []): Promise<{ passed: number; failed: number; skipped: number; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-northd-fates-'));
  try {
    const file = join(dir, 'fates.json');
    writeFileSync(file, JSON.stringify(fates, null, 1));
    const scen = Object.keys(fates).flatMap((n) => ['--scenario', n]);
    const r = await run('/usr/bin/python3', [join(ORACLE_DIR, 'compare.py'), file, ...scen, ...extraArgs]);
    const m = /(\d+) passed, (\d+) failed(?:, (\d+) skipped)?/.exec(r.stdout);
    return { passed: Number(m?.[1] ?? 0), failed: Number(m?.[2] ?? 0), skipped: Number(m?.[3] ?? 0), output: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Builds the Southbound DB for a scenario with ovnts northd and asks the real ovn-trace to load
 * it: returns what ovn-trace complained about (flows it could not parse), if anything.
 */
export async function traceParseComplaints(s: Scenario): Promise<string[]> {
  return (await scenarioThroughDaemon(s)).complaints;
}

/**
 * Builds a scenario's Southbound DB with ovnts northd, the NB applied line by line with the real
 * ovn-nbctl (so the daemon's incremental paths run), and returns what the real ovn-trace
 * complained about when loading it, and how the SB differs from a from-scratch compute over
 * the final NB (and that SB): it must not.
 */
export async function scenarioThroughDaemon(s: Scenario): Promise<{ complaints: string[]; mismatch: string[] }> {
  setLogLevel('off');
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-northd-parse-'));
  const ts = new OvsdbServer();
  ts.addDatabase(new Database(loadSchema('ovn-nb')));
  ts.addDatabase(new Database(loadSchema('ovn-sb')));
  const sock = join(dir, 'db.sock');
  await ts.listen(`punix:${sock}`);
  const sb = OvnSandbox.forRemote(`unix:${sock}`);
  let northd: NorthdHandle | undefined;
  try {
    northd = await runNorthd({ nbRemote: sb.remote, sbRemote: sb.remote });
    await sb.applyScenario(s);
    await northd.idle();
    const port = s.packets[0]?.inport ?? 'none';
    const r = await run(TOOLS.trace, [`--db=${sb.remote}`, '--minimal', `inport == "${port}" && eth.src == 00:00:00:00:00:01 && eth.dst == ff:ff:ff:ff:ff:ff`], undefined, sb.env);
    const complaints = r.stderr.split('\n').filter((l) => l.trim() !== '' && !/no logical port|unknown logical port|Unknown logical|Port ".*" not found/.test(l));
    const nbDump = await dumpDatabase(sb.remote, 'OVN_Northbound');
    const sbDump = await dumpDatabase(sb.remote, 'OVN_Southbound');
    const want = oursLines(computeNorthd({ nb: nbFromDump(nbDump as Record<string, RowJson[]>), sb: sbFromDump(sbDump as Record<string, RowJson[]>) }));
    const have = realLines(sbDump);
    const mismatch: string[] = [];
    for (const table of Object.keys(want)) {
      const a = new Set(want[table]);
      const b = new Set(have[table]);
      for (const x of a) if (!b.has(x)) mismatch.push(`${table}: missing ${x}`);
      for (const x of b) if (!a.has(x)) mismatch.push(`${table}: extra ${x}`);
    }
    return { complaints, mismatch };
  } finally {
    await northd?.stop();
    await sb.close();
    await ts.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
