// `ovnts lab trace A B` across hosts: the logical pipelines with the Northbound objects behind
// them, A's switch tables down to the Geneve tunnel, and the receiving host's tables down to B's VIF.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyTopology, labDown, labUp } from '@ovnts/lab';
import { labTrace } from '../src/commands/lab-trace.js';

t.test('lab trace follows a routed echo through both hosts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-lab-trace-'));
  t.teardown(async () => {
    await labDown(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  const state = await labUp({ hosts: 2, dir });
  await applyTopology(state, {
    nbctl: [
      ['ls-add', 'sw1'], ['ls-add', 'sw2'], ['lr-add', 'r1'],
      ['lrp-add', 'r1', 'r1-sw1', '00:00:00:00:ff:01', '10.0.1.1/24'],
      ['lrp-add', 'r1', 'r1-sw2', '00:00:00:00:ff:02', '10.0.2.1/24'],
      ['lsp-add', 'sw1', 'sw1-r1', '--', 'lsp-set-type', 'sw1-r1', 'router', '--', 'lsp-set-addresses', 'sw1-r1', 'router', '--', 'lsp-set-options', 'sw1-r1', 'router-port=r1-sw1'],
      ['lsp-add', 'sw2', 'sw2-r1', '--', 'lsp-set-type', 'sw2-r1', 'router', '--', 'lsp-set-addresses', 'sw2-r1', 'router', '--', 'lsp-set-options', 'sw2-r1', 'router-port=r1-sw2'],
      ['acl-add', 'sw2', 'to-lport', '1000', 'icmp4', 'allow-related'],
    ],
    vms: [
      { name: 'a', host: 'hv1', switch: 'sw1', mac: '00:00:00:00:01:11', ip: '10.0.1.11/24', gw: '10.0.1.1' },
      { name: 'c', host: 'hv2', switch: 'sw2', mac: '00:00:00:00:02:21', ip: '10.0.2.21/24', gw: '10.0.2.1' },
    ],
  });
  const text = await labTrace('a', 'c', state);
  t.match(text, /# logically: delivered to c/, 'the logical trace delivers to c');
  t.match(text, /\[from ACL to-lport 1000 "icmp4" allow-related\]/, 'a flow is tied to the ACL behind it');
  t.match(text, /## Switch tables on hv1 \(ofproto\/trace\)/, "a's host");
  const remote = text.split("## Switch tables on hv2, from hv1's tunnel (ofproto/trace)")[1];
  t.ok(remote, "the receiving host's tables follow");
  t.match(remote ?? '', /tun_id=0x[0-9a-f]+,tun_metadata0=0x[0-9a-f]+/, 'entered with the datapath and port keys of the Geneve header');
  t.match(remote ?? '', /nw_ttl=63/, 'routed on hv1 (TTL decremented before the tunnel)');
  const lastActions = [...(remote ?? '').matchAll(/^Datapath actions: (.*)$/gm)].at(-1)?.[1] ?? '';
  t.match(lastActions, /(^|,)\d+$/, `ends in an output to a port (${lastActions})`);
});
