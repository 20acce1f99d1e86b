/**
 * Global options of the ctl tools, parsed like getopt_long() in "+" mode as the real tools do:
 * options until the first non-option argument (a "--" ends them and is dropped), long options
 * by unique prefix, `--opt=value` or `--opt value`, short options clustered. The options of
 * the first command (--if-exists, --id=@x, ...) may appear here too and are handed to it.
 */
import { fail } from './errors.js';
import { defaultTableStyle, parseCellFormat, parseTableFormat, type TableStyle } from './table-output.js';
import type { ToolSpec } from './tool.js';

type ArgMode = 'none' | 'required' | 'optional';

interface LongOption {
  readonly name: string;
  readonly arg: ArgMode;
  readonly short?: string;
  /** A command's option, collected for the first command. */
  readonly local?: boolean;
}

const COMMON: readonly LongOption[] = [
  { name: 'db', arg: 'required' },
  { name: 'no-syslog', arg: 'none' },
  { name: 'help', arg: 'none', short: 'h' },
  { name: 'commands', arg: 'none' },
  { name: 'options', arg: 'none' },
  { name: 'version', arg: 'none', short: 'V' },
  { name: 'dry-run', arg: 'none' },
  { name: 'oneline', arg: 'none' },
  { name: 'timeout', arg: 'required', short: 't' },
  { name: 'verbose', arg: 'optional', short: 'v' },
  { name: 'log-file', arg: 'optional' },
  { name: 'syslog-method', arg: 'required' },
  { name: 'syslog-target', arg: 'required' },
  { name: 'private-key', arg: 'required', short: 'p' },
  { name: 'certificate', arg: 'required', short: 'c' },
  { name: 'ca-cert', arg: 'required', short: 'C' },
  { name: 'bootstrap-ca-cert', arg: 'required' },
  { name: 'ssl-protocols', arg: 'required' },
  { name: 'ssl-ciphers', arg: 'required' },
  { name: 'format', arg: 'required', short: 'f' },
  { name: 'data', arg: 'required', short: 'd' },
  { name: 'no-headings', arg: 'none' },
  { name: 'pretty', arg: 'none' },
  { name: 'bare', arg: 'none' },
  { name: 'max-column-width', arg: 'required' },
];

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

function optionTable(tool: ToolSpec): LongOption[] {
  const all: LongOption[] = [...COMMON];
  for (const [name, hasArg] of Object.entries(tool.extraOptions)) all.push({ name, arg: hasArg === 'optional' ? 'optional' : hasArg ? 'required' : 'none', ...(name === 'unixctl' ? { short: 'u' } : {}) });
  const seen = new Set(all.map((o) => o.name));
  for (const c of tool.commands) {
    for (const spec of c.options.split(',')) {
      if (!spec) continue;
      const m = /^--([^=?]+)([=?]?)$/.exec(spec);
      if (!m || seen.has(m[1]!)) continue;
      seen.add(m[1]!);
      all.push({ name: m[1]!, arg: m[2] === '=' ? 'required' : m[2] === '?' ? 'optional' : 'none', local: true });
    }
  }
  return all;
}

function findLong(table: readonly LongOption[], name: string, text: string): LongOption {
  const exact = table.find((o) => o.name === name);
  if (exact) return exact;
  const prefixed = table.filter((o) => o.name.startsWith(name));
  if (prefixed.length === 1) return prefixed[0]!;
  return fail(`unrecognized option '${text}'`);
}

/** Splits OVN_NBCTL_OPTIONS-style text into words (white space separated). */
function envWords(tool: ToolSpec): string[] {
  const v = tool.optionsEnv ? process.env[tool.optionsEnv] : undefined;
  return v ? v.split(/\s+/).filter(Boolean) : [];
}

export function parseArgs(tool: ToolSpec, argvIn: readonly string[]): ParsedArgs {
  const table = optionTable(tool);
  const argv = [...envWords(tool), ...argvIn];
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
  let i = 0;
  const apply = (o: LongOption, value: string | undefined): void => {
    if (o.local) {
      const key = `--${o.name}`;
      if (local.has(key)) fail(`'${key}' option specified multiple times`);
      local.set(key, value ?? null);
      return;
    }
    handle(tool, opts, o.name, value);
  };
  while (i < argv.length) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    i++;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const o = findLong(table, name, a);
      let value: string | undefined = eq < 0 ? undefined : a.slice(eq + 1);
      if (o.arg === 'none' && value !== undefined) fail(`option '${a}' doesn't allow an argument`);
      if (o.arg === 'required' && value === undefined) {
        if (i >= argv.length) fail(`option '${a}' requires an argument`);
        value = argv[i++]!;
      }
      apply(o, value);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const ch = a[j]!;
      const o = table.find((x) => x.short === ch);
      if (!o) fail(`unrecognized option '${ch}'`);
      if (o.arg === 'none') {
        apply(o, undefined);
        continue;
      }
      let value: string | undefined = a.slice(j + 1) || undefined;
      if (value === undefined && o.arg === 'required') {
        if (i >= argv.length) fail(`option '-${ch}' requires an argument`);
        value = argv[i++]!;
      }
      apply(o, value);
      break;
    }
  }
  if (!opts.db) opts.db = tool.defaultDb();
  return { opts, local, rest: argv.slice(i) };
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
