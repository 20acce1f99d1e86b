// Python clients (Debian's python3-openvswitch IDL and ovsdbapp, as OpenStack Neutron uses them)
// against the ovnts server. Each script runs against a real ovsdb-server too: both must succeed
// and report the same results.
import t, { type Test } from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setLogLevel } from '../src/index.js';
import { FIXTURES, SCHEMA_FILES, Sandbox, missingTools, run } from './helpers/real-tools.js';

setLogLevel('off');

const PYTHON = '/usr/bin/python3';

async function pythonHas(module: string): Promise<boolean> {
  if (!existsSync(PYTHON)) return false;
  const r = await run(PYTHON, ['-c', `import ${module}`], { timeoutMs: 10000 });
  return r.code === 0;
}

const [hasIdl, hasApp] = await Promise.all([pythonHas('ovs.db.idl'), pythonHas('ovsdbapp.schema.ovn_northbound.impl_idl')]);
const skipIdl = hasIdl ? false : 'python3 ovs IDL (python3-openvswitch) not installed';
const skipApp = hasApp ? false : 'python3 ovsdbapp not installed';
/** Without a real ovsdb-server the scripts still run against ovnts, just not side by side. */
const noServer = missingTools('ovsdb-server', 'ovsdb-tool');

/** Runs a fixture script against ovnts (and, when available, a real ovsdb-server). */
async function both(t: Test, script: string, extra: string[]): Promise<{ ts: unknown; real: unknown }> {
  const sb = new Sandbox();
  t.teardown(() => sb.close());
  const { remote } = await sb.startTsServer('ts', ['ovn-nb']);
  const path = join(FIXTURES, script);
  const tsRun = await sb.run(PYTHON, [path, remote, ...extra], { timeoutMs: 30000 });
  t.equal(tsRun.code, 0, `${script} against ovnts exits 0${tsRun.code === 0 ? '' : `: ${tsRun.stderr}`}`);
  let real: unknown;
  if (!noServer) {
    const realRemote = await sb.startRealServer('real', ['ovn-nb']);
    const realRun = await sb.run(PYTHON, [path, realRemote, ...extra], { timeoutMs: 30000 });
    t.equal(realRun.code, 0, `${script} against ovsdb-server exits 0`);
    real = JSON.parse(realRun.stdout || 'null');
  }
  return { ts: JSON.parse(tsRun.stdout || 'null'), real };
}

t.test('ovsdbapp OVN NB API (as Neutron uses it) against ovnts', { skip: skipApp }, async (t) => {
  const { ts, real } = await both(t, 'ovsdbapp_nb.py', []);
  t.match(ts, {
    duplicate_ls_add: 'Switch sw0 exists',
    ls_get: { name: 'sw0', external_ids: { 'neutron:network_name': 'net0' }, ports: ['p1', 'p2'], load_balancer: ['lb0'] },
    lookup_p1: { addresses: ['00:00:00:00:00:01 10.0.0.1'], up: [] },
    lsp_list: ['p1', 'p2'],
    acl_list: [
      ['from-lport', 1000, 'ip4', 'allow-related', false, []],
      ['to-lport', 1001, 'ip4 && tcp.dst == 22', 'drop', true, ['acl1']],
    ],
    ls_list: ['sw0', 'sw1'],
    pg1_ports: ['p1'],
    lrp0_networks: ['10.0.0.254/24'],
    second_lsp_del: 'p2 does not exist',
    lsp_list_after_del: ['p1'],
    ls_list_after_del: ['sw0'],
    db_get: { mcast_snoop: 'true' },
    db_find: [{ name: 'p1', addresses: ['00:00:00:00:00:01 10.0.0.1'] }],
  });
  if (real !== undefined) t.same(ts, real, 'the same results as against ovsdb-server');
});

t.test('python ovs.db.idl: transactions, monitors, conditional monitoring', { skip: skipIdl }, async (t) => {
  const { ts, real } = await both(t, 'ovs_idl.py', [SCHEMA_FILES['ovn-nb']]);
  t.same(ts, {
    insert_status: 'success',
    b_after_insert: { as1: ['10.0.0.1', '10.0.0.2'], as2: [] },
    modify_status: 'success',
    a_after_modify: { as1: [['10.0.0.3'], { owner: 'b' }], as2: [[], {}] },
    b_conditional: ['as2'],
    dup_status: 'error',
    dup_error: true,
    delete_status: 'success',
    after_delete: [['as1'], []],
    switch_status: 'success',
    b_switch: ['ls1', ['lsp1']],
  });
  if (real !== undefined) t.same(ts, real, 'the same results as against ovsdb-server');
});
