#!/usr/bin/env node
// The controller and data path through the lab's processes (databases, northd, per host a local
// database, switch and controller), at the BRIEF's scale:
// - port bring-up: 1,000 logical ports on one switch; their Interfaces appear on hv1 one at a
//   time (as a hypervisor plugs VIFs); latency from the Interface insert to Port_Binding.up in
//   the Southbound DB (p50/p99), then a burst of 100 at once;
// - flows installed/s: a port-group ACL over all 1,000 ports; flows added on hv1 divided by the
//   time from the nbctl command to `--wait=hv` (northd + controller + switch);
// - ping RTT between simulated VMs, same host and across hosts (Geneve on loopback);
// - UDP throughput across hosts: frames written into a VIF on hv1 for a port on hv2, through
//   the whole OVN pipeline and the tunnel, counted where hv2's VIF delivers them;
// - RSS of the controller and switch of hv1.
// Real ovn-controller needs ovs-vswitchd with a kernel or DPDK datapath, which this machine
// does not run; there is no side-by-side figure (docs/performance.md).
//
//   node tools/bench/controller.mjs [--ports 1000] [--seconds 3]
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const PORTS = arg('--ports', 1000);
const SECONDS = arg('--seconds', 3);
const lab = await import(join(root, 'packages/lab/dist/src/index.js'));
const { OvsdbClient, Idl, Sb, typedTable, ovsMap, ovsSet, ovsUuid } = await import(join(root, 'packages/ovsdb/dist/src/index.js'));
const { buildUdp4 } = await import(join(root, 'packages/switch/dist/src/index.js'));

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};
const ms = (x) => `${x.toFixed(1)} ms`;
const rssOf = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const mac = (i) => `0a:00:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
const ip = (i) => `10.1.${i >> 8}.${(i & 0xff) + 1}`;
const nbctlBatch = (state, lines) => new Promise((resolve, reject) => {
  import('node:child_process').then(({ execFile }) => {
    const c = execFile(process.execPath, [lab.OVNTS_BIN, 'nbctl', `--db=${state.db}`, '--batch'], { maxBuffer: 1 << 26 }, (e, out, err) => (e ? reject(new Error(err || e.message)) : resolve(out)));
    c.stdin.end(lines.join('\n') + '\n');
  });
});
const flowCount = async (host) => (await lab.ovnts(['ofctl', 'dump-flows', host.switchControl])).split('\n').filter((l) => l.includes('table=')).length;

const dir = mkdtempSync(join(tmpdir(), 'bench-controller-'));
let state;
const clients = [];
try {
  const t0 = Date.now();
  state = await lab.labUp({ hosts: 2, dir });
  console.log(`lab up (2 hosts): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const [hv1, hv2] = state.hosts;

  // The logical network: one switch with PORTS ports (+ two for UDP, + VMs for ping).
  let t = Date.now();
  {
    // One transaction (as a CMS plugin would write it), not 1,000 nbctl commands.
    const nb = new OvsdbClient({ remotes: [state.db] });
    await nb.connect();
    const tx = nb.transaction('OVN_Northbound');
    const refs = [];
    for (let i = 1; i <= PORTS; i++) refs.push(tx.insert('Logical_Switch_Port', { name: `p${i}`, addresses: ovsSet(`${mac(i)} ${ip(i)}`) }).ref);
    refs.push(tx.insert('Logical_Switch_Port', { name: 'usrc', addresses: ovsSet('0a:00:00:01:00:01 10.2.0.1') }).ref);
    refs.push(tx.insert('Logical_Switch_Port', { name: 'udst', addresses: ovsSet('0a:00:00:01:00:02 10.2.0.2') }).ref);
    tx.insert('Logical_Switch', { name: 'sw0', ports: ovsSet(...refs) });
    await tx.execute();
    nb.close();
  }
  await lab.ovnts(['nbctl', `--db=${state.db}`, '--timeout=120', '--wait=hv', 'sync']);
  console.log(`${PORTS} logical ports created and compiled on every host: ${((Date.now() - t) / 1000).toFixed(1)} s`);

  // Clients of hv1's local database and of the Southbound DB.
  const vs = new OvsdbClient({ remotes: [hv1.vswitchDb] });
  const sb = new OvsdbClient({ remotes: [state.db] });
  clients.push(vs, sb);
  await vs.connect();
  await sb.connect();
  const sbIdl = new Idl(sb, { database: 'OVN_Southbound', tables: { Port_Binding: true } });
  await sbIdl.start();
  const waiting = new Map(); // logical port -> resolve
  sbIdl.on('change', () => {
    if (!waiting.size) return;
    for (const pb of typedTable(sbIdl, Sb.tables.Port_Binding)) {
      const w = waiting.get(pb.logical_port);
      if (w && pb.up === true) {
        waiting.delete(pb.logical_port);
        w();
      }
    }
  });
  const q = vs.transaction('Open_vSwitch');
  const sel = q.select('Bridge', [['name', '==', 'br-int']], ['_uuid']);
  const bridgeUuid = (await q.execute()).get(sel).rows[0]?._uuid?.[1];
  if (!bridgeUuid) throw new Error('no br-int on hv1');
  const plug = (names) => {
    const tx = vs.transaction('Open_vSwitch');
    const refs = names.map((n) => {
      const iface = tx.insert('Interface', { name: n, type: 'internal', external_ids: ovsMap({ 'iface-id': n }) });
      return tx.insert('Port', { name: n, interfaces: ovsSet(iface.ref) }).ref;
    });
    tx.mutate('Bridge', [['_uuid', '==', ovsUuid(bridgeUuid)]], [['ports', 'insert', ovsSet(...refs)]]);
    return tx.execute();
  };
  const upOf = (name) => new Promise((resolve) => waiting.set(name, resolve));

  // Bring-up, one port at a time.
  const lat = [];
  const single = Math.max(1, PORTS - 100);
  for (let i = 1; i <= single; i++) {
    const name = `p${i}`;
    const up = upOf(name);
    const s = performance.now();
    await plug([name]);
    await Promise.race([up, new Promise((_, rej) => setTimeout(() => rej(new Error(`${name} not up in 30 s`)), 30_000))]);
    lat.push(performance.now() - s);
  }
  console.log(`port bring-up, one at a time (${single} ports, up to ${single} bound): p50 ${ms(pct(lat, 50))}, p90 ${ms(pct(lat, 90))}, p99 ${ms(pct(lat, 99))}, max ${ms(Math.max(...lat))}; ${(single / (lat.reduce((a, b) => a + b, 0) / 1000)).toFixed(0)} ports/s`);
  // The last 100 at once.
  const burst = [];
  for (let i = single + 1; i <= PORTS; i++) burst.push(`p${i}`);
  if (burst.length) {
    const ups = burst.map(upOf);
    const s = performance.now();
    await plug(burst);
    await Promise.all(ups);
    console.log(`port bring-up, ${burst.length} at once: all up in ${ms(performance.now() - s)}`);
  }

  // Flows installed per second: an ACL over a port group of every port.
  const before = await flowCount(hv1);
  t = performance.now();
  const all = Array.from({ length: PORTS }, (_, i) => `p${i + 1}`);
  await nbctlBatch(state, [`pg-add pg_all ${all.join(' ')}`, `acl-add pg_all to-lport 1001 "outport == @pg_all && ip4.src == \\$pg_all_ip4 && tcp.dst == 22" allow-related`]);
  await lab.ovnts(['nbctl', `--db=${state.db}`, '--timeout=120', '--wait=hv', 'sync']);
  const took = (performance.now() - t) / 1000;
  const after = await flowCount(hv1);
  console.log(`flows: ${before} on hv1 with ${PORTS} bound ports; a port-group ACL added ${after - before} in ${took.toFixed(2)} s (nbctl to --wait=hv): ${((after - before) / took).toFixed(0)} flows/s end to end`);

  // Ping RTT between simulated VMs.
  await lab.vmAdd({ name: 'a', host: hv1.name, lswitch: 'sw0', mac: '0a:00:00:02:00:01', ip: '10.3.0.1/16' }, state);
  await lab.vmAdd({ name: 'b', host: hv1.name, lswitch: 'sw0', mac: '0a:00:00:02:00:02', ip: '10.3.0.2/16' }, state);
  await lab.vmAdd({ name: 'c', host: hv2.name, lswitch: 'sw0', mac: '0a:00:00:02:00:03', ip: '10.3.0.3/16' }, state);
  await lab.ovnts(['nbctl', `--db=${state.db}`, '--timeout=60', '--wait=hv', 'sync']);
  for (const [to, what] of [['b', 'same host'], ['c', 'cross host']]) {
    await lab.vmPing('a', to, { count: 3 }, state); // ARP, flow setup
    const r = await lab.vmRequest(lab.vmControl('a', state), { op: 'ping', dst: lab.addressOf(to, state), count: 50, intervalMs: 20, timeoutMs: 1000 }, 60_000);
    const rtts = r.probes.filter((p) => p.rttMs !== undefined).map((p) => p.rttMs);
    console.log(`ping RTT ${what}: p50 ${rtts.length ? ms(pct(rtts, 50)) : '-'}, p99 ${rtts.length ? ms(pct(rtts, 99)) : '-'}, ${r.received}/${r.transmitted} answered`);
  }

  // UDP throughput across hosts: our sockets play the two VMs' ends of dgram VIFs.
  const txAddr = { switchPort: 45001, vmPort: 55001 };
  const rxAddr = { switchPort: 45002, vmPort: 55002 };
  await lab.ovnts(['vsctl', `--db=${hv1.vswitchDb}`, '--no-wait', 'add-port', 'br-int', 'usrc', '--', 'set', 'Interface', 'usrc', 'type=dgram', `options:local=${hv1.ip}:${txAddr.switchPort}`, `options:remote=${hv1.ip}:${txAddr.vmPort}`, 'external_ids:iface-id=usrc']);
  await lab.ovnts(['vsctl', `--db=${hv2.vswitchDb}`, '--no-wait', 'add-port', 'br-int', 'udst', '--', 'set', 'Interface', 'udst', 'type=dgram', `options:local=${hv2.ip}:${rxAddr.switchPort}`, `options:remote=${hv2.ip}:${rxAddr.vmPort}`, 'external_ids:iface-id=udst']);
  await lab.ovnts(['nbctl', `--db=${state.db}`, '--timeout=60', '--wait=hv', 'sync']);
  const rx = createSocket('udp4');
  await new Promise((r) => rx.bind(rxAddr.vmPort, hv2.ip, r));
  const txs = createSocket('udp4');
  await new Promise((r) => txs.bind(txAddr.vmPort, hv1.ip, r));
  for (const size of [64, 1400]) {
    const frame = buildUdp4({ src: '0a:00:00:01:00:01', dst: '0a:00:00:01:00:02' }, { src: '10.2.0.1', dst: '10.2.0.2' }, { srcPort: 1000, dstPort: 2000, payload: new Uint8Array(size - 42) });
    let received = 0;
    const onMsg = () => received++;
    rx.on('message', onMsg);
    let sent = 0;
    const end = Date.now() + SECONDS * 1000;
    // Paced in bursts so the sender does not just fill its own socket buffer.
    while (Date.now() < end) {
      for (let k = 0; k < 64; k++) txs.send(frame, txAddr.switchPort, hv1.ip);
      sent += 64;
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 500));
    rx.off('message', onMsg);
    console.log(`UDP ${size}-byte frames hv1 -> hv2 through OVN flows and Geneve: ${(received / SECONDS).toFixed(0)} frames/s (${((received * size * 8) / SECONDS / 1e6).toFixed(1)} Mbit/s), ${sent} sent, ${(100 * (1 - received / sent)).toFixed(1)} % lost`);
  }
  rx.close();
  txs.close();

  const byName = new Map(state.daemons.map((d) => [d.name, d.pid]));
  console.log(`RSS: hv1 controller ${rssOf(byName.get('hv1-controller')).toFixed(0)} MB, hv1 switch ${rssOf(byName.get('hv1-switch')).toFixed(0)} MB, northd ${rssOf(byName.get('northd')).toFixed(0)} MB, central db ${rssOf(byName.get('db')).toFixed(0)} MB`);
} finally {
  for (const c of clients) c.close();
  if (process.argv.includes('--keep')) console.log(`lab kept in ${dir} (OVNTS_LAB_DIR=${dir} ovnts lab down)`);
  else {
    if (state) await lab.labDown(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}
