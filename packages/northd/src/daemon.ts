/**
 * The northd daemon: replicates the Northbound database and the Southbound database with the
 * ovnts client library, recomputes through the engine when either changes (debounced), writes
 * the difference to the Southbound DB and the few write-backs to the Northbound DB, and
 * propagates nb_cfg (NB -> SB_Global -> NB sb_cfg) and hv_cfg (Chassis_Private -> NB).
 *
 * Active/standby: the daemon asks for the OVSDB lock `ovn_northd` on the Southbound server and
 * writes nothing while another client holds it; every Southbound transaction asserts the lock.
 */
import { Idl, Nb, OvsdbClient, Sb, changedColumns, logger, ovsUuid, setLogLevel, typedTable, type IdlRowChange, type Logger } from '@ovnts/ovsdb';
import type { ComputeResult } from './compute.js';
import type { NbTables } from './input.js';
import type { NbWrites } from './desired.js';
import { createNorthdEngine, SB_BINDING_TABLES, SB_CHASSIS_TABLES, SB_LEARNED_TABLES, type NorthdEngine, type SbPart } from './northd-engine.js';
import { SbWriter, type WriteStats } from './sb-writer.js';
import type { FlowSet } from './flow-set.js';
import { newTracker } from './incremental.js';
import { startControl, type Control } from './control.js';
import { bindingRelevance, chassisSignature, learnedRelevance } from './sb-signatures.js';
import { TableCache, type AnyModel } from './table-cache.js';

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

export type NorthdStatus = 'connecting' | 'standby' | 'active' | 'paused' | 'stopped';

export interface NorthdHandle {
  status(): NorthdStatus;
  readonly engine: NorthdEngine;
  /** Counters: engine runs, SB writes. */
  readonly counters: { runs: number; sbTransactions: number; errors: number; lastRunMs: number; lastComputeMs: number; lastSbWriteMs: number };
  /** Resolves once no change is pending and no run is in progress. */
  idle(): Promise<void>;
  /**
   * Stops writing and gives up the lock (another northd takes over), keeping the replicas
   * current; resume() asks for the lock again.
   */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Whether the Northbound and Southbound connections are up. */
  connections(): { nb: boolean; sb: boolean };
  /** Recomputes every engine node from scratch at the next run, and runs. */
  recompute(): void;
  stop(): Promise<void>;
}

const NB_DB = 'OVN_Northbound';

const SB_DB = 'OVN_Southbound';


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
  const nbModels = Nb.tables as unknown as Record<string, AnyModel>;
  const sbModels = Sb.tables as unknown as Record<string, AnyModel>;
  const SB_INPUT_TABLES = [...SB_CHASSIS_TABLES, ...SB_BINDING_TABLES, ...SB_LEARNED_TABLES];
  const nbCache = new TableCache(nbIdl, nbModels, Object.keys(Nb.tables));
  const sbCache = new TableCache(sbIdl, sbModels, SB_INPUT_TABLES);
  // Whether an NB change since the last run can change the result (some are our own writes).
  let nbRelevant = true;
  // The NB write-backs last written, and the ports whose rows changed since.
  let lastNbWrites: NbWrites | undefined;
  let lspTouched = new Set<string>();

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
    nbCache.note(batch);
    for (const c of batch) {
      if (c.table === 'Logical_Switch_Port') lspTouched.add(c.uuid);
      if (c.old && c.new) {
        const cols = changedColumns(c);
        if (c.table === 'NB_Global' && cols.every((col) => NB_GLOBAL_OWN.has(col))) continue;
        // Logical_Switch_Port.up is northd's own write; flows read it only with ignore_lsp_down=false.
        if (c.table === 'Logical_Switch_Port' && cols.every((col) => col === 'up') && !checkLspIsUp()) continue;
      }
      nbDirty.add(c.table);
      nbRelevant = true;
      if (tracker.nb) {
        const s = tracker.nb.get(c.table) ?? new Set<string>();
        s.add(c.uuid);
        tracker.nb.set(c.table, s);
      }
    }
    schedule();
  });
  const writer = new SbWriter(sbClient, sbIdl, { maxOps: opts.maxOpsPerTxn ?? 1000, lock: lockName });
  let lastFlowSet: FlowSet | undefined;
  sbIdl.on('change', (batch: readonly IdlRowChange[]) => {
    writer.observe(batch);
    sbCache.note(batch);
    for (const c of batch) sbDirty.add(c.table);
    sbChanged = true;
    schedule();
  });
  nbIdl.on('synced', () => {
    tracker.nb = undefined;
    lastNbWrites = undefined;
    nbCache.invalidate();
    nbRelevant = true;
    nbDirty.add('*');
    schedule();
  });
  sbIdl.on('synced', () => {
    writer.invalidate();
    sbCache.invalidate();
    sbDirty.add('*');
    sbChanged = true;
    schedule();
  });
  sbClient.on('locked', (name) => {
    if (name !== lockName) return;
    log.info(`lock ${lockName} acquired: this northd is active`);
    status = 'active';
    en.engine.forceRecompute();
    writer.invalidate();
    sbDirty.add('*');
    schedule();
  });
  sbClient.on('stolen', (name) => {
    if (name !== lockName || status === 'paused') return;
    log.info(`lock ${lockName} lost: this northd is on standby`);
    status = 'standby';
  });
  sbClient.on('disconnected', () => {
    if (status === 'active') {
      log.info('southbound connection lost: standby until the lock is held again');
      status = 'standby';
    }
  });

  // What the engine last saw of the chassis tables (only the fields it reads).
  let lastChassisSig: string | undefined;
  /** SB datapath UUID -> datapath key, from the cached Datapath_Binding rows. */
  const dpKeyOf = (u: string): string | undefined => {
    const d = sbCache.get('Datapath_Binding').get(u) as Sb.DatapathBinding | undefined;
    return d ? (d.external_ids['logical-switch'] ?? d.external_ids['logical-router']) : undefined;
  };
  const feed = (node: NorthdEngine['sbChassis'], names: readonly string[], relevant: boolean): void => {
    const part = sbCache.part(names) as SbPart;
    if (relevant) en.engine.set(node, part);
    else en.engine.setQuiet(node, part);
  };

  /** Feeds the engine with what changed and runs it; undefined when nothing it reads changed. */
  const compute = (): ComputeResult | undefined => {
    const tc = performance.now();
    if (nbCache.hasPending || nbRelevant) {
      const u = nbCache.update();
      const tables = nbCache.part(Object.keys(Nb.tables)) as unknown as NbTables;
      if (nbRelevant || u.all) en.engine.set(en.nb, tables);
      else en.engine.setQuiet(en.nb, tables);
      nbRelevant = false;
    }
    if (sbCache.hasPending) {
      const u = sbCache.update();
      const changed = (names: readonly string[]): IdlRowChange[] => names.flatMap((t) => [...(u.changes.get(t) ?? [])]);
      const want = en.output.data?.sb;
      if (u.all || SB_CHASSIS_TABLES.some((t) => u.changes.has(t))) {
        const sig = chassisSignature(sbCache);
        feed(en.sbChassis, SB_CHASSIS_TABLES, sig !== lastChassisSig);
        lastChassisSig = sig;
      }
      if (u.all || SB_BINDING_TABLES.some((t) => u.changes.has(t))) {
        const r = u.all ? { compute: true, flows: true } : bindingRelevance(changed(SB_BINDING_TABLES), want, dpKeyOf);
        feed(en.sbBindings, SB_BINDING_TABLES, r.compute);
        if (r.compute) tracker.sbBindingsChanged = true;
        if (r.flows) tracker.sbBindingsForFlows = true;
      }
      if (u.all || SB_LEARNED_TABLES.some((t) => u.changes.has(t))) {
        const r = u.all ? { compute: true, flows: true } : learnedRelevance(changed(SB_LEARNED_TABLES));
        feed(en.sbLearned, SB_LEARNED_TABLES, r.compute);
        if (r.flows) tracker.sbLearned.add('Service_Monitor');
      }
    }
    nbDirty.clear();
    sbDirty.clear();
    if (!en.engine.hasPendingChanges && en.output.data !== undefined) return undefined;
    const tr = performance.now();
    en.engine.run();
    if (log.enabled('debug')) {
      const st = en.engine.stats();
      log.debug(`engine ${(performance.now() - tr).toFixed(1)} ms (inputs ${(tr - tc).toFixed(1)} ms): ${Object.entries(st).filter(([, v]) => v.lastMs > 1).map(([k, v]) => `${k} ${v.lastMs.toFixed(1)}`).join(', ')}; flow units rebuilt ${en.lastAffected()}`);
    }
    // The next run's changes start here.
    tracker.nb = new Map();
    tracker.sbBindingsForFlows = false;
    tracker.sbBindingsChanged = false;
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
    // Port columns: the entries that differ from what was last written, and the ports whose
    // rows changed since (someone may have changed these columns); everything after a resync.
    const lsps = typedTable(nbIdl, Nb.tables.Logical_Switch_Port);
    const last = lastNbWrites;
    const touched = lspTouched;
    lspTouched = new Set();
    const check = <V>(want: ReadonlyMap<string, V>, before: ReadonlyMap<string, V> | undefined, col: 'up' | 'dynamic_addresses' | 'tag'): void => {
      const write = (u: string, v: V): void => {
        const cur = lsps.get(u);
        if (cur && cur[col] !== v) tx.update('Logical_Switch_Port', [['_uuid', '==', ovsUuid(u)]], Nb.tables.Logical_Switch_Port.encode({ [col]: v }));
      };
      if (!before) {
        for (const [u, v] of want) write(u, v);
        return;
      }
      if (want !== before) for (const [u, v] of want) if (before.get(u) !== v || !before.has(u)) write(u, v);
      for (const u of touched) if (want.has(u)) write(u, want.get(u)!);
    };
    check(r.nb.lspUp, last?.lspUp, 'up');
    check(r.nb.lspDynamicAddresses, last?.lspDynamicAddresses, 'dynamic_addresses');
    check(r.nb.lspTag, last?.lspTag, 'tag');
    lastNbWrites = undefined;
    if (tx.size) await tx.execute();
    lastNbWrites = r.nb;
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
          // The flows that changed since the last write, when the flow set is the same one.
          const set = en.flowSet();
          const touched = set?.takeTouched();
          const flowChanges = set !== undefined && set === lastFlowSet ? touched : undefined;
          lastFlowSet = set;
          const pc = en.takePortChanges();
          if (pc) for (const u of pc.lsps) lspTouched.add(u);
          else lastNbWrites = undefined;
          stats = await writer.write(r.sb, flowChanges, pc?.ports);
          counters.lastSbWriteMs = performance.now() - t1;
        }
        counters.sbTransactions += stats.transactions;
        const sbg = [...typedTable(sbIdl, Sb.tables.SB_Global)][0];
        const t2 = performance.now();
        await writeNorthbound(r, sbg?.nb_cfg);
        counters.lastRunMs = performance.now() - t0;
        if (stats.transactions) {
          log.debug(
            `run ${counters.runs}: ${stats.inserts} inserts, ${stats.updates} updates, ${stats.deletes} deletes in ${stats.transactions} transactions; ` +
              `compute ${fresh ? (t1 - t0).toFixed(1) : '-'} ms, SB ${(t2 - t1).toFixed(1)} ms, NB ${(performance.now() - t2).toFixed(1)} ms`,
          );
        }
      }
    } catch (e) {
      counters.errors++;
      log.warn(`northd run failed: ${(e as Error).message}`);
      // Retry on the next change, or shortly if nothing else happens.
      nbDirty.add('*');
      sbDirty.add('*');
      en.engine.forceRecompute();
      writer.invalidate();
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
    pause: async () => {
      if (status === 'paused' || stopped) return;
      status = 'paused';
      log.info('paused: not writing, lock released');
      await sbClient.unlock(lockName).catch(() => undefined);
    },
    resume: async () => {
      if (status !== 'paused' || stopped) return;
      status = 'standby';
      log.info('resumed');
      const got = await sbClient.lock(lockName);
      if (got && (status as NorthdStatus) !== 'active') {
        status = 'active';
        en.engine.forceRecompute();
        writer.invalidate();
        sbDirty.add('*');
        schedule();
      }
    },
    connections: () => ({ nb: nbClient.isConnected, sb: sbClient.isConnected }),
    recompute: () => {
      en.engine.forceRecompute();
      writer.invalidate();
      nbDirty.add('*');
      sbDirty.add('*');
      schedule();
    },
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

const USAGE = `usage: ovnts northd --ovnnb-db REMOTE --ovnsb-db REMOTE [-v|--verbose]
                    [--unixctl=SOCKET] [--pidfile[=FILE]] [--dump-graph]
  Compiles the OVN Northbound database into the Southbound database.
  REMOTE is tcp:IP:PORT, unix:PATH or ssl:IP:PORT (comma-separated for several).
  --unixctl=SOCKET   control socket for ovn-appctl (default: $OVN_RUNDIR/ovn-northd.PID.ctl
                     when that directory exists; OVN_RUNDIR defaults to /var/run/ovn)
  --pidfile[=FILE]   write the process id (default $OVN_RUNDIR/ovn-northd.pid); the file is
                     not fcntl-locked, so address ovn-appctl by socket: ovn-appctl -t SOCKET
  --dump-graph       print the engine graph (Graphviz) and exit`;

/** Command-line entry: runs until SIGINT/SIGTERM or `ovn-appctl exit`; resolves with the exit status. */
export async function northdMain(argv: string[]): Promise<number> {
  let nb: string | undefined;
  let sb: string | undefined;
  let verbose = false;
  let dumpGraph = false;
  let unixctl: string | undefined;
  let pidfile: string | true | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    const value = (): string | undefined => (eq > 0 ? a.slice(eq + 1) : argv[++i]);
    if (name === '--ovnnb-db') nb = value();
    else if (name === '--ovnsb-db') sb = value();
    else if (name === '--unixctl') unixctl = value();
    else if (name === '--pidfile') pidfile = eq > 0 ? a.slice(eq + 1) : true;
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
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let control: Control | undefined;
  try {
    control = await startControl(handle, { rundir: process.env['OVN_RUNDIR'] ?? '/var/run/ovn', ...(unixctl !== undefined ? { unixctl } : {}), ...(pidfile !== undefined ? { pidfile } : {}) }, stop);
  } catch (e) {
    process.stderr.write(`ovnts northd: ${(e as Error).message}\n`);
    await handle.stop();
    return 1;
  }
  log.info(`northd started (${handle.status()})${control.socket ? `; control socket ${control.socket}` : ''}`);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await stopped;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  await control.close();
  await handle.stop();
  return 0;
}
