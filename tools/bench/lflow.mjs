#!/usr/bin/env node
// Logical-flow parse and compile speed over a Southbound DB built by ovnts northd from a
// Northbound of N switches × M ports (default 1000 × 10 = 10k ports): every Logical_Flow's match
// and actions parsed (packages/lflow), then compiled per datapath into switch flows
// (packages/controller), as a controller does at start. Prints flows/s, per-flow latency
// percentiles of the compile, memory, and how long northd took to build the SB.
//
//   node tools/bench/lflow.mjs [--switches 1000] [--ports 10] [--runs 3]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const nSwitches = arg('switches', 1000);
const nPorts = arg('ports', 10);
const runs = arg('runs', 3);
const { OvsdbClient, ovsSet } = await import(join(root, 'packages/ovsdb/dist/src/index.js'));
const L = await import(join(root, 'packages/lflow/dist/src/index.js'));
const C = await import(join(root, 'packages/controller/dist/src/index.js'));
const cli = join(root, 'packages/cli/bin/ovnts.js');

const dir = mkdtempSync(join(tmpdir(), 'bench-lflow-'));
const sock = join(dir, 'db.sock');
const children = [];
const start = (args) => {
  const c = spawn(process.execPath, [cli, ...args], { stdio: 'ignore' });
  children.push(c);
  return c;
};
const stop = async () => {
  for (const c of children.reverse()) if (c.exitCode === null) {
    c.kill('SIGTERM');
    await new Promise((r) => c.once('exit', r));
  }
  rmSync(dir, { recursive: true, force: true });
};
process.on('SIGINT', () => void stop().then(() => process.exit(1)));

try {
  start(['db', 'serve', '--in-memory', 'ovn-nb', '--in-memory', 'ovn-sb', '--remote', `punix:${sock}`]);
  for (let i = 0; i < 400 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 25));
  const client = new OvsdbClient({ remotes: [`unix:${sock}`] });
  await client.connect();
  // The Northbound: switches of ports with MAC + IP addresses, loaded in transactions of 100 switches.
  for (let s0 = 0; s0 < nSwitches; s0 += 100) {
    const tx = client.transaction('OVN_Northbound');
    for (let s = s0; s < Math.min(nSwitches, s0 + 100); s++) {
      const ports = [];
      for (let p = 0; p < nPorts; p++) {
        const n = s * nPorts + p;
        const mac = `0a:00:00:${((n >> 16) & 255).toString(16).padStart(2, '0')}:${((n >> 8) & 255).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;
        ports.push(tx.insert('Logical_Switch_Port', { name: `lsp${n}`, addresses: ovsSet(`${mac} 10.${s >> 8}.${s & 255}.${p + 10}`) }).ref);
      }
      tx.insert('Logical_Switch', { name: `ls${s}`, ports: ovsSet(...ports) });
    }
    await tx.execute();
  }
  const t0 = performance.now();
  start(['northd', '--ovnnb-db', `unix:${sock}`, '--ovnsb-db', `unix:${sock}`]);
  // Wait for northd's flows: the count stops changing.
  let flowsJson = [];
  for (let last = -1, i = 0; i < 1200; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const [r] = await client.transact('OVN_Southbound', [{ op: 'select', table: 'Logical_Flow', where: [], columns: ['_uuid'] }]);
    if (r.rows.length > 0 && r.rows.length === last) break;
    last = r.rows.length;
  }
  const northdMs = performance.now() - t0 - 500;
  const tables = Object.keys(L.TRACE_TABLES);
  const res = await client.transact('OVN_Southbound', tables.map((table) => ({ op: 'select', table, where: [], columns: L.TRACE_TABLES[table] })));
  const rows = Object.fromEntries(tables.map((t, i) => [t, res[i].rows]));
  const sb = L.southboundFromRows(rows);
  flowsJson = sb.flows;
  client.close();
  const dps = new Map(sb.datapaths.map((d) => [d.uuid, d]));
  const ports = new Map(sb.ports.map((p) => [`${dps.get(p.datapath)?.tunnelKey}/${p.name}`, p.tunnelKey]));
  for (const g of sb.multicastGroups) ports.set(`${dps.get(g.datapath)?.tunnelKey}/${g.name}`, g.tunnelKey);
  const lookup = { addressSet: (n) => sb.addressSets.get(n), portGroup: (n) => sb.portGroups.get(n) };
  const pairs = flowsJson.flatMap((f) => f.datapaths.map((d) => [f, dps.get(d)]));
  console.log(`Southbound: ${flowsJson.length} logical flows, ${pairs.length} (flow, datapath) pairs, ${sb.ports.length} ports; ovnts northd built it in ${(northdMs / 1000).toFixed(1)} s`);

  const parse = [];
  const compile = [];
  const lat = [];
  let switchFlows = 0;
  for (let r = 0; r < runs; r++) {
    let t = performance.now();
    for (const f of flowsJson) {
      L.parseMatch(f.match, { lookup });
      L.parseActions(f.actions);
    }
    parse.push(flowsJson.length / ((performance.now() - t) / 1000));
    let conj = 1;
    let group = 1;
    const env = {
      lookup,
      portKey: (dk, name) => ports.get(`${dk}/${name}`),
      isChassisResident: () => true,
      allocConjunctionId: () => conj++,
      addSelectGroup: () => group++,
    };
    switchFlows = 0;
    t = performance.now();
    for (const [f, dp] of pairs) {
      const s = performance.now();
      const out = C.compileLogicalFlow({ uuid: f.uuid, pipeline: f.pipeline, table: f.table, priority: f.priority, match: f.match, actions: f.actions }, { key: dp.tunnelKey, isRouter: dp.isRouter }, env);
      if (r === runs - 1) lat.push(performance.now() - s);
      switchFlows += out.flows.length;
    }
    compile.push(pairs.length / ((performance.now() - t) / 1000));
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  lat.sort((a, b) => a - b);
  const pct = (p) => (lat[Math.min(lat.length - 1, Math.floor((lat.length * p) / 100))] * 1000).toFixed(1);
  console.log(`parse (match + actions): ${Math.round(med(parse)).toLocaleString('en')} flows/s (median of ${runs})`);
  console.log(`parse + compile to switch flows: ${Math.round(med(compile)).toLocaleString('en')} flows/s, ${switchFlows.toLocaleString('en')} switch flows; per flow p50 ${pct(50)} µs, p99 ${pct(99)} µs, max ${pct(100)} µs`);
  const m = process.memoryUsage();
  console.log(`memory: RSS ${(m.rss / 2 ** 20).toFixed(0)} MB, heap ${(m.heapUsed / 2 ** 20).toFixed(0)} MB`);
} finally {
  await stop();
}
