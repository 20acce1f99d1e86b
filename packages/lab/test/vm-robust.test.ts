// Robustness: frames that are truncated, corrupted or random must never throw inside the VM,
// and whatever it sends in answer must still be a valid frame (fast-check).
import t from 'tap';
import fc from 'fast-check';
import {
  ARP_OP_REQUEST, BOOTP_REPLY, DHCPOFFER, TCP_SYN, buildArp, buildIcmp4Echo, buildIcmp6Echo, buildNeighborSolicitation, buildTcp4,
  buildUdp4, buildUdp6, encodeDhcp,
} from '@ovnts/switch';
import { Hub, sleep } from './vm-helpers.js';

const VM_MAC = '0a:00:00:00:00:02';
const PEER = '0a:00:00:00:00:01';
const eth = { src: PEER, dst: VM_MAC };
const SEEDS: Uint8Array[] = [
  buildArp(ARP_OP_REQUEST, PEER, '10.0.0.1', 0, '10.0.0.2'),
  buildIcmp4Echo(eth, { src: '10.0.0.1', dst: '10.0.0.2' }, { id: 1, seq: 1, data: new Uint8Array(16) }),
  buildUdp4(eth, { src: '10.0.0.1', dst: '10.0.0.2' }, { srcPort: 1000, dstPort: 7, payload: new Uint8Array(8) }),
  buildUdp4(eth, { src: '10.0.0.1', dst: '10.0.0.2' }, { srcPort: 1000, dstPort: 9, payload: new Uint8Array(8) }),
  buildTcp4(eth, { src: '10.0.0.1', dst: '10.0.0.2' }, { srcPort: 1000, dstPort: 80, seq: 1, flags: TCP_SYN }),
  buildNeighborSolicitation({ ethSrc: PEER, ipSrc: 'fd00::1', target: 'fd00::2' }),
  buildIcmp6Echo(eth, { src: 'fd00::1', dst: 'fd00::2' }, { id: 1, seq: 1 }),
  buildUdp6(eth, { src: 'fd00::1', dst: 'fd00::2' }, { srcPort: 1000, dstPort: 9 }),
  buildUdp4(eth, { src: '10.0.0.254', dst: '255.255.255.255' }, {
    srcPort: 67, dstPort: 68, payload: encodeDhcp({ op: BOOTP_REPLY, xid: 1, chaddr: VM_MAC, yiaddr: '10.0.0.9', options: { messageType: DHCPOFFER, serverId: '10.0.0.254' } }),
  }),
];

/** A seed frame with some bytes overwritten and maybe truncated; MACs kept so the VM looks at it. */
const mutated = fc.record({
  seed: fc.integer({ min: 0, max: SEEDS.length - 1 }),
  edits: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }),
  cut: fc.option(fc.nat(), { nil: undefined }),
}).map(({ seed, edits, cut }) => {
  const f = SEEDS[seed]!.slice();
  for (const e of edits) f[12 + (e.at % (f.length - 12))] = e.value;
  return cut === undefined ? f : f.subarray(0, cut % (f.length + 1));
});
const random = fc.uint8Array({ minLength: 0, maxLength: 200 }).map((b) => {
  const f = new Uint8Array(Math.max(b.length, 14));
  f.set(b);
  f.set(Buffer.from(VM_MAC.replace(/:/g, ''), 'hex'), 0);
  return f;
});

t.test('corrupted and random frames', async (t) => {
  const hub = new Hub();
  const vm = hub.vm({ name: 'vm', mac: VM_MAC, ip4: '10.0.0.2/24', ip6: 'fd00::2/64', dhcp: false, arp: { retryMs: 5, attempts: 1 } });
  vm.bind(7, (m) => void m.reply(m.payload));
  vm.listen(80, (r) => r);
  const peer = hub.attach('peer', () => undefined);
  t.teardown(() => vm.close());
  await fc.assert(fc.asyncProperty(fc.array(fc.oneof(mutated, random), { minLength: 1, maxLength: 20 }), async (frames) => {
    for (const f of frames) peer(f);
    await sleep(1);
    return vm.stats.rxErrors === 0;
  }), { numRuns: 150 });
  await sleep(20);
  t.ok(vm.stats.rxBadChecksum > 0, 'corruption was noticed');
  t.ok(vm.stats.txFrames > 0, 'and valid frames were answered');
  t.same(hub.invalid.filter((s) => s.startsWith('vm:')), [], 'everything the VM sent is valid');
  t.equal(vm.stats.rxErrors, 0);
});

t.test('a flood beyond the receive queue is dropped, not queued', async (t) => {
  const hub = new Hub();
  const vm = hub.vm({ name: 'vm', mac: VM_MAC, ip4: '10.0.0.2/24', rxQueueLimit: 10 });
  t.teardown(() => vm.close());
  for (let i = 0; i < 25; i++) vm.receive(SEEDS[1]!);
  t.equal(vm.stats.rxDropped, 15);
  await sleep(5);
  t.equal(vm.stats.rxFrames, 25);
});
