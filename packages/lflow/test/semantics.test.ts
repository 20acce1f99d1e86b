// The interpreter on hand-picked cases, normalization on hand-picked cases, and the property
// that the normalized DNF accepts exactly the packets the interpreter accepts.
import t from 'tap';
import fc from 'fast-check';
import { NormalizeLimitError, conjunctionKey, dnfMatches, evaluate, makePacket, normalize, parseMatch, printMatch, rangeToMasks, type Packet } from '../src/index.js';
import { exprArb, lookup } from './arbitraries.js';

const TCP80 = makePacket({ 'eth.type': 0x800, 'ip.proto': 6, 'tcp.dst': 80, inport: 'vm1', 'ip4.src': '10.0.0.5', 'ct_state': 0x22 });
const UDP80 = makePacket({ 'eth.type': 0x800, 'ip.proto': 17, 'udp.dst': 80, 'tcp.dst': 80 });
const ev = (s: string, p: Packet): boolean => evaluate(parseMatch(s, { lookup }), p, { isChassisResident: (port) => port === 'here' });

t.test('interpreter', async (t) => {
  t.ok(ev('tcp.dst == 80', TCP80));
  t.notOk(ev('tcp.dst == 80', UDP80), 'prerequisite tcp fails on UDP');
  t.notOk(ev('!(tcp.dst == 80)', UDP80), 'negation keeps the prerequisite');
  t.notOk(ev('tcp.dst != 80', UDP80));
  t.ok(ev('tcp.dst != 81', TCP80));
  t.ok(ev('tcp.dst >= 1 && tcp.dst <= 100', TCP80));
  t.ok(ev('1 < tcp.dst < 100', TCP80));
  t.notOk(ev('tcp.dst > 80', TCP80));
  t.ok(ev('ip4.src == 10.0.0.0/24', TCP80));
  t.ok(ev('ip4.src == {192.168.0.1, 10.0.0.0/8}', TCP80));
  t.notOk(ev('ip4.src != {192.168.0.1, 10.0.0.0/8}', TCP80));
  t.ok(ev('ip4.src == $as1 || ip4', TCP80));
  t.ok(ev('inport == "vm1" && ip4 && tcp', TCP80));
  t.ok(ev('inport == {"x", "vm1"}', TCP80));
  t.ok(ev('!(inport != "vm2")', makePacket({ inport: 'vm2' })));
  t.ok(ev('ct.est && ct.trk', TCP80), 'ct_state 0x22 is est|trk');
  t.notOk(ev('!ct.new', makePacket({ ct_state: 0 })), '!ct.new requires ct.trk');
  t.ok(ev('!ct.new', makePacket({ ct_state: 0x20 })));
  t.ok(ev('ip.later_frag', makePacket({ 'eth.type': 0x86dd, 'ip.frag': 3 })));
  t.notOk(ev('!ip.later_frag', makePacket({ 'eth.type': 0x806 })), '!ip.later_frag requires ip');
  t.ok(ev('reg0[0..3] == 5 && reg0 == 0x15 && xxreg0[96..100] == 0x15', makePacket({ reg0: 0x15 })));
  t.ok(ev('reg9[0] && xreg4 == 1', makePacket({ reg9: 1 })));
  t.ok(ev('eth.bcast && eth.mcast', makePacket({ 'eth.dst': 'ff:ff:ff:ff:ff:ff' })));
  t.ok(ev('is_chassis_resident("here") && !is_chassis_resident("there")', TCP80));
  t.ok(ev('rarp.op == 3 && rarp', makePacket({ 'eth.type': 0x8035, 'rarp.op': 3 })));
  t.ok(ev('nd_ns', makePacket({ 'eth.type': 0x86dd, 'ip.proto': 58, 'icmp6.type': 135, 'ip.ttl': 255 })));
  t.ok(ev('ip4.dst == 10.0.0.0/8', makePacket({ 'eth.type': 0x800, 'ip4.dst': '10.9.0.0/16' })), 'masked packet values set only masked bits');
  t.notOk(ev('ip4.src == $empty', TCP80), 'an empty address set matches nothing');
  t.ok(ev('ip4.src != $empty', UDP80), 'and excludes nothing, without prerequisites');
});

const show = (s: string): string[] => normalize(parseMatch(s, { lookup })).map(conjunctionKey);

t.test('normalization', async (t) => {
  t.same(show('1'), ['']);
  t.same(show('0'), []);
  t.same(show('ip4 && ip6'), [], 'contradiction');
  t.same(show('tcp.dst == 80'), [
    'eth.type=0x800/0xffff,ip.proto=0x6/0xff,tcp.dst=0x50/0xffff',
    'eth.type=0x86dd/0xffff,ip.proto=0x6/0xff,tcp.dst=0x50/0xffff',
  ]);
  t.same(show('ip4 && tcp.dst >= 1000 && tcp.dst <= 2000').length, 8, 'minimal prefix cover of 1000..2000');
  t.same(show('reg0[0..3] != 5'), ['xxreg0=0x0/0x1000000000000000000000000', 'xxreg0=0x2000000000000000000000000/0x2000000000000000000000000', 'xxreg0=0x0/0x4000000000000000000000000', 'xxreg0=0x8000000000000000000000000/0x8000000000000000000000000']);
  t.same(show('ct.est'), ['ct_state=0x22/0x22']);
  t.same(show('!ct.est'), ['ct_state=0x20/0x22']);
  t.same(show('inport == @pg1 && !(inport != "b")'), ['inport="b"']);
  t.same(show('inport == {"a", "b"} && !(inport != "c")'), [], 'string contradiction');
  t.same(show('ip4.src == 10.0.0.0/8'), ['eth.type=0x800/0xffff,ip4.src=0xa000000/0xff000000']);
  t.same(show('eth.dst == ff:ff:ff:ff:ff:ff && eth.mcast'), ['eth.dst=0xffffffffffff/0xffffffffffff']);
  t.same(rangeToMasks(0n, 65535n, 16), [{ value: 0n, mask: 0n }]);
  t.same(rangeToMasks(5n, 5n, 16), [{ value: 5n, mask: 0xffffn }]);
  t.throws(() => normalize(parseMatch('is_chassis_resident("x")')), /isChassisResident/);
  t.same(normalize(parseMatch('is_chassis_resident("x") && ct.est'), { isChassisResident: () => false }), []);
});

/** Random packets over the fields the generated expressions use (and their prerequisites). */
const packetArb: fc.Arbitrary<Packet> = fc
  .record({
    'eth.type': fc.constantFrom(0x800, 0x86dd, 0x806, 0),
    'ip.proto': fc.constantFrom(6, 17, 1, 0),
    'tcp.dst': fc.integer({ min: 0, max: 10 }),
    'udp.src': fc.integer({ min: 0, max: 4 }),
    reg0: fc.integer({ min: 0, max: 31 }),
    reg9: fc.integer({ min: 0, max: 63 }),
    'ip4.src': fc.integer({ min: 0x0a000000, max: 0x0a000004 }),
    ct_state: fc.integer({ min: 0, max: 255 }),
    ct_mark: fc.integer({ min: 0, max: 3 }),
    flags: fc.integer({ min: 0, max: 1 }),
    'eth.dst': fc.constantFrom(0, 2 ** 40),
    'vlan.tci': fc.constantFrom(0, 0x1000),
    'ip.frag': fc.integer({ min: 0, max: 3 }),
    inport: fc.constantFrom('a', 'b', 'c', ''),
    outport: fc.constantFrom('a', 'b', 'c', ''),
  })
  .map((f) => makePacket(f));

t.test('normalize accepts exactly what the interpreter accepts', async (t) => {
  fc.assert(
    fc.property(exprArb(false, 4), fc.array(packetArb, { minLength: 20, maxLength: 20 }), (e, pkts) => {
      let dnf;
      try {
        dnf = normalize(e, { maxConjunctions: 3000 });
      } catch (err) {
        // Crossproducts of negated 32-bit comparisons; too big to be worth checking here.
        if (err instanceof NormalizeLimitError) return fc.pre(false);
        throw err;
      }
      for (const p of pkts) {
        if (evaluate(e, p) !== dnfMatches(dnf, p)) throw new Error(`disagree on ${printMatch(e)}`);
      }
    }),
    { numRuns: 400 },
  );
  t.pass('400 random expressions × 20 packets');
});
