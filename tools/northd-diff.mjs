#!/usr/bin/env node
// Differential dev loop for ovnts northd: runs real ovn-northd 23.03 on a scenario (cached in
// $TMPDIR/ovnts-northd-oracle), runs ovnts northd's compute on the same NB (and SB, for tunnel
// keys and chassis), and prints the rows only one side has, per table.
//   npx tsc -b packages/northd && node tools/northd-diff.mjs SCENARIO [--table flows] [--all]
//   node tools/northd-diff.mjs --summary       one line per scenario
// SCENARIO is a name from ../shared/oracle/scenarios or packages/northd/test/scenarios.
import { allScenarios, cachedRealDump, compareWithReal } from '../packages/northd/dist/test/compare.js';

const args = process.argv.slice(2);
const tableArg = args.includes('--table') ? args[args.indexOf('--table') + 1] : undefined;
const summary = args.includes('--summary');
const names = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--table');
const scenarios = allScenarios().filter((s) => summary || names.includes(s.name) || names.includes('all'));
if (!scenarios.length) {
  console.error(`usage: northd-diff.mjs SCENARIO|all|--summary [--table T]\nscenarios: ${allScenarios().map((s) => s.name).join(' ')}`);
  process.exit(2);
}
let bad = 0;
for (const s of scenarios) {
  const { diffs } = compareWithReal(await cachedRealDump(s), s.nbctl_batch === true);
  if (summary) {
    const parts = diffs.filter((d) => d.oursOnly.length || d.theirsOnly.length).map((d) => `${d.table} +${d.oursOnly.length}/-${d.theirsOnly.length}`);
    const flows = diffs.find((d) => d.table === 'flows');
    console.log(`${s.name.padEnd(24)} flows ${flows.common} same${parts.length ? '; ' + parts.join(', ') : ''}`);
    if (parts.length) bad++;
    continue;
  }
  console.log(`=== ${s.name}`);
  for (const d of diffs) {
    if (tableArg && d.table !== tableArg) continue;
    if (!d.oursOnly.length && !d.theirsOnly.length) continue;
    bad++;
    console.log(`--- ${d.table}: ${d.common} same, ${d.oursOnly.length} only ours, ${d.theirsOnly.length} only real`);
    for (const l of d.oursOnly) console.log(`  OURS ${l}`);
    for (const l of d.theirsOnly) console.log(`  REAL ${l}`);
  }
}
process.exit(bad ? 1 : 0);
