/**
 * Topology files for `lab up --topology FILE` (YAML or JSON): the logical network as nbctl
 * command lines, the VMs (which host, which logical switch, addresses, TCP ports they serve), and
 * the reachability the policy promises, which `lab check` (and the demo) verify by pinging or, for
 * a check with `tcp: PORT`, by a TCP request that the serving VM answers with its name and the
 * client address it saw (so a check can also say which address the server must see: `seen_as`,
 * for SNAT, and which VMs may answer: `answered_by`, for load balancers).
 *
 *   hosts: 3
 *   nbctl:
 *     - [ls-add, web]
 *     - [acl-add, web, to-lport, "1000", "ip4.src == 10.0.1.0/24 && ip4.dst == 10.0.1.0/24", drop]
 *   vms:
 *     - {name: web1, host: hv1, switch: web, mac: "00:00:00:00:01:01", ip: 10.0.1.11/24, gw: 10.0.1.1}
 *   checks:
 *     - {from: web1, to: app1, expect: reach, why: "web may talk to app"}
 *     - {from: web1, to: app1, tcp: 80, expect: reach}
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ovnts, type LabState } from './lab.js';
import { OVNTS_BIN } from './processes.js';
import { addressOf, vmAdd, vmControl, vmPing } from './vms.js';
import { vmRequest } from './vm-daemon.js';

export interface TopologyVm {
  readonly name: string;
  readonly host: string;
  readonly switch?: string;
  readonly port?: string;
  readonly mac: string;
  readonly ip?: string;
  readonly gw?: string;
  /** TCP ports the VM answers on (with "NAME SRC": its name and the client address it saw). */
  readonly serve?: readonly number[];
  /** A real network namespace instead of a simulated VM (root only; docs/lab.md, "netns VMs"). */
  readonly netns?: boolean;
}

export interface TopologyCheck {
  readonly from: string;
  readonly to: string;
  readonly expect: 'reach' | 'blocked';
  /** A TCP request to this port instead of a ping. */
  readonly tcp?: number;
  /** For `tcp`: the source address the server must see (a VM name or an address). */
  readonly seen_as?: string;
  /** For `tcp`: the VMs that may answer (a load balancer's backends); by default `to` itself. */
  readonly answered_by?: readonly string[];
  readonly why?: string;
}

export interface Topology {
  readonly hosts?: number;
  readonly nbctl?: readonly (readonly string[])[];
  readonly vms?: readonly TopologyVm[];
  readonly checks?: readonly TopologyCheck[];
}

export function loadTopology(path: string): Topology {
  const text = readFileSync(path, 'utf8');
  const t = (path.endsWith('.json') ? JSON.parse(text) : parseYaml(text)) as Topology;
  if (!t || typeof t !== 'object') throw new Error(`${path}: not a topology`);
  for (const line of t.nbctl ?? []) if (!Array.isArray(line)) throw new Error(`${path}: every nbctl entry is a list of arguments`);
  for (const v of t.vms ?? []) if (!v.name || !v.host || !v.mac) throw new Error(`${path}: every vm needs name, host and mac`);
  return t;
}

/**
 * Creates the logical network (applyNbctl; skipped with `nbctlDone` when it ran while the lab
 * came up), starts the VMs side by side, and waits until every host's flows reflect it
 * (`--wait=hv sync`).
 */
export async function applyTopology(state: LabState, t: Topology, say: (line: string) => void = () => undefined, opts: { nbctlDone?: boolean } = {}): Promise<void> {
  if (!opts.nbctlDone) await applyNbctl(state.db, t);
  await Promise.all((t.vms ?? []).map(async (v) => {
    await vmAdd({ name: v.name, host: v.host, mac: v.mac, ...(v.port ? { port: v.port } : {}), ...(v.ip ? { ip: v.ip } : {}), ...(v.gw ? { gw: v.gw } : {}), ...(v.netns ? { netns: true } : {}) }, state);
    // (A netns VM runs its own servers: `lab exec VM -- …`.)
    for (const port of v.netns ? [] : (v.serve ?? [])) await vmRequest(vmControl(v.name, state), { op: 'listen', port, response: `${v.name} {src}` });
    say(`vm ${v.name} on ${v.host}${v.ip ? ` (${v.ip})` : ''}`);
  }));
  await ovnts(['nbctl', `--db=${state.db}`, '--timeout=30', '--wait=hv', 'sync']);
  // As a booting OS does, each simulated VM talks to its gateway once: the router learns it
  // (a MAC_Binding), so the first packet routed to it is not spent on address resolution.
  await Promise.all((t.vms ?? []).filter((v) => v.gw && !v.netns).map((v) => vmPing(v.name, v.gw!, { count: 1 }, state).catch(() => undefined)));
}

/** The topology's logical network (its nbctl lines, then the VMs' logical ports) through one `nbctl --batch` process. */
export async function applyNbctl(db: string, t: Topology): Promise<void> {
  const lines = (t.nbctl ?? []).map((line) => line.map((w) => shellQuote(String(w))).join(' '));
  for (const v of t.vms ?? []) {
    if (!v.switch) continue;
    const port = v.port ?? v.name;
    const addr = `${v.mac}${v.ip ? ` ${v.ip.split('/')[0]}` : ''}`;
    lines.push(['--may-exist', 'lsp-add', v.switch, port, '--', 'lsp-set-addresses', port, addr].map(shellQuote).join(' '));
  }
  if (lines.length) await ovntsWithInput(['nbctl', `--db=${db}`, '--batch'], lines.join('\n') + '\n');
}

/** One word for a POSIX shell (what `nbctl --batch` reads). */
function shellQuote(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`;
}

function ovntsWithInput(args: readonly string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [OVNTS_BIN, ...args], { timeout: 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ovnts ${args.slice(0, 3).join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
    child.stdin?.end(input);
  });
}

export interface CheckResult extends TopologyCheck {
  readonly reached: boolean;
  readonly ok: boolean;
  readonly detail: string;
  /** For a TCP check that was answered: who answered, and the client address it saw. */
  readonly answer?: { readonly by: string; readonly seen: string };
}

/** Runs every check (a few at a time) and compares with what the policy expects. */
export async function runChecks(state: LabState, checks: readonly TopologyCheck[]): Promise<CheckResult[]> {
  const out: CheckResult[] = new Array(checks.length);
  const queue = checks.map((c, i) => [c, i] as const);
  await Promise.all([0, 1, 2, 3].map(async () => {
    for (let item = queue.shift(); item; item = queue.shift()) {
      const [c, i] = item;
      out[i] = c.tcp !== undefined ? await tcpCheck(state, c, c.tcp) : await pingCheck(state, c);
    }
  }));
  return out;
}

async function pingCheck(state: LabState, c: TopologyCheck): Promise<CheckResult> {
  const r = await vmPing(c.from, c.to, { count: 2 }, state).catch((e: unknown) => e as Error);
  const reached = !(r instanceof Error) && r.received > 0;
  const detail = r instanceof Error ? r.message : reached ? `${r.received}/${r.transmitted} replies, ttl ${r.probes.find((p) => p.ttl !== undefined)?.ttl ?? '?'}` : (r.probes.find((p) => p.message)?.message ?? 'no reply');
  return { ...c, reached, ok: reached === (c.expect === 'reach'), detail };
}

/** A TCP request; the answer ("NAME SRC") says who answered and which client address it saw. */
async function tcpCheck(state: LabState, c: TopologyCheck, port: number): Promise<CheckResult> {
  const r = await vmRequest(vmControl(c.from, state), { op: 'tcp', dst: addressOf(c.to, state), port, payload: 'hello\n', timeoutMs: 1500 }, 5000)
    .then((x) => (x as { response: string }).response, (e: unknown) => e as Error);
  if (r instanceof Error) return { ...c, reached: false, ok: c.expect === 'blocked', detail: `tcp ${port}: ${r.message}` };
  const [by = '', seen = ''] = r.trim().split(/\s+/);
  const problems: string[] = [];
  const allowed = c.answered_by ?? (state.vms.some((v) => v.name === c.to) ? [c.to] : undefined);
  if (allowed && !allowed.includes(by)) problems.push(`answered by ${by}, not ${allowed.join('/')}`);
  if (c.seen_as !== undefined && seen !== addressOf(c.seen_as, state)) problems.push(`seen as ${seen}, not ${addressOf(c.seen_as, state)}`);
  const detail = `tcp ${port}: answered by ${by}, seen as ${seen}${problems.length ? ` (${problems.join('; ')})` : ''}`;
  return { ...c, reached: true, ok: c.expect === 'reach' && problems.length === 0, detail, answer: { by, seen } };
}

export function formatChecks(results: readonly CheckResult[]): string {
  const rows = results.map((r) => [r.from, r.tcp !== undefined ? `${r.to} tcp/${r.tcp}` : r.to, r.expect === 'reach' ? 'allowed' : 'denied', r.answer ? `${r.answer.by} answers, sees ${r.answer.seen}` : r.reached ? 'reaches' : 'blocked', r.ok ? 'OK' : 'MISMATCH', r.why ?? '']);
  const head = ['from', 'to', 'policy', 'observed', 'verdict', 'why'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const ok = results.filter((r) => r.ok).length;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), '', `${ok} of ${results.length} checks agree with the policy`].join('\n') + '\n';
}
