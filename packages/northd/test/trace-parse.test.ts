// Every logical flow ovnts northd writes for this package's feature scenarios is accepted by
// real ovn-trace's parser: it complains about nothing it does not also complain about when
// loading the Southbound DB real ovn-northd built for the same Northbound DB.
import t from 'tap';
import { allScenarios } from './compare.js';
import { traceParseComplaints } from './acceptance.js';
import { northdMissing, realTraceComplaints } from './real-northd.js';

const strip = (l: string): string => l.replace(/^\S+\|\d+\|/, '');

t.test('real ovn-trace parses every flow ovnts northd writes', { skip: northdMissing() ?? false, timeout: 300_000 }, async (t) => {
  for (const s of allScenarios().filter((x) => x.name.startsWith('x-'))) {
    const ours = (await traceParseComplaints(s)).map(strip);
    const real = new Set((await realTraceComplaints(s)).map(strip));
    t.same(ours.filter((l) => !real.has(l)), [], `${s.name}: no complaint of ovn-trace that real northd's SB does not also cause (${ours.length} shared)`);
  }
});
