// DHCPv6 framing (RFC 8415): encode/decode round trips for any message, truncated input is
// refused rather than misread, and the helper options decode to what they were built from.
import t from 'tap';
import fc from 'fast-check';
import { decodeDhcp6, dnsNames, duidLl, encodeDhcp6, iaNaAddress, iaNaOption, formatIp6 } from '../src/index.js';

const option = fc.record({ code: fc.integer({ min: 0, max: 0xffff }), data: fc.uint8Array({ maxLength: 40 }) });
const message = fc.record({ type: fc.integer({ min: 1, max: 255 }), xid: fc.integer({ min: 0, max: 0xffffff }), options: fc.array(option, { maxLength: 8 }) });

t.test('encode then decode gives the message back', async () => {
  fc.assert(fc.property(message, (m) => {
    const back = decodeDhcp6(encodeDhcp6(m));
    return !!back && back.type === m.type && back.xid === m.xid && back.options.length === m.options.length &&
      back.options.every((o, i) => o.code === m.options[i]!.code && Buffer.from(o.data).equals(Buffer.from(m.options[i]!.data)));
  }));
});

t.test('a message cut inside an option is refused', async () => {
  fc.assert(fc.property(message.filter((m) => m.options.some((o) => o.data.length > 0)), fc.nat(), (m, n) => {
    const bytes = encodeDhcp6(m);
    // Cut points that fall inside an option (not on a boundary between options).
    const bounds = new Set<number>([4]);
    let off = 4;
    for (const o of m.options) bounds.add((off += 4 + o.data.length));
    const cut = 4 + (n % (bytes.length - 4));
    return bounds.has(cut) || decodeDhcp6(bytes.subarray(0, cut)) === undefined;
  }));
  t.equal(decodeDhcp6(new Uint8Array(3)), undefined, 'shorter than the fixed header');
});

t.test('helpers', async (t) => {
  t.same([...duidLl(Uint8Array.from([0, 0, 0, 0, 0x10, 2]))], [0, 3, 0, 1, 0, 0, 0, 0, 0x10, 2], 'DUID-LL');
  t.equal(formatIp6(iaNaAddress(iaNaOption(Uint8Array.from([0, 0, 0, 9]), 'fd01::10'))!), 'fd01::10', 'IA_NA address round trip');
  t.same([...dnsNames(['example.org'])], [7, ...Buffer.from('example'), 3, ...Buffer.from('org'), 0], 'domain name in wire format');
});
