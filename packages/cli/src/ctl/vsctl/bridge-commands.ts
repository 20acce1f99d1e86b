/** ovs-vsctl's bridge and port commands: add-br, del-br, list-br, br-exists, add-port, del-port, list-ports. */
import type { Atom } from '../ovsdb.js';
import { setColumn } from '../db-commands.js';
import { preParseColumn } from '../column-args.js';
import type { ViewRow } from '../db-txn.js';
import { ExitStatus, fail } from '../errors.js';
import type { CommandContext, CommandSpec, PreContext } from '../tool.js';
import { VsCache, type VsBridge } from './cache.js';

export const VSCTL_TABLES = ['Open_vSwitch', 'Bridge', 'Port', 'Interface'];

export function needInfo(ctx: PreContext): void {
  for (const t of VSCTL_TABLES) ctx.need(t);
}

function escapeArg(a: string): string {
  return /^[-\w=+,.:/@%]+$/.test(a) ? a : `"${a.replace(/(["\\])/g, '\\$1')}"`;
}

/** The command as the user typed it, for "--may-exist" messages. */
function commandText(ctx: CommandContext): string {
  return [...ctx.options.keys(), ...ctx.argv].map(escapeArg).join(' ');
}

export const sorted = (names: readonly string[]): string => names
  .slice()
  .sort()
  .map((n) => `${n}\n`)
  .join('');

function insertInto(ctx: CommandContext, row: ViewRow, column: string, uuid: string): void {
  ctx.txn.write(row, column, [...(row.get(column) as readonly Atom[]), uuid].sort());
}

/** An internal interface and port named `name`. */
function newLocalPort(ctx: CommandContext, name: string): { iface: ViewRow; port: ViewRow } {
  const iface = ctx.txn.insert(ctx.schema.tables.get('Interface')!);
  ctx.txn.write(iface, 'name', [name]);
  ctx.txn.write(iface, 'type', ['internal']);
  const port = ctx.txn.insert(ctx.schema.tables.get('Port')!);
  ctx.txn.write(port, 'name', [name]);
  ctx.txn.write(port, 'interfaces', [iface.uuid]);
  return { iface, port };
}

const addBr: CommandSpec = {
  name: 'add-br',
  minArgs: 1,
  maxArgs: 3,
  args: 'NEW-BRIDGE [PARENT] [NEW-VLAN]',
  options: '--may-exist',
  mode: 'RW',
  pre: needInfo,
  run(ctx) {
    const cache = VsCache.get(ctx);
    const name = ctx.argv[1]!;
    let parentName: string | undefined;
    let vlan = 0;
    if (ctx.argv.length === 4) {
      parentName = ctx.argv[2]!;
      vlan = parseInt(ctx.argv[3]!, 10) || 0;
      if (vlan < 0 || vlan > 4095) fail(`${ctx.argv[0]}: vlan must be between 0 and 4095`);
    } else if (ctx.argv.length !== 2) {
      fail(`'${ctx.argv[0]}' command takes exactly 1 or 3 arguments`);
    }
    if (ctx.options.has('--may-exist')) {
      const br = cache.findBridge(name, false);
      if (br) {
        if (parentName === undefined) {
          if (br.parent) fail(`"--may-exist add-br ${name}" but ${name} is a VLAN bridge for VLAN ${br.vlan}`);
        } else if (!br.parent) {
          fail(`"--may-exist add-br ${name} ${parentName} ${vlan}" but ${name} is not a VLAN bridge`);
        } else if (br.parent.name !== parentName) {
          fail(`"--may-exist add-br ${name} ${parentName} ${vlan}" but ${name} has the wrong parent ${br.parent.name}`);
        } else if (br.vlan !== vlan) {
          fail(`"--may-exist add-br ${name} ${parentName} ${vlan}" but ${name} is a VLAN bridge for the wrong VLAN ${br.vlan}`);
        }
        return;
      }
    }
    cache.checkConflicts(name, `cannot create a bridge named ${name}`);
    if (parentName === undefined) {
      const { iface, port } = newLocalPort(ctx, name);
      const br = ctx.txn.insert(ctx.schema.tables.get('Bridge')!);
      ctx.txn.write(br, 'name', [name]);
      ctx.txn.write(br, 'ports', [port.uuid]);
      insertInto(ctx, cache.ovs, 'bridges', br.uuid);
      const b = cache.addBridge(name, br, undefined, 0);
      cache.addIface(cache.addPort(b, port), iface);
      return;
    }
    const parent = cache.findBridge(parentName, false);
    if (parent?.parent) fail('cannot create bridge with fake bridge as parent');
    if (!parent) fail(`parent bridge ${parentName} does not exist`);
    const conflict = parent.children.find((c) => c.vlan === vlan);
    if (conflict) fail(`bridge ${parentName} already has a child VLAN bridge ${conflict.name} on VLAN ${vlan}`);
    const { iface, port } = newLocalPort(ctx, name);
    ctx.txn.write(port, 'fake_bridge', [true]);
    ctx.txn.write(port, 'tag', [vlan]);
    insertInto(ctx, parent.row!, 'ports', port.uuid);
    const b = cache.addBridge(name, undefined, parent, vlan);
    cache.addIface(cache.addPort(b, port), iface);
  },
};

const delBr: CommandSpec = {
  name: 'del-br',
  minArgs: 1,
  maxArgs: 1,
  args: 'BRIDGE',
  options: '--if-exists',
  mode: 'RW',
  pre(ctx) {
    needInfo(ctx);
    ctx.need('Flow_Sample_Collector_Set');
  },
  run(ctx) {
    const cache = VsCache.get(ctx);
    const br = cache.findBridge(ctx.argv[1]!, !ctx.options.has('--if-exists'));
    if (br) cache.deleteBridge(br);
  },
};

const listBr: CommandSpec = {
  name: 'list-br',
  minArgs: 0,
  maxArgs: 0,
  args: '',
  options: '--real,--fake',
  mode: 'RO',
  pre: needInfo,
  run(ctx) {
    let real = ctx.options.has('--real');
    let fake = ctx.options.has('--fake');
    if (!real && !fake) real = fake = true;
    const names = [...VsCache.get(ctx).bridges.values()].filter((b) => (b.parent ? fake : real)).map((b) => b.name);
    ctx.output += sorted(names);
  },
};

const brExists: CommandSpec = {
  name: 'br-exists',
  minArgs: 1,
  maxArgs: 1,
  args: 'BRIDGE',
  options: '',
  mode: 'RO',
  pre: needInfo,
  run(ctx) {
    if (!VsCache.get(ctx).findBridge(ctx.argv[1]!, false)) throw new ExitStatus(2);
  },
};

/** Adds a port (one interface) or a bond (several) to a bridge, then applies COLUMN=VALUE settings to the port. */
export function addPort(ctx: CommandContext, brName: string, portName: string, mayExist: boolean, fakeIface: boolean, ifaceNames: readonly string[], settings: readonly string[]): void {
  if (portName === '') fail('port name must not be empty string');
  for (const n of ifaceNames) if (n === '') fail('interface name must not be empty string');
  const cache = VsCache.get(ctx);
  if (mayExist) {
    const existing = cache.findPort(portName, false);
    if (existing) {
      const want = [...ifaceNames].sort();
      const have = existing.ifaces.map((i) => i.row.string('name')).sort();
      if (existing.bridge.name !== brName) fail(`"${commandText(ctx)}" but ${portName} is actually attached to bridge ${existing.bridge.name}`);
      if (want.join('\0') !== have.join('\0')) fail(`"${commandText(ctx)}" but ${portName} actually has interface(s) ${have.join(', ')}`);
      return;
    }
  }
  cache.checkConflicts(portName, `cannot create a port named ${portName}`);
  for (const n of ifaceNames) cache.checkConflicts(n, `cannot create an interface named ${n}`);
  const bridge: VsBridge = cache.findBridge(brName, true)!;
  const ifaces = ifaceNames.map((n) => {
    const i = ctx.txn.insert(ctx.schema.tables.get('Interface')!);
    ctx.txn.write(i, 'name', [n]);
    return i;
  });
  const portTable = ctx.schema.tables.get('Port')!;
  const port = ctx.txn.insert(portTable);
  ctx.txn.write(port, 'name', [portName]);
  ctx.txn.write(port, 'interfaces', ifaces.map((i) => i.uuid).sort());
  ctx.txn.write(port, 'bond_fake_iface', [fakeIface]);
  if (bridge.parent) ctx.txn.write(port, 'tag', [bridge.vlan]);
  for (const s of settings) setColumn(ctx, portTable, port, s);
  insertInto(ctx, (bridge.parent ?? bridge).row!, 'ports', port.uuid);
  const p = cache.addPort(bridge, port);
  for (const i of ifaces) cache.addIface(p, i);
}

const addPortCmd: CommandSpec = {
  name: 'add-port',
  minArgs: 2,
  maxArgs: Infinity,
  args: 'BRIDGE NEW-PORT [COLUMN[:KEY]=VALUE]...',
  options: '--may-exist',
  mode: 'RW',
  pre(ctx) {
    needInfo(ctx);
    const port = ctx.schema.tables.get('Port')!;
    for (const a of ctx.argv.slice(3)) preParseColumn(a, port);
  },
  run(ctx) {
    addPort(ctx, ctx.argv[1]!, ctx.argv[2]!, ctx.options.has('--may-exist'), false, [ctx.argv[2]!], ctx.argv.slice(3));
  },
};

const delPort: CommandSpec = {
  name: 'del-port',
  minArgs: 1,
  maxArgs: 2,
  args: '[BRIDGE] PORT|IFACE',
  options: '--if-exists,--with-iface',
  mode: 'RW',
  pre: needInfo,
  run(ctx) {
    const cache = VsCache.get(ctx);
    const must = !ctx.options.has('--if-exists');
    const target = ctx.argv[ctx.argv.length - 1]!;
    let port;
    if (cache.findBridge(target, false)) {
      if (must) fail(`cannot delete port ${target} because it is the local port for bridge ${target} (deleting this port requires deleting the entire bridge)`);
      port = undefined;
    } else if (!ctx.options.has('--with-iface')) {
      port = cache.findPort(target, must);
    } else {
      port = cache.findPort(target, false) ?? cache.findIface(target, false)?.port;
      if (must && !port) fail(`no port or interface named ${target}`);
    }
    if (!port) return;
    if (ctx.argv.length === 3) {
      const bridge = cache.findBridge(ctx.argv[1]!, true)!;
      if (port.bridge !== bridge) {
        if (port.bridge.parent === bridge) fail(`bridge ${ctx.argv[1]} does not have a port ${ctx.argv[2]} (although its child bridge ${port.bridge.name} does)`);
        fail(`bridge ${ctx.argv[1]} does not have a port ${ctx.argv[2]}`);
      }
    }
    cache.deletePort(port);
  },
};

const listPorts: CommandSpec = {
  name: 'list-ports',
  minArgs: 1,
  maxArgs: 1,
  args: 'BRIDGE',
  options: '',
  mode: 'RO',
  pre: needInfo,
  run(ctx) {
    const cache = VsCache.get(ctx);
    const br = cache.findBridge(ctx.argv[1]!, true)!;
    ctx.txn.verify((br.row ?? br.parent!.row)!, 'ports');
    ctx.output += sorted(br.ports.map((p) => p.row.string('name')).filter((n) => n !== br.name));
  },
};

export const BRIDGE_COMMANDS: readonly CommandSpec[] = [addBr, delBr, listBr, brExists, addPortCmd, delPort, listPorts];
