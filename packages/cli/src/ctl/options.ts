/**
 * Global options of the ctl tools, parsed like getopt_long() in "+" mode as the real tools do:
 * options until the first non-option argument (a "--" ends them and is dropped), long options
 * by unique prefix, `--opt=value` or `--opt value`, short options clustered. The options of
 * the first command (--if-exists, --id=@x, ...) may appear here too and are handed to it.
 */
import { fail } from './errors.js';
import { envWords, isDaemonOption, scanOptions } from './option-scan.js';
import { defaultTableStyle, parseCellFormat, parseTableFormat, type TableStyle } from './table-output.js';
import type { ToolSpec } from './tool.js';

export { isDaemonOption, scanOptions, type GivenOption, type LongOption } from './option-scan.js';

export interface GlobalOptions {
  db: string;
  /** Seconds; 0 for none. */
  timeout: number;
  oneline: boolean;
  dryRun: boolean;
  style: TableStyle;
  /** nbctl: "none" | "sb" | "hv"; vsctl: "reload" | "none". */
  waitMode: string;
  printWaitTime: boolean;
  retry: boolean;
  help: boolean;
  version: boolean;
  listCommands: boolean;
  privateKey?: string;
  certificate?: string;
  caCert?: string;
}

export interface ParsedArgs {
  readonly opts: GlobalOptions;
  /** Options for the first command. */
  readonly local: Map<string, string | null>;
  /** The command words, starting at the first command. */
  readonly rest: string[];
}

/** `mode` "daemon": a request to a daemon (no OVN_NBCTL_OPTIONS, only the options a daemon takes, no timeout). */
export function parseArgs(tool: ToolSpec, argvIn: readonly string[], mode: 'local' | 'daemon' = 'local'): ParsedArgs {
  const argv = mode === 'daemon' ? [...argvIn] : [...envWords(tool), ...argvIn];
  const opts: GlobalOptions = {
    db: '',
    timeout: 0,
    oneline: false,
    dryRun: false,
    style: defaultTableStyle(),
    waitMode: tool.program === 'ovs-vsctl' ? 'reload' : 'none',
    printWaitTime: false,
    retry: false,
    help: false,
    version: false,
    listCommands: false,
  };
  const local = new Map<string, string | null>();
  const { given, rest } = scanOptions(tool, argv);
  for (const { option: o, value, text } of given) {
    if (mode === 'daemon' && !isDaemonOption(o)) fail(`unrecognized option '${text}'`);
    if (o.local) {
      const key = `--${o.name}`;
      if (local.has(key)) fail(`'${key}' option specified multiple times`);
      local.set(key, value ?? null);
      continue;
    }
    handle(tool, opts, o.name, value);
  }
  if (mode === 'daemon') opts.timeout = 0;
  if (!opts.db) opts.db = tool.defaultDb();
  return { opts, local, rest };
}

function handle(tool: ToolSpec, opts: GlobalOptions, name: string, value: string | undefined): void {
  const v = value ?? '';
  switch (name) {
    case 'db':
      opts.db = v;
      return;
    case 'oneline':
      opts.oneline = true;
      return;
    case 'dry-run':
      opts.dryRun = true;
      return;
    case 'timeout': {
      const n = /^\d+$/.test(v) ? Number(v) : NaN;
      if (tool.program === 'ovs-vsctl') {
        opts.timeout = Number.isFinite(n) ? n : parseInt(v, 10) || 0;
      } else {
        if (!Number.isFinite(n) || n === 0) fail(`value ${v} on -t or --timeout is invalid`);
        opts.timeout = n;
      }
      return;
    }
    case 'no-wait':
      if (!tool.allowWait) fail('--no-wait not supported');
      opts.waitMode = 'none';
      return;
    case 'wait':
      if (!tool.allowWait || tool.program === 'ovs-vsctl') fail('--wait not supported');
      if (v !== 'none' && v !== 'sb' && v !== 'hv') fail('argument to --wait must be "none", "sb", or "hv"');
      opts.waitMode = v;
      return;
    case 'print-wait-time':
      if (!tool.allowWait) fail('--print-wait-time not supported');
      opts.printWaitTime = true;
      return;
    case 'retry':
      opts.retry = true;
      return;
    case 'format':
      parseTableFormat(opts.style, v);
      return;
    case 'data':
      parseCellFormat(opts.style, v);
      return;
    case 'no-headings':
      opts.style.headings = false;
      return;
    case 'pretty':
      opts.style.pretty = true;
      return;
    case 'bare':
      opts.style.format = 'list';
      opts.style.cellFormat = 'bare';
      opts.style.headings = false;
      return;
    case 'max-column-width':
      opts.style.maxColumnWidth = parseInt(v, 10) || 0;
      return;
    case 'help':
      opts.help = true;
      return;
    case 'version':
      opts.version = true;
      return;
    case 'commands':
      opts.listCommands = true;
      return;
    case 'private-key':
      opts.privateKey = v;
      return;
    case 'certificate':
      opts.certificate = v;
      return;
    case 'ca-cert':
      opts.caCert = v;
      return;
    default:
      // Logging, daemon, syslog, cluster and remaining SSL options: accepted, no effect here.
      return;
  }
}
