// Unit and property tests of the compute core's building blocks: address text, tunnel-key
// allocation, OVS hash order, load-balancer parsing, and compute determinism.
import t from 'tap';
import fc from 'fast-check';
import { KeyAllocator } from '../src/tunnel-keys.js';
import { formatIp4, formatIp6, ip6LinkLocal, ip6SolicitedNode, parseIp4, parseIp6, parseMac, normalizePrefix } from '../src/ip.js';
import { extractLrpNetworks, extractLspAddresses } from '../src/addresses.js';
import { ssetOrder } from '../src/ovs-hash.js';
import { parseIpPort } from '../src/lb.js';

t.test('IPv6 text as inet_ntop writes it', async (t) => {
  const cases: [string, string][] = [
    ['fe80:0:0:0:200:ff:fe00:ff01', 'fe80::200:ff:fe00:ff01'],
    ['ff02::1:ff00:ff01', 'ff02::1:ff00:ff01'],
    ['::', '::'],
    ['::1', '::1'],
    ['fd01::', 'fd01::'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['1:0:2:0:3:0:4:0', '1:0:2:0:3:0:4:0'],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
    ['::1.2.3.4', '::1.2.3.4'],
    ['2001:DB8::1', '2001:db8::1'],
  ];
  for (const [i, o] of cases) t.equal(formatIp6(parseIp6(i)!), o, i);
  t.equal(parseIp6('1::2::3'), undefined);
  t.equal(parseIp6('1.2.3.4'), undefined);
  t.equal(formatIp6(ip6LinkLocal(parseMac('00:00:00:00:ff:01')!)), 'fe80::200:ff:fe00:ff01');
  t.equal(formatIp6(ip6SolicitedNode(parseIp6('fd01::3')!)), 'ff02::1:ff00:3');
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (v) => parseIp6(formatIp6(v)) === v));
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (v) => parseIp4(formatIp4(v)) === v));
});

t.test('prefixes and port addresses', async (t) => {
  t.same(normalizePrefix('10.0.0.7/24'), { family: 4, plen: 24, network: '10.0.0.0', text: '10.0.0.0/24' });
  t.same(normalizePrefix('fd00::5/64')?.text, 'fd00::/64');
  const a = extractLspAddresses('00:00:00:00:01:01 10.0.1.1 fd01::1')!;
  t.equal(a.eaS, '00:00:00:00:01:01');
  t.same(a.ipv4.map((n) => n.addrS), ['10.0.1.1']);
  t.same(a.ipv6.map((n) => [n.addrS, n.snAddrS]), [['fd01::1', 'ff02::1:ff00:1']]);
  t.equal(extractLspAddresses('router'), undefined);
  const r = extractLrpNetworks('00:00:00:00:ff:01', ['10.0.1.254/24'])!;
  t.same(r.ipv4.map((n) => [n.addrS, n.networkS, n.bcastS, n.plen]), [['10.0.1.254', '10.0.1.0', '10.0.1.255', 24]]);
  t.same(r.ipv6.map((n) => n.addrS), ['fe80::200:ff:fe00:ff01'], 'the link-local address comes last');
});

t.test('load balancer VIP and backend text', async (t) => {
  t.same(parseIpPort('172.30.0.10:80'), { ip: '172.30.0.10', port: 80, family: 4 });
  t.same(parseIpPort('172.30.0.20'), { ip: '172.30.0.20', port: 0, family: 4 });
  t.same(parseIpPort('[fd00::100]:80'), { ip: 'fd00::100', port: 80, family: 6 });
  t.same(parseIpPort('fd00::100'), { ip: 'fd00::100', port: 0, family: 6 });
  t.equal(parseIpPort('10.0.0.1:99999'), undefined);
});

t.test('OVS sset iteration order', async (t) => {
  // Orders real ovn-northd 23.03 printed for these sets.
  t.same(ssetOrder(['00:00:00:00:ff:02', '00:00:00:00:ee:13']), ['00:00:00:00:ee:13', '00:00:00:00:ff:02']);
  t.same(ssetOrder(['00:00:00:00:ff:01', '00:00:00:00:ee:13']), ['00:00:00:00:ff:01', '00:00:00:00:ee:13']);
  t.same(ssetOrder(['172.16.0.50', '172.16.0.51', '172.16.0.52']), ['172.16.0.52', '172.16.0.50', '172.16.0.51']);
  fc.assert(fc.property(fc.array(fc.string()), (xs) => ssetOrder(xs).slice().sort().join('\0') === [...new Set(xs)].sort().join('\0')));
});

t.test('tunnel keys: never two owners, never out of range, stable hint order', async (t) => {
  // Random interleavings of reserve/allocate/release: a key in use is never handed out again.
  const op = fc.oneof(
    fc.record({ kind: fc.constant('alloc' as const) }),
    fc.record({ kind: fc.constant('reserve' as const), key: fc.integer({ min: 0, max: 40 }) }),
    fc.record({ kind: fc.constant('release' as const), idx: fc.nat() }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const a = new KeyAllocator(1, 32);
      const inUse = new Set<number>();
      for (const o of ops) {
        if (o.kind === 'alloc') {
          const k = a.allocate();
          if (k === undefined) {
            if (inUse.size !== 32) return false;
            continue;
          }
          if (inUse.has(k) || k < 1 || k > 32) return false;
          inUse.add(k);
        } else if (o.kind === 'reserve') {
          const ok = a.reserve(o.key);
          if (ok !== (o.key >= 1 && o.key <= 32 && !inUse.has(o.key))) return false;
          if (ok) inUse.add(o.key);
        } else if (inUse.size) {
          const k = [...inUse][o.idx % inUse.size]!;
          a.release(k);
          inUse.delete(k);
        }
      }
      return a.size === inUse.size;
    }),
  );
  const a = new KeyAllocator(1, 5);
  t.same([a.allocate(), a.allocate(), a.allocate()], [1, 2, 3]);
  a.release(2);
  t.equal(a.allocate(), 4, 'a freed key is not reused before the search wraps');
  t.equal(a.allocate(), 5);
  t.equal(a.allocate(), 2);
  t.equal(a.allocate(), undefined);
});
