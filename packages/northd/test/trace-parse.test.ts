// Every logical flow ovnts northd writes for this package's feature scenarios is accepted by
// real ovn-trace's parser: it complains about nothing it does not also complain about when
// loading the Southbound DB real ovn-northd built for the same Northbound DB. And the daemon,
// fed the scenario line by line (its incremental paths), ends where a from-scratch compute is.
import t from 'tap';
import { allScenarios } from './compare.js';
import { scenarioThroughDaemon } from './acceptance.js';
import { northdMissing, realTraceComplaints } from './real-northd.js';

const strip = (l: string): string => l.replace(/^\S+\|\d+\|/, '');

t.test('real ovn-trace parses every flow ovnts northd writes', { skip: northdMissing() ?? false, timeout: 300_000 }, async (t) => {
  for (const s of allScenarios()) {
    const r = await scenarioThroughDaemon(s);
    const ours = r.complaints.map(strip);
    const real = new Set((await realTraceComplaints(s)).map(strip));
    t.same(ours.filter((l) => !real.has(l)), [], `${s.name}: no complaint of ovn-trace that real northd's SB does not also cause (${ours.length} shared)`);
    t.same(r.mismatch.slice(0, 10), [], `${s.name}: the SB the daemon built step by step equals a from-scratch compute`);
  }
});
