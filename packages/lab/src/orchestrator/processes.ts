/**
 * The lab's daemons: each is an `ovnts …` child process started detached (so it outlives the
 * `lab up` command), with its output in a log file and its PID recorded in the lab's state file.
 * They are stopped by PID only: SIGTERM, then SIGKILL if it lingers.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The `ovnts` entry point of this checkout. */
export const OVNTS_BIN = fileURLToPath(new URL('../../../../cli/bin/ovnts.js', import.meta.url));

export interface DaemonRecord {
  readonly name: string;
  readonly pid: number;
  readonly args: readonly string[];
  readonly log: string;
  /** The program, when it is not `ovnts` (a netns VM's `socat`). */
  readonly command?: string;
}

/** Starts `ovnts ARGS…` in the background with its stdout/stderr in `log`. */
export function startDaemon(name: string, args: readonly string[], log: string, env: NodeJS.ProcessEnv = {}): DaemonRecord {
  const fd = openSync(log, 'a');
  try {
    const child = spawn(process.execPath, [OVNTS_BIN, ...args], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...env },
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`${name}: could not start`);
    return { name, pid: child.pid, args, log };
  } finally {
    closeSync(fd);
  }
}

/** Starts any program (not `ovnts`) in the background, detached, with its output in `log`. */
export function startProcess(name: string, command: string, args: readonly string[], log: string): DaemonRecord {
  const fd = openSync(log, 'a');
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd] });
    child.on('error', () => undefined);
    child.unref();
    if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
    return { name, pid: child.pid, args, log, command };
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether the process runs. A zombie (exited, not yet reaped: the lab's daemons outlive the
 * command that started them, so their parent is whatever reaps orphans, which may take a while)
 * counts as gone.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // No /proc (not Linux): kill(0) said it exists.
  }
}

/** Stops one daemon by PID: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopDaemon(d: DaemonRecord, graceMs = 3000): Promise<void> {
  if (!isAlive(d.pid)) return;
  try {
    process.kill(d.pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(d.pid) && Date.now() < deadline) await sleep(25);
  if (isAlive(d.pid)) {
    try {
      process.kill(d.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits until `test()` holds, polling; throws with `what` after `timeoutMs`. */
export async function waitFor(what: string, test: () => boolean | Promise<boolean>, timeoutMs = 15_000, everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await test()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function socketReady(path: string): () => boolean {
  return () => existsSync(path);
}
