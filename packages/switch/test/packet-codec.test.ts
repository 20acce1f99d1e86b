// Properties of the flow-key codec: build → extractKey gives the key the packet's headers say
// (computed here independently, by field name), and commitKey of random field changes gives the
// same bytes as building the changed packet from scratch, with every checksum valid.
import t from 'tap';
import fc from 'fast-check';
import { FIELDS, field, getBits, newKey, setBits, type FlowKey } from '../src/fields.js';
import {
  buildArp, buildIp4Frame, buildIp6Frame, commitKey, extractKey, PacketLayout, verifyChecksums, decodePacket,
  type EthSpec, type Ip4Spec, type Ip6Extension, type Ip6Spec, type L4Spec,
} from '../src/packet/index.js';

// ---------- packet descriptions ----------

interface NdSpec {
  readonly proto: 'nd';
  readonly type: 135 | 136;
  readonly rest: number;
  readonly target: bigint;
  /** Options in order; at most one of each type, so none is a malformed repeat. */
  readonly opts: readonly { readonly type: number; readonly mac: number }[];
}
type L4 = L4Spec | NdSpec;

type PacketSpec =
  | { readonly l3: 'arp'; readonly eth: EthSpec; readonly op: number; readonly sha: number; readonly spa: number; readonly tha: number; readonly tpa: number }
  | { readonly l3: 'ip4'; readonly eth: EthSpec; readonly ip: Ip4Spec; readonly l4: L4 }
  | { readonly l3: 'ip6'; readonly eth: EthSpec; readonly ip: Ip6Spec; readonly l4: L4 };

function ndToIcmp(nd: NdSpec): L4Spec {
  const body = new Uint8Array(16 + 8 * nd.opts.length);
  for (let i = 0; i < 16; i++) body[i] = Number((nd.target >> BigInt(8 * (15 - i))) & 0xffn);
  nd.opts.forEach((o, i) => {
    body[16 + 8 * i] = o.type;
    body[17 + 8 * i] = 1;
    for (let j = 0; j < 6; j++) body[18 + 8 * i + j] = Math.floor(o.mac / 2 ** (8 * (5 - j))) & 0xff;
  });
  return { proto: 'icmp6', type: nd.type, code: 0, rest: nd.rest, payload: body };
}

function build(s: PacketSpec): Uint8Array {
  if (s.l3 === 'arp') return buildArp(s.op, s.sha, s.spa, s.tha, s.tpa, s.eth);
  const l4 = s.l4.proto === 'nd' ? ndToIcmp(s.l4) : s.l4;
  return s.l3 === 'ip4' ? buildIp4Frame(s.eth, s.ip, l4) : buildIp6Frame(s.eth, s.ip, l4);
}

function isLaterFragment(s: PacketSpec): boolean {
  if (s.l3 === 'ip4') return (s.ip.fragOffset ?? 0) !== 0;
  if (s.l3 === 'ip6') return (s.ip.extensions ?? []).some((e) => e.type === 44 && e.offset !== 0);
  return false;
}

function set(k: FlowKey, name: string, v: number | bigint): void {
  setBits(k, field(name), BigInt(v));
}

/** The key the headers describe, by the rules of docs/switch-packet.md. */
function expectedKey(s: PacketSpec, inPort: number): FlowKey {
  const k = newKey();
  set(k, 'in_port', inPort);
  set(k, 'dl_src', s.eth.src as number);
  set(k, 'dl_dst', s.eth.dst as number);
  if (s.eth.vlanTci !== undefined) set(k, 'vlan_tci', s.eth.vlanTci | 0x1000);
  if (s.l3 === 'arp') {
    set(k, 'dl_type', 0x0806);
    set(k, 'arp_op', s.op);
    set(k, 'arp_sha', s.sha);
    set(k, 'arp_spa', s.spa);
    set(k, 'arp_tha', s.tha);
    set(k, 'arp_tpa', s.tpa);
    return k;
  }
  let frag = 0;
  let proto: number;
  if (s.l3 === 'ip4') {
    set(k, 'dl_type', 0x0800);
    set(k, 'nw_src', s.ip.src as number);
    set(k, 'nw_dst', s.ip.dst as number);
    const tos = s.ip.tos ?? 0;
    set(k, 'nw_tos', tos & 0xfc);
    set(k, 'nw_ecn', tos & 3);
    set(k, 'nw_ttl', s.ip.ttl ?? 64);
    if (s.ip.moreFragments || (s.ip.fragOffset ?? 0) !== 0) frag = 1 | ((s.ip.fragOffset ?? 0) !== 0 ? 2 : 0);
  } else {
    set(k, 'dl_type', 0x86dd);
    set(k, 'ipv6_src', s.ip.src as bigint);
    set(k, 'ipv6_dst', s.ip.dst as bigint);
    set(k, 'ipv6_label', s.ip.flowLabel ?? 0);
    const tc = s.ip.trafficClass ?? 0;
    set(k, 'nw_tos', tc & 0xfc);
    set(k, 'nw_ecn', tc & 3);
    set(k, 'nw_ttl', s.ip.hopLimit ?? 64);
    for (const e of s.ip.extensions ?? []) if (e.type === 44) frag = 1 | (e.offset !== 0 ? 2 : 0);
  }
  set(k, 'nw_frag', frag);
  const l4 = s.l4;
  switch (l4.proto) {
    case 'tcp': proto = 6; break;
    case 'udp': proto = 17; break;
    case 'sctp': proto = 132; break;
    case 'icmp': proto = 1; break;
    case 'icmp6': case 'nd': proto = 58; break;
    default: proto = l4.proto;
  }
  if (s.l3 === 'ip6' && frag & 2) {
    // A later fragment's protocol is its fragment header's next header: what follows is not parsed.
    const exts = s.ip.extensions ?? [];
    const i = exts.findIndex((e) => e.type === 44);
    proto = i + 1 < exts.length ? exts[i + 1]!.type : proto;
  }
  set(k, 'nw_proto', proto);
  if (frag & 2) return k;
  switch (l4.proto) {
    case 'tcp':
      set(k, 'tp_src', l4.srcPort);
      set(k, 'tp_dst', l4.dstPort);
      set(k, 'tcp_flags', (l4.flags ?? 0) & 0xfff);
      break;
    case 'udp':
    case 'sctp':
      set(k, 'tp_src', l4.srcPort);
      set(k, 'tp_dst', l4.dstPort);
      break;
    case 'icmp':
    case 'icmp6':
      set(k, 'icmp_type', l4.type);
      set(k, 'icmp_code', l4.code);
      break;
    case 'nd':
      set(k, 'icmp_type', l4.type);
      set(k, 'nd_target', l4.target);
      for (const o of l4.opts) {
        if (o.type === 1 && l4.type === 135) set(k, 'nd_sll', o.mac);
        if (o.type === 2 && l4.type === 136) set(k, 'nd_tll', o.mac);
      }
      break;
  }
  return k;
}

function diffKeys(a: FlowKey, b: FlowKey): string[] {
  const out: string[] = [];
  for (const f of FIELDS) {
    const x = getBits(a, f);
    const y = getBits(b, f);
    if (x !== y) out.push(`${f.name}: 0x${x.toString(16)} != 0x${y.toString(16)}`);
  }
  return out;
}

// ---------- generators ----------

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const mac = fc.integer({ min: 0, max: 2 ** 48 - 1 });
const ip6 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
const bytes = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });
const words = (maxWords: number): fc.Arbitrary<Uint8Array> =>
  fc.integer({ min: 0, max: maxWords }).chain((n) => fc.uint8Array({ minLength: 4 * n, maxLength: 4 * n }));

const ethArb: fc.Arbitrary<EthSpec> = fc.record({ src: mac, dst: mac, vlanTci: u16 }, { requiredKeys: ['src', 'dst'] });

const tcpArb: fc.Arbitrary<L4> = fc.record({
  proto: fc.constant('tcp' as const), srcPort: u16, dstPort: u16, seq: u32, ack: u32, flags: fc.integer({ min: 0, max: 0xfff }),
  window: u16, options: words(10), payload: bytes(40),
});
const udpArb = (v6: boolean): fc.Arbitrary<L4> => fc.record({
  proto: fc.constant('udp' as const), srcPort: u16, dstPort: u16, payload: bytes(40), noChecksum: v6 ? fc.constant(false) : fc.boolean(),
});
const sctpArb: fc.Arbitrary<L4> = fc.record({ proto: fc.constant('sctp' as const), srcPort: u16, dstPort: u16, verificationTag: u32, chunks: bytes(40) });
const icmpArb: fc.Arbitrary<L4> = fc.record({ proto: fc.constant('icmp' as const), type: u8, code: u8, rest: u32, payload: bytes(40) });
const icmp6Arb: fc.Arbitrary<L4> = fc.record({
  proto: fc.constant('icmp6' as const), type: u8.filter((x) => x !== 135 && x !== 136), code: u8, rest: u32, payload: bytes(40),
});
const ndArb: fc.Arbitrary<L4> = fc.record({
  proto: fc.constant('nd' as const),
  type: fc.constantFrom(135 as const, 136 as const),
  rest: u32,
  target: ip6,
  opts: fc.uniqueArray(fc.record({ type: fc.constantFrom(1, 2, 14), mac }), { selector: (o) => o.type, maxLength: 3 }),
});
/** Protocols the parser does not look into. */
const rawArb: fc.Arbitrary<L4> = fc.record({ proto: fc.constantFrom(47, 50, 89, 103, 254), payload: bytes(30) });
/** What follows a later fragment: anything, it is not parsed. */
const fragRawArb: fc.Arbitrary<L4> = fc.record({ proto: fc.constantFrom(6, 17, 1, 58, 132, 47), payload: bytes(30) });

const ip4Arb: fc.Arbitrary<PacketSpec> = fc
  .tuple(
    ethArb,
    fc.record({ src: u32, dst: u32, ttl: u8, tos: u8, id: u16, dontFragment: fc.boolean(), options: words(10) }),
    fc.constantFrom('none', 'none', 'none', 'first', 'later'),
    fc.integer({ min: 1, max: 0x1fff }),
    fc.boolean(),
    fc.oneof(tcpArb, udpArb(false), sctpArb, icmpArb, rawArb),
    fragRawArb,
  )
  .map(([eth, ip, frag, off, mf, l4, raw]): PacketSpec => {
    if (frag === 'first') return { l3: 'ip4', eth, ip: { ...ip, moreFragments: true }, l4 };
    if (frag === 'later') return { l3: 'ip4', eth, ip: { ...ip, moreFragments: mf, fragOffset: off }, l4: raw };
    return { l3: 'ip4', eth, ip, l4 };
  });

const extArb: fc.Arbitrary<Ip6Extension> = fc.record({ type: fc.constantFrom(0 as const, 43 as const, 60 as const), body: bytes(30) });
const fragExtArb = fc.record({ type: fc.constant(44 as const), offset: fc.integer({ min: 0, max: 0x1fff }), more: fc.boolean(), id: u32 });

const ip6Arb: fc.Arbitrary<PacketSpec> = fc
  .tuple(
    ethArb,
    fc.record({ src: ip6, dst: ip6, hopLimit: u8, trafficClass: u8, flowLabel: fc.integer({ min: 0, max: 0xfffff }) }),
    fc.array(extArb, { maxLength: 3 }),
    fc.option(fc.tuple(fragExtArb, fc.nat()), { nil: undefined }),
    fc.oneof(tcpArb, udpArb(true), sctpArb, icmp6Arb, ndArb, rawArb),
    fragRawArb,
  )
  .map(([eth, ip, exts, frag, l4, raw]): PacketSpec => {
    const extensions: Ip6Extension[] = [...exts];
    if (frag) extensions.splice(frag[1] % (exts.length + 1), 0, frag[0]);
    const later = frag !== undefined && frag[0].offset !== 0;
    return { l3: 'ip6', eth, ip: { ...ip, extensions }, l4: later ? raw : l4 };
  });

const arpArb: fc.Arbitrary<PacketSpec> = fc
  .record({ eth: ethArb, op: u16, sha: mac, spa: u32, tha: mac, tpa: u32 })
  .map((r): PacketSpec => ({ l3: 'arp', ...r }));

const packetArb: fc.Arbitrary<PacketSpec> = fc.oneof({ arbitrary: ip4Arb, weight: 3 }, { arbitrary: ip6Arb, weight: 3 }, { arbitrary: arpArb, weight: 1 });

// ---------- round trip ----------

t.test('extractKey(build(headers)) is the key the headers describe', async (t) => {
  const key = newKey();
  fc.assert(
    fc.property(packetArb, fc.integer({ min: 0, max: 0xffffffff }), (s, inPort) => {
      const frame = build(s);
      extractKey(frame, key, inPort);
      const want = expectedKey(s, inPort);
      const d = diffKeys(key, want);
      if (d.length) throw new Error(`${d.join('\n')}\nframe ${Buffer.from(frame).toString('hex')}`);
      const c = verifyChecksums(frame);
      if (c.ip4 === false || c.l4 === false) throw new Error(`built a bad checksum: ${JSON.stringify(c)}`);
    }),
    { numRuns: 3000 },
  );
  t.pass('3000 random packets of every protocol');
});

t.test('decodePacket agrees with the headers', async (t) => {
  fc.assert(
    fc.property(packetArb, (s) => {
      const d = decodePacket(build(s));
      if (s.l3 === 'arp') return d.arp?.op === s.op;
      if (isLaterFragment(s)) return d.tcp === undefined && d.udp === undefined && d.icmp === undefined;
      const l4 = s.l4;
      if (l4.proto === 'tcp') return d.tcp?.seq === (l4.seq ?? 0) && d.tcp.ack === (l4.ack ?? 0) && Buffer.from(d.tcp.payload).equals(Buffer.from(l4.payload ?? []));
      if (l4.proto === 'udp') return d.udp?.dstPort === l4.dstPort && Buffer.from(d.udp.payload).equals(Buffer.from(l4.payload ?? []));
      if (l4.proto === 'icmp' || l4.proto === 'icmp6') return d.icmp?.rest === (l4.rest ?? 0);
      return true;
    }),
    { numRuns: 500 },
  );
  t.pass('500 random packets');
});

// ---------- commit ----------

/** Fields a rewrite may change in this packet (those with bytes in the frame). */
function writableFields(s: PacketSpec): string[] {
  const out = ['dl_src', 'dl_dst', 'vlan_tci'];
  if (s.l3 === 'arp') return [...out, 'arp_op', 'arp_sha', 'arp_spa', 'arp_tha', 'arp_tpa'];
  if (s.l3 === 'ip4') out.push('nw_src', 'nw_dst', 'nw_tos', 'nw_ecn', 'nw_ttl');
  else out.push('ipv6_src', 'ipv6_dst', 'ipv6_label', 'nw_tos', 'nw_ecn', 'nw_ttl');
  if (isLaterFragment(s)) return out;
  const l4 = s.l4;
  switch (l4.proto) {
    case 'tcp': out.push('tp_src', 'tp_dst', 'tcp_flags'); break;
    case 'udp': case 'sctp': out.push('tp_src', 'tp_dst'); break;
    case 'icmp': case 'icmp6': out.push('icmp_type', 'icmp_code'); break;
    case 'nd':
      out.push('nd_target');
      if (l4.type === 135 && l4.opts.some((o) => o.type === 1)) out.push('nd_sll');
      if (l4.type === 136 && l4.opts.some((o) => o.type === 2)) out.push('nd_tll');
      break;
  }
  return out;
}

/** Clamps a random value to what the field can hold in this packet. */
function fieldValue(s: PacketSpec, name: string, v: bigint): bigint {
  const f = field(name);
  let x = v & ((1n << BigInt(f.bits)) - 1n);
  if (name === 'vlan_tci' && !(x & 0x1000n)) x = 0n;
  if (name === 'nw_tos') x &= 0xfcn;
  // An ICMPv6 type change into ND would make the packet parse differently (a new protocol).
  if (name === 'icmp_type' && s.l3 === 'ip6' && (x === 135n || x === 136n)) x = 128n;
  return x;
}

/** The packet description after setting `name` to `x`. */
function applyField(s: PacketSpec, name: string, x: bigint, original: PacketSpec): PacketSpec {
  const n = Number(x);
  if (name === 'dl_src') return { ...s, eth: { ...s.eth, src: n } };
  if (name === 'dl_dst') return { ...s, eth: { ...s.eth, dst: n } };
  if (name === 'vlan_tci') {
    // commitKey sees only the net change: a rewritten tag keeps the original frame's DEI bit.
    const { vlanTci: _, ...rest } = s.eth;
    if (!(n & 0x1000)) return { ...s, eth: rest };
    return { ...s, eth: { ...rest, vlanTci: (n & 0xefff) | ((original.eth.vlanTci ?? 0) & 0x1000) } };
  }
  if (s.l3 === 'arp') {
    const k = ({ arp_op: 'op', arp_sha: 'sha', arp_spa: 'spa', arp_tha: 'tha', arp_tpa: 'tpa' } as const)[name as 'arp_op'];
    return { ...s, [k]: n };
  }
  if (s.l3 === 'ip4') {
    const tos = s.ip.tos ?? 0;
    if (name === 'nw_src') return { ...s, ip: { ...s.ip, src: n } };
    if (name === 'nw_dst') return { ...s, ip: { ...s.ip, dst: n } };
    if (name === 'nw_tos') return { ...s, ip: { ...s.ip, tos: (tos & 3) | n } };
    if (name === 'nw_ecn') return { ...s, ip: { ...s.ip, tos: (tos & 0xfc) | n } };
    if (name === 'nw_ttl') return { ...s, ip: { ...s.ip, ttl: n } };
  } else {
    const tc = s.ip.trafficClass ?? 0;
    if (name === 'ipv6_src') return { ...s, ip: { ...s.ip, src: x } };
    if (name === 'ipv6_dst') return { ...s, ip: { ...s.ip, dst: x } };
    if (name === 'ipv6_label') return { ...s, ip: { ...s.ip, flowLabel: n } };
    if (name === 'nw_tos') return { ...s, ip: { ...s.ip, trafficClass: (tc & 3) | n } };
    if (name === 'nw_ecn') return { ...s, ip: { ...s.ip, trafficClass: (tc & 0xfc) | n } };
    if (name === 'nw_ttl') return { ...s, ip: { ...s.ip, hopLimit: n } };
  }
  const l4 = s.l4;
  let nl4: L4;
  if (name === 'tp_src' || name === 'tp_dst') nl4 = { ...(l4 as { srcPort: number; dstPort: number } & L4), [name === 'tp_src' ? 'srcPort' : 'dstPort']: n };
  else if (name === 'tcp_flags') nl4 = { ...(l4 as L4Spec & { proto: 'tcp' }), flags: n };
  else if (name === 'icmp_type') nl4 = { ...(l4 as L4Spec & { proto: 'icmp' }), type: n };
  else if (name === 'icmp_code') nl4 = { ...(l4 as L4Spec & { proto: 'icmp' }), code: n };
  else {
    const nd = l4 as NdSpec;
    if (name === 'nd_target') nl4 = { ...nd, target: x };
    else nl4 = { ...nd, opts: nd.opts.map((o) => (o.type === (name === 'nd_sll' ? 1 : 2) ? { ...o, mac: n } : o)) };
  }
  return { ...s, l4: nl4 } as PacketSpec;
}

t.test('commitKey(random field changes) == building the changed packet', async (t) => {
  const oldKey = newKey();
  const key2 = newKey();
  const layout = new PacketLayout();
  let pushes = 0;
  let pops = 0;
  fc.assert(
    fc.property(
      packetArb,
      fc.array(fc.tuple(fc.nat(), fc.bigInt({ min: 0n, max: (1n << 128n) - 1n })), { minLength: 1, maxLength: 5 }),
      fc.boolean(),
      (s, changes, passLayout) => {
        const frame = build(s);
        extractKey(frame, oldKey, 7, layout);
        const nk = oldKey.slice();
        let s2 = s;
        const names: string[] = [];
        for (const [i, v] of changes) {
          const fields = writableFields(s2);
          const name = fields[i % fields.length]!;
          const x = fieldValue(s2, name, v);
          setBits(nk, field(name), x);
          s2 = applyField(s2, name, x, s);
          names.push(`${name}=0x${x.toString(16)}`);
        }
        const hadTag = s.eth.vlanTci !== undefined;
        const hasTag = s2.eth.vlanTci !== undefined;
        if (!hadTag && hasTag) pushes++;
        if (hadTag && !hasTag) pops++;
        const out = passLayout ? commitKey(frame, oldKey, nk, layout) : commitKey(frame, oldKey, nk);
        const want = build(s2);
        const ctx = `changes ${names.join(', ')}\nbefore ${Buffer.from(build(s)).toString('hex')}`;
        if (!Buffer.from(out).equals(Buffer.from(want))) {
          throw new Error(`${ctx}\ngot    ${Buffer.from(out).toString('hex')}\nwanted ${Buffer.from(want).toString('hex')}`);
        }
        const c = verifyChecksums(out);
        if (c.ip4 === false || c.l4 === false) throw new Error(`${ctx}\nbad checksum ${JSON.stringify(c)}`);
        extractKey(out, key2, 7);
        const d = diffKeys(key2, nk);
        if (d.length) throw new Error(`${ctx}\n${d.join('\n')}`);
        if (passLayout) {
          // The layout follows the frame through a push or pop.
          const fresh = extractKey(out, key2, 7, new PacketLayout());
          if (JSON.stringify(fresh) !== JSON.stringify(layout)) throw new Error(`${ctx}\nlayout ${JSON.stringify(layout)} != ${JSON.stringify(fresh)}`);
        }
      },
    ),
    { numRuns: 4000 },
  );
  t.ok(pushes > 0 && pops > 0, `VLAN pushes (${pushes}) and pops (${pops}) were exercised`);
});

t.test('commitKey with equal keys leaves the frame alone', async (t) => {
  fc.assert(
    fc.property(packetArb, (s) => {
      const frame = build(s);
      const copy = frame.slice();
      const k = newKey();
      extractKey(frame, k, 1);
      const out = commitKey(frame, k, k.slice());
      return out === frame && Buffer.from(out).equals(Buffer.from(copy));
    }),
    { numRuns: 300 },
  );
  t.pass();
});
