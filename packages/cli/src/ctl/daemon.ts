/**
 * Daemon mode of ovn-nbctl and ovn-sbctl: `ovnts nbctl --detach [--pidfile[=FILE]]
 * [--unixctl=SOCKET] [--log-file[=FILE]] [--db=...]` starts a background process that keeps one
 * database connection and a replica of the whole database (a monitor), prints the path of its
 * control socket (what to export as OVN_NB_DAEMON / OVN_SB_DAEMON) and exits.
 *
 * The control socket speaks OVS's unixctl protocol (JSON-RPC 1.0 over a Unix socket), as the
 * real daemon does: method "run" with the command line (options, "--", commands) runs it and
 * replies with its output, or an error with its message; "exit" stops the daemon (so
 * `ovn-appctl -t SOCKET exit` works); "version" and "list-commands" too. Requests run one at a
 * time against the replica, each as one transaction with the same verify-and-retry as a normal
 * invocation; a client (ours or the real ovn-nbctl with OVN_NB_DAEMON set) pays neither the
 * connection nor the reading of the database.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';
import { JsonRpcConnection, type JsonRpcRequest } from './ovsdb-rpc.js';
import { CtlError, fail } from './errors.js';
import { parseArgs } from './options.js';
import { scanOptions } from './option-scan.js';
import { loadSchema, runTool, warmTool } from './runner.js';
import { Session, type CtlSession } from './session.js';
import type { ToolSpec } from './tool.js';

/** Set in the environment of the background process the parent starts. */
const CHILD_MARK = 'OVNTS_CTL_DAEMON_CHILD';
/** The `ovnts` program, started again as the daemon. */
const OVNTS_BIN = new URL('../../../bin/ovnts.js', import.meta.url);

interface DaemonConfig {
  readonly pidfile: string | undefined;
  readonly overwritePidfile: boolean;
  /** The control socket; undefined: `RUNDIR/PROGRAM.PID.ctl`, known once the daemon runs. */
  readonly unixctl: string | undefined;
  readonly logFile: string | undefined;
  readonly noChdir: boolean;
}

function config(tool: ToolSpec, argv: readonly string[]): DaemonConfig {
  const rundir = tool.daemon!.rundir();
  const { given, rest } = scanOptions(tool, argv);
  if (rest.length > 0) fail('non-option arguments not supported with --detach (use --help for help)');
  const value = (name: string): { value: string | undefined } | undefined => {
    let found: { value: string | undefined } | undefined;
    for (const g of given) if (g.option.name === name) found = { value: g.value };
    return found;
  };
  const inRundir = (p: string): string => (isAbsolute(p) ? p : join(rundir, p));
  const pid = value('pidfile');
  const ctl = value('unixctl');
  const log = value('log-file');
  return {
    pidfile: pid === undefined ? undefined : inRundir(pid.value || `${tool.program}.pid`),
    overwritePidfile: value('overwrite-pidfile') !== undefined,
    unixctl: ctl?.value === undefined ? undefined : inRundir(ctl.value),
    logFile: log === undefined ? undefined : resolve(log.value || join(process.env['OVN_LOGDIR'] ?? '/var/log/ovn', `${tool.program}.log`)),
    noChdir: value('no-chdir') !== undefined,
  };
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function checkPidfile(cfg: DaemonConfig): void {
  if (!cfg.pidfile || cfg.overwritePidfile || !existsSync(cfg.pidfile)) return;
  const pid = parseInt(readFileSync(cfg.pidfile, 'utf8'), 10);
  if (pid > 0 && pid !== process.pid && running(pid)) fail(`${cfg.pidfile}: already running as pid ${pid}, aborting`);
}

/**
 * `--detach`: validates the options, starts the daemon as a new background process and, once
 * it listens, prints its control socket's path. In the background process itself, serves.
 */
export async function detach(tool: ToolSpec, argv: readonly string[]): Promise<number> {
  try {
    parseArgs(tool, argv);
    const cfg = config(tool, argv);
    checkPidfile(cfg);
    if (process.env[CHILD_MARK] === '1') return await serve(tool, argv, cfg);
    return await startChild(tool, argv);
  } catch (e) {
    if (e instanceof CtlError) {
      process.stderr.write(`${tool.program}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

function startChild(tool: ToolSpec, argv: readonly string[]): Promise<number> {
  const sub = tool.program.replace(/^ov[ns]-/, '');
  const child = spawn(process.execPath, [OVNTS_BIN.pathname, sub, ...argv], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, [CHILD_MARK]: '1' },
  });
  return new Promise((done) => {
    let out = '';
    let err = '';
    let finished = false;
    const finish = (code: number): void => {
      if (finished) return;
      finished = true;
      child.stdout.destroy();
      child.stderr.destroy();
      child.unref();
      done(code);
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        process.stdout.write(out.slice(0, nl + 1));
        finish(0);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('exit', (code) => {
      process.stderr.write(err);
      finish(code || 1);
    });
  });
}

/** The background process: pidfile, control socket, one replicated connection, requests in turn. */
async function serve(tool: ToolSpec, argv: readonly string[], cfg: DaemonConfig): Promise<number> {
  const { opts } = parseArgs(tool, argv);
  const schema = loadSchema(tool.schemaName);
  const ctlPath = cfg.unixctl ?? join(tool.daemon!.rundir(), `${tool.program}.${process.pid}.ctl`);
  const logSink = (s: string): void => {
    if (cfg.logFile) {
      try {
        appendFileSync(cfg.logFile, s);
      } catch {
        // Nowhere to log to.
      }
    }
  };
  // The parent reads the socket's path and goes; nothing else is written to its pipes.
  for (const s of [process.stdout, process.stderr]) s.on('error', () => undefined);

  let current: Session | undefined;
  let opening: Promise<Session> | undefined;
  const session = async (): Promise<CtlSession> => {
    if (current && !current.isClosed) return current;
    opening ??= (async () => {
      try {
        const s = await Session.open(opts.db, schema, opts);
        await s.replicate();
        current = s;
        return s;
      } finally {
        opening = undefined;
      }
    })();
    return opening;
  };
  await warmTool(tool);

  let queue: Promise<void> = Promise.resolve();
  let server: Server | undefined;
  let stopping = false;
  const cleanup = (): void => {
    if (cfg.pidfile) rmSync(cfg.pidfile, { force: true });
    rmSync(ctlPath, { force: true });
  };
  const stop = (code: number): void => {
    if (stopping) return;
    stopping = true;
    cleanup();
    current?.close();
    server?.close();
    setTimeout(() => process.exit(code), 50).unref();
  };
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => stop(0));
  process.on('exit', cleanup);

  const commands: Record<string, { usage: string; run: (args: string[]) => Promise<string> | string }> = {
    exit: { usage: '', run: () => '' },
    'list-commands': {
      usage: '',
      run: () =>
        'The available commands are:\n' +
        Object.keys(commands)
          .sort()
          .map((n) => `  ${n.padEnd(24)}${commands[n]!.usage}\n`)
          .join(''),
    },
    run: {
      usage: '',
      run: (args) => {
        const result = queue.then(() => runRequest(tool, args, session, logSink));
        queue = result.then(
          () => undefined,
          () => undefined,
        );
        return result;
      },
    },
    version: { usage: '', run: () => `${tool.program} (ovnts) 0.1.0\n` },
  };

  const accept = (sock: Socket): void => {
    const conn = new JsonRpcConnection(sock, { maxMessageBytes: 16 << 20 }, 'unixctl');
    conn.on('request', (req: JsonRpcRequest) => {
      if (req.id === null) return;
      const id = req.id;
      const cmd = commands[req.method];
      if (!cmd) {
        conn.replyError(id, `"${req.method}" is not a valid command (use "list-commands" to see a list of valid commands)\n`);
        return;
      }
      if (!req.params.every((p) => typeof p === 'string')) {
        conn.replyError(id, `"${req.method}" command has non-string argument\n`);
        return;
      }
      Promise.resolve(cmd.run(req.params as string[])).then(
        (text) => {
          conn.reply(id, text);
          if (req.method === 'exit') {
            conn.close();
            stop(0);
          }
        },
        (e: unknown) => conn.replyError(id, `${e instanceof Error ? e.message : String(e)}\n`),
      );
    });
  };

  rmSync(ctlPath, { force: true });
  server = createServer(accept);
  await new Promise<void>((ok, bad) => {
    server!.once('error', (e: NodeJS.ErrnoException) => {
      const words: Record<string, string> = { EACCES: 'Permission denied', ENOENT: 'No such file or directory', EADDRINUSE: 'Address already in use' };
      bad(new CtlError(`${ctlPath}: failed to create unixctl server (${words[e.code ?? ''] ?? e.code ?? e.message})`));
    });
    server!.listen(ctlPath, ok);
  });
  if (cfg.pidfile) writeFileSync(cfg.pidfile, `${process.pid}\n`);
  if (!cfg.noChdir) process.chdir('/');
  // Like ovn-nbctl, report ready (and let the parent exit) once connected and replicated,
  // trying again every second while the database cannot be reached.
  for (;;) {
    try {
      await session();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  process.stdout.write(`${ctlPath}\n`);
  await new Promise<never>(() => undefined); // serves until "exit" or a signal
  return 0;
}

/** One "run" request: the command line as a normal invocation, over the daemon's connection. */
async function runRequest(tool: ToolSpec, args: readonly string[], session: () => Promise<CtlSession>, log: (s: string) => void): Promise<string> {
  let out = '';
  let err = '';
  const code = await runTool(tool, args, {
    stdout: (s) => (out += s),
    stderr: (s) => (err += s),
    log,
    onTimeout: () => undefined,
    session,
  });
  if (code === 0) return out;
  const prefix = `${tool.program}: `;
  throw new Error((err.startsWith(prefix) ? err.slice(prefix.length) : err).replace(/\n$/, ''));
}
