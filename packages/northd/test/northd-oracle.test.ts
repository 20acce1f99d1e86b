// Differential test against real ovn-northd 23.03: for every oracle scenario (and this
// package's extra ones) the Southbound rows ovnts northd computes from the same Northbound
// database must equal real northd's: every logical flow (per datapath name: pipeline, table,
// stage, priority, match, actions, tags, meter), port binding, datapath binding, multicast
// group, address set, port group, load balancer and SB_Global options.
import t from 'tap';
import { allScenarios, cachedRealDump, compareWithReal } from './compare.js';
import { northdMissing } from './real-northd.js';

const missing = northdMissing();

t.test('ovnts northd computes what real ovn-northd 23.03 writes', { skip: missing ?? false }, async (t) => {
  const scenarios = allScenarios();
  t.ok(scenarios.length >= 16, `${scenarios.length} scenarios`);
  for (const s of scenarios) {
    const dump = await cachedRealDump(s);
    const { diffs } = compareWithReal(dump, s.nbctl_batch === true);
    for (const d of diffs) {
      const report = [...d.oursOnly.slice(0, 10).map((l) => `OURS ${l}`), ...d.theirsOnly.slice(0, 10).map((l) => `REAL ${l}`)];
      t.same(report, [], `${s.name}: ${d.table} (${d.common} identical, ${d.oursOnly.length} only ours, ${d.theirsOnly.length} only real)`);
    }
  }
});
