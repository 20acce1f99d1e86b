// The action language: random action ASTs survive print → parse, and print is a fixed point;
// accepted forms print canonically; rejected inputs fail with ovn-controller's wording.
import t from 'tap';
import fc from 'fast-check';
import {
  MatchError,
  ovnSymbols,
  parseActions,
  printAction,
  printActions,
  type Action,
  type Arg,
  type ArgValue,
  type Backend,
  type FieldRef,
  type IntConst,
  type IntFormat,
  type StrConst,
  type Value,
} from '../src/index.js';
import { canon } from './helpers.js';

const symtab = ovnSymbols();

// ---- building blocks ----

const ref = (symbol: string, ofs?: number, nBits?: number): FieldRef => {
  const width = symtab.get(symbol)!.width;
  return ofs === undefined ? { symbol, ofs: 0, nBits: width, subscript: false } : { symbol, ofs, nBits: nBits ?? 1, subscript: true };
};
const int = (value: bigint, format: IntFormat = 'dec', mask?: bigint): IntConst => ({ kind: 'int', value, mask, format });
const str = (value: string): StrConst => ({ kind: 'str', value });
const ip4 = (text: string): IntConst => int(text.split('.').reduce((v, o) => (v << 8n) | BigInt(o), 0n), 'ipv4');
const arg = (value: ArgValue, key?: string): Arg => ({ key, value });
const cArg = (c: IntConst | StrConst, key?: string): Arg => arg({ kind: 'const', c }, key);
const fArg = (symbol: string, key?: string): Arg => arg({ kind: 'field', ref: ref(symbol) }, key);
const wArg = (word: string, key?: string): Arg => arg({ kind: 'word', word }, key);

// ---- fields and constants that fit them ----

/** Fields ovn-controller lets actions write outside ct_commit (rw symbols of its symbol table). */
const WRITABLE = [
  'xxreg0', 'xxreg1', 'xreg0', 'xreg1', 'xreg2', 'xreg3', 'xreg4',
  'reg0', 'reg1', 'reg2', 'reg3', 'reg4', 'reg5', 'reg6', 'reg7', 'reg8', 'reg9',
  'flags', 'flags.loopback', 'flags.force_snat_for_lb', 'flags.skip_snat_for_lb',
  'eth.src', 'eth.dst', 'ip.dscp', 'ip.ecn', 'ip.ttl', 'ip4.src', 'ip4.dst', 'ip6.src', 'ip6.dst', 'ip6.label',
  'icmp4.type', 'icmp4.code', 'icmp6.type', 'icmp6.code',
  'arp.op', 'arp.spa', 'arp.sha', 'arp.tpa', 'arp.tha', 'nd.target', 'nd.sll', 'nd.tll',
  'tcp.src', 'tcp.dst', 'udp.src', 'udp.dst', 'sctp.src', 'sctp.dst', 'pkt.mark',
];
/** Fields only ct_commit { … } may write. */
const CT_WRITABLE = ['ct_mark', 'ct_mark.blocked', 'ct_mark.natted', 'ct_mark.ecmp_reply_port', 'ct_label', 'ct_label.blocked', 'ct_label.label', 'ct_label.ecmp_reply_eth'];
/** Every non-predicate symbol with bits: what may be read (and be an argument). */
const READABLE = [...symtab].filter((s) => s.kind !== 'predicate' && s.width > 0).map((s) => s.name);
const STRING_FIELDS = ['inport', 'outport'];

const widthOf = (name: string): number => symtab.get(name)!.width;

/** A reference of exactly `w` bits into one of `names`: the whole field, or a subscript. */
function refOfWidth(names: readonly string[], w: number): fc.Arbitrary<FieldRef> {
  const fits = names.filter((n) => widthOf(n) >= w);
  return fc.constantFrom(...fits).chain((symbol) => {
    const width = widthOf(symbol);
    const subscript = fc.integer({ min: 0, max: width - w }).map((ofs): FieldRef => ({ symbol, ofs, nBits: w, subscript: true }));
    return w === width ? fc.oneof(fc.constant(ref(symbol)), subscript) : subscript;
  });
}

/** Any reference into one of `names`, with its width. */
function anyRef(names: readonly string[]): fc.Arbitrary<FieldRef> {
  return fc.constantFrom(...names).chain((symbol) => {
    const width = widthOf(symbol);
    return fc.oneof(
      fc.constant(ref(symbol)),
      fc.integer({ min: 0, max: width - 1 }).chain((lo) => fc.integer({ min: lo, max: width - 1 }).map((hi): FieldRef => ({ symbol, ofs: lo, nBits: hi - lo + 1, subscript: true }))),
    );
  });
}

const ones = (bits: number): bigint => (1n << BigInt(bits)) - 1n;
const FORMAT_BITS: Record<IntFormat, number> = { dec: 64, hex: 1024, ipv4: 32, mac: 48, ipv6: 128 };

/** An unmasked constant that fits `bits` bits (addresses count their full size, as OVN checks). */
function constantFor(bits: number): fc.Arbitrary<IntConst> {
  const formats = (['dec', 'hex', 'ipv4', 'mac', 'ipv6'] as const).filter((f) => f === 'dec' || f === 'hex' || FORMAT_BITS[f] <= bits);
  return fc.constantFrom(...formats).chain((format) => {
    const max = format === 'dec' ? ones(Math.min(bits, 64)) : format === 'hex' ? ones(bits) : ones(FORMAT_BITS[format]);
    return fc.oneof(fc.bigInt(0n, max), fc.constantFrom(0n, max)).map((v) => int(v, format));
  });
}

/** A constant of any format, possibly value/mask (as arguments like ct_mark=0x1/0x1 or prefix = fd00::/64 are). */
const anyConstant: fc.Arbitrary<IntConst> = fc.constantFrom<IntFormat>('dec', 'hex', 'ipv4', 'mac', 'ipv6').chain((format) => {
  const bits = format === 'hex' ? 128 : FORMAT_BITS[format];
  const v = fc.bigInt(0n, ones(bits));
  if (format === 'dec') return v.map((x) => int(x, 'dec'));
  const mask = format === 'ipv4' || format === 'ipv6'
    ? fc.oneof(fc.integer({ min: 0, max: bits }).map((len) => ones(bits) ^ ones(bits - len)), fc.bigInt(0n, ones(bits)))
    : fc.bigInt(0n, ones(bits));
  return fc.tuple(v, fc.option(mask, { nil: undefined })).map(([x, m]) => (m === undefined ? int(x, format) : int(x & m, format, m)));
});

/** Strings with the characters that need escaping, and any Unicode. */
const anyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
  fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\t', '\u0000', '\u007f', 'é', '\ud800', '*/', '/*', '//', ';', '}', ' '), maxLength: 6 }),
);

// ---- arguments ----

const WORDS = ['info', 'alert', 'warning', 'drop', 'allow', 'reject', 'false', 'true', 'dnat', 'snat', 'random', 'slaac', 'x_y.z9'];
const KEYS = ['name', 'severity', 'verdict', 'meter', 'offerip', 'router', 'dns_server', 'hostname', 'lease_time', 'vip', 'backend', 'timeout', 'ct_mark', 'ct_label', 'ipv6', 'event'];

const argValue: fc.Arbitrary<ArgValue> = fc.oneof(
  { arbitrary: anyConstant.map((c): ArgValue => ({ kind: 'const', c })), weight: 3 },
  { arbitrary: anyString.map((s): ArgValue => ({ kind: 'const', c: str(s) })), weight: 2 },
  { arbitrary: anyRef(READABLE).map((r): ArgValue => ({ kind: 'field', ref: r })), weight: 2 },
  { arbitrary: fc.constantFrom(...STRING_FIELDS).map((s): ArgValue => ({ kind: 'field', ref: ref(s) })), weight: 1 },
  { arbitrary: fc.constantFrom(...WORDS).map((word): ArgValue => ({ kind: 'word', word })), weight: 1 },
  {
    arbitrary: fc.array(fc.oneof(anyConstant, anyString.map(str)), { maxLength: 4 }).map((items): ArgValue => ({ kind: 'set', items })),
    weight: 1,
  },
  {
    arbitrary: fc.constantFrom<IntFormat>('dec', 'hex', 'ipv4', 'ipv6').chain((format) => {
      const bits = format === 'ipv4' ? 32 : format === 'ipv6' ? 128 : 64;
      return fc.tuple(fc.bigInt(0n, ones(bits)), fc.bigInt(0n, ones(bits))).map(([lo, hi]): ArgValue => ({ kind: 'range', lo: int(lo, format), hi: int(hi, format) }));
    }),
    weight: 1,
  },
);
const argList: fc.Arbitrary<Arg[]> = fc.array(
  fc.record({ key: fc.option(fc.constantFrom(...KEYS), { nil: undefined }), value: argValue }).map(({ key, value }): Arg => ({ key, value })),
  { maxLength: 4 },
);

// ---- statements ----

const BARE = ['ct_next', 'ct_commit', 'ct_dnat', 'ct_snat', 'ct_dnat_in_czone', 'ct_snat_in_czone', 'ct_commit_nat', 'ct_snat_to_vip', 'ct_clear', 'ct_lb', 'ct_lb_mark', 'igmp', 'handle_dhcpv6_reply', 'mac_cache_use'];
const CALLS = ['ct_next', 'ct_commit', 'ct_dnat', 'ct_snat', 'ct_dnat_in_czone', 'ct_snat_in_czone', 'put_arp', 'put_nd', 'get_arp', 'get_nd', 'put_fdb', 'log', 'set_queue', 'trigger_event', 'handle_svc_check', 'bind_vport', 'fwd_group', 'commit_ecmp_nh', 'commit_lb_aff'];
const BLOCKS = ['arp', 'icmp4', 'icmp4_error', 'icmp6', 'icmp6_error', 'nd_na', 'nd_na_router', 'nd_ns', 'tcp_reset', 'sctp_abort', 'reject', 'clone'];
const ONE_BIT_FUNCTIONS = ['check_in_port_sec', 'check_out_port_sec', 'chk_lb_hairpin', 'chk_lb_hairpin_reply', 'lookup_arp', 'lookup_arp_ip', 'lookup_nd', 'lookup_nd_ip', 'put_dhcp_opts', 'put_dhcpv6_opts', 'put_nd_ra_opts', 'dns_lookup', 'check_pkt_larger', 'lookup_fdb', 'chk_ecmp_nh', 'chk_ecmp_nh_mac', 'chk_lb_aff'];

/** The calls and results northd writes, built by hand (their text is checked in the table tests below). */
const CALL_TEMPLATES: Action[] = [
  { kind: 'call', name: 'ct_next', args: undefined },
  { kind: 'call', name: 'ct_dnat', args: [cArg(ip4('10.0.0.1'))] },
  { kind: 'call', name: 'ct_snat', args: [cArg(ip4('10.0.0.1')), arg({ kind: 'range', lo: int(1000n), hi: int(2000n) })] },
  { kind: 'call', name: 'put_arp', args: [fArg('inport'), fArg('arp.spa'), fArg('arp.sha')] },
  { kind: 'call', name: 'log', args: [cArg(str('a'), 'name'), wArg('info', 'severity'), wArg('drop', 'verdict')] },
  { kind: 'call', name: 'ct_commit', args: [cArg(int(1n, 'hex', 1n), 'ct_mark')] },
  { kind: 'call', name: 'get_arp', args: [fArg('outport'), arg({ kind: 'field', ref: ref('reg0') })] },
];
const dhcpArgs: Arg[] = [
  cArg(ip4('10.0.0.5'), 'offerip'),
  cArg(ip4('10.0.0.1'), 'router'),
  arg({ kind: 'set', items: [ip4('8.8.8.8'), ip4('1.1.1.1')] }, 'dns_server'),
  cArg(int(3600n), 'lease_time'),
  cArg(str('x'), 'hostname'),
];
const RESULT_TEMPLATES: readonly [string, Arg[]][] = [
  ['check_in_port_sec', []],
  ['lookup_arp', [fArg('inport'), fArg('arp.spa'), fArg('arp.sha')]],
  ['put_dhcp_opts', dhcpArgs],
  ['put_nd_ra_opts', [cArg(str('slaac'), 'addr_mode'), cArg(int(1500n), 'mtu'), cArg(int(0xfd00n << 112n, 'ipv6', ones(128) ^ ones(64)), 'prefix')]],
  ['check_pkt_larger', [cArg(int(1500n))]],
];

const oneBitDst = refOfWidth(WRITABLE, 1);

const leaf: fc.Arbitrary<Action> = fc.oneof(
  // next, next(N), next(pipeline=P, table=N)
  fc.constant<Action>({ kind: 'next', pipeline: undefined, table: undefined }),
  fc.integer({ min: 0, max: 255 }).map((table): Action => ({ kind: 'next', pipeline: undefined, table })),
  fc.record({ pipeline: fc.constantFrom('ingress' as const, 'egress' as const), table: fc.integer({ min: 0, max: 255 }) }).map(({ pipeline, table }): Action => ({ kind: 'next', pipeline, table })),
  fc.constant<Action>({ kind: 'output' }),
  fc.constant<Action>({ kind: 'dec_ttl' }),
  // dst = constant, respecting the destination's width.
  anyRef(WRITABLE).chain((dst) => constantFor(dst.nBits).map((c): Action => ({ kind: 'assign', dst, src: { kind: 'const', c } }))),
  // dst = src and a <-> b of equal widths.
  fc.integer({ min: 1, max: 128 }).chain((w) => fc.tuple(refOfWidth(WRITABLE, w), refOfWidth(READABLE, w))).map(([dst, src]): Action => ({ kind: 'assign', dst, src: { kind: 'field', ref: src } })),
  fc.integer({ min: 1, max: 128 }).chain((w) => fc.tuple(refOfWidth(WRITABLE, w), refOfWidth(WRITABLE, w))).map(([a, b]): Action => ({ kind: 'exchange', a, b })),
  // String fields: outport = "p", outport = inport, inport <-> outport.
  fc.tuple(fc.constantFrom(...STRING_FIELDS), anyString).map(([f, s]): Action => ({ kind: 'assign', dst: ref(f), src: { kind: 'const', c: str(s) } })),
  fc.tuple(fc.constantFrom(...STRING_FIELDS), fc.constantFrom(...STRING_FIELDS)).map(([a, b]): Action => ({ kind: 'assign', dst: ref(a), src: { kind: 'field', ref: ref(b) } })),
  fc.constant<Action>({ kind: 'exchange', a: ref('inport'), b: ref('outport') }),
  // dst = fn(args): northd's forms, and any 1-bit function with any arguments.
  fc.tuple(oneBitDst, fc.constantFrom(...RESULT_TEMPLATES)).map(([dst, [fn, args]]): Action => ({ kind: 'result', dst, fn, args })),
  fc.tuple(oneBitDst, fc.constantFrom(...ONE_BIT_FUNCTIONS), argList).map(([dst, fn, args]): Action => ({ kind: 'result', dst, fn, args })),
  fc.tuple(anyRef(WRITABLE), fc.array(fc.integer({ min: 0, max: 65535 }), { minLength: 1, maxLength: 4 })).map(([dst, ids]): Action => ({
    kind: 'result', dst, fn: 'select', args: ids.map((i) => cArg(int(BigInt(i)))),
  })),
  fc.constant<Action>({ kind: 'result', dst: ref('outport'), fn: 'get_fdb', args: [fArg('eth.dst')] }),
  // name; and name(args);
  fc.constantFrom(...BARE).map((name): Action => ({ kind: 'call', name, args: undefined })),
  fc.tuple(fc.constantFrom(...CALLS), argList).map(([name, args]): Action => ({ kind: 'call', name, args })),
  fc.constantFrom(...CALL_TEMPLATES),
  // ct_lb / ct_lb_mark with backends.
  fc.record({
    name: fc.constantFrom('ct_lb' as const, 'ct_lb_mark' as const),
    backends: fc.array(backend(), { maxLength: 3 }),
    hashFields: fc.option(fc.oneof(fc.constantFrom('ip_src,ip_dst', 'eth_src,eth_dst,ip_src,ip_dst,tp_src,tp_dst'), anyString), { nil: undefined }),
    flags: fc.subarray(['skip_snat', 'force_snat']),
  }).map((r): Action => ({ kind: 'ct_lb', ...r })),
);

function backend(): fc.Arbitrary<Backend> {
  return fc.record({
    ip: fc.oneof(fc.bigInt(0n, ones(32)).map((v) => int(v, 'ipv4')), fc.oneof(fc.bigInt(0n, ones(128)), fc.constantFrom(0n, 1n, 0xfd00n << 112n | 1n)).map((v) => int(v, 'ipv6'))),
    port: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
  });
}

/** What ct_commit { … } may contain: ct_mark / ct_label assignments (and registers, as northd writes). */
const ctCommitBody: fc.Arbitrary<Action[]> = fc.array(
  fc.oneof(
    anyRef(CT_WRITABLE).chain((dst) => constantFor(dst.nBits).map((c): Action => ({ kind: 'assign', dst, src: { kind: 'const', c } }))),
    fc.constant<Action>({ kind: 'assign', dst: ref('ct_label.ecmp_reply_eth'), src: { kind: 'field', ref: ref('eth.src') } }),
    oneBitDst.map((dst): Action => ({ kind: 'assign', dst, src: { kind: 'const', c: int(1n) } })),
  ),
  { minLength: 1, maxLength: 3 },
);

/**
 * Action lists with blocks nested `depth` deep. `drop;` comes alone (ovn-controller accepts it
 * only as a whole list); everything else mixes freely.
 */
const lists = new Map<number, fc.Arbitrary<Action[]>>();
function actionList(depth: number): fc.Arbitrary<Action[]> {
  let a = lists.get(depth);
  if (a) return a;
  const action: fc.Arbitrary<Action> = depth === 0
    ? leaf
    : fc.oneof(
      { arbitrary: leaf, weight: 4 },
      {
        arbitrary: fc.tuple(fc.constantFrom(...BLOCKS), actionList(depth - 1)).map(([name, body]): Action => ({ kind: 'block', name, body })),
        weight: 1,
      },
      { arbitrary: ctCommitBody.map((body): Action => ({ kind: 'block', name: 'ct_commit', body })), weight: 1 },
    );
  a = fc.oneof(
    { arbitrary: fc.constant<Action[]>([{ kind: 'drop' }]), weight: 1 },
    { arbitrary: fc.array(action, depth === 3 ? { minLength: 1, maxLength: 6 } : { maxLength: 3 }), weight: 6 },
  );
  lists.set(depth, a);
  return a;
}

/** Deepest block nesting of a list. */
function depthOf(list: readonly Action[]): number {
  return Math.max(0, ...list.map((a) => (a.kind === 'block' ? 1 + depthOf(a.body) : 0)));
}

function kindsOf(list: readonly Action[], out = new Set<string>()): Set<string> {
  for (const a of list) {
    out.add(a.kind);
    if (a.kind === 'block') kindsOf(a.body, out);
  }
  return out;
}

// ---- properties ----

t.test('the arbitrary covers every node kind and nests blocks three deep', async (t) => {
  const kinds = new Set<string>();
  let deepest = 0;
  for (const list of fc.sample(actionList(3), { numRuns: 300, seed: 42 })) {
    kindsOf(list, kinds);
    deepest = Math.max(deepest, depthOf(list));
  }
  t.same([...kinds].sort(), ['assign', 'block', 'call', 'ct_lb', 'dec_ttl', 'drop', 'exchange', 'next', 'output', 'result']);
  t.equal(deepest, 3);
  t.same(WORDS.filter((w) => symtab.has(w)), [], 'no word is a symbol (it would parse as a field)');
  t.same([...WRITABLE, ...CT_WRITABLE].filter((f) => !symtab.has(f)), [], 'every writable field is in the symbol table');
});

t.test('parse(print(actions)) == actions, and print is a fixed point', async (t) => {
  fc.assert(
    fc.property(actionList(3), (list) => {
      const text = printActions(list);
      let back: Action[];
      try {
        back = parseActions(text);
      } catch (e) {
        throw new Error(`${text}\n${e instanceof MatchError ? `${e.message}\n${e.pointer()}` : String(e)}`);
      }
      if (canon(back) !== canon(list)) throw new Error(`${text}\n${canon(list)}\n${canon(back)}`);
      const again = printActions(back);
      if (again !== text) throw new Error(`print(parse(print(x))) != print(x):\n${text}\n${again}`);
    }),
    { numRuns: 500 },
  );
  t.pass('500 random action lists round-trip');
});

t.test('statements parse the same separated by comments and new lines', async (t) => {
  fc.assert(
    fc.property(actionList(2), fc.constantFrom(' ', '\n', '\t/* c */ ', ' // c\n'), (list, sep) => {
      const text = list.map(printAction).join(sep);
      const back = parseActions(text);
      if (canon(back) !== canon(list)) throw new Error(`${JSON.stringify(text)}\n${canon(list)}\n${canon(back)}`);
    }),
    { numRuns: 200 },
  );
  t.pass('200 lists with other separators');
});

// ---- accepted forms ----

t.test('accepted forms print canonically', async (t) => {
  const cases: [string, string][] = [
    ['', ''],
    ['/* drop */', ''],
    ['drop;', 'drop;'],
    ['next;', 'next;'],
    ['next(3);', 'next(3);'],
    ['next(table=3);', 'next(3);'],
    ['next(pipeline=egress, table=3);', 'next(pipeline=egress, table=3);'],
    ['next(table=3, pipeline=egress);', 'next(pipeline=egress, table=3);'],
    ['next ( pipeline = ingress , table = 0 ) ;', 'next(pipeline=ingress, table=0);'],
    ['output;', 'output;'],
    ['ip.ttl--;', 'ip.ttl--;'],
    ['ct_commit { };', 'ct_commit;'],
    ['ct_commit;', 'ct_commit;'],
    ['ct_commit{ct_mark.blocked=1;};', 'ct_commit { ct_mark.blocked = 1; };'],
    ['ct_commit(ct_mark=0x1/0x1);', 'ct_commit(ct_mark = 0x1/0x1);'],
    [
      'ct_commit { ct_label.ecmp_reply_eth = eth.src;  reg9[5] = 1;}; next;',
      'ct_commit { ct_label.ecmp_reply_eth = eth.src; reg9[5] = 1; }; next;',
    ],
    ['eth.dst <-> eth.src;', 'eth.dst <-> eth.src;'],
    ['outport="lp1";', 'outport = "lp1";'],
    ['outport = inport;', 'outport = inport;'],
    ['outport = "a\\"b\\u00e9";', 'outport = "a\\"bé";'],
    ['reg0[0..15]=0xff;', 'reg0[0..15] = 0xff;'],
    ['reg0[0..31] = 1;', 'reg0[0..31] = 1;'],
    ['reg9[3] = 1;', 'reg9[3] = 1;'],
    ['ip4.dst = 10.0.0.1;', 'ip4.dst = 10.0.0.1;'],
    ['xxreg0 = fd00:0::1;', 'xxreg0 = fd00::1;'],
    ['eth.dst = FF:FF:FF:FF:FF:FF;', 'eth.dst = ff:ff:ff:ff:ff:ff;'],
    ['eth.src = 10.0.0.1;', 'eth.src = 10.0.0.1;'],
    ['ip6.dst = xxreg0;', 'ip6.dst = xxreg0;'],
    ['reg0[3] = check_in_port_sec();', 'reg0[3] = check_in_port_sec();'],
    ['reg9[2] = lookup_arp(inport, arp.spa, arp.sha);', 'reg9[2] = lookup_arp(inport, arp.spa, arp.sha);'],
    [
      'reg0[3] = put_dhcp_opts(offerip = 10.0.0.5, router = 10.0.0.1, dns_server = {8.8.8.8 1.1.1.1}, lease_time = 3600, hostname = "x");',
      'reg0[3] = put_dhcp_opts(offerip = 10.0.0.5, router = 10.0.0.1, dns_server = {8.8.8.8, 1.1.1.1}, lease_time = 3600, hostname = "x");',
    ],
    [
      'reg0[5] = put_nd_ra_opts(addr_mode = "slaac", mtu = 1500, prefix = fd00::/64);',
      'reg0[5] = put_nd_ra_opts(addr_mode = "slaac", mtu = 1500, prefix = fd00::/64);',
    ],
    ['outport = get_fdb(eth.dst);', 'outport = get_fdb(eth.dst);'],
    ['reg8[16..31] = select(1, 2);', 'reg8[16..31] = select(1, 2);'],
    ['ct_next;', 'ct_next;'],
    ['ct_next();', 'ct_next();'],
    ['ct_dnat(10.0.0.1);', 'ct_dnat(10.0.0.1);'],
    ['ct_snat(10.0.0.1, 1000-2000);', 'ct_snat(10.0.0.1, 1000-2000);'],
    ['ct_dnat_in_czone(fd00::1);', 'ct_dnat_in_czone(fd00::1);'],
    ['put_arp(inport, arp.spa, arp.sha);', 'put_arp(inport, arp.spa, arp.sha);'],
    ['log(name="a", severity=info, verdict=drop);', 'log(name = "a", severity = info, verdict = drop);'],
    ['set_queue(10);', 'set_queue(10);'],
    ['igmp;', 'igmp;'],
    ['handle_dhcpv6_reply;', 'handle_dhcpv6_reply;'],
    ['ct_clear;', 'ct_clear;'],
    ['ct_lb_mark;', 'ct_lb_mark;'],
    ['ct_lb_mark(backends=10.0.0.1:80,10.0.0.2:80);', 'ct_lb_mark(backends=10.0.0.1:80,10.0.0.2:80);'],
    ['ct_lb(10.0.0.1:80, 10.0.0.2:80);', 'ct_lb(backends=10.0.0.1:80,10.0.0.2:80);'],
    ['ct_lb_mark(backends=[fd00::1]:80, [fd00::2]:80);', 'ct_lb_mark(backends=[fd00::1]:80,[fd00::2]:80);'],
    ['ct_lb_mark(backends=[fd00::1]);', 'ct_lb_mark(backends=fd00::1);'],
    ['ct_lb_mark(backends=fd00::1, 10.0.0.1);', 'ct_lb_mark(backends=fd00::1,10.0.0.1);'],
    [
      'ct_lb_mark(backends=10.0.0.1:80; skip_snat; hash_fields="ip_src,ip_dst");',
      'ct_lb_mark(backends=10.0.0.1:80; hash_fields="ip_src,ip_dst"; skip_snat);',
    ],
    ['arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.op = 1; output; };', 'arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.op = 1; output; };'],
    ['clone{outport="p";output;};', 'clone { outport = "p"; output; };'],
    ['icmp4 { };', 'icmp4 { };'],
    ['arp { output; } ;', 'arp { output; };'],
    [
      'nd_na { nd.tll = 00:00:00:00:00:01; outport = inport; flags.loopback = 1; output; };',
      'nd_na { nd.tll = 00:00:00:00:00:01; outport = inport; flags.loopback = 1; output; };',
    ],
    ['clone { arp { icmp4 { output; }; }; };', 'clone { arp { icmp4 { output; }; }; };'],
    ['// a comment\nnext;', 'next;'],
    ['next; /* a comment */ output;', 'next; output;'],
  ];
  for (const [input, want] of cases) {
    let got: string;
    try {
      got = printActions(parseActions(input));
    } catch (e) {
      got = `error: ${(e as Error).message}`;
    }
    t.equal(got, want, input);
    if (!got.startsWith('error')) t.equal(printActions(parseActions(got)), got, `${input} (fixed point)`);
  }
});

t.test('the AST of some forms', async (t) => {
  t.same(parseActions('/* drop */'), []);
  t.same(parseActions('ct_commit { };'), [{ kind: 'block', name: 'ct_commit', body: [] }]);
  t.same(parseActions('next(pipeline=egress, table=3);'), [{ kind: 'next', pipeline: 'egress', table: 3 }]);
  t.same(parseActions('ct_lb_mark(backends=[fd00::1]:80);'), [
    { kind: 'ct_lb', name: 'ct_lb_mark', backends: [{ ip: int(0xfd00n << 112n | 1n, 'ipv6'), port: 80 }], hashFields: undefined, flags: [] },
  ]);
  t.same(parseActions('ct_snat(10.0.0.1, 1000-2000);'), [CALL_TEMPLATES[2]]);
  t.same(parseActions('log(name="a", severity=info, verdict=drop);'), [CALL_TEMPLATES[4]]);
  t.same(parseActions('ip.ttl--;'), [{ kind: 'dec_ttl' }]);
  const dhcp = parseActions('reg0[3] = put_dhcp_opts(offerip = 10.0.0.5, router = 10.0.0.1, dns_server = {8.8.8.8, 1.1.1.1}, lease_time = 3600, hostname = "x");');
  t.same(dhcp, [{ kind: 'result', dst: ref('reg0', 3, 1), fn: 'put_dhcp_opts', args: dhcpArgs }]);
  const v: Value = { kind: 'field', ref: ref('eth.src') };
  t.same(parseActions('eth.dst = eth.src;'), [{ kind: 'assign', dst: ref('eth.dst'), src: v }]);
});

// ---- rejected forms ----

function err(s: string): string {
  try {
    parseActions(s);
  } catch (e) {
    if (e instanceof MatchError) return `${e.message} @${e.start}-${e.end}`;
    throw e;
  }
  return 'no error';
}

t.test('rejected inputs read as ovn-controller reports them, with positions', async (t) => {
  const cases: [string, string][] = [
    ['foo;', "Syntax error at `foo' expecting action. @0-3"],
    ['1;', "Syntax error at `1' expecting action. @0-1"],
    ['drop', "Syntax error at end of input expecting `;'. @4-4"],
    ['next output;', "Syntax error at `output' expecting `;'. @5-11"],
    ['arp { output; }', "Syntax error at end of input expecting `;'. @15-15"],
    ['clone { output; ', 'Syntax error at end of input expecting action. @16-16'],
    ['reg0[0..3] = 0x100;', '9-bit constant is not compatible with 4-bit field reg0[0..3]. @0-18'],
    ['ip4.src = 00:00:00:00:00:01;', '48-bit constant is not compatible with 32-bit field ip4.src. @0-27'],
    ['tcp.dst = 65536;', '17-bit constant is not compatible with 16-bit field tcp.dst. @0-15'],
    ['reg0 <-> reg1[0..3];', "Can't exchange 32-bit field with 4-bit field. @0-19"],
    ['reg0 = reg1[0..3];', "Can't assign 4-bit value to 32-bit destination. @0-17"],
    ['reg0 = "x";', 'Integer field reg0 is not compatible with string constant. @0-10'],
    ['eth.src = "x";', 'Integer field eth.src is not compatible with string constant. @0-13'],
    ['outport = 1;', 'String field outport is not compatible with integer constant. @0-11'],
    ['reg0 = ;', "Syntax error at `;' expecting constant or field. @7-8"],
    ['reg0 = {1, 2};', "Syntax error at `{' expecting constant or field. @7-8"],
    ['reg0--;', "Syntax error at `--' expecting `=' or `<->'. @4-6"],
    ['ip4 = 1;', 'Predicate symbol ip4 used where lvalue required. @0-3'],
    ['reg0[40] = 1;', 'Cannot select bits 40 to 40 of 32-bit field reg0. @0-8'],
    ['next(300);', '300 is not a valid table number. @9-10'],
    ['next(0x3);', "Syntax error at `0x3' expecting small integer. @5-8"],
    ['next(3, 4);', "Syntax error at `,' expecting `)'. @6-7"],
    ['next(pipeline=middle);', 'Syntax error at `middle\' expecting "ingress" or "egress". @14-20'],
    ['reg0[0] = foo();', "Syntax error at `foo' expecting field name. @10-13"],
    ['reg0[0..1] = check_in_port_sec();', 'check_in_port_sec() requires a 1-bit destination, not 2 bits. @0-32'],
    ['arp;', "Syntax error at `;' expecting `{'. @3-4"],
    ['put_arp;', "Syntax error at `;' expecting `('. @7-8"],
    ['log(name="a"', "Syntax error at end of input expecting `,' or `)'. @12-12"],
    ['ct_lb_mark(backends=foo);', "Syntax error at `foo' expecting IP address. @20-23"],
    ['ct_lb_mark(backends=10.0.0.1:70000);', '70000 is not a valid port. @34-35'],
    ['/* unterminated', "`/*' without matching `*/'. @0-15"],
  ];
  for (const [input, want] of cases) t.equal(err(input), want, input);
});

// ---- divergences from ovn-controller (bugs; see the report) ----

t.test('northd 23.03 flows with a protocol name as argument parse', async (t) => {
  // ovn-northd 23.03 writes both (ECMP symmetric reply, load-balancer affinity).
  t.equal(err('commit_ecmp_nh(ipv6 = false, proto = tcp);'), 'no error');
  t.equal(err('commit_lb_aff(vip = "10.0.0.1:80", backend = "10.0.0.2:8080", proto = tcp, timeout = 30);'), 'no error');
});

t.test('next(pipeline=P) keeps its meaning when printed', async (t) => {
  const list: Action[] = [{ kind: 'next', pipeline: 'egress', table: undefined }];
  t.same(canon(parseActions(printActions(list))), canon(list));
  t.equal(printActions(parseActions('next(pipeline=egress);')), 'next(pipeline=egress);');
});

t.test('weighted select() parses, as OVN formats it', async (t) => {
  t.equal(err('reg8[16..31] = select(1=50, 2=50);'), 'no error');
});

t.test('put_nd_ra_opts as a statement is reported like other non-actions', async (t) => {
  t.match(err('put_nd_ra_opts(addr_mode = "slaac");'), /^Syntax error at `put_nd_ra_opts' expecting action\./);
});

t.test('lvalues ovn-controller refuses', async (t) => {
  t.match(err('ip4[0] = 1;'), /^Predicate symbol ip4 used where lvalue required\./);
  t.match(err('inport[0] = 1;'), /^Cannot select subfield of string field inport\./);
  t.match(err('ip.ttl[0..3]--;'), /^Syntax error at `--' expecting `=' or `<->'\./);
});

t.test('next(key=…) names the bad key', async (t) => {
  t.match(err('next(foo=1);'), /^Syntax error at `foo' expecting "pipeline" or "table"\./);
});

t.test('drop; stands only alone, as in ovn-controller', async (t) => {
  t.match(err('drop; output;'), /^Syntax error at `output' expecting end of input\./);
  t.match(err('next; drop;'), /^Syntax error at `drop' expecting action\./);
  t.equal(err('clone { drop; };'), 'no error', 'a whole nested list may be drop;');
});

t.test('string and integer fields do not mix, in OVN\'s words', async (t) => {
  t.match(err('outport = reg0;'), /^Can't assign integer field \(reg0\) to string field \(outport\)\./);
  t.match(err('reg0 <-> outport;'), /^Can't exchange integer field \(reg0\) with string field \(outport\)\./);
});
