// ICMP echo in the simulated VM: RTTs and reply TTLs on one subnet and through a router (which
// decrements the TTL), ICMP errors (time exceeded, net unreachable, administratively
// prohibited) reported per probe and as events, loss, and local routing failures.
import t from 'tap';
import type { IcmpErrorReport, SimVm } from '../src/index.js';
import { FakeRouter, Hub, clean, framesWhere } from './vm-helpers.js';

function routed(t: { teardown(fn: () => void): void }): { h1: Hub; h2: Hub; r: FakeRouter; a: SimVm; b: SimVm; c: SimVm } {
  const h1 = new Hub('h1');
  const h2 = new Hub('h2');
  const r = new FakeRouter([
    { hub: h1, mac: '0a:00:00:00:01:fe', ip: '10.0.1.254', plen: 24 },
    { hub: h2, mac: '0a:00:00:00:02:fe', ip: '10.0.2.254', plen: 24 },
  ]);
  const a = h1.vm({ name: 'a', mac: '0a:00:00:00:01:01', ip4: '10.0.1.1/24', gateway4: '10.0.1.254' });
  const c = h1.vm({ name: 'c', mac: '0a:00:00:00:01:03', ip4: '10.0.1.3/24' });
  const b = h2.vm({ name: 'b', mac: '0a:00:00:00:02:02', ip4: '10.0.2.2/24', gateway4: '10.0.2.254' });
  t.teardown(() => [a, b, c].forEach((vm) => vm.close()));
  return { h1, h2, r, a, b, c };
}

t.test('same subnet: RTTs and TTL 64', async (t) => {
  const { h1, a, c } = routed(t);
  await Promise.all([a.start(), c.start()]);
  const r = await a.ping('10.0.1.3', { count: 3, intervalMs: 20, timeoutMs: 500 });
  t.match(r, { dst: '10.0.1.3', transmitted: 3, received: 3, lossPercent: 0 });
  t.same(r.probes.map((p) => [p.seq, p.status, p.ttl, p.from]), [[0, 'ok', 64, '10.0.1.3'], [1, 'ok', 64, '10.0.1.3'], [2, 'ok', 64, '10.0.1.3']]);
  for (const p of r.probes) t.ok(p.rttMs! >= 0 && p.rttMs! < 500, `rtt ${p.rttMs}`);
  t.ok(r.minRttMs! <= r.avgRttMs! && r.avgRttMs! <= r.maxRttMs!);
  const req = framesWhere(h1, (d) => d.icmp?.type === 8);
  t.equal(req.length, 3);
  t.same(req.map((f) => f.d.icmp!.rest & 0xffff), [0, 1, 2], 'sequence numbers');
  t.equal(new Set(req.map((f) => f.d.icmp!.rest >>> 16)).size, 1, 'one identifier');
  t.equal(req[0]!.d.icmp!.payload.length, 56, 'ping(8) size');
  const rep = framesWhere(h1, (d) => d.icmp?.type === 0);
  t.same(rep.map((f) => f.d.icmp!.payload), req.map((f) => f.d.icmp!.payload), 'data echoed');
  clean(t, h1, a, c);
});

t.test('through a router: TTL decremented, gateway resolved by ARP', async (t) => {
  const { h1, h2, r, a, b } = routed(t);
  await Promise.all([a.start(), b.start()]);
  const res = await a.ping('10.0.2.2', { count: 2, intervalMs: 10 });
  t.equal(res.received, 2);
  t.same(res.probes.map((p) => p.ttl), [63, 63], 'reply TTL 64 - 1');
  t.same(framesWhere(h2, (d) => d.icmp?.type === 8).map((f) => f.d.ip4!.ttl), [63, 63], 'requests arrive with TTL 63');
  t.same(a.arpTable().map((e) => e.ip), ['10.0.1.254'], 'a resolved only its gateway');
  t.equal(a.gateway4, '10.0.1.254');
  t.equal(r.forwarded, 4);
  const g = await a.ping('10.0.1.254', { count: 1 });
  t.equal(g.probes[0]!.ttl, 64, 'the gateway itself answers');
  const custom = await a.ping('10.0.2.2', { count: 1, ttl: 10 });
  t.equal(custom.received, 1);
  t.equal(framesWhere(h2, (d) => d.icmp?.type === 8).at(-1)!.d.ip4!.ttl, 9, 'ttl option honoured');
  clean(t, [h1, h2], a, b);
});

t.test('TTL 1: time exceeded from the router, reported', async (t) => {
  const { h1, h2, a, b } = routed(t);
  const events: IcmpErrorReport[] = [];
  a.on('icmpError', (e) => events.push(e));
  const res = await a.ping('10.0.2.2', { count: 2, intervalMs: 10, ttl: 1 });
  t.equal(res.received, 0);
  t.same(res.probes.map((p) => [p.status, p.error, p.from]), [['error', 'ttl-exceeded', '10.0.1.254'], ['error', 'ttl-exceeded', '10.0.1.254']]);
  t.match(res.probes[0]!.message, /ttl-exceeded from 10\.0\.1\.254 \(ICMP type 11 code 0\)/);
  t.equal(events.length, 2);
  t.match(events[0], { from: '10.0.1.254', v6: false, type: 11, code: 0, reason: 'ttl-exceeded', original: { proto: 1, src: '10.0.1.1', dst: '10.0.2.2', ttl: 1, echoSeq: 0 } });
  t.equal(framesWhere(h2, (d) => d.icmp !== undefined).length, 0, 'nothing crossed');
  clean(t, [h1, h2], a, b);
});

t.test('net unreachable at the router; administratively prohibited', async (t) => {
  const { h1, r, a } = routed(t);
  const res = await a.ping('192.168.7.7', { count: 1 });
  t.same([res.probes[0]!.error, res.probes[0]!.from, res.probes[0]!.icmp?.type, res.probes[0]!.icmp?.code], ['net-unreachable', '10.0.1.254', 3, 0]);
  r.filter = (d) => (d.icmp ? 'reject' : undefined);
  const rej = await a.ping('10.0.2.2', { count: 1 });
  t.same([rej.probes[0]!.error, rej.probes[0]!.icmp?.code], ['admin-prohibited', 13]);
  clean(t, h1, a);
});

t.test('loss: a dropped reply is a lost probe', async (t) => {
  const { h1, a, c } = routed(t);
  let n = 0;
  h1.drop = (f) => f.d.icmp?.type === 0 && n++ === 1;
  const res = await a.ping('10.0.1.3', { count: 3, intervalMs: 10, timeoutMs: 1000 });
  t.same(res.probes.map((p) => p.status), ['ok', 'lost', 'ok']);
  t.match(res, { transmitted: 3, received: 2 });
  t.ok(Math.abs(res.lossPercent - 100 / 3) < 1e-9);
  clean(t, h1, a, c);
});

t.test('local failures: no route, no address, pinging oneself', async (t) => {
  const { h1, c } = routed(t);
  const res = await c.ping('10.0.2.2', { count: 1 });
  t.same([res.probes[0]!.status, res.probes[0]!.error], ['error', 'net-unreachable'], 'c has no gateway');
  const self = await c.ping('10.0.1.3', { count: 1 });
  t.equal(self.probes[0]!.status, 'ok', 'a VM answers its own address without the wire');
  t.equal(framesWhere(h1, (d) => d.icmp !== undefined).length, 0);
  const bare = h1.vm({ name: 'bare', mac: '0a:00:00:00:01:09' });
  t.teardown(() => bare.close());
  const none = await bare.ping('10.0.1.3', { count: 1 });
  t.equal(none.probes[0]!.error, 'no-address');
  clean(t, h1, c);
});

t.test('broadcast pings are not answered', async (t) => {
  const { h1, a, c } = routed(t);
  await a.ping('10.0.1.255', { count: 1, timeoutMs: 50 });
  await a.ping('255.255.255.255', { count: 1, timeoutMs: 50 });
  t.equal(framesWhere(h1, (d) => d.icmp?.type === 8 && d.eth?.dst === 'ff:ff:ff:ff:ff:ff').length, 2, 'sent to the broadcast MAC');
  t.equal(framesWhere(h1, (d) => d.icmp?.type === 0).length, 0, 'no replies');
  clean(t, h1, a, c);
});
