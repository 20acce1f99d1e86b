/**
 * More ovs-vsctl commands: emer-reset, add-bond-iface/del-bond-iface, the conntrack zone
 * timeout policies (add-zone-tp, del-zone-tp, list-zone-tp) and list-dp-cap.
 */
import type { Pair, Atom } from '../ovsdb.js';
import type { ViewRow } from '../db-txn.js';
import { fail } from '../errors.js';
import type { CommandContext, CommandSpec, PreContext } from '../tool.js';
import { needInfo } from './bridge-commands.js';
import { VsCache } from './cache.js';

function escapeArg(a: string): string {
  return /^[-\w=+,.:/@%]+$/.test(a) ? a : `"${a.replace(/(["\\])/g, '\\$1')}"`;
}

const emerReset: CommandSpec = {
  name: 'emer-reset',
  minArgs: 0,
  maxArgs: 0,
  args: '',
  options: '',
  mode: 'RW',
  pre(ctx) {
    needInfo(ctx);
  },
  run(ctx) {
    // What ovs-vsctl 3.1 resets; everything else (other_config of the Open_vSwitch row and of
    // interfaces, external_ids, QoS, ...) stays. Controllers, managers, SSL, mirrors, NetFlow,
    // sFlow and IPFIX rows, no longer referenced, are garbage-collected by the server.
    const ovs = VsCache.get(ctx).ovs;
    ctx.txn.write(ovs, 'manager_options', []);
    ctx.txn.write(ovs, 'ssl', []);
    for (const br of ctx.txn.rows('Bridge')) {
      for (const c of ['controller', 'fail_mode', 'mirrors', 'netflow', 'sflow', 'ipfix', 'flood_vlans']) ctx.txn.write(br, c, []);
      const hwaddr = br.map('other_config').get('hwaddr');
      ctx.txn.write(br, 'other_config', hwaddr === undefined ? [] : [['hwaddr', hwaddr]]);
    }
    for (const p of ctx.txn.rows('Port')) ctx.txn.write(p, 'other_config', []);
  },
};

const addBondIface: CommandSpec = {
  name: 'add-bond-iface',
  minArgs: 2,
  maxArgs: 2,
  args: 'BOND IFACE',
  options: '--may-exist',
  mode: 'RW',
  pre: needInfo,
  run(ctx) {
    const cache = VsCache.get(ctx);
    const [, bond, name] = ctx.argv as [string, string, string];
    const port = cache.findPort(bond, true)!;
    if (ctx.options.has('--may-exist')) {
      const existing = cache.findIface(name, false);
      if (existing) {
        if (existing.port !== port) {
          const text = [...ctx.options.keys(), ...ctx.argv].map(escapeArg).join(' ');
          fail(`"${text}" but ${name} is actually attached to port ${existing.port.row.string('name')}`);
        }
        return;
      }
    }
    cache.checkConflicts(name, `cannot create an interface named ${name}`);
    const iface = ctx.txn.insert(ctx.schema.tables.get('Interface')!);
    ctx.txn.write(iface, 'name', [name]);
    ctx.txn.write(port.row, 'interfaces', [...(port.row.get('interfaces') as readonly Atom[]), iface.uuid].sort());
    cache.addIface(port, iface);
  },
};

const delBondIface: CommandSpec = {
  name: 'del-bond-iface',
  minArgs: 1,
  maxArgs: 2,
  args: '[BOND] IFACE',
  options: '--if-exists',
  mode: 'RW',
  pre: needInfo,
  run(ctx) {
    const cache = VsCache.get(ctx);
    const name = ctx.argv[ctx.argv.length - 1]!;
    const iface = cache.findIface(name, !ctx.options.has('--if-exists'));
    if (!iface) return;
    const port = ctx.argv.length === 3 ? cache.findPort(ctx.argv[1]!, true)! : iface.port;
    if (iface.port !== port) fail(`port ${port.row.string('name')} does not have an interface ${name}`);
    if (port.ifaces.length === 1) fail(`cannot delete last interface from port ${port.row.string('name')}`);
    ctx.txn.write(
      port.row,
      'interfaces',
      (port.row.get('interfaces') as readonly Atom[]).filter((u) => u !== iface.row.uuid),
    );
    cache.deleteIface(iface);
  },
};

function needDatapaths(ctx: PreContext): void {
  for (const t of ['Open_vSwitch', 'Datapath', 'CT_Zone', 'CT_Timeout_Policy']) ctx.need(t);
}

function datapath(ctx: CommandContext, name: string, missing: string): ViewRow {
  const ovs = VsCache.get(ctx).ovs;
  ctx.txn.verify(ovs, 'datapaths');
  const u = ovs.map('datapaths').get(name);
  const dp = u === undefined ? undefined : ctx.txn.get('Datapath', u);
  if (!dp) fail(missing);
  return dp;
}

/** "zone=N" as ovs-vsctl reads it. */
function zoneId(arg: string): number {
  const m = /^zone=(\d+)/.exec(arg);
  if (!m || Number(m[1]) > 65535) fail(`${arg}: expected zone=ZONE (0 to 65535)`);
  return Number(m[1]);
}

/** "KEY=VALUE" timeout policy settings (a bare KEY is 0, as in ovs-vsctl). */
function timeouts(args: readonly string[]): Pair[] {
  const m = new Map<string, number>();
  for (const a of args) {
    const eq = a.indexOf('=');
    const key = eq < 0 ? a : a.slice(0, eq);
    m.set(key, eq < 0 ? 0 : parseInt(a.slice(eq + 1), 10) || 0);
  }
  return [...m].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
}

const zoneCommands: CommandSpec[] = [
  {
    name: 'add-zone-tp',
    minArgs: 3,
    maxArgs: Infinity,
    args: 'DP zone=ZONE_ID POLICY...',
    options: '--may-exist',
    mode: 'RW',
    pre: needDatapaths,
    run(ctx) {
      const dpName = ctx.argv[1]!;
      const dp = datapath(ctx, dpName, `datapath ${dpName} does not exist`);
      const zone = zoneId(ctx.argv[2]!);
      const zones = dp.get('ct_zones') as readonly Pair[];
      const existing = zones.find((p) => p[0] === zone);
      if (existing && !ctx.options.has('--may-exist')) fail(`zone id ${zone} already exists`);
      const tp = ctx.txn.insert(ctx.schema.tables.get('CT_Timeout_Policy')!);
      ctx.txn.write(tp, 'timeouts', timeouts(ctx.argv.slice(3)));
      if (existing) {
        const z = ctx.txn.get('CT_Zone', existing[1] as string);
        if (z) {
          ctx.txn.write(z, 'timeout_policy', [tp.uuid]);
          return;
        }
      }
      const z = ctx.txn.insert(ctx.schema.tables.get('CT_Zone')!);
      ctx.txn.write(z, 'timeout_policy', [tp.uuid]);
      const rest = zones.filter((p) => p[0] !== zone);
      ctx.txn.write(dp, 'ct_zones', [...rest, [zone, z.uuid] as Pair].sort((a, b) => (a[0] as number) - (b[0] as number)));
    },
  },
  {
    name: 'del-zone-tp',
    minArgs: 2,
    maxArgs: 2,
    args: 'DP zone=ZONE_ID',
    options: '--if-exists',
    mode: 'RW',
    pre: needDatapaths,
    run(ctx) {
      const dpName = ctx.argv[1]!;
      const dp = datapath(ctx, dpName, `datapath ${dpName} does not exist`);
      const zone = zoneId(ctx.argv[2]!);
      const zones = dp.get('ct_zones') as readonly Pair[];
      if (!zones.some((p) => p[0] === zone)) {
        if (ctx.options.has('--if-exists')) return;
        fail(`zone id ${zone} does not exist`);
      }
      ctx.txn.write(dp, 'ct_zones', zones.filter((p) => p[0] !== zone));
    },
  },
  {
    name: 'list-zone-tp',
    minArgs: 1,
    maxArgs: 1,
    args: 'DP',
    options: '',
    mode: 'RO',
    pre: needDatapaths,
    run(ctx) {
      const dpName = ctx.argv[1]!;
      const dp = datapath(ctx, dpName, `datapath: ${dpName} record not found`);
      for (const [zone, u] of dp.get('ct_zones') as readonly Pair[]) {
        const z = ctx.txn.get('CT_Zone', u as string);
        const tpu = z?.scalar('timeout_policy');
        const tp = tpu === undefined ? undefined : ctx.txn.get('CT_Timeout_Policy', tpu as string);
        const policies = tp ? (tp.get('timeouts') as readonly Pair[]).map(([k, v]) => `${String(k)}=${String(v)}`).join(' ') : '';
        ctx.output += `Zone:${String(zone)}, Timeout Policies: ${policies}\n`;
      }
    },
  },
  {
    name: 'list-dp-cap',
    minArgs: 1,
    maxArgs: 1,
    args: 'DP',
    options: '',
    mode: 'RO',
    pre: needDatapaths,
    run(ctx) {
      const dpName = ctx.argv[1]!;
      const dp = datapath(ctx, dpName, `datapath "${dpName}" record not found`);
      const caps = [...dp.map('capabilities')].map(([k, v]) => `${k}=${v}`);
      ctx.output += `${caps.join(' ')}\n`;
    },
  },
];

export const MORE_COMMANDS: readonly CommandSpec[] = [emerReset, addBondIface, delBondIface, ...zoneCommands];
