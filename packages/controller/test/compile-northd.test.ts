// Every logical flow real ovn-northd 23.03 writes for the oracle scenarios compiles into switch
// flows (on a chassis where the scenario's ports are bound), and the result loads into the
// switch's flow tables and prints in ovs-ofctl syntax. Skipped when the OVN tools are absent.
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FlowTables, printFlow } from '@ovnts/switch';
import { northdMissing, withRealOvn } from '@ovnts/testkit';
import { southboundState } from './helpers/sb-rows.js';
import { computeDesired } from '../src/desired.js';

const SCENARIOS = '/work/shared/oracle/scenarios';
const missing = northdMissing() ?? (existsSync(SCENARIOS) ? undefined : `${SCENARIOS} not found`);

interface Scenario {
  readonly name: string;
  readonly nbctl: string[][];
  readonly chassis?: string[][];
}


t.test('real northd flows compile for a chassis', { skip: missing ? `real OVN unavailable: ${missing}` : false }, async (t) => {
  const scenarios = readdirSync(SCENARIOS).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(join(SCENARIOS, f), 'utf8')) as Scenario);
  const queue = [...scenarios];
  let total = 0;
  await Promise.all([0, 1].map(async () => {
    for (let s = queue.shift(); s; s = queue.shift()) {
      const sc = s;
      await withRealOvn(sc.nbctl, sc.chassis ?? [], async ({ sbctl }) => {
        const sb = await southboundState(sbctl);
        // Bind every VIF here, one OpenFlow port each, as if all of them ran on this chassis.
        const vifs = new Map(sb.ports.filter((p) => p.type === '').map((p, i) => [p.logical_port, i + 1]));
        const zones = new Map<string, number>();
        const local = { chassis: 'hv1', vifs, tunnels: new Map([['hv2', 100]]), zone: (o: string) => zones.get(o) ?? (zones.set(o, zones.size + 1), zones.size) };
        const r = computeDesired(sb, local);
        t.same(r.errors, [], `${sc.name}: all ${r.logicalFlows} logical flows compile`);
        const tables = new FlowTables();
        for (const f of r.flows.entries().values()) {
          tables.apply({ command: 'add', table: f.table, priority: f.priority, match: f.match, actions: f.actions, cookie: f.cookie });
          printFlow({ ...f, cookie: f.cookie });
        }
        for (const g of r.flows.groupTable().values()) t.ok(g.buckets.length > 0, `${sc.name}: group ${g.id} has buckets`);
        t.equal(tables.count(), r.flows.size, `${sc.name}: ${r.flows.size} switch flows load`);
        total += r.flows.size;
      });
    }
  }));
  t.comment(`${total} switch flows from ${scenarios.length} scenarios`);
});
