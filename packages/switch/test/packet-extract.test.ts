// Extraction rules on hand-made edge cases (truncation, padding, 802.3/SNAP, tags, fragments,
// extension headers, malformed ND) and the builders the controller and VMs use.
import t from 'tap';
import { field, getBits, newKey, type FlowKey } from '../src/fields.js';
import {
  buildArp, buildEthernet, buildIcmp4Echo, buildIcmp4Error, buildIcmp6Error, buildIp4Frame, buildIp6Frame,
  buildNeighborAdvertisement, buildNeighborSolicitation, buildTcp4, buildUdp4, buildUdp6, commitKey, decodePacket,
  extractKey, IP6_MAX_EXT_HEADERS, PacketLayout, verifyChecksums, TCP_SYN,
} from '../src/packet/index.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const get = (k: FlowKey, name: string): bigint => getBits(k, field(name));
const ETH = { src: '00:00:00:00:00:01', dst: '00:00:00:00:00:02' };
const IP4 = { src: '10.0.0.1', dst: '10.0.0.2' };
const IP6 = { src: 'fd00::1', dst: 'fd00::2' };

function key(frame: Uint8Array): FlowKey {
  const k = newKey();
  extractKey(frame, k, 5);
  return k;
}

t.test('runts and non-IP frames', async (t) => {
  const k = key(new Uint8Array(13).fill(0xff));
  t.equal(get(k, 'in_port'), 5n);
  t.equal(get(k, 'dl_dst'), 0n, 'a runt leaves the Ethernet fields empty');
  t.equal(get(key(buildEthernet(2, 1, 0x88cc, new Uint8Array(10))), 'dl_type'), 0x88ccn, 'unknown EtherType kept');
  // 802.3 length field without SNAP: OVS's "no type" 0x05ff.
  t.equal(get(key(buildEthernet(2, 1, 46, new Uint8Array(46))), 'dl_type'), 0x5ffn);
  // LLC/SNAP with a zero OUI carries the EtherType.
  const ip = buildIp4Frame(ETH, IP4, { proto: 'udp', srcPort: 1, dstPort: 2 }).subarray(14);
  const snap = buildEthernet(2, 1, ip.length + 8, new Uint8Array([0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, ...ip]));
  const ks = key(snap);
  t.equal(get(ks, 'dl_type'), 0x800n);
  t.equal(get(ks, 'tp_dst'), 2n, 'IPv4 inside SNAP parsed');
});

t.test('VLAN tags', async (t) => {
  const f = buildUdp4({ ...ETH, vlanTci: 0x6123 }, IP4, { srcPort: 1, dstPort: 2 });
  const k = key(f);
  t.equal(get(k, 'vlan_tci'), 0x7123n, 'TCI with the present bit');
  t.equal(get(k, 'dl_type'), 0x800n, 'dl_type is the inner type');
  t.equal(get(k, 'tp_src'), 1n);
  // 802.1ad outer tag counts as the one tag; a second tag's TPID is the dl_type.
  const qinq = hex('000000000002 000000000001 88a8 0064 8100 00c8 0800');
  const kq = key(qinq);
  t.equal(get(kq, 'vlan_tci'), 0x1064n);
  t.equal(get(kq, 'dl_type'), 0x8100n);
  t.equal(get(key(hex('000000000002 000000000001 8100 00')), 'dl_type'), 0x8100n, 'truncated tag');
});

t.test('IPv4 sanity, padding, options, fragments', async (t) => {
  const f = buildUdp4(ETH, { ...IP4, options: hex('94040000') }, { srcPort: 7, dstPort: 9, payload: hex('aabb') });
  const padded = new Uint8Array(64);
  padded.set(f);
  const L = extractKey(padded, newKey(), 0, new PacketLayout());
  t.equal(L.end, f.length, 'Ethernet padding excluded');
  t.equal(L.l4, 14 + 24, 'L4 after the options');
  t.same([...decodePacket(padded).udp!.payload], [0xaa, 0xbb]);
  t.equal(verifyChecksums(padded).l4, true, 'checksum over the datagram, not the padding');

  const long = f.slice();
  long[16] = 0xff; // total length beyond the frame
  const kl = key(long);
  t.equal(get(kl, 'dl_type'), 0x800n);
  t.equal(get(kl, 'nw_src'), 0n, 'an IPv4 header that lies about its length is not parsed');
  const v5 = f.slice();
  v5[14] = 0x55;
  t.equal(get(key(v5), 'nw_proto'), 0n, 'version 5 is not IPv4');

  const first = key(buildTcp4(ETH, { ...IP4, moreFragments: true }, { srcPort: 1, dstPort: 2, flags: TCP_SYN }));
  t.equal(get(first, 'nw_frag'), 1n);
  t.equal(get(first, 'tcp_flags'), 2n, 'first fragment has its L4 header');
  const later = key(buildIp4Frame(ETH, { ...IP4, fragOffset: 1 }, { proto: 6, payload: new Uint8Array(20).fill(0xee) }));
  t.equal(get(later, 'nw_frag'), 3n);
  t.equal(get(later, 'nw_proto'), 6n);
  t.equal(get(later, 'tp_src'), 0n, 'later fragment has no ports');

  const tcp = buildTcp4(ETH, IP4, { srcPort: 1, dstPort: 2 });
  const bad = tcp.slice();
  bad[14 + 20 + 12] = 0x40; // data offset 16 bytes < 20
  t.equal(get(key(bad), 'tp_src'), 0n, 'TCP data offset below 5 words is not parsed');
  t.equal(get(key(tcp.subarray(0, tcp.length - 1)), 'nw_src'), 0n, 'truncated datagram');

  const k = key(buildIp4Frame(ETH, { ...IP4, tos: 0xb9, ttl: 3 }, { proto: 'icmp', type: 11, code: 1 }));
  t.equal(get(k, 'nw_tos'), 0xb8n, 'DSCP << 2');
  t.equal(get(k, 'nw_ecn'), 1n);
  t.equal(get(k, 'nw_ttl'), 3n);
  t.equal(get(k, 'icmp_type'), 11n);
  t.equal(get(k, 'icmp_code'), 1n);
  t.equal(get(k, 'tp_src'), 0n, 'ICMP type/code live in icmp_type/icmp_code only');
});

t.test('IPv6 extension headers', async (t) => {
  const k = key(buildIp6Frame(ETH, { ...IP6, extensions: [{ type: 0 }, { type: 43, body: new Uint8Array(14) }, { type: 60 }, { type: 44, offset: 0, more: true, id: 9 }] }, { proto: 'udp', srcPort: 53, dstPort: 5353 }));
  t.equal(get(k, 'nw_proto'), 17n);
  t.equal(get(k, 'tp_dst'), 5353n);
  t.equal(get(k, 'nw_frag'), 1n);

  // AH (RFC 4302) is walked too: length in 4-byte units minus 2.
  const udp = buildUdp6(ETH, IP6, { srcPort: 1, dstPort: 2 });
  const ah = hex('11 04 0000 00000001 00000001 0000000000000000 00000000');
  const withAh = new Uint8Array(udp.length + ah.length);
  withAh.set(udp.subarray(0, 54));
  withAh.set(ah, 54);
  withAh.set(udp.subarray(54), 54 + ah.length);
  withAh[14 + 6] = 51;
  withAh[14 + 5] += ah.length;
  t.equal(get(key(withAh), 'tp_dst'), 2n, 'UDP found after AH');

  const many = buildIp6Frame(ETH, { ...IP6, extensions: Array.from({ length: IP6_MAX_EXT_HEADERS + 1 }, () => ({ type: 60 as const })) }, { proto: 'udp', srcPort: 1, dstPort: 2 });
  const km = key(many);
  t.equal(get(km, 'nw_proto'), 0n, 'a chain beyond the bound is not followed');
  t.equal(get(km, 'ipv6_src'), 1n | (0xfd00n << 112n), 'addresses still extracted');
  const cut = buildIp6Frame(ETH, { ...IP6, extensions: [{ type: 0, body: new Uint8Array(30) }] }, { proto: 59 });
  const trunc = cut.slice();
  trunc[14 + 40 + 1] = 9; // HBH claims 80 bytes
  t.equal(get(key(trunc), 'nw_proto'), 0n, 'truncated extension header');
});

t.test('Neighbor Discovery', async (t) => {
  const ns = buildNeighborSolicitation({ ethSrc: '00:00:00:00:00:01', ipSrc: 'fe80::1', target: 'fe80::2aa:ff:fe28:9c5a' });
  const d = decodePacket(ns);
  t.equal(d.eth?.dst, '33:33:ff:28:9c:5a');
  t.equal(d.ip6?.dst, 'ff02::1:ff28:9c5a');
  t.equal(d.ip6?.hopLimit, 255);
  t.equal(d.icmp?.ndTarget, 'fe80::2aa:ff:fe28:9c5a');
  t.equal(d.icmp?.sll, '00:00:00:00:00:01');
  t.equal(verifyChecksums(ns).l4, true);
  const k = key(ns);
  t.equal(get(k, 'nd_sll'), 1n);
  t.equal(get(k, 'nd_tll'), 0n);

  const dad = decodePacket(buildNeighborSolicitation({ ethSrc: 1, ipSrc: '::', target: 'fe80::5' }));
  t.equal(dad.icmp?.sll, undefined, 'DAD solicitations carry no source link-layer option');

  const na = buildNeighborAdvertisement({ ethSrc: '00:00:00:00:00:02', ethDst: '00:00:00:00:00:01', ipSrc: 'fe80::2', ipDst: 'fe80::1', target: 'fe80::2', router: true });
  const dn = decodePacket(na);
  t.equal(dn.icmp?.rest, 0xe0000000, 'R, S, O flags');
  t.equal(dn.icmp?.tll, '00:00:00:00:00:02');
  t.equal(get(key(na), 'nd_tll'), 2n);
  t.equal(verifyChecksums(na).l4, true);

  // A repeated SLL option, or a zero-length option, makes the ND fields invalid (all zero).
  const target = new Uint8Array(16).fill(7);
  const sll = hex('0101 000000000001');
  const dup = buildIp6Frame(ETH, IP6, { proto: 'icmp6', type: 135, code: 0, payload: new Uint8Array([...target, ...sll, ...sll]) });
  const kd = key(dup);
  t.equal(get(kd, 'icmp_type'), 135n);
  t.equal(get(kd, 'nd_target'), 0n);
  t.equal(get(kd, 'nd_sll'), 0n);
  const zero = buildIp6Frame(ETH, IP6, { proto: 'icmp6', type: 135, code: 0, payload: new Uint8Array([...target, 1, 0, 0, 0, 0, 0, 0, 0]) });
  t.equal(get(key(zero), 'nd_target'), 0n);
  // A TLL option in a solicitation is ignored (OVS takes SLL from NS and TLL from NA only).
  const other = buildIp6Frame(ETH, IP6, { proto: 'icmp6', type: 135, code: 0, payload: new Uint8Array([...target, ...hex('0201 000000000009')]) });
  const ko = key(other);
  t.equal(get(ko, 'nd_tll'), 0n);
  t.not(get(ko, 'nd_target'), 0n);
  const code1 = buildIp6Frame(ETH, IP6, { proto: 'icmp6', type: 135, code: 1, payload: target });
  t.equal(get(key(code1), 'nd_target'), 0n, 'code 0 only');
  // commitKey rewrites the target and link-layer address; the checksum follows.
  const k1 = key(ns);
  const k2 = k1.slice();
  k2[field('nd_sll').word + 1] = 0x99;
  k2[field('nd_target').word + 3] = 0x1234;
  const out = commitKey(ns, k1, k2);
  t.equal(decodePacket(out).icmp?.sll, '00:00:00:00:00:99');
  t.equal(verifyChecksums(out).l4, true);
});

t.test('ARP builder and fields', async (t) => {
  const req = buildArp(1, '00:00:00:00:00:01', '10.0.0.1', 0, '10.0.0.2');
  t.equal(decodePacket(req).eth?.dst, 'ff:ff:ff:ff:ff:ff', 'request broadcast');
  const rep = buildArp(2, '00:00:00:00:00:02', '10.0.0.2', '00:00:00:00:00:01', '10.0.0.1');
  t.equal(decodePacket(rep).eth?.dst, '00:00:00:00:00:01', 'reply unicast to tha');
  const k = key(rep);
  t.equal(get(k, 'arp_op'), 2n);
  t.equal(get(k, 'arp_sha'), 2n);
  t.equal(get(k, 'arp_spa'), 0x0a000002n);
  t.equal(get(k, 'arp_tha'), 1n);
  t.equal(get(k, 'arp_tpa'), 0x0a000001n);
  t.equal(get(k, 'nw_proto'), 0n, 'arp_op is its own field here');
  const notEth = rep.slice();
  notEth[15] = 6; // hardware type 6
  t.equal(get(key(notEth), 'arp_op'), 0n, 'only Ethernet/IPv4 ARP is parsed');
});

t.test('ICMP errors', async (t) => {
  const orig = buildUdp4(ETH, { ...IP4, options: hex('01010101') }, { srcPort: 1000, dstPort: 33434, payload: new Uint8Array(100).fill(1) });
  const err = buildIcmp4Error(3, 3, orig, { ipSrc: '10.0.0.254' });
  const d = decodePacket(err);
  t.equal(d.eth?.dst, ETH.src, 'back to the sender');
  t.equal(d.eth?.src, ETH.dst);
  t.equal(d.ip4?.src, '10.0.0.254');
  t.equal(d.ip4?.dst, IP4.src);
  t.equal(d.icmp?.type, 3);
  t.equal(d.icmp?.payload.length, 24 + 8, 'IP header with options + 8 bytes');
  t.same([...d.icmp!.payload], [...orig.subarray(14, 14 + 32)]);
  t.same(verifyChecksums(err), { ip4: true, l4: true });
  const frag = buildIcmp4Error(3, 4, orig, { ipSrc: '10.0.0.254', rest: 1400 });
  t.equal(decodePacket(frag).icmp?.rest, 1400, 'next-hop MTU');

  const big = buildUdp6(ETH, IP6, { srcPort: 1, dstPort: 2, payload: new Uint8Array(1500) });
  const err6 = buildIcmp6Error(2, 0, big, { ipSrc: 'fd00::fe', rest: 1280 });
  t.ok(err6.length - 14 <= 1280, 'ICMPv6 error within the minimum MTU');
  t.equal(decodePacket(err6).ip6?.dst, 'fd00::1');
  t.equal(verifyChecksums(err6).l4, true);
  t.throws(() => buildIcmp4Error(3, 3, big, { ipSrc: 1 }), 'IPv4 error about IPv6 refused');
});

t.test('commitKey edge cases', async (t) => {
  // UDP over IPv4 without a checksum keeps none.
  const f = buildUdp4(ETH, IP4, { srcPort: 1, dstPort: 2, noChecksum: true });
  const k1 = key(f);
  const k2 = k1.slice();
  k2[field('nw_src').word] = 0x01020304;
  k2[field('tp_dst').word] = 99;
  const out = commitKey(f, k1, k2);
  t.equal(decodePacket(out).udp?.checksum, 0);
  t.equal(decodePacket(out).ip4?.src, '1.2.3.4');
  t.same(verifyChecksums(out), { ip4: true, l4: true });

  // Push then pop through the same layout returns the original bytes.
  const echo = buildIcmp4Echo(ETH, IP4, { id: 1, seq: 2 });
  const L = new PacketLayout();
  const a = newKey();
  extractKey(echo, a, 1, L);
  const b = a.slice();
  b[field('vlan_tci').word] = 0x1000 | 42;
  const tagged = commitKey(echo.slice(), a, b, L);
  t.equal(tagged.length, echo.length + 4);
  t.equal(decodePacket(tagged).eth?.vlanTci, 42);
  const back = commitKey(tagged, b, a, L);
  t.same([...back], [...echo], 'pop restores the frame');
  t.equal(L.l3, 14);

  // Runts pass through.
  const runt = new Uint8Array(5);
  t.equal(commitKey(runt, newKey(), newKey().fill(1)), runt);
});
