/**
 * The northd daemon: replicates the Northbound database and the Southbound database with the
 * ovnts client library, recomputes through the engine when either changes (debounced), writes
 * the difference to the Southbound DB and the few write-backs to the Northbound DB, and
 * propagates nb_cfg (NB -> SB_Global -> NB sb_cfg) and hv_cfg (Chassis_Private -> NB).
 *
 * Active/standby: the daemon asks for the OVSDB lock `ovn_northd` on the Southbound server and
 * writes nothing while another client holds it; every Southbound transaction asserts the lock.
 */
import { Idl, Nb, OvsdbClient, Sb, changedColumns, logger, ovsUuid, setLogLevel, typedTable, type IdlRowChange, type Logger, type TableModel, type TypedRow } from '@ovnts/ovsdb';
import type { ComputeResult } from './compute.js';
import type { NbTables } from './input.js';
import { createNorthdEngine, SB_BINDING_TABLES, SB_CHASSIS_TABLES, SB_LEARNED_TABLES, type NorthdEngine, type SbPart } from './northd-engine.js';
import { writeSouthbound, type WriteStats } from './sb-writer.js';
import { SbFlowIndex } from './sb-flow-index.js';
import { newTracker } from './incremental.js';

export interface NorthdOptions {
  readonly nbRemote: string | readonly string[];
  readonly sbRemote: string | readonly string[];
  /** OVSDB lock for active/standby (default "ovn_northd"). */
  readonly lockName?: string;
  /** Wait this long after a change before recomputing, to batch bursts (default 5 ms). */
  readonly debounceMs?: number;
  /** Operations per Southbound transaction (default 1000). */
  readonly maxOpsPerTxn?: number;
  readonly log?: Logger;
  readonly random?: () => number;
}

export type NorthdStatus = 'connecting' | 'standby' | 'active' | 'stopped';

export interface NorthdHandle {
  status(): NorthdStatus;
  readonly engine: NorthdEngine;
  /** Counters: engine runs, SB writes. */
  readonly counters: { runs: number; sbTransactions: number; errors: number; lastRunMs: number; lastComputeMs: number; lastSbWriteMs: number };
  /** Resolves once no change is pending and no run is in progress. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const NB_DB = 'OVN_Northbound';

type Cache = Map<string, Map<string, TypedRow>>;
const rowsOf = <R,>(cache: Cache, t: string): R[] => [...(cache.get(t)?.values() ?? [])] as R[];

/** The chassis fields the compute reads (features, encaps, hv_cfg, requested-chassis). */
function chassisSignature(cache: Cache): string {
  const parts: string[] = [];
  for (const c of rowsOf<Sb.Chassis>(cache, 'Chassis')) parts.push(`C${c._uuid}|${c.name}|${c.hostname}|${JSON.stringify(c.other_config)}|${c.encaps.join(',')}`);
  for (const e of rowsOf<Sb.Encap>(cache, 'Encap')) parts.push(`E${e._uuid}|${e.type}`);
  for (const p of rowsOf<Sb.ChassisPrivate>(cache, 'Chassis_Private')) parts.push(`P${p.chassis ?? ''}|${p.nb_cfg}|${p.nb_cfg_timestamp}`);
  return parts.sort().join('\n');
}

/** Binding fields the compute reads: keys to keep, and what controllers report. */
function bindingSignature(cache: Cache): string {
  const parts: string[] = [];
  for (const d of rowsOf<Sb.DatapathBinding>(cache, 'Datapath_Binding')) parts.push(`D${d._uuid}|${d.external_ids['logical-switch'] ?? d.external_ids['logical-router'] ?? ''}|${d.tunnel_key}`);
  for (const p of rowsOf<Sb.PortBinding>(cache, 'Port_Binding')) {
    parts.push(`P${p.logical_port}|${p.datapath}|${p.tunnel_key}|${p.chassis ?? ''}|${p.up ?? ''}|${p.virtual_parent ?? ''}|${p.options['ipv6_ra_pd_list'] ?? ''}|${p.options['additional-chassis-activated'] ?? ''}`);
  }
  return parts.sort().join('\n');
}

/** The binding fields flows read: datapath keys, router port keys, virtual ports' parents. */
function flowBindingSignature(cache: Cache): string {
  const parts: string[] = [];
  for (const d of rowsOf<Sb.DatapathBinding>(cache, 'Datapath_Binding')) parts.push(`D${d._uuid}|${d.external_ids['logical-switch'] ?? d.external_ids['logical-router'] ?? ''}|${d.tunnel_key}`);
  for (const p of rowsOf<Sb.PortBinding>(cache, 'Port_Binding')) {
    if (p.type === 'patch' || p.type === 'l3gateway' || p.type === 'chassisredirect') parts.push(`R${p.logical_port}|${p.tunnel_key}`);
    else if (p.type === 'virtual') parts.push(`V${p.logical_port}|${p.virtual_parent ?? ''}|${p.chassis ?? ''}`);
  }
  return parts.sort().join('\n');
}

function serviceMonitorSignature(cache: Cache): string {
  return rowsOf<Sb.ServiceMonitor>(cache, 'Service_Monitor').map((s) => `${s.ip}|${s.port}|${s.protocol ?? ''}|${s.logical_port}|${s.status ?? ''}`).sort().join('\n');
}

function learnedSignature(cache: Cache): string {
  const parts: string[] = [];
  for (const m of rowsOf<Sb.MACBinding>(cache, 'MAC_Binding')) parts.push(`M${m._uuid}|${m.logical_port}`);
  for (const f of rowsOf<Sb.FDB>(cache, 'FDB')) parts.push(`F${f._uuid}|${f.dp_key}|${f.port_key}`);
  for (const s of rowsOf<Sb.ServiceMonitor>(cache, 'Service_Monitor')) parts.push(`S${s.ip}|${s.port}|${s.protocol ?? ''}|${s.logical_port}|${s.status ?? ''}`);
  return parts.sort().join('\n');
}
const SB_DB = 'OVN_Southbound';

type AnyModel = TableModel<TypedRow>;

function tableMap(idl: Idl, model: AnyModel): Map<string, TypedRow> {
  const m = new Map<string, TypedRow>();
  for (const r of typedTable(idl, model)) m.set(r._uuid, r);
  return m;
}

export async function runNorthd(opts: NorthdOptions): Promise<NorthdHandle> {
  const log = opts.log ?? logger('northd');
  const lockName = opts.lockName ?? 'ovn_northd';
  const debounceMs = opts.debounceMs ?? 5;
  const remotes = (r: string | readonly string[]): string[] => (typeof r === 'string' ? r.split(',') : [...r]);
  const nbClient = new OvsdbClient({ remotes: remotes(opts.nbRemote) });
  const sbClient = new OvsdbClient({ remotes: remotes(opts.sbRemote) });
  const nbTables = Object.fromEntries(Object.keys(Nb.tables).map((t) => [t, true as const]));
  const sbTables = Object.fromEntries(Object.keys(Sb.tables).map((t) => [t, true as const]));
  const nbIdl = new Idl(nbClient, { database: NB_DB, tables: nbTables });
  const sbIdl = new Idl(sbClient, { database: SB_DB, tables: sbTables });
  const tracker = newTracker();
  const en = createNorthdEngine(opts.random, tracker);
  const counters = { runs: 0, sbTransactions: 0, errors: 0, lastRunMs: 0, lastComputeMs: 0, lastSbWriteMs: 0 };

  let status: NorthdStatus = 'connecting';
  let stopped = false;
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let idleWaiters: (() => void)[] = [];
  // Tables changed since the last run, per database; "*" after a (re)sync.
  const nbDirty = new Set<string>(['*']);
  const sbDirty = new Set<string>(['*']);
  const nbCache = new Map<string, Map<string, TypedRow>>();
  const sbCache = new Map<string, Map<string, TypedRow>>();

  const schedule = (): void => {
    if (stopped || timer || running) return;
    timer = setTimeout(() => {
      timer = undefined;
      void cycle();
    }, debounceMs);
  };
  // NB_Global columns only northd writes (or only nbctl's bookkeeping) do not change the result.
  const NB_GLOBAL_OWN = new Set(['sb_cfg', 'sb_cfg_timestamp', 'hv_cfg', 'hv_cfg_timestamp', 'nb_cfg_timestamp']);
  let sbChanged = true;
  const checkLspIsUp = (): boolean => [...typedTable(nbIdl, Nb.tables.NB_Global)][0]?.options['ignore_lsp_down'] === 'false';
  nbIdl.on('change', (batch: readonly IdlRowChange[]) => {
    for (const c of batch) {
      if (c.old && c.new) {
        const cols = changedColumns(c);
        if (c.table === 'NB_Global' && cols.every((col) => NB_GLOBAL_OWN.has(col))) continue;
        // Logical_Switch_Port.up is northd's own write; flows read it only with ignore_lsp_down=false.
        if (c.table === 'Logical_Switch_Port' && cols.every((col) => col === 'up') && !checkLspIsUp()) continue;
      }
      nbDirty.add(c.table);
      if (tracker.nb) {
        const s = tracker.nb.get(c.table) ?? new Set<string>();
        s.add(c.uuid);
        tracker.nb.set(c.table, s);
      }
    }
    schedule();
  });
  const flowIndex = new SbFlowIndex(sbIdl);
  sbIdl.on('change', (batch: readonly IdlRowChange[]) => {
    flowIndex.apply(batch);
    for (const c of batch) sbDirty.add(c.table);
    sbChanged = true;
    schedule();
  });
  nbIdl.on('synced', () => {
    tracker.nb = undefined;
    nbDirty.add('*');
    schedule();
  });
  sbIdl.on('synced', () => {
    flowIndex.invalidate();
    sbDirty.add('*');
    sbChanged = true;
    schedule();
  });
  sbClient.on('locked', (name) => {
    if (name !== lockName) return;
    log.info(`lock ${lockName} acquired: this northd is active`);
    status = 'active';
    en.engine.forceRecompute();
    sbDirty.add('*');
    schedule();
  });
  sbClient.on('stolen', (name) => {
    if (name !== lockName) return;
    log.info(`lock ${lockName} lost: this northd is on standby`);
    status = 'standby';
  });
  sbClient.on('disconnected', () => {
    if (status === 'active') {
      log.info('southbound connection lost: standby until the lock is held again');
      status = 'standby';
    }
  });

  const refresh = (idl: Idl, dirty: Set<string>, cache: Map<string, Map<string, TypedRow>>, models: Record<string, AnyModel>, names: readonly string[]): boolean => {
    let any = false;
    for (const t of names) {
      if (!dirty.has('*') && !dirty.has(t) && cache.has(t)) continue;
      cache.set(t, tableMap(idl, models[t]!));
      any = true;
    }
    return any;
  };

  const sbPart = (names: readonly string[]): SbPart => Object.fromEntries(names.map((t) => [t, sbCache.get(t)!])) as SbPart;
  // What the engine last saw of each Southbound input (only the fields it reads), so that SB
  // changes that cannot change the result (most often: our own writes) cost no recompute.
  const lastSig = new Map<string, string>();
  const feedSb = (node: NorthdEngine['sbChassis'], names: readonly string[], sig: () => string): void => {
    const s = sig();
    if (lastSig.get(node.name) === s) return;
    lastSig.set(node.name, s);
    en.engine.set(node, sbPart(names));
  };

  /** Feeds the engine with what changed and runs it; undefined when nothing it reads changed. */
  const compute = (): ComputeResult | undefined => {
    const nbModels = Nb.tables as unknown as Record<string, AnyModel>;
    const sbModels = Sb.tables as unknown as Record<string, AnyModel>;
    if (refresh(nbIdl, nbDirty, nbCache, nbModels, Object.keys(Nb.tables))) {
      en.engine.set(en.nb, Object.fromEntries([...nbCache]) as unknown as NbTables);
    }
    if (refresh(sbIdl, sbDirty, sbCache, sbModels, SB_CHASSIS_TABLES)) feedSb(en.sbChassis, SB_CHASSIS_TABLES, () => chassisSignature(sbCache));
    if (refresh(sbIdl, sbDirty, sbCache, sbModels, SB_BINDING_TABLES)) {
      feedSb(en.sbBindings, SB_BINDING_TABLES, () => bindingSignature(sbCache));
      const s = flowBindingSignature(sbCache);
      if (lastSig.get('flowBindings') !== s) tracker.sbBindingsForFlows = true;
      lastSig.set('flowBindings', s);
    }
    if (refresh(sbIdl, sbDirty, sbCache, sbModels, SB_LEARNED_TABLES)) {
      feedSb(en.sbLearned, SB_LEARNED_TABLES, () => learnedSignature(sbCache));
      const s = serviceMonitorSignature(sbCache);
      if (lastSig.get('svcmon') !== s) tracker.sbLearned.add('Service_Monitor');
      lastSig.set('svcmon', s);
    }
    nbDirty.clear();
    sbDirty.clear();
    if (!en.engine.hasPendingChanges && en.output.data !== undefined) return undefined;
    en.engine.run();
    // The next run's changes start here.
    tracker.nb = new Map();
    tracker.sbBindingsForFlows = false;
    tracker.sbLearned = new Set();
    return en.output.value;
  };

  /** The few Northbound columns northd owns: write what differs from the replica. */
  const writeNorthbound = async (r: ComputeResult, sbNbCfg: number | undefined): Promise<void> => {
    const tx = nbClient.transaction(NB_DB);
    const nbg = [...typedTable(nbIdl, Nb.tables.NB_Global)][0];
    if (nbg) {
      const row: Record<string, unknown> = {};
      const want = r.nb.nbGlobalOptions;
      const have = nbg.options;
      if (Object.keys(want).length !== Object.keys(have).length || Object.entries(want).some(([k, v]) => have[k] !== v)) row['options'] = want;
      if (nbg.hv_cfg !== r.nb.hvCfg.hv_cfg) row['hv_cfg'] = r.nb.hvCfg.hv_cfg;
      if (nbg.hv_cfg_timestamp !== r.nb.hvCfg.hv_cfg_timestamp) row['hv_cfg_timestamp'] = r.nb.hvCfg.hv_cfg_timestamp;
      if (sbNbCfg !== undefined && nbg.sb_cfg !== sbNbCfg) {
        row['sb_cfg'] = sbNbCfg;
        row['sb_cfg_timestamp'] = Date.now();
      }
      if (Object.keys(row).length) tx.update('NB_Global', [['_uuid', '==', ovsUuid(nbg._uuid)]], Nb.tables.NB_Global.encode(row));
    }
    const lsps = typedTable(nbIdl, Nb.tables.Logical_Switch_Port);
    for (const [u, up] of r.nb.lspUp) {
      const cur = lsps.get(u);
      if (cur && cur.up !== up) tx.update('Logical_Switch_Port', [['_uuid', '==', ovsUuid(u)]], Nb.tables.Logical_Switch_Port.encode({ up }));
    }
    for (const [u, dyn] of r.nb.lspDynamicAddresses) {
      const cur = lsps.get(u);
      if (cur && cur.dynamic_addresses !== dyn) tx.update('Logical_Switch_Port', [['_uuid', '==', ovsUuid(u)]], Nb.tables.Logical_Switch_Port.encode({ dynamic_addresses: dyn }));
    }
    for (const [u, tag] of r.nb.lspTag) {
      const cur = lsps.get(u);
      if (cur && cur.tag !== tag) tx.update('Logical_Switch_Port', [['_uuid', '==', ovsUuid(u)]], Nb.tables.Logical_Switch_Port.encode({ tag }));
    }
    if (tx.size) await tx.execute();
  };

  const cycle = async (): Promise<void> => {
    if (stopped || running) return;
    running = true;
    try {
      while (!stopped && (nbDirty.size || sbDirty.size)) {
        if (status !== 'active' || !nbIdl.isSynced || !sbIdl.isSynced) break;
        const t0 = performance.now();
        if (log.enabled('debug')) log.debug(`run: NB changed [${[...nbDirty].join(',')}], SB changed [${[...sbDirty].join(',')}]`);
        const fresh = compute();
        const r = fresh ?? en.output.value;
        if (fresh) counters.runs++;
        const t1 = performance.now();
        if (fresh) counters.lastComputeMs = t1 - t0;
        // The SB is diffed when the desired state changed or the SB did (hand edits heal).
        let stats: WriteStats = { transactions: 0, inserts: 0, updates: 0, deletes: 0 };
        if (fresh || sbChanged) {
          sbChanged = false;
          stats = await writeSouthbound(sbClient, sbIdl, r.sb, { maxOps: opts.maxOpsPerTxn ?? 1000, lock: lockName, flowIndex });
          counters.lastSbWriteMs = performance.now() - t1;
        }
        counters.sbTransactions += stats.transactions;
        const sbg = [...typedTable(sbIdl, Sb.tables.SB_Global)][0];
        await writeNorthbound(r, sbg?.nb_cfg);
        counters.lastRunMs = performance.now() - t0;
        if (stats.transactions) log.debug(`run ${counters.runs}: ${stats.inserts} inserts, ${stats.updates} updates, ${stats.deletes} deletes in ${stats.transactions} transactions, ${counters.lastRunMs.toFixed(1)} ms`);
      }
    } catch (e) {
      counters.errors++;
      log.warn(`northd run failed: ${(e as Error).message}`);
      // Retry on the next change, or shortly if nothing else happens.
      nbDirty.add('*');
      sbDirty.add('*');
      en.engine.forceRecompute();
      if (!stopped) setTimeout(schedule, 200).unref();
    } finally {
      running = false;
      if (!stopped && (nbDirty.size || sbDirty.size) && status === 'active' && nbIdl.isSynced && sbIdl.isSynced) schedule();
      else if (!timer) {
        const w = idleWaiters;
        idleWaiters = [];
        for (const f of w) f();
      }
    }
  };

  await Promise.all([nbIdl.start(), sbIdl.start()]);
  status = 'standby';
  const held = await sbClient.lock(lockName);
  if (held && (status as NorthdStatus) !== 'active') {
    status = 'active';
    log.info(`lock ${lockName} acquired: this northd is active`);
  } else if (!held) log.info(`lock ${lockName} is held by another northd: standby`);
  schedule();

  return {
    status: () => status,
    engine: en,
    counters,
    idle: () =>
      new Promise<void>((resolve) => {
        if (!running && !timer && !(status === 'active' && (nbDirty.size || sbDirty.size))) resolve();
        else idleWaiters.push(resolve);
      }),
    stop: async () => {
      stopped = true;
      status = 'stopped';
      if (timer) clearTimeout(timer);
      nbIdl.close();
      sbIdl.close();
      await Promise.all([nbClient.close(), sbClient.close()]);
      const w = idleWaiters;
      idleWaiters = [];
      for (const f of w) f();
    },
  };
}

const USAGE = `usage: ovnts northd --ovnnb-db REMOTE --ovnsb-db REMOTE [-v|--verbose] [--dump-graph]
  Compiles the OVN Northbound database into the Southbound database.
  REMOTE is tcp:IP:PORT, unix:PATH or ssl:IP:PORT (comma-separated for several).`;

/** Command-line entry: runs until SIGINT/SIGTERM; resolves with the exit status. */
export async function northdMain(argv: string[]): Promise<number> {
  let nb: string | undefined;
  let sb: string | undefined;
  let verbose = false;
  let dumpGraph = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    const value = (): string | undefined => (eq > 0 ? a.slice(eq + 1) : argv[++i]);
    if (name === '--ovnnb-db') nb = value();
    else if (name === '--ovnsb-db') sb = value();
    else if (a === '-v' || a === '--verbose') verbose = true;
    else if (a === '--dump-graph') dumpGraph = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE + '\n');
      return 0;
    } else {
      process.stderr.write(`ovnts northd: unknown option ${a}\n${USAGE}\n`);
      return 2;
    }
  }
  if (dumpGraph) {
    process.stdout.write(createNorthdEngine().engine.dumpGraph() + '\n');
    return 0;
  }
  if (!nb || !sb) {
    process.stderr.write(`ovnts northd: --ovnnb-db and --ovnsb-db are required\n${USAGE}\n`);
    return 2;
  }
  if (verbose) setLogLevel('debug');
  const log = logger('northd');
  const handle = await runNorthd({ nbRemote: nb, sbRemote: sb, log });
  log.info(`northd started (${handle.status()})`);
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
  await handle.stop();
  return 0;
}
