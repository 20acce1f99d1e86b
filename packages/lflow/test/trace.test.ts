// The tracer on small Southbound databases built by hand: where packets go (fates), what the
// actions do to them, and the three printed forms.
import t from 'tap';
import {
  formatDetailed,
  formatMinimal,
  formatSummary,
  MatchError,
  Tracer,
  type Fate,
  type Pipeline,
  type SbDatapath,
  type SbLogicalFlow,
  type SbMacBinding,
  type SbMulticastGroup,
  type SbPortBinding,
  type Southbound,
  type TraceNode,
} from '../src/index.js';

// ---- building a Southbound by hand ----

const dp = (name: string, tunnelKey: number, isRouter = false): SbDatapath => ({ uuid: `dp-${name}`, name, tunnelKey, isRouter });

let portKey = 0;
const port = (name: string, datapath: string, extra: Partial<SbPortBinding> = {}): SbPortBinding => ({
  name,
  datapath: `dp-${datapath}`,
  type: '',
  tunnelKey: ++portKey,
  options: new Map(),
  mac: [],
  portSecurity: [],
  chassis: undefined,
  ...extra,
});
const patch = (name: string, datapath: string, peer: string): SbPortBinding => port(name, datapath, { type: 'patch', options: new Map([['peer', peer]]) });

let flowKey = 0;
/** A flow on datapath `datapath`; its UUID starts with eight digits counting flows. */
function flow(datapath: string, pipeline: Pipeline, table: number, stage: string, priority: number, match: string, actions: string): SbLogicalFlow {
  const n = String(++flowKey).padStart(8, '0');
  return { uuid: `${n}-0000-4000-8000-000000000000`, datapaths: [`dp-${datapath}`], pipeline, table, priority, match, actions, stage, source: undefined };
}

function southbound(parts: {
  datapaths: SbDatapath[];
  ports: SbPortBinding[];
  flows: SbLogicalFlow[];
  multicastGroups?: SbMulticastGroup[];
  macBindings?: SbMacBinding[];
}): Southbound {
  return {
    multicastGroups: [],
    macBindings: [],
    addressSets: new Map(),
    portGroups: new Map(),
    svcMonitorMac: undefined,
    ...parts,
  };
}

const MAC = (n: number): string => `00:00:00:00:00:${n.toString(16).padStart(2, '0')}`;

/** A logical switch `sw` with ports p1..p3 (MAC 00:..:0N, IP 10.0.0.N) and a plain L2 pipeline. */
function l2Switch(opts: { portSecurity?: Record<string, string[]> } = {}): Southbound {
  const ports = [1, 2, 3].map((i) => port(`p${i}`, 'sw', { mac: [`${MAC(i)} 10.0.0.${i}`], portSecurity: opts.portSecurity?.[`p${i}`] ?? [] }));
  return southbound({
    datapaths: [dp('sw', 1)],
    ports,
    multicastGroups: [{ datapath: 'dp-sw', name: '_MC_flood', tunnelKey: 32768, ports: ['p3', 'p1', 'p2'] }],
    flows: [
      flow('sw', 'ingress', 0, 'ls_in_port_sec_l2', 100, 'eth.src[40]', 'drop;'),
      flow('sw', 'ingress', 0, 'ls_in_port_sec_l2', 50, '1', 'reg0[15] = check_in_port_sec(); next;'),
      flow('sw', 'ingress', 1, 'ls_in_check_port_sec', 50, 'reg0[15] == 1', 'drop;'),
      flow('sw', 'ingress', 1, 'ls_in_check_port_sec', 0, '1', 'next;'),
      flow('sw', 'ingress', 2, 'ls_in_l2_lkup', 70, 'eth.mcast', 'outport = "_MC_flood"; output;'),
      ...[1, 2, 3].map((i) => flow('sw', 'ingress', 2, 'ls_in_l2_lkup', 50, `eth.dst == ${MAC(i)}`, `outport = "p${i}"; output;`)),
      flow('sw', 'egress', 0, 'ls_out_pre_lb', 0, '1', 'next;'),
      flow('sw', 'egress', 1, 'ls_out_apply_port_sec', 0, '1', 'output;'),
    ],
  });
}

/** A switch `sw` (ports p1..p3) whose ingress table 0 runs `actions` for IPv4, then table 1.. `rest`; egress outputs. */
function actionSwitch(ingress: SbLogicalFlow[], extra: { macBindings?: SbMacBinding[] } = {}): Southbound {
  return southbound({
    datapaths: [dp('sw', 1)],
    ports: [1, 2, 3].map((i) => port(`p${i}`, 'sw', { mac: [`${MAC(i)} 10.0.0.${i}`] })),
    flows: [...ingress, flow('sw', 'egress', 0, 'ls_out_apply_port_sec', 0, '1', 'output;')],
    ...extra,
  });
}

const TCP = (from: number, to: number, more = ''): string =>
  `inport == "p${from}" && eth.src == ${MAC(from)} && eth.dst == ${MAC(to)} && ip4.src == 10.0.0.${from} && ip4.dst == 10.0.0.${to} && ip.ttl == 64 && tcp.src == 5000 && tcp.dst == 80${more}`;

const tcpHeaders = (from: number, to: number): Record<string, string | number> => ({
  'eth.src': MAC(from),
  'eth.dst': MAC(to),
  'ip4.src': `10.0.0.${from}`,
  'ip4.dst': `10.0.0.${to}`,
  'ip.ttl': 64,
  'tcp.src': 5000,
  'tcp.dst': 80,
  'tcp.flags': 0,
});

/** The text of every node of a trace tree, depth first (titles, actions, notes, outputs). */
function lines(n: TraceNode, out: string[] = []): string[] {
  if ('children' in n) {
    out.push(n.title);
    for (const c of n.children) lines(c, out);
  } else out.push(n.kind === 'output' ? `output("${n.port}")` : n.text);
  return out;
}

const fateOf = (sb: Southbound, microflow: string, opts: { ct?: string[]; lbDst?: string } = {}): Fate => new Tracer(sb).trace(undefined, microflow, opts).fate;

// ---- L2 ----

t.test('L2 unicast reaches the port owning the destination MAC', async (t) => {
  const fate = fateOf(l2Switch(), TCP(1, 2));
  t.same(fate, {
    verdict: 'output',
    outputs: [{ port: 'p2', kind: 'forward', headers: tcpHeaders(1, 2) }],
    drops: [],
    ct: [],
    notes: [],
  });
});

t.test('a drop flow records where the packet was dropped', async (t) => {
  const fate = fateOf(l2Switch(), TCP(1, 2).replace(`eth.src == ${MAC(1)}`, 'eth.src == 01:00:00:00:00:01'));
  t.equal(fate.verdict, 'drop');
  t.same(fate.outputs, []);
  t.same(fate.drops, [{ datapath: 'sw', stage: 'ls_in_port_sec_l2', how: 'drop' }]);
});

t.test('no matching flow is an implicit drop', async (t) => {
  const tracer = new Tracer(l2Switch());
  const r = tracer.trace(undefined, TCP(1, 2).replace(`eth.dst == ${MAC(2)}`, 'eth.dst == 00:00:00:00:00:99'));
  t.equal(r.fate.verdict, 'drop');
  t.same(r.fate.drops, [{ datapath: 'sw', stage: 'ls_in_l2_lkup', how: 'no match' }]);
  t.ok(lines(r.root).includes(' 2. ls_in_l2_lkup: no match (implicit drop)'), 'the trace says so');
  // Past the last table of a pipeline: no flows at all.
  const sb = actionSwitch([flow('sw', 'ingress', 0, 'ls_in_a', 0, '1', 'next;')]);
  const end = new Tracer(sb).trace(undefined, TCP(1, 2));
  t.same(end.fate.drops, [{ datapath: 'sw', stage: 'table 1', how: 'no match' }]);
  t.ok(lines(end.root).includes('no logical flows in ingress table 1 (implicit drop)'));
});

t.test('output back to the inport is omitted without flags.loopback', async (t) => {
  const fate = fateOf(l2Switch(), TCP(1, 1));
  t.same(fate.outputs, []);
  t.same(fate.drops, [{ datapath: 'sw', stage: 'ls_in_l2_lkup', how: 'inport == outport' }]);
});

t.test('a multicast group floods every member but the inport, unless flags.loopback', async (t) => {
  const bcast = TCP(1, 2).replace(`eth.dst == ${MAC(2)}`, 'eth.dst == ff:ff:ff:ff:ff:ff');
  const r = new Tracer(l2Switch()).trace(undefined, bcast);
  t.same(r.fate.outputs.map((o) => [o.port, o.kind, o.headers['eth.dst']]), [['p2', 'forward', 'ff:ff:ff:ff:ff:ff'], ['p3', 'forward', 'ff:ff:ff:ff:ff:ff']]);
  t.same(r.fate.drops, []);
  t.ok(lines(r.root).includes('/* omitting output because inport == outport && !flags.loopback */'));
  t.ok(lines(r.root).includes('multicast(dp="sw", mcgroup="_MC_flood")'));
  const loop = fateOf(l2Switch(), `${bcast} && flags.loopback`);
  t.same(loop.outputs.map((o) => [o.port, o.kind]), [['p1', 'reply'], ['p2', 'forward'], ['p3', 'forward']]);
});

// ---- registers across pipelines and datapaths ----

t.test('entering egress clears reg0..reg9 and keeps flags', async (t) => {
  const sb = southbound({
    datapaths: [dp('sw', 1)],
    ports: [port('p1', 'sw'), port('p2', 'sw')],
    flows: [
      flow('sw', 'ingress', 0, 'ls_in_l2_lkup', 50, '1', 'reg0 = 1; reg9 = 9; xreg4[0..3] = 3; xxreg1 = 1; reg8[16..31] = 3; flags.force_snat_for_lb = 1; outport = "p2"; output;'),
      flow('sw', 'egress', 0, 'ls_out_acl', 100, 'reg0 == 0 && reg9 == 0 && xxreg1 == 0 && reg8 == 0 && flags.force_snat_for_lb == 1', 'next;'),
      flow('sw', 'egress', 0, 'ls_out_acl', 0, '1', 'drop;'),
      flow('sw', 'egress', 1, 'ls_out_apply_port_sec', 0, '1', 'output;'),
    ],
  });
  const fate = fateOf(sb, TCP(1, 2));
  t.same(fate.drops, []);
  t.same(fate.outputs.map((o) => o.port), ['p2']);
});

t.test('crossing a patch port into a router datapath clears registers, flags and conntrack', async (t) => {
  const sb = southbound({
    datapaths: [dp('sw', 1), dp('r', 2, true)],
    ports: [port('p1', 'sw'), patch('sw-r', 'sw', 'r-sw'), patch('r-sw', 'r', 'sw-r'), port('r-ext', 'r')],
    flows: [
      flow('sw', 'ingress', 0, 'ls_in_l2_lkup', 50, 'eth.dst == 00:00:00:00:ff:01', 'outport = "sw-r"; output;'),
      // Set in egress, so that only the crossing can clear them.
      flow('sw', 'egress', 0, 'ls_out_pre_lb', 0, '1', 'reg0 = 5; reg9 = 7; xxreg1 = 1; flags.loopback = 1; next;'),
      flow('sw', 'egress', 1, 'ls_out_apply_port_sec', 0, '1', 'output;'),
      flow('r', 'ingress', 0, 'lr_in_admission', 100, 'inport == "r-sw" && reg0 == 0 && reg9 == 0 && xxreg1 == 0 && flags == 0 && ct_state == 0', 'ip.ttl--; outport = "r-ext"; output;'),
      flow('r', 'ingress', 0, 'lr_in_admission', 0, '1', 'drop;'),
      flow('r', 'egress', 0, 'lr_out_delivery', 0, '1', 'output;'),
    ],
  });
  const r = new Tracer(sb).trace(undefined, 'inport == "p1" && eth.src == 00:00:00:00:00:01 && eth.dst == 00:00:00:00:ff:01 && ip4.src == 10.0.0.1 && ip4.dst == 172.16.0.9 && ip.ttl == 64');
  t.same(r.fate.drops, []);
  t.same(r.fate.outputs.map((o) => [o.port, o.headers['ip.ttl']]), [['r-ext', 63]]);
  const titles = lines(r.root).filter((l) => /^(ingress|egress)\(/.test(l));
  t.same(titles, [
    'ingress(dp="sw", inport="p1")',
    'egress(dp="sw", inport="p1", outport="sw-r")',
    'ingress(dp="r", inport="r-sw")',
    'egress(dp="r", inport="r-sw", outport="r-ext")',
  ]);
  t.ok(lines(r.root).includes('/* output to "sw-r", type "patch" */'));
});

// ---- conntrack ----

t.test('--ct states are consumed in order by ct_next, then est|trk', async (t) => {
  const sb = actionSwitch([
    flow('sw', 'ingress', 0, 'ls_in_pre_stateful', 100, 'ip', 'ct_next;'),
    flow('sw', 'ingress', 1, 'ls_in_acl', 0, '1', 'ct_next;'),
    flow('sw', 'ingress', 2, 'ls_in_lb', 0, '1', 'ct_next;'),
    flow('sw', 'ingress', 3, 'ls_in_l2_lkup', 100, 'ct.est && ct.trk && !ct.new', 'outport = "p2"; output;'),
    flow('sw', 'ingress', 3, 'ls_in_l2_lkup', 0, '1', 'drop;'),
  ]);
  const a = fateOf(sb, TCP(1, 2), { ct: ['new', 'est|rpl'] });
  t.same(a.ct, ['ct_next(ct_state=new|trk)', 'ct_next(ct_state=est|rpl|trk)', 'ct_next(ct_state=est|trk)']);
  t.same(a.outputs.map((o) => o.port), ['p2']);
  const b = fateOf(sb, TCP(1, 2));
  t.same(b.ct, ['ct_next(ct_state=est|trk)', 'ct_next(ct_state=est|trk)', 'ct_next(ct_state=est|trk)'], 'est|trk without --ct');
  const c = fateOf(sb, TCP(1, 2), { ct: ['new', 'new', 'new'] });
  t.same(c.ct, ['ct_next(ct_state=new|trk)', 'ct_next(ct_state=new|trk)', 'ct_next(ct_state=new|trk)']);
  t.same(c.drops, [{ datapath: 'sw', stage: 'ls_in_l2_lkup', how: 'drop' }]);
  // Every trace starts from the first state again.
  const tracer = new Tracer(sb);
  tracer.trace(undefined, TCP(1, 2), { ct: ['new', 'new', 'new'] });
  t.same(tracer.trace(undefined, TCP(1, 2), { ct: ['new', 'est'] }).fate.ct, ['ct_next(ct_state=new|trk)', 'ct_next(ct_state=est|trk)', 'ct_next(ct_state=est|trk)']);
});

t.test('ct_lb_mark picks --lb-dst among its backends, else the first, and rewrites the destination', async (t) => {
  const sb = actionSwitch([
    flow('sw', 'ingress', 0, 'ls_in_lb', 120, 'ct.new && ip4.dst == 30.0.0.1 && tcp.dst == 80', 'ct_lb_mark(backends=10.0.0.2:8080,10.0.0.3:8080);'),
    flow('sw', 'ingress', 1, 'ls_in_l2_lkup', 100, 'ct.dnat && ip4.dst == 10.0.0.2', 'outport = "p2"; output;'),
    flow('sw', 'ingress', 1, 'ls_in_l2_lkup', 100, 'ct.dnat && ip4.dst == 10.0.0.3', 'outport = "p3"; output;'),
    flow('sw', 'ingress', 1, 'ls_in_l2_lkup', 0, '1', 'drop;'),
  ]);
  const vip = TCP(1, 2).replace('ip4.dst == 10.0.0.2', 'ip4.dst == 30.0.0.1') + ' && ct.new && ct.trk';
  const dst = (f: Fate): unknown[] => f.outputs.map((o) => [o.port, o.headers['ip4.dst'], o.headers['tcp.dst']]);
  t.same(dst(fateOf(sb, vip)), [['p2', '10.0.0.2', 8080]], 'the first backend without --lb-dst');
  t.same(dst(fateOf(sb, vip, { lbDst: '10.0.0.3:8080' })), [['p3', '10.0.0.3', 8080]]);
  t.same(dst(fateOf(sb, vip, { lbDst: '10.0.0.3' })), [['p3', '10.0.0.3', 8080]], '--lb-dst without a port');
  t.same(dst(fateOf(sb, vip, { lbDst: '10.0.0.3:9999' })), [['p2', '10.0.0.2', 8080]], 'a port no backend has');
  t.same(dst(fateOf(sb, vip, { lbDst: '10.9.9.9:8080' })), [['p2', '10.0.0.2', 8080]], 'an address no backend has');
  t.same(fateOf(sb, vip).ct, ['ct_lb_mark']);
  // IPv6 backends rewrite ip6.dst.
  const sb6 = actionSwitch([
    flow('sw', 'ingress', 0, 'ls_in_lb', 120, 'ip6.dst == fd00::100 && tcp.dst == 80', 'ct_lb_mark(backends=[fd00::2]:8080,[fd00::3]:8080);'),
    flow('sw', 'ingress', 1, 'ls_in_l2_lkup', 0, '1', 'outport = "p2"; output;'),
  ]);
  const f6 = fateOf(sb6, `inport == "p1" && eth.src == ${MAC(1)} && eth.dst == ${MAC(2)} && ip6.src == fd00::1 && ip6.dst == fd00::100 && ip.ttl == 64 && tcp.dst == 80`, { lbDst: '[fd00::3]:8080' });
  t.same(f6.outputs.map((o) => [o.headers['ip6.dst'], o.headers['tcp.dst']]), [['fd00::3', 8080]]);
});

t.test('ct_snat(IP) rewrites ip4.src (and the source port from a range)', async (t) => {
  const sb = (actions: string): Southbound => actionSwitch([
    flow('sw', 'ingress', 0, 'ls_in_nat', 100, 'ip4', actions),
    flow('sw', 'ingress', 1, 'ls_in_l2_lkup', 100, 'ct.snat', 'outport = "p2"; output;'),
    flow('sw', 'ingress', 1, 'ls_in_l2_lkup', 0, '1', 'drop;'),
  ]);
  const a = fateOf(sb('ct_snat(192.168.0.100);'), TCP(1, 2));
  t.same(a.outputs.map((o) => [o.port, o.headers['ip4.src'], o.headers['tcp.src']]), [['p2', '192.168.0.100', 5000]]);
  t.same(a.ct, ['ct_snat(ip4.src=192.168.0.100)']);
  const b = fateOf(sb('ct_snat(192.168.0.100, 1000-2000);'), TCP(1, 2));
  t.same(b.outputs.map((o) => [o.headers['ip4.src'], o.headers['tcp.src'], o.headers['ip4.dst']]), [['192.168.0.100', 1000, '10.0.0.2']]);
});

// ---- packets built by actions ----

t.test('arp { } builds an ARP request for the IPv4 destination', async (t) => {
  const sb = actionSwitch([flow('sw', 'ingress', 0, 'lr_in_arp_request', 100, 'ip4', 'arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.op = 1; outport = "p2"; output; };')]);
  const fate = fateOf(sb, TCP(1, 2));
  t.same(fate.outputs, [{
    port: 'p2',
    kind: 'forward',
    generated: 'arp',
    headers: {
      'eth.src': MAC(1),
      'eth.dst': 'ff:ff:ff:ff:ff:ff',
      'arp.op': 1,
      'arp.sha': MAC(1),
      'arp.spa': '10.0.0.1',
      'arp.tha': '00:00:00:00:00:00',
      'arp.tpa': '10.0.0.2',
    },
  }]);
});

t.test('clone { } sends a copy on while the original goes on', async (t) => {
  const sb = actionSwitch([flow('sw', 'ingress', 0, 'ls_in_l2_lkup', 100, 'ip4', 'clone { outport = "p3"; eth.dst = ff:ff:ff:ff:ff:ff; output; }; outport = "p2"; output;')]);
  const fate = fateOf(sb, TCP(1, 2));
  t.same(fate.outputs.map((o) => [o.port, o.headers['eth.dst'], o.generated]), [['p2', MAC(2), undefined], ['p3', 'ff:ff:ff:ff:ff:ff', undefined]], 'the copy\'s changes stay in the copy');
});

t.test('icmp4 { } answers the sender: generated icmp4, kind reply', async (t) => {
  const icmp = 'icmp4 { eth.dst <-> eth.src; ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 11; icmp4.code = 0; outport = inport; flags.loopback = 1; output; };';
  const sb = actionSwitch([flow('sw', 'ingress', 0, 'lr_in_ip_input', 100, 'ip4 && ip.ttl == {0, 1}', icmp)]);
  const fate = fateOf(sb, TCP(1, 2).replace('ip.ttl == 64', 'ip.ttl == 1'));
  t.same(fate.outputs, [{
    port: 'p1',
    kind: 'reply',
    generated: 'icmp4',
    headers: { 'eth.src': MAC(2), 'eth.dst': MAC(1), 'ip4.src': '10.0.0.2', 'ip4.dst': '10.0.0.1', 'ip.ttl': 255, 'icmp4.type': 11, 'icmp4.code': 0 },
  }]);
  // Without flags.loopback the answer cannot leave through the inport.
  const noLoop = actionSwitch([flow('sw', 'ingress', 0, 'lr_in_ip_input', 100, 'ip4', icmp.replace(' flags.loopback = 1;', ''))]);
  const dropped = fateOf(noLoop, TCP(1, 2));
  t.same(dropped.outputs, []);
  t.same(dropped.drops, [{ datapath: 'sw', stage: 'lr_in_ip_input', how: 'inport == outport' }]);
});

t.test('get_arp fills eth.dst from MAC_Binding', async (t) => {
  const sb = southbound({
    datapaths: [dp('r', 2, true)],
    ports: [port('r-int', 'r'), port('r-ext', 'r')],
    macBindings: [{ logicalPort: 'r-ext', ip: '172.16.0.5', mac: '00:00:00:00:aa:bb', datapath: 'dp-r' }],
    flows: [
      flow('r', 'ingress', 0, 'lr_in_ip_routing', 100, 'ip4', 'outport = "r-ext"; reg0 = ip4.dst; next;'),
      flow('r', 'ingress', 1, 'lr_in_arp_resolve', 100, 'ip4', 'get_arp(outport, reg0); output;'),
      flow('r', 'egress', 0, 'lr_out_delivery', 0, '1', 'output;'),
    ],
  });
  const pkt = (dst: string): string => `inport == "r-int" && eth.src == ${MAC(1)} && eth.dst == 00:00:00:00:ff:01 && ip4.src == 10.0.0.1 && ip4.dst == ${dst} && ip.ttl == 64`;
  const hit = new Tracer(sb).trace(undefined, pkt('172.16.0.5'));
  t.same(hit.fate.outputs.map((o) => [o.port, o.headers['eth.dst']]), [['r-ext', '00:00:00:00:aa:bb']]);
  t.ok(lines(hit.root).includes('/* MAC binding to 00:00:00:00:aa:bb. */'));
  const miss = new Tracer(sb).trace(undefined, pkt('172.16.0.6'));
  t.same(miss.fate.outputs.map((o) => [o.port, o.headers['eth.dst']]), [['r-ext', '00:00:00:00:00:00']]);
  t.ok(lines(miss.root).includes('/* No MAC binding. */'));
});

t.test('check_in_port_sec with port_security "MAC IP" drops spoofed sources', async (t) => {
  const sb = l2Switch({ portSecurity: { p1: [`${MAC(1)} 10.0.0.1`] } });
  t.same(fateOf(sb, TCP(1, 2)).outputs.map((o) => o.port), ['p2'], 'the port\'s own MAC and IP pass');
  const spoofedIp = fateOf(sb, TCP(1, 2).replace('ip4.src == 10.0.0.1', 'ip4.src == 10.0.0.99'));
  t.same(spoofedIp.outputs, []);
  t.same(spoofedIp.drops, [{ datapath: 'sw', stage: 'ls_in_check_port_sec', how: 'drop' }]);
  const spoofedMac = fateOf(sb, TCP(1, 2).replace(`eth.src == ${MAC(1)}`, 'eth.src == 00:00:00:00:00:77'));
  t.same(spoofedMac.drops, [{ datapath: 'sw', stage: 'ls_in_check_port_sec', how: 'drop' }]);
  // p2 has no port security: anything goes.
  t.same(fateOf(sb, TCP(2, 3).replace('ip4.src == 10.0.0.2', 'ip4.src == 10.0.0.99')).outputs.map((o) => o.port), ['p3']);
});

t.test('put_dhcp_opts: the offer carries dhcp_options', async (t) => {
  const sb = actionSwitch([
    flow('sw', 'ingress', 0, 'ls_in_dhcp_options', 100, `inport == "p1" && eth.src == ${MAC(1)} && ip4.src == 0.0.0.0 && ip4.dst == 255.255.255.255 && udp.src == 68 && udp.dst == 67`,
      'reg0[3] = put_dhcp_opts(offerip = 10.0.0.5, router = 10.0.0.1, dns_server = {8.8.8.8, 1.1.1.1}, lease_time = 3600, hostname = "x"); next;'),
    flow('sw', 'ingress', 0, 'ls_in_dhcp_options', 0, '1', 'next;'),
    flow('sw', 'ingress', 1, 'ls_in_dhcp_response', 100, 'reg0[3]',
      'eth.dst = eth.src; eth.src = 00:00:00:00:00:fe; ip4.src = 10.0.0.1; ip4.dst = 10.0.0.5; udp.src = 67; udp.dst = 68; outport = inport; flags.loopback = 1; output;'),
    flow('sw', 'ingress', 1, 'ls_in_dhcp_response', 0, '1', 'drop;'),
  ]);
  const fate = fateOf(sb, `inport == "p1" && eth.src == ${MAC(1)} && eth.dst == ff:ff:ff:ff:ff:ff && ip4.src == 0.0.0.0 && ip4.dst == 255.255.255.255 && ip.ttl == 64 && udp.src == 68 && udp.dst == 67`);
  t.same(fate, {
    verdict: 'output',
    outputs: [{
      port: 'p1',
      kind: 'reply',
      generated: 'put_dhcp_opts',
      dhcp_options: { offerip: '10.0.0.5', router: '10.0.0.1', dns_server: ['8.8.8.8', '1.1.1.1'], lease_time: '3600', hostname: 'x' },
      headers: { 'eth.src': '00:00:00:00:00:fe', 'eth.dst': MAC(1), 'ip4.src': '10.0.0.1', 'ip4.dst': '10.0.0.5', 'ip.ttl': 64, 'udp.src': 67, 'udp.dst': 68 },
    }],
    drops: [],
    ct: [],
    notes: ['/* We assume that this packet is DHCPDISCOVER or DHCPREQUEST. */'],
  });
});

// ---- printed forms ----

t.test('the three printed forms of one trace', async (t) => {
  flowKey = 100;
  const sb = southbound({
    datapaths: [dp('sw', 1)],
    ports: [port('p1', 'sw'), port('p2', 'sw')],
    flows: [
      flow('sw', 'ingress', 0, 'ls_in_port_sec_l2', 50, 'inport == "p1"', 'next;'),
      flow('sw', 'ingress', 1, 'ls_in_pre_acl', 0, '1', 'next;'),
      flow('sw', 'ingress', 2, 'ls_in_l2_lkup', 50, `eth.dst == ${MAC(2)}`, 'outport = "p2"; eth.src = 00:00:00:00:00:0a; output;'),
      flow('sw', 'egress', 0, 'ls_out_apply_port_sec', 0, '1', 'ip.ttl--; output;'),
    ],
  });
  const r = new Tracer(sb).trace(undefined, TCP(1, 2));
  t.equal(formatDetailed(r.root), [
    '',
    'ingress(dp="sw", inport="p1")',
    '-----------------------------',
    ' 0. ls_in_port_sec_l2: inport == "p1", priority 50, uuid 00000101',
    '    next;',
    ' 2. ls_in_l2_lkup: eth.dst == 00:00:00:00:00:02, priority 50, uuid 00000103',
    '    outport = "p2";',
    '    eth.src = 00:00:00:00:00:0a;',
    '    output;',
    '',
    'egress(dp="sw", inport="p1", outport="p2")',
    '------------------------------------------',
    ' 0. ls_out_apply_port_sec: 1, priority 0, uuid 00000104',
    '    ip.ttl--;',
    '    output;',
    '    /* output to "p2", type "" */',
    '',
  ].join('\n'));
  t.equal(formatSummary(r.root), [
    'ingress(dp="sw", inport="p1") {',
    '    next;',
    '    outport = "p2";',
    '    eth.src = 00:00:00:00:00:0a;',
    '    output;',
    '    egress(dp="sw", inport="p1", outport="p2") {',
    '        ip.ttl--;',
    '        output;',
    '        /* output to "p2", type "" */;',
    '    };',
    '};',
    '',
  ].join('\n'));
  t.equal(formatMinimal(r.root), [
    'eth.src = 00:00:00:00:00:0a;',
    'ip.ttl--;',
    'output("p2");',
    '',
  ].join('\n'));
});

// ---- errors ----

t.test('bad arguments throw clear errors', async (t) => {
  const tracer = new Tracer(l2Switch());
  t.throws(() => tracer.trace(undefined, 'inport == "nope" && eth.dst == 00:00:00:00:00:02'), { message: 'microflow must specify an inport of a known port' });
  t.throws(() => tracer.trace('nodp', 'inport == "p1"'), { message: 'unknown datapath "nodp"' });
  t.throws(() => tracer.trace(undefined, 'eth.dst == 00:00:00:00:00:02'), { message: 'microflow must specify an inport' });
  t.throws(() => tracer.trace(undefined, 'inport == "p1" && 0'), { message: 'microflow expression is always false' });
  t.throws(() => tracer.trace(undefined, 'inport == "p1" &&'), MatchError);
  t.throws(() => tracer.trace(undefined, TCP(1, 2), { ct: ['bogus'] }), { message: /^bogus: unknown connection tracking state/ });
  t.throws(() => tracer.trace(undefined, TCP(1, 2), { lbDst: 'nowhere' }), { message: 'nowhere: bad --lb-dst (expected IP[:PORT])' });
  const two = southbound({ datapaths: [dp('a', 1), dp('b', 2)], ports: [port('pa', 'a')], flows: [] });
  t.throws(() => new Tracer(two).trace('b', 'inport == "pa"'), { message: 'inport "pa" is not on datapath "b"' });
  t.equal(tracer.datapath('p2')?.name, 'sw', 'a port name gives its datapath');
  t.equal(tracer.datapath('dp-sw')?.name, 'sw', 'so does the datapath UUID');
  t.equal(tracer.datapath('nodp'), undefined);
});

t.test('flows that do not parse show up in check(), and the trace says why it stopped', async (t) => {
  const bad = flow('sw', 'ingress', 0, 'ls_in_acl', 100, 'ip4', 'foo;');
  const badMatch = flow('sw', 'ingress', 0, 'ls_in_acl', 200, 'bar == 1', 'drop;');
  const sb = actionSwitch([bad, badMatch, flow('sw', 'ingress', 0, 'ls_in_acl', 0, '1', 'next;')]);
  const tracer = new Tracer(sb);
  t.same(tracer.check().map((e) => [e.flow.uuid, e.what, e.error.message]), [
    [bad.uuid, 'actions', "Syntax error at `foo' expecting action."],
    [badMatch.uuid, 'match', "Syntax error at `bar' expecting field name."],
  ]);
  t.same(new Tracer(l2Switch()).check(), [], 'a good database has nothing to report');
  const r = tracer.trace(undefined, TCP(1, 2));
  t.ok(lines(r.root).includes("*** error parsing actions: Syntax error at `foo' expecting action."), 'the bad-match flow is skipped, the bad-actions flow is reported');
  t.same(r.fate.outputs, []);
});

t.test('a packet stopped by unparseable actions leaves a drop point', async (t) => {
  const sb = actionSwitch([flow('sw', 'ingress', 0, 'ls_in_acl', 100, 'ip4', 'foo;')]);
  const fate = fateOf(sb, TCP(1, 2));
  t.equal(fate.verdict, 'drop');
  t.equal(fate.drops.length, 1);
});
