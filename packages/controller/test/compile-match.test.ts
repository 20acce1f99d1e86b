// The match compiler against the match interpreter: for random expressions and random packets,
// the switch matches it produces (plain flows, or conjunctive-match clauses) accept exactly the
// packets the expression is true for. Also: crossproducts of sets become conjunctions.
import t from 'tap';
import fc from 'fast-check';
import { evaluate, makePacket, MatchError, parseMatch, type Expr, type Packet } from '@ovnts/lflow';
import { newKey, type FlowKey } from '@ovnts/switch';
import type { Match } from '@ovnts/switch/dist/src/flow/match.js';
import { writeBits } from '@ovnts/switch/dist/src/flow/match.js';
import { compileMatch, type CompiledMatch } from '../src/compile/match.js';
import { INPORT_LOC, locOfBase, METADATA_LOC, OUTPORT_LOC } from '../src/compile/fields.js';

const PORTS: Record<string, number> = { vm1: 1, vm2: 2, vm3: 3, 'sw-lr': 0x8001 };
const DP = 7;
// A small bound on the normal form keeps pathological random expressions cheap (they are skipped).
const ctx = { datapathKey: DP, portKey: (n: string) => PORTS[n], isChassisResident: () => true, maxConjunctions: 2000 };

function keyOf(pkt: Packet, datapath = DP): FlowKey {
  const key = newKey();
  for (const [base, value] of pkt.bits) {
    const loc = locOfBase(base);
    if (loc) writeBits(key, loc, value);
  }
  writeBits(key, METADATA_LOC, BigInt(datapath));
  const inport = pkt.strings.get('inport');
  const outport = pkt.strings.get('outport');
  if (inport !== undefined) writeBits(key, INPORT_LOC, BigInt(PORTS[inport] ?? 0));
  if (outport !== undefined) writeBits(key, OUTPORT_LOC, BigInt(PORTS[outport] ?? 0));
  return key;
}

function hits(m: Match, key: FlowKey): boolean {
  for (let i = 0; i < key.length; i++) if (((key[i]! & m.mask[i]!) >>> 0) !== m.value[i]) return false;
  return true;
}

function accepts(c: CompiledMatch, key: FlowKey): boolean {
  if (c.matches.some((m) => hits(m, key))) return true;
  const conj = c.conjunction;
  return !!conj && hits(conj.common, key) && conj.clauses.every((alts) => alts.some((m) => hits(m, key)));
}

// Expressions over a few fields, with constants drawn from small pools so that random packets
// hit them often.
const ip = fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.1.0/24', '192.168.0.0/16', '10.0.0.0/255.255.0.255');
const port = fc.constantFrom(22, 80, 443, 8080, 1000);
const portName = fc.constantFrom('vm1', 'vm2', 'vm3', 'sw-lr', 'ghost');
const set = <T>(a: fc.Arbitrary<T>, show: (x: T) => string): fc.Arbitrary<string> =>
  fc.array(a, { minLength: 1, maxLength: 4 }).map((xs) => (xs.length === 1 ? show(xs[0]!) : `{${xs.map(show).join(', ')}}`));
const leaf: fc.Arbitrary<string> = fc.oneof(
  set(ip, (x) => x).map((s) => `ip4.src == ${s}`),
  set(ip, (x) => x).map((s) => `ip4.dst != ${s}`),
  set(port, String).map((s) => `tcp.dst == ${s}`),
  set(port, String).map((s) => `udp.src == ${s}`),
  fc.tuple(port, port).map(([a, b]) => `tcp.src >= ${Math.min(a, b)} && tcp.src <= ${Math.max(a, b)}`),
  fc.constantFrom('ip4', 'ip6', 'tcp', 'udp', 'icmp4', 'arp', 'eth.mcast', 'ct.est', '!ct.new', 'flags.loopback == 1', 'reg0[3] == 1', 'reg0[8..15] == 0x2a', 'xxreg1[0..7] == 9'),
  portName.map((p) => `inport == "${p}"`),
  // String fields are nominal: OVN admits only equality tests on ports.
  set(portName, (p) => `"${p}"`).map((s) => `outport == ${s}`),
);
const expr: fc.Arbitrary<string> = fc.letrec((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.tuple(tie('e'), tie('e')).map(([a, b]) => `(${a}) && (${b})`),
    fc.tuple(tie('e'), tie('e')).map(([a, b]) => `(${a}) || (${b})`),
    tie('e').map((a) => `!(${a})`),
  ),
})).e as fc.Arbitrary<string>;

const packet = fc.record({
  'eth.type': fc.constantFrom(0x800, 0x86dd, 0x806),
  'eth.dst': fc.constantFrom('01:00:00:00:00:00', '00:00:00:00:00:01'),
  'ip.proto': fc.constantFrom(6, 17, 1),
  'ip4.src': fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.1.7', '192.168.3.4', '10.9.0.1', '11.0.0.1'),
  'ip4.dst': fc.constantFrom('10.0.0.1', '10.0.1.7', '8.8.8.8'),
  'tcp.dst': fc.constantFrom(22, 80, 443, 1000, 7),
  'tcp.src': fc.constantFrom(22, 80, 443, 1000, 7, 5000),
  'udp.src': fc.constantFrom(80, 53),
  ct_state: fc.constantFrom(0, 0x20, 0x21, 0x22),
  'flags.loopback': fc.constantFrom(0, 1),
  'reg0[0..15]': fc.constantFrom(0, 8, 0x2a00, 0x2a08),
  'xxreg1[0..7]': fc.constantFrom(0, 9),
  inport: fc.constantFrom('vm1', 'vm2', 'vm3', 'sw-lr'),
  outport: fc.constantFrom('vm1', 'vm2', 'vm3', 'sw-lr'),
});

t.test('compiled matches accept exactly what the interpreter accepts', async (t) => {
  let skipped = 0;
  fc.assert(
    fc.property(expr, fc.array(packet, { minLength: 20, maxLength: 20 }), (text, packets) => {
      let e: Expr;
      try {
        e = parseMatch(text);
      } catch (err) {
        // Random text may negate a nominal field or predicate, which OVN refuses to parse.
        if (err instanceof MatchError) {
          skipped++;
          return;
        }
        throw err;
      }
      let compiled: CompiledMatch;
      try {
        compiled = compileMatch(e, ctx);
      } catch (err) {
        // Normalization refuses pathological crossproducts; those are not what this tests.
        if ((err as Error).name === 'NormalizeLimitError') return;
        throw err;
      }
      for (const p of packets) {
        // tcp.src/udp.src share one OpenFlow field: a packet has only one transport header.
        const fields: Record<string, string | number> = { ...p };
        if (p['ip.proto'] === 17) {
          fields['udp.dst'] = fields['tcp.dst']!;
          delete fields['tcp.src'];
          delete fields['tcp.dst'];
        } else delete fields['udp.src'];
        const pkt = makePacket(fields);
        const want = evaluate(e, pkt, { isChassisResident: () => true });
        const got = accepts(compiled, keyOf(pkt));
        if (want !== got) throw new Error(`${text}\npacket ${JSON.stringify(fields)}: interpreter ${want}, compiled ${got}`);
      }
    }),
    { numRuns: 300 },
  );
  t.ok(skipped < 150, `${300 - skipped} of 300 random expressions parse (the rest negate nominal fields)`);
  t.pass('random expressions × 20 packets agree');
});

t.test('flows of another datapath never match', async (t) => {
  const c = compileMatch(parseMatch('ip4'), ctx);
  t.notOk(accepts(c, keyOf(makePacket({ 'eth.type': 0x800 }), DP + 1)));
  t.ok(accepts(c, keyOf(makePacket({ 'eth.type': 0x800 }))));
});

t.test('a crossproduct of sets becomes a conjunctive match', async (t) => {
  const addrs = Array.from({ length: 1000 }, (_, i) => `10.${i >> 8}.${i & 255}.1`);
  const e = parseMatch('outport == "vm1" && ip4.src == $big && tcp.dst == {80, 443, 8080}', { lookup: { addressSet: (n) => (n === 'big' ? addrs : undefined) } });
  const c = compileMatch(e, ctx);
  t.equal(c.matches.length, 0);
  t.ok(c.conjunction, 'conjunction used');
  const sizes = c.conjunction!.clauses.map((x) => x.length).sort((a, b) => a - b);
  t.same(sizes, [3, 1000], 'one flow per set member (the IPv6 forms of tcp.dst pruned), not 3000');
  t.ok(accepts(c, keyOf(makePacket({ 'eth.type': 0x800, 'ip.proto': 6, 'ip4.src': '10.3.7.1', 'tcp.dst': 443, outport: 'vm1' }))));
  t.notOk(accepts(c, keyOf(makePacket({ 'eth.type': 0x800, 'ip.proto': 6, 'ip4.src': '10.3.7.2', 'tcp.dst': 443, outport: 'vm1' }))));
  t.notOk(accepts(c, keyOf(makePacket({ 'eth.type': 0x800, 'ip.proto': 6, 'ip4.src': '10.3.7.1', 'tcp.dst': 443, outport: 'vm2' }))));
});

t.test('a port this chassis does not know matches nothing', async (t) => {
  t.same(compileMatch(parseMatch('inport == "ghost"'), ctx).matches, []);
  t.equal(compileMatch(parseMatch('inport == {"ghost", "vm1"}'), ctx).matches.length, 1);
});
