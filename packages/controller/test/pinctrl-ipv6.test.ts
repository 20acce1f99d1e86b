// IPv6 packet-ins on the real data path: a router built by real ovn-northd resolves an unknown
// next hop with nd_ns (a neighbour solicitation leaves on the far switch), learns it from the
// advertisement (put_nd, a MAC_Binding), and answers a packet whose hop limit runs out with
// icmp6_error (time exceeded, back to the sender); and OVN's native DHCPv6 (put_dhcpv6_opts)
// answers a client's SOLICIT and REQUEST; router solicitations get advertisements
// (put_nd_ra_opts) and DNS queries answers from the switch's records (dns_lookup). The controller's flows run on an in-process
// switch; pinctrl answers the switch's packet-ins.
import t from 'tap';
import { logger } from '@ovnts/ovsdb';
import {
  DHCP6_ADVERTISE, DHCP6_OPT_CLIENTID, DHCP6_OPT_DNS_SERVERS, DHCP6_OPT_IA_NA, DHCP6_OPT_SERVERID, DHCP6_REPLY, DHCP6_REQUEST, DHCP6_SOLICIT,
  buildIcmp6Echo, buildIp6Frame, buildNeighborAdvertisement, buildUdp6, decodeDhcp6, decodePacket, encodeDhcp6, formatIp6, iaNaAddress,
} from '@ovnts/switch';
import { Switch } from '@ovnts/switch/dist/src/switch.js';
import { northdMissing, withRealOvn } from '@ovnts/testkit';
import { southboundState } from './helpers/sb-rows.js';
import { control } from './helpers/switch-control.js';
import { computeDesired } from '../src/desired.js';
import { Pinctrl } from '../src/pinctrl.js';

const NB = [
  ['ls-add', 'sw1'], ['ls-add', 'sw2'], ['lr-add', 'r1'],
  ['lrp-add', 'r1', 'r1-sw1', '00:00:00:00:ff:01', 'fd01::1/64'],
  ['lrp-add', 'r1', 'r1-sw2', '00:00:00:00:ff:02', 'fd02::1/64'],
  ['lsp-add', 'sw1', 'sw1-r1', '--', 'lsp-set-type', 'sw1-r1', 'router', '--', 'lsp-set-addresses', 'sw1-r1', 'router', '--', 'lsp-set-options', 'sw1-r1', 'router-port=r1-sw1'],
  ['lsp-add', 'sw2', 'sw2-r1', '--', 'lsp-set-type', 'sw2-r1', 'router', '--', 'lsp-set-addresses', 'sw2-r1', 'router', '--', 'lsp-set-options', 'sw2-r1', 'router-port=r1-sw2'],
  ['lsp-add', 'sw1', 'vm1', '--', 'lsp-set-addresses', 'vm1', '00:00:00:00:01:01 fd01::10'],
  // vm2's address is not known to OVN ("unknown"): the router must ask for it.
  ['lsp-add', 'sw2', 'vm2', '--', 'lsp-set-addresses', 'vm2', 'unknown'],
  // OVN's native DHCPv6 for vm1.
  // Router advertisements on sw1's side, and DNS records on sw1.
  ['set', 'Logical_Router_Port', 'r1-sw1', 'ipv6_ra_configs:address_mode=slaac', 'ipv6_ra_configs:mtu=1400'],
  ['--id=@dns', 'create', 'DNS', 'records={"vm2.example.org"="fd02::5 10.0.2.5"}', '--', 'add', 'Logical_Switch', 'sw1', 'dns_records', '@dns'],
  ['--id=@d6', 'create', 'DHCP_Options', 'cidr="fd01::/64"', 'options="server_id"="00:00:00:00:10:02" "dns_server"="{fd01::53}" "domain_search"="example.org"', '--', 'set', 'Logical_Switch_Port', 'vm1', 'dhcpv6_options=@d6'],
];

const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('nd_ns, put_nd, icmp6_error, DHCPv6, router advertisements and DNS on the data path', { skip: northdMissing() ?? false }, async (t) => {
  await withRealOvn(NB, [['chassis-add', 'hv1', 'geneve', '127.0.0.1']], async ({ sbctl }) => {
    const sb = await southboundState(sbctl);
    const here = sb.chassis[0]!;
    const ports = sb.ports.map((p) => (p.type === '' ? { ...p, chassis: here._uuid } : p));
    const sw = await Switch.create({ name: 'br-int', expireIntervalMs: 0 });
    const delivered: { port: string; frame: Uint8Array }[] = [];
    const vifs = new Map<string, number>();
    for (const name of ['vm1', 'vm2']) vifs.set(name, (await sw.addPort({ type: 'internal', name }, (frame) => delivered.push({ port: name, frame }))).ofport);
    const state = { ...sb, ports };
    const zones = new Map<string, number>();
    const r = computeDesired(state, { chassis: here.name, vifs, tunnels: new Map(), zone: (o) => zones.get(o) ?? (zones.set(o, zones.size + 1), zones.size) });
    for (const g of r.flows.groupTable().values()) sw.groupMod({ command: 'add', group: g });
    sw.bundle([...r.flows.entries().values()].map((f) => ({ command: 'add' as const, table: f.table, priority: f.priority, match: f.match, actions: f.actions, cookie: f.cookie })));
    const pinctrl = new Pinctrl({ sw: control(sw), log: logger('pinctrl-test') });
    pinctrl.update({ sb: state, chassis: here.name, vifs });
    sw.onPacketIn((p) => pinctrl.handle(p));

    // vm1 pings fd02::5 (vm2, unknown to OVN): the router solicits it on sw2.
    const echo = buildIcmp6Echo({ src: '00:00:00:00:01:01', dst: '00:00:00:00:ff:01' }, { src: 'fd01::10', dst: 'fd02::5', hopLimit: 64 }, { id: 7, seq: 1, data: new Uint8Array(8) });
    sw.ports.send('vm1', echo);
    await wait(50);
    const ns = delivered.map((d) => ({ port: d.port, p: decodePacket(d.frame) })).find((x) => x.p.icmp?.type === 135);
    t.ok(ns, 'a neighbour solicitation came out');
    t.equal(ns?.port, 'vm2', 'on the far switch');
    t.equal(ns?.p.icmp?.ndTarget !== undefined ? formatIp6(ns.p.icmp.ndTarget) : undefined, 'fd02::5', 'for the destination');
    t.equal(ns?.p.ip6 ? formatIp6(ns.p.ip6.dst) : undefined, 'ff02::1:ff00:5', "to the target's solicited-node address");
    // As ovn-controller composes it (and ovn-trace shows it): the packet's own source address.
    t.equal(ns?.p.ip6 ? formatIp6(ns.p.ip6.src) : undefined, 'fd01::10', "with the original packet's source address");

    // vm2 advertises itself: the router's put_nd packet-in is handled (with no Southbound
    // connection here, it has nowhere to write the MAC_Binding, and must not fail).
    const na = buildNeighborAdvertisement({ ethSrc: '00:00:00:00:02:05', ethDst: '00:00:00:00:ff:02', ipSrc: 'fd02::5', ipDst: 'fd02::1', target: 'fd02::5' });
    delivered.length = 0;
    sw.ports.send('vm2', na);
    await wait(30);
    t.ok((pinctrl.stats.byOp['put_nd'] ?? 0) > 0, 'the advertisement reached put_nd');

    // A packet whose hop limit runs out at the router: time exceeded back to vm1.
    delivered.length = 0;
    const dying = buildIcmp6Echo({ src: '00:00:00:00:01:01', dst: '00:00:00:00:ff:01' }, { src: 'fd01::10', dst: 'fd02::5', hopLimit: 1 }, { id: 7, seq: 2, data: new Uint8Array(8) });
    sw.ports.send('vm1', dying);
    await wait(50);
    const err = delivered.map((d) => ({ port: d.port, p: decodePacket(d.frame) })).find((x) => x.p.icmp?.type === 3);
    t.ok(err, 'an ICMPv6 time-exceeded came out');
    t.equal(err?.port, 'vm1', 'back to the sender');
    t.equal(err?.p.ip6 ? formatIp6(err.p.ip6.dst) : undefined, 'fd01::10', 'addressed to the sender');
    t.equal(err?.p.ip6 ? formatIp6(err.p.ip6.src) : undefined, 'fd01::1', "from the router port's address");

    // DHCPv6: vm1 solicits from its link-local address; OVN advertises fd01::10, then replies.
    const duid = Uint8Array.from([0, 3, 0, 1, 0, 0, 0, 0, 1, 1]);
    const iaid = Uint8Array.from([0, 0, 0, 9]);
    const ask = (type: number): Uint8Array => buildUdp6(
      { src: '00:00:00:00:01:01', dst: '33:33:00:01:00:02' },
      { src: 'fe80::200:ff:fe00:101', dst: 'ff02::1:2', hopLimit: 1 },
      { srcPort: 546, dstPort: 547, payload: encodeDhcp6({ type, xid: 0x123456, options: [{ code: DHCP6_OPT_CLIENTID, data: duid }, { code: DHCP6_OPT_IA_NA, data: Uint8Array.from([...iaid, 0, 0, 0, 0, 0, 0, 0, 0]) }] }) },
    );
    for (const [type, want] of [[DHCP6_SOLICIT, DHCP6_ADVERTISE], [DHCP6_REQUEST, DHCP6_REPLY]] as const) {
      delivered.length = 0;
      sw.ports.send('vm1', ask(type));
      await wait(50);
      const got = delivered.map((x) => ({ port: x.port, p: decodePacket(x.frame) })).find((x) => x.p.udp?.dstPort === 546);
      const m = got?.p.udp ? decodeDhcp6(got.p.udp.payload) : undefined;
      t.equal(got?.port, 'vm1', `DHCPv6 ${type}: the answer goes back to vm1`);
      t.equal(m?.type, want, `DHCPv6 ${type}: answered with ${want}`);
      t.equal(m?.xid, 0x123456, 'same transaction');
      const ia = m?.options.find((o) => o.code === DHCP6_OPT_IA_NA);
      t.equal(ia ? formatIp6(iaNaAddress(ia)!) : undefined, 'fd01::10', "the port's address in the client's IA_NA");
      t.same([...(m?.options.find((o) => o.code === DHCP6_OPT_SERVERID)?.data ?? [])], [0, 3, 0, 1, 0, 0, 0, 0, 0x10, 2], 'server DUID-LL from server_id');
      t.same([...(m?.options.find((o) => o.code === DHCP6_OPT_CLIENTID)?.data ?? [])], [...duid], "the client's DUID back");
      const dns = m?.options.find((o) => o.code === DHCP6_OPT_DNS_SERVERS);
      t.equal(dns ? formatIp6(dns.data.subarray(0, 16)) : undefined, 'fd01::53', 'DNS server');
      t.equal(got?.p.ip6 ? formatIp6(got.p.ip6.src) : undefined, 'fe80::200:ff:fe00:1002', "from the server's link-local address");
    }

    // A router solicitation from vm1: an advertisement of fd01::/64 (SLAAC), MTU 1400.
    delivered.length = 0;
    sw.ports.send('vm1', buildIp6Frame({ src: '00:00:00:00:01:01', dst: '33:33:00:00:00:02' }, { src: 'fe80::200:ff:fe00:101', dst: 'ff02::2', hopLimit: 255 }, {
      proto: 'icmp6', type: 133, code: 0, rest: 0, payload: Uint8Array.from([1, 1, 0, 0, 0, 0, 1, 1]),
    }));
    await wait(50);
    const ra = delivered.map((x) => ({ port: x.port, frame: x.frame, p: decodePacket(x.frame) })).find((x) => x.p.icmp?.type === 134);
    t.equal(ra?.port, 'vm1', 'a router advertisement back to vm1');
    t.equal(ra?.p.ip6 ? formatIp6(ra.p.ip6.src) : undefined, 'fe80::200:ff:fe00:ff01', "from the router port's link-local address");
    const body = ra ? ra.frame.subarray(ra.p.layout.l4 + 16) : new Uint8Array(0);
    const options = new Map<number, Uint8Array>();
    for (let off = 0; off + 2 <= body.length && body[off + 1]! > 0; off += 8 * body[off + 1]!) options.set(body[off]!, body.subarray(off, off + 8 * body[off + 1]!));
    const prefix = options.get(3);
    t.equal(prefix ? `${formatIp6(prefix.subarray(16, 32))}/${prefix[2]}` : undefined, 'fd01::/64', 'prefix information');
    t.equal(prefix ? prefix[3]! & 0x40 : undefined, 0x40, 'autonomous (SLAAC)');
    const mtu = options.get(5);
    t.equal(mtu ? new DataView(mtu.buffer, mtu.byteOffset).getUint32(4) : undefined, 1400, 'MTU option');
    t.same([...(options.get(1)?.subarray(2, 8) ?? [])], [0, 0, 0, 0, 0xff, 1], "the router's link-layer address");

    // A DNS query for vm2.example.org (AAAA, then A) is answered from the switch's records.
    for (const [qtype, want] of [[28, 'fd02::5'], [1, '10.0.2.5']] as const) {
      const name = Buffer.concat([Buffer.from([3]), Buffer.from('vm2'), Buffer.from([7]), Buffer.from('example'), Buffer.from([3]), Buffer.from('org'), Buffer.from([0])]);
      const query = Uint8Array.from([0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...name, 0, qtype, 0, 1]);
      delivered.length = 0;
      sw.ports.send('vm1', buildUdp6({ src: '00:00:00:00:01:01', dst: '00:00:00:00:ff:01' }, { src: 'fd01::10', dst: 'fd01::1', hopLimit: 64 }, { srcPort: 5353, dstPort: 53, payload: query }));
      await wait(50);
      const resp = delivered.map((x) => ({ port: x.port, p: decodePacket(x.frame) })).find((x) => x.p.udp?.srcPort === 53);
      const r = resp?.p.udp?.payload;
      t.equal(resp?.port, 'vm1', `DNS ${qtype}: the answer goes back to the asker`);
      t.same(r ? [r[0], r[1], r[2]! & 0x80, r[7]] : undefined, [0x12, 0x34, 0x80, 1], `DNS ${qtype}: a response with one answer`);
      const rdata = r ? r.subarray(r.length - (qtype === 28 ? 16 : 4)) : new Uint8Array(0);
      t.equal(qtype === 28 ? formatIp6(rdata) : [...rdata].join('.'), want, `DNS ${qtype}: ${want}`);
    }
    t.equal(pinctrl.stats.failed, 0, 'no packet-in failed');
  });
});
