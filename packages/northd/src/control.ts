/**
 * ovn-northd's control commands over a unixctl socket, so the real `ovn-appctl -t SOCKET
 * status` (and pause, resume, is-paused, nb/sb-connection-status, inc-engine/...) works
 * against ovnts northd as against ovn-northd 23.03. Also a pidfile; Node cannot hold the
 * fcntl lock OVS expects on it, so `ovn-appctl -t ovn-northd` (lookup by name) calls it stale:
 * address the socket by path.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { NorthdHandle } from './daemon.js';
import { UnixctlServer, UnixctlError, type UnixctlCommand } from './unixctl.js';
import { NORTHD_INTERNAL_VERSION } from './sb-static.js';

/** The reply of `status`, as ovn-northd words it. */
export function statusText(h: NorthdHandle): string {
  const s = h.status();
  return `Status: ${s === 'paused' ? 'paused' : s === 'active' ? 'active' : 'standby'}\n`;
}

/** inc-engine/show-stats [NODE [STAT]]: per-node counters in lib/inc-proc-eng's layout. */
function engineStats(h: NorthdHandle, args: string[]): string {
  const [node, stat] = args;
  const stats = h.engine.engine.stats();
  if (node !== undefined && !(node in stats)) throw new UnixctlError(`Unknown engine node: ${node}`);
  let out = '';
  for (const [name, s] of Object.entries(stats)) {
    if (node !== undefined && name !== node) continue;
    const values: Record<string, number> = { recompute: s.recomputes, compute: s.handled, cancel: 0 };
    if (stat !== undefined) {
      if (!(stat in values)) throw new UnixctlError(`Invalid stat type: ${stat}`);
      out += `${values[stat]}\n`;
      continue;
    }
    out += `Node: ${name}\n- recompute: ${String(values['recompute']).padStart(12)}\n- compute:   ${String(values['compute']).padStart(12)}\n- cancel:    ${String(values['cancel']).padStart(12)}\n`;
  }
  return out;
}

export function northdCommands(h: NorthdHandle, exit: () => void): Map<string, UnixctlCommand> {
  const c = new Map<string, UnixctlCommand>();
  const cmd = (name: string, usage: string, minArgs: number, maxArgs: number, run: UnixctlCommand['run']): void => {
    c.set(name, { usage, minArgs, maxArgs, run });
  };
  cmd('exit', '', 0, 0, () => {
    setImmediate(exit);
    return '';
  });
  cmd('version', '', 0, 0, () => `ovnts northd (compatible with ovn-northd ${NORTHD_INTERNAL_VERSION.split('-')[0]})\n`);
  cmd('status', '', 0, 0, () => statusText(h));
  cmd('pause', '', 0, 0, async () => {
    await h.pause();
    return '';
  });
  cmd('resume', '', 0, 0, async () => {
    await h.resume();
    return '';
  });
  cmd('is-paused', '', 0, 0, () => (h.status() === 'paused' ? 'true\n' : 'false\n'));
  cmd('nb-connection-status', '', 0, 0, () => (h.connections().nb ? 'connected\n' : 'not connected\n'));
  cmd('sb-connection-status', '', 0, 0, () => (h.connections().sb ? 'connected\n' : 'not connected\n'));
  cmd('inc-engine/show-stats', '[NODE] [STATS_TYPE]', 0, 2, (args) => engineStats(h, args));
  cmd('inc-engine/clear-stats', '', 0, 0, () => {
    h.engine.engine.clearStats();
    return '';
  });
  cmd('inc-engine/recompute', '', 0, 0, () => {
    h.recompute();
    return '';
  });
  return c;
}

export interface ControlOptions {
  /** --unixctl: socket path (relative: under rundir). */
  readonly unixctl?: string;
  /** --pidfile: true for the default name, or a path (relative: under rundir). */
  readonly pidfile?: string | true;
  /** $OVN_RUNDIR or /var/run/ovn. */
  readonly rundir: string;
  readonly pid?: number;
}

export interface Control {
  readonly socket: string | undefined;
  readonly pidfile: string | undefined;
  close(): Promise<void>;
}

/**
 * Serves the control socket (at --unixctl, else `<rundir>/ovn-northd.<pid>.ctl` when the run
 * directory exists, as ovn-northd does) and writes the pidfile if asked.
 */
export async function startControl(h: NorthdHandle, opts: ControlOptions, exit: () => void): Promise<Control> {
  const pid = opts.pid ?? process.pid;
  const under = (p: string): string => (isAbsolute(p) ? p : join(opts.rundir, p));
  let socketPath: string | undefined;
  if (opts.unixctl !== undefined) socketPath = under(opts.unixctl);
  else if (existsSync(opts.rundir)) socketPath = join(opts.rundir, `ovn-northd.${pid}.ctl`);
  let server: UnixctlServer | undefined;
  if (socketPath !== undefined) {
    try {
      server = await UnixctlServer.listen(socketPath, northdCommands(h, exit));
    } catch (e) {
      if (opts.unixctl !== undefined) throw e;
      socketPath = undefined; // the default place is not writable: run without a control socket
    }
  }
  let pidfile: string | undefined;
  if (opts.pidfile !== undefined) {
    pidfile = opts.pidfile === true ? join(opts.rundir, 'ovn-northd.pid') : under(opts.pidfile);
    writeFileSync(pidfile, `${pid}\n`);
  }
  return {
    socket: socketPath,
    pidfile,
    close: async () => {
      await server?.close();
      if (pidfile !== undefined) rmSync(pidfile, { force: true });
    },
  };
}
