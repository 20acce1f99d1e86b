/**
 * The per-host controller (ovn-controller's job): it reads its configuration from the local
 * Open_vSwitch database, registers its chassis in the Southbound DB, claims the logical ports
 * whose VIFs appear on its integration bridge, creates the tunnel ports to the other chassis,
 * translates the Southbound contents into switch flows and keeps the switch equal to them, and
 * acknowledges nb_cfg once its flows reflect it.
 *
 * Each round (`run`) is driven by replica changes and recomputes the desired flows from scratch,
 * but sends the switch only the difference, so the switch's tables never go through a state
 * that neither the old nor the new configuration would have.
 */
import { hostname } from 'node:os';
import { Idl, OvsdbClient, Sb, Vswitch, ovsMap, ovsSet, ovsUuid, typedTable, type Logger } from '@ovnts/ovsdb';
import type { Group } from '@ovnts/switch/dist/src/flow/group.js';
import type { FlowMod } from '@ovnts/switch/dist/src/flow/table.js';
import type { Action } from '@ovnts/switch/dist/src/flow/actions.js';
import type { FlowKey } from '@ovnts/switch';
import type { Continuation, PacketIn } from '@ovnts/switch/dist/src/datapath/types.js';
import { computeDesired, type SouthboundState } from './desired.js';
import { gatewayPlacement } from './gateway.js';
import { LflowCache } from './lflow-cache.js';
import { localDatapaths, monitorConditions } from './monitor-conditions.js';
import type { PhysicalMemo } from './physical.js';
import { diffTables, flowId, type InstalledFlow } from './flow-state.js';
import { Pinctrl } from './pinctrl.js';

/** What the controller needs from its switch (the control-socket client or an in-process switch). */
export interface SwitchControl {
  bundle(mods: readonly FlowMod[]): Promise<void>;
  addGroup(g: Group): Promise<void>;
  modifyGroup(g: Group): Promise<void>;
  deleteGroup(id: number): Promise<void>;
  dumpFlows(): Promise<InstalledFlow[]>;
  dumpGroups(): Promise<Group[]>;
  packetOut(frame: Uint8Array, actions: readonly Action[], opts: { inPort?: number; key?: FlowKey }): Promise<void>;
  resume(cont: Continuation, frame?: Uint8Array, key?: FlowKey): Promise<void>;
  onPacketIn(handler: (p: PacketIn) => void): void;
}

export interface ControllerOptions {
  readonly vswitchDb: string;
  readonly connectSwitch: (bridge: string) => Promise<SwitchControl>;
  readonly log: Logger;
  /** Milliseconds to gather changes before a round (default 5). */
  readonly debounceMs?: number;
  /** Replicate the whole Southbound DB instead of the local datapaths' rows (ovn-monitor-all). */
  readonly monitorAll?: boolean;
}

interface LocalConfig {
  readonly systemId: string;
  readonly remote: string;
  readonly encapType: string;
  readonly encapIp: string;
  readonly bridge: string;
}

export interface ControllerStatus {
  readonly chassis: string | undefined;
  readonly rounds: number;
  readonly flows: number;
  readonly groups: number;
  readonly boundPorts: readonly string[];
  readonly compileErrors: number;
  readonly nbCfg: number;
}

const SB_TABLES = {
  SB_Global: true,
  Chassis: true,
  Chassis_Private: true,
  Encap: true,
  Datapath_Binding: true,
  Port_Binding: true,
  Logical_Flow: true,
  Logical_DP_Group: true,
  Multicast_Group: true,
  MAC_Binding: true,
  Address_Set: true,
  Port_Group: true,
  HA_Chassis_Group: true,
  HA_Chassis: true,
  DNS: true,
} as const;

const VS_TABLES = { Open_vSwitch: true, Bridge: true, Port: true, Interface: true } as const;

export class Controller {
  private vsClient: OvsdbClient | undefined;
  private vs: Idl | undefined;
  private sbClient: OvsdbClient | undefined;
  private sb: Idl | undefined;
  private sw: SwitchControl | undefined;
  private config: LocalConfig | undefined;
  private installed = new Map<string, InstalledFlow>();
  private installedGroups = new Map<number, Group>();
  private groupIds: ReadonlyMap<string, number> = new Map();
  private readonly zones = new Map<string, number>();
  /** Zones allocated since they were last written to the bridge's external_ids. */
  private readonly newZones = new Map<string, number>();
  private readonly cache = new LflowCache();
  private readonly physicalMemo: PhysicalMemo = new Map();
  /** The Southbound monitor conditions last asked for (JSON), per table. */
  private readonly conditions = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private rounds = 0;
  private compileErrors = 0;
  private acked = -1;
  /** Logical ports this chassis claimed (so it releases only its own claims). */
  private readonly claimed = new Set<string>();
  private pinctrl: Pinctrl | undefined;

  constructor(private readonly opts: ControllerOptions) {}

  private get log(): Logger {
    return this.opts.log;
  }

  async start(): Promise<void> {
    this.vsClient = new OvsdbClient({ remotes: [this.opts.vswitchDb] });
    this.vs = new Idl(this.vsClient, { database: 'Open_vSwitch', tables: VS_TABLES });
    this.vs.on('change', () => this.schedule());
    await this.vs.start();
    this.config = await this.waitForConfig();
    this.log.info(`chassis ${this.config.systemId}: southbound ${this.config.remote}, encap ${this.config.encapType} ${this.config.encapIp}, bridge ${this.config.bridge}`);
    await this.ensureBridge(this.config.bridge);
    this.sw = await this.opts.connectSwitch(this.config.bridge);
    await this.loadInstalled();
    this.loadZones(this.config.bridge);
    this.sbClient = new OvsdbClient({ remotes: this.config.remote.split(',') });
    this.sb = new Idl(this.sbClient, { database: 'OVN_Southbound', tables: SB_TABLES });
    this.sb.on('change', () => this.schedule());
    await this.sb.start();
    this.pinctrl = new Pinctrl({ sw: this.sw, sb: this.sb, log: this.log });
    this.sw.onPacketIn((p) => this.pinctrl?.handle(p));
    this.schedule(0);
  }

  /** Removes this chassis from the Southbound DB (a clean exit) and disconnects. */
  async stop(opts: { cleanup?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    if (opts.cleanup !== false && this.sbClient && this.config && this.sbClient.isConnected) {
      const name = this.config.systemId;
      const tx = this.sbClient.transaction('OVN_Southbound');
      for (const pb of this.sbRows(Sb.tables.Port_Binding)) {
        if (this.claimed.has(pb.logical_port)) tx.update('Port_Binding', [['_uuid', '==', ovsUuid(pb._uuid)]], { chassis: ovsSet(), up: ovsSet(false) });
      }
      tx.delete('Chassis_Private', [['name', '==', name]]);
      tx.delete('Encap', [['chassis_name', '==', name]]);
      tx.delete('Chassis', [['name', '==', name]]);
      await tx.execute().catch((e: unknown) => this.log.warn(`cleanup failed: ${String(e)}`));
    }
    this.sb?.close();
    this.vs?.close();
    this.sbClient?.close();
    this.vsClient?.close();
  }

  status(): ControllerStatus {
    return {
      chassis: this.config?.systemId,
      rounds: this.rounds,
      flows: this.installed.size,
      groups: this.installedGroups.size,
      boundPorts: [...this.claimed].sort(),
      compileErrors: this.compileErrors,
      nbCfg: this.acked,
    };
  }

  private schedule(delay = this.opts.debounceMs ?? 5): void {
    // Rounds start once start() has connected everything (changes before that are in its first round).
    if (this.stopped || this.timer || !this.pinctrl) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.running) {
        this.again = true;
        return;
      }
      this.running = this.run()
        .catch((e: unknown) => this.log.warn(`round failed: ${e instanceof Error ? e.message : String(e)}`))
        .finally(() => {
          this.running = undefined;
          if (this.again) {
            this.again = false;
            this.schedule();
          }
        });
    }, delay);
  }

  private vsRows<R>(model: { fromIdlRow(row: never): R }): R[] {
    return this.vs ? ([...typedTable(this.vs, model as never)] as R[]) : [];
  }

  private sbRows<R>(model: { fromIdlRow(row: never): R }): R[] {
    return this.sb ? ([...typedTable(this.sb, model as never)] as R[]) : [];
  }

  private readConfig(): LocalConfig | undefined {
    const ovs = this.vsRows(Vswitch.tables.Open_vSwitch)[0];
    if (!ovs) return undefined;
    const ids = ovs.external_ids;
    const systemId = ids['system-id'];
    const remote = ids['ovn-remote'];
    const encapIp = ids['ovn-encap-ip'];
    if (!systemId || !remote || !encapIp) return undefined;
    return { systemId, remote, encapIp, encapType: ids['ovn-encap-type'] ?? 'geneve', bridge: ids['ovn-bridge'] ?? 'br-int' };
  }

  private async waitForConfig(): Promise<LocalConfig> {
    for (let i = 0; ; i++) {
      const c = this.readConfig();
      if (c) return c;
      if (i === 0) this.log.info('waiting for external_ids system-id, ovn-remote and ovn-encap-ip in the Open_vSwitch table');
      if (this.stopped) throw new Error('stopped');
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Creates the integration bridge in the Open_vSwitch DB if it is missing, as ovn-controller does. */
  private async ensureBridge(name: string): Promise<void> {
    if (this.vsRows(Vswitch.tables.Bridge).some((b) => b.name === name)) return;
    const ovs = this.vsRows(Vswitch.tables.Open_vSwitch)[0]!;
    const tx = this.vsClient!.transaction('Open_vSwitch');
    const iface = tx.insert('Interface', { name, type: 'internal' });
    const port = tx.insert('Port', { name, interfaces: ovsSet(iface.ref) });
    const br = tx.insert('Bridge', { name, ports: ovsSet(port.ref), fail_mode: 'secure', other_config: ovsMap({ 'disable-in-band': 'true' }) });
    tx.mutate('Open_vSwitch', [['_uuid', '==', ovsUuid(ovs._uuid)]], [['bridges', 'insert', ovsSet(br.ref)]]);
    await tx.execute();
  }

  private async loadInstalled(): Promise<void> {
    // Start from what the switch has (a restarted controller replaces it by differences only).
    const flows = await this.sw!.dumpFlows();
    this.installed = new Map(flows.map((f) => [flowId(f.table, f.priority, f.match), f]));
    this.installedGroups = new Map((await this.sw!.dumpGroups()).map((g) => [g.id, g]));
  }

  /**
   * Asks the Southbound server for the rows of this chassis' local datapaths only (see
   * monitor-conditions.ts). The answer arrives as replica changes, which start another round.
   */
  private narrowMonitoring(cfg: LocalConfig, sb: SouthboundState, vifs: ReadonlyMap<string, number>, gateways: ReadonlySet<string>): void {
    // external_ids:ovn-monitor-all=true in the Open_vSwitch table asks for everything, as in OVN.
    const all = this.opts.monitorAll === true || this.vsRows(Vswitch.tables.Open_vSwitch)[0]?.external_ids['ovn-monitor-all'] === 'true';
    const me = sb.chassis.find((c) => c.name === cfg.systemId);
    const view = { ports: sb.ports, dpGroups: sb.dpGroups, chassisUuid: me?._uuid, ifaceIds: new Set(vifs.keys()), gateways };
    const local = localDatapaths(view);
    const narrowed = monitorConditions(view, local);
    const wanted = all ? Object.fromEntries(Object.keys(narrowed).map((k) => [k, undefined])) : narrowed;
    if (!all && JSON.stringify(wanted['Logical_Flow']) !== this.conditions.get('Logical_Flow')) {
      const names = [...local].map((u) => sb.datapaths.find((d) => d._uuid === u)?.external_ids['name'] ?? u).sort();
      this.log.info(`monitoring the logical flows of ${names.length} local datapath(s): ${names.join(', ') || '(none)'}`);
    }
    for (const [table, where] of Object.entries(wanted)) {
      const text = JSON.stringify(where);
      if (this.conditions.get(table) === text) continue;
      this.conditions.set(table, text);
      this.sb!.setCondition(table, where as never).catch((e: unknown) => {
        this.conditions.delete(table);
        this.log.warn(`monitor condition for ${table}: ${e instanceof Error ? e.message : String(e)}`);
      });
    }
  }

  /**
   * The conntrack zone of a port or router (stable for the life of the chassis, across restarts:
   * a new zone number would orphan every established connection, so zones are kept in the
   * bridge's external_ids as `ct-zone-OWNER`, as ovn-controller keeps them).
   */
  private zone(owner: string): number {
    let z = this.zones.get(owner);
    if (z === undefined) {
      const used = new Set(this.zones.values());
      for (z = 1; used.has(z); z++);
      this.zones.set(owner, z);
      this.newZones.set(owner, z);
    }
    return z;
  }

  private loadZones(bridge: string): void {
    const br = this.vsRows(Vswitch.tables.Bridge).find((b) => b.name === bridge);
    for (const [k, v] of Object.entries(br?.external_ids ?? {})) {
      const n = Number(v);
      if (k.startsWith('ct-zone-') && Number.isInteger(n) && n > 0) this.zones.set(k.slice('ct-zone-'.length), n);
    }
  }

  private async saveZones(bridge: string): Promise<void> {
    if (this.newZones.size === 0) return;
    const br = this.vsRows(Vswitch.tables.Bridge).find((b) => b.name === bridge);
    if (!br) return;
    const added = Object.fromEntries([...this.newZones].map(([owner, z]) => [`ct-zone-${owner}`, String(z)]));
    this.newZones.clear();
    const tx = this.vsClient!.transaction('Open_vSwitch');
    tx.mutate('Bridge', [['_uuid', '==', ovsUuid(br._uuid)]], [['external_ids', 'insert', ovsMap(added)]]);
    await tx.execute();
  }

  private async run(): Promise<void> {
    const cfg = this.readConfig() ?? this.config!;
    const sw = this.sw!;
    this.rounds++;
    await this.ensureChassis(cfg);
    const ports = this.vsRows(Vswitch.tables.Port);
    const ifaces = this.vsRows(Vswitch.tables.Interface);
    const bridge = this.vsRows(Vswitch.tables.Bridge).find((b) => b.name === cfg.bridge);
    const onBridge = new Set(bridge ? ports.filter((p) => bridge.ports.includes(p._uuid)).flatMap((p) => p.interfaces) : []);
    const vifs = new Map<string, number>();
    const tunnels = new Map<string, number>();
    for (const i of ifaces) {
      if (!onBridge.has(i._uuid)) continue;
      const ofport = i.ofport ?? -1;
      const ifaceId = i.external_ids['iface-id'];
      const chassisId = i.external_ids['ovn-chassis-id'];
      if (ofport > 0 && ifaceId) vifs.set(ifaceId, ofport);
      if (ofport > 0 && chassisId) tunnels.set(chassisId, ofport);
    }
    await this.ensureTunnels(cfg, bridge?._uuid);
    // Claims first, and without waiting for them: a new VIF's claim should not wait for (nor
    // delay) the flow computation; the Southbound's answer comes back as another round.
    const bindings = this.sbRows(Sb.tables.Port_Binding);
    const chassis = this.sbRows(Sb.tables.Chassis);
    const haGroups = this.sbRows(Sb.tables.HA_Chassis_Group);
    const haChassis = this.sbRows(Sb.tables.HA_Chassis);
    const gateways = new Set([...gatewayPlacement({ ports: bindings, chassis, haGroups, haChassis })].filter(([, c]) => c === cfg.systemId).map(([p]) => p));
    const binding = this.bind(cfg, vifs, gateways, bindings, chassis).catch((e: unknown) => this.log.warn(`binding failed: ${e instanceof Error ? e.message : String(e)}`));
    const sb: SouthboundState = {
      datapaths: this.sbRows(Sb.tables.Datapath_Binding),
      ports: bindings,
      flows: this.sbRows(Sb.tables.Logical_Flow),
      dpGroups: this.sbRows(Sb.tables.Logical_DP_Group),
      multicastGroups: this.sbRows(Sb.tables.Multicast_Group),
      macBindings: this.sbRows(Sb.tables.MAC_Binding),
      addressSets: this.sbRows(Sb.tables.Address_Set),
      portGroups: this.sbRows(Sb.tables.Port_Group),
      chassis,
      haGroups,
      haChassis,
      dns: this.sbRows(Sb.tables.DNS),
    };
    const nbCfg = this.sbRows(Sb.tables.SB_Global)[0]?.nb_cfg ?? 0;
    const result = computeDesired(sb, { chassis: cfg.systemId, vifs, tunnels, zone: (o) => this.zone(o), cache: this.cache, physicalMemo: this.physicalMemo }, this.groupIds);
    if (result.errors.length !== this.compileErrors) {
      for (const e of result.errors.slice(0, 5)) this.log.warn(`logical flow ${e.uuid}: ${e.error}`);
    }
    this.compileErrors = result.errors.length;
    this.pinctrl?.update({ sb, chassis: cfg.systemId, vifs });
    const desired = result.flows.entries();
    const desiredGroups = result.flows.groupTable();
    const diff = diffTables(this.installed, desired, this.installedGroups, desiredGroups);
    for (const g of diff.addGroups) await sw.addGroup(g);
    for (const g of diff.modifyGroups) await sw.modifyGroup(g);
    if (diff.flowMods.length) await sw.bundle(diff.flowMods);
    for (const id of diff.deleteGroups) await sw.deleteGroup(id);
    if (diff.flowMods.length) this.log.debug(`round ${this.rounds}: ${diff.flowMods.length} flow-mods, ${desired.size} flows`);
    this.installed = new Map(desired);
    this.installedGroups = new Map(desiredGroups);
    this.groupIds = result.flows.groupIdMap();
    await binding;
    this.narrowMonitoring(cfg, sb, vifs, gateways);
    await this.saveZones(cfg.bridge).catch((e: unknown) => this.log.warn(`saving conntrack zones: ${e instanceof Error ? e.message : String(e)}`));
    await this.ackNbCfg(cfg, nbCfg);
  }

  private async ensureChassis(cfg: LocalConfig): Promise<void> {
    const chassis = this.sbRows(Sb.tables.Chassis).find((c) => c.name === cfg.systemId);
    const encaps = this.sbRows(Sb.tables.Encap).filter((e) => e.chassis_name === cfg.systemId);
    const priv = this.sbRows(Sb.tables.Chassis_Private).find((c) => c.name === cfg.systemId);
    const encapOk = encaps.length === 1 && encaps[0]!.ip === cfg.encapIp && encaps[0]!.type === cfg.encapType;
    if (chassis && encapOk && priv && priv.chassis === chassis._uuid) return;
    const tx = this.sbClient!.transaction('OVN_Southbound');
    let chassisRef: unknown;
    if (!chassis || !encapOk) {
      tx.delete('Encap', [['chassis_name', '==', cfg.systemId]]);
      const encap = tx.insert('Encap', { type: cfg.encapType, ip: cfg.encapIp, chassis_name: cfg.systemId, options: ovsMap({ csum: 'true' }) });
      if (chassis) {
        tx.update('Chassis', [['_uuid', '==', ovsUuid(chassis._uuid)]], { encaps: ovsSet(encap.ref) });
        chassisRef = ovsUuid(chassis._uuid);
      } else {
        const c = tx.insert('Chassis', { name: cfg.systemId, hostname: hostname(), encaps: ovsSet(encap.ref), other_config: ovsMap({ 'datapath-type': '', 'ovn-bridge-mappings': '' }) });
        chassisRef = c.ref;
      }
    } else chassisRef = ovsUuid(chassis._uuid);
    if (!priv) tx.insert('Chassis_Private', { name: cfg.systemId, chassis: chassisRef as never });
    else tx.update('Chassis_Private', [['_uuid', '==', ovsUuid(priv._uuid)]], { chassis: chassisRef as never });
    await tx.execute();
    this.log.info(`registered chassis ${cfg.systemId} (${cfg.encapType} ${cfg.encapIp})`);
  }

  /** One tunnel port per other chassis on the integration bridge, named like ovn-controller's. */
  private async ensureTunnels(cfg: LocalConfig, bridgeUuid: string | undefined): Promise<void> {
    if (!bridgeUuid) return;
    const encapByChassis = new Map<string, Sb.Encap>();
    for (const e of this.sbRows(Sb.tables.Encap)) if (e.chassis_name !== cfg.systemId && e.type === cfg.encapType) encapByChassis.set(e.chassis_name, e);
    const ifaces = this.vsRows(Vswitch.tables.Interface).filter((i) => i.external_ids['ovn-chassis-id'] !== undefined);
    const ports = this.vsRows(Vswitch.tables.Port);
    const have = new Map(ifaces.map((i) => [i.external_ids['ovn-chassis-id']!, i]));
    const tx = this.vsClient!.transaction('Open_vSwitch');
    let changes = 0;
    for (const [chassis, encap] of encapByChassis) {
      const i = have.get(chassis);
      if (i && i.options['remote_ip'] === encap.ip) continue;
      if (i) {
        tx.update('Interface', [['_uuid', '==', ovsUuid(i._uuid)]], { options: ovsMap({ remote_ip: encap.ip, key: 'flow', csum: 'true' }) });
      } else {
        const name = `ovn-${chassis.slice(0, 6)}-0`;
        const iface = tx.insert('Interface', { name, type: cfg.encapType, options: ovsMap({ remote_ip: encap.ip, key: 'flow', csum: 'true' }), external_ids: ovsMap({ 'ovn-chassis-id': chassis }) });
        const port = tx.insert('Port', { name, interfaces: ovsSet(iface.ref), external_ids: ovsMap({ 'ovn-chassis-id': chassis }) });
        tx.mutate('Bridge', [['_uuid', '==', ovsUuid(bridgeUuid)]], [['ports', 'insert', ovsSet(port.ref)]]);
      }
      changes++;
    }
    for (const [chassis, i] of have) {
      if (encapByChassis.has(chassis)) continue;
      const port = ports.find((p) => p.interfaces.includes(i._uuid));
      if (port) tx.mutate('Bridge', [['_uuid', '==', ovsUuid(bridgeUuid)]], [['ports', 'delete', ovsSet(ovsUuid(port._uuid))]]);
      changes++;
    }
    if (changes) await tx.execute();
  }

  /**
   * Claims the Port_Binding of every local VIF (chassis = us, up = true) and of the gateway ports
   * this chassis hosts, and releases ports whose VIF went away (or whose gateway moved). A VIF
   * another chassis claimed after us (a VM migrated there) is not claimed back: the newest claim
   * wins, and this chassis stops forwarding for it.
   */
  private async bind(cfg: LocalConfig, vifs: ReadonlyMap<string, number>, gateways: ReadonlySet<string>, ports: readonly Sb.PortBinding[], chassis: readonly Sb.Chassis[]): Promise<void> {
    const me = chassis.find((c) => c.name === cfg.systemId);
    if (!me) return;
    const tx = this.sbClient!.transaction('OVN_Southbound');
    let changes = 0;
    for (const pb of ports) {
      const gateway = gateways.has(pb.logical_port);
      const local = vifs.has(pb.logical_port) || gateway;
      const mine = pb.chassis === me._uuid;
      if (local && !mine && (!this.claimed.has(pb.logical_port) || gateway)) {
        tx.update('Port_Binding', [['_uuid', '==', ovsUuid(pb._uuid)]], { chassis: ovsUuid(me._uuid), up: true });
        this.claimed.add(pb.logical_port);
        this.log.info(`claiming ${pb.logical_port}`);
        changes++;
      } else if (local && mine && pb.up !== true) {
        tx.update('Port_Binding', [['_uuid', '==', ovsUuid(pb._uuid)]], { up: true });
        this.claimed.add(pb.logical_port);
        changes++;
      } else if (local && mine) {
        // Ours already (claimed before a restart of this controller).
        this.claimed.add(pb.logical_port);
      } else if (!local && mine && this.claimed.has(pb.logical_port)) {
        tx.update('Port_Binding', [['_uuid', '==', ovsUuid(pb._uuid)]], { chassis: ovsSet(), up: false });
        this.claimed.delete(pb.logical_port);
        this.log.info(`releasing ${pb.logical_port}`);
        changes++;
      } else if (local && !mine && this.claimed.has(pb.logical_port) && pb.chassis !== undefined) {
        // Another chassis took the port: the newest claim wins.
        this.claimed.delete(pb.logical_port);
        this.log.info(`${pb.logical_port} was claimed by another chassis`);
      }
    }
    if (changes) await tx.execute();
  }

  private async ackNbCfg(cfg: LocalConfig, nbCfg: number): Promise<void> {
    if (nbCfg === this.acked) return;
    const priv = this.sbRows(Sb.tables.Chassis_Private).find((c) => c.name === cfg.systemId);
    if (!priv) return;
    const tx = this.sbClient!.transaction('OVN_Southbound');
    tx.update('Chassis_Private', [['_uuid', '==', ovsUuid(priv._uuid)]], { nb_cfg: nbCfg, nb_cfg_timestamp: Date.now() });
    await tx.execute();
    this.acked = nbCfg;
  }
}
