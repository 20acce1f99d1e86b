// IPv6 in the simulated VM: unsolicited NAs on start, Neighbor Solicitation/Advertisement,
// ping6 (global and link-local), UDP and TCP over IPv6, ICMPv6 port unreachable, ND failure,
// duplicate address detection probes answered.
import t from 'tap';
import { ND_NEIGHBOR_ADVERT, ND_NEIGHBOR_SOLICIT, buildNeighborSolicitation } from '@ovnts/switch';
import { Hub, clean, framesWhere, sleep, str, text, waitFor } from './vm-helpers.js';

function lan(t: { teardown(fn: () => void): void }, nd = {}) {
  const hub = new Hub();
  const a = hub.vm({ name: 'a', mac: '0a:00:00:00:00:01', ip6: 'fd00::1/64', nd });
  const b = hub.vm({ name: 'b', mac: '0a:00:00:00:00:02', ip6: 'fd00::2/64', ip4: '10.0.0.2/24', nd });
  t.teardown(() => {
    a.close();
    b.close();
  });
  return { hub, a, b };
}

t.test('addresses and unsolicited NAs', async (t) => {
  const { hub, a, b } = lan(t);
  t.equal(a.ip6LinkLocal, 'fe80::800:ff:fe00:1');
  t.equal(a.ip6, 'fd00::1');
  await Promise.all([a.start(), b.start()]);
  const na = framesWhere(hub, (d) => d.icmp?.type === ND_NEIGHBOR_ADVERT && d.ip6?.dst === 'ff02::1');
  t.same(na.map((f) => [f.from, f.d.icmp!.ndTarget, f.d.eth!.dst, f.d.ip6!.hopLimit]), [
    ['a', 'fe80::800:ff:fe00:1', '33:33:00:00:00:01', 255], ['a', 'fd00::1', '33:33:00:00:00:01', 255],
    ['b', 'fe80::800:ff:fe00:2', '33:33:00:00:00:01', 255], ['b', 'fd00::2', '33:33:00:00:00:01', 255],
  ]);
  t.ok(na.every((f) => (f.d.icmp!.rest & 0x40000000) === 0), 'not solicited');
  await sleep(5);
  t.same(a.ndTable(), [], 'unsolicited NAs create no entries');
  clean(t, hub, a, b);
});

t.test('ND resolution and ping6', async (t) => {
  const { hub, a, b } = lan(t);
  const r = await a.ping('fd00::2', { count: 2, intervalMs: 10 });
  t.match(r, { received: 2, dst: 'fd00::2' });
  t.same(r.probes.map((p) => [p.ttl, p.from]), [[64, 'fd00::2'], [64, 'fd00::2']]);
  const ns = framesWhere(hub, (d) => d.icmp?.type === ND_NEIGHBOR_SOLICIT);
  t.equal(ns.length, 1, 'one solicitation');
  t.match(ns[0]!.d, { eth: { dst: '33:33:ff:00:00:02' }, ip6: { src: 'fd00::1', dst: 'ff02::1:ff00:2', hopLimit: 255 }, icmp: { ndTarget: 'fd00::2', sll: '0a:00:00:00:00:01' } });
  const na = framesWhere(hub, (d) => d.icmp?.type === ND_NEIGHBOR_ADVERT && d.ip6?.dst !== 'ff02::1');
  t.equal(na.length, 1);
  t.match(na[0]!.d, { eth: { dst: '0a:00:00:00:00:01' }, ip6: { src: 'fd00::2', dst: 'fd00::1' }, icmp: { ndTarget: 'fd00::2', tll: '0a:00:00:00:00:02' } });
  t.equal((na[0]!.d.icmp!.rest >>> 29) & 3, 3, 'solicited and override');
  t.same(a.ndTable().map((e) => [e.ip, e.mac]), [['fd00::2', 0x0a0000000002]]);
  t.same(b.ndTable().map((e) => [e.ip, e.mac]), [['fd00::1', 0x0a0000000001]], 'learned from the solicitation');
  const ll = await a.ping(b.ip6LinkLocal, { count: 1 });
  t.equal(ll.received, 1, 'link-local ping');
  t.equal(framesWhere(hub, (d) => d.icmp?.type === 128 && d.ip6?.dst === b.ip6LinkLocal)[0]!.d.ip6!.src, a.ip6LinkLocal, 'from the link-local address');
  const hops = await a.ping('fd00::2', { count: 1, ttl: 7 });
  t.equal(hops.received, 1);
  t.equal(framesWhere(hub, (d) => d.icmp?.type === 128).at(-1)!.d.ip6!.hopLimit, 7);
  clean(t, hub, a, b);
});

t.test('UDP and TCP over IPv6; ICMPv6 port unreachable', async (t) => {
  const { hub, a, b } = lan(t);
  b.bind(7, (m) => void m.reply(m.payload));
  const r = await a.udpRequest('fd00::2', 7, text('six'));
  t.same([str(r.payload), r.src, r.v6], ['six', 'fd00::2', true]);
  await t.rejects(a.udpRequest('fd00::2', 8, text('x')), { code: 'port-unreachable', icmp: { v6: true, type: 1, code: 4, from: 'fd00::2', original: { dstPort: 8 } } });
  b.listen(80, (req, info) => text(`${str(req)} from ${info.src} v6=${info.v6}`));
  t.equal(str(await a.tcpRequest('fd00::2', 80, text('hi'))), 'hi from fd00::1 v6=true');
  const syn = framesWhere(hub, (d) => d.tcp?.flags === 2)[0]!;
  t.same([...syn.d.tcp!.options], [2, 4, 1440 >> 8, 1440 & 255], 'IPv6 MSS = MTU - 60');
  await t.rejects(a.tcpRequest('fd00::2', 81, text('x')), { code: 'refused' });
  clean(t, hub, a, b);
});

t.test('no neighbour, no route', async (t) => {
  const { hub, a } = lan(t, { attempts: 2, retryMs: 20 });
  const r = await a.ping('fd00::99', { count: 1 });
  t.same([r.probes[0]!.status, r.probes[0]!.error], ['error', 'host-unreachable']);
  t.equal(framesWhere(hub, (d) => d.icmp?.ndTarget === 'fd00::99').length, 2, 'two solicitations');
  const off = await a.ping('2001:db8::1', { count: 1 });
  t.equal(off.probes[0]!.error, 'net-unreachable', 'no IPv6 gateway');
  clean(t, hub, a);
});

t.test('through an IPv6 gateway (a VM standing in for the router)', async (t) => {
  const hub = new Hub();
  const gw = hub.vm({ name: 'gw', mac: '0a:00:00:00:00:fe', ip6: 'fd00::fe/64' });
  const a = hub.vm({ name: 'a', mac: '0a:00:00:00:00:01', ip6: 'fd00::1/64', gateway6: 'fe80::800:ff:fe00:fe' });
  t.teardown(() => {
    a.close();
    gw.close();
  });
  // The gateway does not forward: the point is that the off-link packet goes to its MAC.
  void a.sendUdp('2001:db8::5', 9, text('x')).catch(() => undefined);
  await waitFor(() => framesWhere(hub, (d) => d.udp?.dstPort === 9).length > 0);
  const sent = framesWhere(hub, (d) => d.udp?.dstPort === 9);
  t.same(sent.map((f) => [f.d.eth!.dst, f.d.ip6!.src, f.d.ip6!.dst]), [['0a:00:00:00:00:fe', 'fd00::1', '2001:db8::5']]);
  clean(t, hub, a, gw);
});

t.test('duplicate address detection probes are answered to all nodes', async (t) => {
  const { hub, a, b } = lan(t);
  b.receive(buildNeighborSolicitation({ ethSrc: '0a:00:00:00:00:09', ipSrc: '::', target: 'fd00::2' }));
  await waitFor(() => b.stats.txFrames > 0);
  const na = framesWhere(hub, (d, f) => d.icmp?.type === ND_NEIGHBOR_ADVERT && f.from === 'b' && d.ip6?.dst === 'ff02::1' && d.icmp.ndTarget === 'fd00::2');
  t.equal(na.length, 1);
  t.match(na[0]!.d, { eth: { dst: '33:33:00:00:00:01' }, ip6: { src: 'fd00::2', dst: 'ff02::1' }, icmp: { ndTarget: 'fd00::2' } });
  t.equal((na[0]!.d.icmp!.rest >>> 30) & 1, 0, 'not solicited');
  t.same(b.ndTable(), [], 'nothing learned from ::');
  clean(t, hub, a, b);
});
