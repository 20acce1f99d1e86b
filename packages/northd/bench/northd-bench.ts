/**
 * northd benchmark: the Northbound DB of the ovsdb bulk benchmark (1000 switches × 10 ports,
 * 100 routers × 10 ports, 5000 ACLs in 100 port groups; `--scale` shrinks it), compiled
 *  - `compute`: by the pure compute core from rows in memory (full compile time, flow rows, heap);
 *  - `engine`: by the incremental engine alone: port additions, mean time per node;
 *  - `daemon`: by the daemon on an in-process ovnts server: time from the NB commit until
 *    NB_Global.sb_cfg says the SB is written, then incremental latencies (add one port, delete
 *    it, add one ACL), p50/p99;
 *  - `real`: the same with real ovn-northd on a real ovsdb-server (also with `both --real`).
 *
 *   npx tsc -b packages/northd && node packages/northd/dist/bench/northd-bench.js [--scale 0.1] [--mode compute|engine|daemon|real|both] [--real] [--rounds 20]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database, Nb, OvsdbClient, OvsdbServer, loadSchema, setLogLevel, type RowJson } from '@ovnts/ovsdb';
import { computeNorthd, createNorthdEngine, emptySb, nbFromDump, runNorthd, type NorthdHandle } from '../src/index.js';
import { OvnSandbox, northdMissing } from '../test/real-northd.js';

const args = process.argv.slice(2);
const opt = (name: string, d: string): string => (args.includes(name) ? args[args.indexOf(name) + 1]! : d);
const scale = Number(opt('--scale', '1'));
const mode = opt('--mode', 'both');
const rounds = Number(opt('--rounds', '20'));

const hex = (n: number): string => n.toString(16).padStart(2, '0');

type Op = Record<string, unknown>;

/** The NB as transactions (the same shapes tools/bench/ovsdb.mjs loads). */
function nbTransactions(): Op[][] {
  const nSwitch = Math.round(1000 * scale);
  const nRouter = Math.round(100 * scale);
  const nAcl = Math.round(5000 * scale);
  const txns: Op[][] = [[{ op: 'insert', table: 'NB_Global', row: {} }]];
  for (let s = 0; s < nSwitch; s += 50) {
    const ops: Op[] = [];
    for (let k = s; k < Math.min(nSwitch, s + 50); k++) {
      const refs: unknown[] = [];
      for (let p = 0; p < 10; p++) {
        ops.push({ op: 'insert', table: 'Logical_Switch_Port', 'uuid-name': `p${p}_${k}`, row: { name: `ls${k}-p${p}`, addresses: `00:00:00:00:${hex(p)}:01 10.0.0.${p}` } });
        refs.push(['named-uuid', `p${p}_${k}`]);
      }
      ops.push({ op: 'insert', table: 'Logical_Switch', row: { name: `ls${k}`, ports: ['set', refs] } });
    }
    txns.push(ops);
  }
  for (let r = 0; r < nRouter; r++) {
    const ops: Op[] = [];
    const refs: unknown[] = [];
    for (let p = 0; p < 10; p++) {
      ops.push({ op: 'insert', table: 'Logical_Router_Port', 'uuid-name': `rp${p}`, row: { name: `lr${r}-p${p}`, mac: `00:00:01:00:${hex(r & 255)}:${hex(p)}`, networks: `10.${r & 255}.${p}.1/24` } });
      refs.push(['named-uuid', `rp${p}`]);
    }
    ops.push({ op: 'insert', table: 'Logical_Router', row: { name: `lr${r}`, ports: ['set', refs] } });
    txns.push(ops);
  }
  const groups = Math.max(1, Math.round(nAcl / 50));
  for (let g = 0; g < groups; g++) {
    const ops: Op[] = [];
    const refs: unknown[] = [];
    for (let a = 0; a < 50; a++) {
      ops.push({ op: 'insert', table: 'ACL', 'uuid-name': `a${a}`, row: { priority: 1000 + a, direction: a % 2 ? 'to-lport' : 'from-lport', match: `ip4.src == 10.${g & 255}.${a}.0/24 && tcp.dst == ${1000 + a}`, action: 'allow-related' } });
      refs.push(['named-uuid', `a${a}`]);
    }
    ops.push({ op: 'insert', table: 'Port_Group', row: { name: `pg${g}`, acls: ['set', refs] } });
    txns.push(ops);
  }
  return txns;
}

/** The same NB as in-memory rows with made-up UUIDs (for the compute-only run). */
function nbRows(): Record<string, RowJson[]> {
  const out: Record<string, RowJson[]> = {};
  let n = 0;
  for (const ops of nbTransactions()) {
    const named = new Map<string, string>();
    for (const op of ops) {
      const u = `00000000-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}`;
      if (op['uuid-name']) named.set(op['uuid-name'] as string, u);
      const row = { ...(op['row'] as Record<string, unknown>) };
      for (const [k, v] of Object.entries(row)) {
        if (Array.isArray(v) && v[0] === 'set') row[k] = ['set', (v[1] as [string, string][]).map(([, name]) => ['uuid', named.get(name)!])];
      }
      row['_uuid'] = ['uuid', u];
      (out[op['table'] as string] ??= []).push(row as RowJson);
    }
  }
  return out;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const mb = (b: number): string => `${(b / 1048576).toFixed(0)} MB`;

function benchCompute(): void {
  const nb = nbFromDump(nbRows());
  const times: number[] = [];
  let flows = 0;
  let rows = 0;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = computeNorthd({ nb, sb: emptySb() });
    times.push(performance.now() - t0);
    rows = r.sb.lflows.size;
    flows = [...r.sb.lflows.values()].reduce((s, f) => s + f.datapaths.length, 0);
  }
  console.log(`compute  scale ${scale}: ${rows} Logical_Flow rows (${flows} per-datapath flows); full compile ${times.map((t) => t.toFixed(0)).join(' / ')} ms; heap ${mb(process.memoryUsage().heapUsed)}, rss ${mb(process.memoryUsage().rss)}`);
}

/**
 * The engine alone, without databases: after a full run, `rounds` port additions through the
 * engine's API (as the daemon feeds it), with the mean time per node.
 */
function benchEngine(): void {
  let nb = nbFromDump(nbRows());
  const en = createNorthdEngine(() => 0.5);
  en.engine.set(en.sbChassis, {});
  en.engine.set(en.sbBindings, {});
  en.engine.set(en.sbLearned, {});
  en.engine.set(en.nb, nb);
  let t0 = performance.now();
  en.engine.run();
  const full = performance.now() - t0;
  const sums: Record<string, number> = {};
  const switches = [...nb.Logical_Switch.values()];
  for (let i = 0; i < rounds; i++) {
    const sw = nb.Logical_Switch.get(switches[(i * 37) % switches.length]!._uuid)!;
    const u = `00000000-0000-4000-9000-${i.toString(16).padStart(12, '0')}`;
    const lsp = Nb.tables.Logical_Switch_Port.fromWire(Nb.tables.Logical_Switch_Port.encode({ name: `engine-p${i}`, addresses: [`00:00:00:98:${hex(i & 255)}:01 10.98.0.${i & 255}`] }), u);
    nb = { ...nb, Logical_Switch_Port: new Map(nb.Logical_Switch_Port).set(u, lsp), Logical_Switch: new Map(nb.Logical_Switch).set(sw._uuid, { ...sw, ports: [...sw.ports, u] }) };
    en.tracker.nb = new Map([['Logical_Switch_Port', new Set([u])], ['Logical_Switch', new Set([sw._uuid])]]);
    en.tracker.sbBindingsForFlows = false;
    en.tracker.sbBindingsChanged = false;
    en.tracker.sbLearned = new Set();
    en.engine.set(en.nb, nb);
    t0 = performance.now();
    en.engine.run();
    sums['total'] = (sums['total'] ?? 0) + performance.now() - t0;
    for (const [k, v] of Object.entries(en.engine.stats())) if (v.lastMs) sums[k] = (sums[k] ?? 0) + v.lastMs;
  }
  console.log(`engine   scale ${scale}: full run ${full.toFixed(0)} ms; add port (${rounds} rounds, mean): ${Object.entries(sums).map(([k, v]) => `${k} ${(v / rounds).toFixed(2)}`).join(', ')} ms`);
}

function rssOf(pid: number): string {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? `${(Number(m[1]) / 1024).toFixed(0)} MB` : '?';
  } catch {
    return '?';
  }
}

/**
 * Loads the NB and measures, through the protocol, the time from an NB commit (which also bumps
 * NB_Global.nb_cfg) until NB_Global.sb_cfg reaches it: northd computed, wrote the SB and
 * reported back, as `ovn-nbctl --wait=sb` measures it.
 */
async function benchDaemon(kind: 'ovnts' | 'real'): Promise<void> {
  setLogLevel('off');
  let remote: string;
  let cleanup: () => Promise<void>;
  let nd: NorthdHandle | undefined;
  let northdPid = process.pid;
  let startReal: (() => number) | undefined;
  if (kind === 'ovnts') {
    const dir = mkdtempSync(join(tmpdir(), 'ovnts-northd-bench-'));
    const server = new OvsdbServer();
    server.addDatabase(new Database(loadSchema('ovn-nb')));
    server.addDatabase(new Database(loadSchema('ovn-sb')));
    remote = `unix:${join(dir, 'db.sock')}`;
    await server.listen(`p${remote}`);
    cleanup = async () => {
      await nd?.stop();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    };
  } else {
    const sb = await OvnSandbox.start('ovnts-northd-bench-');
    remote = sb.remote;
    // Started once NB_Global exists (it would create one itself).
    startReal = () => sb.startRealNorthd().pid!;
    cleanup = () => sb.close();
  }
  const c = new OvsdbClient({ remotes: [remote] });
  await c.connect();
  try {
    if (kind === 'ovnts') nd = await runNorthd({ nbRemote: remote, sbRemote: remote, debounceMs: 0 });
    const transact = async (ops: Op[]): Promise<unknown[]> => {
      const r = (await c.request('transact', ['OVN_Northbound', ...ops])) as { error?: string }[];
      const err = r.find((x) => x && x.error);
      if (err) throw new Error(JSON.stringify(err));
      return r;
    };
    const sbCfg = async (): Promise<number> => {
      const r = (await c.request('transact', ['OVN_Northbound', { op: 'select', table: 'NB_Global', where: [], columns: ['sb_cfg'] }])) as { rows: { sb_cfg: number }[] }[];
      return r[0]!.rows[0]?.sb_cfg ?? -1;
    };
    let lastResult: unknown[] = [];
    const timed = async (ops: Op[]): Promise<number> => {
      const t0 = performance.now();
      lastResult = await transact([...ops, { op: 'mutate', table: 'NB_Global', where: [], mutations: [['nb_cfg', '+=', 1]] }, { op: 'select', table: 'NB_Global', where: [], columns: ['nb_cfg'] }]);
      const want = (lastResult[lastResult.length - 1] as { rows: { nb_cfg: number }[] }).rows[0]!.nb_cfg;
      while ((await sbCfg()) < want) await new Promise((r) => setTimeout(r, 1));
      return performance.now() - t0;
    };
    const txns = nbTransactions();
    await transact(txns[0]!);
    if (startReal) northdPid = startReal();
    const t0 = performance.now();
    for (const ops of txns.slice(1, -1)) await transact(ops);
    const last = await timed(txns[txns.length - 1]!);
    const loadMs = performance.now() - t0;
    const sel = (await c.request('transact', ['OVN_Southbound', { op: 'select', table: 'Logical_Flow', where: [], columns: ['_uuid'] }])) as { rows: unknown[] }[];
    console.log(`${kind.padEnd(6)} northd, scale ${scale}: NB loaded and SB up to date in ${loadMs.toFixed(0)} ms (after the last NB transaction ${last.toFixed(0)} ms); ${sel[0]!.rows.length} Logical_Flow rows; northd rss ${rssOf(northdPid)}`);
    if (args.includes('--verbose')) setLogLevel('debug');
    // --profile FILE: a CPU profile of the incremental rounds only (for chrome://inspect or a script).
    const profile = args.includes('--profile') ? opt('--profile', 'northd-incremental.cpuprofile') : undefined;
    const session = profile !== undefined ? new Session() : undefined;
    if (session) {
      session.connect();
      await new Promise<void>((r) => session.post('Profiler.enable', () => session.post('Profiler.start', () => r())));
    }
    const nSwitch = Math.round(1000 * scale);
    const addPort: number[] = [];
    const delPort: number[] = [];
    const addAcl: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const sw = `ls${(i * 37) % nSwitch}`;
      addPort.push(await timed([
        { op: 'insert', table: 'Logical_Switch_Port', 'uuid-name': 'np', row: { name: `bench-p${i}`, addresses: `00:00:00:99:${hex(i & 255)}:01 10.99.0.${i & 255}` } },
        { op: 'mutate', table: 'Logical_Switch', where: [['name', '==', sw]], mutations: [['ports', 'insert', ['set', [['named-uuid', 'np']]]]] },
      ]));
      const uuid = (lastResult[0] as { uuid: unknown }).uuid;
      // Removing the port from its switch deletes it (a non-root row nothing refers to).
      delPort.push(await timed([{ op: 'mutate', table: 'Logical_Switch', where: [['name', '==', sw]], mutations: [['ports', 'delete', ['set', [uuid]]]] }]));
      addAcl.push(await timed([
        { op: 'insert', table: 'ACL', 'uuid-name': 'na', row: { priority: 2000 + i, direction: 'to-lport', match: `tcp.dst == ${2000 + i}`, action: 'allow-related' } },
        { op: 'mutate', table: 'Logical_Switch', where: [['name', '==', sw]], mutations: [['acls', 'insert', ['set', [['named-uuid', 'na']]]]] },
      ]));
    }
    if (session) {
      await new Promise<void>((r) =>
        session.post('Profiler.stop', (err, res) => {
          if (!err) writeFileSync(profile!, JSON.stringify(res.profile));
          r();
        }),
      );
      session.disconnect();
    }
    const line = (n: string, xs: number[]): string => `${n} p50 ${pct(xs, 50).toFixed(1)} / p99 ${pct(xs, 99).toFixed(1)} ms`;
    console.log(`${kind.padEnd(6)} northd, incremental (${rounds} rounds): ${line('add port', addPort)}; ${line('del port', delPort)}; ${line('add ACL', addAcl)}`);
    if (nd) {
      const st = nd.engine.engine.stats();
      console.log(`engine   ${Object.entries(st).map(([k, v]) => `${k} ${v.recomputes}r/${v.handled}h ${v.lastMs.toFixed(1)}ms`).join(', ')}`);
    }
  } finally {
    await c.close();
    await cleanup();
  }
}

if (mode === 'compute' || mode === 'both') benchCompute();
if (mode === 'engine' || mode === 'both') benchEngine();
if (mode === 'daemon' || mode === 'both') await benchDaemon('ovnts');
if (mode === 'real' || (mode === 'both' && args.includes('--real'))) {
  if (northdMissing()) console.log(`real northd: ${northdMissing()}`);
  else await benchDaemon('real');
}
