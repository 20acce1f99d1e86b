/**
 * `ovnts ofctl [OPTIONS] COMMAND SWITCH [ARGS]`: ovs-ofctl's commands, syntax and output over an
 * ovnts switch's control socket (SWITCH is `unix:PATH` or a bare path). Flows, groups and ports
 * are parsed and printed by @ovnts/switch's ovs-ofctl syntax module; the reply headers, xids and
 * layouts are those ovs-ofctl 3.1 prints against ovs-vswitchd.
 */
import { readFileSync } from 'node:fs';
import {
  ControlError, formatPortDescs, formatPortStats, formatTableStats, formatTrace, replyHeader, SwitchClient,
} from '@ovnts/switch/dist/src/control/index.js';
import {
  FlowSyntaxError, OFPP, parseFlowMods, parseOfVersion, parsePort, printDumpFlow, printGroup, printMatchActions,
  type FlowMod, type FlowModCommand, type OfVersion, type PortNames,
} from '@ovnts/switch/dist/src/flow/index.js';
import type { PortInfo, PortSpec } from '@ovnts/switch/dist/src/ports/index.js';

const PROGRAM = 'ovnts ofctl';

const USAGE = `${PROGRAM}: OpenFlow switch management utility for ovnts switches
usage: ovnts ofctl [OPTIONS] COMMAND [ARG...]

For SWITCH, give the switch's control socket: unix:PATH or PATH.

Switch commands:
  show SWITCH                 show switch information and ports
  dump-tables SWITCH          print table stats
  dump-ports SWITCH [PORT]    print port statistics
  dump-ports-desc SWITCH [PORT]  print port descriptions
  dump-flows SWITCH [FLOW]    print matching FLOWs
  add-flow SWITCH FLOW        add flow described by FLOW
  add-flows SWITCH FILE       add flows from FILE (- for stdin)
  mod-flows SWITCH FLOW       modify actions of matching FLOWs
  del-flows SWITCH [FLOW]     delete matching FLOWs
  dump-groups SWITCH [GROUP]  print group descriptions
  add-group SWITCH GROUP      add group described by GROUP
  mod-group SWITCH GROUP      modify specific group
  del-groups SWITCH [GROUP]   delete matching GROUPs
  packet-out SWITCH "in_port=PORT packet=HEX actions=ACTIONS"
  dump-conntrack SWITCH [zone=N]  print the connection tracking table
  ofproto/trace SWITCH FLOW [PACKET]   trace a packet through the tables
                               (FLOW may end in ,PACKET_HEX: in_port=1,0a0b…)
  add-port SWITCH NAME TYPE [KEY=VALUE...]   (ovnts) add a port: internal,
      dgram local=IP:PORT [remote=IP:PORT], tunnel remote_ip=IP|flow [dst_port=N],
      patch peer=NAME; any type takes ofport=N and mac=MAC
  del-port SWITCH NAME        (ovnts) delete a port

Options:
  --strict                    use strict match for flow commands
  --bundle                    add-flows as one atomic bundle
  --may-create                mod-group creates a missing group
  -O, --protocols=VERSION     imitate OpenFlow VERSION's output (OpenFlow10..OpenFlow15)
  --names, --no-names         show port names (default: when stdout is a terminal)
  --no-stats                  dump-flows without statistics
  -h, --help                  display this help message
`;

class UsageError extends Error {}

interface Options {
  strict: boolean;
  bundle: boolean;
  mayCreate: boolean;
  version: OfVersion;
  names: 'yes' | 'no' | 'auto';
  stats: boolean;
}

function parseArgs(argv: readonly string[]): { opts: Options; args: string[] } | 'help' {
  const opts: Options = { strict: false, bundle: false, mayCreate: false, version: 10, names: 'auto', stats: true };
  const args: string[] = [];
  const versions = (v: string): OfVersion => {
    // ovs-ofctl negotiates the highest version offered.
    const vs = v.split(',').map((x) => parseOfVersion(x.trim()));
    return Math.max(...vs) as OfVersion;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a === '-h' || a === '--help') return 'help';
    else if (a === '--strict') opts.strict = true;
    else if (a === '--bundle') opts.bundle = true;
    else if (a === '--may-create') opts.mayCreate = true;
    else if (a === '--names') opts.names = 'yes';
    else if (a === '--no-names') opts.names = 'no';
    else if (a === '--no-stats') opts.stats = false;
    else if (a === '--stats') opts.stats = true;
    else if (a === '-O' || a === '--protocols') {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`option '${a}' requires an argument`);
      opts.version = versions(v);
    } else if (a.startsWith('--protocols=')) opts.version = versions(a.slice('--protocols='.length));
    else if (a.startsWith('-O') && a.length > 2) opts.version = versions(a.slice(2));
    else if (a.startsWith('-') && a !== '-' && !/^-\d/.test(a)) throw new UsageError(`unrecognized option '${a}'`);
    else args.push(a);
  }
  return { opts, args };
}

/** Port names from the switch, for parsing and (with --names) printing. */
function portNames(ports: readonly PortInfo[]): PortNames {
  const byNum = new Map(ports.map((p) => [p.ofport, p.name]));
  const byName = new Map(ports.map((p) => [p.name, p.ofport]));
  return { name: (n) => byNum.get(n), number: (s) => byName.get(s) };
}

interface Ctx {
  readonly client: SwitchClient;
  readonly opts: Options;
  readonly out: (s: string) => void;
  readonly showNames: boolean;
}

type Command = (ctx: Ctx, args: readonly string[]) => Promise<void>;

function arity(args: readonly string[], min: number, max: number, name: string): void {
  if (args.length < min || args.length > max) {
    throw new UsageError(`'${name}' command requires at ${args.length < min ? 'least' : 'most'} ${args.length < min ? min : max} arguments`);
  }
}

async function names(ctx: Ctx): Promise<PortNames> {
  return portNames(await ctx.client.dumpPorts());
}

/** A port argument: a number, a reserved name (LOCAL …), or a port's name. */
function portArg(s: string): number | string {
  const n = parsePort(s);
  return n !== undefined ? n : s;
}

const dumpFlows: Command = async (ctx, args) => {
  const { version } = ctx.opts;
  const spec = args[0];
  const reply = await ctx.client.dumpFlows(spec ?? {}, ctx.opts.strict);
  const ports = ctx.showNames ? await names(ctx) : undefined;
  const popts = { version, ...(ports ? { ports } : {}) };
  // ovs-ofctl prints the reply header only on its plain path (no names, with stats).
  const plain = !ctx.showNames && ctx.opts.stats;
  let out = '';
  if (plain) {
    // The xid counts the messages ovs-ofctl sent first: it fetches port names to parse a flow spec.
    const base = version === 10 ? 4 : 2;
    const xid = base + (spec !== undefined && ctx.opts.names !== 'no' ? 4 : 0);
    out += `${replyHeader(version === 10 ? 'NXST_FLOW' : 'OFPST_FLOW', version, xid)}\n`;
  }
  for (const e of reply.flows) {
    if (!ctx.opts.stats) {
      out += ` ${e.cookie ? `cookie=0x${e.cookie.toString(16)}, ` : ''}${e.table ? `table=${e.table}, ` : ''}${printMatchActions(e, popts)}\n`;
      continue;
    }
    let line = printDumpFlow(e, { ...popts, now: reply.now });
    // Without its own header ovs-ofctl asks with the standard OF1.0 request, which has no ages.
    if (!plain && version === 10) line = line.replace(/idle_age=\d+, /, '').replace(/hard_age=\d+, /, '');
    out += `${line}\n`;
  }
  ctx.out(out);
};

function flowCommand(command: FlowModCommand, strictCommand: FlowModCommand, needsFlow: boolean, name: string): Command {
  return async (ctx, args) => {
    arity(args, needsFlow ? 1 : 0, 1, name);
    await ctx.client.flowMod(args[0] ?? '', ctx.opts.strict ? strictCommand : command);
  };
}

const addFlows: Command = async (ctx, args) => {
  arity(args, 1, 1, 'add-flows');
  const file = args[0]!;
  const text = readFileSync(file === '-' ? 0 : file, 'utf8');
  let mods: FlowMod[];
  try {
    mods = parseFlowMods(text, { ports: await names(ctx) });
  } catch (e) {
    if (e instanceof FlowSyntaxError) throw new FlowSyntaxError(`${file}:${e.message.replace(/^line (\d+): /, '$1: ')}`);
    throw e;
  }
  if (ctx.opts.bundle) {
    await ctx.client.bundle(mods);
    return;
  }
  // Pipelined: each applies on its own (as ovs-ofctl without --bundle); the first error is reported.
  const results = await Promise.allSettled(mods.map((m) => ctx.client.flowMod(m)));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
};

const dumpPorts: Command = async (ctx, args) => {
  arity(args, 0, 1, 'dump-ports');
  const port = args[0] === undefined ? undefined : portArg(args[0]);
  const ports = await ctx.client.dumpPorts(port);
  const xid = typeof port === 'string' ? 4 : 2;
  ctx.out(formatPortStats(ports, { version: ctx.opts.version, xid, ...(ctx.showNames ? { names: portNames(await ctx.client.dumpPorts()) } : {}) }));
};

const dumpPortsDesc: Command = async (ctx, args) => {
  arity(args, 0, 1, 'dump-ports-desc');
  const port = args[0] === undefined ? undefined : portArg(args[0]);
  ctx.out(formatPortDescs(await ctx.client.dumpPorts(port), { version: ctx.opts.version }));
};

const dumpTables: Command = async (ctx, args) => {
  arity(args, 0, 0, 'dump-tables');
  ctx.out(formatTableStats(await ctx.client.dumpTables(), { version: ctx.opts.version }));
};

const dumpGroups: Command = async (ctx, args) => {
  arity(args, 0, 1, 'dump-groups');
  let id: number | undefined;
  if (args[0] !== undefined) {
    const m = /^(?:group_id=)?(\d+)$/.exec(args[0]);
    if (!m) throw new UsageError(`${args[0]}: invalid group id`);
    id = Number(m[1]);
  }
  const { version } = ctx.opts;
  const groups = await ctx.client.dumpGroups(id);
  const ports = ctx.showNames ? await names(ctx) : undefined;
  // OpenFlow 1.0 has no groups: ovs-ofctl uses the Nicira extension, printed like OF1.5.
  let out = `${replyHeader(version === 10 ? 'NXST_GROUP_DESC' : 'OFPST_GROUP_DESC', version, 2)}\n`;
  for (const g of groups) out += ` ${printGroup(g, { version: version === 10 ? 15 : version, ...(ports ? { ports } : {}) })}\n`;
  ctx.out(out);
};

function groupCommand(command: 'add' | 'modify'): Command {
  return async (ctx, args) => {
    arity(args, 1, 1, command === 'add' ? 'add-group' : 'mod-group');
    await ctx.client.groupModText(command, args[0]!, command === 'modify' && ctx.opts.mayCreate);
  };
}

const delGroups: Command = async (ctx, args) => {
  arity(args, 0, 1, 'del-groups');
  await ctx.client.groupModText('delete', args[0] ?? '');
};

const dumpConntrack: Command = async (ctx, args) => {
  arity(args, 0, 1, 'dump-conntrack');
  let zone: number | undefined;
  if (args[0] !== undefined) {
    const m = /^zone=(\d+)$/.exec(args[0]);
    if (!m) throw new UsageError(`${args[0]}: expected zone=N`);
    zone = Number(m[1]);
  }
  const lines = await ctx.client.dumpConntrack(zone);
  ctx.out(lines.map((l) => `${l}\n`).join(''));
};

const HEX = /^(?:0x)?((?:[0-9a-fA-F]{2})+)$/;

const trace: Command = async (ctx, args) => {
  arity(args, 1, 2, 'ofproto/trace');
  let flow = args[0]!;
  let hex: string | undefined;
  if (args[1] !== undefined) {
    hex = args[1];
  } else {
    const i = flow.lastIndexOf(',');
    const last = flow.slice(i + 1);
    const m = HEX.exec(last);
    // A trailing run of hex digits as long as an Ethernet header is a packet, not a field.
    if (m && m[1]!.length >= 28 && !last.includes('=')) {
      hex = last;
      flow = i < 0 ? '' : flow.slice(0, i);
    }
  }
  let result;
  if (hex !== undefined) {
    const m = HEX.exec(hex.replace(/\s+/g, ''));
    if (!m) throw new UsageError(`${hex}: packet must be hex digits`);
    const ip = /(?:^|,)\s*in_port\s*=\s*([^,\s]+)/.exec(flow);
    if (!ip) throw new UsageError('a packet trace needs in_port=PORT');
    result = await ctx.client.trace({ inPort: portArg(ip[1]!), frame: Buffer.from(m[1]!, 'hex') });
  } else {
    result = await ctx.client.trace({ flow });
  }
  // The datapath's own ofproto/trace text when it writes one (final flow, megaflow, datapath actions).
  ctx.out(result.text !== undefined ? (result.text.endsWith('\n') ? result.text : `${result.text}\n`) : formatTrace((await ctx.client.show()).name, result.flow, result.steps));
};

const packetOut: Command = async (ctx, args) => {
  arity(args, 1, 3, 'packet-out');
  let inPort: string | undefined;
  let packet: string | undefined;
  let actions: string | undefined;
  if (args.length === 3) {
    [inPort, packet, actions] = args as [string, string, string];
  } else {
    const text = args[0]!;
    const a = /(?:^|\s|,)actions?\s*=(.*)$/s.exec(text);
    actions = a?.[1];
    const head = a ? text.slice(0, a.index) : text;
    inPort = /in_port\s*=\s*([^\s,]+)/.exec(head)?.[1];
    packet = /packet\s*=\s*([0-9a-fA-F]+)/.exec(head)?.[1];
  }
  if (packet === undefined || !HEX.test(packet)) throw new UsageError('packet-out needs packet=HEX');
  if (actions === undefined) throw new UsageError('packet-out needs actions=ACTIONS');
  const port = inPort === undefined ? OFPP.CONTROLLER : portArg(inPort);
  await ctx.client.packetOut(Buffer.from(packet.replace(/^0x/, ''), 'hex'), actions, { inPort: port });
};

const addPort: Command = async (ctx, args) => {
  if (args.length < 2) throw new UsageError("'add-port' command requires at least 3 arguments");
  const [name, type, ...kvs] = args as [string, string, ...string[]];
  const kv: Record<string, string> = {};
  for (const x of kvs) {
    const i = x.indexOf('=');
    if (i < 0) throw new UsageError(`${x}: expected KEY=VALUE`);
    kv[x.slice(0, i)] = x.slice(i + 1);
  }
  const take = (k: string): string | undefined => {
    const v = kv[k];
    delete kv[k];
    return v;
  };
  const ofportText = take('ofport') ?? take('ofport_request');
  const mac = take('mac');
  const base = { name, ...(ofportText !== undefined ? { ofport: Number(ofportText) } : {}), ...(mac !== undefined ? { mac } : {}) };
  let spec: PortSpec;
  switch (type) {
    case 'internal':
      spec = { ...base, type };
      break;
    case 'dgram': {
      const local = take('local');
      const remote = take('remote');
      if (local === undefined) throw new UsageError('dgram ports need local=IP:PORT');
      spec = { ...base, type, local, ...(remote !== undefined ? { remote } : {}) };
      break;
    }
    case 'tunnel':
    case 'geneve': {
      const remoteIp = take('remote_ip');
      const dst = take('dst_port');
      if (remoteIp === undefined) throw new UsageError('tunnel ports need remote_ip=IP (or flow)');
      spec = { ...base, type: 'tunnel', remoteIp, ...(dst !== undefined ? { remotePort: Number(dst) } : {}) };
      break;
    }
    case 'patch': {
      const peer = take('peer');
      if (peer === undefined) throw new UsageError('patch ports need peer=NAME');
      spec = { ...base, type, peer };
      break;
    }
    default:
      throw new UsageError(`${type}: unknown port type (internal, dgram, tunnel, patch)`);
  }
  const left = Object.keys(kv);
  if (left.length) throw new UsageError(`${left.join(', ')}: unknown option for a ${type} port`);
  const p = await ctx.client.addPort(spec);
  ctx.out(`${p.ofport}\n`);
};

const delPort: Command = async (ctx, args) => {
  arity(args, 1, 1, 'del-port');
  if (!(await ctx.client.delPort(args[0]!))) throw new ControlError(`${args[0]}: no such port`);
};

const show: Command = async (ctx, args) => {
  arity(args, 0, 0, 'show');
  const info = await ctx.client.show();
  const ports = await ctx.client.dumpPorts();
  const local = ports.find((p) => p.ofport === OFPP.LOCAL);
  const dpid = `0000${(local?.mac ?? '00:00:00:00:00:00').replace(/:/g, '')}`;
  const v = ctx.opts.version;
  const tag = v === 10 ? '' : ` (OF1.${v - 10})`;
  const caps: Record<number, string> = {
    10: 'FLOW_STATS TABLE_STATS PORT_STATS QUEUE_STATS ARP_MATCH_IP',
    11: 'FLOW_STATS TABLE_STATS PORT_STATS GROUP_STATS QUEUE_STATS ARP_MATCH_IP',
    12: 'FLOW_STATS TABLE_STATS PORT_STATS GROUP_STATS QUEUE_STATS',
    13: 'FLOW_STATS TABLE_STATS PORT_STATS GROUP_STATS QUEUE_STATS',
  };
  let out = `OFPT_FEATURES_REPLY${tag} (xid=0x2): dpid:${dpid}\n`;
  out += `n_tables:${info.nTables}, n_buffers:0\n`;
  out += `capabilities: ${caps[v] ?? 'FLOW_STATS TABLE_STATS PORT_STATS GROUP_STATS QUEUE_STATS BUNDLES'}\n`;
  if (v === 10) out += 'actions: output enqueue set_vlan_vid set_vlan_pcp strip_vlan mod_dl_src mod_dl_dst mod_nw_src mod_nw_dst mod_nw_tos mod_tp_src mod_tp_dst\n';
  // Up to OF1.2 the ports come inside the features reply; from OF1.3 in a port-desc reply.
  const descs = formatPortDescs(ports, { version: v, xid: 3 });
  out += v >= 13 ? descs : descs.split('\n').slice(1).join('\n');
  out += `OFPT_GET_CONFIG_REPLY${tag} (xid=0x${v >= 13 ? 5 : 4}): frags=normal miss_send_len=0\n`;
  ctx.out(out);
};

const COMMANDS: Record<string, Command> = {
  show,
  'dump-flows': async (ctx, args) => {
    arity(args, 0, 1, 'dump-flows');
    await dumpFlows(ctx, args);
  },
  'add-flow': flowCommand('add', 'add', true, 'add-flow'),
  'add-flows': addFlows,
  'mod-flows': flowCommand('modify', 'modify_strict', true, 'mod-flows'),
  'del-flows': flowCommand('delete', 'delete_strict', false, 'del-flows'),
  'dump-ports': dumpPorts,
  'dump-ports-desc': dumpPortsDesc,
  'dump-tables': dumpTables,
  'dump-groups': dumpGroups,
  'add-group': groupCommand('add'),
  'mod-group': groupCommand('modify'),
  'del-groups': delGroups,
  'dump-conntrack': dumpConntrack,
  'ofproto/trace': trace,
  trace,
  'packet-out': packetOut,
  'add-port': addPort,
  'del-port': delPort,
};

/** Where an invocation writes (tests run it in process with their own). */
export interface OfctlIo {
  stdout(s: string): void;
  stderr(s: string): void;
  /** Whether stdout is a terminal (the default for --names). */
  readonly isTTY: boolean;
}

const PROCESS_IO: OfctlIo = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  get isTTY() {
    return process.stdout.isTTY === true;
  },
};

/** Runs one ofctl invocation; resolves to the exit status. */
export async function runOfctl(argv: readonly string[], io: OfctlIo = PROCESS_IO): Promise<number> {
  const err = (s: string): void => io.stderr(s);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    err(`${PROGRAM}: ${(e as Error).message}\n`);
    return 1;
  }
  if (parsed === 'help') {
    io.stdout(USAGE);
    return 0;
  }
  const { opts, args } = parsed;
  const [name, target, ...rest] = args;
  if (name === undefined) {
    err(`${PROGRAM}: missing command name; use --help for help\n`);
    return 1;
  }
  const command = COMMANDS[name];
  if (!command) {
    err(`${PROGRAM}: unknown command '${name}'; use --help for help\n`);
    return 1;
  }
  if (target === undefined) {
    err(`${PROGRAM}: '${name}' command requires at least 1 arguments\n`);
    return 1;
  }
  let client: SwitchClient | undefined;
  try {
    try {
      client = await SwitchClient.connect(target);
    } catch (e) {
      throw new ControlError(`${target} is not a bridge or a socket (${(e as Error).message})`);
    }
    const showNames = opts.names === 'yes' || (opts.names === 'auto' && io.isTTY);
    await command({ client, opts, showNames, out: (s) => io.stdout(s) }, rest);
    return 0;
  } catch (e) {
    if (e instanceof ControlError && e.code) err(`OFPT_ERROR: ${e.code}\n`);
    err(`${PROGRAM}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    client?.close();
  }
}
