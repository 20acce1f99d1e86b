// Connection tracking through the `ct` action: UDP and ICMP tracking, related ICMP errors, SNAT
// and DNAT with port ranges and reply un-NAT (checksums valid after every rewrite), IPv6,
// ct_mark/ct_label, force, ct_clear, zones, the table bound, flushing and the dump format.
import t from 'tap';
import { field, getBits } from '../src/fields.js';
import { Conntrack } from '../src/conntrack/index.js';
import {
  buildIcmp4Echo, buildIcmp4Error, buildIcmp6Echo, buildUdp6, verifyChecksums, ICMP4_DEST_UNREACH, ICMP4_TIME_EXCEEDED,
} from '../src/packet/index.js';
import { decode, makeDp, MAC_A, MAC_B, ports, tcp, udp } from './datapath-helpers.js';
import { TCP_ACK, TCP_SYN } from '../src/packet/index.js';

const ok = { ip4: true, l4: true };

/** A stateful firewall: port 1 may open connections, port 2 may only answer. */
const FIREWALL = `
table=0,priority=100,ip,actions=ct(table=1,zone=5)
table=0,priority=100,ipv6,actions=ct(table=1,zone=5)
table=1,priority=100,ct_state=+new+trk,in_port=1,actions=ct(commit,zone=5,exec(load:0x2->NXM_NX_CT_MARK[])),output:2
table=1,priority=100,ct_state=+est+trk,in_port=1,actions=output:2
table=1,priority=100,ct_state=+est+trk,in_port=2,actions=output:1
table=1,priority=90,ct_state=+rel+trk,in_port=2,actions=output:1
table=1,priority=90,ct_state=+rel+trk,in_port=1,actions=output:2
table=1,priority=50,ct_state=+inv+trk,actions=drop
table=1,priority=10,actions=drop
`;

for (const cache of [true, false]) {
  t.test(`UDP: replies pass, unsolicited traffic does not (cache ${cache})`, async (t) => {
    const d = makeDp(FIREWALL, { cache });
    d.dp.receive(2, udp('10.0.0.2', '10.0.0.1', 2000, 1000));
    t.same(ports(d.sink.take()), []);
    d.dp.receive(1, udp('10.0.0.1', '10.0.0.2', 1000, 2000));
    d.dp.receive(2, udp('10.0.0.2', '10.0.0.1', 2000, 1000));
    d.dp.receive(1, udp('10.0.0.1', '10.0.0.2', 1000, 2000));
    d.dp.receive(2, udp('10.0.0.2', '10.0.0.1', 2000, 1001));
    t.same(ports(d.sink.take()), [2, 1, 2]);
    t.same(d.dp.conntrack.dump(), ['udp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1000,dport=2000),reply=(src=10.0.0.2,dst=10.0.0.1,sport=2000,dport=1000),zone=5,mark=2']);
    t.ok(d.dp.stats().recirculations >= 4);
    if (cache) t.ok(d.dp.stats().cacheHits > 0);
  });

  t.test(`ICMP echo pairing and related ICMP errors (cache ${cache})`, async (t) => {
    const d = makeDp(FIREWALL, { cache });
    const eth = { src: MAC_A, dst: MAC_B };
    const req = buildIcmp4Echo(eth, { src: '10.0.0.1', dst: '10.0.0.2' }, { id: 77, seq: 1 });
    const rep = buildIcmp4Echo(eth, { src: '10.0.0.2', dst: '10.0.0.1' }, { id: 77, seq: 1, reply: true });
    const otherRep = buildIcmp4Echo(eth, { src: '10.0.0.2', dst: '10.0.0.1' }, { id: 78, seq: 1, reply: true });
    d.dp.receive(2, rep);
    d.dp.receive(1, req);
    d.dp.receive(2, rep);
    d.dp.receive(2, otherRep);
    t.same(ports(d.sink.take()), [2, 1]);
    t.match(d.dp.conntrack.dump()[0], /^icmp,orig=\(src=10\.0\.0\.1,dst=10\.0\.0\.2,id=77,type=8,code=0\),reply=\(src=10\.0\.0\.2,dst=10\.0\.0\.1,id=77,type=0,code=0\),zone=5/);

    // A UDP flow, then errors about it: related when they quote it, invalid otherwise.
    const out = udp('10.0.0.1', '10.0.0.2', 5000, 53);
    d.dp.receive(1, out.slice());
    const unreach = buildIcmp4Error(ICMP4_DEST_UNREACH, 3, out, { ipSrc: '10.0.0.2' });
    const router = buildIcmp4Error(ICMP4_TIME_EXCEEDED, 0, out, { ipSrc: '10.9.9.9' });
    const stranger = buildIcmp4Error(ICMP4_DEST_UNREACH, 3, udp('10.0.0.1', '10.0.0.2', 5001, 53), { ipSrc: '10.0.0.2' });
    d.dp.receive(2, unreach);
    d.dp.receive(2, router);
    d.dp.receive(2, stranger);
    t.same(ports(d.sink.take()), [2, 1, 1]);
  });

  t.test(`TCP through the firewall (cache ${cache})`, async (t) => {
    const d = makeDp(FIREWALL, { cache });
    d.dp.receive(1, tcp('10.0.0.1', '10.0.0.2', 40000, 80, TCP_SYN, 100));
    d.dp.receive(2, tcp('10.0.0.2', '10.0.0.1', 80, 40000, TCP_SYN | TCP_ACK, 500, 101));
    d.dp.receive(1, tcp('10.0.0.1', '10.0.0.2', 40000, 80, TCP_ACK, 101, 501));
    // An ACK for a connection that does not exist is invalid, and dropped.
    d.dp.receive(1, tcp('10.0.0.1', '10.0.0.2', 40001, 80, TCP_ACK, 101, 501));
    t.same(ports(d.sink.take()), [2, 1, 2]);
    t.match(d.dp.conntrack.dump()[0], /protoinfo=\(state=ESTABLISHED\)$/);
  });
}

t.test('IPv6: UDP and ICMPv6 echo are tracked', async (t) => {
  const d = makeDp(FIREWALL);
  const eth = { src: MAC_A, dst: MAC_B };
  const a = 'fd00::1';
  const b = 'fd00::2';
  d.dp.receive(1, buildUdp6(eth, { src: a, dst: b }, { srcPort: 1, dstPort: 2 }));
  d.dp.receive(2, buildUdp6(eth, { src: b, dst: a }, { srcPort: 2, dstPort: 1 }));
  d.dp.receive(2, buildUdp6(eth, { src: b, dst: a }, { srcPort: 3, dstPort: 1 }));
  d.dp.receive(1, buildIcmp6Echo(eth, { src: a, dst: b }, { id: 5, seq: 1 }));
  d.dp.receive(2, buildIcmp6Echo(eth, { src: b, dst: a }, { id: 5, seq: 1, reply: true }));
  t.same(ports(d.sink.take()), [2, 1, 2, 1]);
  t.same(d.dp.conntrack.dump(), [
    'udp,orig=(src=fd00::1,dst=fd00::2,sport=1,dport=2),reply=(src=fd00::2,dst=fd00::1,sport=2,dport=1),zone=5,mark=2',
    'icmpv6,orig=(src=fd00::1,dst=fd00::2,id=5,type=128,code=0),reply=(src=fd00::2,dst=fd00::1,id=5,type=129,code=0),zone=5,mark=2',
  ]);
});

/** SNAT of 10.0.0.0/24 to 192.168.1.1, ports 5000-5001; replies un-NATed. */
const SNAT = `
table=0,priority=100,in_port=1,ip,actions=ct(commit,zone=7,nat(src=192.168.1.1:5000-5001),table=1)
table=0,priority=100,in_port=2,ip,actions=ct(zone=7,nat,table=1)
table=1,priority=100,ct_state=+trk-inv,in_port=1,actions=output:2
table=1,priority=100,ct_state=+est+trk,in_port=2,actions=output:1
table=1,priority=90,ct_state=+rel+trk,in_port=2,actions=output:1
`;

for (const cache of [true, false]) {
  t.test(`SNAT with a port range: first free tuple, replies un-NATed, exhaustion refused (cache ${cache})`, async (t) => {
    const d = makeDp(SNAT, { cache });
    d.dp.receive(1, udp('10.0.0.1', '8.8.8.8', 1000, 53));
    d.dp.receive(1, udp('10.0.0.3', '8.8.8.8', 1000, 53));
    d.dp.receive(1, udp('10.0.0.1', '8.8.8.8', 1000, 53));
    d.dp.receive(1, udp('10.0.0.4', '8.8.8.8', 1000, 53));
    const s = d.sink.take();
    t.same(ports(s), [2, 2, 2]);
    const d0 = decode(s[0]!.frame);
    const d1 = decode(s[1]!.frame);
    t.same([d0.ip4!.src, d0.udp!.srcPort], ['192.168.1.1', 5000]);
    t.same([d1.ip4!.src, d1.udp!.srcPort], ['192.168.1.1', 5001]);
    t.same([decode(s[2]!.frame).ip4!.src, decode(s[2]!.frame).udp!.srcPort], ['192.168.1.1', 5000]);
    for (const x of s) t.same(verifyChecksums(x.frame), ok);

    d.dp.receive(2, udp('8.8.8.8', '192.168.1.1', 53, 5001));
    d.dp.receive(2, udp('8.8.8.8', '192.168.1.1', 53, 5000));
    d.dp.receive(2, udp('8.8.8.8', '192.168.1.1', 53, 5002));
    const r = d.sink.take();
    t.same(ports(r), [1, 1]);
    t.same([decode(r[0]!.frame).ip4!.dst, decode(r[0]!.frame).udp!.dstPort], ['10.0.0.3', 1000]);
    t.same([decode(r[1]!.frame).ip4!.dst, decode(r[1]!.frame).udp!.dstPort], ['10.0.0.1', 1000]);
    t.same([decode(r[1]!.frame).ip4!.src, decode(r[1]!.frame).udp!.srcPort], ['8.8.8.8', 53]);
    for (const x of r) t.same(verifyChecksums(x.frame), ok);
    t.same(d.dp.conntrack.dump(), [
      'udp,orig=(src=10.0.0.1,dst=8.8.8.8,sport=1000,dport=53),reply=(src=8.8.8.8,dst=192.168.1.1,sport=53,dport=5000),zone=7',
      'udp,orig=(src=10.0.0.3,dst=8.8.8.8,sport=1000,dport=53),reply=(src=8.8.8.8,dst=192.168.1.1,sport=53,dport=5001),zone=7',
    ]);
    t.equal(d.dp.conntrack.stats().natExhausted, 1);
  });
}

t.test('SNAT of TCP keeps checksums right both ways; ping through SNAT; related errors un-NATed with their quote', async (t) => {
  const d = makeDp(SNAT);
  d.dp.receive(1, tcp('10.0.0.1', '1.1.1.1', 33000, 443, TCP_SYN, 10));
  d.dp.receive(2, tcp('1.1.1.1', '192.168.1.1', 443, 5000, TCP_SYN | TCP_ACK, 99, 11));
  const s = d.sink.take();
  t.same(ports(s), [2, 1]);
  t.same([decode(s[0]!.frame).ip4!.src, decode(s[0]!.frame).tcp!.srcPort], ['192.168.1.1', 5000]);
  t.same([decode(s[1]!.frame).ip4!.dst, decode(s[1]!.frame).tcp!.dstPort], ['10.0.0.1', 33000]);
  for (const x of s) t.same(verifyChecksums(x.frame), ok);

  const eth = { src: MAC_A, dst: MAC_B };
  d.dp.receive(1, buildIcmp4Echo(eth, { src: '10.0.0.1', dst: '1.1.1.1' }, { id: 9, seq: 1 }));
  const out = d.sink.take()[0]!;
  t.equal(decode(out.frame).ip4!.src, '192.168.1.1');
  t.same(verifyChecksums(out.frame), ok);
  const echoId = decode(out.frame).icmp!.rest >>> 16;
  // The echo id plays the port's part: it is translated into the port range.
  t.equal(echoId, 5000);
  d.dp.receive(2, buildIcmp4Echo(eth, { src: '1.1.1.1', dst: '192.168.1.1' }, { id: echoId, seq: 1, reply: true }));
  const back = d.sink.take()[0]!;
  t.equal(decode(back.frame).ip4!.dst, '10.0.0.1');
  t.equal(decode(back.frame).icmp!.rest >>> 16, 9);
  t.same(verifyChecksums(back.frame), ok);

  // A router's time-exceeded about the translated UDP packet comes back related, un-NATed inside too.
  d.dp.receive(1, udp('10.0.0.1', '8.8.4.4', 1234, 53));
  const sent = d.sink.take()[0]!;
  const err = buildIcmp4Error(ICMP4_TIME_EXCEEDED, 0, sent.frame, { ipSrc: '10.20.30.40' });
  d.dp.receive(2, err);
  const rel = d.sink.take();
  t.same(ports(rel), [1]);
  const e = decode(rel[0]!.frame);
  t.equal(e.ip4!.dst, '10.0.0.1');
  t.equal(e.ip4!.src, '10.20.30.40');
  t.same(verifyChecksums(rel[0]!.frame), ok);
  // The quoted header now names the original sender and port.
  const quote = e.icmp!.payload;
  t.same([...quote.subarray(12, 16)], [10, 0, 0, 1]);
  t.equal((quote[20]! << 8) | quote[21]!, 1234);
});

t.test('IPv6 SNAT: translated with valid checksums, replies un-NATed', async (t) => {
  const d = makeDp(`
table=0,priority=100,in_port=1,ipv6,actions=ct(commit,zone=7,nat(src=[fd00::100]:4000-4001),table=1)
table=0,priority=100,in_port=2,ipv6,actions=ct(zone=7,nat,table=1)
table=1,priority=100,ct_state=+trk-inv,in_port=1,actions=output:2
table=1,priority=100,ct_state=+est+trk,in_port=2,actions=output:1
`);
  const eth = { src: MAC_A, dst: MAC_B };
  d.dp.receive(1, buildUdp6(eth, { src: 'fd00::1', dst: 'fd00::99' }, { srcPort: 5353, dstPort: 53 }));
  const out = d.sink.take()[0]!;
  const o = decode(out.frame);
  t.same([o.ip6!.src, o.udp!.srcPort], ['fd00::100', 4000]);
  t.same(verifyChecksums(out.frame), { l4: true });
  d.dp.receive(2, buildUdp6(eth, { src: 'fd00::99', dst: 'fd00::100' }, { srcPort: 53, dstPort: 4000 }));
  const back = d.sink.take()[0]!;
  const b = decode(back.frame);
  t.same([b.ip6!.dst, b.udp!.dstPort], ['fd00::1', 5353]);
  t.same(verifyChecksums(back.frame), { l4: true });
});

t.test('DNAT (load balancer VIP): translated on the way in, replies come from the VIP', async (t) => {
  const d = makeDp(`
table=0,priority=100,in_port=1,ip,nw_dst=10.0.0.100,actions=ct(commit,zone=9,nat(dst=10.0.0.20:8080),table=1)
table=0,priority=100,in_port=2,ip,actions=ct(zone=9,nat,table=1)
table=1,priority=100,ct_state=+trk+dnat,in_port=1,actions=output:2
table=1,priority=100,ct_state=+trk+est,in_port=2,actions=output:1
`);
  d.dp.receive(1, tcp('10.0.0.1', '10.0.0.100', 40000, 80, TCP_SYN, 1));
  const fwd = d.sink.take()[0]!;
  t.same([decode(fwd.frame).ip4!.dst, decode(fwd.frame).tcp!.dstPort], ['10.0.0.20', 8080]);
  t.same(verifyChecksums(fwd.frame), ok);
  d.dp.receive(2, tcp('10.0.0.20', '10.0.0.1', 8080, 40000, TCP_SYN | TCP_ACK, 50, 2));
  const rep = d.sink.take()[0]!;
  t.same([decode(rep.frame).ip4!.src, decode(rep.frame).tcp!.srcPort], ['10.0.0.100', 80]);
  t.same(verifyChecksums(rep.frame), ok);
  t.same(d.dp.conntrack.dump(), ['tcp,orig=(src=10.0.0.1,dst=10.0.0.100,sport=40000,dport=80),reply=(src=10.0.0.20,dst=10.0.0.1,sport=8080,dport=40000),zone=9,protoinfo=(state=SYN_RECV)']);
});

t.test('ct fields after recirculation: zone, mark, label, original tuple', async (t) => {
  const d = makeDp(`
table=0,priority=100,in_port=1,udp,actions=load:0x2a->NXM_NX_REG13[0..15],load:0xabc->NXM_NX_REG3[],ct(commit,zone=NXM_NX_REG13[0..15],exec(set_field:0x5/0xf->ct_mark,move:NXM_NX_REG3[]->NXM_NX_CT_LABEL[64..95]),table=1)
table=1,priority=100,ct_mark=0x5/0xf,actions=controller(userdata=01)
`);
  d.dp.receive(1, udp('10.0.0.1', '10.0.0.2', 1111, 2222));
  const k = d.packetIns[0]!.key;
  const get = (f: string): bigint => getBits(k, field(f));
  t.equal(get('ct_state'), 0x21n);
  t.equal(get('ct_zone'), 0x2an);
  t.equal(get('ct_mark'), 5n);
  t.equal(get('ct_label'), 0xabcn << 64n);
  t.equal(get('ct_nw_proto'), 17n);
  t.equal(get('ct_nw_src'), 0x0a000001n);
  t.equal(get('ct_nw_dst'), 0x0a000002n);
  t.equal(get('ct_tp_src'), 1111n);
  t.equal(get('ct_tp_dst'), 2222n);
  t.match(d.dp.conntrack.dump()[0], /,zone=42,mark=5,labels=0xabc0000000000000000$/);
});

t.test('ct without table: the rest of the pass sees the packet untracked; ct_clear clears', async (t) => {
  const d = makeDp(`
table=0,priority=100,in_port=1,actions=ct(commit,zone=3),resubmit(,1)
table=1,priority=100,ct_state=+trk,actions=output:3
table=1,priority=90,ct_state=-trk,actions=ct(zone=3,table=2)
table=2,priority=100,ct_state=+new+trk,actions=ct_clear,resubmit(,3)
table=3,priority=100,ct_state=-trk,ct_zone=0,actions=output:2
`);
  d.dp.receive(1, udp());
  t.same(ports(d.sink.take()), [2]);
});

t.test('force: a reply-direction packet replaces the connection with one its way', async (t) => {
  const d = makeDp(`
table=0,priority=100,in_port=1,actions=ct(commit,zone=1),output:2
table=0,priority=100,in_port=2,actions=ct(commit,force,zone=1,table=1)
table=1,priority=100,ct_state=+new+trk,actions=output:3
table=1,priority=100,ct_state=+est+trk,actions=output:4
`);
  d.dp.receive(1, udp('10.0.0.1', '10.0.0.2', 1, 2));
  d.dp.receive(2, udp('10.0.0.2', '10.0.0.1', 2, 1));
  t.same(ports(d.sink.take()), [2, 3]);
  t.match(d.dp.conntrack.dump()[0], /^udp,orig=\(src=10\.0\.0\.2,dst=10\.0\.0\.1,sport=2,dport=1\)/);
});

t.test('zones isolate connections; flush by zone', async (t) => {
  const d = makeDp(`
table=0,priority=100,in_port=1,actions=ct(commit,zone=1),ct(zone=2,table=1)
table=1,priority=100,ct_state=+new+trk,ct_zone=2,actions=output:2
table=1,priority=100,ct_state=+est+trk,actions=output:3
table=0,priority=100,in_port=4,actions=ct(zone=1,table=1)
`);
  d.dp.receive(1, udp('10.0.0.1', '10.0.0.2', 1, 2));
  d.dp.receive(4, udp('10.0.0.2', '10.0.0.1', 2, 1));
  t.same(ports(d.sink.take()), [2, 3]);
  const ct = d.dp.conntrack;
  t.equal(ct.dump(1).length, 1);
  t.equal(ct.dump(2).length, 0);
  t.equal(ct.flush(2), 0);
  t.equal(ct.flush(1), 1);
  t.equal(ct.size, 0);
});

t.test('the table is bounded: the oldest unanswered connections are evicted first', async (t) => {
  const ct = new Conntrack({ maxConnections: 4 });
  const d = makeDp(`
table=0,priority=100,in_port=1,actions=ct(commit,zone=1),output:2
table=0,priority=100,in_port=2,actions=ct(zone=1,table=1)
table=1,ct_state=+est+trk,actions=output:1
`, { conntrack: ct });
  // Two answered connections (ports 1, 2), then unanswered ones (3, 4, 5, 6).
  for (const p of [1, 2]) {
    d.dp.receive(1, udp('10.0.0.1', '10.0.0.2', p, 9));
    d.dp.receive(2, udp('10.0.0.2', '10.0.0.1', 9, p));
  }
  for (const p of [3, 4, 5, 6]) d.dp.receive(1, udp('10.0.0.1', '10.0.0.2', p, 9));
  t.equal(ct.size, 4);
  const sports = ct.connections().map((c) => c.orig.sp).sort((a, b) => a - b);
  t.same(sports, [1, 2, 5, 6]);
  t.equal(ct.stats().evicted, 2);
  // With only answered connections left, the oldest of those goes.
  ct.flush();
  for (const p of [1, 2, 3, 4, 5]) {
    d.dp.receive(1, udp('10.0.0.1', '10.0.0.2', p, 9));
    d.dp.receive(2, udp('10.0.0.2', '10.0.0.1', 9, p));
  }
  t.same(ct.connections().map((c) => c.orig.sp).sort((a, b) => a - b), [2, 3, 4, 5]);
});

t.test('UDP and ICMP timeouts', async (t) => {
  let now = 0;
  const d = makeDp(FIREWALL, { now: () => now });
  d.dp.receive(1, udp('10.0.0.1', '10.0.0.2', 1, 2));
  now = 29_000;
  d.dp.receive(2, udp('10.0.0.2', '10.0.0.1', 2, 1));
  now = 58_000;
  d.dp.receive(2, udp('10.0.0.2', '10.0.0.1', 2, 1));
  now = 88_001;
  d.dp.receive(2, udp('10.0.0.2', '10.0.0.1', 2, 1));
  t.same(ports(d.sink.take()), [2, 1, 1]);
  t.equal(d.dp.conntrack.size, 0);
});

t.test('trace consults conntrack without changing it', async (t) => {
  const d = makeDp(FIREWALL);
  const r = d.dp.traceDetailed(1, udp());
  t.match(r.text, /ct_state=new\|trk/);
  t.match(r.text, /recirc\(0x1\) - resume conntrack with ct_state=new\|trk/);
  t.match(r.text, /Datapath actions: ct\(zone=5\),recirc\(0x1\)/);
  t.match(r.text, /Datapath actions: ct\(commit,zone=5,mark=0x2\/0xffffffff\),2/);
  t.equal(d.dp.conntrack.size, 0);
  d.dp.receive(1, udp());
  const r2 = d.dp.traceDetailed(2, udp('10.0.0.2', '10.0.0.1', 2000, 1000));
  t.match(r2.text, /ct_state=est\|rpl\|trk/);
  t.match(r2.text, /Datapath actions: 1$/);
});
