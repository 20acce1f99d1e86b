/**
 * Test helper: runs Debian's real ovn-northd 23.03 over the oracle scenarios, as
 * ../shared/oracle/record.py does (a fresh ovsdb-server serving empty NB and SB files on a unix
 * socket in a temporary directory, ovn-northd between them, the scenario's nbctl lines, a
 * `--wait=sb sync`, its sbctl lines, two more syncs), then dumps both databases whole as wire rows.
 *
 * Adapted from packages/lflow/test/real-northd.ts. Both daemons are children of this process
 * and are stopped by their PIDs. Everything runs asynchronously.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OvsdbClient, type RowJson } from '@ovnts/ovsdb';

export const TOOLS = {
  ovsdbTool: '/usr/bin/ovsdb-tool',
  ovsdbServer: '/usr/sbin/ovsdb-server',
  northd: '/usr/bin/ovn-northd',
  nbctl: '/usr/bin/ovn-nbctl',
  sbctl: '/usr/bin/ovn-sbctl',
  trace: '/usr/bin/ovn-trace',
};
export const SCHEMA_DIR = '/usr/share/ovn';
export const ORACLE_DIR = '/work/shared/oracle';

/** Why real northd cannot run here, or undefined when it can. */
export function northdMissing(): string | undefined {
  for (const p of Object.values(TOOLS)) {
    try {
      accessSync(p, constants.X_OK);
    } catch {
      return `${p} is not installed (Debian packages ovn-central, ovn-common, openvswitch-common)`;
    }
  }
  for (const s of ['ovn-nb', 'ovn-sb']) {
    if (!existsSync(join(SCHEMA_DIR, `${s}.ovsschema`))) return `${SCHEMA_DIR}/${s}.ovsschema is missing`;
  }
  return undefined;
}

export interface Probe {
  readonly description: string;
  readonly inport: string;
  readonly microflow: string;
  readonly ct?: string | string[];
  readonly lb_dst?: string;
  readonly quirk?: string;
  readonly expected: unknown;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly nbctl: readonly (readonly string[])[];
  readonly chassis?: readonly (readonly string[])[];
  readonly packets: readonly Probe[];
  /** Apply all nbctl lines as one ovn-nbctl invocation (one NB transaction, one northd run). */
  readonly nbctl_batch?: boolean;
}

/** The oracle's scenarios, by name (sorted). Empty when the oracle directory is absent. */
export function loadScenarios(dir = join(ORACLE_DIR, 'scenarios')): Scenario[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Scenario);
}

/** A whole database as wire rows, by table. */
export type DbDump = Record<string, RowJson[]>;

export function runTool(file: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, cwd, timeout: 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** Every row of every table of `db`, through the ovnts client. */
export async function dumpDatabase(remote: string, db: string): Promise<DbDump> {
  const client = new OvsdbClient({ remotes: [remote], backoff: { maxAttempts: 3 } });
  await client.connect();
  try {
    const schema = await client.getSchemaJson(db);
    const tables = Object.keys(schema['tables'] as Record<string, unknown>).sort();
    const tx = client.transaction(db);
    const refs = tables.map((t) => tx.select(t, []));
    const res = await tx.execute();
    const out: DbDump = {};
    tables.forEach((t, i) => (out[t] = [...res.get(refs[i]!).rows]));
    return out;
  } finally {
    await client.close();
  }
}

/** A sandbox: ovsdb-server with empty NB and SB on one unix socket, in a temporary directory. */
export class OvnSandbox {
  readonly dir: string;
  readonly remote: string;
  readonly env: NodeJS.ProcessEnv;
  private readonly children: ChildProcess[] = [];

  private constructor(dir: string) {
    this.dir = dir;
    this.remote = `unix:${join(dir, 'db.sock')}`;
    this.env = { ...process.env };
    for (const v of ['OVS_RUNDIR', 'OVS_LOGDIR', 'OVS_DBDIR', 'OVS_SYSCONFDIR', 'OVN_RUNDIR', 'OVN_LOGDIR', 'OVN_DBDIR', 'OVN_SYSCONFDIR']) this.env[v] = dir;
    for (const v of ['OVN_NB_DB', 'OVN_SB_DB', 'OVS_DB', 'OVN_NB_DAEMON']) delete this.env[v];
  }

  /** Starts a real ovsdb-server with empty NB and SB. */
  static async start(prefix = 'ovnts-northd-'): Promise<OvnSandbox> {
    const sb = new OvnSandbox(mkdtempSync(join(tmpdir(), prefix)));
    try {
      const sock = join(sb.dir, 'db.sock');
      for (const s of ['nb', 'sb']) await sb.tool(TOOLS.ovsdbTool, ['create', join(sb.dir, `${s}.db`), join(SCHEMA_DIR, `ovn-${s}.ovsschema`)]);
      const server = sb.daemon(TOOLS.ovsdbServer, [
        `--remote=punix:${sock}`, `--unixctl=${join(sb.dir, 'ovsdb-server.ctl')}`, '--no-chdir', '-vconsole:off',
        `--log-file=${join(sb.dir, 'ovsdb-server.log')}`, join(sb.dir, 'nb.db'), join(sb.dir, 'sb.db'),
      ]);
      const deadline = Date.now() + 20_000;
      while (!existsSync(sock)) {
        if (Date.now() > deadline || server.exitCode !== null) throw new Error('ovsdb-server did not start');
        await new Promise((r) => setTimeout(r, 20));
      }
      return sb;
    } catch (e) {
      await sb.close();
      throw e;
    }
  }

  /** A sandbox whose databases are served elsewhere (e.g. an in-process ovnts server). */
  static forRemote(remote: string, prefix = 'ovnts-northd-'): OvnSandbox {
    const sb = new OvnSandbox(mkdtempSync(join(tmpdir(), prefix)));
    (sb as { remote: string }).remote = remote;
    return sb;
  }

  tool(file: string, args: readonly string[]): Promise<string> {
    return runTool(file, args, this.env, this.dir);
  }

  daemon(file: string, args: readonly string[]): ChildProcess {
    const c = spawn(file, args, { cwd: this.dir, env: this.env, stdio: 'ignore' });
    this.children.push(c);
    return c;
  }

  startRealNorthd(): ChildProcess {
    return this.daemon(TOOLS.northd, [
      `--ovnnb-db=${this.remote}`, `--ovnsb-db=${this.remote}`, '--no-chdir', '-vconsole:off',
      `--unixctl=${join(this.dir, 'ovn-northd.ctl')}`, `--log-file=${join(this.dir, 'ovn-northd.log')}`,
    ]);
  }

  nbctl(args: readonly string[]): Promise<string> {
    return this.tool(TOOLS.nbctl, [`--db=${this.remote}`, '--timeout=50', ...args]);
  }

  sbctl(args: readonly string[]): Promise<string> {
    return this.tool(TOOLS.sbctl, [`--db=${this.remote}`, '--timeout=50', ...args]);
  }

  /** Applies a scenario as record.py does (nbctl lines, sync, sbctl lines, two syncs). */
  async applyScenario(s: Pick<Scenario, 'nbctl' | 'chassis' | 'nbctl_batch'>): Promise<void> {
    if (s.nbctl_batch) await this.nbctl(s.nbctl.flatMap((line, i) => (i === 0 ? [...line] : ['--', ...line])));
    else for (const line of s.nbctl) await this.nbctl(line);
    await this.nbctl(['--wait=sb', 'sync']);
    if (s.chassis?.length) {
      for (const line of s.chassis) await this.sbctl(line);
      await this.nbctl(['--wait=sb', 'sync']);
      await this.nbctl(['--wait=sb', 'sync']);
    }
  }

  async close(): Promise<void> {
    for (const c of this.children.reverse()) {
      const running = (): boolean => c.exitCode === null && c.signalCode === null;
      if (running() && c.pid !== undefined) {
        const exited = new Promise((r) => c.once('exit', r));
        process.kill(c.pid, 'SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (running()) process.kill(c.pid, 'SIGKILL');
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Real ovn-northd's NB and SB for a scenario. */
export async function realNorthdDump(s: Pick<Scenario, 'nbctl' | 'chassis' | 'nbctl_batch'>): Promise<{ nb: DbDump; sb: DbDump }> {
  const sb = await OvnSandbox.start();
  try {
    sb.startRealNorthd();
    await sb.applyScenario(s);
    return { nb: await dumpDatabase(sb.remote, 'OVN_Northbound'), sb: await dumpDatabase(sb.remote, 'OVN_Southbound') };
  } finally {
    await sb.close();
  }
}

/** What real ovn-trace complains about when loading the SB real ovn-northd built for a scenario. */
export async function realTraceComplaints(s: Scenario): Promise<string[]> {
  const sb = await OvnSandbox.start();
  try {
    sb.startRealNorthd();
    await sb.applyScenario(s);
    const port = s.packets[0]?.inport ?? 'none';
    const r = await new Promise<string>((resolve) => {
      execFile(TOOLS.trace, [`--db=${sb.remote}`, '--minimal', `inport == "${port}" && eth.src == 00:00:00:00:00:01 && eth.dst == ff:ff:ff:ff:ff:ff`], { env: sb.env, timeout: 60_000 }, (_e, _o, stderr) => resolve(stderr));
    });
    return r.split('\n').filter((l) => l.trim() !== '' && !/no logical port|unknown logical port|Unknown logical|Port ".*" not found/.test(l));
  } finally {
    await sb.close();
  }
}
