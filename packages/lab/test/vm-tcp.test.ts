// The simulated VM's small TCP: handshake, one request and one response, FINs, connection
// refused, reset, timeouts, ICMP errors, multi-segment transfers and retransmission over a lossy
// link (fast-check), through a router too.
import t from 'tap';
import fc from 'fast-check';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type DecodedPacket } from '@ovnts/switch';
import type { SimVm, TcpOptions } from '../src/index.js';
import { FakeRouter, Hub, clean, framesWhere, sleep, str, text, waitFor } from './vm-helpers.js';

const TCP: TcpOptions = { rtoMs: 20, timeWaitMs: 30 };

function lan(t: { teardown(fn: () => void): void }, tcp = TCP) {
  const hub = new Hub();
  const a = hub.vm({ name: 'a', mac: '0a:00:00:00:00:01', ip4: '10.0.0.1/24', tcp });
  const b = hub.vm({ name: 'b', mac: '0a:00:00:00:00:02', ip4: '10.0.0.2/24', tcp });
  t.teardown(() => {
    a.close();
    b.close();
  });
  return { hub, a, b };
}

async function drained(...vms: SimVm[]): Promise<boolean> {
  for (let i = 0; i < 100 && vms.some((v) => v.tcpConnections > 0); i++) await sleep(10);
  return vms.every((v) => v.tcpConnections === 0);
}

const flagNames = (f: number): string =>
  [[TCP_SYN, 'S'], [TCP_FIN, 'F'], [TCP_RST, 'R'], [TCP_PSH, 'P'], [TCP_ACK, '.']].filter(([b]) => f & (b as number)).map(([, n]) => n).join('');

t.test('request/response: handshake, data, FINs', async (t) => {
  // RFC 6298's initial RTO, and ARP done first: no spurious retransmission on a busy machine may
  // blur the exchange checked below.
  const { hub, a, b } = lan(t, { rtoMs: 1000, timeWaitMs: 30 });
  await a.ping('10.0.0.2', { count: 1 });
  b.listen(80, (req, info) => text(`HTTP/1.0 200 OK\r\n\r\nyou sent ${str(req)} from ${info.src}:${info.srcPort > 49151 ? 'eph' : info.srcPort}`));
  const res = await a.tcpRequest('10.0.0.2', 80, text('GET / HTTP/1.0\r\n\r\n'));
  t.equal(str(res), 'HTTP/1.0 200 OK\r\n\r\nyou sent GET / HTTP/1.0\r\n\r\n from 10.0.0.1:eph');
  t.ok(await drained(a, b), 'both sides closed and left TIME-WAIT');
  const segs = framesWhere(hub, (d) => d.tcp !== undefined).map((f) => `${f.from}:${flagNames(f.d.tcp!.flags)}${f.d.tcp!.payload.length ? `+${f.d.tcp!.payload.length}` : ''}`);
  t.same(segs.slice(0, 3), ['a:S', 'b:S.', 'a:.'], 'three-way handshake');
  t.ok(segs.includes('a:P.+18'), 'request with PSH');
  t.ok(segs.some((s) => /^b:FP\.\+\d+$/.test(s)), 'response with PSH and FIN');
  t.ok(segs.includes('a:F.'), 'client FIN');
  const syn = framesWhere(hub, (d) => d.tcp?.flags === TCP_SYN)[0]!;
  t.same([...syn.d.tcp!.options], [2, 4, 1460 >> 8, 1460 & 255], 'MSS option');
  clean(t, hub, a, b);
});

t.test('async handlers, empty bodies, several connections at once', async (t) => {
  const { hub, a, b } = lan(t);
  b.listen(8080, async (req) => {
    await sleep(5);
    return text(`<${str(req)}>`);
  });
  const all = await Promise.all(['x', 'yy', ''].map((s) => a.tcpRequest('10.0.0.2', 8080, text(s))));
  t.same(all.map(str), ['<x>', '<yy>', '<>']);
  b.listen(81, () => new Uint8Array(0));
  t.equal((await a.tcpRequest('10.0.0.2', 81, text('q'))).length, 0, 'empty response');
  t.ok(await drained(a, b));
  clean(t, hub, a, b);
});

t.test('connection refused; listener closed', async (t) => {
  const { hub, a, b } = lan(t);
  await t.rejects(a.tcpRequest('10.0.0.2', 81, text('x')), { code: 'refused' });
  const rst = framesWhere(hub, (d) => ((d.tcp?.flags ?? 0) & TCP_RST) !== 0);
  t.equal(rst.length, 1);
  t.equal(flagNames(rst[0]!.d.tcp!.flags), 'R.');
  const syn = framesWhere(hub, (d) => d.tcp?.flags === TCP_SYN)[0]!;
  t.equal(rst[0]!.d.tcp!.ack, (syn.d.tcp!.seq + 1) >>> 0, 'RST acknowledges the SYN');
  const l = b.listen(82, () => text('ok'));
  t.equal(str(await a.tcpRequest('10.0.0.2', 82, text('x'))), 'ok');
  l.close();
  await t.rejects(a.tcpRequest('10.0.0.2', 82, text('x')), { code: 'refused' });
  t.throws(() => { b.listen(83, () => text('')); b.listen(83, () => text('')); }, { code: 'address-in-use' });
  t.ok(await drained(a, b));
  clean(t, hub, a, b);
});

t.test('a handler that throws resets the connection', async (t) => {
  const { hub, a, b } = lan(t);
  b.listen(80, () => {
    throw new Error('boom');
  });
  await t.rejects(a.tcpRequest('10.0.0.2', 80, text('x')), { code: 'reset' });
  t.ok(await drained(a, b));
  clean(t, hub, a, b);
});

t.test('timeouts: no answer to SYN, no response', async (t) => {
  const { hub, a, b } = lan(t);
  hub.drop = (f) => f.from === 'a' && f.d.tcp?.dstPort === 80;
  await t.rejects(a.tcpRequest('10.0.0.2', 80, text('x'), { timeoutMs: 300 }), { code: 'timeout', message: /SYN/ });
  const syns = framesWhere(hub, (d) => d.tcp?.flags === TCP_SYN);
  t.ok(syns.length >= 2, `SYN retransmitted (${syns.length})`);
  hub.drop = undefined;
  b.listen(90, () => new Promise<Uint8Array>(() => undefined));
  await t.rejects(a.tcpRequest('10.0.0.2', 90, text('x'), { timeoutMs: 300 }), { code: 'timeout', message: /response/ });
  t.ok(framesWhere(hub, (d) => d.tcp?.dstPort === 90 && (d.tcp.flags & TCP_RST) !== 0).length === 1, 'the client resets the abandoned connection');
  t.ok(await drained(a, b));
  clean(t, hub, a, b);
});

t.test('large transfers over a lossy link (fast-check)', async (t) => {
  // Enough retries that a run of losses of one segment (and its ACKs) cannot abort a transfer.
  const { hub, a, b } = lan(t, { ...TCP, maxRetries: 12 });
  b.listen(80, (req) => req.slice().reverse());
  let rnd = 0;
  await fc.assert(fc.asyncProperty(
    fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.double({ min: 0, max: 0.2, noNaN: true }),
    async (size, seed, loss) => {
      rnd = seed;
      // A deterministic generator per run, so a failure replays.
      hub.drop = (f) => f.d.tcp !== undefined && ((rnd = (rnd * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) < loss;
      const req = new Uint8Array(size).map((_, i) => (i * 7 + seed) & 0xff);
      const res = await a.tcpRequest('10.0.0.2', 80, req, { timeoutMs: 20_000 });
      return Buffer.from(res).equals(Buffer.from(req.slice().reverse()));
    }), { numRuns: 12 });
  hub.drop = undefined;
  t.ok(await drained(a, b));
  const big = framesWhere(hub, (d) => (d.tcp?.payload.length ?? 0) > 0).map((f) => f.d.tcp!.payload.length);
  t.ok(Math.max(...big) <= 1460, 'no segment above the MSS');
  clean(t, hub, a, b);
});

t.test('through a router; ICMP errors abort the connection', async (t) => {
  const h1 = new Hub('h1');
  const h2 = new Hub('h2');
  const r = new FakeRouter([
    { hub: h1, mac: '0a:00:00:00:01:fe', ip: '10.0.1.254', plen: 24 },
    { hub: h2, mac: '0a:00:00:00:02:fe', ip: '10.0.2.254', plen: 24 },
  ]);
  const a = h1.vm({ name: 'a', mac: '0a:00:00:00:01:01', ip4: '10.0.1.1/24', gateway4: '10.0.1.254', tcp: TCP });
  const b = h2.vm({ name: 'b', mac: '0a:00:00:00:02:02', ip4: '10.0.2.2/24', gateway4: '10.0.2.254', tcp: TCP });
  t.teardown(() => {
    a.close();
    b.close();
  });
  b.listen(443, (req) => text(`${req.length} bytes`));
  t.equal(str(await a.tcpRequest('10.0.2.2', 443, new Uint8Array(5000))), '5000 bytes');
  t.ok(framesWhere(h2, (d) => d.tcp !== undefined && d.ip4!.src === '10.0.1.1').every((f) => f.d.ip4!.ttl === 63), 'TTL 63 behind the router');
  // Let the client's FIN through before the filter below would reject it.
  t.ok(await drained(a, b));
  r.filter = (d) => (d.tcp?.dstPort === 443 ? 'reject' : undefined);
  await t.rejects(a.tcpRequest('10.0.2.2', 443, text('x')), { code: 'admin-prohibited', icmp: { from: '10.0.1.254' } });
  r.filter = undefined;
  await t.rejects(a.tcpRequest('10.0.2.2', 443, text('x'), { ttl: 1 }), { code: 'ttl-exceeded' });
  await t.rejects(a.tcpRequest('10.0.9.9', 443, text('x')), { code: 'net-unreachable' });
  t.ok(await drained(a, b));
  clean(t, [h1, h2], a, b);
});

t.test('segments for no connection get a RST; a RST mid-connection resets', async (t) => {
  const { hub, a, b } = lan(t);
  // A stray ACK to a closed port: RST with seq = its ack, no ACK bit (RFC 9293 section 3.10.7.1).
  const { buildTcp4 } = await import('@ovnts/switch');
  b.receive(buildTcp4({ src: '0a:00:00:00:00:01', dst: '0a:00:00:00:00:02' }, { src: '10.0.0.1', dst: '10.0.0.2' },
    { srcPort: 1234, dstPort: 80, seq: 5, ack: 777, flags: TCP_ACK }));
  const isRst = (d: DecodedPacket): boolean => d.tcp !== undefined && (d.tcp.flags & TCP_RST) !== 0;
  // b resolves 10.0.0.1 by ARP first.
  await waitFor(() => framesWhere(hub, isRst).length > 0);
  const rst = framesWhere(hub, isRst);
  t.same(rst.map((f) => [f.from, flagNames(f.d.tcp!.flags), f.d.tcp!.seq]), [['b', 'R', 777]]);
  // The server resets while the client waits for the response.
  let hit = false;
  hub.drop = (f) => {
    if (!hit && f.from === 'b' && (f.d.tcp?.flags ?? 0) & TCP_FIN) {
      hit = true;
      const tcp = f.d.tcp!;
      b.sendIp('10.0.0.1', { proto: 'tcp', srcPort: tcp.srcPort, dstPort: tcp.dstPort, seq: tcp.seq, flags: TCP_RST }).catch(() => undefined);
      return true;
    }
    return false;
  };
  b.listen(80, () => text('never'));
  await t.rejects(a.tcpRequest('10.0.0.2', 80, text('x')), { code: 'reset' });
  clean(t, hub, a, b);
});
