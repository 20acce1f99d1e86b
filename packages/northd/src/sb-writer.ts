/**
 * Writes the difference between the desired Southbound rows and the Southbound replica: only
 * rows that must be inserted, updated (only the columns that differ) or deleted, in
 * transactions of bounded size. The work is done in phases so that references always point at
 * rows that exist: deletions, datapaths and rows that refer to nothing, rows referring to
 * datapaths and chassis, rows referring to ports and datapath groups, then deletion of
 * datapaths and, last, SB_Global.nb_cfg (so `nb_cfg` only advances once everything before it
 * is committed).
 *
 * The writer remembers what it last wrote and which replica changes were its own, so a write
 * after a small change costs in proportion to the change: a table whose desired rows are the
 * same as last time and that nobody else touched is skipped; Port_Binding rows are diffed by
 * key (the changed desired rows and the rows others touched); Logical_Flow rows by the flow
 * identities the caller says changed. Anything unexpected (first write, a resync, a failed
 * write, someone else editing datapaths or flows) makes the next write a full diff.
 *
 * Non-root rows (Logical_DP_Group, HA_Chassis, Meter_Band, RBAC_Permission) are inserted in
 * the same transaction as the first row referring to them; later transactions use their UUIDs.
 */
import { Sb, typedTable, type ClientTransaction, type Idl, type IdlRowChange, type OvsdbClient, type RowJson, type InsertRef, ovsUuid } from '@ovnts/ovsdb';
import type { DesiredPortBinding, DesiredSb } from './desired.js';
import { RBAC_CONTROLLER } from './sb-static.js';
import { SbFlowIndex } from './sb-flow-index.js';

const DB = 'OVN_Southbound';

export interface WriterOptions {
  /** Operations per transaction (default 1000). */
  readonly maxOps?: number;
  /** Lock every transaction asserts (default "ovn_northd"); null for none. */
  readonly lock?: string | null;
}

export interface WriteStats {
  transactions: number;
  inserts: number;
  updates: number;
  deletes: number;
  /** Whether this write diffed every table in full. */
  full?: boolean;
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

/** Structural equality of desired values (plain objects, arrays, Maps, primitives). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !deepEqual(v, b.get(k))) return false;
    return true;
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b) || b instanceof Map) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
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
  private readonly inserted: InsertRef[] = [];
  /** Real UUIDs of rows inserted by earlier transactions, by caller key. */
  readonly known = new Map<string, string>();
  /** UUIDs of every row this writer inserted, updated or deleted (to tell its own changes from others'). */
  readonly own = new Set<string>();

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

  private added(ref: InsertRef): InsertRef {
    this.inserted.push(ref);
    this.ops++;
    this.stats.inserts++;
    return ref;
  }

  /** A reference (real or named UUID, as a string for typed encode) to the row `key`, inserting it into the current transaction if needed. */
  ensure(key: string, insert: (tx: ClientTransaction) => InsertRef): string {
    const k = this.known.get(key);
    if (k !== undefined) return k;
    const p = this.pending.get(key);
    if (p) return p.uuidName;
    const ref = this.added(insert(this.cur()));
    this.pending.set(key, ref);
    return ref.uuidName;
  }

  /** Inserts a row and returns its uuid-name, valid in the current transaction only. */
  insertRef(table: string, row: RowJson): string {
    return this.added(this.cur().insert(table, row)).uuidName;
  }

  insert(table: string, row: RowJson, key?: string): void {
    const ref = this.added(this.cur().insert(table, row));
    if (key !== undefined) this.pending.set(key, ref);
  }

  update(table: string, uuid: string, row: RowJson): void {
    if (Object.keys(row).length === 0) return;
    this.cur().update(table, [['_uuid', '==', ovsUuid(uuid)]], row);
    this.own.add(uuid);
    this.ops++;
    this.stats.updates++;
  }

  delete(table: string, uuid: string): void {
    this.cur().delete(table, [['_uuid', '==', ovsUuid(uuid)]]);
    this.own.add(uuid);
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
      this.inserted.length = 0;
      return;
    }
    const res = await tx.execute();
    this.stats.transactions++;
    for (const ref of this.inserted) this.own.add(res.uuid(ref));
    this.inserted.length = 0;
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

/** Child tables: rows live as long as a parent refers to them; changes count for the parent. */
const CHILD_OF: Readonly<Record<string, string>> = {
  Logical_DP_Group: 'Logical_Flow',
  HA_Chassis: 'HA_Chassis_Group',
  Meter_Band: 'Meter',
  RBAC_Permission: 'RBAC_Role',
};

/**
 * Keeps the Southbound database equal to the desired rows it is given, writing differences
 * only. Feed it every change batch of the SB replica with observe(); call invalidate() after a
 * resync (or when the replica may hold anything), and the next write diffs everything.
 */
export class SbWriter {
  /** Logical_Flow rows by identity, kept from the replica's changes. */
  readonly flowIndex: SbFlowIndex;
  private readonly pbIndex = new Map<string, string>();
  private pbIndexStale = true;
  private last: DesiredSb | undefined;
  private fullNext = true;
  /** Tables others changed since the last write (diffed in full next time). */
  private foreign = new Set<string>();
  /** Port_Binding rows (logical_port) others changed: rechecked next time. */
  private foreignPorts = new Set<string>();
  /** Changes seen while a write is in progress (sorted into ours and others' afterwards). */
  private window: IdlRowChange[] | undefined;
  private readonly maxOps: number;
  private readonly lock: string | null;

  constructor(
    private readonly client: OvsdbClient,
    private readonly idl: Idl,
    opts: WriterOptions = {},
  ) {
    this.flowIndex = new SbFlowIndex(idl);
    this.maxOps = opts.maxOps ?? 1000;
    this.lock = opts.lock === undefined ? 'ovn_northd' : opts.lock;
  }

  /** Feeds one change batch of the SB replica. */
  observe(batch: readonly IdlRowChange[]): void {
    this.flowIndex.apply(batch);
    if (!this.pbIndexStale) {
      for (const c of batch) {
        if (c.table !== 'Port_Binding') continue;
        if (c.old) {
          const k = T.Port_Binding.fromIdlRow(c.old).logical_port;
          if (this.pbIndex.get(k) === c.uuid) this.pbIndex.delete(k);
        }
        if (c.new) this.pbIndex.set(T.Port_Binding.fromIdlRow(c.new).logical_port, c.uuid);
      }
    }
    if (this.window) this.window.push(...batch);
    else for (const c of batch) this.noteForeign(c);
  }

  /** The next write diffs everything (after a resync, or when taking over). */
  invalidate(): void {
    this.fullNext = true;
    this.flowIndex.invalidate();
    this.pbIndexStale = true;
  }

  private noteForeign(c: IdlRowChange): void {
    const parent = CHILD_OF[c.table];
    if (parent !== undefined) {
      // Deleted with the last row referring to them (ours, typically).
      if (c.new !== null) this.foreign.add(parent);
      return;
    }
    switch (c.table) {
      case 'Port_Binding':
        // Controllers write chassis, up, encap...: recheck just those rows.
        for (const r of [c.old, c.new]) if (r) this.foreignPorts.add(T.Port_Binding.fromIdlRow(r).logical_port);
        return;
      case 'Datapath_Binding':
        // Every row refers to datapaths by UUID.
        this.fullNext = true;
        return;
      case 'Chassis':
        // Port_Binding.requested_chassis and HA_Chassis.chassis refer to chassis.
        this.foreign.add('Port_Binding');
        this.foreign.add('HA_Chassis_Group');
        return;
      default:
        this.foreign.add(c.table);
    }
  }

  private pbUuid(name: string): string | undefined {
    if (this.pbIndexStale) {
      this.pbIndex.clear();
      for (const p of typedTable(this.idl, T.Port_Binding)) this.pbIndex.set(p.logical_port, p._uuid);
      this.pbIndexStale = false;
    }
    return this.pbIndex.get(name);
  }

  /**
   * Brings the Southbound database in line with `want`. `flowChanges`: the identities of the
   * desired flows added or removed since the last write (undefined: unknown, diff all flows).
   * `portChanges`: when `want.portBindings` is the map last written, changed in place, the keys
   * that changed.
   */
  async write(want: DesiredSb, flowChanges?: Iterable<string>, portChanges?: Iterable<string>): Promise<WriteStats> {
    const full = this.fullNext || this.last === undefined;
    const foreign = this.foreign;
    const foreignPorts = this.foreignPorts;
    this.foreign = new Set();
    this.foreignPorts = new Set();
    this.fullNext = false;
    this.window = [];
    const stats: WriteStats = { transactions: 0, inserts: 0, updates: 0, deletes: 0, full };
    const b = new Batcher(this.client, this.maxOps, this.lock, stats);
    let ok = false;
    try {
      await this.writeAll(b, want, full ? undefined : this.last, foreign, foreignPorts, full ? undefined : flowChanges, portChanges);
      ok = true;
    } finally {
      const seen = this.window;
      this.window = undefined;
      for (const c of seen) if (!b.own.has(c.uuid)) this.noteForeign(c);
      if (ok) this.last = want;
      else {
        this.last = undefined;
        this.fullNext = true;
      }
    }
    return stats;
  }

  private async writeAll(b: Batcher, want: DesiredSb, last: DesiredSb | undefined, foreign: ReadonlySet<string>, foreignPorts: ReadonlySet<string>, flowChanges: Iterable<string> | undefined, portChanges: Iterable<string> | undefined): Promise<void> {
    const idl = this.idl;
    /** Does table `t` (desired rows `k`) need diffing: first write, others touched it, or its desired rows changed. */
    const dirty = <K extends keyof DesiredSb>(t: string, k: K): boolean => last === undefined || foreign.has(t) || (want[k] !== last[k] && !deepEqual(want[k], last[k]));

    // ---- phase 1: delete rows nothing will keep (flows first: they hold datapaths and groups).
    let dpm = datapathMaps(idl);
    const flowsFull = last === undefined || flowChanges === undefined || foreign.has('Logical_Flow');
    const existingFlows = new Map<string, { uuid: string; ext: Rec }>();
    const flowsToWrite: string[] = [];
    if (flowsFull) {
      for (const f of [...this.flowIndex.flows()]) {
        if (!want.lflows.has(f.identity) || existingFlows.has(f.identity)) {
          b.delete('Logical_Flow', f.uuid);
          await b.maybeFlush();
        } else existingFlows.set(f.identity, { uuid: f.uuid, ext: f.externalIds });
      }
      flowsToWrite.push(...want.lflows.keys());
    } else {
      for (const id of new Set(flowChanges)) {
        const have = [...(this.flowIndex.get(id) ?? [])];
        const wanted = want.lflows.has(id);
        for (const [i, u] of have.entries()) {
          if (wanted && i === 0) {
            const f = this.flowIndex.lookup(u);
            if (f) existingFlows.set(id, { uuid: u, ext: f.externalIds });
            continue;
          }
          b.delete('Logical_Flow', u);
          await b.maybeFlush();
        }
        if (wanted) flowsToWrite.push(id);
      }
    }
    const mcDirty = dirty('Multicast_Group', 'multicastGroups');
    const keepMc = new Map<string, Sb.MulticastGroup>();
    if (mcDirty) {
      for (const m of typedTable(idl, T.Multicast_Group)) {
        const k = `${dpm.toKey.get(m.datapath) ?? ''}\u0000${m.name}`;
        if (!want.multicastGroups.has(k) || keepMc.has(k)) {
          b.delete('Multicast_Group', m._uuid);
          await b.maybeFlush();
        } else keepMc.set(k, m);
      }
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
    const NONE = new Map<string, never>();
    const lbDirty = dirty('Load_Balancer', 'loadBalancers');
    const lbs = lbDirty ? await deleteUnwanted('Load_Balancer', typedTable(idl, T.Load_Balancer), (r) => r.external_ids['lb_id'] ?? '', (k) => want.loadBalancers.has(k)) : NONE;
    const asDirty = dirty('Address_Set', 'addressSets');
    const addrSets = asDirty ? await deleteUnwanted('Address_Set', typedTable(idl, T.Address_Set), (r) => r.name, (k) => want.addressSets.has(k)) : NONE;
    const pgDirty = dirty('Port_Group', 'portGroups');
    const portGroups = pgDirty ? await deleteUnwanted('Port_Group', typedTable(idl, T.Port_Group), (r) => r.name, (k) => want.portGroups.has(k)) : NONE;
    const ipmcDirty = dirty('IP_Multicast', 'ipMulticast');
    const ipmc = ipmcDirty ? await deleteUnwanted('IP_Multicast', typedTable(idl, T.IP_Multicast), (r) => dpm.toKey.get(r.datapath) ?? '', (k) => want.ipMulticast.has(k)) : NONE;
    const smbDirty = dirty('Static_MAC_Binding', 'staticMacBindings');
    const smbs = smbDirty ? await deleteUnwanted('Static_MAC_Binding', typedTable(idl, T.Static_MAC_Binding), (r) => `${r.logical_port}\u0000${r.ip}`, (k) => want.staticMacBindings.has(k)) : NONE;
    const meterDirty = dirty('Meter', 'meters');
    const meters = meterDirty ? await deleteUnwanted('Meter', typedTable(idl, T.Meter), (r) => r.name, (k) => want.meters.has(k)) : NONE;
    const dhcpDirty = dirty('DHCP_Options', 'dhcpOptions');
    const dhcp = dhcpDirty ? await deleteUnwanted('DHCP_Options', typedTable(idl, T.DHCP_Options), (r) => r.name, (k) => want.dhcpOptions.has(k)) : NONE;
    const dhcp6Dirty = dirty('DHCPv6_Options', 'dhcpv6Options');
    const dhcp6 = dhcp6Dirty ? await deleteUnwanted('DHCPv6_Options', typedTable(idl, T.DHCPv6_Options), (r) => r.name, (k) => want.dhcpv6Options.has(k)) : NONE;
    const svcDirty = dirty('Service_Monitor', 'serviceMonitors');
    const svcMons = svcDirty ? await deleteUnwanted('Service_Monitor', typedTable(idl, T.Service_Monitor), (r) => `${r.ip}\u0000${r.port}\u0000${r.protocol ?? 'tcp'}\u0000${r.logical_port}`, (k) => want.serviceMonitors.has(k)) : NONE;
    const dnsDirty = dirty('DNS', 'dns');
    const dnsRows = dnsDirty ? await deleteUnwanted('DNS', typedTable(idl, T.DNS), (r) => r.external_ids['dns_id'] ?? '', (k) => want.dns.has(k)) : NONE;
    const mirrorDirty = dirty('Mirror', 'mirrors');
    const mirrors = mirrorDirty ? await deleteUnwanted('Mirror', typedTable(idl, T.Mirror), (r) => r.name, (k) => want.mirrors.has(k)) : NONE;
    const tvarDirty = dirty('Chassis_Template_Var', 'templateVars');
    const tvars = tvarDirty ? await deleteUnwanted('Chassis_Template_Var', typedTable(idl, T.Chassis_Template_Var), (r) => r.chassis, (k) => want.templateVars.has(k)) : NONE;
    const haDirty = dirty('HA_Chassis_Group', 'haChassisGroups');
    const haGroups = haDirty ? await deleteUnwanted('HA_Chassis_Group', typedTable(idl, T.HA_Chassis_Group), (r) => r.name, (k) => want.haChassisGroups.has(k)) : NONE;

    // Port bindings: in full, or by key (desired rows that changed, rows others touched).
    // They refer to mirrors and HA groups by UUID: when those change, all of them. A map
    // changed in place comes with the keys that changed (portChanges).
    const pbFull = last === undefined || foreign.has('Port_Binding') || mirrorDirty || haDirty || (want.portBindings === last.portBindings && portChanges === undefined);
    let pbKeys: Iterable<string>;
    const pbRows = new Map<string, Sb.PortBinding>();
    if (pbFull) {
      for (const r of typedTable(idl, T.Port_Binding)) {
        if (!want.portBindings.has(r.logical_port) || pbRows.has(r.logical_port)) {
          b.delete('Port_Binding', r._uuid);
          await b.maybeFlush();
        } else pbRows.set(r.logical_port, r);
      }
      pbKeys = want.portBindings.keys();
    } else {
      const keys = new Set(foreignPorts);
      const before = last.portBindings;
      if (want.portBindings !== before) {
        for (const [k, p] of want.portBindings) {
          const o = before.get(k);
          if (o !== p && !deepEqual(o, p)) keys.add(k);
        }
        for (const k of before.keys()) if (!want.portBindings.has(k)) keys.add(k);
      } else for (const k of portChanges!) keys.add(k);
      const kept: string[] = [];
      for (const k of keys) {
        const u = this.pbUuid(k);
        const row = u === undefined ? undefined : idl.get('Port_Binding', u);
        if (!want.portBindings.has(k)) {
          if (u !== undefined && row) {
            b.delete('Port_Binding', u);
            await b.maybeFlush();
          }
          continue;
        }
        if (row) pbRows.set(k, T.Port_Binding.fromIdlRow(row));
        kept.push(k);
      }
      pbKeys = kept;
    }
    for (const u of want.staleMacBindings) {
      if (!idl.get('MAC_Binding', u)) continue;
      b.delete('MAC_Binding', u);
      await b.maybeFlush();
    }
    for (const u of want.staleFdbs) {
      if (!idl.get('FDB', u)) continue;
      b.delete('FDB', u);
      await b.maybeFlush();
    }
    await b.flush();

    // ---- phase 2: datapaths, SB_Global options, rows that refer to nothing.
    const dpDirty = dirty('Datapath_Binding', 'datapaths');
    const dpRows = new Map<string, Sb.DatapathBinding>();
    if (dpDirty) {
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
    if (dhcpDirty) {
      for (const [name, o] of want.dhcpOptions) {
        const cur = dhcp.get(name);
        if (!cur) b.insert('DHCP_Options', T.DHCP_Options.encode({ name, code: o.code, type: o.type as Sb.DHCPOptionsType }));
        else if (cur.code !== o.code || cur.type !== o.type) b.update('DHCP_Options', cur._uuid, T.DHCP_Options.encode({ code: o.code, type: o.type as Sb.DHCPOptionsType }));
      }
    }
    if (dhcp6Dirty) {
      for (const [name, o] of want.dhcpv6Options) {
        const cur = dhcp6.get(name);
        if (!cur) b.insert('DHCPv6_Options', T.DHCPv6_Options.encode({ name, code: o.code, type: o.type as Sb.DHCPv6OptionsType }));
        else if (cur.code !== o.code || cur.type !== o.type) b.update('DHCPv6_Options', cur._uuid, T.DHCPv6_Options.encode({ code: o.code, type: o.type as Sb.DHCPv6OptionsType }));
      }
    }
    if (mirrorDirty) {
      for (const [name, m] of want.mirrors) {
        const cur = mirrors.get(name);
        const cols = { type: m.type as Sb.MirrorType, filter: m.filter as Sb.MirrorFilter, sink: m.sink, index: m.index, external_ids: m.external_ids };
        if (!cur) b.insert('Mirror', T.Mirror.encode({ name, ...cols }));
        else {
          const row: Record<string, unknown> = {};
          if (cur.type !== m.type) row['type'] = cols.type;
          if (cur.filter !== m.filter) row['filter'] = cols.filter;
          if (cur.sink !== m.sink) row['sink'] = m.sink;
          if (cur.index !== m.index) row['index'] = m.index;
          if (!recEq(cur.external_ids, m.external_ids)) row['external_ids'] = m.external_ids;
          b.update('Mirror', cur._uuid, T.Mirror.encode(row));
        }
        await b.maybeFlush();
      }
    }
    if (tvarDirty) {
      for (const [chassis, vars] of want.templateVars) {
        const cur = tvars.get(chassis);
        if (!cur) b.insert('Chassis_Template_Var', T.Chassis_Template_Var.encode({ chassis, variables: vars }));
        else if (!recEq(cur.variables, vars)) b.update('Chassis_Template_Var', cur._uuid, T.Chassis_Template_Var.encode({ variables: vars }));
        await b.maybeFlush();
      }
    }
    if (last === undefined || foreign.has('RBAC_Role')) await syncRbac(idl, b);
    await b.flush();

    // ---- phase 3: HA groups (chassis), then rows that refer to datapaths, chassis, mirrors, HA groups.
    dpm = datapathMaps(idl);
    const dpUuid = (k: string): string | undefined => dpm.toUuid.get(k);
    const chassisByName = new Map<string, string>();
    const chassisName = new Map<string, string>();
    for (const c of typedTable(idl, T.Chassis)) {
      chassisByName.set(c.name, c._uuid);
      chassisName.set(c._uuid, c.name);
      if (c.hostname && !chassisByName.has(c.hostname)) chassisByName.set(c.hostname, c._uuid);
    }
    if (haDirty) {
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
            const cname = hc.chassis !== undefined ? chassisName.get(hc.chassis) : undefined;
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
      await b.flush();
    }
    const haUuid = new Map<string, string>();
    for (const g of typedTable(idl, T.HA_Chassis_Group)) haUuid.set(g.name, g._uuid);
    const mirrorUuid = new Map<string, string>();
    for (const m of typedTable(idl, T.Mirror)) mirrorUuid.set(m.name, m._uuid);
    for (const name of pbKeys) {
      const p = want.portBindings.get(name)!;
      const dp = dpUuid(p.datapath);
      if (dp === undefined) continue;
      await this.writePort(b, name, p, pbRows.get(name), dp, chassisByName, mirrorUuid, haUuid);
    }
    if (meterDirty) {
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
    }
    if (smbDirty) {
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
    }
    if (svcDirty) {
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
    }
    if (dnsDirty) {
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
    }
    if (asDirty) {
      for (const [name, addrs] of want.addressSets) {
        const cur = addrSets.get(name);
        if (!cur) b.insert('Address_Set', T.Address_Set.encode({ name, addresses: addrs }));
        else if (!setEq(cur.addresses, addrs)) b.update('Address_Set', cur._uuid, T.Address_Set.encode({ addresses: addrs }));
        await b.maybeFlush();
      }
    }
    if (pgDirty) {
      for (const [name, ports] of want.portGroups) {
        const cur = portGroups.get(name);
        if (!cur) b.insert('Port_Group', T.Port_Group.encode({ name, ports }));
        else if (!setEq(cur.ports, ports)) b.update('Port_Group', cur._uuid, T.Port_Group.encode({ ports }));
        await b.maybeFlush();
      }
    }
    if (ipmcDirty) {
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
    }
    await b.flush();

    // ---- phase 4: rows that refer to ports and datapath groups.
    if (mcDirty) {
      for (const [k, m] of want.multicastGroups) {
        const dp = dpm.toUuid.get(m.datapath);
        if (dp === undefined) continue;
        const ports = m.ports.map((n) => this.pbUuid(n)).filter((u): u is string => u !== undefined);
        const cur = keepMc.get(k);
        if (!cur) b.insert('Multicast_Group', T.Multicast_Group.encode({ datapath: dp, name: m.name, tunnel_key: m.tunnel_key, ports }));
        else {
          const row: Record<string, unknown> = {};
          if (cur.tunnel_key !== m.tunnel_key) row['tunnel_key'] = m.tunnel_key;
          if (!setEq(cur.ports, ports)) row['ports'] = ports;
          b.update('Multicast_Group', cur._uuid, T.Multicast_Group.encode(row));
        }
        await b.maybeFlush();
      }
    }
    // Datapath groups: reuse one with the same set, else insert one with its first user.
    let groupsKnown = false;
    const dpGroupRef = (keys: readonly string[]): string | undefined => {
      if (!groupsKnown) {
        groupsKnown = true;
        for (const g of typedTable(idl, T.Logical_DP_Group)) {
          const ks = g.datapaths.map((d) => dpm.toKey.get(d)).filter((x): x is string => x !== undefined).sort();
          if (ks.length === g.datapaths.length && !b.known.has(`dpg:${ks.join(',')}`)) b.known.set(`dpg:${ks.join(',')}`, g._uuid);
        }
      }
      const uuids = keys.map((k) => dpm.toUuid.get(k));
      if (uuids.some((u) => u === undefined)) return undefined;
      return b.ensure(`dpg:${keys.join(',')}`, (t) => t.insert('Logical_DP_Group', T.Logical_DP_Group.encode({ datapaths: uuids as string[] })));
    };
    for (const id of flowsToWrite) {
      const f = want.lflows.get(id)!;
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
    if (lbDirty) {
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
          const grp = cur.datapath_group === undefined ? undefined : idl.get('Logical_DP_Group', cur.datapath_group);
          const curKeys = grp ? T.Logical_DP_Group.fromIdlRow(grp).datapaths.map((d) => dpm.toKey.get(d) ?? '').sort() : [];
          if (curKeys.join(',') !== l.datapaths.join(',')) row['datapath_group'] = g;
          b.update('Load_Balancer', cur._uuid, T.Load_Balancer.encode(row));
        }
        await b.maybeFlush();
      }
    }
    await b.flush();

    // ---- phase 5: datapaths nothing refers to any more; then nb_cfg.
    if (dpDirty) {
      for (const dp of typedTable(idl, T.Datapath_Binding)) {
        const k = dp.external_ids['logical-switch'] ?? dp.external_ids['logical-router'];
        if (k === undefined || !want.datapaths.has(k) || (dpRows.has(k) && dpRows.get(k)!._uuid !== dp._uuid)) {
          b.delete('Datapath_Binding', dp._uuid);
          await b.maybeFlush();
        }
      }
      await b.flush();
    }
    const g = [...typedTable(idl, T.SB_Global)][0];
    if (g && g.nb_cfg !== want.sbGlobal.nb_cfg) {
      b.update('SB_Global', g._uuid, T.SB_Global.encode({ nb_cfg: want.sbGlobal.nb_cfg }));
      await b.flush();
    }
  }

  private async writePort(b: Batcher, name: string, p: DesiredPortBinding, cur: Sb.PortBinding | undefined, dp: string, chassisByName: ReadonlyMap<string, string>, mirrorUuid: ReadonlyMap<string, string>, haUuid: ReadonlyMap<string, string>): Promise<void> {
    const requested = p.requested_chassis !== undefined ? chassisByName.get(p.requested_chassis) : undefined;
    const mirrorRules = p.mirror_rules.map((n) => mirrorUuid.get(n)).filter((u): u is string => u !== undefined);
    const ha = p.ha_chassis_group !== undefined ? haUuid.get(p.ha_chassis_group) : undefined;
    if (!cur) {
      b.insert('Port_Binding', T.Port_Binding.encode({
        logical_port: name,
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
        mirror_rules: mirrorRules,
        ha_chassis_group: ha,
        up: false,
      }));
    } else {
      const row: Record<string, unknown> = {};
      if (cur.datapath !== dp) row['datapath'] = dp;
      if (cur.tunnel_key !== p.tunnel_key) row['tunnel_key'] = p.tunnel_key;
      if (cur.type !== p.type) row['type'] = p.type;
      if (!setEq(cur.mac, p.mac)) row['mac'] = p.mac;
      if (!recEq(cur.options, p.options)) row['options'] = p.options;
      if (cur.parent_port !== p.parent_port) row['parent_port'] = p.parent_port;
      if (cur.tag !== p.tag) row['tag'] = p.tag;
      if (!setEq(cur.nat_addresses, p.nat_addresses)) row['nat_addresses'] = p.nat_addresses;
      if (!setEq(cur.port_security, p.port_security)) row['port_security'] = p.port_security;
      if (!recEq(cur.external_ids, p.external_ids)) row['external_ids'] = p.external_ids;
      if (cur.requested_chassis !== requested) row['requested_chassis'] = requested;
      if (!setEq(cur.mirror_rules, mirrorRules)) row['mirror_rules'] = mirrorRules;
      if (cur.ha_chassis_group !== ha) row['ha_chassis_group'] = ha;
      if (cur.up === undefined) row['up'] = false;
      b.update('Port_Binding', cur._uuid, T.Port_Binding.encode(row));
    }
    await b.maybeFlush();
  }
}

/**
 * One full write: brings the Southbound database in line with `want`. `idl` is a replica of
 * the SB on `client` (each committed transaction is visible in it when execute() returns).
 */
export async function writeSouthbound(client: OvsdbClient, idl: Idl, want: DesiredSb, opts: WriterOptions = {}): Promise<WriteStats> {
  return new SbWriter(client, idl, opts).write(want);
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
