#!/usr/bin/env node
// Geneve tunnel throughput between two switch processes on loopback: a sender blasts 64- and
// 1400-byte UDP frames into switch A's datagram VIF; A's flow sends them through its Geneve
// tunnel (VNI 5, OVN option) to switch B (127.0.0.22), whose flow delivers them to a datagram
// VIF that a receiver counts. Prints frames/s and Mbit/s received, loss, and RSS of the switches.
//
//   node tools/bench/tunnel.mjs [--seconds 3]
import { spawn, execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const cli = join(root, 'packages/cli/bin/ovnts.js');
const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1] || 3) || 3;
const { buildUdp4 } = await import(join(root, 'packages/switch/dist/src/index.js'));

const dir = mkdtempSync(join(tmpdir(), 'bench-tunnel-'));
const procs = [];
const ofctl = (sw, command, ...args) => run(process.execPath, [cli, 'ofctl', command, `unix:${join(dir, sw)}`, ...args]).then((r) => r.stdout);
async function startSwitch(name, ip) {
  const sock = join(dir, name);
  const p = spawn(process.execPath, [cli, 'switch', '--name', 'br-int', '--control', `punix:${sock}`, '--tunnel-ip', ip], { stdio: 'ignore' });
  procs.push(p);
  for (let i = 0; i < 400 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 25));
  return p;
}
const rssOf = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

try {
  const a = await startSwitch('a', '127.0.0.21');
  const b = await startSwitch('b', '127.0.0.22');
  // A: VIF 1 (frames from the sender) → tunnel port 2 (to B); B: tunnel port 2 (from A) → VIF 1.
  await ofctl('a', 'add-port', 'vif', 'dgram', 'local=127.0.0.21:41001', 'ofport=1');
  await ofctl('a', 'add-port', 'tun', 'tunnel', 'remote_ip=127.0.0.22', 'ofport=2');
  await ofctl('b', 'add-port', 'vif', 'dgram', 'local=127.0.0.22:41001', 'remote=127.0.0.22:42001', 'ofport=1');
  await ofctl('b', 'add-port', 'tun', 'tunnel', 'remote_ip=127.0.0.21', 'ofport=2');
  await ofctl('a', 'add-flow', 'in_port=1,actions=set_field:5->tun_id,set_field:0x10002->tun_metadata0,output:2');
  await ofctl('b', 'add-flow', 'in_port=2,tun_id=5,actions=output:1');

  const rx = createSocket('udp4');
  await new Promise((r) => rx.bind(42001, '127.0.0.22', r));
  const tx = createSocket('udp4');
  await new Promise((r) => tx.bind(0, '127.0.0.21', r));
  for (const size of [64, 1400]) {
    const payload = new Uint8Array(Math.max(0, size - 42));
    const frame = buildUdp4({ src: '00:00:00:00:00:01', dst: '00:00:00:00:00:02' }, { src: '10.0.0.1', dst: '10.0.0.2' }, { srcPort: 1000, dstPort: 2000, payload });
    let got = 0;
    let bytes = 0;
    const onMsg = (m) => {
      got++;
      bytes += m.length;
    };
    rx.on('message', onMsg);
    let sent = 0;
    const end = Date.now() + seconds * 1000;
    // Paced bursts: the sender must not be the bottleneck, nor drown the loopback queues.
    while (Date.now() < end) {
      for (let i = 0; i < 64; i++) tx.send(frame, 41001, '127.0.0.21');
      sent += 64;
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 300));
    rx.off('message', onMsg);
    const pps = got / seconds;
    console.log(`${String(size).padStart(4)}-byte frames: sent ${sent}, received ${got} (${((1 - got / sent) * 100).toFixed(1)}% lost): ${Math.round(pps).toLocaleString('en')} frames/s, ${((bytes * 8) / seconds / 1e6).toFixed(1)} Mbit/s of inner frames`);
  }
  rx.close();
  tx.close();
  console.log(`switch RSS: A ${rssOf(a.pid).toFixed(0)} MB, B ${rssOf(b.pid).toFixed(0)} MB`);
} finally {
  for (const p of procs) if (p.exitCode === null) {
    p.kill('SIGTERM');
    await new Promise((r) => p.once('exit', r));
  }
  rmSync(dir, { recursive: true, force: true });
}
