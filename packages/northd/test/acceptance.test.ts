// Acceptance through the protocol: ovnts northd on the in-process ovnts database server, each
// oracle scenario applied with the real ovn-nbctl/ovn-sbctl (`--wait=sb sync` must return, so
// nb_cfg must propagate), then every probe traced with the real ovn-trace and scored against
// the fate real OVN recorded. Skipped when the OVN tools are absent.
import t from 'tap';
import { loadScenarios, northdMissing } from './real-northd.js';
import { runScenario, scoreFates } from './acceptance.js';

const missing = northdMissing() ?? (loadScenarios().length === 0 ? 'the oracle scenarios are missing' : undefined);

t.test('real ovn-trace over the Southbound DB ovnts northd builds predicts the recorded fates', { skip: missing ?? false, timeout: 600_000 }, async (t) => {
  const fates: Record<string, unknown[]> = {};
  for (const s of loadScenarios()) {
    const r = await runScenario(s, 'ovnts');
    t.equal(r.northd.errors, 0, `${s.name}: northd ran without errors (${r.northd.runs} runs)`);
    fates[s.name] = r.fates;
  }
  const score = await scoreFates(fates);
  const failures = score.output.split('\n').filter((l) => l.startsWith('FAIL'));
  t.same(failures, [], 'no probe fails');
  t.equal(score.failed, 0, `${score.passed} passed, ${score.failed} failed, ${score.skipped} skipped (ovn-trace quirks)`);
  t.ok(score.passed >= 59, 'all scorable probes pass');
});

t.test('the same with ovnts northd on a real ovsdb-server', { skip: missing ?? false, timeout: 300_000 }, async (t) => {
  const fates: Record<string, unknown[]> = {};
  for (const s of loadScenarios().filter((x) => ['router-basic', 'nat-gateway-router', 'lb-switch-vip', 'acl-allow-related', 'dhcpv4'].includes(x.name))) {
    const r = await runScenario(s, 'real');
    t.equal(r.northd.errors, 0, `${s.name}: northd ran without errors`);
    fates[s.name] = r.fates;
  }
  const score = await scoreFates(fates);
  t.same(score.output.split('\n').filter((l) => l.startsWith('FAIL')), [], 'no probe fails');
  t.ok(score.passed >= 18 && score.failed === 0, `${score.passed} passed, ${score.failed} failed, ${score.skipped} skipped`);
});
