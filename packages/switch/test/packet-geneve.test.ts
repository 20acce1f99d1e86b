// Geneve (RFC 8926): encode/decode round trip, a hand-assembled tunnel frame, malformed headers,
// and, where tshark is installed, Wireshark's reading of a frame we build.
import t from 'tap';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { field, getBits, newKey } from '../src/fields.js';
import {
  buildArp, buildGeneveFrame, buildUdp4, decodeGeneve, decodePacket, encodeGeneve, extractKey, GeneveInfo, metadataToOvnPorts,
  ovnPortsToMetadata, parseGeneve, setTunnelKey, verifyChecksums, writeGeneveHeader, GENEVE_PORT, type GeneveOption,
} from '../src/packet/index.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

// Assembled by hand from RFC 8926 figures 2-4 and RFC 826/791/768: an ARP request for 10.0.0.2
// tunnelled from 127.0.0.1 to 127.0.0.2 in VNI 5, with OVN's option (ingress port 3, egress 7)
// and a non-critical experimental option (class 0xffff, type 1, 8 bytes).
const RFC8926_FRAME = hex(`
  020000000002 020000000001 0800
  4500 0062 0000 4000 4011 3c88 7f000001 7f000002
  c000 17c1 004e 0000
  05 40 6558 000005 00
  0102 80 01 00030007
  ffff 01 02 deadbeef01020304
  ffffffffffff 000000000001 0806
  0001 0800 06 04 0001 000000000001 0a000001 000000000000 0a000002`);

t.test('hand-assembled RFC 8926 frame', async (t) => {
  const outer = newKey();
  const L = extractKey(RFC8926_FRAME, outer, 1);
  t.equal(getBits(outer, field('tp_dst')), BigInt(GENEVE_PORT), 'outer UDP to 6081');
  t.same(verifyChecksums(RFC8926_FRAME), { ip4: true, l4: true }, 'outer checksums (UDP 0 = none)');
  const udpPayload = RFC8926_FRAME.subarray(L.payload, L.end);
  const g = decodeGeneve(udpPayload);
  t.ok(g);
  if (!g) return;
  t.equal(g.vni, 5);
  t.equal(g.tunMetadata0, 0x00030007);
  t.same(metadataToOvnPorts(g.tunMetadata0!), { ingress: 3, egress: 7 });
  t.equal(g.critical, true);
  t.equal(g.oam, false);
  t.equal(g.unknownCritical, false, 'the experimental option is not critical');
  t.equal(g.options.length, 2);
  t.same(g.options[1], { class: 0xffff, type: 1, data: hex('deadbeef01020304') });
  const inner = decodePacket(g.inner);
  t.same(inner.arp, { op: 1, sha: '00:00:00:00:00:01', spa: '10.0.0.1', tha: '00:00:00:00:00:00', tpa: '10.0.0.2' });

  // The allocation-free path sees the same, in place, and fills the tunnel fields of a key.
  const info = new GeneveInfo();
  t.ok(parseGeneve(RFC8926_FRAME, info, L.payload, L.end));
  t.equal(info.innerOffset, L.payload + 8 + 20);
  const key = newKey();
  extractKey(RFC8926_FRAME.subarray(info.innerOffset, L.end), key, 9);
  setTunnelKey(key, info, 0x7f000001, 0x7f000002);
  t.equal(getBits(key, field('tun_id')), 5n);
  t.equal(getBits(key, field('tun_metadata0')), 0x00030007n);
  t.equal(getBits(key, field('tun_src')), 0x7f000001n);
  t.equal(getBits(key, field('arp_tpa')), 0x0a000002n);

  // Our encoder and builders make the same bytes from the same description.
  const rebuilt = buildUdp4(
    { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' },
    { src: '127.0.0.1', dst: '127.0.0.2', ttl: 64, dontFragment: true },
    {
      srcPort: 0xc000, dstPort: GENEVE_PORT, noChecksum: true,
      payload: encodeGeneve(5, ovnPortsToMetadata(3, 7), g.inner, { extraOptions: [{ class: 0xffff, type: 1, data: hex('deadbeef01020304') }] }),
    },
  );
  t.ok(same(rebuilt, RFC8926_FRAME), 'rebuilt byte for byte');
  const built = buildGeneveFrame(
    { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' },
    { src: '127.0.0.1', dst: '127.0.0.2' },
    { vni: 5, tunMetadata0: ovnPortsToMetadata(3, 7), inner: g.inner },
  );
  t.same(verifyChecksums(built), { ip4: true, l4: true }, 'buildGeneveFrame sets a valid UDP checksum');
  t.equal(decodeGeneve(decodePacket(built).udp!.payload)?.tunMetadata0, 0x00030007);
});

t.test('encode/decode round trip', async (t) => {
  const optArb: fc.Arbitrary<GeneveOption> = fc.record({
    class: fc.integer({ min: 0, max: 0xffff }).filter((c) => c !== 0x0102),
    type: fc.integer({ min: 0, max: 0xff }),
    data: fc.integer({ min: 0, max: 8 }).chain((n) => fc.uint8Array({ minLength: 4 * n, maxLength: 4 * n })),
  });
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffffff }),
      fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
      fc.uint8Array({ maxLength: 100 }),
      fc.array(optArb, { maxLength: 4 }),
      fc.boolean(),
      (vni, md, inner, extra, oam) => {
        const buf = encodeGeneve(vni, md, inner, { oam, extraOptions: extra });
        const g = decodeGeneve(buf);
        if (!g) return false;
        const critical = md !== undefined || extra.some((o) => (o.type & 0x80) !== 0);
        const unknownCritical = extra.some((o) => (o.type & 0x80) !== 0);
        const info = new GeneveInfo();
        return (
          g.vni === vni && g.tunMetadata0 === md && g.oam === oam && g.critical === critical && g.unknownCritical === unknownCritical &&
          same(g.inner, inner) && g.options.length === extra.length + (md === undefined ? 0 : 1) &&
          parseGeneve(buf, info) && info.vni === vni && info.innerOffset === buf.length - inner.length
        );
      },
    ),
    { numRuns: 1000 },
  );
  t.pass('1000 random headers');
});

t.test('writeGeneveHeader is encodeGeneve without the copy', async (t) => {
  const buf = new Uint8Array(20);
  t.equal(writeGeneveHeader(buf, 2, 0xabcdef, 0x12345678), 16);
  t.ok(same(buf.subarray(2, 18), encodeGeneve(0xabcdef, 0x12345678, new Uint8Array(0))));
  t.equal(writeGeneveHeader(buf, 0, 1), 8);
  t.ok(same(buf.subarray(0, 8), encodeGeneve(1, undefined, new Uint8Array(0))));
});

t.test('OVN port keys in the option word', async (t) => {
  t.equal(ovnPortsToMetadata(0x7fff, 0xffff), 0x7fffffff);
  t.equal(ovnPortsToMetadata(1, 2), 0x00010002);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0x7fff }), fc.integer({ min: 0, max: 0xffff }), (i, e) => {
      const p = metadataToOvnPorts(ovnPortsToMetadata(i, e));
      return p.ingress === i && p.egress === e;
    }),
  );
});

t.test('malformed Geneve headers are refused', async (t) => {
  const good = encodeGeneve(5, 1, new Uint8Array(4));
  const v1 = good.slice();
  v1[0] = v1[0]! | 0x40;
  t.equal(decodeGeneve(v1), null, 'version 1');
  const proto = good.slice();
  proto[3] = 0x00;
  t.equal(decodeGeneve(proto), null, 'not Ethernet');
  t.equal(decodeGeneve(good.subarray(0, 12)), null, 'options cut short');
  t.equal(decodeGeneve(good.subarray(0, 7)), null, 'header cut short');
  const badOpt = good.slice();
  badOpt[11] = 5; // option claims 20 bytes inside 8 bytes of options
  t.equal(decodeGeneve(badOpt), null, 'option overruns the options area');
  const crit = encodeGeneve(5, undefined, new Uint8Array(0), { extraOptions: [{ class: 0x0101, type: 0x81, data: new Uint8Array(4) }] });
  t.equal(decodeGeneve(crit)?.unknownCritical, true, 'unknown critical option flagged');
});

function pcap(frames: Uint8Array[]): Uint8Array {
  const parts: Buffer[] = [];
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  gh.writeUInt16LE(4, 6);
  gh.writeUInt32LE(65535, 16);
  gh.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  parts.push(gh);
  for (const f of frames) {
    const rh = Buffer.alloc(16);
    rh.writeUInt32LE(f.length, 8);
    rh.writeUInt32LE(f.length, 12);
    parts.push(rh, Buffer.from(f));
  }
  return Buffer.concat(parts);
}

function hasTshark(): boolean {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

t.test('tshark decodes our Geneve frame', { skip: hasTshark() ? false : 'tshark is not installed' }, async (t) => {
  const inner = buildArp(1, '00:00:00:00:00:01', '10.0.0.1', 0, '10.0.0.2');
  const frame = buildGeneveFrame({ src: 1, dst: 2 }, { src: '192.168.0.1', dst: '192.168.0.2' }, { vni: 0x1234, tunMetadata0: ovnPortsToMetadata(3, 7), inner });
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-geneve-'));
  try {
    const file = join(dir, 'g.pcap');
    writeFileSync(file, pcap([frame]));
    const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=|', '-e', 'geneve.vni', '-e', 'geneve.option.class', '-e', 'geneve.option.type', '-e', 'arp.dst.proto_ipv4'], { encoding: 'utf8' });
    const [vni, cls, type, tpa] = out.trim().split('|');
    t.equal(parseInt(vni!, vni!.startsWith('0x') ? 16 : 10), 0x1234, `VNI (${vni})`);
    t.equal(parseInt(cls!, 16), 0x0102, `option class (${cls})`);
    t.equal(parseInt(type!, 16), 0x80, `option type (${type})`);
    t.equal(tpa, '10.0.0.2', 'inner ARP target');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
