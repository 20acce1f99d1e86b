// ARP in the simulated VM: gratuitous ARP on start, resolution (request broadcast, reply
// unicast), learning from requests, retries and failure, cache expiry, bounded waiting, close().
import t, { type Test } from 'tap';
import { ARP_OP_REPLY, ARP_OP_REQUEST } from '@ovnts/switch';
import { NetError, type SimVm } from '../src/index.js';
import { Hub, clean, framesWhere, sleep, text, waitFor } from './vm-helpers.js';

function pair(t: Test, arp = {}): { hub: Hub; a: SimVm; b: SimVm } {
  const hub = new Hub();
  const a = hub.vm({ name: 'a', mac: '0a:00:00:00:00:01', ip4: '10.0.0.1/24', arp });
  const b = hub.vm({ name: 'b', mac: '0a:00:00:00:00:02', ip4: '10.0.0.2/24', arp });
  t.teardown(() => {
    a.close();
    b.close();
  });
  return { hub, a, b };
}

t.test('gratuitous ARP on start, then resolution and learning', async (t) => {
  const { hub, a, b } = pair(t);
  await a.start();
  await b.start();
  const garps = framesWhere(hub, (d) => d.arp?.op === ARP_OP_REQUEST && d.arp.spa === d.arp.tpa);
  t.same(garps.map((f) => [f.from, f.d.arp!.spa, f.d.eth!.dst]), [['a', '10.0.0.1', 'ff:ff:ff:ff:ff:ff'], ['b', '10.0.0.2', 'ff:ff:ff:ff:ff:ff']]);
  await sleep(5);
  t.same(a.arpTable(), [], 'a gratuitous ARP does not create entries');
  const r = await a.ping('10.0.0.2', { count: 1 });
  t.equal(r.received, 1);
  const req = framesWhere(hub, (d) => d.arp?.op === ARP_OP_REQUEST && d.arp.tpa === '10.0.0.2' && d.arp.spa === '10.0.0.1');
  t.equal(req.length, 1, 'one ARP request');
  t.equal(req[0]!.d.eth!.dst, 'ff:ff:ff:ff:ff:ff');
  t.equal(req[0]!.d.arp!.tha, '00:00:00:00:00:00');
  const rep = framesWhere(hub, (d) => d.arp?.op === ARP_OP_REPLY);
  t.same(rep.map((f) => [f.from, f.d.eth!.dst, f.d.arp!.sha, f.d.arp!.spa, f.d.arp!.tha, f.d.arp!.tpa]),
    [['b', '0a:00:00:00:00:01', '0a:00:00:00:00:02', '10.0.0.2', '0a:00:00:00:00:01', '10.0.0.1']], 'unicast reply');
  t.same(a.arpTable().map((e) => [e.ip, e.mac]), [['10.0.0.2', 0x0a0000000002]]);
  t.same(b.arpTable().map((e) => [e.ip, e.mac]), [['10.0.0.1', 0x0a0000000001]], 'b learned a from its request');
  // A second ping needs no ARP: b answers from its cache.
  await a.ping('10.0.0.2', { count: 1 });
  t.equal(framesWhere(hub, (d) => d.arp !== undefined && d.arp.spa !== d.arp.tpa).length, 2, 'no more ARP');
  clean(t, hub, a, b);
});

t.test('gratuitous ARP updates an existing entry', async (t) => {
  const { hub, a, b } = pair(t);
  await a.ping('10.0.0.2', { count: 1 });
  // b's address moves to another MAC, which announces itself.
  b.close();
  const b2 = hub.vm({ name: 'b2', mac: '0a:00:00:00:00:22', ip4: '10.0.0.2/24' });
  t.teardown(() => b2.close());
  await b2.start();
  await waitFor(() => a.arpTable()[0]?.mac === 0x0a0000000022);
  t.same(a.arpTable().map((e) => e.mac), [0x0a0000000022]);
  t.equal((await a.ping('10.0.0.2', { count: 1 })).received, 1);
  clean(t, hub, a, b2);
});

t.test('retries, then host unreachable', async (t) => {
  const { hub, a } = pair(t, { attempts: 3, retryMs: 30 });
  const r = await a.ping('10.0.0.99', { count: 1, timeoutMs: 1000 });
  t.equal(r.probes[0]!.status, 'error');
  t.equal(r.probes[0]!.error, 'host-unreachable');
  t.equal(framesWhere(hub, (d) => d.arp?.tpa === '10.0.0.99').length, 3, 'three requests');
  await t.rejects(a.sendUdp('10.0.0.99', 9, text('x')), { code: 'host-unreachable' });
  clean(t, hub, a);
});

t.test('entries expire', async (t) => {
  const { hub, a } = pair(t, { reachableMs: 60 });
  await a.ping('10.0.0.2', { count: 1 });
  t.equal(a.arpTable().length, 1);
  await sleep(80);
  t.equal(a.arpTable().length, 0, 'expired');
  await a.ping('10.0.0.2', { count: 1 });
  t.equal(framesWhere(hub, (d) => d.arp?.op === ARP_OP_REQUEST && d.arp.spa === '10.0.0.1' && d.arp.tpa === '10.0.0.2').length, 2, 'resolved again');
});

t.test('packets waiting for one resolution are bounded', async (t) => {
  const { a } = pair(t, { maxPending: 2, retryMs: 30, attempts: 1 });
  const sends = [1, 2, 3].map((i) => a.sendUdp('10.0.0.77', 9, text(String(i))).then(() => 'sent', (e: NetError) => e.code));
  t.same(await Promise.all(sends), ['host-unreachable', 'host-unreachable', 'no-buffer']);
});

t.test('close() clears every timer and fails what is pending', async (t) => {
  const { a, b } = pair(t, { retryMs: 10_000 });
  await a.start();
  const pending = a.sendUdp('10.0.0.55', 9, text('x'));
  const ping = a.ping('10.0.0.56', { count: 5, intervalMs: 10_000 });
  a.bind(7, () => undefined);
  a.listen(80, () => text('x'));
  t.ok(a.timers.pending > 0);
  a.close();
  b.close();
  t.equal(a.timers.pending, 0, 'no timers left');
  await t.rejects(pending, { code: 'closed' });
  const r = await ping;
  t.same(r.probes.map((p) => p.error), ['closed', 'closed', 'closed', 'closed', 'closed']);
  await t.rejects(a.sendUdp('10.0.0.2', 9, text('x')), NetError);
  a.receive(new Uint8Array(60));
  t.equal(a.timers.pending, 0, 'receiving after close schedules nothing');
});
