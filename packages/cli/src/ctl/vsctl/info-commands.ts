/**
 * ovs-vsctl's lookups and small settings: list-ifaces, port-to-br, iface-to-br, br-to-vlan,
 * br-to-parent, br-set-external-id, br-get-external-id, add-bond.
 */
import type { Pair } from '../ovsdb.js';
import { preParseColumn } from '../column-args.js';
import { fail } from '../errors.js';
import type { CommandContext, CommandSpec } from '../tool.js';
import { addPort, needInfo, sorted } from './bridge-commands.js';
import { VsCache } from './cache.js';

function simple(name: string, args: string, run: (ctx: CommandContext, cache: VsCache) => void, min = 1, max = min): CommandSpec {
  return { name, minArgs: min, maxArgs: max, args, options: '', mode: 'RO', pre: needInfo, run: (ctx) => run(ctx, VsCache.get(ctx)) };
}

/** A string map with `key` set to `value`, or removed when `value` is undefined. */
function withKey(m: readonly Pair[], key: string, value: string | undefined): Pair[] {
  const out = m.filter((p) => p[0] !== key);
  if (value !== undefined) out.push([key, value]);
  return out.sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : String(a[0]) > String(b[0]) ? 1 : 0));
}

function printExternalIds(ctx: CommandContext, m: readonly Pair[], prefix: string, key: string | undefined): void {
  if (key !== undefined) {
    const p = m.find((x) => x[0] === prefix + key);
    if (p) ctx.output += `${String(p[1])}\n`;
    return;
  }
  for (const [k, v] of m) if (String(k).startsWith(prefix)) ctx.output += `${String(k).slice(prefix.length)}=${String(v)}\n`;
}

const brSetExternalId: CommandSpec = {
  name: 'br-set-external-id',
  minArgs: 2,
  maxArgs: 3,
  args: 'BRIDGE KEY [VALUE]',
  options: '',
  mode: 'RW',
  pre: needInfo,
  run(ctx) {
    const cache = VsCache.get(ctx);
    const br = cache.findBridge(ctx.argv[1]!, true)!;
    const key = ctx.argv[2]!;
    const value = ctx.argv[3];
    const row = br.row ?? cache.ports.get(ctx.argv[1]!)!.row;
    const k = br.row ? key : `fake-bridge-${key}`;
    ctx.txn.verify(row, 'external_ids');
    ctx.txn.write(row, 'external_ids', withKey(row.get('external_ids') as readonly Pair[], k, value));
  },
};

const brGetExternalId = simple(
  'br-get-external-id',
  'BRIDGE [KEY]',
  (ctx, cache) => {
    const br = cache.findBridge(ctx.argv[1]!, true)!;
    const row = br.row ?? cache.ports.get(ctx.argv[1]!)!.row;
    ctx.txn.verify(row, 'external_ids');
    printExternalIds(ctx, row.get('external_ids') as readonly Pair[], br.row ? '' : 'fake-bridge-', ctx.argv[2]);
  },
  1,
  2,
);

const addBond: CommandSpec = {
  name: 'add-bond',
  minArgs: 4,
  maxArgs: Infinity,
  args: 'BRIDGE BOND IFACE... [COLUMN[:KEY]=VALUE]...',
  options: '--may-exist,--fake-iface',
  mode: 'RW',
  pre(ctx) {
    needInfo(ctx);
    const port = ctx.schema.tables.get('Port')!;
    for (const a of ctx.argv.slice(3)) if (a.includes('=')) preParseColumn(a, port);
  },
  run(ctx) {
    const rest = ctx.argv.slice(3);
    const firstSetting = rest.findIndex((a) => a.includes('='));
    const n = firstSetting < 0 ? rest.length : firstSetting;
    if (n < 2) fail(`add-bond requires at least 2 interfaces, but only ${n} were specified`);
    addPort(ctx, ctx.argv[1]!, ctx.argv[2]!, ctx.options.has('--may-exist'), ctx.options.has('--fake-iface'), rest.slice(0, n), rest.slice(n));
  },
};

export const INFO_COMMANDS: readonly CommandSpec[] = [
  simple('list-ifaces', 'BRIDGE', (ctx, cache) => {
    const br = cache.findBridge(ctx.argv[1]!, true)!;
    cache.verifyPorts();
    const names = br.ports.flatMap((p) => p.ifaces.map((i) => i.row.string('name'))).filter((n) => n !== br.name);
    ctx.output += sorted(names);
  }),
  simple('port-to-br', 'PORT', (ctx, cache) => {
    ctx.output += `${cache.findPort(ctx.argv[1]!, true)!.bridge.name}\n`;
  }),
  simple('iface-to-br', 'IFACE', (ctx, cache) => {
    ctx.output += `${cache.findIface(ctx.argv[1]!, true)!.port.bridge.name}\n`;
  }),
  simple('br-to-vlan', 'BRIDGE', (ctx, cache) => {
    ctx.output += `${cache.findBridge(ctx.argv[1]!, true)!.vlan}\n`;
  }),
  simple('br-to-parent', 'BRIDGE', (ctx, cache) => {
    const br = cache.findBridge(ctx.argv[1]!, true)!;
    ctx.output += `${(br.parent ?? br).name}\n`;
  }),
  brSetExternalId,
  brGetExternalId,
  addBond,
];
