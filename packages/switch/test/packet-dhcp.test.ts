// DHCPv4 codec: a hand-assembled DISCOVER (RFC 2131/2132 layouts), RFC 3442 route encodings,
// RFC 3396 long options, option overload, malformed input, OVN's put_dhcp_opts names, and a
// fast-check round trip of whole messages.
import t from 'tap';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import {
  buildUdp4, decodeDhcp, decodeClasslessRoutes, decodePacket, dhcpOptionsFromOvn, encodeClasslessRoutes, encodeDhcp,
  verifyChecksums, BOOTP_REPLY, BOOTP_REQUEST, DHCPACK, DHCPDISCOVER, DHCP_MAGIC_COOKIE, type DhcpMessage, type DhcpOptions,
  type DhcpRawOption,
} from '../src/packet/index.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// op htype hlen hops | xid | secs flags | ciaddr yiaddr siaddr giaddr | chaddr (16) | sname (64) |
// file (128) | cookie | 53=1 (DISCOVER), 55=[1,3,6], 12="vm1", end; zero padding to 300 bytes.
const DISCOVER = hex(
  '01 01 06 00  12345678  0003 8000  00000000 00000000 00000000 00000000' +
  '0a0000000001 00000000000000000000' + '00'.repeat(64) + '00'.repeat(128) +
  '63825363  3501 01  3703 010306  0c03 766d31  ff' + '00'.repeat(300 - 240 - 14),
);

t.test('hand-assembled DISCOVER', async (t) => {
  t.equal(DISCOVER.length, 300);
  const m = decodeDhcp(DISCOVER);
  t.ok(m);
  if (!m) return;
  t.match(m, {
    op: BOOTP_REQUEST, htype: 1, hlen: 6, hops: 0, xid: 0x12345678, secs: 3, flags: 0x8000, broadcast: true,
    ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', chaddr: '0a:00:00:00:00:01', sname: '', file: '',
  });
  t.same(m.options, { messageType: DHCPDISCOVER, parameterRequestList: [1, 3, 6], hostname: 'vm1' });
  const again = encodeDhcp({
    op: BOOTP_REQUEST, xid: 0x12345678, secs: 3, broadcast: true, chaddr: '0a:00:00:00:00:01',
    options: { messageType: DHCPDISCOVER, hostname: 'vm1', parameterRequestList: [1, 3, 6] },
  });
  // Our option order is message type, …, hostname, …, parameter list.
  t.equal(toHex(again.subarray(236, 254)), '63825363' + '350101' + '0c03766d31' + '3703010306' + 'ff');
  t.same(decodeDhcp(again), m, 'same message either way');
});

t.test('inside a UDP frame', async (t) => {
  const payload = encodeDhcp({
    op: BOOTP_REPLY, xid: 7, chaddr: '0a:00:00:00:00:01', yiaddr: '10.0.0.5', siaddr: '10.0.0.1',
    options: { messageType: DHCPACK, serverId: '10.0.0.1', leaseTime: 3600, subnetMask: '255.255.255.0', routers: ['10.0.0.1'] },
  });
  const f = buildUdp4({ src: '0a:00:00:00:00:fe', dst: '0a:00:00:00:00:01' }, { src: '10.0.0.1', dst: '10.0.0.5' }, { srcPort: 67, dstPort: 68, payload });
  t.same(verifyChecksums(f), { ip4: true, l4: true });
  const d = decodePacket(f);
  const m = d.udp && decodeDhcp(d.udp.payload);
  t.equal(m?.yiaddr, '10.0.0.5');
  t.equal(m?.options.leaseTime, 3600);
});

t.test('RFC 3442 classless static routes', async (t) => {
  const routes = [
    { prefix: '0.0.0.0', plen: 0, gateway: '10.0.0.1' },
    { prefix: '10.0.0.0', plen: 8, gateway: '10.0.0.2' },
    { prefix: '10.17.0.0', plen: 16, gateway: '10.0.0.3' },
    { prefix: '10.27.129.0', plen: 24, gateway: '10.0.0.4' },
    { prefix: '10.229.0.128', plen: 25, gateway: '10.0.0.5' },
    { prefix: '10.198.122.47', plen: 32, gateway: '0.0.0.0' },
  ];
  const b = encodeClasslessRoutes(routes);
  // The table in RFC 3442 section 5: width, significant octets, router.
  t.equal(toHex(b), [
    '00' + '0a000001', '080a' + '0a000002', '100a11' + '0a000003', '180a1b81' + '0a000004',
    '190ae50080' + '0a000005', '200ac67a2f' + '00000000',
  ].join(''));
  t.same(decodeClasslessRoutes(b), routes);
  t.equal(decodeClasslessRoutes(hex('18 0a 1b')), undefined, 'truncated');
  t.equal(decodeClasslessRoutes(hex('21 0a0a0a0a 0a000001')), undefined, 'width > 32');
  t.throws(() => encodeClasslessRoutes([{ prefix: '1.2.3.4', plen: 33, gateway: '0.0.0.0' }]));
});

t.test('RFC 3396 long options are split and joined', async (t) => {
  const hostname = 'h'.repeat(300);
  const b = encodeDhcp({ op: 1, xid: 1, chaddr: 1, options: { hostname } });
  t.equal(toHex(b.subarray(240, 242)), '0cff', 'first part 255 bytes');
  t.equal(toHex(b.subarray(240 + 257, 240 + 259)), '0c2d', 'second part 45 bytes');
  t.equal(decodeDhcp(b)?.options.hostname, hostname);
});

t.test('option overload (52) moves options into file and sname', async (t) => {
  t.throws(() => encodeDhcp({ op: 2, xid: 9, chaddr: 2, options: { extra: [{ code: 52, data: Uint8Array.of(3) }] } }), /52/);
  const b = encodeDhcp({ op: 2, xid: 9, chaddr: 2, options: { messageType: DHCPACK } });
  // Splice in "52 = 3" before END, then put options in file (lease time) and sname (hostname).
  const end = b.indexOf(255, 240);
  b.set([52, 1, 3, 255], end);
  b.set([51, 4, 0, 0, 0x0e, 0x10, 255], 108);
  b.set([12, 2, 0x61, 0x62, 255], 44);
  const m = decodeDhcp(b);
  t.same(m?.options, { messageType: DHCPACK, leaseTime: 3600, hostname: 'ab' });
  t.equal(m?.file, '');
  t.equal(m?.sname, '');
});

t.test('malformed input', async (t) => {
  const good = encodeDhcp({ op: 1, xid: 1, chaddr: 1, options: { messageType: 1 } });
  t.equal(decodeDhcp(good.subarray(0, 239)), undefined, 'shorter than header + cookie');
  const badCookie = good.slice();
  badCookie[236] = 0;
  t.equal(decodeDhcp(badCookie), undefined, 'bad magic cookie');
  const overrun = good.slice(0, 244);
  overrun.set([12, 9], 240);
  t.equal(decodeDhcp(overrun), undefined, 'option overruns the message');
  const wrongSize = good.slice();
  wrongSize.set([51, 2, 1, 2, 255], 243);
  t.same(decodeDhcp(wrongSize)?.options, { messageType: 1, extra: [{ code: 51, data: Uint8Array.of(1, 2) }] }, 'wrong-size typed option kept raw');
  const noEnd = good.slice(0, 243);
  t.same(decodeDhcp(noEnd)?.options, { messageType: 1 }, 'missing END tolerated');
  t.equal(new DataView(good.buffer).getUint32(236), DHCP_MAGIC_COOKIE);
  t.throws(() => encodeDhcp({ op: 1, xid: 1, chaddr: 1, sname: 's'.repeat(64) }), /sname/);
});

t.test('OVN put_dhcp_opts names', async (t) => {
  const r = dhcpOptionsFromOvn({
    offerip: '10.0.0.5', router: '10.0.0.1', netmask: '255.255.255.0', server_id: '10.0.0.1', lease_time: '3600',
    dns_server: '{8.8.8.8, 1.1.1.1}', domain_name: '"ovn.org"', hostname: '"vm 1"', mtu: '1442', T1: '1800', T2: '3150',
    broadcast_address: '10.0.0.255', classless_static_route: '{30.0.0.0/24,10.0.0.10, 0.0.0.0/0,10.0.0.1}',
    ip_forward_enable: '1', default_ttl: '64', domain_search_list: '"ovn.org,abc.ovn.org"', tftp_server: '"10.0.0.9"',
    bootfile_name: '"pxe.0"', ntp_server: ['1.2.3.4', '5.6.7.8'], wpad: '"http://wpad/x y"',
  });
  t.equal(r.offerIp, '10.0.0.5');
  const o = r.options;
  t.match(o, {
    routers: ['10.0.0.1'], subnetMask: '255.255.255.0', serverId: '10.0.0.1', leaseTime: 3600, dnsServers: ['8.8.8.8', '1.1.1.1'],
    domainName: 'ovn.org', hostname: 'vm 1', mtu: 1442, renewalTime: 1800, rebindingTime: 3150, broadcastAddress: '10.0.0.255',
    classlessStaticRoutes: [{ prefix: '30.0.0.0', plen: 24, gateway: '10.0.0.10' }, { prefix: '0.0.0.0', plen: 0, gateway: '10.0.0.1' }],
  });
  const extra = new Map((o.extra ?? []).map((x) => [x.code, toHex(x.data)]));
  t.equal(extra.get(19), '01');
  t.equal(extra.get(23), '40');
  t.equal(extra.get(119), toHex(Uint8Array.from([3, ...Buffer.from('ovn'), 3, ...Buffer.from('org'), 0, 3, ...Buffer.from('abc'), 3, ...Buffer.from('ovn'), 3, ...Buffer.from('org'), 0])));
  t.equal(extra.get(66), '0a000009', 'host_id address as 4 bytes');
  t.equal(extra.get(67), toHex(Buffer.from('pxe.0')));
  t.equal(extra.get(42), '0102030405060708');
  t.equal(extra.get(252), toHex(Buffer.from('http://wpad/x y')));
  t.equal(toHex(dhcpOptionsFromOvn({ tftp_server: 'tftp.example' }).options.extra![0]!.data), toHex(Buffer.from('tftp.example')));
  // As the lflow trace test passes them (pre-split lists, quoted strings).
  t.same(dhcpOptionsFromOvn({ offerip: '10.0.0.5', router: '10.0.0.1', dns_server: ['8.8.8.8', '1.1.1.1'], lease_time: '3600', hostname: '"x"' }), {
    offerIp: '10.0.0.5', options: { routers: ['10.0.0.1'], dnsServers: ['8.8.8.8', '1.1.1.1'], leaseTime: 3600, hostname: 'x' },
  });
  // The options encode into a message that decodes to the same options.
  const msg = decodeDhcp(encodeDhcp({ op: 2, xid: 1, chaddr: 1, yiaddr: r.offerIp!, options: { messageType: DHCPACK, ...o } }));
  t.same(msg?.options, { messageType: DHCPACK, ...o });
  t.throws(() => dhcpOptionsFromOvn({ nonsense: '1' }), /unknown DHCP option/);
  t.throws(() => dhcpOptionsFromOvn({ mtu: '70000' }), /mtu/);
  t.throws(() => dhcpOptionsFromOvn({ lease_time: 'x' }), /lease_time/);
  t.throws(() => dhcpOptionsFromOvn({ classless_static_route: '{10.0.0.0/8}' }), /pairs/);
  t.throws(() => dhcpOptionsFromOvn({ router: '10.0.0.300' }));
});

// ---------- round trip ----------

const ip4 = fc.integer({ min: 0, max: 0xffffffff }).map((v) => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`);
const mac = fc.integer({ min: 0, max: 2 ** 48 - 1 }).map((v) => v.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:'));
const u8 = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const text = (max: number): fc.Arbitrary<string> => fc.string({ maxLength: max });
const bytes = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });
const route = fc.record({ prefix: ip4, plen: fc.integer({ min: 0, max: 32 }), gateway: ip4 }).map((r) => {
  // Only the significant octets travel: zero the rest so the decoded prefix is the same.
  const n = Math.ceil(r.plen / 8);
  const parts = r.prefix.split('.').map((p, i) => (i < n ? p : '0'));
  return { ...r, prefix: parts.join('.') };
});
const TYPED = new Set([1, 3, 6, 12, 15, 26, 28, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 61, 121]);
const extra: fc.Arbitrary<DhcpRawOption[]> = fc.uniqueArray(
  fc.record({ code: fc.integer({ min: 1, max: 254 }).filter((c) => !TYPED.has(c)), data: bytes(300) }),
  { selector: (x) => x.code, maxLength: 4 },
);
const options: fc.Arbitrary<DhcpOptions> = fc.record({
  messageType: u8, subnetMask: ip4, routers: fc.array(ip4, { maxLength: 3 }), dnsServers: fc.array(ip4, { maxLength: 70 }),
  hostname: text(300), domainName: text(40), mtu: u16, broadcastAddress: ip4, requestedIp: ip4, leaseTime: u32, serverId: ip4,
  parameterRequestList: fc.array(u8, { maxLength: 300 }), message: text(20), maxMessageSize: u16, renewalTime: u32,
  rebindingTime: u32, clientId: bytes(20), classlessStaticRoutes: fc.array(route, { maxLength: 40 }),
  extra: extra.filter((x) => x.length > 0),
}, { requiredKeys: [] });
const noNul = (max: number): fc.Arbitrary<string> => fc.string({ maxLength: max, unit: fc.constantFrom(...'abcxyz./-_019') });
const message: fc.Arbitrary<DhcpMessage> = fc.record({
  op: fc.constantFrom(1, 2), htype: u8, hlen: u8, hops: u8, xid: u32, secs: u16, flags: u16, ciaddr: ip4, yiaddr: ip4,
  siaddr: ip4, giaddr: ip4, chaddr: mac, sname: noNul(63), file: noNul(127), options,
}).map((m) => ({ ...m, broadcast: (m.flags & 0x8000) !== 0 }));

t.test('encode → decode round trip (fast-check)', async (t) => {
  fc.assert(fc.property(message, (m) => {
    const b = encodeDhcp(m);
    return b.length >= 300 && isDeepStrictEqual(normal(decodeDhcp(b)), normal(m));
  }), { numRuns: 300 });
  t.pass('round trip holds');
});

/** Uint8Arrays → plain arrays, so decoded (sliced) and generated byte strings compare equal. */
function normal(x: unknown): unknown {
  if (x instanceof Uint8Array) return [...x];
  if (Array.isArray(x)) return x.map(normal);
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, normal(v)]));
  return x;
}
