/**
 * What ovs-vswitchd does for a bridge, for the ovnts switch: keep the switch's ports equal to the
 * Interfaces the Open_vSwitch database puts on the bridge, and write back what the switch
 * decided (Interface.ofport, link_state, error). Interface types:
 *   dgram   options:local=IP:PORT [options:remote=IP:PORT]  (a VIF over a UDP datagram socket)
 *   geneve  options:remote_ip=IP [options:dst_port=N]       (a tunnel port; ovn-controller makes these)
 *   patch   options:peer=NAME
 *   internal / "" / system                                  (a port whose frames nobody reads here:
 *                                                            counted and dropped, as a host netdev
 *                                                            with no listener; the bridge's own
 *                                                            port is not made)
 */
import { Idl, OvsdbClient, Vswitch, ovsMap, ovsSet, ovsUuid, typedTable, type Logger } from '@ovnts/ovsdb';
import type { PortSpec } from '@ovnts/switch/dist/src/ports/types.js';
import type { Switch } from '@ovnts/switch/dist/src/switch.js';

export interface BridgeSyncOptions {
  readonly vswitchDb: string;
  readonly bridge: string;
  readonly sw: Switch;
  readonly log: Logger;
}

function specOf(i: Vswitch.Interface, bridge: string): PortSpec | { error: string } | undefined {
  const o = i.options;
  const base = { name: i.name, ...(i.ofport_request !== undefined ? { ofport: i.ofport_request } : {}) };
  switch (i.type) {
    case '':
    case 'internal':
    case 'system':
      return i.name === bridge ? undefined : { ...base, type: 'internal' };
    case 'dgram':
      if (!o['local']) return { error: 'options:local is required' };
      return { ...base, type: 'dgram', local: o['local'], ...(o['remote'] ? { remote: o['remote'] } : {}) };
    case 'geneve':
      if (!o['remote_ip']) return { error: 'options:remote_ip is required' };
      return { ...base, type: 'tunnel', remoteIp: o['remote_ip'], ...(o['dst_port'] ? { remotePort: Number(o['dst_port']) } : {}) };
    case 'patch':
      if (!o['peer']) return { error: 'options:peer is required' };
      return { ...base, type: 'patch', peer: o['peer'] };
    default:
      return { error: `${i.type}: unsupported interface type` };
  }
}

export class BridgeSync {
  private client: OvsdbClient | undefined;
  private idl: Idl | undefined;
  /** Interface name → the spec its port was made from (to notice changes). */
  private readonly made = new Map<string, string>();
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly opts: BridgeSyncOptions) {}

  async start(): Promise<void> {
    this.client = new OvsdbClient({ remotes: [this.opts.vswitchDb] });
    this.idl = new Idl(this.client, { database: 'Open_vSwitch', tables: { Open_vSwitch: true, Bridge: true, Port: true, Interface: true } });
    this.idl.on('change', () => this.kick());
    await this.idl.start();
    this.kick();
  }

  close(): void {
    this.idl?.close();
    this.client?.close();
  }

  private kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.sync()
      .catch((e: unknown) => this.opts.log.warn(`bridge sync: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async sync(): Promise<void> {
    const idl = this.idl!;
    const bridges = [...typedTable(idl, Vswitch.tables.Bridge)];
    const ports = [...typedTable(idl, Vswitch.tables.Port)];
    const ifaces = new Map([...typedTable(idl, Vswitch.tables.Interface)].map((i) => [i._uuid, i]));
    const br = bridges.find((b) => b.name === this.opts.bridge);
    const wanted = new Map<string, Vswitch.Interface>();
    if (br) for (const p of ports) if (br.ports.includes(p._uuid)) for (const u of p.interfaces) {
      const i = ifaces.get(u);
      if (i) wanted.set(i.name, i);
    }
    const sw = this.opts.sw;
    for (const name of [...this.made.keys()]) {
      if (wanted.has(name)) continue;
      await sw.delPort(name);
      this.made.delete(name);
      this.opts.log.info(`removed port ${name}`);
    }
    const tx = this.client!.transaction('Open_vSwitch');
    let writes = 0;
    for (const [name, i] of wanted) {
      const spec = specOf(i, this.opts.bridge);
      if (spec === undefined) continue;
      if ('error' in spec) {
        if (i.error !== spec.error) {
          tx.update('Interface', [['_uuid', '==', ovsUuid(i._uuid)]], { error: spec.error, ofport: ovsSet(-1) });
          writes++;
        }
        continue;
      }
      const text = JSON.stringify(spec);
      let ofport = i.ofport;
      if (this.made.get(name) !== text) {
        if (this.made.has(name)) await sw.delPort(name);
        try {
          const info = await sw.addPort(spec);
          ofport = info.ofport;
          this.made.set(name, text);
          this.opts.log.info(`added port ${name} (${spec.type}) as ofport ${info.ofport}`);
        } catch (e) {
          const error = e instanceof Error ? e.message : String(e);
          tx.update('Interface', [['_uuid', '==', ovsUuid(i._uuid)]], { error, ofport: ovsSet(-1) });
          writes++;
          continue;
        }
      }
      if (i.ofport !== ofport || i.link_state !== 'up' || i.error !== undefined) {
        tx.update('Interface', [['_uuid', '==', ovsUuid(i._uuid)]], { ofport: ofport ?? -1, link_state: 'up', error: ovsSet(), status: ovsMap({}) });
        writes++;
      }
    }
    if (writes) await tx.execute();
  }
}
