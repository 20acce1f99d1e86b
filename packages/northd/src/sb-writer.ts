/**
 * Writes the difference between the desired Southbound rows and the Southbound replica: only
 * rows that must be inserted, updated (only the columns that differ) or deleted, in
 * transactions of bounded size. The work is done in phases so that references always point at
 * rows that exist: deletions of dependent rows, datapaths, rows referring to datapaths, rows
 * referring to ports and datapath groups, then deletion of datapaths and, last, SB_Global.nb_cfg
 * (so `nb_cfg` only advances once everything before it is committed).
 *
 * Non-root rows (Logical_DP_Group, HA_Chassis, Meter_Band) are inserted in the same transaction
 * as the first row referring to them; later transactions use their real UUIDs.
 */
import { Sb, typedTable, type ClientTransaction, type Idl, type OvsdbClient, type RowJson, type InsertRef, ovsUuid } from '@ovnts/ovsdb';
import { flowIdentity, type DesiredSb } from './desired.js';
import { RBAC_CONTROLLER } from './sb-static.js';
import type { SbFlowIndex } from './sb-flow-index.js';

const DB = 'OVN_Southbound';

export interface WriterOptions {
  /** Operations per transaction (default 1000). */
  readonly maxOps?: number;
  /** Lock every transaction asserts (default "ovn_northd"); null for none. */
  readonly lock?: string | null;
  /** An index of the SB flows kept current from the IDL's changes (else the table is scanned). */
  readonly flowIndex?: SbFlowIndex;
}

export interface WriteStats {
  transactions: number;
  inserts: number;
  updates: number;
  deletes: number;
}

type Rec = Readonly<Record<string, string>>;

function recEq(a: Rec, b: Rec): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

function setEq(a: readonly (string | number)[], b: readonly (string | number)[]): boolean {
  if (a.length !== b.length) return false;
  const sa = [...a].map(String).sort();
  const sb = [...b].map(String).sort();
  return sa.every((x, i) => x === sb[i]);
}

function withoutSource(r: Rec): Rec {
  if (!('source' in r)) return r;
  return Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'source'));
}

/** Batches operations into transactions of at most maxOps, resolving references across them. */
class Batcher {
  private tx: ClientTransaction | undefined;
  private ops = 0;
  private readonly pending = new Map<string, InsertRef>();
  /** Real UUIDs of rows inserted by earlier transactions, by caller key. */
  readonly known = new Map<string, string>();

  constructor(
    private readonly client: OvsdbClient,
    private readonly maxOps: number,
    private readonly lock: string | null,
    readonly stats: WriteStats,
  ) {}

  private cur(): ClientTransaction {
    if (!this.tx) {
      this.tx = this.client.transaction(DB);
      if (this.lock) this.tx.assert(this.lock);
      this.ops = 0;
    }
    return this.tx;
  }

  /** A reference (real or named UUID, as a string for typed encode) to the row `key`, inserting it into the current transaction if needed. */
  ensure(key: string, insert: (tx: ClientTransaction) => InsertRef): string {
    const k = this.known.get(key);
    if (k !== undefined) return k;
    const p = this.pending.get(key);
    if (p) return p.uuidName;
    const ref = insert(this.cur());
    this.ops++;
    this.stats.inserts++;
    this.pending.set(key, ref);
    return ref.uuidName;
  }

  /** Inserts a row and returns its uuid-name, valid in the current transaction only. */
  insertRef(table: string, row: RowJson): string {
    const ref = this.cur().insert(table, row);
    this.ops++;
    this.stats.inserts++;
    return ref.uuidName;
  }

  insert(table: string, row: RowJson, key?: string): void {
    const ref = this.cur().insert(table, row);
    if (key !== undefined) this.pending.set(key, ref);
    this.ops++;
    this.stats.inserts++;
  }

  update(table: string, uuid: string, row: RowJson): void {
    if (Object.keys(row).length === 0) return;
    this.cur().update(table, [['_uuid', '==', ovsUuid(uuid)]], row);
    this.ops++;
    this.stats.updates++;
  }

  delete(table: string, uuid: string): void {
    this.cur().delete(table, [['_uuid', '==', ovsUuid(uuid)]]);
    this.ops++;
    this.stats.deletes++;
  }

  get full(): boolean {
    return this.ops >= this.maxOps;
  }

  /** Commits the current transaction, if it has operations. */
  async flush(): Promise<void> {
    const tx = this.tx;
    this.tx = undefined;
    if (!tx || this.ops === 0) {
      this.pending.clear();
      return;
    }
    const res = await tx.execute();
    this.stats.transactions++;
    for (const [key, ref] of this.pending) this.known.set(key, res.uuid(ref));
    this.pending.clear();
  }

  async maybeFlush(): Promise<void> {
    if (this.full) await this.flush();
  }
}

const T = Sb.tables;

/** SB datapath UUID <-> datapath key (NB UUID). */
function datapathMaps(idl: Idl): { toKey: Map<string, string>; toUuid: Map<string, string> } {
  const toKey = new Map<string, string>();
  const toUuid = new Map<string, string>();
  for (const dp of typedTable(idl, T.Datapath_Binding)) {
    const k = dp.external_ids['logical-switch'] ?? dp.external_ids['logical-router'];
    if (k === undefined) continue;
    toKey.set(dp._uuid, k);
    if (!toUuid.has(k)) toUuid.set(k, dp._uuid);
  }
  return { toKey, toUuid };
}


/**
 * Brings the Southbound database in line with `want`. `idl` is a replica of the SB on `client`
 * (so each committed transaction is visible in it when execute() returns).
 */
export async function writeSouthbound(client: OvsdbClient, idl: Idl, want: DesiredSb, opts: WriterOptions = {}): Promise<WriteStats> {
  const stats: WriteStats = { transactions: 0, inserts: 0, updates: 0, deletes: 0 };
  const b = new Batcher(client, opts.maxOps ?? 1000, opts.lock === undefined ? 'ovn_northd' : opts.lock, stats);

  // ---- phase 1: delete rows nothing will keep (flows first: they hold datapaths and groups).
  let dpm = datapathMaps(idl);
  const groupKeys = new Map<string, string[]>();
  for (const g of typedTable(idl, T.Logical_DP_Group)) {
    groupKeys.set(g._uuid, g.datapaths.map((d) => dpm.toKey.get(d) ?? `?${d}`).sort());
  }
  const existingFlows = new Map<string, { uuid: string; ext: Rec }>();
  const flowRows: Iterable<{ uuid: string; identity: string; externalIds: Rec }> = opts.flowIndex
    ? [...opts.flowIndex.flows()]
    : [...typedTable(idl, T.Logical_Flow)].map((f) => {
        const dps = f.logical_datapath !== undefined ? [dpm.toKey.get(f.logical_datapath) ?? `?${f.logical_datapath}`] : groupKeys.get(f.logical_dp_group ?? '') ?? [];
        return { uuid: f._uuid, identity: flowIdentity(f.pipeline, f.table_id, f.priority, f.match, f.actions, f.controller_meter, f.tags['in_out_port'], dps), externalIds: f.external_ids };
      });
  for (const f of flowRows) {
    if (!want.lflows.has(f.identity) || existingFlows.has(f.identity)) {
      b.delete('Logical_Flow', f.uuid);
      await b.maybeFlush();
    } else existingFlows.set(f.identity, { uuid: f.uuid, ext: f.externalIds });
  }
  const keepMc = new Set<string>();
  for (const m of typedTable(idl, T.Multicast_Group)) {
    const k = `${dpm.toKey.get(m.datapath) ?? ''}\u0000${m.name}`;
    if (!want.multicastGroups.has(k) || keepMc.has(k)) {
      b.delete('Multicast_Group', m._uuid);
      await b.maybeFlush();
    } else keepMc.add(k);
  }
  const deleteUnwanted = async <R extends { _uuid: string }>(table: string, rows: Iterable<R>, keyOf: (r: R) => string, wanted: (k: string) => boolean): Promise<Map<string, R>> => {
    const keep = new Map<string, R>();
    for (const r of rows) {
      const k = keyOf(r);
      if (!wanted(k) || keep.has(k)) {
        b.delete(table, r._uuid);
        await b.maybeFlush();
      } else keep.set(k, r);
    }
    return keep;
  };
  const lbs = await deleteUnwanted('Load_Balancer', typedTable(idl, T.Load_Balancer), (r) => r.external_ids['lb_id'] ?? '', (k) => want.loadBalancers.has(k));
  const addrSets = await deleteUnwanted('Address_Set', typedTable(idl, T.Address_Set), (r) => r.name, (k) => want.addressSets.has(k));
  const portGroups = await deleteUnwanted('Port_Group', typedTable(idl, T.Port_Group), (r) => r.name, (k) => want.portGroups.has(k));
  const ipmc = await deleteUnwanted('IP_Multicast', typedTable(idl, T.IP_Multicast), (r) => dpm.toKey.get(r.datapath) ?? '', (k) => want.ipMulticast.has(k));
  const smbs = await deleteUnwanted('Static_MAC_Binding', typedTable(idl, T.Static_MAC_Binding), (r) => `${r.logical_port}\u0000${r.ip}`, (k) => want.staticMacBindings.has(k));
  const meters = await deleteUnwanted('Meter', typedTable(idl, T.Meter), (r) => r.name, (k) => want.meters.has(k));
  const dhcp = await deleteUnwanted('DHCP_Options', typedTable(idl, T.DHCP_Options), (r) => r.name, (k) => want.dhcpOptions.has(k));
  const dhcp6 = await deleteUnwanted('DHCPv6_Options', typedTable(idl, T.DHCPv6_Options), (r) => r.name, (k) => want.dhcpv6Options.has(k));
  const pbs = await deleteUnwanted('Port_Binding', typedTable(idl, T.Port_Binding), (r) => r.logical_port, (k) => want.portBindings.has(k));
  const svcMons = await deleteUnwanted('Service_Monitor', typedTable(idl, T.Service_Monitor), (r) => `${r.ip}\u0000${r.port}\u0000${r.protocol ?? 'tcp'}\u0000${r.logical_port}`, (k) => want.serviceMonitors.has(k));
  const dnsRows = await deleteUnwanted('DNS', typedTable(idl, T.DNS), (r) => r.external_ids['dns_id'] ?? '', (k) => want.dns.has(k));
  const haGroups = await deleteUnwanted('HA_Chassis_Group', typedTable(idl, T.HA_Chassis_Group), (r) => r.name, (k) => want.haChassisGroups.has(k));
  const macb = new Set(want.staleMacBindings);
  for (const r of typedTable(idl, T.MAC_Binding)) {
    if (!macb.has(r._uuid)) continue;
    b.delete('MAC_Binding', r._uuid);
    await b.maybeFlush();
  }
  const fdbs = new Set(want.staleFdbs);
  for (const r of typedTable(idl, T.FDB)) {
    if (!fdbs.has(r._uuid)) continue;
    b.delete('FDB', r._uuid);
    await b.maybeFlush();
  }
  await b.flush();

  // ---- phase 2: datapaths, SB_Global options, constant tables.
  dpm = datapathMaps(idl);
  const dpRows = new Map<string, Sb.DatapathBinding>();
  for (const dp of typedTable(idl, T.Datapath_Binding)) {
    const k = dp.external_ids['logical-switch'] ?? dp.external_ids['logical-router'];
    if (k !== undefined && want.datapaths.has(k) && !dpRows.has(k)) dpRows.set(k, dp);
  }
  for (const [k, d] of want.datapaths) {
    const cur = dpRows.get(k);
    if (!cur) {
      b.insert('Datapath_Binding', T.Datapath_Binding.encode({ tunnel_key: d.tunnel_key, external_ids: d.external_ids }), `dp:${k}`);
    } else {
      const row: Record<string, unknown> = {};
      if (cur.tunnel_key !== d.tunnel_key) row['tunnel_key'] = d.tunnel_key;
      if (!recEq(cur.external_ids, d.external_ids)) row['external_ids'] = d.external_ids;
      if (Object.keys(row).length) b.update('Datapath_Binding', cur._uuid, T.Datapath_Binding.encode(row));
    }
    await b.maybeFlush();
  }
  const sbg = [...typedTable(idl, T.SB_Global)];
  if (sbg.length === 0) b.insert('SB_Global', T.SB_Global.encode({ options: want.sbGlobal.options, ipsec: want.sbGlobal.ipsec }));
  else {
    const row: Record<string, unknown> = {};
    if (!recEq(sbg[0]!.options, want.sbGlobal.options)) row['options'] = want.sbGlobal.options;
    if (sbg[0]!.ipsec !== want.sbGlobal.ipsec) row['ipsec'] = want.sbGlobal.ipsec;
    b.update('SB_Global', sbg[0]!._uuid, T.SB_Global.encode(row));
    for (const extra of sbg.slice(1)) b.delete('SB_Global', extra._uuid);
  }
  for (const [name, o] of want.dhcpOptions) {
    const cur = dhcp.get(name);
    if (!cur) b.insert('DHCP_Options', T.DHCP_Options.encode({ name, code: o.code, type: o.type as Sb.DHCPOptionsType }));
    else if (cur.code !== o.code || cur.type !== o.type) b.update('DHCP_Options', cur._uuid, T.DHCP_Options.encode({ code: o.code, type: o.type as Sb.DHCPOptionsType }));
  }
  for (const [name, o] of want.dhcpv6Options) {
    const cur = dhcp6.get(name);
    if (!cur) b.insert('DHCPv6_Options', T.DHCPv6_Options.encode({ name, code: o.code, type: o.type as Sb.DHCPv6OptionsType }));
    else if (cur.code !== o.code || cur.type !== o.type) b.update('DHCPv6_Options', cur._uuid, T.DHCPv6_Options.encode({ code: o.code, type: o.type as Sb.DHCPv6OptionsType }));
  }
  await syncRbac(idl, b);
  await b.flush();

  // ---- phase 3: rows that refer to datapaths and chassis.
  dpm = datapathMaps(idl);
  const dpUuid = (k: string): string | undefined => dpm.toUuid.get(k);
  const chassisByName = new Map<string, string>();
  for (const c of typedTable(idl, T.Chassis)) {
    chassisByName.set(c.name, c._uuid);
    if (c.hostname && !chassisByName.has(c.hostname)) chassisByName.set(c.hostname, c._uuid);
  }
  for (const [name, p] of want.portBindings) {
    const dp = dpUuid(p.datapath);
    if (dp === undefined) continue;
    const cur = pbs.get(name);
    const requested = p.requested_chassis !== undefined ? chassisByName.get(p.requested_chassis) : undefined;
    const cols = {
      datapath: dp,
      tunnel_key: p.tunnel_key,
      type: p.type,
      mac: p.mac,
      options: p.options,
      parent_port: p.parent_port,
      tag: p.tag,
      nat_addresses: p.nat_addresses,
      port_security: p.port_security,
      external_ids: p.external_ids,
      requested_chassis: requested,
    };
    if (!cur) {
      b.insert('Port_Binding', T.Port_Binding.encode({ logical_port: name, ...cols, up: false }), `pb:${name}`);
    } else {
      const row: Record<string, unknown> = {};
      if (cur.datapath !== dp) row['datapath'] = dp;
      if (cur.tunnel_key !== p.tunnel_key) row['tunnel_key'] = p.tunnel_key;
      if (cur.type !== p.type) row['type'] = p.type;
      if (!setEq(cur.mac, p.mac)) row['mac'] = p.mac;
      // ovn-controller may add its own options; keep the ones northd does not set itself.
      if (!recEq(cur.options, p.options)) row['options'] = p.options;
      if (cur.parent_port !== p.parent_port) row['parent_port'] = p.parent_port;
      if (cur.tag !== p.tag) row['tag'] = p.tag;
      if (!setEq(cur.nat_addresses, p.nat_addresses)) row['nat_addresses'] = p.nat_addresses;
      if (!setEq(cur.port_security, p.port_security)) row['port_security'] = p.port_security;
      if (!recEq(cur.external_ids, p.external_ids)) row['external_ids'] = p.external_ids;
      if (cur.requested_chassis !== requested) row['requested_chassis'] = requested;
      if (cur.up === undefined) row['up'] = false;
      b.update('Port_Binding', cur._uuid, T.Port_Binding.encode(row));
    }
    await b.maybeFlush();
  }
  for (const [name, g] of want.haChassisGroups) {
    const cur = haGroups.get(name);
    const wantHa = Object.entries(g.ha_chassis).filter(([c]) => chassisByName.has(c));
    const curHa = new Map<string, number>();
    let same = cur !== undefined && recEq(cur.external_ids, g.external_ids);
    if (cur) {
      for (const u of cur.ha_chassis) {
        const h = idl.get('HA_Chassis', u);
        if (!h) continue;
        const hc = T.HA_Chassis.fromIdlRow(h);
        const cname = [...typedTable(idl, T.Chassis)].find((c) => c._uuid === hc.chassis)?.name;
        if (cname !== undefined) curHa.set(cname, hc.priority);
      }
      same = same && curHa.size === wantHa.length && wantHa.every(([c, p]) => curHa.get(c) === p);
    }
    if (same) continue;
    // HA_Chassis rows are children of the group: new ones go in the same transaction.
    const refs = wantHa.map(([c, prio]) => b.insertRef('HA_Chassis', T.HA_Chassis.encode({ chassis: chassisByName.get(c), priority: prio, external_ids: { 'chassis-name': c } })));
    if (!cur) b.insert('HA_Chassis_Group', T.HA_Chassis_Group.encode({ name, ha_chassis: refs, external_ids: g.external_ids }), `ha:${name}`);
    else b.update('HA_Chassis_Group', cur._uuid, T.HA_Chassis_Group.encode({ ha_chassis: refs, external_ids: g.external_ids }));
    await b.flush();
  }
  for (const [name, m] of want.meters) {
    const cur = meters.get(name);
    if (cur) {
      const bands = cur.bands.map((u) => idl.get('Meter_Band', u)).filter((x) => x !== undefined).map((x) => T.Meter_Band.fromIdlRow(x!));
      const same = cur.unit === m.unit && bands.length === m.bands.length && m.bands.every((wb, i) => bands[i] && bands[i]!.rate === wb.rate && bands[i]!.burst_size === wb.burst_size && bands[i]!.action === wb.action);
      if (same) continue;
    }
    const refs = m.bands.map((band) => b.insertRef('Meter_Band', T.Meter_Band.encode({ action: band.action as Sb.MeterBandAction, rate: band.rate, burst_size: band.burst_size })));
    if (!cur) b.insert('Meter', T.Meter.encode({ name, unit: m.unit as Sb.MeterUnit, bands: refs }));
    else b.update('Meter', cur._uuid, T.Meter.encode({ unit: m.unit as Sb.MeterUnit, bands: refs }));
    await b.flush();
  }
  for (const [k, s] of want.staticMacBindings) {
    const dp = dpUuid(s.datapath);
    if (dp === undefined) continue;
    const cur = smbs.get(k);
    if (!cur) b.insert('Static_MAC_Binding', T.Static_MAC_Binding.encode({ logical_port: s.logical_port, ip: s.ip, mac: s.mac, override_dynamic_mac: s.override_dynamic_mac, datapath: dp }));
    else {
      const row: Record<string, unknown> = {};
      if (cur.mac !== s.mac) row['mac'] = s.mac;
      if (cur.override_dynamic_mac !== s.override_dynamic_mac) row['override_dynamic_mac'] = s.override_dynamic_mac;
      if (cur.datapath !== dp) row['datapath'] = dp;
      b.update('Static_MAC_Binding', cur._uuid, T.Static_MAC_Binding.encode(row));
    }
    await b.maybeFlush();
  }
  for (const [k, m] of want.serviceMonitors) {
    const cur = svcMons.get(k);
    if (!cur) {
      b.insert('Service_Monitor', T.Service_Monitor.encode({ ip: m.ip, port: m.port, protocol: m.protocol as Sb.ServiceMonitorProtocol, logical_port: m.logical_port, src_ip: m.src_ip, src_mac: m.src_mac, options: m.options, external_ids: m.external_ids }));
    } else {
      // status belongs to ovn-controller.
      const row: Record<string, unknown> = {};
      if (cur.src_ip !== m.src_ip) row['src_ip'] = m.src_ip;
      if (cur.src_mac !== m.src_mac) row['src_mac'] = m.src_mac;
      if (!recEq(cur.options, m.options)) row['options'] = m.options;
      b.update('Service_Monitor', cur._uuid, T.Service_Monitor.encode(row));
    }
    await b.maybeFlush();
  }
  for (const [k, d] of want.dns) {
    const dps = d.datapaths.map(dpUuid).filter((u): u is string => u !== undefined);
    const cur = dnsRows.get(k);
    if (!cur) b.insert('DNS', T.DNS.encode({ records: d.records, datapaths: dps, external_ids: d.external_ids }));
    else {
      const row: Record<string, unknown> = {};
      if (!recEq(cur.records, d.records)) row['records'] = d.records;
      if (!setEq(cur.datapaths, dps)) row['datapaths'] = dps;
      if (!recEq(cur.external_ids, d.external_ids)) row['external_ids'] = d.external_ids;
      b.update('DNS', cur._uuid, T.DNS.encode(row));
    }
    await b.maybeFlush();
  }
  for (const [name, addrs] of want.addressSets) {
    const cur = addrSets.get(name);
    if (!cur) b.insert('Address_Set', T.Address_Set.encode({ name, addresses: addrs }));
    else if (!setEq(cur.addresses, addrs)) b.update('Address_Set', cur._uuid, T.Address_Set.encode({ addresses: addrs }));
    await b.maybeFlush();
  }
  for (const [name, ports] of want.portGroups) {
    const cur = portGroups.get(name);
    if (!cur) b.insert('Port_Group', T.Port_Group.encode({ name, ports }));
    else if (!setEq(cur.ports, ports)) b.update('Port_Group', cur._uuid, T.Port_Group.encode({ ports }));
    await b.maybeFlush();
  }
  for (const [k, m] of want.ipMulticast) {
    const dp = dpUuid(k);
    if (dp === undefined) continue;
    const cur = ipmc.get(k);
    const cols = {
      enabled: m.enabled,
      querier: m.querier,
      eth_src: m.eth_src,
      ip4_src: m.ip4_src,
      ip6_src: m.ip6_src,
      table_size: m.table_size,
      idle_timeout: m.idle_timeout,
      query_interval: m.query_interval,
      query_max_resp: m.query_max_resp,
    };
    if (!cur) b.insert('IP_Multicast', T.IP_Multicast.encode({ datapath: dp, seq_no: 0, ...cols }));
    else {
      const row: Record<string, unknown> = {};
      for (const [c, v] of Object.entries(cols)) if ((cur as unknown as Record<string, unknown>)[c] !== v) row[c] = v;
      b.update('IP_Multicast', cur._uuid, T.IP_Multicast.encode(row));
    }
    await b.maybeFlush();
  }
  await b.flush();

  // ---- phase 4: rows that refer to ports, HA groups and datapath groups.
  dpm = datapathMaps(idl);
  const pbUuid = new Map<string, string>();
  const pbRows = new Map<string, Sb.PortBinding>();
  for (const p of typedTable(idl, T.Port_Binding)) {
    pbUuid.set(p.logical_port, p._uuid);
    pbRows.set(p.logical_port, p);
  }
  const haUuid = new Map<string, string>();
  for (const g of typedTable(idl, T.HA_Chassis_Group)) haUuid.set(g.name, g._uuid);
  for (const [name, p] of want.portBindings) {
    const cur = pbRows.get(name);
    if (!cur) continue;
    const want_ = p.ha_chassis_group !== undefined ? haUuid.get(p.ha_chassis_group) : undefined;
    if (cur.ha_chassis_group !== want_) {
      b.update('Port_Binding', cur._uuid, T.Port_Binding.encode({ ha_chassis_group: want_ }));
      await b.maybeFlush();
    }
  }
  const mcRows = new Map<string, Sb.MulticastGroup>();
  for (const m of typedTable(idl, T.Multicast_Group)) mcRows.set(`${dpm.toKey.get(m.datapath) ?? ''}\u0000${m.name}`, m);
  for (const [k, m] of want.multicastGroups) {
    const dp = dpm.toUuid.get(m.datapath);
    if (dp === undefined) continue;
    const ports = m.ports.map((n) => pbUuid.get(n)).filter((u): u is string => u !== undefined);
    const cur = mcRows.get(k);
    if (!cur) b.insert('Multicast_Group', T.Multicast_Group.encode({ datapath: dp, name: m.name, tunnel_key: m.tunnel_key, ports }));
    else {
      const row: Record<string, unknown> = {};
      if (cur.tunnel_key !== m.tunnel_key) row['tunnel_key'] = m.tunnel_key;
      if (!setEq(cur.ports, ports)) row['ports'] = ports;
      b.update('Multicast_Group', cur._uuid, T.Multicast_Group.encode(row));
    }
    await b.maybeFlush();
  }
  // Datapath groups: reuse one with the same set, else insert one with its first user.
  for (const g of typedTable(idl, T.Logical_DP_Group)) {
    const keys = g.datapaths.map((d) => dpm.toKey.get(d)).filter((x): x is string => x !== undefined).sort();
    if (keys.length === g.datapaths.length && !b.known.has(`dpg:${keys.join(',')}`)) b.known.set(`dpg:${keys.join(',')}`, g._uuid);
  }
  const dpGroupRef = (keys: readonly string[]): string | undefined => {
    const uuids = keys.map((k) => dpm.toUuid.get(k));
    if (uuids.some((u) => u === undefined)) return undefined;
    return b.ensure(`dpg:${keys.join(',')}`, (t) => t.insert('Logical_DP_Group', T.Logical_DP_Group.encode({ datapaths: uuids as string[] })));
  };
  for (const [id, f] of want.lflows) {
    const cur = existingFlows.get(id);
    if (cur) {
      // external_ids:source names the code that made a flow; a difference there is no reason to rewrite.
      if (!recEq(withoutSource(cur.ext), withoutSource(f.external_ids))) {
        b.update('Logical_Flow', cur.uuid, T.Logical_Flow.encode({ external_ids: f.external_ids }));
        await b.maybeFlush();
      }
      continue;
    }
    let where: { logical_datapath?: string; logical_dp_group?: string };
    if (f.datapaths.length === 1) {
      const dp = dpm.toUuid.get(f.datapaths[0]!);
      if (dp === undefined) continue;
      where = { logical_datapath: dp };
    } else {
      const g = dpGroupRef(f.datapaths);
      if (g === undefined) continue;
      where = { logical_dp_group: g };
    }
    b.insert('Logical_Flow', T.Logical_Flow.encode({
      ...where,
      pipeline: f.pipeline,
      table_id: f.table_id,
      priority: f.priority,
      match: f.match,
      actions: f.actions,
      controller_meter: f.controller_meter,
      tags: f.tags,
      external_ids: f.external_ids,
    }));
    await b.maybeFlush();
  }
  for (const [k, l] of want.loadBalancers) {
    const cur = lbs.get(k);
    const g = dpGroupRef(l.datapaths);
    const cols = { name: l.name, vips: l.vips, protocol: l.protocol as Sb.LoadBalancerProtocol | undefined, options: l.options, external_ids: l.external_ids, datapath_group: g };
    if (!cur) b.insert('Load_Balancer', T.Load_Balancer.encode(cols));
    else {
      const row: Record<string, unknown> = {};
      if (cur.name !== l.name) row['name'] = l.name;
      if (!recEq(cur.vips, l.vips)) row['vips'] = l.vips;
      if (cur.protocol !== l.protocol) row['protocol'] = l.protocol;
      if (!recEq(cur.options, l.options)) row['options'] = l.options;
      if (!recEq(cur.external_ids, l.external_ids)) row['external_ids'] = l.external_ids;
      const curKeys = cur.datapath_group === undefined ? [] : (idl.get('Logical_DP_Group', cur.datapath_group) ? T.Logical_DP_Group.fromIdlRow(idl.get('Logical_DP_Group', cur.datapath_group)!).datapaths.map((d) => dpm.toKey.get(d) ?? '').sort() : []);
      if (curKeys.join(',') !== l.datapaths.join(',')) row['datapath_group'] = g;
      b.update('Load_Balancer', cur._uuid, T.Load_Balancer.encode(row));
    }
    await b.maybeFlush();
  }
  await b.flush();

  // ---- phase 5: datapaths nothing refers to any more; then nb_cfg.
  for (const dp of typedTable(idl, T.Datapath_Binding)) {
    const k = dp.external_ids['logical-switch'] ?? dp.external_ids['logical-router'];
    if (k === undefined || !want.datapaths.has(k) || dpRows.get(k)?._uuid !== dp._uuid && dpRows.has(k)) {
      b.delete('Datapath_Binding', dp._uuid);
      await b.maybeFlush();
    }
  }
  await b.flush();
  const g = [...typedTable(idl, T.SB_Global)][0];
  if (g && g.nb_cfg !== want.sbGlobal.nb_cfg) {
    b.update('SB_Global', g._uuid, T.SB_Global.encode({ nb_cfg: want.sbGlobal.nb_cfg }));
    await b.flush();
  }
  return stats;
}

/** The RBAC role ovn-controller uses (created once, kept as northd wants it). */
async function syncRbac(idl: Idl, b: Batcher): Promise<void> {
  const role = [...typedTable(idl, T.RBAC_Role)].find((r) => r.name === 'ovn-controller');
  const perms = new Map<string, Sb.RBACPermission>();
  if (role) for (const [table, u] of Object.entries(role.permissions)) {
    const row = idl.get('RBAC_Permission', u);
    if (row) perms.set(table, T.RBAC_Permission.fromIdlRow(row));
  }
  const ok =
    role !== undefined &&
    perms.size === RBAC_CONTROLLER.length &&
    RBAC_CONTROLLER.every((p) => {
      const c = perms.get(p.table);
      return c !== undefined && c.insert_delete === p.insert_delete && setEq(c.authorization, p.authorization) && setEq(c.update, p.update);
    });
  if (ok) return;
  if (role) b.delete('RBAC_Role', role._uuid);
  const map: Record<string, string> = {};
  for (const p of RBAC_CONTROLLER) {
    map[p.table] = b.insertRef('RBAC_Permission', T.RBAC_Permission.encode({ table: p.table, authorization: p.authorization, insert_delete: p.insert_delete, update: p.update }));
  }
  b.insert('RBAC_Role', T.RBAC_Role.encode({ name: 'ovn-controller', permissions: map }));
  for (const p of perms.values()) b.delete('RBAC_Permission', p._uuid);
}
