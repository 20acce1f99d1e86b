// Differential tests against the real ovs-ofctl: random flows that OVS accepts are normalized by
// `ovs-ofctl -O VERSION parse-flows` and by our parser + printer, and the texts must be equal.
// Skips (with a message) when ovs-ofctl is not installed.
import t from 'tap';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFlowMod, printMatchActions, DEFAULT_PRIORITY } from '../src/flow/index.js';
import { flowArb } from './flow-arbitraries.js';
import type { Version } from './flow-arbitraries.js';

const probe = spawnSync('ovs-ofctl', ['--version'], { encoding: 'utf8' });
const haveOfctl = probe.status === 0;
const SKIP = haveOfctl ? false : 'ovs-ofctl is not installed (apt-get install openvswitch-common); differential tests skipped';

/** Runs ovs-ofctl parse-flows over `flows`; returns each flow's normalized `MATCH actions=…`. */
function ofctlNormalize(flows: readonly string[], version: Version): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'ofctl-'));
  try {
    const file = join(dir, 'flows.txt');
    writeFileSync(file, flows.join('\n') + '\n');
    const r = spawnSync('ovs-ofctl', [`-O`, `OpenFlow${version}`, 'parse-flows', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`ovs-ofctl failed: ${r.stderr}`);
    const out: string[] = [];
    for (const line of r.stdout.split('\n')) {
      const m = /^\S+ \((?:OF1\.\d\) \()?xid=0x[0-9a-f]+\): (.*)$/.exec(line);
      if (!m) continue;
      if (!m[1]!.startsWith('ADD ')) throw new Error(`ovs-ofctl could not decode: ${line}`);
      // "ADD [table:N ]MATCH [cookie:… ][idle:… ][hard:… ]actions=…"
      const body = m[1]!.slice(4).replace(/^table:\d+ /, '');
      const a = body.indexOf('actions=');
      const head = body.slice(0, a).replace(/(^| )(cookie|idle|hard|importance):\S+/g, '').trim();
      out.push(`${head ? `${head} ` : ''}${body.slice(a)}`);
    }
    if (out.length !== flows.length) throw new Error(`ovs-ofctl printed ${out.length} flows for ${flows.length}:\n${r.stdout.slice(0, 2000)}`);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function ours(text: string, version: Version): string {
  const m = parseFlowMod(text);
  return printMatchActions({ priority: m.priority ?? DEFAULT_PRIORITY, match: m.match, actions: m.actions ?? [] }, { version });
}

for (const version of [10, 13, 15] as const) {
  t.test(`random flows normalize like ovs-ofctl -O OpenFlow${version}`, { skip: SKIP }, async (t) => {
    const flows = fc.sample(flowArb(version), { numRuns: 400, seed: 4242 + version }).map((f) => f.text);
    const theirs = ofctlNormalize(flows, version);
    let bad = 0;
    flows.forEach((f, i) => {
      const mine = ours(f, version);
      if (mine !== theirs[i] && bad++ < 5) t.equal(mine, theirs[i], f);
    });
    t.equal(bad, 0, `${flows.length - bad} of ${flows.length} flows print as ovs-ofctl prints them`);
  });
}

t.test('hand-picked OVN-style flows normalize like ovs-ofctl', { skip: SKIP }, async (t) => {
  const flows = [
    'table=0,priority=100,in_port=5,actions=load:0x2->NXM_NX_REG13[],load:0x1->NXM_NX_REG11[],load:0x3->NXM_NX_REG12[],load:0x1->OXM_OF_METADATA[],load:0x1->NXM_NX_REG14[],resubmit(,8)',
    'table=8,priority=50,reg14=0x1,metadata=0x1,dl_src=00:00:00:00:00:01,actions=resubmit(,9)',
    'table=10,priority=100,ip,reg14=0x1,metadata=0x1,dl_src=00:00:00:00:00:01,nw_src=10.0.0.1,actions=resubmit(,11)',
    'table=14,priority=100,ct_state=-new+est-rpl+trk,ct_label=0/0x1,ip,metadata=0x1,actions=load:0x1->NXM_NX_REG0[9],resubmit(,15)',
    'table=21,priority=110,ct_state=+new+trk,tcp,metadata=0x1,nw_dst=10.0.0.100,tp_dst=80,actions=group:1',
    'table=37,priority=100,reg15=0x8000,metadata=0x1,actions=load:0x2->NXM_NX_REG15[],resubmit(,39),load:0x8000->NXM_NX_REG15[],resubmit(,38)',
    'table=38,priority=100,reg10=0/0x1,reg14=0x1,reg15=0x1,metadata=0x1,actions=drop',
    'table=40,priority=0,metadata=0x1,actions=load:0->NXM_NX_REG0[],load:0->NXM_NX_REG1[],load:0->NXM_NX_REG2[],resubmit(,41)',
    'table=22,priority=100,ip,reg0=0x2/0x2,metadata=0x1,actions=ct(table=23,zone=NXM_NX_REG13[0..15],nat)',
    'table=12,priority=2002,conj_id=3,ct_state=+new-est+trk,ip,reg0=0x100/0x100,metadata=0x1,actions=load:0x1->NXM_NX_REG0[1],resubmit(,13)',
    'table=12,priority=2002,ct_state=+new-est+trk,ip,metadata=0x1,nw_src=10.0.0.0/24,actions=conjunction(3,1/2)',
    'table=32,priority=100,reg15=0x2,metadata=0x1,actions=load:0x1->NXM_NX_TUN_ID[0..23],set_field:0x2->tun_metadata0,move:NXM_NX_REG14[0..14]->NXM_NX_TUN_METADATA0[16..30],output:3',
    'table=0,priority=100,in_port=3,actions=move:NXM_NX_TUN_ID[0..23]->OXM_OF_METADATA[0..23],move:NXM_NX_TUN_METADATA0[16..30]->NXM_NX_REG14[0..14],move:NXM_NX_TUN_METADATA0[0..15]->NXM_NX_REG15[0..15],resubmit(,38)',
    'table=25,priority=80,arp,reg14=0x1,metadata=0x1,arp_tpa=10.0.0.1,arp_op=1,actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],mod_dl_src:00:00:00:00:01:00,load:0x2->NXM_OF_ARP_OP[],move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],load:0x100->NXM_NX_ARP_SHA[],move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],load:0xa000001->NXM_OF_ARP_SPA[],move:NXM_NX_REG14[]->NXM_NX_REG15[],load:0x1->NXM_NX_REG10[0],resubmit(,37)',
    'table=27,priority=100,udp,metadata=0x1,tp_src=68,tp_dst=67,actions=controller(userdata=00.00.00.02.00.00.00.00.00.01.de.10.00.00.00.63,pause),resubmit(,28)',
    'table=65,priority=100,reg15=0x1,metadata=0x1,actions=output:5',
  ];
  for (const version of [10, 15] as const) {
    const theirs = ofctlNormalize(flows, version);
    flows.forEach((f, i) => t.equal(ours(f, version), theirs[i], `OF1.${version - 10}: ${f}`));
  }
});
