// Raw JSON-RPC differential test: the same requests, good and bad, go to a real ovsdb-server
// and to the ovnts server; replies (and the notifications they cause) must match after
// canonical ordering and UUID normalization. The real server is the oracle.
import t from 'tap';
import { setLogLevel } from '../src/index.js';
import { RpcPair, Sandbox, missingTools, waitFor } from './helpers/real-tools.js';

setLogLevel('off');

const NB = 'OVN_Northbound';
const skip = missingTools('ovsdb-server', 'ovsdb-tool');

interface Case {
  readonly m: string;
  readonly p: unknown;
}

const tx = (...ops: unknown[]): Case => ({ m: 'transact', p: [NB, ...ops] });
const U1 = '4c2d7f9e-0000-4000-8000-000000000001';

/** Run in order on one connection per server; state carries over from case to case. */
const CASES: Case[] = [
  // --- methods and databases
  { m: 'list_dbs', p: [] },
  { m: 'echo', p: ['a', 1, { b: null }] },
  { m: 'foo', p: [] },
  { m: 'get_schema', p: ['Nope'] },
  { m: 'get_schema', p: [] },
  { m: 'get_schema', p: [5] },
  { m: 'transact', p: [] },
  { m: 'transact', p: ['Nope', { op: 'select', table: 'ACL', where: [] }] },
  { m: 'transact', p: [NB] },
  { m: 'cancel', p: ['nothing'] },
  { m: 'set_db_change_aware', p: ['yes'] },
  { m: 'set_db_change_aware', p: [true] },
  // --- operations: good ones
  tx({ op: 'insert', table: 'Logical_Switch', row: { name: 'sw0' } }, { op: 'select', table: 'Logical_Switch', where: [['name', '==', 'sw0']], columns: ['name', 'ports'] }),
  tx({ op: 'select', table: 'Logical_Switch', where: [['name', '==', 'sw0']], columns: ['_uuid', '_version', 'name'] }),
  tx({ op: 'select', table: 'Logical_Switch', where: [['name', '==', 'sw0']] }),
  tx(
    { op: 'insert', table: 'Logical_Switch', 'uuid-name': 'ls', row: { name: 'sw2', ports: ['named-uuid', 'p'] } },
    { op: 'insert', table: 'Logical_Switch_Port', 'uuid-name': 'p', row: { name: 'p2', addresses: ['set', ['00:00:00:00:00:02 10.0.0.2']] } },
    { op: 'select', table: 'Logical_Switch_Port', where: [['_uuid', '==', ['named-uuid', 'p']]], columns: ['name', 'addresses'] },
  ),
  tx({ op: 'update', table: 'Logical_Switch', where: [['name', '==', 'sw0']], row: { other_config: ['map', [['k', 'v']]] } }, { op: 'select', table: 'Logical_Switch', where: [['other_config', 'includes', ['map', [['k', 'v']]]]], columns: ['name'] }),
  tx({ op: 'comment', comment: 'hello' }, { op: 'select', table: 'Logical_Switch', where: [['name', '!=', 'sw0']], columns: ['name'] }),
  tx({ op: 'commit', durable: false }),
  tx({ op: 'commit', durable: true }),
  tx({ op: 'insert', table: 'Logical_Switch', uuid: U1, row: { name: 'u1' } }, { op: 'select', table: 'Logical_Switch', where: [['_uuid', '==', ['uuid', U1]]], columns: ['name'] }),
  // --- operations: malformed
  tx({ op: 'select', table: 'Nope', where: [] }),
  tx({ op: 'select', table: 'Logical_Switch' }),
  tx({ op: 'frobnicate' }),
  tx(5),
  tx({ op: 'comment' }),
  tx({ op: 'commit' }),
  tx({ op: 'select', table: 'Logical_Switch', where: [], extra: 1 }),
  tx({ op: 'select', table: 'Logical_Switch', where: [['name', '~', 'a']] }),
  tx({ op: 'insert', table: 'Logical_Switch', row: { nope: 1 } }),
  tx({ op: 'insert', table: 'Logical_Switch', row: { name: 5 } }),
  tx({ op: 'select', table: 'Logical_Switch', where: [], columns: ['nope'] }),
  tx({ op: 'select', table: 'Logical_Switch', where: [['nope', '==', 1]] }),
  tx({ op: 'select', table: 'Logical_Switch', where: [['name', '==', 1]] }),
  tx({ op: 'select', table: 'Logical_Switch', where: [['name', '<', 'a']] }),
  tx({ op: 'insert', table: 'Logical_Switch', uuid: U1, row: { name: 'u2' } }),
  tx({ op: 'insert', table: 'Logical_Switch', uuid: 'bogus', row: { name: 'u3' } }),
  tx({ op: 'select', table: 'Logical_Switch', where: [['name', '==']] }),
  tx({ op: 'select', table: 'Logical_Switch', where: [5] }),
  tx({ op: 'select', table: 'Logical_Switch', where: [['name', 'includes', ['set', ['a', 'b']]]] }),
  tx({ op: 'insert', table: 'Logical_Switch', row: { other_config: ['map', [['a']]] } }),
  tx({ op: 'insert', table: 'Logical_Switch', row: { other_config: ['map', [['a', '1'], ['a', '2']]] } }),
  tx({ op: 'insert', table: 'Logical_Switch', row: { other_config: ['set', []] } }),
  tx({ op: 'insert', table: 'Address_Set', row: { addresses: ['set', ['a', 'a']] } }),
  tx({ op: 'insert', table: 'Logical_Switch', row: { ports: ['uuid', 'zz'] } }),
  tx({ op: 'insert', table: 'Logical_Switch', row: { ports: ['named-uuid', 'a b'] } }),
  tx({ op: 'insert', table: 'ACL', row: { priority: 'x' } }),
  tx({ op: 'insert', table: 'Logical_Switch', 'uuid-name': '5x', row: {} }),
  tx({ op: 'update', table: 'NB_Global', where: [], row: { nope: 1 } }),
  tx({ op: 'wait', table: 'NB_Global', where: [], columns: ['nope'], until: '==', rows: [] }),
  tx({ op: 'wait', table: 'NB_Global', where: [], columns: ['name'], until: '<', rows: [], timeout: 0 }),
  // --- constraints and integrity
  tx({ op: 'insert', table: 'ACL', row: { priority: 40000, direction: 'to-lport', match: 'ip', action: 'allow' } }),
  tx({ op: 'insert', table: 'ACL', row: { priority: 100, direction: 'sideways', match: 'ip', action: 'allow' } }),
  tx({ op: 'insert', table: 'Logical_Switch_Port', row: { name: 'p3', tag_request: 5000 } }),
  tx({ op: 'insert', table: 'Logical_Switch_Port', row: { name: 'p3', tag_request: ['set', [1, 2]] } }),
  tx({ op: 'insert', table: 'Logical_Switch', row: { name: 'sw1', ports: ['uuid', '4c2d7f9e-0000-4000-8000-00000000ffff'] } }),
  tx({ op: 'insert', table: 'Logical_Switch', row: { name: 'sw3', ports: ['named-uuid', 'nope'] } }),
  tx({ op: 'delete', table: 'Logical_Switch_Port', where: [['name', '==', 'p2']] }),
  tx({ op: 'delete', table: 'Logical_Switch', where: [['name', '==', 'sw2']] }, { op: 'select', table: 'Logical_Switch_Port', where: [], columns: ['name'] }),
  tx({ op: 'insert', table: 'Address_Set', row: { name: 'a' } }, { op: 'insert', table: 'Address_Set', row: { name: 'a' } }),
  tx({ op: 'insert', table: 'Address_Set', row: { name: 'b' } }),
  tx({ op: 'insert', table: 'Address_Set', row: { name: 'b' } }),
  tx({ op: 'insert', table: 'Address_Set', row: { name: 'c' } }, { op: 'update', table: 'Address_Set', where: [['name', '==', 'c']], row: { name: 'b' } }),
  tx({ op: 'insert', table: 'Address_Set', 'uuid-name': 'x', row: { name: 'd1' } }, { op: 'insert', table: 'Address_Set', 'uuid-name': 'x', row: { name: 'd2' } }),
  tx({ op: 'update', table: 'Logical_Switch', where: [['name', '==', 'sw0']], row: { _uuid: ['uuid', U1] } }),
  // --- mutate: overflow, division by zero, bad mutators, maps
  tx({ op: 'insert', table: 'NB_Global', row: { nb_cfg: 4611686018427387904 } }),
  tx({ op: 'mutate', table: 'NB_Global', where: [], mutations: [['nb_cfg', '*=', 2]] }),
  tx({ op: 'mutate', table: 'NB_Global', where: [], mutations: [['nb_cfg', '+=', 4611686018427387904]] }),
  tx({ op: 'mutate', table: 'NB_Global', where: [], mutations: [['nb_cfg', '-=', -4611686018427387904]] }),
  tx({ op: 'mutate', table: 'NB_Global', where: [], mutations: [['nb_cfg', '/=', 0]] }),
  tx({ op: 'mutate', table: 'NB_Global', where: [], mutations: [['nb_cfg', '%=', 0]] }),
  // (ovnts keeps integers as doubles: exact only up to 2^53, so go on with small values)
  tx({ op: 'update', table: 'NB_Global', where: [], row: { nb_cfg: 1000 } }),
  tx({ op: 'mutate', table: 'NB_Global', where: [], mutations: [['nb_cfg', '/=', 3]] }, { op: 'select', table: 'NB_Global', where: [], columns: ['nb_cfg'] }),
  tx({ op: 'mutate', table: 'NB_Global', where: [], mutations: [['nb_cfg', '/=', -7]] }, { op: 'select', table: 'NB_Global', where: [], columns: ['nb_cfg'] }),
  tx({ op: 'mutate', table: 'NB_Global', where: [], mutations: [['nb_cfg', '%=', -5]] }, { op: 'select', table: 'NB_Global', where: [], columns: ['nb_cfg'] }),
  tx({ op: 'mutate', table: 'NB_Global', where: [], mutations: [['nb_cfg', '%=', 5]] }, { op: 'select', table: 'NB_Global', where: [], columns: ['nb_cfg'] }),
  tx({ op: 'mutate', table: 'NB_Global', where: [], mutations: [['nb_cfg', '^=', 5]] }),
  tx({ op: 'mutate', table: 'NB_Global', where: [], mutations: [['nb_cfg', '+=']] }),
  tx({ op: 'mutate', table: 'NB_Global', where: [], mutations: [['nope', '+=', 1]] }),
  tx({ op: 'mutate', table: 'NB_Global', where: [], mutations: [['nb_cfg', '+=', 'x']] }),
  tx({ op: 'mutate', table: 'NB_Global', where: [], mutations: [['name', '+=', 5]] }),
  tx(
    { op: 'mutate', table: 'NB_Global', where: [], mutations: [['options', 'insert', ['map', [['a', '1'], ['b', '2']]]]] },
    { op: 'mutate', table: 'NB_Global', where: [], mutations: [['options', 'delete', ['set', ['a']]]] },
    { op: 'select', table: 'NB_Global', where: [], columns: ['options'] },
  ),
  tx({ op: 'mutate', table: 'NB_Global', where: [], mutations: [['options', 'delete', ['map', [['b', '3']]]]] }, { op: 'select', table: 'NB_Global', where: [], columns: ['options'] }),
  // --- wait, abort, assert
  tx({ op: 'wait', table: 'Logical_Switch', where: [['name', '==', 'sw0']], columns: ['name'], until: '==', rows: [{ name: 'sw0' }], timeout: 0 }),
  tx({ op: 'wait', table: 'Logical_Switch', where: [['name', '==', 'sw0']], columns: ['name'], until: '!=', rows: [{ name: 'sw0' }], timeout: 0 }),
  tx({ op: 'wait', table: 'Logical_Switch', where: [], columns: ['name'], until: '==', rows: [], timeout: 0 }, { op: 'insert', table: 'Address_Set', row: { name: 'w' } }),
  tx({ op: 'insert', table: 'Address_Set', row: { name: 'ab' } }, { op: 'abort' }, { op: 'insert', table: 'Address_Set', row: { name: 'ab2' } }),
  tx({ op: 'select', table: 'Address_Set', where: [['name', '==', 'ab']] }),
  tx({ op: 'assert', lock: 'mylock' }),
  // --- _Server
  { m: 'transact', p: ['_Server', { op: 'select', table: 'Database', where: [], columns: ['name', 'model', 'connected', 'leader', 'schema'] }] },
  { m: 'transact', p: ['_Server', { op: 'insert', table: 'Database', row: { name: 'x', model: 'standalone' } }] },
  { m: 'transact', p: ['_Server', { op: 'select', table: 'Database', where: [], columns: ['name'] }, { op: 'update', table: 'Database', where: [], row: { connected: false } }] },
  // --- locks on one session
  { m: 'lock', p: ['mylock'] },
  { m: 'lock', p: ['mylock'] },
  { m: 'steal', p: ['mylock'] },
  tx({ op: 'assert', lock: 'mylock' }),
  { m: 'unlock', p: ['mylock'] },
  { m: 'unlock', p: ['mylock'] },
  { m: 'lock', p: ['bad lock'] },
  { m: 'lock', p: ['a.b'] },
  { m: 'lock', p: [] },
  { m: 'steal', p: ['l1', 'l2'] },
  // --- monitors
  { m: 'monitor', p: [NB, 'm1', { Address_Set: { columns: ['name', '_version'] } }] },
  { m: 'monitor', p: [NB, 'm1', { Address_Set: { columns: ['name'] } }] },
  { m: 'monitor', p: [NB, 'm2', { Nope: {} }] },
  { m: 'monitor', p: [NB, 'm3', { Address_Set: { columns: ['nope'] } }] },
  { m: 'monitor', p: [NB, 'm3', { Address_Set: {} }] },
  { m: 'monitor', p: [NB, 'b2', []] },
  { m: 'monitor', p: [NB, 'b3', { Address_Set: { columns: 'name' } }] },
  { m: 'monitor', p: [NB, 'b4', { Address_Set: { select: { initial: 1 } } }] },
  { m: 'monitor', p: [NB, 'b5', { Address_Set: { foo: 1 } }] },
  { m: 'monitor', p: [NB, 'b6', { Address_Set: { where: [] } }] },
  { m: 'monitor', p: [NB, 'b7', { Address_Set: { columns: [1] } }] },
  { m: 'monitor_cond', p: [NB, 'm4', { Address_Set: [{ columns: ['name'], where: [['name', '==', 'b']] }] }] },
  { m: 'monitor_cond', p: [NB, 'm5', { Address_Set: [{ columns: ['name', '_uuid'] }] }] },
  { m: 'monitor_cond', p: [NB, 'a2', { Address_Set: [{}] }] },
  { m: 'monitor_cond', p: [NB, 'a3', { Address_Set: [{ columns: ['name', 'name'] }] }] },
  { m: 'monitor_cond', p: [NB, 'a3', { Address_Set: [{ columns: ['name'] }, { columns: ['name'] }] }] },
  { m: 'monitor_cond', p: [NB, 'a4', { Address_Set: [{ columns: ['name'] }, { columns: ['addresses'] }] }] },
  { m: 'monitor_cond', p: [NB, 'a5', { Address_Set: [{ columns: ['name'], select: { initial: false, modify: false } }] }] },
  { m: 'monitor_cond', p: [NB, 'a6', { Address_Set: [{ columns: ['name'], where: [['name', '==', 'zz']] }] }] },
  { m: 'monitor_cond', p: [NB, 'a7', { Address_Set: [{ where: [true] }], Logical_Switch: [{ columns: ['name'], where: [false] }] }] },
  { m: 'monitor_cond', p: [NB, 'a8', { Address_Set: [{ where: [['nope', '==', 1]] }] }] },
  { m: 'monitor_cond_since', p: [NB, 'a9', { Address_Set: [{ columns: ['name'] }] }] },
  { m: 'monitor_cond_since', p: [NB, 'a9', { Address_Set: [{ columns: ['name'] }] }, 5] },
  { m: 'monitor_cond_since', p: [NB, 'a9', { Address_Set: [{ columns: ['name'] }] }, 'not-a-uuid'] },
  { m: 'monitor_cond_since', p: [NB, 'a9', { Address_Set: [{ columns: ['name'] }] }, '00000000-0000-0000-0000-000000000000'] },
  { m: 'monitor_cond_change', p: ['a6', 'a6b', { Address_Set: [{ where: [['name', '==', 'b']] }] }] },
  { m: 'monitor_cond_change', p: ['nope', 'x', { Address_Set: [{ where: [] }] }] },
  { m: 'monitor_cond_change', p: ['a6b', 'a6c', { Address_Set: [{ columns: ['name'], where: [] }] }] },
  { m: 'monitor_cond_change', p: ['a6b', 'a6c', { Nope: [{ where: [] }] }] },
  { m: 'monitor_cond_change', p: ['a6b', 'a6c', { Logical_Switch: [{ where: [] }] }] },
  { m: 'monitor_cond_change', p: ['a6b', 'a6c', { Address_Set: { where: [] } }] },
  { m: 'monitor_cond_change', p: ['a6b', 'a6c', { Address_Set: [{ where: [], foo: 1 }] }] },
  { m: 'monitor_cond_change', p: ['a6b', 'a2', { Address_Set: [{ where: [] }] }] },
  { m: 'monitor_cond_change', p: ['a6b'] },
  { m: 'monitor_cond_change', p: ['m1', 'm1b', { Address_Set: [{ where: [['name', '==', 'zz']] }] }] },
  { m: 'monitor_cond_change', p: ['a7', 'a7', { Logical_Switch: [{ where: [true] }] }] },
  // updates the monitors above report (compared via notifications)
  tx({ op: 'insert', table: 'Address_Set', row: { name: 'q', addresses: ['set', ['10.0.0.1', '10.0.0.2']] } }),
  tx({ op: 'update', table: 'Address_Set', where: [['name', '==', 'q']], row: { addresses: '10.0.0.3', external_ids: ['map', [['k', 'v']]] } }),
  tx({ op: 'mutate', table: 'Address_Set', where: [['name', '==', 'b']], mutations: [['addresses', 'insert', ['set', ['1.1.1.1']]]] }),
  tx({ op: 'delete', table: 'Address_Set', where: [['name', '==', 'q']] }),
  tx({ op: 'insert', table: 'Logical_Switch', row: { name: 'sw9' } }),
  { m: 'monitor_cancel', p: ['nope'] },
  { m: 'monitor_cancel', p: [] },
  { m: 'monitor_cancel', p: ['m1b'] },
  { m: 'monitor_cancel', p: ['m1b'] },
  tx({ op: 'delete', table: 'Address_Set', where: [['name', '==', 'b']] }),
];

t.test('raw JSON-RPC requests: ovnts replies as ovsdb-server does', { skip }, async (t) => {
  const sb = new Sandbox();
  t.teardown(() => sb.close());
  const real = await sb.startRealServer('real', ['ovn-nb']);
  const { remote: ts } = await sb.startTsServer('ts', ['ovn-nb']);
  const pair = await RpcPair.connect(real, ts);
  t.teardown(() => pair.close());
  for (const [i, c] of CASES.entries()) {
    const label = `#${i + 1} ${c.m} ${JSON.stringify(c.p).slice(0, 160)}`;
    const [r, o] = await pair.request(c.m, c.p);
    t.equal(o, r, label);
    const [nr, no] = pair.notifications();
    if (nr !== '' || no !== '') t.equal(no, nr, `${label}: notifications`);
  }
});

t.test('monitor_cond_change: the update goes out before the reply', { skip }, async (t) => {
  const sb = new Sandbox();
  t.teardown(() => sb.close());
  const pair = await RpcPair.connect(await sb.startRealServer('real', ['ovn-nb']), (await sb.startTsServer('ts', ['ovn-nb'])).remote);
  t.teardown(() => pair.close());
  await pair.request('transact', [NB, { op: 'insert', table: 'Address_Set', row: { name: 'x' } }]);
  const [r1, o1] = await pair.request('monitor_cond', [NB, 'm', { Address_Set: [{ columns: ['name'], where: [false] }] }], 'mon');
  t.equal(o1, r1, 'monitor_cond reply');
  pair.arrivals();
  const [r2, o2] = await pair.request('monitor_cond_change', ['m', 'm2', { Address_Set: [{ where: [true] }] }], 'chg');
  t.equal(o2, r2, 'monitor_cond_change reply');
  const [ar, ao] = pair.arrivals();
  t.same(ar, ['notify:update2', 'reply:"chg"'], 'real: update2, then reply');
  t.same(ao, ar, 'ovnts: same order');
  const [nr, no] = pair.notifications();
  t.equal(no, nr, 'the update2 itself');
});

t.test('a transaction updates the sender\'s own monitors before its reply', { skip }, async (t) => {
  const sb = new Sandbox();
  t.teardown(() => sb.close());
  const pair = await RpcPair.connect(await sb.startRealServer('real', ['ovn-nb']), (await sb.startTsServer('ts', ['ovn-nb'])).remote);
  t.teardown(() => pair.close());
  await pair.request('monitor', [NB, 'v1', { Address_Set: { columns: ['name'] } }], 'a');
  await pair.request('monitor_cond', [NB, 'v2', { Address_Set: [{ columns: ['name'] }] }], 'b');
  pair.arrivals();
  await pair.request('transact', [NB, { op: 'insert', table: 'Address_Set', row: { name: 'x' } }], 'c');
  const [ar, ao] = pair.arrivals();
  t.same([...ar].sort(), ['notify:update', 'notify:update2', 'reply:"c"'].sort(), 'real: both updates and the reply');
  t.equal(ar.at(-1), 'reply:"c"', 'real: reply last');
  t.same([...ao].sort(), [...ar].sort(), 'ovnts: the same messages');
  t.equal(ao.at(-1), 'reply:"c"', 'ovnts: reply last');
  const [nr, no] = pair.notifications();
  t.equal(no, nr, 'update contents');
});

t.test('locks across three sessions: queue, steal, unlock, disconnect', { skip }, async (t) => {
  const sb = new Sandbox();
  t.teardown(() => sb.close());
  const real = await sb.startRealServer('real', ['ovn-nb']);
  const { remote: ts } = await sb.startTsServer('ts', ['ovn-nb']);
  const a = await RpcPair.connect(real, ts);
  const b = await RpcPair.connect(real, ts);
  const c = await RpcPair.connect(real, ts);
  t.teardown(() => {
    for (const p of [a, b, c]) p.close();
  });
  const steps: [RpcPair, string, string, unknown[]][] = [
    [a, 'a', 'lock', ['L']],
    [b, 'b', 'lock', ['L']],
    [c, 'c', 'steal', ['L']],
    [a, 'a', 'transact', [NB, { op: 'assert', lock: 'L' }]],
    [c, 'c', 'transact', [NB, { op: 'assert', lock: 'L' }, { op: 'insert', table: 'Address_Set', row: { name: 'c' } }]],
    [c, 'c', 'unlock', ['L']],
    [b, 'b', 'unlock', ['L']],
    [b, 'b', 'steal', ['L']],
    [a, 'a', 'steal', ['L']],
    [b, 'b', 'lock', ['L']],
    [b, 'b', 'unlock', ['L']],
    [b, 'b', 'lock', ['L']],
    [a, 'a', 'unlock', ['L']],
    [b, 'b', 'transact', [NB, { op: 'assert', lock: 'L' }]],
  ];
  // Notifications to the other sessions travel on other sockets: an echo on each of them is a
  // barrier (both servers queue a session's output in order), after which they have arrived.
  const settle = async (): Promise<void> => {
    for (const p of [a, b, c]) if (!p.clients.some((x) => x.isClosed)) await p.request('echo', ['barrier']);
  };
  for (const [i, [p, who, m, params]] of steps.entries()) {
    const [r, o] = await p.request(m, params);
    t.equal(o, r, `step ${i + 1}: ${who} ${m} ${JSON.stringify(params)}`);
    await settle();
    for (const [q, name] of [[a, 'a'], [b, 'b'], [c, 'c']] as const) {
      const [nr, no] = q.notifications();
      t.equal(no, nr, `step ${i + 1}: notifications to ${name}`);
    }
  }
  // b owns L; when its connection drops, nobody is waiting: nothing to notify. a waits again, then b goes.
  await a.request('lock', ['L']);
  a.arrivals();
  b.close();
  await waitFor(() => a.clients.every((c) => c.arrivals.includes('notify:locked')), 3000, '"locked" after the owner disconnected').catch(() => undefined);
  const [nr, no] = a.notifications();
  t.equal(no, nr, 'the waiter is told "locked" when the owner disconnects');
  t.match(nr, /"locked"/, 'real: a got "locked"');
});

t.test('wait: blocks until true, times out reporting the other operations, cancel, duplicate id', { skip }, async (t) => {
  const sb = new Sandbox();
  t.teardown(() => sb.close());
  const real = await sb.startRealServer('real', ['ovn-nb']);
  const { remote: ts } = await sb.startTsServer('ts', ['ovn-nb']);
  const a = await RpcPair.connect(real, ts);
  const b = await RpcPair.connect(real, ts);
  t.teardown(() => {
    a.close();
    b.close();
  });
  const waitFor = (name: string, timeout?: number): unknown => ({
    op: 'wait',
    table: 'Address_Set',
    where: [['name', '==', name]],
    columns: ['name'],
    until: '==',
    rows: [{ name }],
    ...(timeout !== undefined ? { timeout } : {}),
  });
  // Blocks until b inserts the row; a's own insert then commits.
  const pending = a.start('transact', [NB, waitFor('w1', 5000), { op: 'insert', table: 'Address_Set', row: { name: 'after-w1' } }], 'w1');
  await new Promise((r) => setTimeout(r, 100));
  const [rb, ob] = await b.request('transact', [NB, { op: 'insert', table: 'Address_Set', row: { name: 'w1' } }]);
  t.equal(ob, rb, 'the insert that satisfies the wait');
  const [r1, o1] = await pending;
  t.equal(o1, r1, 'the blocked transaction completes');
  // Times out: the insert before the wait reports its uuid, nothing is committed.
  const [r2, o2] = await a.request('transact', [NB, { op: 'insert', table: 'Address_Set', row: { name: 'never' } }, { op: 'select', table: 'Address_Set', where: [['name', '==', 'w1']], columns: ['name'] }, waitFor('w2', 150)], 'w2', 5000);
  t.equal(o2, r2, 'timed out, with the results of the operations before the wait');
  const [r3, o3] = await a.request('transact', [NB, { op: 'select', table: 'Address_Set', where: [], columns: ['name'] }]);
  t.equal(o3, r3, 'nothing from the timed-out transaction was committed');
  // Cancel (a notification) ends a blocked transaction with error "canceled".
  a.send('transact', [NB, waitFor('w3')], 'blk');
  await new Promise((r) => setTimeout(r, 100));
  const [rd, od] = await a.request('transact', [NB, { op: 'select', table: 'Address_Set', where: [['name', '==', 'w3']] }], 'blk');
  t.equal(od, rd, 'a second request with the id of a blocked one');
  // A client that is not db-change-aware gets no reply at all to a cancelled transaction...
  a.notify('cancel', ['blk']);
  const [r4, o4] = await a.reply('blk', 300);
  t.equal(o4, r4, 'cancelled: no reply');
  t.match(r4, /no reply/, 'real: no reply');
  // ...a db-change-aware one gets error "canceled".
  const [ra, oa] = await a.request('set_db_change_aware', [true]);
  t.equal(oa, ra, 'set_db_change_aware');
  a.send('transact', [NB, waitFor('w3')], 'blk2');
  await new Promise((r) => setTimeout(r, 100));
  a.notify('cancel', ['blk2']);
  const [r6, o6] = await a.reply('blk2', 3000);
  t.equal(o6, r6, 'cancelled: error "canceled"');
  // Neither cancelled transaction runs when its condition later holds.
  const [r7, o7] = await b.request('transact', [NB, { op: 'insert', table: 'Address_Set', row: { name: 'w3' } }]);
  t.equal(o7, r7, 'the insert the cancelled waits were waiting for');
  const [r8, o8] = await a.reply('blk', 300);
  t.equal(o8, r8, 'still no reply for the first');
  const [r5, o5] = await a.request('echo', ['still', 'alive']);
  t.equal(o5, r5, 'the session goes on');
});
