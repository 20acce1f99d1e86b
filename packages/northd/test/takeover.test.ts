// High availability across implementations: with real ovn-northd active (holding ovn_northd),
// ovnts northd stands by; when real northd stops, ovnts northd takes over and finds the
// Southbound DB already as it wants it, so it writes nothing (no churn), and keeps nb_cfg
// propagation working.
import t from 'tap';
import { setLogLevel } from '@ovnts/ovsdb';
import { runNorthd } from '../src/index.js';
import { allScenarios } from './compare.js';
import { OvnSandbox, northdMissing } from './real-northd.js';

setLogLevel('off');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('ovnts northd takes over from real ovn-northd without rewriting the SB', { skip: northdMissing() ?? false, timeout: 300_000 }, async (t) => {
  for (const s of allScenarios().filter((x) => ['router-basic', 'nat-gateway-router', 'x-router-dgp', 'x-acl-features', 'x-gw-router-lb', 'x-mirror-template'].includes(x.name))) {
    const sb = await OvnSandbox.start();
    try {
      const real = sb.startRealNorthd();
      await sb.applyScenario(s);
      const nd = await runNorthd({ nbRemote: sb.remote, sbRemote: sb.remote });
      t.equal(nd.status(), 'standby', `${s.name}: standby while real ovn-northd holds the lock`);
      process.kill(real.pid!, 'SIGTERM');
      for (let i = 0; i < 200 && nd.status() !== 'active'; i++) await sleep(25);
      t.equal(nd.status(), 'active', `${s.name}: active after real ovn-northd stopped`);
      await sleep(200);
      await nd.idle();
      t.equal(nd.counters.sbTransactions, 0, `${s.name}: no Southbound write on takeover (${nd.counters.runs} run)`);
      await sb.nbctl(['--wait=sb', 'sync']);
      t.pass(`${s.name}: --wait=sb sync returns under ovnts northd`);
      await nd.stop();
    } finally {
      await sb.close();
    }
  }
});
