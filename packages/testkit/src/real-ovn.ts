/**
 * Builds a Southbound database with Debian's real ovn-northd from ovn-nbctl command
 * lines (the oracle scenarios), as ../shared/oracle/record.py does: a fresh ovsdb-server serving
 * empty NB and SB files on a unix socket in a temporary directory, ovn-northd between them, the
 * nbctl lines, `ovn-nbctl --wait=sb sync`, then a read of the SB tables the match language needs.
 * Both daemons are children of the test and are stopped by their PIDs.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TOOLS = {
  ovsdbTool: '/usr/bin/ovsdb-tool',
  ovsdbServer: '/usr/sbin/ovsdb-server',
  northd: '/usr/bin/ovn-northd',
  nbctl: '/usr/bin/ovn-nbctl',
  sbctl: '/usr/bin/ovn-sbctl',
};
const SCHEMA_DIR = '/usr/share/ovn';

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

/** What the match language needs from a Southbound database. */
export interface SouthboundMatches {
  readonly matches: string[];
  readonly actions: string[];
  readonly addressSets: Map<string, string[]>;
  readonly portGroups: Map<string, string[]>;
  /** SB_Global options (svc_monitor_mac feeds the `$svc_monitor_mac` address set). */
  readonly options: Map<string, string>;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, cwd, timeout: 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** ovsdb JSON (as ovn-sbctl --format=json prints it) to plain values. */
function setOf(v: unknown): unknown[] {
  return Array.isArray(v) && v[0] === 'set' ? (v[1] as unknown[]) : [v];
}
function mapOf(v: unknown): Map<string, string> {
  return new Map(Array.isArray(v) && v[0] === 'map' ? (v[1] as [string, string][]) : []);
}

/** A running real OVN control plane (ovsdb-server with NB and SB, ovn-northd) for a test to use. */
export interface RealOvn {
  readonly remote: string;
  readonly dir: string;
  readonly nbctl: (args: readonly string[]) => Promise<string>;
  readonly sbctl: (args: readonly string[]) => Promise<string>;
}

/**
 * Starts ovsdb-server (NB + SB files) and ovn-northd in a temporary directory, applies the nbctl
 * lines (then the sbctl lines, as the oracle's record.py does), waits for northd, runs `fn`,
 * and stops both daemons by PID whatever happens.
 */
export async function withRealOvn<T>(nbctlLines: readonly (readonly string[])[], sbctlLines: readonly (readonly string[])[], fn: (ovn: RealOvn) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-lflow-'));
  const sock = join(dir, 'db.sock');
  const remote = `unix:${sock}`;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const v of ['OVS_RUNDIR', 'OVS_LOGDIR', 'OVS_DBDIR', 'OVS_SYSCONFDIR', 'OVN_RUNDIR', 'OVN_LOGDIR', 'OVN_DBDIR', 'OVN_SYSCONFDIR']) env[v] = dir;
  for (const v of ['OVN_NB_DB', 'OVN_SB_DB', 'OVS_DB', 'OVN_NB_DAEMON']) delete env[v];
  const children: ChildProcess[] = [];
  const daemon = (file: string, args: string[]): ChildProcess => {
    const c = spawn(file, args, { cwd: dir, env, stdio: 'ignore' });
    children.push(c);
    return c;
  };
  try {
    for (const s of ['nb', 'sb']) await run(TOOLS.ovsdbTool, ['create', join(dir, `${s}.db`), join(SCHEMA_DIR, `ovn-${s}.ovsschema`)], env, dir);
    const server = daemon(TOOLS.ovsdbServer, [
      `--remote=punix:${sock}`, `--unixctl=${join(dir, 'ovsdb-server.ctl')}`, '--no-chdir', '-vconsole:off',
      `--log-file=${join(dir, 'ovsdb-server.log')}`, join(dir, 'nb.db'), join(dir, 'sb.db'),
    ]);
    const deadline = Date.now() + 20_000;
    while (!existsSync(sock)) {
      if (Date.now() > deadline || server.exitCode !== null) throw new Error('ovsdb-server did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
    daemon(TOOLS.northd, [
      `--ovnnb-db=${remote}`, `--ovnsb-db=${remote}`, '--no-chdir', '-vconsole:off',
      `--unixctl=${join(dir, 'ovn-northd.ctl')}`, `--log-file=${join(dir, 'ovn-northd.log')}`,
    ]);
    const nbctl = (args: readonly string[]): Promise<string> => run(TOOLS.nbctl, [`--db=${remote}`, '--timeout=50', ...args], env, dir);
    const sbctl = (args: readonly string[]): Promise<string> => run(TOOLS.sbctl, [`--db=${remote}`, '--timeout=50', ...args], env, dir);
    for (const line of nbctlLines) await nbctl(line);
    await nbctl(['--wait=sb', 'sync']);
    if (sbctlLines.length) {
      for (const line of sbctlLines) await sbctl(line);
      await nbctl(['--wait=sb', 'sync']);
      await nbctl(['--wait=sb', 'sync']);
    }
    return await fn({ remote, dir, nbctl, sbctl });
  } finally {
    for (const c of children.reverse()) {
      const running = (): boolean => c.exitCode === null && c.signalCode === null;
      if (running() && c.pid !== undefined) {
        const exited = new Promise((r) => c.once('exit', r));
        process.kill(c.pid, 'SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (running()) process.kill(c.pid, 'SIGKILL');
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

export function southboundFor(nbctlLines: readonly (readonly string[])[], sbctlLines: readonly (readonly string[])[] = []): Promise<SouthboundMatches> {
  return withRealOvn(nbctlLines, sbctlLines, async ({ sbctl }) => {
    const list = async (table: string, columns: string): Promise<unknown[][]> =>
      (JSON.parse(await sbctl(['--format=json', `--columns=${columns}`, 'list', table])) as { data: unknown[][] }).data;
    const matches = (await list('Logical_Flow', 'match')).map((r) => r[0] as string);
    const actions = (await list('Logical_Flow', 'actions')).map((r) => r[0] as string);
    const addressSets = new Map((await list('Address_Set', 'name,addresses')).map((r) => [r[0] as string, setOf(r[1]) as string[]]));
    const portGroups = new Map((await list('Port_Group', 'name,ports')).map((r) => [r[0] as string, setOf(r[1]) as string[]]));
    const globals = await list('SB_Global', 'options');
    const options = globals.length ? mapOf(globals[0]![0]) : new Map<string, string>();
    return { matches, actions, addressSets, portGroups, options };
  });
}

/** Rows of tables in OVSDB's wire form, read with `ovn-sbctl --format=json list` (headings as keys); no columns = all. */
export async function listTables(sbctl: RealOvn['sbctl'], tables: Readonly<Record<string, readonly string[]>>): Promise<Record<string, Record<string, unknown>[]>> {
  const rows: Record<string, Record<string, unknown>[]> = {};
  for (const [table, columns] of Object.entries(tables)) {
    const cols = columns.length ? [`--columns=${columns.join(',')}`] : [];
    const out = JSON.parse(await sbctl(['--format=json', ...cols, 'list', table])) as { headings: string[]; data: unknown[][] };
    rows[table] = out.data.map((r) => Object.fromEntries(out.headings.map((h, i) => [h, r[i]])));
  }
  return rows;
}
