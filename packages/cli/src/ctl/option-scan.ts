/**
 * The option scanner of the ctl tools (getopt_long() in "+" mode, as the real tools use it):
 * options until the first non-option argument (a "--" ends them and is dropped), long options
 * by unique prefix, `--opt=value` or `--opt value`, short options clustered. The first
 * command's own options (--if-exists, --id=@x, ...) may appear here too. Apart from the
 * options' meanings (options.ts), so that a daemon client forwards options without loading
 * the output code.
 */
import { fail } from './errors.js';
import type { ToolSpec } from './tool.js';

type ArgMode = 'none' | 'required' | 'optional';

export interface LongOption {
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

const tables = new WeakMap<ToolSpec, readonly LongOption[]>();

/** The tool's options: the common ones, its own, and its commands' (built once per tool). */
export function optionTable(tool: ToolSpec): readonly LongOption[] {
  let t = tables.get(tool);
  if (!t) tables.set(tool, (t = buildOptionTable(tool)));
  return t;
}

function buildOptionTable(tool: ToolSpec): LongOption[] {
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
export function envWords(tool: ToolSpec): string[] {
  const v = tool.optionsEnv ? process.env[tool.optionsEnv] : undefined;
  return v ? v.split(/\s+/).filter(Boolean) : [];
}

/** One option as given: which it is, its value, and the words it came from. */
export interface GivenOption {
  readonly option: LongOption;
  readonly value: string | undefined;
  readonly text: string;
}

/**
 * Walks the options at the start of argv the way getopt_long() does in "+" mode, up to the
 * first non-option word ("--" ends them and is dropped); returns them and the words after.
 */
export function scanOptions(tool: ToolSpec, argv: readonly string[]): { given: GivenOption[]; rest: string[] } {
  const table = optionTable(tool);
  const given: GivenOption[] = [];
  let i = 0;
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
      given.push({ option: o, value, text: a });
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const ch = a[j]!;
      const o = table.find((x) => x.short === ch);
      if (!o) fail(`unrecognized option '${ch}'`);
      if (o.arg === 'none') {
        given.push({ option: o, value: undefined, text: a });
        continue;
      }
      let value: string | undefined = a.slice(j + 1) || undefined;
      if (value === undefined && o.arg === 'required') {
        if (i >= argv.length) fail(`option '-${ch}' requires an argument`);
        value = argv[i++]!;
      }
      given.push({ option: o, value, text: a });
      break;
    }
  }
  return { given, rest: argv.slice(i) };
}

/**
 * Options a daemon accepts in a request (ovn-nbctl --detach): output and transaction options
 * and the commands' own; connection, logging and process options are the client's business.
 */
const DAEMON_OPTIONS = new Set(['format', 'data', 'no-headings', 'pretty', 'bare', 'max-column-width', 'oneline', 'dry-run', 'timeout', 'wait', 'no-wait', 'print-wait-time']);

export function isDaemonOption(o: LongOption): boolean {
  return o.local === true || DAEMON_OPTIONS.has(o.name);
}

/**
 * Options ovn-nbctl and ovn-sbctl share (ovn-dbctl): accepted as the real tools accept them.
 * true: takes an argument; 'optional': may take one; false: a flag.
 */
export const OVN_DBCTL_OPTIONS = {
  'no-wait': false,
  wait: true,
  'print-wait-time': false,
  'leader-only': false,
  'no-leader-only': false,
  'shuffle-remotes': false,
  'no-shuffle-remotes': false,
  unixctl: true,
  detach: false,
  'no-chdir': false,
  pidfile: 'optional',
  'overwrite-pidfile': false,
  monitor: false,
} as const;
