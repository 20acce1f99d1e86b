/**
 * Whole flows in ovs-ofctl syntax: the argument of add-flow/add-flows, mod-flows and del-flows
 * (`table=N,priority=P,cookie=0x…,idle_timeout=…,hard_timeout=…,MATCH,actions=ACTIONS`) parsed
 * into flow mods, and flow entries printed back either in that syntax or as dump-flows lines
 * (` cookie=0x0, duration=1.234s, table=0, n_packets=0, n_bytes=0, idle_age=1, priority=100,ip
 * actions=drop`). Lines of dump-flows output parse as flows too, as in ovs-ofctl.
 */
import type { Action } from './actions.js';
import { parseActions, printActions } from './action-syntax.js';
import type { OfVersion } from './action-syntax.js';
import { hex, parseInteger } from './format.js';
import type { Match } from './match.js';
import { newMatch } from './match.js';
import { applyMatchItem, printMatch } from './match-syntax.js';
import { DEFAULT_PRIORITY } from './table.js';
import type { FlowEntry, FlowMod, FlowModCommand } from './table.js';
import { FlowSyntaxError, splitKeyValues } from './tokens.js';
import type { PortNames } from './values.js';
import { parsePort } from './values.js';

export interface FlowParseOptions {
  /** What the text is for (decides defaults and which keywords are allowed); default 'add'. */
  readonly command?: FlowModCommand;
  readonly ports?: PortNames;
}

export interface FlowPrintOptions {
  /** OpenFlow version the output imitates (see action-syntax.ts); default 10. */
  readonly version?: OfVersion;
  readonly ports?: PortNames;
}

function err(msg: string): never {
  throw new FlowSyntaxError(msg);
}

function uint(s: string, what: string, max: number): number {
  const n = parseInteger(s);
  if (n === undefined || n > BigInt(max)) err(`${s}: invalid ${what}`);
  return Number(n);
}

/** ovs-ofctl finds the actions by the first "action" in the text; everything after `=` is actions. */
function splitActions(text: string): { head: string; actions: string | undefined } {
  const i = text.search(/\bactions?\s*[=:]/);
  if (i < 0) return { head: text, actions: undefined };
  const eq = text.slice(i).search(/[=:]/);
  return { head: text.slice(0, i), actions: text.slice(i + eq + 1) };
}

/**
 * Parses one flow into a flow mod for `command`. For add, a cookie mask is an error and actions
 * are required; for modify, `cookie=V/M` filters and `cookie=V` sets the new cookie; delete takes
 * no actions but may filter by out_port and out_group.
 */
export function parseFlowMod(text: string, opts: FlowParseOptions = {}): FlowMod {
  const command = opts.command ?? 'add';
  const isAdd = command === 'add';
  const isModify = command === 'modify' || command === 'modify_strict';
  const isDelete = command === 'delete' || command === 'delete_strict';
  const { head, actions: actText } = splitActions(text);
  const match: Match = newMatch();
  const mod: {
    -readonly [K in keyof FlowMod]: FlowMod[K];
  } = { command, match };
  for (const kv of splitKeyValues(head)) {
    const key = kv.key.toLowerCase();
    const v = kv.value;
    switch (key) {
      case 'table':
        mod.table = uint(v, 'table id', 255);
        continue;
      case 'priority':
        mod.priority = uint(v, 'priority', 0xffff);
        continue;
      case 'cookie': {
        const [c, m] = v.split('/', 2) as [string, string | undefined];
        const cookie = parseInteger(c) ?? err(`${c}: invalid cookie`);
        if (m === undefined) {
          if (isModify) mod.newCookie = cookie;
          else mod.cookie = cookie;
        } else {
          if (isAdd) err('flow additions cannot use a cookie mask');
          const mask = m === '-1' ? 0xffffffffffffffffn : (parseInteger(m) ?? err(`${m}: invalid cookie mask`));
          mod.cookie = cookie;
          mod.cookieMask = mask;
        }
        continue;
      }
      case 'idle_timeout':
        mod.idleTimeout = uint(v, 'idle_timeout', 0xffff);
        continue;
      case 'hard_timeout':
        mod.hardTimeout = uint(v, 'hard_timeout', 0xffff);
        continue;
      case 'importance':
        mod.importance = uint(v, 'importance', 0xffff);
        continue;
      case 'out_port':
        if (isAdd) err('out_port is not valid for flow additions');
        mod.outPort = parsePort(v, opts.ports) ?? err(`${v}: invalid or unknown port`);
        continue;
      case 'out_group':
        if (isAdd) err('out_group is not valid for flow additions');
        mod.outGroup = uint(v, 'group', 0xffffffff);
        continue;
      case 'check_overlap':
        mod.checkOverlap = true;
        continue;
      case 'reset_counts':
        mod.resetCounts = true;
        continue;
      case 'send_flow_rem':
      case 'no_packet_counts':
      case 'no_byte_counts':
      case 'no_readonly_table':
        // Flags this switch has no use for.
        continue;
      case 'duration':
      case 'n_packets':
      case 'n_bytes':
      case 'idle_age':
      case 'hard_age':
        // dump-flows output; ignored, as ovs-ofctl does.
        continue;
    }
    if (!applyMatchItem(match, kv.key, v, kv.sep !== '', opts)) err(`unknown keyword ${kv.key}`);
  }
  if (actText !== undefined) {
    if (isDelete) err('actions are not valid for flow deletions');
    mod.actions = parseActions(actText, { match, ...(opts.ports ? { ports: opts.ports } : {}) });
  } else if (!isDelete) {
    err('must specify an action');
  }
  return mod;
}

/** Parses the lines of an add-flows file: blank lines and `#` comments are skipped. */
export function parseFlowMods(text: string, opts: FlowParseOptions = {}): FlowMod[] {
  const out: FlowMod[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/#.*$/, '').trim();
    if (!line) continue;
    try {
      out.push(parseFlowMod(line, opts));
    } catch (e) {
      if (e instanceof FlowSyntaxError) throw new FlowSyntaxError(`line ${i + 1}: ${e.message}`);
      throw e;
    }
  }
  return out;
}

/** What printFlow needs of a flow. */
export interface FlowText {
  readonly table?: number;
  readonly priority?: number;
  readonly match: Match;
  readonly actions: readonly Action[];
  readonly cookie?: bigint;
  readonly idleTimeout?: number;
  readonly hardTimeout?: number;
  readonly importance?: number;
}

/**
 * A flow in add-flow syntax: `table=N,priority=P[,cookie=…][,idle_timeout=…][,hard_timeout=…]
 * [,importance=…][,MATCH],actions=ACTIONS`; parseFlowMod reads it back.
 */
export function printFlow(f: FlowText, opts: FlowPrintOptions = {}): string {
  const parts = [`table=${f.table ?? 0}`, `priority=${f.priority ?? DEFAULT_PRIORITY}`];
  if (f.cookie) parts.push(`cookie=${hex(f.cookie)}`);
  if (f.idleTimeout) parts.push(`idle_timeout=${f.idleTimeout}`);
  if (f.hardTimeout) parts.push(`hard_timeout=${f.hardTimeout}`);
  if (f.importance) parts.push(`importance=${f.importance}`);
  const m = printMatch(f.match, opts.ports ? { ports: opts.ports } : {});
  if (m) parts.push(m);
  parts.push(`actions=${printActions(f.actions, { ...opts, match: f.match })}`);
  return parts.join(',');
}

/** ovs-ofctl's durations: seconds, with three decimals when there are milliseconds. */
export function formatDuration(ms: number): string {
  const whole = Math.max(0, Math.floor(ms));
  const sec = Math.floor(whole / 1000);
  const frac = whole % 1000;
  return frac ? `${sec}.${String(frac).padStart(3, '0')}s` : `${sec}s`;
}

export interface DumpOptions extends FlowPrintOptions {
  /** The clock reading to compute duration and ages from (same clock as the entries' times). */
  readonly now: number;
}

/**
 * One line of `ovs-ofctl dump-flows` output for an entry, with its leading space. idle_age and
 * hard_age (Nicira extensions) appear for OpenFlow 1.0 and 1.5, as ovs-ofctl shows them.
 */
export function printDumpFlow(e: FlowEntry, opts: DumpOptions): string {
  const version = opts.version ?? 10;
  const durMs = opts.now - e.created;
  const durSec = Math.floor(Math.max(0, durMs) / 1000);
  let s = ` cookie=0x${e.cookie.toString(16)}, duration=${formatDuration(durMs)}, table=${e.table}, n_packets=${e.nPackets}, n_bytes=${e.nBytes}, `;
  if (e.idleTimeout) s += `idle_timeout=${e.idleTimeout}, `;
  if (e.hardTimeout) s += `hard_timeout=${e.hardTimeout}, `;
  if (e.importance) s += `importance=${e.importance}, `;
  if (version === 10 || version === 15) {
    s += `idle_age=${Math.floor(Math.max(0, opts.now - e.used) / 1000)}, `;
    const hardAge = Math.floor(Math.max(0, opts.now - e.modified) / 1000);
    if (hardAge !== durSec) s += `hard_age=${hardAge}, `;
  }
  const m = printMatch(e.match, { priority: e.priority, ...(opts.ports ? { ports: opts.ports } : {}) });
  if (m) s += `${m} `;
  return `${s}actions=${printActions(e.actions, { version, match: e.match, ...(opts.ports ? { ports: opts.ports } : {}) })}`;
}

/** The flow part of a dump line or flow mod print: `[priority=P,]MATCH actions=ACTIONS`. */
export function printMatchActions(f: Pick<FlowEntry, 'priority' | 'match' | 'actions'>, opts: FlowPrintOptions = {}): string {
  const m = printMatch(f.match, { priority: f.priority, ...(opts.ports ? { ports: opts.ports } : {}) });
  return `${m ? `${m} ` : ''}actions=${printActions(f.actions, { version: opts.version ?? 10, match: f.match, ...(opts.ports ? { ports: opts.ports } : {}) })}`;
}
