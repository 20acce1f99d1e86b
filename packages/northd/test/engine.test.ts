// The incremental engine: dependency order, recompute only when an input changed, handlers
// that update in place, counters and the printed graph; and northd's graph computes what the
// one-shot compute core computes.
import t from 'tap';
import { Engine, createNorthdEngine, computeNorthd, nbFromDump, sbFromDump } from '../src/index.js';
import { allScenarios, cachedRealDump, oursLines } from './compare.js';
import { northdMissing } from './real-northd.js';
import type { RowJson } from '@ovnts/ovsdb';

t.test('engine: order, change propagation, handlers, counters', async (t) => {
  const e = new Engine();
  const a = e.input('a', 1);
  const b = e.input('b', 10);
  let sumRuns = 0;
  const sum = e.node('sum', [a, b], () => {
    sumRuns++;
    return a.value + b.value;
  });
  const dbl = e.node('double', [sum], () => sum.value * 2);
  e.run();
  t.equal(dbl.value, 22);
  e.run();
  t.equal(sumRuns, 1, 'nothing changed: no recompute');
  t.equal(sum.stats.unchanged, 1);
  e.set(a, 2);
  e.run();
  t.equal(dbl.value, 24, 'a change flows downstream');
  // A handler for b: keep the sum up to date without a recompute.
  let lastB = 10;
  sum.onChange(b, () => {
    sum.data = sum.value + (b.value - lastB);
    lastB = b.value;
    return true;
  });
  e.set(b, 15);
  e.run();
  t.equal(sum.value, 17);
  t.equal(dbl.value, 34);
  t.equal(sum.stats.handled, 1, 'handled incrementally');
  t.equal(sumRuns, 2, 'no extra recompute');
  e.set(a, 3);
  e.set(b, 16);
  lastB = 16;
  e.run();
  t.equal(sum.value, 19, 'an input without handler forces a recompute');
  t.equal(sumRuns, 3);
  t.match(e.dumpGraph(), /"b" -> "sum" \[style=dashed\]/);
  t.throws(() => e.node('bad', [e.input('x', 0), { name: 'ghost' } as never], () => 0));
});

t.test('northd engine output equals the one-shot compute', { skip: northdMissing() ?? false }, async (t) => {
  for (const s of allScenarios().slice(0, 24)) {
    const dump = await cachedRealDump(s);
    const nb = nbFromDump(dump.nb as Record<string, RowJson[]>);
    const sb = sbFromDump(dump.sb as Record<string, RowJson[]>);
    const en = createNorthdEngine();
    en.engine.set(en.nb, nb);
    en.engine.set(en.sbChassis, { Chassis: sb.Chassis, Chassis_Private: sb.Chassis_Private, Encap: sb.Encap });
    en.engine.set(en.sbBindings, { Datapath_Binding: sb.Datapath_Binding, Port_Binding: sb.Port_Binding });
    en.engine.set(en.sbLearned, { MAC_Binding: sb.MAC_Binding, FDB: sb.FDB });
    en.engine.run();
    t.same(oursLines(en.output.value), oursLines(computeNorthd({ nb, sb })), s.name);
  }
});
