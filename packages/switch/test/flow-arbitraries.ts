/**
 * fast-check generators of flows in ovs-ofctl syntax that real ovs-ofctl 3.1 accepts unchanged:
 * matches in normal form (L3 fields only under an L3 protocol, L4 under L4) and actions whose
 * prerequisites the match meets. `version` leaves out what that OpenFlow version cannot carry.
 */
import fc from 'fast-check';
import { formatIpv6 } from '../src/flow/format.js';

export type Version = 10 | 13 | 15;

const hex = (n: bigint): string => `0x${n.toString(16)}`;
const big = (bits: number): fc.Arbitrary<bigint> => fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n });
/** Mostly small numbers, sometimes anything: keeps dumps readable and still covers wide values. */
const num = (bits: number): fc.Arbitrary<bigint> => fc.oneof(fc.bigInt({ min: 0n, max: 20n }), big(bits));

const mac = big(48).map((v) => v.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:'));
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
// Compressed (::) form; masks must not start with a decimal digit, which ovs-ofctl takes for a prefix length.
const ipv6 = fc
  .array(fc.oneof(fc.constant(0), fc.constant(0), fc.nat(0xffff)), { minLength: 8, maxLength: 8 })
  .map((g) => formatIpv6(g.reduce((acc, x) => (acc << 16n) | BigInt(x), 0n)));

const intMasked = (bits: number, dec: boolean): fc.Arbitrary<string> =>
  fc.oneof(
    num(bits).map((v) => (dec ? v.toString() : hex(v))),
    fc.tuple(num(bits), big(bits)).map(([v, m]) => `${hex(v)}/${hex(m)}`),
  );
/** For set_field: OpenFlow 1.2+ refuses value bits outside the mask. */
const intMaskedClean = (bits: number): fc.Arbitrary<string> =>
  fc.oneof(num(bits).map(hex), fc.tuple(num(bits), big(bits)).map(([v, m]) => `${hex(v & m)}/${hex(m)}`));
const macOf = (v: bigint): string => v.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
const macMaskedClean = fc.oneof(mac, fc.tuple(big(48), big(48)).map(([v, m]) => `${macOf(v & m)}/${macOf(m)}`));
const ipv6MaskedClean = fc.oneof(
  ipv6,
  fc.tuple(big(128), big(128)).map(([v, m]) => [formatIpv6(v & m), formatIpv6(m)]).filter(([, m]) => /^[a-f:]/.test(m!)).map(([v, m]) => `${v}/${m}`),
);
const ipv4Masked = fc.oneof(ipv4, fc.tuple(ipv4, fc.integer({ min: 1, max: 32 })).map(([a, p]) => `${a}/${p}`), fc.tuple(ipv4, ipv4).map(([a, m]) => `${a}/${m}`));
const ipv6Masked = fc.oneof(
  ipv6,
  fc.tuple(ipv6, fc.integer({ min: 1, max: 128 })).map(([a, p]) => `${a}/${p}`),
  fc.tuple(ipv6, ipv6.filter((m) => /^[a-f:]/.test(m))).map(([a, m]) => `${a}/${m}`),
);
const macMasked = fc.oneof(mac, fc.tuple(mac, mac).map(([a, m]) => `${a}/${m}`));

const CT = ['new', 'est', 'rel', 'rpl', 'inv', 'trk', 'snat', 'dnat'];
// Never +inv: OVS refuses ct(commit) under a match on invalid connections.
const ctState = fc.oneof(
  fc
    .uniqueArray(fc.tuple(fc.constantFrom(...CT), fc.boolean()), { minLength: 1, maxLength: 4, selector: (x) => x[0] })
    .map((fs) => fs.map(([f, on]) => `${on && f !== 'inv' ? '+' : '-'}${f}`).join('')),
  fc.uniqueArray(fc.constantFrom(...CT.filter((f) => f !== 'inv')), { minLength: 1, maxLength: 3 }).map((fs) => fs.join('|')),
);
const TCPF = ['fin', 'syn', 'rst', 'psh', 'ack', 'urg', 'ece', 'cwr', 'ns'];
const tcpFlags = fc.uniqueArray(fc.tuple(fc.constantFrom(...TCPF), fc.boolean()), { minLength: 1, maxLength: 4, selector: (x) => x[0] }).map((fs) => fs.map(([f, on]) => `${on ? '+' : '-'}${f}`).join(''));

/** Items any flow may carry (no protocol prerequisites). */
function l2Items(version: Version, roundTripOnly: boolean): fc.Arbitrary<string>[] {
  const items = [
    fc.oneof(fc.integer({ min: 1, max: 0xfeff }).map(String), fc.constantFrom('LOCAL', 'CONTROLLER')).map((p) => `in_port=${p}`),
    macMasked.map((v) => `dl_src=${v}`),
    macMasked.map((v) => `dl_dst=${v}`),
    fc.integer({ min: 0, max: 4095 }).map((v) => `dl_vlan=${v}`),
    fc.integer({ min: 0, max: 7 }).map((v) => `dl_vlan_pcp=${v}`),
    fc.tuple(big(16), big(16)).map(([v, m]) => `vlan_tci=${hex(v)}/${hex(m)}`),
    intMasked(64, false).map((v) => `metadata=${v}`),
    fc.tuple(fc.nat(15), intMasked(32, false)).map(([i, v]) => `reg${i}=${v}`),
    fc.tuple(fc.nat(7), intMasked(64, false)).map(([i, v]) => `xreg${i}=${v}`),
    fc.tuple(fc.nat(3), intMasked(128, false)).map(([i, v]) => `xxreg${i}=${v}`),
    intMasked(32, false).map((v) => `pkt_mark=${v}`),
    intMasked(64, false).map((v) => `tun_id=${v}`),
    ipv4Masked.map((v) => `tun_src=${v}`),
    ipv4Masked.map((v) => `tun_dst=${v}`),
    intMasked(32, false).map((v) => `ct_mark=${v}`),
    intMasked(128, false).map((v) => `ct_label=${v}`),
    fc.integer({ min: 0, max: 0xffff }).map((v) => `ct_zone=${v}`),
    ctState.map((v) => `ct_state=${v}`),
    fc.integer({ min: 0, max: 0xffffffff }).map((v) => `conj_id=${v}`),
  ];
  // OXM (OpenFlow 1.2+) can only say "a VLAN with these VID/PCP bits": the CFI bit must be matched and set.
  // And OXM's vlan_pcp cannot be masked, so the PCP bits are matched all or not at all.
  if (version !== 10) {
    items.splice(5, 1, fc.tuple(big(16), big(12), fc.boolean()).map(([v, m, pcp]) => `vlan_tci=${hex(v | 0x1000n)}/${hex(m | 0x1000n | (pcp ? 0xe000n : 0n))}`));
  }
  // ovs-ofctl sizes tun_metadata by the value's length; ours is always 32 bits.
  if (roundTripOnly) items.push(intMasked(32, false).map((v) => `tun_metadata0=${v}`));
  return items;
}

type Proto = 'none' | 'ip' | 'ipv6' | 'arp' | 'tcp' | 'udp' | 'sctp' | 'icmp' | 'tcp6' | 'udp6' | 'icmp6';
const PROTOS: Proto[] = ['none', 'ip', 'ipv6', 'arp', 'tcp', 'udp', 'sctp', 'icmp', 'tcp6', 'udp6', 'icmp6'];

const isIp4 = (p: Proto): boolean => ['ip', 'tcp', 'udp', 'sctp', 'icmp'].includes(p);
const isIp6 = (p: Proto): boolean => ['ipv6', 'tcp6', 'udp6', 'icmp6'].includes(p);

function l3l4Items(p: Proto): fc.Arbitrary<string>[] {
  const out: fc.Arbitrary<string>[] = [];
  if (p === 'none') out.push(fc.constant('dl_type=0x88cc'));
  if (isIp4(p) || isIp6(p)) {
    out.push(
      fc.integer({ min: 0, max: 63 }).map((v) => `nw_tos=${v * 4}`),
      fc.integer({ min: 0, max: 3 }).map((v) => `nw_ecn=${v}`),
      fc.integer({ min: 0, max: 255 }).map((v) => `nw_ttl=${v}`),
    );
  }
  if (isIp4(p)) out.push(ipv4Masked.map((v) => `nw_src=${v}`), ipv4Masked.map((v) => `nw_dst=${v}`));
  if (isIp6(p)) {
    out.push(
      ipv6Masked.map((v) => `ipv6_src=${v}`),
      ipv6Masked.map((v) => `ipv6_dst=${v}`),
      fc.oneof(big(20).map((v) => `ipv6_label=${hex(v)}`), fc.tuple(big(20), big(20)).map(([v, m]) => `ipv6_label=${hex(v)}/${hex(m)}`)),
    );
  }
  if (p === 'ip' || p === 'ipv6') out.push(fc.constantFrom('no', 'yes', 'first', 'later', 'not_later').map((v) => `nw_frag=${v}`));
  if (p === 'arp') {
    out.push(
      fc.integer({ min: 0, max: 255 }).map((v) => `arp_op=${v}`),
      ipv4Masked.map((v) => `arp_spa=${v}`),
      ipv4Masked.map((v) => `arp_tpa=${v}`),
      macMasked.map((v) => `arp_sha=${v}`),
      macMasked.map((v) => `arp_tha=${v}`),
    );
  }
  if (['tcp', 'udp', 'sctp', 'tcp6', 'udp6'].includes(p)) {
    out.push(intMasked(16, true).map((v) => `tp_src=${v}`), intMasked(16, true).map((v) => `tp_dst=${v}`));
  }
  if (p === 'tcp' || p === 'tcp6') out.push(tcpFlags.map((v) => `tcp_flags=${v}`));
  if (p === 'icmp') out.push(fc.integer({ min: 0, max: 255 }).map((v) => `icmp_code=${v}`), fc.integer({ min: 0, max: 255 }).map((v) => `icmp_type=${v}`));
  return out;
}

/** ND fields need icmp_type 135 (target, sll) or 136 (target, tll), and icmp_code 0 if matched. */
const ndItems = fc.oneof(
  fc.tuple(ipv6Masked, fc.option(mac), fc.boolean()).map(([t, s, c]) => ['icmp_type=135', ...(c ? ['icmp_code=0'] : []), `nd_target=${t}`, ...(s ? [`nd_sll=${s}`] : [])]),
  fc.tuple(ipv6Masked, fc.option(mac), fc.boolean()).map(([t, s, c]) => ['icmp_type=136', ...(c ? ['icmp_code=0'] : []), `nd_target=${t}`, ...(s ? [`nd_tll=${s}`] : [])]),
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })).map(([v, c]) => [`icmp_type=${v}`, `icmp_code=${c}`]),
);

export interface GenFlow {
  readonly proto: Proto;
  readonly match: string[];
  readonly actions: string;
  readonly text: string;
}

function reg(): fc.Arbitrary<{ name: string; bits: number }> {
  return fc.oneof(
    fc.nat(15).map((i) => ({ name: `NXM_NX_REG${i}`, bits: 32 })),
    fc.nat(7).map((i) => ({ name: `OXM_OF_PKT_REG${i}`, bits: 64 })),
    fc.nat(3).map((i) => ({ name: `NXM_NX_XXREG${i}`, bits: 128 })),
    fc.constant({ name: 'OXM_OF_METADATA', bits: 64 }),
    fc.constant({ name: 'NXM_NX_TUN_ID', bits: 64 }),
    fc.constant({ name: 'NXM_OF_ETH_SRC', bits: 48 }),
    fc.constant({ name: 'NXM_NX_PKT_MARK', bits: 32 }),
  );
}

/** A subfield of a register-like field: whole, one bit, or a range. */
function subfield(minBits = 1): fc.Arbitrary<{ text: string; bits: number }> {
  return fc.tuple(reg(), fc.nat(127), fc.nat(127), fc.boolean()).map(([r, a, b, whole]) => {
    if (whole) return { text: `${r.name}[]`, bits: r.bits };
    let lo = Math.min(a, b) % r.bits;
    let hi = Math.max(a, b) % r.bits;
    if (hi < lo) [lo, hi] = [hi, lo];
    if (hi - lo + 1 < minBits) {
      lo = 0;
      hi = Math.min(r.bits, minBits) - 1;
    }
    return { text: lo === hi ? `${r.name}[${lo}]` : `${r.name}[${lo}..${hi}]`, bits: hi - lo + 1 };
  });
}

function loadArb(): fc.Arbitrary<string> {
  return fc.tuple(subfield(), big(128)).map(([s, v]) => `load:${hex(v & ((1n << BigInt(Math.min(s.bits, 64))) - 1n))}->${s.text}`);
}

function moveArb(): fc.Arbitrary<string> {
  return fc.tuple(subfield(), reg(), fc.nat(127)).map(([src, dst, off]) => {
    const bits = Math.min(src.bits, dst.bits);
    const srcText = src.bits === bits ? src.text : src.text.replace(/\[.*\]$/, bits === 1 ? '[0]' : `[0..${bits - 1}]`);
    const lo = off % (dst.bits - bits + 1);
    const dstText = lo === 0 && bits === dst.bits ? `${dst.name}[]` : bits === 1 ? `${dst.name}[${lo}]` : `${dst.name}[${lo}..${lo + bits - 1}]`;
    return `move:${srcText}->${dstText}`;
  });
}

function setFieldArb(p: Proto, version: Version): fc.Arbitrary<string> {
  const opts: fc.Arbitrary<string>[] = [
    fc.tuple(fc.nat(15), intMaskedClean(32)).map(([i, v]) => `set_field:${v}->reg${i}`),
    fc.tuple(fc.nat(3), intMaskedClean(128)).map(([i, v]) => `set_field:${v}->xxreg${i}`),
    intMaskedClean(64).map((v) => `set_field:${v}->metadata`),
    intMaskedClean(32).map((v) => `set_field:${v}->pkt_mark`),
    // ovs-ofctl drops the mask of masked legacy (mod_dl_src …) set_fields in OpenFlow 1.0.
    (version === 10 ? mac : macMaskedClean).map((v) => `set_field:${v}->eth_src`),
    mac.map((v) => `set_field:${v}->eth_dst`),
  ];
  if (isIp4(p)) opts.push(ipv4.map((v) => `set_field:${v}->ip_dst`), ipv4.map((v) => `mod_nw_src:${v}`));
  if (isIp6(p)) opts.push(ipv6MaskedClean.map((v) => `set_field:${v}->ipv6_src`));
  if (p === 'tcp') opts.push(fc.integer({ min: 0, max: 0xffff }).map((v) => `set_field:${v}->tcp_dst`), fc.integer({ min: 0, max: 0xffff }).map((v) => `mod_tp_src:${v}`));
  if (p === 'udp') opts.push(fc.integer({ min: 0, max: 0xffff }).map((v) => `mod_tp_dst:${v}`));
  if (isIp4(p) || isIp6(p)) opts.push(fc.integer({ min: 0, max: 63 }).map((v) => `mod_nw_tos:${v * 4}`), fc.integer({ min: 0, max: 63 }).map((v) => `set_field:${v}->ip_dscp`));
  return fc.oneof(...opts);
}

function ctArb(p: Proto): fc.Arbitrary<string> {
  const v4 = isIp4(p);
  const natRange = v4
    ? fc.tuple(ipv4.filter((a) => a !== '0.0.0.0'), fc.option(ipv4), fc.option(fc.tuple(fc.integer({ min: 1, max: 65535 }), fc.option(fc.integer({ min: 1, max: 65535 }))))).map(([a, b, ports]) => {
        // OVS wants min <= max.
        const n = (x: string): number => x.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
        let s = a;
        if (b && n(b) > n(a)) s += `-${b}`;
        if (ports) s += `:${ports[0]}${ports[1] && ports[1] > ports[0] ? `-${ports[1]}` : ''}`;
        return s;
      })
    : fc.tuple(ipv6.filter((a) => a !== '::'), fc.option(fc.integer({ min: 1, max: 65535 }))).map(([a, port]) => (port ? `[${a}]:${port}` : a));
  const nat = fc.oneof(
    fc.constant('nat'),
    fc.tuple(fc.constantFrom('src', 'dst'), natRange, fc.boolean(), fc.constantFrom('', ',hash', ',random')).map(([k, r, pers, h]) => `nat(${k}=${r}${pers ? ',persistent' : ''}${h})`),
  );
  const exec = fc.array(
    fc.oneof(
      intMaskedClean(32).map((v) => `set_field:${v}->ct_mark`),
      intMaskedClean(128).map((v) => `set_field:${v}->ct_label`),
      fc.tuple(fc.nat(31), fc.nat(1)).map(([b, v]) => `load:${v}->NXM_NX_CT_MARK[${b}]`),
      fc.nat(15).map((i) => `move:NXM_NX_REG${i}[]->NXM_NX_CT_MARK[]`),
    ),
    { minLength: 1, maxLength: 3 },
  );
  return fc
    .record({
      commit: fc.boolean(),
      zone: fc.option(fc.oneof(fc.integer({ min: 1, max: 65535 }).map(String), fc.constant('NXM_NX_REG13[0..15]'))),
      table: fc.option(fc.integer({ min: 0, max: 254 })),
      nat: fc.option(nat),
      exec: fc.option(exec),
    })
    .map((c) => {
      const parts: string[] = [];
      // Anything but a bare nat needs commit.
      const commit = c.commit || (c.nat !== null && c.nat !== 'nat') || c.exec !== null;
      if (commit) parts.push('commit');
      if (c.zone !== null) parts.push(`zone=${c.zone}`);
      if (c.table !== null) parts.push(`table=${c.table}`);
      if (c.nat !== null) parts.push(c.nat);
      if (c.exec !== null) parts.push(`exec(${c.exec.join(',')})`);
      return `ct(${parts.join(',')})`;
    });
}

function simpleActions(p: Proto, version: Version): fc.Arbitrary<string>[] {
  const out: fc.Arbitrary<string>[] = [
    fc.integer({ min: 1, max: 0xfeff }).map((n) => `output:${n}`),
    fc.integer({ min: 0, max: 15 }).map((i) => `output:NXM_NX_REG${i}[]`),
    fc.constantFrom('in_port', 'LOCAL', 'NORMAL', 'FLOOD', 'ALL', 'controller', 'ct_clear', 'exit'),
    fc.tuple(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 14, max: 65535 })).map(([n, l]) => `output(port=${n},max_len=${l})`),
    fc.integer({ min: 0, max: 254 }).map((n) => `resubmit(,${n})`),
    fc.integer({ min: 1, max: 100 }).map((n) => `resubmit:${n}`),
    fc.tuple(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 254 })).map(([n, t]) => `resubmit(${n},${t})`),
    fc.integer({ min: 0, max: 100000 }).map((n) => `group:${n}`),
    fc.array(fc.nat(255), { maxLength: 12 }).map((b) => `note:${b.map((x) => x.toString(16).padStart(2, '0')).join('.')}`),
    fc
      .record({
        reason: fc.option(fc.constantFrom('action', 'no_match', 'invalid_ttl')),
        max_len: fc.option(fc.integer({ min: 0, max: 65535 })),
        id: fc.option(fc.integer({ min: 0, max: 65535 })),
        userdata: fc.option(fc.array(fc.nat(255), { minLength: 1, maxLength: 6 })),
        pause: fc.boolean(),
        meter_id: fc.option(fc.integer({ min: 1, max: 1000 })),
      })
      .map((c) => {
        const parts: string[] = [];
        if (c.reason !== null) parts.push(`reason=${c.reason}`);
        if (c.max_len !== null) parts.push(`max_len=${c.max_len}`);
        if (c.id !== null) parts.push(`id=${c.id}`);
        if (c.userdata !== null) parts.push(`userdata=${c.userdata.map((x) => x.toString(16).padStart(2, '0')).join('.')}`);
        if (c.pause) parts.push('pause');
        if (c.meter_id !== null) parts.push(`meter_id=${c.meter_id}`);
        return `controller(${parts.join(',')})`;
      }),
    loadArb(),
    moveArb(),
    setFieldArb(p, version),
  ];
  if (isIp4(p) || isIp6(p)) {
    out.push(fc.constantFrom('dec_ttl', 'dec_ttl(1,2)', 'dec_ttl(0)'), ctArb(p));
  }
  if (version === 10) out.push(fc.integer({ min: 0, max: 4095 }).map((v) => `mod_vlan_vid:${v}`), fc.integer({ min: 0, max: 7 }).map((v) => `mod_vlan_pcp:${v}`), fc.constant('strip_vlan'));
  return out;
}

function actionsArb(p: Proto, version: Version): fc.Arbitrary<string> {
  const simple = fc.oneof(...simpleActions(p, version));
  const withClone = fc.oneof({ weight: 6, arbitrary: simple }, { weight: 1, arbitrary: fc.array(simple, { maxLength: 3 }).map((xs) => `clone(${xs.join(',')})`) });
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant('drop') },
    {
      weight: 1,
      arbitrary: fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 2, max: 64 }), fc.nat(63)), { minLength: 1, maxLength: 3 }).map((cs) =>
        cs.map(([id, n, k]) => `conjunction(${id},${(k % n) + 1}/${n})`).join(','),
      ),
    },
    {
      weight: 8,
      arbitrary: fc
        .tuple(fc.array(withClone, { minLength: 1, maxLength: 6 }), fc.boolean())
        .map(([as, goto]) => [...as, ...(goto ? ['goto_table:GOTO'] : [])].join(',')),
    },
  );
}

/**
 * A flow OVS accepts, as text. `roundTripOnly` adds forms whose ovs-ofctl printing differs from
 * ours by design (documented in docs/switch-flows.md).
 */
export function flowArb(version: Version, roundTripOnly = false): fc.Arbitrary<GenFlow> {
  return fc.constantFrom(...PROTOS).chain((proto) => {
    const items = [...l2Items(version, roundTripOnly), ...l3l4Items(proto)];
    const nd = proto === 'icmp6' ? ndItems : fc.constant([] as string[]);
    return fc
      .tuple(
        fc.uniqueArray(fc.nat(items.length - 1), { maxLength: 6 }).chain((idx) => (idx.length ? fc.tuple(...idx.map((i) => items[i]!)) : fc.constant([] as string[]))),
        nd,
        actionsArb(proto, version),
        fc.option(fc.integer({ min: 0, max: 65535 })),
        fc.option(fc.integer({ min: 0, max: 254 })),
      )
      .map(([ms, ndm, actions, prio, table]) => {
        const match = [...(proto === 'none' ? [] : [proto]), ...ms, ...ndm];
        const head = [...(table !== null ? [`table=${table}`] : []), ...(prio !== null ? [`priority=${prio}`] : [])];
        // goto_table must go forward; table 254 has nowhere to go.
        const t = table ?? 0;
        const acts = t < 254 ? actions.replace('GOTO', String(Math.min(254, t + 1 + ((prio ?? 0) % 7)))) : actions.replace(/,?goto_table:GOTO/, '') || 'drop';
        return { proto, match, actions: acts, text: [...head, ...match, `actions=${acts}`].join(',') };
      });
  });
}
