// The fast path (a megaflow hit) allocates nothing: no garbage collection happens while a
// datapath forwards a million cached packets, with and without conntrack in the pipeline.
import t from 'tap';
import { PerformanceObserver } from 'node:perf_hooks';
import { makeDp, tcp, udp } from './datapath-helpers.js';
import { TCP_ACK, TCP_SYN } from '../src/packet/index.js';

async function gcsDuring(fn: () => void): Promise<number> {
  let n = 0;
  const obs = new PerformanceObserver((list) => {
    n += list.getEntries().length;
  });
  obs.observe({ entryTypes: ['gc'] });
  fn();
  // GC entries are delivered asynchronously.
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  return n;
}

t.test('no garbage per cached packet', async (t) => {
  const pipelines: ReadonlyArray<readonly [string, string]> = [
    ['two tables with rewrites', `
table=0,in_port=1,udp,actions=load:0x5->NXM_NX_REG0[],mod_dl_dst:02:00:00:00:00:09,dec_ttl,resubmit(,1)
table=1,reg0=5,actions=output:2
`],
    ['conntrack recirculation', `
table=0,in_port=1,ip,actions=ct(table=1,zone=3)
table=0,in_port=2,ip,actions=ct(table=1,zone=3)
table=1,ct_state=+new+trk,in_port=1,actions=ct(commit,zone=3),output:2
table=1,ct_state=+est+trk,in_port=1,actions=output:2
table=1,ct_state=+est+trk,in_port=2,actions=output:1
`],
  ];
  for (const [name, flows] of pipelines) {
    const d = makeDp(flows);
    d.sink.transmit = () => {};
    const frames = [udp('10.0.0.1', '10.0.0.2', 1000, 80), tcp('10.0.0.1', '10.0.0.2', 1001, 80, TCP_SYN, 1)];
    d.dp.receive(1, frames[0]!);
    d.dp.receive(2, udp('10.0.0.2', '10.0.0.1', 80, 1000));
    d.dp.receive(1, frames[1]!);
    d.dp.receive(2, tcp('10.0.0.2', '10.0.0.1', 80, 1001, TCP_SYN | TCP_ACK, 7, 2));
    // The datapath rewrites frames in place: refill preallocated buffers from pristine copies.
    const bufs = frames.map((f) => f.slice());
    const send = (i: number): void => {
      const b = bufs[i & 1]!;
      b.set(frames[i & 1]!);
      d.dp.receive(1, b);
    };
    for (let i = 0; i < 200_000; i++) send(i);
    const gcs = await gcsDuring(() => {
      for (let i = 0; i < 2_000_000; i++) send(i);
    });
    // 16 bytes per packet would be 32 MB: several scavenges.
    t.ok(gcs <= 1, `${name}: ${gcs} GCs while forwarding 2M cached packets`);
  }
});
