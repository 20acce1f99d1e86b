#!/usr/bin/env node
// Switch benchmark (packages/switch, compiled dist): the packet-processing core on one core.
//
//   node tools/bench/switch.mjs [--only fast,ct,slow,mods,mem] [--runs 3] [--quick]
//
//   fast  fast path: 64-byte UDP frames hitting cached megaflows (a 1-table switch, and the
//         40-table OVN-like pipeline below with its flows' counters credited per packet)
//   ct    fast path through a pipeline with a conntrack recirculation (established UDP flows)
//   slow  flow setups: every frame a cache miss through the 40-table OVN-like pipeline
//         (translation + megaflow install + execution), and translation alone (cache off)
//   mods  flow mods per second: single adds, bundles of 1000, strict deletes
//   mem   memory per 100k flows (heap and RSS deltas after GC)
//
// Figures are medians over --runs runs. Rates are given per second of this process's CPU time
// (process.cpuUsage: robust when other work shares the machine) and per wall-clock second;
// latencies are wall-clock per packet (sampled with hrtime, which adds its own ~40 ns).
// Build first: npx tsc -b packages/switch.
import { spawnSync } from 'node:child_process';
import { PerformanceObserver } from 'node:perf_hooks';

if (typeof globalThis.gc !== 'function') {
  // Re-run with --expose-gc so memory figures are taken after a full collection.
  const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, new URL(import.meta.url).pathname, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const dist = new URL('../../packages/switch/dist/src/', import.meta.url).href;
const { createDatapath } = await import(`${dist}datapath/index.js`);
const { FlowTables, parseFlowMod, parseFlowMods } = await import(`${dist}flow/index.js`);
const { buildUdp4 } = await import(`${dist}packet/index.js`);

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const only = opt('only', 'fast,ct,slow,mods,mem').split(',');
const runs = Number(opt('runs', '3'));
const quick = args.includes('--quick');
const scale = quick ? 0.1 : 1;

const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const now = () => Number(process.hrtime.bigint());
/** CPU time of this process so far, in nanoseconds. */
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};
/** Times `fn` (which does `n` operations): {pps: per CPU second, wall: per wall second}. */
function timed(n, fn) {
  const c0 = cpu();
  const t0 = now();
  fn();
  const wall = now() - t0;
  const c = cpu() - c0;
  return { pps: n / (c / 1e9), wall: n / (wall / 1e9) };
}

const mac = (i) => `02:00:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
const ip = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/** A 64-byte Ethernet frame (14 + 20 + 8 + 22 bytes of payload). */
function frame64(src, dst, sport, dport, srcMac = mac(1), dstMac = mac(2)) {
  return buildUdp4({ src: srcMac, dst: dstMac }, { src, dst }, { srcPort: sport, dstPort: dport, payload: new Uint8Array(22) });
}

/**
 * An OVN-like pipeline over `nPorts` VIF ports of one logical switch: physical-to-logical
 * (table 0), 30 logical ingress stages (8..37: port security L2/IP, ARP/ND responder, DHCP,
 * pre-ACL, ACLs with per-port allow rules, L2 lookup, and catch-all next-stage flows), output
 * tables 37..39, 10 egress stages (40..49), physical output (64, 65): 42 tables per packet.
 * `ct`: a pre-ACL ct(table=…) recirculation and an ACL commit, as OVN does for stateful ACLs.
 */
function ovnPipeline(nPorts, { ct = false, aclPorts = [80, 443, 22, 8080] } = {}) {
  const f = [];
  for (let p = 1; p <= nPorts; p++) {
    f.push(`table=0,priority=100,in_port=${p},actions=load:0x1->NXM_NX_REG13[],load:${p}->NXM_NX_REG14[],load:0x1->OXM_OF_METADATA[],resubmit(,8)`);
    f.push(`table=8,priority=50,reg14=${p},metadata=0x1,dl_src=${mac(p)},actions=resubmit(,9)`);
    f.push(`table=9,priority=90,ip,reg14=${p},metadata=0x1,dl_src=${mac(p)},nw_src=${ip(p)},actions=resubmit(,10)`);
    f.push(`table=11,priority=50,arp,metadata=0x1,arp_tpa=${ip(p)},arp_op=1,actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],load:0x2->NXM_OF_ARP_OP[],output:in_port`);
    f.push(`table=34,priority=50,metadata=0x1,dl_dst=${mac(p)},actions=load:${p}->NXM_NX_REG15[],resubmit(,37)`);
    f.push(`table=65,priority=100,reg15=${p},metadata=0x1,actions=output:${p}`);
    for (const port of aclPorts) f.push(`table=${ct ? 20 : 19},priority=2002,ct_state=${ct ? '+new+trk' : '-trk'},ip,reg15=0/0,metadata=0x1,nw_dst=${ip(p)},tp_dst=${port},actions=${ct ? 'ct(commit,zone=NXM_NX_REG13[0..15]),' : ''}resubmit(,21)`);
  }
  f.push('table=8,priority=100,metadata=0x1,vlan_tci=0x1000/0x1000,actions=drop');
  f.push('table=8,priority=100,metadata=0x1,dl_src=01:00:00:00:00:00/01:00:00:00:00:00,actions=drop');
  f.push('table=9,priority=80,ip,metadata=0x1,actions=drop');
  f.push('table=9,priority=0,metadata=0x1,actions=resubmit(,10)');
  f.push('table=12,priority=100,udp,metadata=0x1,tp_src=68,tp_dst=67,actions=controller(userdata=00.00.00.02)');
  f.push('table=13,priority=100,icmp6,metadata=0x1,icmp_type=135,actions=controller(userdata=00.00.00.04)');
  if (ct) {
    f.push('table=17,priority=100,ip,metadata=0x1,actions=ct(table=18,zone=NXM_NX_REG13[0..15])');
    f.push('table=18,priority=0,metadata=0x1,actions=resubmit(,19)');
    f.push('table=20,priority=65532,ct_state=-new+est-rel-inv+trk,metadata=0x1,actions=resubmit(,21)');
    f.push('table=20,priority=65532,ct_state=+inv+trk,metadata=0x1,actions=drop');
  }
  f.push('table=19,priority=1,ip,metadata=0x1,actions=resubmit(,20)');
  f.push('table=20,priority=1,ip,metadata=0x1,actions=drop');
  f.push('table=37,priority=150,reg10=0x1/0x1,metadata=0x1,actions=resubmit(,38)');
  f.push('table=39,priority=100,reg10=0/0x1,reg14=0x1,reg15=0x1,metadata=0x1,actions=drop');
  f.push('table=64,priority=100,reg10=0x1/0x1,actions=push:NXM_OF_IN_PORT[],load:0->NXM_OF_IN_PORT[],resubmit(,65),pop:NXM_OF_IN_PORT[]');
  f.push('table=64,priority=0,actions=resubmit(,65)');
  for (let t = 8; t <= 49; t++) {
    if (t === 17 && ct) continue;
    if (t === 20) continue;
    const next = t === 36 ? 37 : t === 49 ? 64 : t + 1;
    f.push(`table=${t},priority=0,metadata=0x1,actions=resubmit(,${next})`);
    // Non-matching specific flows with their own masks, as OVN stages have.
    f.push(`table=${t},priority=110,metadata=0x1,reg0=0x${(t + 1).toString(16)}/0xff,actions=resubmit(,${next})`);
  }
  return f.join('\n');
}

function makeSink() {
  const sink = { n: 0, transmit() { this.n++; }, has() { return true; } };
  return sink;
}

function makeDp(flows, opts = {}) {
  const sink = makeSink();
  const dp = createDatapath({ sink, ...opts });
  dp.tables.bundle(parseFlowMods(flows));
  return { dp, sink };
}

/** Counts garbage collections (delivered asynchronously: read after a tick). */
let gcCount = 0;
new PerformanceObserver((list) => {
  gcCount += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });
const tick = () => new Promise((r) => setTimeout(r, 20));

/** Runs `n` receives of `frames` round robin; returns packets/s and sampled latencies (ns). */
async function pump(dp, frames, inPorts, n) {
  const m = frames.length;
  // Warm-up (JIT, cache fill).
  for (let i = 0; i < Math.min(n, 200_000); i++) dp.receive(inPorts[i % m], frames[i % m]);
  await tick();
  const g0 = gcCount;
  const r = timed(n, () => {
    for (let i = 0; i < n; i++) dp.receive(inPorts[i % m], frames[i % m]);
  });
  await tick();
  r.gcs = gcCount - g0;
  const lat = [];
  for (let i = 0; i < Math.min(n, 200_000); i++) {
    const a = now();
    dp.receive(inPorts[i % m], frames[i % m]);
    lat.push(now() - a);
  }
  lat.sort((a, b) => a - b);
  return { ...r, lat };
}

function report(name, r, extra = '') {
  const l = (r.lat ? `  p50 ${fmt(pct(r.lat, 50))} ns  p99 ${fmt(pct(r.lat, 99))} ns  p99.9 ${fmt(pct(r.lat, 99.9))} ns` : '') + (r.gcs !== undefined ? `  GCs ${r.gcs}` : '');
  console.log(`${name.padEnd(50)} ${fmt(r.pps).padStart(11)} /cpu-s ${fmt(r.wall).padStart(11)} /s${l}${extra}`);
}

async function repeat(fn) {
  const rs = [];
  for (let r = 0; r < runs; r++) rs.push(await fn());
  const pps = median(rs.map((x) => x.pps));
  const pick = rs.find((x) => x.pps === pps);
  return pick;
}

const N_PORTS = 100;

if (only.includes('fast')) {
  console.log('# fast path: 64-byte UDP frames, cached megaflows, one core');
  const frames = [];
  const inPorts = [];
  for (let i = 0; i < 1024; i++) {
    const p = 1 + (i % N_PORTS);
    const q = 1 + ((i * 7 + 3) % N_PORTS);
    frames.push(frame64(ip(p), ip(q), 1024 + i, 80, mac(p), mac(q)));
    inPorts.push(p);
  }
  console.log(`frame length ${frames[0].length} bytes, ${frames.length} distinct 5-tuples`);
  const n = Math.round(5_000_000 * scale);
  {
    const r = await repeat(async () => {
      const { dp } = makeDp('table=0,priority=100,in_port=1,actions=output:2\ntable=0,priority=10,actions=output:3');
      return await pump(dp, frames, inPorts, n);
    });
    report('1 table (in_port → output)', r);
  }
  {
    let st;
    const r = await repeat(async () => {
      const { dp } = makeDp(ovnPipeline(N_PORTS));
      const x = await pump(dp, frames, inPorts, n);
      st = dp.stats();
      return x;
    });
    report('OVN-like pipeline, 42 tables per packet', r, `  (${st.cacheEntries} megaflows, hit rate ${fmt((100 * st.cacheHits) / (st.cacheHits + st.cacheMisses), 3)}%)`);
  }
}

if (only.includes('ct')) {
  console.log('# fast path with conntrack: pipeline with ct(table=…) recirculation, established UDP flows');
  const frames = [];
  const inPorts = [];
  const replies = [];
  const replyPorts = [];
  for (let i = 0; i < 1024; i++) {
    const p = 1 + (i % N_PORTS);
    const q = 1 + ((i * 7 + 3) % N_PORTS);
    frames.push(frame64(ip(p), ip(q), 1024 + i, 80, mac(p), mac(q)));
    inPorts.push(p);
    replies.push(frame64(ip(q), ip(p), 80, 1024 + i, mac(q), mac(p)));
    replyPorts.push(q);
  }
  const n = Math.round(2_000_000 * scale);
  let st;
  const r = await repeat(async () => {
    const { dp } = makeDp(ovnPipeline(N_PORTS, { ct: true }));
    // Open every connection and answer it so packets are +est.
    for (let i = 0; i < frames.length; i++) {
      dp.receive(inPorts[i], frames[i]);
      dp.receive(replyPorts[i], replies[i]);
    }
    const x = await pump(dp, frames, inPorts, n);
    st = { ...dp.stats(), conns: dp.conntrack.size };
    return x;
  });
  report('OVN-like pipeline + ct recirculation (2 passes)', r, `  (${st.conns} connections, ${st.cacheEntries} megaflows)`);
}

if (only.includes('slow')) {
  console.log('# slow path: flow setups through the 40-table OVN-like pipeline (every frame a miss)');
  const m = Math.round(60_000 * scale);
  const mk = () => {
    const frames = [];
    const inPorts = [];
    for (let i = 0; i < m; i++) {
      const p = 1 + (i % N_PORTS);
      const q = 1 + ((i * 7 + 3) % N_PORTS);
      // The ACL table matches tp_dst exactly, so each destination port is its own megaflow.
      frames.push(frame64(ip(p), ip(q), 1024 + (i % 50000), 1 + Math.floor(i / N_PORTS), mac(p), mac(q)));
      inPorts.push(p);
    }
    return { frames, inPorts };
  };
  for (const [label, opts, ct] of [
    ['flow setups (translate + install + run)', {}, false],
    ['translations alone (cache off)', { cache: false }, false],
    ['flow setups with ct recirculation (per packet)', {}, true],
  ]) {
    let st;
    const r = await repeat(async () => {
      const { dp } = makeDp(ovnPipeline(N_PORTS, { ct }), { cacheCapacity: 1 << 20, ...opts });
      const { frames, inPorts } = mk();
      // Warm the JIT on other frames.
      for (let i = 0; i < 5000; i++) dp.receive(inPorts[i], frame64(ip(inPorts[i]), ip(2), 9, 60000 - i, mac(inPorts[i]), mac(2)));
      const lat = [];
      const x = timed(m, () => {
        for (let i = 0; i < m; i++) {
          const a = now();
          dp.receive(inPorts[i], frames[i]);
          lat.push(now() - a);
        }
      });
      st = dp.stats();
      lat.sort((a, b) => a - b);
      return { ...x, lat };
    });
    report(label, r, `  (misses ${fmt(st.cacheMisses)}, megaflows ${fmt(st.cacheEntries)}, subtables ${st.cacheSubtables})`);
  }
}

/** `n` OVN-like ACL flows with distinct matches. */
function aclMods(n, table = 44) {
  const mods = [];
  for (let i = 0; i < n; i++) {
    mods.push(parseFlowMod(`table=${table},priority=${1000 + (i % 1000)},ip,reg15=0x${(1 + (i % 200)).toString(16)},metadata=0x${(1 + (i % 50)).toString(16)},nw_src=${ip(i)},tp_dst=${1 + (i % 1000)},actions=load:0x1->NXM_NX_XXREG0[97],resubmit(,${table + 1})`));
  }
  return mods;
}

if (only.includes('mods')) {
  console.log('# flow mods');
  const n = Math.round(100_000 * scale);
  const mods = aclMods(n);
  {
    const r = await repeat(async () => {
      const { dp } = makeDp('');
      const lat = [];
      const x = timed(n, () => {
        for (const m of mods) {
          const a = now();
          dp.tables.apply(m);
          lat.push(now() - a);
        }
      });
      lat.sort((a, b) => a - b);
      return { ...x, lat };
    });
    report(`add, one at a time (${fmt(n)} flows)`, r);
  }
  {
    const r = await repeat(async () => {
      const { dp } = makeDp('');
      return timed(n, () => {
        for (let i = 0; i < n; i += 1000) dp.tables.bundle(mods.slice(i, i + 1000));
      });
    });
    report('add, bundles of 1000', r);
  }
  {
    const dels = mods.map((m) => ({ ...m, command: 'delete_strict' }));
    const r = await repeat(async () => {
      const { dp } = makeDp('');
      dp.tables.bundle(mods);
      return timed(n, () => {
        for (const d of dels) dp.tables.apply(d);
      });
    });
    report('delete strict, one at a time', r);
  }
  {
    const text = mods.slice(0, Math.min(n, 20000)).map((_, i) => `table=44,priority=${1000 + (i % 1000)},ip,reg15=0x${(1 + (i % 200)).toString(16)},metadata=0x${(1 + (i % 50)).toString(16)},nw_src=${ip(i)},tp_dst=${1 + (i % 1000)},actions=load:0x1->NXM_NX_XXREG0[97],resubmit(,45)`);
    const r = await repeat(() => timed(text.length, () => {
      for (const l of text) parseFlowMod(l);
    }));
    report('parse ovs-ofctl flow text', r);
  }
}

if (only.includes('mem')) {
  console.log('# memory per 100k flows');
  const n = 100_000;
  const mods = aclMods(n);
  const heaps = [];
  const rsss = [];
  for (let r = 0; r < runs; r++) {
    globalThis.gc();
    globalThis.gc();
    const h0 = process.memoryUsage().heapUsed;
    const r0 = process.memoryUsage().rss;
    const ft = new FlowTables();
    ft.bundle(mods);
    globalThis.gc();
    globalThis.gc();
    heaps.push(process.memoryUsage().heapUsed - h0);
    rsss.push(process.memoryUsage().rss - r0);
    if (ft.count() !== n) throw new Error('flows missing');
    ft.clear();
  }
  console.log(`${'heap delta'.padEnd(54)} ${fmt(median(heaps) / 1048576, 1).padStart(12)} MB  (${fmt(median(heaps) / n)} bytes/flow)`);
  console.log(`${'RSS delta'.padEnd(54)} ${fmt(median(rsss) / 1048576, 1).padStart(12)} MB`);
}
