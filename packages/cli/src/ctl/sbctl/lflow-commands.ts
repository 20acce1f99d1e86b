/**
 * ovn-sbctl lflow-list (alias dump-flows) and count-flows: the logical flows of the Southbound
 * database, grouped by datapath and pipeline, sorted as ovn-sbctl sorts them:
 *
 *   Datapath: "sw0" (UUID)  Pipeline: ingress
 *     table=0 (ls_in_check_port_sec), priority=100  , match=(eth.src[40]), action=(drop;)
 *
 * A flow of a logical datapath group is listed under every datapath of the group (and under its
 * own logical_datapath, if it has one as well). The first argument names a datapath (by UUID,
 * UUID prefix or name, as `list Datapath_Binding` would); when it names none, it and the other
 * arguments are flow UUID prefixes (optionally with 0x, leading zeros ignored, as `ovs-ofctl
 * dump-flows` prints cookies). `--uuid` prints each flow's UUID prefix; `--vflows` appends the
 * port bindings, MAC bindings, multicast groups and chassis ovn-controller turns into flows.
 * `--ovs` (the OpenFlow flows of a local ovs-vswitchd) is not supported: like ovn-sbctl with no
 * switch to talk to, it warns and lists the logical flows alone.
 */
import { connect } from 'node:net';
import { existsSync } from 'node:fs';
import type { Atom } from '../ovsdb.js';
import type { ViewRow } from '../db-txn.js';
import { fail } from '../errors.js';
import { getRow, isPartialUuid } from '../rows.js';
import type { CommandContext, CommandSpec, PreContext } from '../tool.js';

/** Compares strings as C's strcmp compares their UTF-8 bytes (code point order). */
export function strcmp(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x - y;
    return a.codePointAt(i)! - b.codePointAt(i)!;
  }
  return a.length - b.length;
}

/** The name ovn-sbctl shows for a datapath: external_ids:name, else name2, else none. */
function datapathName(dp: ViewRow): string | undefined {
  const ids = dp.map('external_ids');
  return ids.get('name') ?? ids.get('name2');
}

/** `"sw0"`, or nothing for a datapath without a name. */
function quotedName(dp: ViewRow): string {
  const n = datapathName(dp);
  return n === undefined ? '' : `"${n}"`;
}

/** By external_ids:name (name2 shows, but does not count for the order), then UUID. */
function compareDatapaths(a: ViewRow, b: ViewRow): number {
  if (a === b) return 0;
  return strcmp(a.map('external_ids').get('name') ?? '', b.map('external_ids').get('name') ?? '') || strcmp(a.uuid, b.uuid);
}

/** ingress before egress. */
function comparePipelines(a: string, b: string): number {
  return strcmp(b, a);
}

const pad = (v: string | number, width: number): string => String(v).padEnd(width);
const uuidPrefix = (uuid: string): string => `uuid=0x${uuid.slice(0, 8)}, `;

interface Placed {
  readonly dp: ViewRow;
  readonly flow: ViewRow;
}

function compareFlows(a: Placed, b: Placed): number {
  const fa = a.flow;
  const fb = b.flow;
  return (
    compareDatapaths(a.dp, b.dp) ||
    comparePipelines(fa.string('pipeline'), fb.string('pipeline')) ||
    Number(fa.scalar('table_id')) - Number(fb.scalar('table_id')) ||
    Number(fb.scalar('priority')) - Number(fa.scalar('priority')) ||
    strcmp(fa.string('match'), fb.string('match')) ||
    strcmp(fa.string('actions'), fb.string('actions'))
  );
}

/** Each flow under each datapath it applies to (its own and those of its group), in ovn-sbctl's order. */
function placedFlows(ctx: CommandContext, only: ViewRow | undefined, prefixes: readonly string[] | undefined): Placed[] {
  const out: Placed[] = [];
  for (const flow of ctx.txn.rows('Logical_Flow')) {
    if (prefixes && !prefixes.some((p) => uuidMatches(flow.uuid, p))) continue;
    const dps: ViewRow[] = [];
    const own = flow.scalar('logical_datapath');
    if (own !== undefined) {
      const dp = ctx.txn.get('Datapath_Binding', own as string);
      if (dp) dps.push(dp);
    }
    const group = flow.scalar('logical_dp_group');
    if (group !== undefined) {
      const g = ctx.txn.get('Logical_DP_Group', group as string);
      for (const u of (g?.get('datapaths') ?? []) as readonly Atom[]) {
        const dp = ctx.txn.get('Datapath_Binding', u as string);
        if (dp) dps.push(dp);
      }
    }
    // Under one datapath a flow shows once; in the full list once per datapath it names.
    if (!only) for (const dp of dps) out.push({ dp, flow });
    else if (dps.includes(only)) out.push({ dp: only, flow });
  }
  return out.sort(compareFlows);
}

const stripZeros = (s: string): string => s.replace(/^0+/, '');

/** Whether a flow UUID begins with a prefix as ovn-sbctl reads it (leading zeros of both ignored). */
function uuidMatches(uuid: string, prefix: string): boolean {
  return stripZeros(uuid).startsWith(stripZeros(prefix));
}

/** A flow UUID prefix argument: a (partial) UUID, possibly after "0x". */
function parseFlowPrefix(arg: string): string {
  if (arg !== '' && isPartialUuid(arg)) return arg;
  if (arg.startsWith('0x') && arg.length > 2 && isPartialUuid(arg.slice(2))) return arg.slice(2);
  return fail(`${arg} is not a UUID or the beginning of a UUID`);
}

/** The datapath the first argument names, if it names one. */
function findDatapath(ctx: CommandContext, arg: string | undefined): ViewRow | undefined {
  if (arg === undefined) return undefined;
  return getRow(ctx.txn, ctx.tool, ctx.schema.tables.get('Datapath_Binding')!, arg, false);
}

function header(dp: ViewRow, pipeline: string): string {
  return `Datapath: ${quotedName(dp)} (${dp.uuid})  Pipeline: ${pipeline}\n`;
}

function needFlows(ctx: PreContext): void {
  ctx.need('Logical_Flow');
  ctx.need('Logical_DP_Group');
  ctx.need('Datapath_Binding');
  if (ctx.options.has('--vflows')) {
    for (const t of ['Port_Binding', 'MAC_Binding', 'Multicast_Group', 'Chassis', 'Load_Balancer']) ctx.need(t);
  }
}

/** Where `--ovs[=TARGET]` would look for the switch. */
function ovsTarget(value: string | null): string {
  if (value !== null) return value;
  return `unix:${process.env['OVS_RUNDIR'] ?? '/var/run/openvswitch'}/br-int.mgmt`;
}

const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  ECONNREFUSED: 'Connection refused',
  EACCES: 'Permission denied',
  EAFNOSUPPORT: 'Address family not supported by protocol',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
};

/** Tries to reach the --ovs target: undefined if something listens, else the error code. */
function probe(target: string): Promise<string | undefined> {
  let options: { path: string } | { host: string; port: number };
  const unix = /^unix:(.+)$/.exec(target);
  const tcp = /^(?:tcp|ssl):(.+):(\d+)$/.exec(target);
  if (unix) {
    if (!existsSync(unix[1]!)) return Promise.resolve('ENOENT');
    options = { path: unix[1]! };
  } else if (tcp) {
    options = { host: tcp[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(tcp[2]) };
  } else {
    return Promise.resolve('EAFNOSUPPORT');
  }
  return new Promise((resolve) => {
    const s = connect(options, () => {
      s.destroy();
      resolve(undefined);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'ECONNREFUSED'));
    s.setTimeout(2000, () => {
      s.destroy();
      resolve('ETIMEDOUT');
    });
  });
}

/** What --ovs found, from before connecting to the database until the command runs. */
const ovsWarnings = new WeakMap<object, string>();

/**
 * --ovs: ovn-sbctl's warning when there is no switch to ask; ours when there is one (ovnts does
 * not read OpenFlow tables). Either way the logical flows are listed.
 */
async function prepareOvs(ctx: PreContext): Promise<void> {
  if (!ctx.options.has('--ovs')) return;
  const target = ovsTarget(ctx.options.get('--ovs') ?? null);
  const code = await probe(target);
  ovsWarnings.set(
    ctx.options,
    code !== undefined
      ? `${target}: connection failed (${STRERROR[code] ?? code})`
      : `${target}: --ovs is not supported by ovnts sbctl (it does not read OpenFlow flows); listing logical flows only`,
  );
}

function lflowList(name: string): CommandSpec {
  return {
    name,
    minArgs: 0,
    maxArgs: Infinity,
    args: '[DATAPATH] [LFLOW...]',
    options: '--uuid,--ovs?,--stats,--vflows?',
    mode: 'RO',
    pre: needFlows,
    prepare: prepareOvs,
    run(ctx) {
      const args = ctx.argv.slice(1);
      const dp = findDatapath(ctx, args[0]);
      if (dp) args.shift();
      const prefixes = args.length > 0 ? args.map(parseFlowPrefix) : undefined;
      const warning = ovsWarnings.get(ctx.options);
      if (warning !== undefined) ctx.log.warn('sbctl', warning);
      const withUuid = ctx.options.has('--uuid');
      let out = '';
      let prevDp: ViewRow | undefined;
      let prevPipeline = '';
      for (const { dp: d, flow } of placedFlows(ctx, dp, prefixes)) {
        const pipeline = flow.string('pipeline');
        if (d !== prevDp || pipeline !== prevPipeline) {
          out += header(d, pipeline);
          prevDp = d;
          prevPipeline = pipeline;
        }
        const stage = flow.map('external_ids').get('stage-name') ?? '';
        out +=
          `  ${withUuid ? uuidPrefix(flow.uuid) : ''}table=${pad(Number(flow.scalar('table_id')), 2)}(${pad(stage, 19)}), ` +
          `priority=${pad(Number(flow.scalar('priority')), 5)}, match=(${flow.string('match')}), action=(${flow.string('actions')})\n`;
      }
      if (ctx.options.has('--vflows')) out += vflows(ctx, dp, withUuid);
      ctx.output += out;
    },
  };
}

/** Rows of `table` whose `datapath` is `only` (or any), grouped by datapath in sorted order. */
function byDatapath(ctx: CommandContext, table: string, only: ViewRow | undefined): { row: ViewRow; dp: ViewRow | undefined }[] {
  const rows = ctx.txn.rows(table).map((row) => {
    const u = row.scalar('datapath');
    return { row, dp: u === undefined ? undefined : ctx.txn.get('Datapath_Binding', u as string) };
  });
  const kept = only ? rows.filter((r) => r.dp === only) : rows;
  return kept.sort((a, b) => (a.dp && b.dp ? compareDatapaths(a.dp, b.dp) : a.dp ? 1 : b.dp ? -1 : 0));
}

/** The "virtual flows" sections of --vflows. */
function vflows(ctx: CommandContext, only: ViewRow | undefined, withUuid: boolean): string {
  const lead = (row: ViewRow, dp: ViewRow | undefined): string =>
    `  ${withUuid ? uuidPrefix(row.uuid) : ''}${only ? '' : `datapath=${dp ? quotedName(dp) : ''}, `}`;
  const section = (title: string, lines: readonly string[]): string => (lines.length === 0 ? '' : `\n${title}:\n${lines.join('')}`);
  let out = '';
  out += section(
    'Port Bindings',
    byDatapath(ctx, 'Port_Binding', only).map(({ row, dp }) => `${lead(row, dp)}logical_port=${row.string('logical_port')}, tunnel_key=${pad(Number(row.scalar('tunnel_key')), 5)}\n`),
  );
  out += section(
    'MAC Bindings',
    byDatapath(ctx, 'MAC_Binding', only).map(({ row, dp }) => `${lead(row, dp)}logical_port=${row.string('logical_port')}, ip=${row.string('ip')}, mac=${row.string('mac')}\n`),
  );
  out += section(
    'MC Groups',
    byDatapath(ctx, 'Multicast_Group', only).map(({ row, dp }) => {
      const ports = (row.get('ports') as readonly Atom[])
        .map((u) => ctx.txn.get('Port_Binding', u as string)?.string('logical_port'))
        .filter((n): n is string => n !== undefined);
      return `${lead(row, dp)}name=${row.string('name')}, tunnel_key=${Number(row.scalar('tunnel_key'))}, ports=(${ports.join(', ')})\n`;
    }),
  );
  out += section(
    'Chassis',
    ctx.txn.rows('Chassis').map((row) => `  ${withUuid ? uuidPrefix(row.uuid) : ''}name=${row.string('name')}\n`),
  );
  out += section('Load Balancers', loadBalancers(ctx, only, withUuid));
  return out;
}

/** The datapaths a Southbound Load_Balancer applies to: its own, then its group's. */
function lbDatapaths(ctx: CommandContext, lb: ViewRow): ViewRow[] {
  const uuids = [...(lb.get('datapaths') as readonly Atom[])];
  const group = lb.scalar('datapath_group');
  if (group !== undefined) uuids.push(...((ctx.txn.get('Logical_DP_Group', group as string)?.get('datapaths') ?? []) as readonly Atom[]));
  return uuids.map((u) => ctx.txn.get('Datapath_Binding', u as string)).filter((d): d is ViewRow => d !== undefined);
}

/** One entry per load balancer: name, protocol, datapaths, then its VIPs. */
function loadBalancers(ctx: CommandContext, only: ViewRow | undefined, withUuid: boolean): string[] {
  const out: string[] = [];
  for (const lb of ctx.txn.rows('Load_Balancer')) {
    const dps = lbDatapaths(ctx, lb);
    if (only && !dps.includes(only)) continue;
    const protocol = lb.scalar('protocol');
    let text = `  ${withUuid ? uuidPrefix(lb.uuid) : ''}name="${lb.string('name')}", protocol="${protocol === undefined ? '(null)' : String(protocol)}", `;
    if (!only) text += dps.map((d) => `datapath=${quotedName(d)}, `).join('');
    text += '\n  vips:\n';
    for (const [vip, backends] of lb.map('vips')) text += `    ${vip} = ${backends}\n`;
    out.push(`${text}\n`);
  }
  return out;
}

const countFlows: CommandSpec = {
  name: 'count-flows',
  minArgs: 0,
  maxArgs: 1,
  args: '[DATAPATH]',
  options: '',
  mode: 'RO',
  pre: needFlows,
  run(ctx) {
    const arg = ctx.argv[1];
    const dp = findDatapath(ctx, arg);
    // A datapath argument that names none matches no flow.
    const flows = arg !== undefined && !dp ? [] : placedFlows(ctx, dp, undefined);
    let out = '';
    let total = 0;
    for (let i = 0; i < flows.length; ) {
      const { dp: d, flow } = flows[i]!;
      const pipeline = flow.string('pipeline');
      out += header(d, pipeline);
      let inGroup = 0;
      while (i < flows.length && flows[i]!.dp === d && flows[i]!.flow.string('pipeline') === pipeline) {
        const table = Number(flows[i]!.flow.scalar('table_id'));
        let n = 0;
        let stage = '';
        while (i < flows.length && flows[i]!.dp === d && flows[i]!.flow.string('pipeline') === pipeline && Number(flows[i]!.flow.scalar('table_id')) === table) {
          stage = flows[i]!.flow.map('external_ids').get('stage-name') ?? '';
          n++;
          i++;
        }
        out += `  table=${pad(table, 2)}(${pad(stage, 19)}) lflows=${n}\n`;
        inGroup += n;
      }
      out += `Total number of logical flows in the datapath ${quotedName(d)} (${d.uuid}) Pipeline: ${pipeline} = ${inGroup}\n\n`;
      total += inGroup;
    }
    ctx.output += `${out}Total number of logical flows = ${total}\n`;
  },
};

export const LFLOW_COMMANDS: readonly CommandSpec[] = [lflowList('lflow-list'), lflowList('dump-flows'), countFlows];
