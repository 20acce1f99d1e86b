/**
 * ovs-vsctl's picture of the switch configuration: bridges (real ones, and "fake" VLAN
 * bridges made of a port with fake_bridge=true and a tag), their ports and interfaces, by
 * name; built once per invocation and kept current by the commands that change it.
 */
import type { Atom } from '../ovsdb.js';
import type { DbTxn, ViewRow } from '../db-txn.js';
import { fail } from '../errors.js';
import type { CommandContext } from '../tool.js';

export interface VsBridge {
  readonly name: string;
  /** The Bridge row; undefined for a fake bridge. */
  readonly row: ViewRow | undefined;
  readonly parent: VsBridge | undefined;
  readonly vlan: number;
  readonly ports: VsPort[];
  readonly children: VsBridge[];
}

export interface VsPort {
  readonly row: ViewRow;
  readonly bridge: VsBridge;
  readonly ifaces: VsIface[];
}

export interface VsIface {
  readonly row: ViewRow;
  readonly port: VsPort;
}

export class VsCache {
  readonly bridges = new Map<string, VsBridge>();
  readonly ports = new Map<string, VsPort>();
  readonly ifaces = new Map<string, VsIface>();

  constructor(
    readonly txn: DbTxn,
    readonly ovs: ViewRow,
  ) {
    const refs = (row: ViewRow, column: string, table: string): ViewRow[] =>
      (row.get(column) as readonly Atom[]).map((u) => txn.get(table, u as string)).filter((r): r is ViewRow => r !== undefined);
    const bridgeRows = refs(ovs, 'bridges', 'Bridge');
    const seenBridges = new Set<string>();
    const seenPorts = new Set<string>();
    for (const br of bridgeRows) {
      const name = br.string('name');
      if (seenBridges.has(name)) continue;
      seenBridges.add(name);
      const b = this.addBridge(name, br, undefined, 0);
      for (const p of refs(br, 'ports', 'Port')) {
        const pname = p.string('name');
        if (seenPorts.has(pname)) continue;
        seenPorts.add(pname);
        if (isFakeBridge(p) && !seenBridges.has(pname)) {
          seenBridges.add(pname);
          this.addBridge(pname, undefined, b, Number(p.scalar('tag')));
        }
      }
    }
    const done = new Set<string>();
    for (const br of bridgeRows) {
      const name = br.string('name');
      if (done.has(name)) continue;
      done.add(name);
      const b = this.bridges.get(name)!;
      for (const p of refs(br, 'ports', 'Port')) {
        const pname = p.string('name');
        if (this.ports.has(pname)) continue;
        if (isFakeBridge(p) && done.has(pname)) continue;
        if (isFakeBridge(p)) done.add(pname);
        const port = this.addPort(b, p);
        for (const i of refs(p, 'interfaces', 'Interface')) {
          if (!this.ifaces.has(i.string('name'))) this.addIface(port, i);
        }
      }
    }
  }

  static get(ctx: CommandContext): VsCache {
    let c = ctx.state.get('vsctl') as VsCache | undefined;
    if (!c) {
      const ovs = ctx.txn.first('Open_vSwitch');
      if (!ovs) fail('no Open_vSwitch record');
      ctx.state.set('vsctl', (c = new VsCache(ctx.txn, ovs)));
    }
    return c;
  }

  addBridge(name: string, row: ViewRow | undefined, parent: VsBridge | undefined, vlan: number): VsBridge {
    const b: VsBridge = { name, row, parent, vlan, ports: [], children: [] };
    this.bridges.set(name, b);
    parent?.children.push(b);
    return b;
  }

  addPort(parent: VsBridge, row: ViewRow): VsPort {
    let bridge = parent;
    const tag = row.get('tag');
    if (tag.length === 1 && (tag[0] as number) >= 0 && (tag[0] as number) <= 4095) {
      const vlanBridge = parent.children.find((c) => c.vlan === tag[0]);
      if (vlanBridge) bridge = vlanBridge;
    }
    const port: VsPort = { row, bridge, ifaces: [] };
    bridge.ports.push(port);
    this.ports.set(row.string('name'), port);
    return port;
  }

  addIface(port: VsPort, row: ViewRow): VsIface {
    const iface: VsIface = { row, port };
    port.ifaces.push(iface);
    this.ifaces.set(row.string('name'), iface);
    return iface;
  }

  findBridge(name: string, mustExist: boolean): VsBridge | undefined {
    const b = this.bridges.get(name);
    if (mustExist && !b) fail(`no bridge named ${name}`);
    this.txn.verify(this.ovs, 'bridges');
    return b;
  }

  findRealBridge(name: string, mustExist: boolean): VsBridge | undefined {
    const b = this.findBridge(name, mustExist);
    if (b?.parent) fail(`${name} is a fake bridge`);
    return b;
  }

  findPort(name: string, mustExist: boolean): VsPort | undefined {
    let p = this.ports.get(name);
    if (p && p.bridge.name === name) p = undefined;
    if (mustExist && !p) fail(`no port named ${name}`);
    this.verifyPorts();
    return p;
  }

  findIface(name: string, mustExist: boolean): VsIface | undefined {
    let i = this.ifaces.get(name);
    if (i && i.port.bridge.name === name) i = undefined;
    if (mustExist && !i) fail(`no interface named ${name}`);
    this.verifyPorts();
    return i;
  }

  /** Verifies what the port and interface maps were built from. */
  verifyPorts(): void {
    this.txn.verify(this.ovs, 'bridges');
    for (const b of this.bridges.values()) {
      if (b.row) this.txn.verify(b.row, 'ports');
    }
    for (const p of this.ports.values()) this.txn.verify(p.row, 'interfaces');
  }

  /** Fails if `name` is already a bridge, port or interface. */
  checkConflicts(name: string, msg: string): void {
    this.verifyPorts();
    if (this.bridges.has(name)) fail(`${msg} because a bridge named ${name} already exists`);
    const p = this.ports.get(name);
    if (p) fail(`${msg} because a port named ${name} already exists on bridge ${p.bridge.name}`);
    const i = this.ifaces.get(name);
    if (i) fail(`${msg} because an interface named ${name} already exists on bridge ${i.port.bridge.name}`);
  }

  deleteIface(i: VsIface): void {
    this.txn.delete(i.row);
    this.ifaces.delete(i.row.string('name'));
    i.port.ifaces.splice(i.port.ifaces.indexOf(i), 1);
  }

  deletePort(p: VsPort): void {
    const owner = p.bridge.parent ?? p.bridge;
    if (owner.row) {
      this.txn.write(
        owner.row,
        'ports',
        (owner.row.get('ports') as readonly Atom[]).filter((u) => u !== p.row.uuid),
      );
    }
    for (const i of [...p.ifaces]) this.deleteIface(i);
    this.txn.delete(p.row);
    this.ports.delete(p.row.string('name'));
    p.bridge.ports.splice(p.bridge.ports.indexOf(p), 1);
  }

  deleteBridge(b: VsBridge): void {
    for (const c of [...b.children]) this.deleteBridge(c);
    for (const p of [...b.ports]) this.deletePort(p);
    if (b.row) {
      for (const f of this.txn.rows('Flow_Sample_Collector_Set')) {
        if (f.scalar('bridge') === b.row.uuid) this.txn.delete(f);
      }
    }
    if (b.parent) b.parent.children.splice(b.parent.children.indexOf(b), 1);
    if (b.row) {
      this.txn.delete(b.row);
      this.txn.write(
        this.ovs,
        'bridges',
        (this.ovs.get('bridges') as readonly Atom[]).filter((u) => u !== b.row!.uuid),
      );
    }
    this.bridges.delete(b.name);
  }
}

export function isFakeBridge(port: ViewRow): boolean {
  const tag = port.get('tag');
  return port.scalar('fake_bridge') === true && tag.length === 1;
}

export function refsOf(txn: DbTxn, row: ViewRow, column: string, table: string): ViewRow[] {
  return (row.get(column) as readonly Atom[]).map((u) => txn.get(table, u as string)).filter((r): r is ViewRow => r !== undefined);
}
