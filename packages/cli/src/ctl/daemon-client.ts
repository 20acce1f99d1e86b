/**
 * The client side of daemon mode: with OVN_NB_DAEMON (OVN_SB_DAEMON) set, `ovnts nbctl ...`
 * sends its command line to that daemon, as ovn-nbctl does: JSON-RPC method "run" with the
 * options a daemon takes (spelled `--name=value`), "--", and the commands; prints the reply's
 * text, or `ovn-nbctl: ERROR` and exits with status 1. The daemon may be ours or a real
 * `ovn-nbctl --detach`. Connection, logging and timeout options stay with the client; --db
 * means "not through the daemon".
 */
import { connect } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { JsonRpcConnection, RpcError } from './ovsdb-rpc.js';
import { ConsoleLog, CtlError, fail } from './errors.js';
import { envWords, isDaemonOption, scanOptions } from './option-scan.js';
import type { ToolSpec } from './tool.js';

const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  ECONNREFUSED: 'Connection refused',
  EACCES: 'Permission denied',
  ENOTSOCK: 'Socket operation on non-socket',
};

/**
 * Runs the invocation through the daemon at `target`; resolves undefined when it must run
 * locally instead (--db given, --help, --version, --commands).
 */
export async function runThroughDaemon(tool: ToolSpec, argvIn: readonly string[], target: string): Promise<number | undefined> {
  const log = new ConsoleLog();
  let timer: NodeJS.Timeout | undefined;
  try {
    const { given, rest } = scanOptions(tool, [...envWords(tool), ...argvIn]);
    const names = new Set(given.map((g) => g.option.name));
    if (['help', 'version', 'commands', 'options', 'detach'].some((n) => names.has(n))) return undefined;
    if (names.has('db')) {
      log.warn('ovn_dbctl', `not using ${tool.program} daemon because of db option`);
      return undefined;
    }
    const params: string[] = [];
    let timeout = 0;
    for (const { option, value } of given) {
      if (option.name === 'timeout') {
        const n = /^\d+$/.test(value ?? '') ? Number(value) : NaN;
        if (!Number.isFinite(n) || n === 0) fail(`value ${value ?? ''} on -t or --timeout is invalid`);
        timeout = n;
      } else if (option.name === 'unixctl' && value !== undefined) {
        target = value;
      } else if (isDaemonOption(option)) {
        params.push(value === undefined ? `--${option.name}` : `--${option.name}=${value}`);
      }
    }
    params.push('--', ...rest);
    if (timeout > 0) {
      timer = setTimeout(() => {
        log.warn('fatal_signal', 'terminating with signal 14 (Alarm clock)');
        process.kill(process.pid, 'SIGALRM');
      }, timeout * 1000);
    }
    const path = isAbsolute(target) ? target : join(process.env['OVS_RUNDIR'] ?? '/var/run/openvswitch', target);
    const conn = await open(path, target, tool, log);
    try {
      const text = (await conn.request('run', params)) as unknown;
      process.stdout.write(typeof text === 'string' ? text : JSON.stringify(text));
      return 0;
    } catch (e) {
      if (!(e instanceof RpcError)) fail(`${target}: transaction failed (${(e as Error).message})`);
      const msg = typeof e.error === 'string' ? e.error : JSON.stringify(e.error);
      process.stderr.write(`${tool.program}: ${msg}${msg.endsWith('\n') ? '' : '\n'}`);
      return 1;
    } finally {
      conn.close();
    }
  } catch (e) {
    if (e instanceof CtlError) {
      process.stderr.write(`${tool.program}: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    if (timer) clearTimeout(timer);
  }
}

function open(path: string, target: string, tool: ToolSpec, log: ConsoleLog): Promise<JsonRpcConnection> {
  return new Promise((resolve, reject) => {
    const sock = connect(path, () => {
      sock.off('error', onError);
      resolve(new JsonRpcConnection(sock, {}, target));
    });
    const onError = (e: NodeJS.ErrnoException): void => {
      log.warn('unixctl', `failed to connect to ${path}`);
      const msg = `${target}: could not connect to ${tool.program} daemon (${STRERROR[e.code ?? ''] ?? e.code ?? 'error'}); unset ${tool.daemon!.env} to avoid using daemon`;
      log.err('ovn_dbctl', msg);
      reject(new CtlError(msg));
    };
    sock.once('error', onError);
  });
}
