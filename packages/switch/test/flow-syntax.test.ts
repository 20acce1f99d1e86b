// ovs-ofctl flow syntax: outputs recorded from ovs-ofctl 3.1 (`parse-flows`, dump-flows,
// dump-groups of a real ovs-vswitchd), random parse → print → parse round trips, and errors.
import t from 'tap';
import fc from 'fast-check';
import {
  DEFAULT_PRIORITY,
  FlowSyntaxError,
  FlowTables,
  matchEqual,
  ofField,
  parseActions,
  parseFlowMod,
  parseGroup,
  parseMatch,
  printActions,
  printDumpFlow,
  printFlow,
  printGroup,
  printMatch,
  printMatchActions,
  setExact,
  newMatch,
} from '../src/flow/index.js';
import type { Action, FlowMod, OfVersion, SetFieldAction } from '../src/flow/index.js';
import { formatIpv6, parseIpv6 } from '../src/flow/format.js';
import { flowArb } from './flow-arbitraries.js';

const EXAMPLES: ReadonlyArray<readonly [input: string, of10: string, of15: string | undefined]> = [
  ['table=0,priority=100,ip,reg14=0x1,metadata=0x1,nw_dst=10.0.0.1,actions=output:2', 'priority=100,ip,reg14=0x1,metadata=0x1,nw_dst=10.0.0.1 actions=output:2', 'priority=100,ip,reg14=0x1,metadata=0x1,nw_dst=10.0.0.1 actions=output:2'],
  ['priority=100,tcp,tp_dst=80,nw_src=10.0.0.0/8,dl_src=00:11:22:33:44:55,actions=resubmit(,8)', 'priority=100,tcp,dl_src=00:11:22:33:44:55,nw_src=10.0.0.0/8,tp_dst=80 actions=resubmit(,8)', 'priority=100,tcp,dl_src=00:11:22:33:44:55,nw_src=10.0.0.0/8,tp_dst=80 actions=resubmit(,8)'],
  ['ct_state=+trk-est,ip,actions=ct(commit,zone=NXM_NX_REG13[0..15],table=9,nat(src=10.0.0.1-10.0.0.5:100-200),exec(set_field:0x1->ct_mark,load:0x2->NXM_NX_CT_LABEL[0..63]))', 'ct_state=-est+trk,ip actions=ct(commit,table=9,zone=NXM_NX_REG13[0..15],nat(src=10.0.0.1-10.0.0.5:100-200),exec(load:0x1->NXM_NX_CT_MARK[],load:0x2->NXM_NX_CT_LABEL[0..63]))', 'ct_state=-est+trk,ip actions=ct(commit,table=9,zone=NXM_NX_REG13[0..15],nat(src=10.0.0.1-10.0.0.5:100-200),exec(set_field:0x1->ct_mark,set_field:0x2/0xffffffffffffffff->ct_label))'],
  ['xreg0=0x1234,xxreg1=0x5/0xff,actions=drop', 'reg0=0,reg1=0x1234,reg7=0x5/0xff actions=drop', 'reg0=0,reg1=0x1234,reg7=0x5/0xff actions=drop'],
  ['ct_state=0x21,actions=drop', 'ct_state=new|trk actions=drop', 'ct_state=new|trk actions=drop'],
  ['ct_state=0,actions=drop', 'ct_state=0 actions=drop', 'ct_state=0 actions=drop'],
  ['ct_state=trk|new,actions=drop', 'ct_state=new|trk actions=drop', 'ct_state=new|trk actions=drop'],
  ['ct_label=0x1/0x1,ct_mark=5,actions=drop', 'ct_mark=0x5,ct_label=0x1/0x1 actions=drop', 'ct_mark=0x5,ct_label=0x1/0x1 actions=drop'],
  ['tun_id=0x5,tun_src=1.2.3.4,tun_dst=1.2.3.0/24,actions=drop', 'tun_id=0x5,tun_src=1.2.3.4,tun_dst=1.2.3.0/24 actions=drop', 'tun_id=0x5,tun_src=1.2.3.4,tun_dst=1.2.3.0/24 actions=drop'],
  ['pkt_mark=5,conj_id=7,metadata=0,reg15=0x8000/0x8000,actions=drop', 'pkt_mark=0x5,conj_id=7,reg15=0x8000/0x8000,metadata=0 actions=drop', 'pkt_mark=0x5,conj_id=7,reg15=0x8000/0x8000,metadata=0 actions=drop'],
  ['tcp,tcp_flags=+syn-ack,nw_tos=4,nw_ecn=1,nw_ttl=64,tp_src=80,tp_dst=0x100/0xff00,actions=drop', 'tcp,nw_tos=4,nw_ecn=1,nw_ttl=64,tp_src=80,tp_dst=0x100/0xff00,tcp_flags=+syn-ack actions=drop', 'tcp,nw_tos=4,nw_ecn=1,nw_ttl=64,tp_src=80,tp_dst=0x100/0xff00,tcp_flags=+syn-ack actions=drop'],
  ['tcp6,ipv6_label=0x12345,ipv6_src=fe80::1/10,ipv6_dst=::1,tp_dst=443,actions=drop', 'tcp6,ipv6_src=fe80::/10,ipv6_dst=::1,ipv6_label=0x12345,tp_dst=443 actions=drop', 'tcp6,ipv6_src=fe80::/10,ipv6_dst=::1,ipv6_label=0x12345,tp_dst=443 actions=drop'],
  ['arp,arp_op=1,arp_spa=10.0.0.1,arp_tpa=10.0.0.0/255.255.255.0,arp_sha=00:00:00:00:00:01,arp_tha=00:00:00:00:00:00/01:00:00:00:00:00,actions=drop', 'arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.0/24,arp_op=1,arp_sha=00:00:00:00:00:01,arp_tha=00:00:00:00:00:00/01:00:00:00:00:00 actions=drop', 'arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.0/24,arp_op=1,arp_sha=00:00:00:00:00:01,arp_tha=00:00:00:00:00:00/01:00:00:00:00:00 actions=drop'],
  ['icmp6,icmpv6_type=135,icmpv6_code=0,nd_target=fe80::1,nd_sll=00:11:22:33:44:55,actions=drop', 'icmp6,icmp_type=135,icmp_code=0,nd_target=fe80::1,nd_sll=00:11:22:33:44:55 actions=drop', 'icmp6,icmp_type=135,icmp_code=0,nd_target=fe80::1,nd_sll=00:11:22:33:44:55 actions=drop'],
  ['icmp,icmp_type=8,icmp_code=0,nw_frag=no,actions=drop', 'icmp,nw_frag=no,icmp_type=8,icmp_code=0 actions=drop', 'icmp,nw_frag=no,icmp_type=8,icmp_code=0 actions=drop'],
  ['ip,nw_frag=first,actions=drop', 'ip,nw_frag=first actions=drop', 'ip,nw_frag=first actions=drop'],
  ['ip,nw_frag=not_later,actions=drop', 'ip,nw_frag=not_later actions=drop', 'ip,nw_frag=not_later actions=drop'],
  ['vlan_tci=0x1000/0x1000,actions=drop', 'vlan_tci=0x1000/0x1000 actions=drop', 'vlan_tci=0x1000/0x1000 actions=drop'],
  ['vlan_tci=0x1005,actions=drop', 'dl_vlan=5,dl_vlan_pcp=0 actions=drop', 'dl_vlan=5,dl_vlan_pcp=0 actions=drop'],
  ['dl_vlan=5,dl_vlan_pcp=3,actions=drop', 'dl_vlan=5,dl_vlan_pcp=3 actions=drop', 'dl_vlan=5,dl_vlan_pcp=3 actions=drop'],
  ['dl_type=0x88cc,dl_dst=01:80:c2:00:00:0e,dl_src=00:00:00:00:00:00/01:00:00:00:00:00,actions=drop', 'dl_src=00:00:00:00:00:00/01:00:00:00:00:00,dl_dst=01:80:c2:00:00:0e,dl_type=0x88cc actions=drop', 'dl_src=00:00:00:00:00:00/01:00:00:00:00:00,dl_dst=01:80:c2:00:00:0e,dl_type=0x88cc actions=drop'],
  ['ip,nw_proto=89,nw_src=10.0.0.0/255.0.255.0,actions=drop', 'ip,nw_src=10.0.0.0/255.0.255.0,nw_proto=89 actions=drop', 'ip,nw_src=10.0.0.0/255.0.255.0,nw_proto=89 actions=drop'],
  ['ip,ip_dscp=5,actions=drop', 'ip,nw_tos=20 actions=drop', 'ip,nw_tos=20 actions=drop'],
  ['ipv6,ipv6_src=fe80::/ffff:ffff::ffff,actions=drop', 'ipv6,ipv6_src=fe80::/ffff:ffff::ffff actions=drop', 'ipv6,ipv6_src=fe80::/ffff:ffff::ffff actions=drop'],
  ['in_port=LOCAL,actions=output:65534', 'in_port=LOCAL actions=LOCAL', 'in_port=LOCAL actions=LOCAL'],
  ['in_port=65533,actions=output:65529,output:65531,output:65532,65530', 'in_port=CONTROLLER actions=TABLE,FLOOD,ALL,NORMAL', 'in_port=CONTROLLER actions=TABLE,FLOOD,ALL,NORMAL'],
  ['ct_state=+new+trk,ip,ct_nw_proto=6,ct_nw_src=10.0.0.1,ct_nw_dst=10.0.0.0/8,ct_tp_src=80,ct_tp_dst=0x50/0xf0,ct_zone=3,ct_mark=1,ct_label=1,reg0=1,metadata=1,pkt_mark=3,conj_id=4,actions=drop', 'pkt_mark=0x3,conj_id=4,ct_state=+new+trk,ct_zone=3,ct_mark=0x1,ct_label=0x1,ct_nw_src=10.0.0.1,ct_nw_dst=10.0.0.0/8,ct_nw_proto=6,ct_tp_src=80,ct_tp_dst=0x50/0xf0,ip,reg0=0x1,metadata=0x1 actions=drop', 'pkt_mark=0x3,conj_id=4,ct_state=+new+trk,ct_zone=3,ct_mark=0x1,ct_label=0x1,ct_nw_src=10.0.0.1,ct_nw_dst=10.0.0.0/8,ct_nw_proto=6,ct_tp_src=80,ct_tp_dst=0x50/0xf0,ip,reg0=0x1,metadata=0x1 actions=drop'],
  ['ip,actions=set_field:10.0.0.1->ip_dst,load:1->reg14,set_field:0x5->reg13,set_field:0x5/0xf->reg12,set_field:00:00:00:00:00:01->eth_dst,move:NXM_NX_REG0[0..15]->NXM_NX_REG1[16..31],move:reg0->reg1,load:0x1234->xxreg0[0..15]', 'ip actions=mod_nw_dst:10.0.0.1,load:0x1->NXM_NX_REG14[],load:0x5->NXM_NX_REG13[],load:0x5->NXM_NX_REG12[0..3],mod_dl_dst:00:00:00:00:00:01,move:NXM_NX_REG0[0..15]->NXM_NX_REG1[16..31],move:NXM_NX_REG0[]->NXM_NX_REG1[],load:0x1234->NXM_NX_XXREG0[0..15]', 'ip actions=set_field:10.0.0.1->ip_dst,set_field:0x1->reg14,set_field:0x5->reg13,set_field:0x5/0xf->reg12,set_field:00:00:00:00:00:01->eth_dst,move:NXM_NX_REG0[0..15]->NXM_NX_REG1[16..31],move:NXM_NX_REG0[]->NXM_NX_REG1[],set_field:0x1234/0xffff->xxreg0'],
  ['actions=strip_vlan,mod_dl_src:00:00:00:00:00:01,controller(userdata=00.00.00.01,pause,meter_id=3),group:3,clone(output:3,in_port),note:01.02.03.04.05.06.07', 'actions=strip_vlan,mod_dl_src:00:00:00:00:00:01,controller(userdata=00.00.00.01,pause,meter_id=3),group:3,clone(output:3,IN_PORT),note:01.02.03.04.05.06.07.00.00.00.00.00.00.00', undefined],
  ['actions=controller,controller:100,controller(reason=no_match),controller(max_len=100,id=3),output:CONTROLLER,LOCAL,2,in_port,output:NXM_NX_REG0[],resubmit(1,2),resubmit:3,resubmit(,3),goto_table:5', 'actions=CONTROLLER:65535,CONTROLLER:100,controller(reason=no_match),controller(max_len=100,id=3),CONTROLLER:65535,LOCAL,output:2,IN_PORT,output:NXM_NX_REG0[],resubmit(1,2),resubmit:3,resubmit(,3),resubmit(,5)', 'actions=CONTROLLER:65535,CONTROLLER:100,controller(reason=no_match),controller(max_len=100,id=3),CONTROLLER:65535,LOCAL,output:2,IN_PORT,output:NXM_NX_REG0[],resubmit(1,2),resubmit:3,resubmit(,3),goto_table:5'],
  ['ip,actions=ct(),ct(commit),ct(commit,zone=5),ct(table=7),ct(zone=NXM_NX_REG13[0..15],table=8),ct(commit,nat(src=10.0.0.1)),ct(commit,nat(dst=10.0.0.1-10.0.0.9:80)),ct(nat),ct(commit,nat(src)),ct(commit,force,zone=3,table=4,exec(move:NXM_NX_REG0[]->NXM_NX_CT_MARK[]))', 'ip actions=ct(),ct(commit),ct(commit,zone=5),ct(table=7),ct(table=8,zone=NXM_NX_REG13[0..15]),ct(commit,nat(src=10.0.0.1)),ct(commit,nat(dst=10.0.0.1-10.0.0.9:80)),ct(nat),ct(commit,nat(src)),ct(commit,force,table=4,zone=3,exec(move:NXM_NX_REG0[]->NXM_NX_CT_MARK[]))', 'ip actions=ct(),ct(commit),ct(commit,zone=5),ct(table=7),ct(table=8,zone=NXM_NX_REG13[0..15]),ct(commit,nat(src=10.0.0.1)),ct(commit,nat(dst=10.0.0.1-10.0.0.9:80)),ct(nat),ct(commit,nat(src)),ct(commit,force,table=4,zone=3,exec(move:NXM_NX_REG0[]->NXM_NX_CT_MARK[]))'],
  ['ipv6,actions=ct(commit,nat(src=fe80::1)),ct(commit,nat(dst=[fe80::1]:80)),ct(commit,nat(dst=fe80::1-fe80::2)),ct(commit,nat(dst=[fe80::1]-[fe80::5]:100-200)),ct(commit,nat(src=fe80::1,random))', 'ipv6 actions=ct(commit,nat(src=fe80::1)),ct(commit,nat(dst=[fe80::1]:80)),ct(commit,nat(dst=fe80::1-fe80::2)),ct(commit,nat(dst=[fe80::1]-[fe80::5]:100-200)),ct(commit,nat(src=fe80::1,random))', 'ipv6 actions=ct(commit,nat(src=fe80::1)),ct(commit,nat(dst=[fe80::1]:80)),ct(commit,nat(dst=fe80::1-fe80::2)),ct(commit,nat(dst=[fe80::1]-[fe80::5]:100-200)),ct(commit,nat(src=fe80::1,random))'],
  ['ip,actions=ct(commit,nat(src=10.0.0.1:5-6,persistent)),ct(commit,nat(src=10.0.0.1,hash)),ct_clear,group:5,note:00,clone(ct_clear,output:1,clone(output:2)),clone()', 'ip actions=ct(commit,nat(src=10.0.0.1:5-6,persistent)),ct(commit,nat(src=10.0.0.1,hash)),ct_clear,group:5,note:00.00.00.00.00.00,clone(ct_clear,output:1,clone(output:2)),clone(drop)', 'ip actions=ct(commit,nat(src=10.0.0.1:5-6,persistent)),ct(commit,nat(src=10.0.0.1,hash)),ct_clear,group:5,note:00.00.00.00.00.00,clone(ct_clear,output:1,clone(output:2)),clone(drop)'],
  ['actions=load:0xa->NXM_NX_REG0[],load:0->NXM_NX_REG0[5..10],load:0x1234567890->OXM_OF_METADATA[],load:0xffffffffffffffff->NXM_NX_XXREG0[],load:0x12->NXM_NX_XXREG0[64..127],set_field:0x12345678901234567890/0xffffffffffffffffffff->xxreg0', 'actions=load:0xa->NXM_NX_REG0[],load:0->NXM_NX_REG0[5..10],load:0x1234567890->OXM_OF_METADATA[],load:0xffffffffffffffff->NXM_NX_XXREG0[0..63],load:0->NXM_NX_XXREG0[64..127],load:0x12->NXM_NX_XXREG0[64..127],load:0x5678901234567890->NXM_NX_XXREG0[0..63],load:0x1234->NXM_NX_XXREG0[64..79]', 'actions=set_field:0xa->reg0,set_field:0/0x7e0->reg0,set_field:0x1234567890->metadata,set_field:0xffffffffffffffff->xxreg0,set_field:0x120000000000000000/0xffffffffffffffff0000000000000000->xxreg0,set_field:0x12345678901234567890/0xffffffffffffffffffff->xxreg0'],
  ['tcp,actions=exit,mod_tp_src:1,set_field:0x1/0x1->tun_metadata0,mod_nw_tos:16,mod_tp_dst:80', 'tcp actions=exit,mod_tp_src:1,set_field:0x1/0x1->tun_metadata0,mod_nw_tos:16,mod_tp_dst:80', 'tcp actions=exit,set_field:1->tcp_src,set_field:0x1/0x1->tun_metadata0,set_field:4->ip_dscp,set_field:80->tcp_dst'],
  ['tcp,actions=ct(alg=ftp,nat(src=1.2.3.4,random,persistent),exec(set_field:1->ct_mark),zone=4,table=3,force,commit)', 'tcp actions=ct(commit,force,table=3,zone=4,nat(src=1.2.3.4,persistent,random),exec(load:0x1->NXM_NX_CT_MARK[]),alg=ftp)', 'tcp actions=ct(commit,force,table=3,zone=4,nat(src=1.2.3.4,persistent,random),exec(set_field:0x1->ct_mark),alg=ftp)'],
  ['ip,actions=controller(meter_id=3,pause,userdata=01.02,id=5,max_len=100,reason=no_match),dec_ttl,dec_ttl(1,2),output(port=1,max_len=100)', 'ip actions=controller(reason=no_match,max_len=100,id=5,userdata=01.02,pause,meter_id=3),dec_ttl,dec_ttl(1,2),output(port=1,max_len=100)', 'ip actions=controller(reason=no_match,max_len=100,id=5,userdata=01.02,pause,meter_id=3),dec_ttl,dec_ttl(1,2),output(port=1,max_len=100)'],
  ['actions=conjunction(5,1/2),conjunction(6,2/3)', 'actions=conjunction(5,1/2),conjunction(6,2/3)', 'actions=conjunction(5,1/2),conjunction(6,2/3)'],
];

function normalized(text: string, version: OfVersion): string {
  const m = parseFlowMod(text);
  return printMatchActions({ priority: m.priority ?? DEFAULT_PRIORITY, match: m.match, actions: m.actions ?? [] }, { version });
}

t.test('flows print as ovs-ofctl 3.1 printed them', async (t) => {
  for (const [input, of10, of15] of EXAMPLES) {
    t.equal(normalized(input, 10), of10, `OF1.0 ${input}`);
    if (of15 !== undefined) t.equal(normalized(input, 15), of15, `OF1.5 ${input}`);
  }
});

/** A set_field split the way `load` prints it: one piece per run of mask bits, ≤ 64 bits each. */
function pieces(a: SetFieldAction): string[] {
  const f = ofField(a.field);
  const out: string[] = [];
  for (let b = 0; b < f.bits; ) {
    if (((a.mask >> BigInt(b)) & 1n) === 0n) {
      b++;
      continue;
    }
    let e = b;
    while (e + 1 < f.bits && e + 1 < b + 64 && ((a.mask >> BigInt(e + 1)) & 1n) === 1n) e++;
    const n = BigInt(e - b + 1);
    out.push(`set ${f.keyField}@${f.shift + b}/${n}=${(a.value >> BigInt(b)) & ((1n << n) - 1n)}`);
    b = e + 1;
  }
  return out;
}

/** Actions up to what printing may legitimately change: load vs set_field, how a set_field splits. */
function canon(actions: readonly Action[], version: OfVersion): string[] {
  const out: string[] = [];
  for (const a of actions) {
    if (a.type === 'set_field') out.push(...pieces(a));
    else if (a.type === 'goto_table' && version === 10) out.push(`resubmit ${a.table}`);
    else if (a.type === 'resubmit' && a.port === undefined && a.table !== undefined) out.push(`resubmit ${a.table}`);
    else if (a.type === 'clone') out.push(`clone(${canon(a.actions, version).join(';')})`);
    else if (a.type === 'ct') out.push(JSON.stringify({ ...a, exec: canon(a.exec, version) }, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)));
    else out.push(JSON.stringify(a, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)));
  }
  return out;
}

function sameMod(a: FlowMod, b: FlowMod, version: OfVersion): string | undefined {
  if (!matchEqual(a.match, b.match)) return 'match differs';
  if ((a.table ?? 0) !== (b.table ?? 0) || (a.priority ?? DEFAULT_PRIORITY) !== (b.priority ?? DEFAULT_PRIORITY)) return 'table or priority differs';
  if ((a.cookie ?? 0n) !== (b.cookie ?? 0n) || (a.idleTimeout ?? 0) !== (b.idleTimeout ?? 0) || (a.hardTimeout ?? 0) !== (b.hardTimeout ?? 0)) return 'cookie or timeouts differ';
  const x = canon(a.actions ?? [], version).join('\n');
  const y = canon(b.actions ?? [], version).join('\n');
  return x === y ? undefined : `actions differ:\n${x}\n--\n${y}`;
}

for (const version of [10, 13, 15] as const) {
  t.test(`parse → print → parse round trip (OpenFlow 1.${version - 10} printing)`, async (t) => {
    const extra = fc.record({ cookie: fc.option(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })), idle: fc.option(fc.integer({ min: 1, max: 0xffff })), hard: fc.option(fc.integer({ min: 1, max: 0xffff })) });
    fc.assert(
      fc.property(flowArb(version, true), extra, (f, x) => {
        const extras = [...(x.cookie !== null ? [`cookie=${x.cookie}`] : []), ...(x.idle !== null ? [`idle_timeout=${x.idle}`] : []), ...(x.hard !== null ? [`hard_timeout=${x.hard}`] : [])];
        const i = f.text.indexOf('actions=');
        const text = `${f.text.slice(0, i)}${extras.map((e) => `${e},`).join('')}${f.text.slice(i)}`;
        const a = parseFlowMod(text);
        const entry = { table: a.table ?? 0, priority: a.priority ?? DEFAULT_PRIORITY, match: a.match, actions: a.actions ?? [], cookie: a.cookie ?? 0n, idleTimeout: a.idleTimeout ?? 0, hardTimeout: a.hardTimeout ?? 0 };
        const p1 = printFlow(entry, { version });
        const b = parseFlowMod(p1);
        const why = sameMod(a, b, version);
        if (why) throw new Error(`${text}\n${p1}\n${why}`);
        const p2 = printFlow({ ...entry, match: b.match, actions: b.actions ?? [] }, { version });
        if (p1 !== p2) throw new Error(`not a fixed point:\n${p1}\n${p2}`);
      }),
      { numRuns: 400 },
    );
    t.pass('400 random flows');
  });
}

t.test('dump-flows lines as ovs-ofctl dump-flows prints them', async (t) => {
  const clock = { t: 10_000 };
  const ft = new FlowTables({ now: () => clock.t });
  ft.apply(parseFlowMod('table=0,priority=100,cookie=0x5,idle_timeout=100,hard_timeout=200,ip,reg14=0x1,metadata=0x1,nw_dst=10.0.0.1,actions=load:0x1->NXM_NX_REG13[],resubmit(,8)'));
  ft.apply(parseFlowMod('table=3,actions=drop'));
  ft.apply(parseFlowMod('priority=0,actions=NORMAL'));
  clock.t = 11_438;
  const [a, b, c] = ft.dump();
  // Recorded from ovs-vswitchd 3.1 (durations aside, which this clock sets).
  t.equal(
    printDumpFlow(a!, { now: clock.t }),
    ' cookie=0x5, duration=1.438s, table=0, n_packets=0, n_bytes=0, idle_timeout=100, hard_timeout=200, idle_age=1, priority=100,ip,reg14=0x1,metadata=0x1,nw_dst=10.0.0.1 actions=load:0x1->NXM_NX_REG13[],resubmit(,8)',
  );
  t.equal(printDumpFlow(b!, { now: clock.t }), ' cookie=0x0, duration=1.438s, table=0, n_packets=0, n_bytes=0, idle_age=1, priority=0 actions=NORMAL');
  t.equal(printDumpFlow(c!, { now: clock.t }), ' cookie=0x0, duration=1.438s, table=3, n_packets=0, n_bytes=0, idle_age=1, actions=drop');
  t.equal(
    printDumpFlow(a!, { now: clock.t, version: 15 }),
    ' cookie=0x5, duration=1.438s, table=0, n_packets=0, n_bytes=0, idle_timeout=100, hard_timeout=200, idle_age=1, priority=100,ip,reg14=0x1,metadata=0x1,nw_dst=10.0.0.1 actions=set_field:0x1->reg13,resubmit(,8)',
  );
  t.equal(printDumpFlow(c!, { now: clock.t, version: 13 }), ' cookie=0x0, duration=1.438s, table=3, n_packets=0, n_bytes=0, actions=drop', 'no ages in OpenFlow 1.3');
  ft.credit(b!, 3, 180, 11_000);
  ft.apply(parseFlowMod('priority=0,actions=drop', { command: 'modify_strict' }));
  clock.t = 13_000;
  t.equal(printDumpFlow(b!, { now: clock.t }), ' cookie=0x0, duration=3s, table=0, n_packets=3, n_bytes=180, idle_age=2, hard_age=1, priority=0 actions=drop');
  // A dump line parses back as a flow (ovs-ofctl ignores the statistics).
  const back = parseFlowMod(printDumpFlow(a!, { now: clock.t }).trim());
  t.ok(matchEqual(back.match, a!.match));
  t.equal(back.cookie, 5n);
  t.equal(back.priority, 100);
});

t.test('groups as ovs-ofctl dump-groups prints them', async (t) => {
  const lines = [
    'group_id=1,type=select,selection_method=dp_hash,bucket=bucket_id:0,weight:100,actions=ct(commit,table=9,zone=NXM_NX_REG13[0..15],nat(dst=10.0.0.5:80)),bucket=bucket_id:1,weight:100,actions=output:2',
    'group_id=6,type=indirect,bucket=bucket_id:0,actions=output:1',
    'group_id=7,type=ff,bucket=bucket_id:0,watch_port:1,actions=output:1,bucket=bucket_id:1,watch_port:2,watch_group:3,actions=output:2',
    'group_id=2,type=all,bucket=bucket_id:0,actions=output:1,bucket=bucket_id:1,actions=output:2',
    'group_id=4,type=select,selection_method=hash,fields(ip_src,tcp_dst),bucket=bucket_id:0,weight:10,actions=output:1,bucket=bucket_id:1,actions=output:2',
    'group_id=5,type=select,selection_method=hash,selection_method_param=7,fields(eth_dst=ff:ff:ff:00:00:00,ip_src),bucket=bucket_id:0,weight:0,actions=output:1',
  ];
  for (const l of lines) t.equal(printGroup(parseGroup(l)), l);
  // What ovs-ofctl add-group accepted for those (short forms, bucket ids assigned in order).
  t.equal(printGroup(parseGroup('group_id=2,type=all,bucket=output:1,bucket=output:2')), lines[3]);
  t.equal(
    printGroup(parseGroup('group_id=4,type=select,selection_method=hash,fields(ip_src,tcp_dst),bucket=weight:10,output:1,bucket=output:2')),
    lines[4],
  );
  t.equal(
    printGroup(parseGroup(lines[0]!), { version: 13 }),
    'group_id=1,type=select,bucket=weight:100,actions=ct(commit,table=9,zone=NXM_NX_REG13[0..15],nat(dst=10.0.0.5:80)),bucket=weight:100,actions=output:2',
  );
  t.same(parseGroup(lines[4]!).fields, [{ field: 'ip_src' }, { field: 'tcp_dst' }]);
});

t.test('match parsing details', async (t) => {
  t.equal(printMatch(parseMatch('tcp,ip')), 'tcp', 'a later shorthand does not undo nw_proto');
  t.equal(printMatch(parseMatch('reg0=1,reg0=2')), 'reg0=0x2', 'the last assignment wins');
  t.equal(printMatch(parseMatch('reg0=0x3/0x1')), 'reg0=0x1/0x1', 'values are masked');
  t.equal(printMatch(parseMatch('in_port=local,dl_vlan=0xffff')), 'in_port=LOCAL,vlan_tci=0x0000');
  t.equal(printMatch(parseMatch('vlan_vid=4101')), 'dl_vlan=5');
  t.equal(printMatch(parseMatch('icmp,tp_src=3')), 'icmp,tp_src=3', 'tp_src and icmp_type are distinct key fields here');
  t.equal(printMatch(parseMatch('tun_metadata0=0x12/0xff')), 'tun_metadata0=0x12/0xff');
  t.equal(printMatch(parseMatch('ct_state=+trk'), { priority: 5 }), 'priority=5,ct_state=+trk');
  t.equal(printMatch(parseMatch(''), { priority: DEFAULT_PRIORITY }), '');
  const m = newMatch();
  setExact(m, 'ct_state', 0x21);
  t.equal(printMatch(m), 'ct_state=new|trk', 'a 32-bit exact ct_state prints as exact');
  t.equal(printMatch(parseMatch('in_port=5')), 'in_port=5');
  const n = newMatch();
  setExact(n, 'in_port', 5);
  t.ok(matchEqual(parseMatch('in_port=5'), n), 'in_port=N matches the whole key word');
});

t.test('errors', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['reg0=0xffffffff1,actions=drop', /value too large for 4-byte field reg0/],
    ['foo=1,actions=drop', /unknown keyword foo/],
    ['ip', /must specify an action/],
    ['cookie=1/1,actions=drop', /cannot use a cookie mask/],
    ['actions=drop,output:1', /"drop" must not be accompanied/],
    ['actions=conjunction(1,1/2),output:1', /"conjunction" actions may be used along with "note"/],
    ['actions=goto_table:3,output:1', /apply_actions must appear before goto_table/],
    ['actions=resubmit(,)', /at least one "in_port" or "table"/],
    ['actions=move:NXM_NX_REG0[0..3]->NXM_NX_REG1[0..4]', /differs in width/],
    ['actions=load:0x10->NXM_NX_REG0[0..3]', /does not fit/],
    ['actions=set_field:1->ct_mark', /cannot set CT fields outside of ct action/],
    ['actions=set_field:1->nw_proto', /not writable/],
    ['ip,actions=ct(commit,nat(src=1.2.3.4,hash,random))', /Both "hash" and "random"/],
    ['actions=note:1', /bad hex digit/],
    ['ct_state=+trk+bogus,actions=drop', /unknown ct_state flag/],
    ['nw_frag=sometimes,actions=drop', /unknown fragment type/],
    ['dl_src=00:11:22:33:44,actions=drop', /invalid value for field eth_src/],
    ['ip,actions=output:(', /unbalanced|unknown port/],
  ];
  for (const [text, re] of bad) t.throws(() => parseFlowMod(text), re, text);
  t.throws(() => parseFlowMod('ip,actions=drop', { command: 'delete' }), FlowSyntaxError);
  t.doesNotThrow(() => parseFlowMod('ip,out_port=5,cookie=1/-1', { command: 'delete' }));
});

t.test('IPv6 text forms (glibc inet_ntop)', async (t) => {
  const cases: Array<[string, string]> = [
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['fe80:0:0:0:0:0:0:1', 'fe80::1'],
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
    ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
    ['0:0:0:0:0:ffff:102:304', '::ffff:1.2.3.4'],
    ['0:0:0:0:0:0:102:304', '::1.2.3.4'],
    ['1:2:3:4:5:6:7:0', '1:2:3:4:5:6:7:0'],
    ['1:0:0:0:0:0:0:0', '1::'],
  ];
  for (const [full, short] of cases) {
    t.equal(formatIpv6(parseIpv6(full)!), short);
    t.equal(parseIpv6(short), parseIpv6(full));
  }
  t.equal(parseIpv6('1::2::3'), undefined);
  t.equal(parseIpv6('1:2:3:4:5:6:7:8:9'), undefined);
});

t.test('OpenFlow version differences in action printing', async (t) => {
  const acts = parseActions('mod_vlan_vid:10,pop_vlan,goto_table:3');
  t.equal(printActions(acts, { version: 10 }), 'mod_vlan_vid:10,strip_vlan,resubmit(,3)');
  t.equal(printActions(acts, { version: 15 }), 'push_vlan:0x8100,set_field:4106->vlan_vid,pop_vlan,goto_table:3');
  const vlanMatch = parseMatch('dl_vlan=5');
  t.equal(printActions(parseActions('mod_vlan_vid:10'), { version: 13, match: vlanMatch }), 'set_field:4106->vlan_vid', 'no push when the match guarantees a VLAN');
  t.equal(printActions(parseActions('load:0x1->NXM_NX_REG0[3],set_field:0x5->reg1'), { version: 13 }), 'load:0x1->NXM_NX_REG0[3],set_field:0x5->reg1');
  t.equal(printActions([]), 'drop');
});
