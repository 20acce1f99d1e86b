// UDP in the simulated VM: echo on one subnet and through a router (fast-check over payloads),
// port unreachable for closed ports (and none for broadcasts), ICMP reasons for failed requests,
// timeouts, binding rules.
import t from 'tap';
import fc from 'fast-check';
import { NetError, type UdpMessage } from '../src/index.js';
import { FakeRouter, Hub, clean, framesWhere, str, text, waitFor } from './vm-helpers.js';

function lan(t: { teardown(fn: () => void): void }) {
  const hub = new Hub();
  const a = hub.vm({ name: 'a', mac: '0a:00:00:00:00:01', ip4: '10.0.0.1/24' });
  const b = hub.vm({ name: 'b', mac: '0a:00:00:00:00:02', ip4: '10.0.0.2/24' });
  t.teardown(() => {
    a.close();
    b.close();
  });
  return { hub, a, b };
}

t.test('echo: request/reply, ports and TTL', async (t) => {
  const { hub, a, b } = lan(t);
  const seen: UdpMessage[] = [];
  b.bind(7, (m) => {
    seen.push(m);
    void m.reply(m.payload);
  });
  const r = await a.udpRequest('10.0.0.2', 7, text('hello'));
  t.equal(str(r.payload), 'hello');
  t.match(r, { src: '10.0.0.2', srcPort: 7, dst: '10.0.0.1', ttl: 64, v6: false });
  t.equal(seen.length, 1);
  t.match(seen[0], { src: '10.0.0.1', dst: '10.0.0.2', dstPort: 7, ttl: 64 });
  t.equal(r.dstPort, seen[0]!.srcPort, 'reply to the ephemeral port');
  t.ok(seen[0]!.srcPort >= 49152, 'ephemeral port in the dynamic range');
  clean(t, hub, a, b);
});

t.test('echo of arbitrary payloads (fast-check)', async (t) => {
  const { hub, a, b } = lan(t);
  b.bind(7, (m) => void m.reply(m.payload));
  await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 1472 }), async (p) => {
    const r = await a.udpRequest('10.0.0.2', 7, p);
    return Buffer.from(r.payload).equals(Buffer.from(p));
  }), { numRuns: 50 });
  await t.rejects(a.sendUdp('10.0.0.2', 7, new Uint8Array(1473)), { code: 'message-too-long' }, 'larger than the MTU');
  clean(t, hub, a, b);
});

t.test('closed port: ICMP port unreachable, reported with its origin', async (t) => {
  const { hub, a, b } = lan(t);
  const err = await a.udpRequest('10.0.0.2', 9999, text('x')).then(() => undefined, (e: NetError) => e);
  t.ok(err instanceof NetError);
  t.equal(err?.code, 'port-unreachable');
  t.match(err?.icmp, { from: '10.0.0.2', type: 3, code: 3, original: { proto: 17, src: '10.0.0.1', dst: '10.0.0.2', dstPort: 9999 } });
  const icmp = framesWhere(hub, (d) => d.icmp?.type === 3);
  t.equal(icmp.length, 1);
  t.equal(icmp[0]!.d.icmp!.payload.length, 28, 'quotes IP header + 8 bytes');
  // A datagram to the broadcast address gets no error (RFC 1122 section 3.2.2).
  await a.sendUdp('255.255.255.255', 9999, text('x'));
  await a.sendUdp('10.0.0.255', 9999, text('x'));
  await waitFor(() => b.stats.rxFrames >= 4 && b.timers.pending === 0, 500);
  t.equal(framesWhere(hub, (d) => d.icmp?.type === 3).length, 1, 'no error for broadcasts');
  clean(t, hub, a, b);
});

t.test('broadcast datagrams reach a bound port', async (t) => {
  const { hub, a, b } = lan(t);
  const got: UdpMessage[] = [];
  b.bind(5000, (m) => got.push(m));
  await a.sendUdp('255.255.255.255', 5000, text('all'), { srcPort: 5001 });
  await a.sendUdp('10.0.0.255', 5000, text('subnet'), { srcPort: 5001 });
  await waitFor(() => got.length === 2);
  t.same(got.map((m) => [str(m.payload), m.dst, m.srcPort]), [['all', '255.255.255.255', 5001], ['subnet', '10.0.0.255', 5001]]);
  clean(t, hub, a, b);
});

t.test('timeout, binding rules', async (t) => {
  const { a, b } = lan(t);
  b.bind(7, () => undefined);
  await t.rejects(a.udpRequest('10.0.0.2', 7, text('x'), { timeoutMs: 30 }), { code: 'timeout' });
  t.throws(() => b.bind(7, () => undefined), { code: 'address-in-use' });
  const s = b.bind(0, () => undefined);
  t.ok(s.port >= 49152);
  s.close();
  b.bind(s.port, () => undefined);
  t.pass('a closed port can be bound again');
});

t.test('through a router: TTL 63, and administratively prohibited', async (t) => {
  const h1 = new Hub('h1');
  const h2 = new Hub('h2');
  const r = new FakeRouter([
    { hub: h1, mac: '0a:00:00:00:01:fe', ip: '10.0.1.254', plen: 24 },
    { hub: h2, mac: '0a:00:00:00:02:fe', ip: '10.0.2.254', plen: 24 },
  ]);
  const a = h1.vm({ name: 'a', mac: '0a:00:00:00:01:01', ip4: '10.0.1.1/24', gateway4: '10.0.1.254' });
  const b = h2.vm({ name: 'b', mac: '0a:00:00:00:02:02', ip4: '10.0.2.2/24', gateway4: '10.0.2.254' });
  t.teardown(() => {
    a.close();
    b.close();
  });
  let ttlAtB = 0;
  b.bind(7, (m) => {
    ttlAtB = m.ttl;
    void m.reply(m.payload);
  });
  const reply = await a.udpRequest('10.0.2.2', 7, text('via router'));
  t.equal(str(reply.payload), 'via router');
  t.same([ttlAtB, reply.ttl], [63, 63]);
  r.filter = (d) => (d.udp?.dstPort === 7 ? 'reject' : undefined);
  await t.rejects(a.udpRequest('10.0.2.2', 7, text('x')), { code: 'admin-prohibited', icmp: { from: '10.0.1.254', code: 13 } });
  r.filter = (d) => (d.udp?.dstPort === 7 ? 'drop' : undefined);
  await t.rejects(a.udpRequest('10.0.2.2', 7, text('x'), { timeoutMs: 40 }), { code: 'timeout' });
  await t.rejects(a.udpRequest('10.0.2.2', 7, text('x'), { ttl: 1 }), { code: 'ttl-exceeded' });
  clean(t, [h1, h2], a, b);
});
