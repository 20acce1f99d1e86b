/**
 * Topology files for `lab up --topology FILE` (YAML or JSON): the logical network as nbctl
 * command lines, the VMs (which host, which logical switch, addresses), and the reachability the
 * policy promises, which `lab check` (and the demo) verify by pinging.
 *
 *   hosts: 3
 *   nbctl:
 *     - [ls-add, web]
 *     - [acl-add, web, to-lport, "1000", "ip4.src == 10.0.1.0/24 && ip4.dst == 10.0.1.0/24", drop]
 *   vms:
 *     - {name: web1, host: hv1, switch: web, mac: "00:00:00:00:01:01", ip: 10.0.1.11/24, gw: 10.0.1.1}
 *   checks:
 *     - {from: web1, to: app1, expect: reach, why: "web may talk to app"}
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ovnts, type LabState } from './lab.js';
import { vmAdd, vmPing } from './vms.js';

export interface TopologyVm {
  readonly name: string;
  readonly host: string;
  readonly switch?: string;
  readonly port?: string;
  readonly mac: string;
  readonly ip?: string;
  readonly gw?: string;
}

export interface TopologyCheck {
  readonly from: string;
  readonly to: string;
  readonly expect: 'reach' | 'blocked';
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

export async function applyTopology(state: LabState, t: Topology, say: (line: string) => void = () => undefined): Promise<void> {
  for (const line of t.nbctl ?? []) await ovnts(['nbctl', `--db=${state.db}`, ...line.map(String)]);
  for (const v of t.vms ?? []) {
    say(`vm ${v.name} on ${v.host}${v.ip ? ` (${v.ip})` : ''}`);
    await vmAdd({ name: v.name, host: v.host, mac: v.mac, ...(v.port ? { port: v.port } : {}), ...(v.ip ? { ip: v.ip } : {}), ...(v.gw ? { gw: v.gw } : {}), ...(v.switch ? { lswitch: v.switch } : {}) }, state);
  }
  await ovnts(['nbctl', `--db=${state.db}`, '--timeout=30', '--wait=hv', 'sync']);
}

export interface CheckResult extends TopologyCheck {
  readonly reached: boolean;
  readonly ok: boolean;
  readonly detail: string;
}

/** Pings for every check, a few at a time, and compares with what the policy expects. */
export async function runChecks(state: LabState, checks: readonly TopologyCheck[]): Promise<CheckResult[]> {
  const out: CheckResult[] = new Array(checks.length);
  const queue = checks.map((c, i) => [c, i] as const);
  await Promise.all([0, 1, 2, 3].map(async () => {
    for (let item = queue.shift(); item; item = queue.shift()) {
      const [c, i] = item;
      const r = await vmPing(c.from, c.to, { count: 2 }, state).catch((e: unknown) => e as Error);
      const reached = !(r instanceof Error) && r.received > 0;
      const detail = r instanceof Error ? r.message : reached ? `${r.received}/${r.transmitted} replies, ttl ${r.probes.find((p) => p.ttl !== undefined)?.ttl ?? '?'}` : (r.probes.find((p) => p.message)?.message ?? 'no reply');
      out[i] = { ...c, reached, ok: reached === (c.expect === 'reach'), detail };
    }
  }));
  return out;
}

export function formatChecks(results: readonly CheckResult[]): string {
  const rows = results.map((r) => [r.from, r.to, r.expect === 'reach' ? 'allowed' : 'denied', r.reached ? 'reaches' : 'blocked', r.ok ? 'OK' : 'MISMATCH', r.why ?? '']);
  const head = ['from', 'to', 'policy', 'observed', 'verdict', 'why'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const ok = results.filter((r) => r.ok).length;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), '', `${ok} of ${results.length} checks agree with the policy`].join('\n') + '\n';
}
