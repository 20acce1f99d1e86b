// Address helpers: text ↔ number/bigint ↔ bytes, RFC 5952 formatting, derived IPv6 addresses.
import t from 'tap';
import fc from 'fast-check';
import {
  formatIp4, formatIp6, formatMac, ip4ToBytes, ip6LinkLocal, ip6MulticastMac, ip6ToBytes, macToBytes, parseIp4, parseIp6,
  parseMac, solicitedNodeAddress, toIp4, toIp6, toMac,
} from '../src/packet/index.js';

t.test('MAC', async (t) => {
  t.equal(parseMac('00:11:22:33:44:55'), 0x001122334455);
  t.equal(parseMac('FF-FF-ff-ff-ff-ff'), 0xffffffffffff);
  t.equal(formatMac(0x0a0b0c0d0e0f), '0a:0b:0c:0d:0e:0f');
  t.same([...macToBytes('01:02:03:04:05:06')], [1, 2, 3, 4, 5, 6]);
  t.equal(toMac(Uint8Array.of(0xfe, 0, 0, 0, 0, 1)), 0xfe0000000001);
  t.equal(toMac(0x123n), 0x123);
  for (const bad of ['00:11:22:33:44', '00:11:22:33:44:555', 'zz:11:22:33:44:55', '']) t.throws(() => parseMac(bad), bad);
  fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), (m) => parseMac(formatMac(m)) === m && toMac(macToBytes(m)) === m));
});

t.test('IPv4', async (t) => {
  t.equal(parseIp4('192.168.0.1'), 0xc0a80001);
  t.equal(formatIp4(0xffffffff), '255.255.255.255');
  t.equal(formatIp4(Uint8Array.of(10, 0, 0, 1)), '10.0.0.1');
  for (const bad of ['1.2.3', '1.2.3.256', '01.2.3.4', '1.2.3.4.5', 'a.b.c.d']) t.throws(() => parseIp4(bad), bad);
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (a) => parseIp4(formatIp4(a)) === a && toIp4(ip4ToBytes(a)) === a));
});

t.test('IPv6 text (RFC 4291 input, RFC 5952 output)', async (t) => {
  const cases: [string, string][] = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['::1', '::1'],
    ['FE80::', 'fe80::'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
  ];
  for (const [input, want] of cases) t.equal(formatIp6(parseIp6(input)), want, input);
  for (const bad of ['1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', ':::', '1:2:3:4:5:6:7:8::', '::1.2.3', 'g::']) t.throws(() => parseIp6(bad), bad);
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (a) => parseIp6(formatIp6(a)) === a && toIp6(ip6ToBytes(a)) === a),
    { numRuns: 2000 },
  );
  // Sparse addresses exercise the `::` choice.
  fc.assert(
    fc.property(fc.array(fc.constantFrom(0, 0, 0, 1, 0xffff), { minLength: 8, maxLength: 8 }), (g) => {
      const text = g.map((x) => x.toString(16)).join(':');
      const v = parseIp6(text);
      const text6 = formatIp6(v);
      if (parseIp6(text6) !== v) return false;
      // RFC 5952 4.2.3: the longest run (≥ 2) is the one compressed, the first of equal runs.
      const longest = Math.max(...g.map((_, i) => g.slice(i).findIndex((x) => x !== 0)).map((n, i) => (n < 0 ? 8 - i : n)));
      const run = (half: string): number => Math.max(0, ...half.split(':').map((_, i, a) => a.slice(i).findIndex((x) => x !== '0')).map((n, i, a) => (n < 0 ? a.length - i : n)));
      if (longest < 2) return !text6.includes('::');
      const [left, right] = text6.split('::');
      return right !== undefined && run(left!) < longest && run(right) <= longest;
    }),
  );
});

t.test('derived IPv6 addresses', async (t) => {
  t.equal(formatIp6(solicitedNodeAddress('fe80::2aa:ff:fe28:9c5a')), 'ff02::1:ff28:9c5a');
  t.equal(formatMac(ip6MulticastMac(solicitedNodeAddress('2001:db8::1234:5678'))), '33:33:ff:34:56:78');
  t.equal(formatIp6(ip6LinkLocal('00:11:22:33:44:55')), 'fe80::211:22ff:fe33:4455');
});
