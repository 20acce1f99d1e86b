import t from 'tap';
import { MatchError, ovnSymbols, parseMatch, printMatch, type MatchLookup } from '../src/index.js';

const lookup: MatchLookup = {
  addressSet: (n) => ({ as1: ['10.0.0.1', '10.1.0.0/16'], empty: [] } as Record<string, string[]>)[n],
  portGroup: (n) => (n === 'pg1' ? ['vm1', 'vm2'] : undefined),
};

function err(s: string): string {
  try {
    parseMatch(s, { lookup });
  } catch (e) {
    if (e instanceof MatchError) return `${e.message} @${e.start}-${e.end}`;
    throw e;
  }
  return 'no error';
}

t.test('accepted forms print canonically', async (t) => {
  const cases: [string, string][] = [
    ['1', '1'],
    ['0', '0'],
    ['ip4', 'ip4'],
    ['ct.est', 'ct.est'],
    ['!ct.est', '!ct.est'],
    ['!reg0', '!reg0'],
    ['reg0[3]', 'reg0[3]'],
    ['reg0[0..15]==0', 'reg0[0..15] == 0'],
    ['inport=="vm1"&&eth.src=={00:00:00:00:00:01}', 'inport == "vm1" && eth.src == {00:00:00:00:00:01}'],
    ['ip4.src == {10.0.0.1 10.0.0.2}', 'ip4.src == {10.0.0.1, 10.0.0.2}'],
    ['ip6.dst == ff02::1:ff00:0000/104', 'ip6.dst == ff02::1:ff00:0/104'],
    ['ip4.dst == 10.0.0.0/255.0.255.0', 'ip4.dst == 10.0.0.0/255.0.255.0'],
    ['80 == tcp.dst', 'tcp.dst == 80'],
    ['1000 <= tcp.dst <= 2000', 'tcp.dst >= 1000 && tcp.dst <= 2000'],
    ['ip4.src == $as1 && outport == @pg1', 'ip4.src == $as1 && outport == @pg1'],
    ['(a.b)', 'error'],
    ['!(tcp.dst == 80)', '!(tcp.dst == 80)'],
    ['!(eth.type != 0x800)', '!(eth.type != 0x800)'],
    ['a || b', 'error'],
    ['is_chassis_resident("cr-lrp")', 'is_chassis_resident("cr-lrp")'],
    ['(ip4 || ip6) && (tcp || udp)', '(ip4 || ip6) && (tcp || udp)'],
    ['inport == "a\\"b"', 'inport == "a\\"b"'],
    ['rarp.op == 3', 'rarp.op == 3'],
    ['ct_label.ecmp_reply_eth == 00:00:00:00:00:01', 'ct_label.ecmp_reply_eth == 00:00:00:00:00:01'],
    ['xxreg0 == fd00::1', 'xxreg0 == fd00::1'],
  ];
  for (const [input, want] of cases) {
    if (want === 'error') {
      t.throws(() => parseMatch(input, { lookup }), MatchError, input);
      continue;
    }
    t.equal(printMatch(parseMatch(input, { lookup })), want, input);
  }
});

t.test('semantic errors read as ovn-controller reports them, with positions', async (t) => {
  const cases: [string, string][] = [
    ['foo == 1', "Syntax error at `foo' expecting field name. @0-3"],
    ['tcp.dst == 65536', '17-bit constant is not compatible with 16-bit field tcp.dst. @0-16'],
    ['ip4.src == fe80::1', '128-bit constant is not compatible with 32-bit field ip4.src. @0-18'],
    ['reg0[0..3] == 16', '5-bit constant is not compatible with 4-bit field reg0[0..3]. @0-16'],
    ['inport == 1', 'String field inport is not compatible with integer constant. @0-11'],
    ['tcp.dst == "x"', 'Integer field tcp.dst is not compatible with string constant. @0-14'],
    ['ip.proto < 6', 'Only == and != operators may be used with nominal field ip.proto. @0-12'],
    ['tcp.dst < {1, 2}', 'Only == and != operators may be used with value sets. @0-16'],
    ['tcp.dst < 0x10/0xf0', 'Only == and != operators may be used with masked constants.  Consider using subfields instead (e.g. eth.src[0..15] > 0x1111 in place of eth.src > 00:00:00:00:11:11/00:00:00:00:ff:ff). @0-19'],
    ['eth.type != 0x800', "Nominal field eth.type may only be tested for equality (taking enclosing `!' operators into account). @0-17"],
    ['!(eth.type == 0x800)', "Nominal field eth.type may only be tested for equality (taking enclosing `!' operators into account). @2-19"],
    ['inport != "vm1"', "Nominal field inport may only be tested for equality (taking enclosing `!' operators into account). @0-15"],
    ['!tcp', "Nominal predicate tcp may only be tested positively, e.g. `tcp' or `tcp == 1' but not `!tcp' or `tcp == 0'. @1-4"],
    ['tcp == 0', "Nominal predicate tcp may only be tested positively, e.g. `tcp' or `tcp == 1' but not `!tcp' or `tcp == 0'. @0-8"],
    ['reg0', "Explicit `!= 0' is required for inequality test of multibit field against 0. @0-4"],
    ['inport', 'Syntax error at end of input expecting relational operator. @6-6'],
    ['!tcp.dst == 80', 'Missing parentheses around operand of !. @0-14'],
    ['ip4 && tcp || udp', '&& and || must be parenthesized when used together. @11-13'],
    ['reg0[5..40] == 1', 'Cannot select bits 5 to 40 of 32-bit field reg0. @0-11'],
    ['reg0[5..4] == 1', 'Invalid bit range 5 to 4. @0-10'],
    ['inport[0] == 1', 'Cannot select subfield of string field inport. @0-7'],
    ['eth.type[0] == 1', 'Cannot select subfield of nominal field eth.type. @0-11'],
    ['ip4.src == $nope', "Syntax error at `$nope' expecting address set name. @11-16"],
    ['outport == @nope', "Syntax error at `@nope' expecting port group name. @11-16"],
    ['inport == {"a", 1}', "Syntax error at `1' expecting string. @16-17"],
    ['(ip4', "Syntax error at end of input expecting `)'. @4-4"],
    ['ip4 ip6', "Syntax error at `ip6' expecting end of input. @4-7"],
    ['foo(1)', 'parsing function name @0-3'],
    ['1 == tcp.dst == 2', "Range expressions must have the form `x < field < y' or `x > field > y', with each `<' optionally replaced by `<=' or `>' by `>='). @0-15"],
  ];
  for (const [input, want] of cases) t.equal(err(input), want, input);
});

t.test('symbol table', async (t) => {
  const s = ovnSymbols();
  t.equal(s.get('reg0')!.base, 'xxreg0');
  t.equal(s.get('reg0')!.baseOfs, 96);
  t.equal(s.get('reg3')!.baseOfs, 0);
  t.equal(s.get('xreg1')!.baseOfs, 0);
  t.equal(s.get('reg9')!.base, 'xreg4');
  t.equal(s.get('reg9')!.baseOfs, 0);
  t.notOk(s.has('reg10'), 'reg10 and up are reserved for OVN itself');
  t.equal(s.get('ct.est')!.prereqs, 'ct.trk');
  t.equal(s.get('tcp.dst')!.prereqs, 'tcp');
  t.equal(s.get('ip')!.level, 'nominal');
  t.equal(s.get('ip.later_frag')!.level, 'boolean');
  t.equal(s.get('rarp.op')!.base, 'arp.op');
  t.equal(s.get('vlan.vid')!.baseOfs, 0);
  t.equal(s.get('eth.mcast')!.baseOfs, 40);
});
