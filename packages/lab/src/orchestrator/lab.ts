/**
 * `ovnts lab up | status | down`: a virtual datacenter of separate processes on this machine.
 *   central: one database server (NB + SB, durable files) and northd;
 *   per host hvK: a local Open_vSwitch database, a switch (tunnel endpoint 127.0.0.(10+K)) that
 *   plays ovs-vswitchd for it, and a controller.
 * Everything it starts is recorded (with PIDs) in DIR/lab.json, and `down` stops exactly that.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteNetns } from './netns.js';
import { OVNTS_BIN, isAlive, sleep, socketReady, startDaemon, stopDaemon, waitFor, type DaemonRecord } from './processes.js';

export interface HostRecord {
  readonly name: string;
  /** Tunnel endpoint and the address VIF sockets bind to. */
  readonly ip: string;
  readonly dir: string;
  readonly vswitchDb: string;
  readonly switchControl: string;
}

export interface VmRecord {
  readonly name: string;
  readonly host: string;
  readonly port: string;
  readonly mac: string;
  readonly ip: string | undefined;
  readonly gw: string | undefined;
  /** The simulated VM's control socket ('' for a netns VM, which has none). */
  readonly control: string;
  /** The switch side and the VM side of the datagram VIF (for a netns VM, socat's side). */
  readonly switchAddr: string;
  readonly vmAddr: string;
  /** A netns VM (docs/lab.md): its network namespace; its process in `daemons` is socat. */
  readonly netns?: string;
  /** A netns VM's eth0 MTU. */
  readonly mtu?: number;
}

export interface LabState {
  readonly dir: string;
  readonly db: string;
  hosts: HostRecord[];
  daemons: DaemonRecord[];
  vms: VmRecord[];
}

export function labDir(): string {
  return process.env['OVNTS_LAB_DIR'] ?? join(tmpdir(), 'ovnts-lab');
}

function statePath(dir: string): string {
  return join(dir, 'lab.json');
}

export function loadState(dir = labDir()): LabState | undefined {
  const p = statePath(dir);
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as LabState) : undefined;
}

export function saveState(s: LabState): void {
  writeFileSync(statePath(s.dir), JSON.stringify(s, null, 2));
}

/** Runs `ovnts ARGS…` to completion (the operator CLIs); rejects with its stderr on failure. */
export function ovnts(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [OVNTS_BIN, ...args], { env: { ...process.env, ...env }, timeout: 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ovnts ${args.slice(0, 3).join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/**
 * Host k's tunnel address: 127.A.B.(10+k), with A.B derived from the lab directory, so labs in
 * different directories (tests running side by side) never share a Geneve socket or VIF port.
 */
export function hostIp(dir: string, k: number): string {
  const h = createHash('sha1').update(dir).digest();
  return `127.${1 + (h[0]! % 250)}.${h[1]!}.${10 + k}`;
}

/** Waits (up to 30 s) until `n` chassis are registered in the Southbound DB, asking over one connection. */
async function waitForChassis(db: string, n: number): Promise<void> {
  const { OvsdbClient } = await import('@ovnts/ovsdb');
  const client = new OvsdbClient({ remotes: [db] });
  try {
    await client.connect();
    await waitFor('chassis registration', async () => {
      const tx = client.transaction('OVN_Southbound');
      const sel = tx.select('Chassis', [], ['name']);
      return (await tx.execute()).get(sel).rows.length >= n;
    }, 30_000, 50);
  } finally {
    client.close();
  }
}

/** Creates the Open_vSwitch row of a fresh local database with these external_ids. */
async function initVswitchDb(remote: string, externalIds: Record<string, string>): Promise<void> {
  const { OvsdbClient, ovsMap } = await import('@ovnts/ovsdb');
  const client = new OvsdbClient({ remotes: [remote] });
  try {
    await client.connect();
    const tx = client.transaction('Open_vSwitch');
    tx.insert('Open_vSwitch', { external_ids: ovsMap(externalIds) });
    await tx.execute();
  } finally {
    client.close();
  }
}

export interface UpOptions {
  readonly hosts: number;
  readonly dir?: string;
  readonly progress?: (line: string) => void;
  readonly verbose?: boolean;
  /**
   * Work on the central database (e.g. a topology's nbctl commands) run while the hosts start,
   * as soon as the database and northd are up; labUp returns once it is done too.
   */
  readonly alongside?: (db: string) => Promise<void>;
}

export async function labUp(opts: UpOptions): Promise<LabState> {
  const dir = opts.dir ?? labDir();
  const say = opts.progress ?? (() => undefined);
  const old = loadState(dir);
  if (old && old.daemons.some((d) => isAlive(d.pid))) throw new Error(`a lab is already running in ${dir} (ovnts lab down first)`);
  // Namespaces of an earlier lab here whose processes are gone (a crash, a reboot of the state).
  for (const v of old?.vms ?? []) if (v.netns) await deleteNetns(v.netns).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const sock = join(dir, 'db.sock');
  const db = `unix:${sock}`;
  const state: LabState = { dir, db, hosts: [], daemons: [], vms: [] };
  const log = (name: string): string => join(dir, `${name}.log`);
  const verbose = opts.verbose ? ['-v'] : [];
  try {
    say('central: databases');
    // In this process: two `ovnts db create` processes would cost a Node start-up each. (Loaded
    // here, not at the top: VM processes load this package too and need none of the database.)
    const { createDatabaseFile, resolveSchemaPath } = await import('@ovnts/ovsdb');
    await createDatabaseFile(join(dir, 'nb.db'), readFileSync(resolveSchemaPath('ovn-nb'), 'utf8'));
    await createDatabaseFile(join(dir, 'sb.db'), readFileSync(resolveSchemaPath('ovn-sb'), 'utf8'));
    state.daemons.push(startDaemon('db', ['db', 'serve', join(dir, 'nb.db'), join(dir, 'sb.db'), '--remote', `punix:${sock}`, ...verbose], log('db')));
    saveState(state);
    await waitFor('the central database', socketReady(sock));
    say('central: northd');
    state.daemons.push(startDaemon('northd', ['northd', '--ovnnb-db', db, '--ovnsb-db', db, ...verbose], log('northd')));
    saveState(state);
    const alongside = opts.alongside?.(db);
    alongside?.catch(() => undefined);
    // Hosts come up side by side: each one's steps depend only on the central database.
    const startHost = async (k: number): Promise<void> => {
      const name = `hv${k}`;
      const ip = hostIp(dir, k);
      const hdir = join(dir, name);
      mkdirSync(hdir, { recursive: true });
      const vsock = join(hdir, 'db.sock');
      const mgmt = join(hdir, 'br-int.mgmt');
      const host: HostRecord = { name, ip, dir: hdir, vswitchDb: `unix:${vsock}`, switchControl: `unix:${mgmt}` };
      say(`${name}: local database, switch (tunnel ${ip}), controller`);
      state.daemons.push(startDaemon(`${name}-db`, ['db', 'serve', '--in-memory', 'vswitch', '--remote', `punix:${vsock}`], log(`${name}-db`)));
      saveState(state);
      await waitFor(`${name}'s database`, socketReady(vsock));
      // What `vsctl init -- set Open_vSwitch . external_ids:…` does, from this process.
      await initVswitchDb(host.vswitchDb, {
        'system-id': name, 'ovn-remote': db, 'ovn-encap-type': 'geneve', 'ovn-encap-ip': ip, 'ovn-bridge': 'br-int',
      });
      state.daemons.push(startDaemon(`${name}-switch`, ['switch', '--name', 'br-int', '--control', `punix:${mgmt}`, '--tunnel-ip', ip, '--vswitch-db', host.vswitchDb, ...verbose], log(`${name}-switch`)));
      saveState(state);
      await waitFor(`${name}'s switch`, socketReady(mgmt));
      state.daemons.push(startDaemon(`${name}-controller`, ['controller', '--vswitch-db', host.vswitchDb, '--switch', host.switchControl, ...verbose], log(`${name}-controller`)));
      state.hosts.push(host);
      saveState(state);
    };
    await Promise.all(Array.from({ length: opts.hosts }, (_, i) => startHost(i + 1)));
    state.hosts.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
    saveState(state);
    say('waiting for every chassis to register');
    await waitForChassis(db, opts.hosts);
    await alongside;
    await ovnts(['nbctl', `--db=${db}`, '--wait=hv', 'sync']).catch(() => undefined);
    say(`lab up: ${opts.hosts} host(s) in ${dir}`);
    return state;
  } catch (e) {
    for (const d of [...state.daemons].reverse()) await stopDaemon(d);
    throw e;
  }
}

export async function labDown(dir = labDir()): Promise<number> {
  const s = loadState(dir);
  if (!s) return 0;
  let n = 0;
  for (const d of [...s.daemons].reverse()) {
    if (isAlive(d.pid)) n++;
    await stopDaemon(d);
  }
  // netns VMs: their socat is stopped above (which removes the TAP); now the namespaces.
  const errors: string[] = [];
  for (const v of s.vms) if (v.netns) await deleteNetns(v.netns).catch((e: unknown) => errors.push(e instanceof Error ? e.message : String(e)));
  await sleep(10);
  if (errors.length) {
    s.daemons = [];
    saveState(s);
    throw new Error(`lab down: ${errors.join('; ')}`);
  }
  rmSync(statePath(dir), { force: true });
  return n;
}

export function labStatus(dir = labDir()): string {
  const s = loadState(dir);
  if (!s) return `no lab in ${dir}\n`;
  const lines = [`lab in ${s.dir}, central database ${s.db}`];
  for (const d of s.daemons) lines.push(`  ${d.name.padEnd(16)} pid ${String(d.pid).padEnd(8)} ${isAlive(d.pid) ? 'running' : 'STOPPED'}  log ${d.log}`);
  for (const h of s.hosts) lines.push(`  host ${h.name}: tunnel ${h.ip}, ${h.vswitchDb}`);
  for (const v of s.vms) lines.push(`  vm ${v.name} on ${v.host} (port ${v.port}, ${v.mac}${v.ip ? ` ${v.ip}` : ''})${v.netns ? `, netns ${v.netns}, mtu ${v.mtu ?? '?'}` : ''}`);
  return lines.join('\n') + '\n';
}

/**
 * Restarts one of the lab's daemons (`northd`, `hv1-controller`, `hv2-switch`, `db`, …) the way
 * a crash and a supervisor would: SIGKILL, so it cleans nothing up (a controller keeps its
 * chassis and bindings), then the same command again. Returns the new PID.
 */
export async function labRestart(name: string, state: LabState | undefined = loadState()): Promise<number> {
  if (!state) throw new Error('no lab is running (ovnts lab up)');
  const i = state.daemons.findIndex((d) => d.name === name);
  const d = state.daemons[i];
  if (!d || d.command !== undefined || name.startsWith('vm-')) {
    const names = state.daemons.filter((x) => x.command === undefined && !x.name.startsWith('vm-')).map((x) => x.name);
    throw new Error(`no lab daemon ${name} (daemons: ${names.join(', ')})`);
  }
  try {
    process.kill(d.pid, 'SIGKILL');
  } catch {
    // Already gone: start it anyway.
  }
  await waitFor(`${name} to exit`, () => !isAlive(d.pid), 5000);
  const next = startDaemon(d.name, d.args, d.log);
  state.daemons[i] = next;
  saveState(state);
  return next.pid;
}
