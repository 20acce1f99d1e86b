// Flow tables: add/modify/delete in strict and non-strict form, cookie and out_port filters,
// bundles (all or nothing), timeouts.
import t from 'tap';
import fc from 'fast-check';
import { field, newKey } from '../src/fields.js';
import { FlowModError, FlowTables, covers, matchEqual, parseFlowMod, printFlow } from '../src/flow/index.js';
import type { FlowEntry, FlowMod, FlowModCommand } from '../src/flow/index.js';

const mod = (text: string, command: FlowModCommand = 'add'): FlowMod => parseFlowMod(text, { command });

/** Everything observable about the tables; seqs only by their order (the tie-break). */
function state(ft: FlowTables): string[] {
  const entries = ft.dump();
  const rank = new Map([...entries].sort((a, b) => a.seq - b.seq).map((e, i) => [e, i]));
  return entries.map((e) => `${printFlow(e)} n=${e.nPackets}/${e.nBytes} age=${rank.get(e)}`);
}

function tables(now = { t: 1000 }): FlowTables {
  return new FlowTables({ now: () => now.t });
}

t.test('add, replace in place, lookup', async (t) => {
  const ft = tables();
  ft.apply(mod('table=0,priority=100,ip,nw_dst=10.0.0.1,actions=output:1'));
  const [e] = ft.dump();
  ft.credit(e!, 3, 300);
  ft.apply(mod('table=0,priority=100,ip,nw_dst=10.0.0.1,actions=output:2'));
  t.equal(ft.count(), 1, 'same match and priority replaces');
  t.equal(ft.dump()[0], e, 'the entry keeps its identity');
  t.equal(e!.nPackets, 3, 'counters survive a replace');
  t.same(e!.actions, [{ type: 'output', port: 2 }]);
  ft.apply(mod('table=0,priority=100,ip,nw_dst=10.0.0.1,reset_counts,actions=output:3'));
  t.equal(e!.nPackets, 0, 'reset_counts clears them');
  ft.apply(mod('table=0,priority=101,ip,nw_dst=10.0.0.1,actions=output:4'));
  t.equal(ft.count(), 2, 'another priority is another flow');
  const key = newKey();
  key[field('dl_type').word] = 0x800;
  key[field('nw_dst').word] = 0x0a000001;
  t.same(ft.lookup(0, key)?.actions, [{ type: 'output', port: 4 }]);
  t.equal(ft.lookup(1, key), undefined, 'table miss');
  t.throws(() => ft.apply({ command: 'add', table: 300, match: e!.match }), FlowModError);
  ft.apply(mod('table=255,priority=1,actions=drop'));
  t.equal(ft.count(0), 3, 'add to table 255 goes to table 0');
});

t.test('strict and non-strict delete', async (t) => {
  const ft = tables();
  for (const f of [
    'priority=10,ip,actions=drop',
    'priority=20,ip,nw_src=10.0.0.0/8,actions=drop',
    'priority=30,ip,nw_src=10.1.0.0/16,actions=drop',
    'priority=30,tcp,nw_src=10.1.0.0/16,tp_dst=80,actions=drop',
    'table=1,priority=20,ip,nw_src=10.0.0.0/8,actions=drop',
    'priority=40,arp,actions=drop',
  ]) ft.apply(mod(f));
  let r = ft.apply(mod('priority=20,ip,nw_src=10.0.0.0/8', 'delete_strict'));
  t.equal(r.removed.length, 2, 'strict: exact match and priority, in every table');
  ft.apply(mod('priority=20,ip,nw_src=10.0.0.0/8,actions=drop'));
  r = ft.apply(mod('table=0,priority=21,ip,nw_src=10.0.0.0/8', 'delete_strict'));
  t.equal(r.removed.length, 0, 'strict needs the priority too');
  r = ft.apply(mod('table=0,ip,nw_src=10.0.0.0/8', 'delete'));
  t.same(
    r.removed.map((e) => e.priority).sort(),
    [20, 30, 30],
    'non-strict: every flow at least as specific, at any priority',
  );
  t.equal(ft.count(0), 2);
  r = ft.apply(mod('', 'delete'));
  t.equal(r.removed.length, 2, 'an empty match deletes everything');
  t.equal(ft.count(), 0);
});

t.test('non-strict delete selects exactly the covered flows (random)', async (t) => {
  const masks = [0n, 0xff000000n, 0xffff0000n, 0xffffffffn];
  const flowArb = fc.record({
    table: fc.nat({ max: 2 }),
    priority: fc.nat({ max: 3 }),
    src: fc.constantFrom(0x0a000000n, 0x0a010000n, 0x0a010101n, 0x0b000000n),
    srcMask: fc.constantFrom(...masks),
    port: fc.option(fc.constantFrom(1, 2), { nil: undefined }),
    cookie: fc.constantFrom(0n, 1n, 2n, 3n),
    out: fc.constantFrom(1, 2, 3),
  });
  const text = (f: { table: number; priority: number; src: bigint; srcMask: bigint; port: number | undefined }): string => {
    const parts = [`table=${f.table}`, `priority=${f.priority}`, 'ip'];
    if (f.srcMask) parts.push(`nw_src=${f.src >> 24n}.${(f.src >> 16n) & 255n}.${(f.src >> 8n) & 255n}.${f.src & 255n}/0x${f.srcMask.toString(16)}`.replace(/\/0x([0-9a-f]+)$/, (_m, h: string) => `/${[24, 16, 8, 0].map((s) => (parseInt(h, 16) >>> s) & 255).join('.')}`));
    if (f.port) parts.push(`in_port=${f.port}`);
    return parts.join(',');
  };
  fc.assert(
    fc.property(fc.array(flowArb, { maxLength: 25 }), flowArb, fc.boolean(), fc.boolean(), (flows, target, byCookie, byOut) => {
      const ft = tables();
      for (const f of flows) ft.apply(mod(`${text(f)},cookie=${f.cookie},actions=output:${f.out}`));
      const before = ft.dump();
      const del = mod(`${text(target)}${byCookie ? `,cookie=${target.cookie}/0x1` : ''}${byOut ? `,out_port=${target.out}` : ''}`, 'delete');
      const want = before.filter(
        (e) =>
          e.table === target.table &&
          covers(del.match, e.match) &&
          (!byCookie || (e.cookie & 1n) === (target.cookie & 1n)) &&
          (!byOut || e.actions.some((a) => a.type === 'output' && a.port === target.out)),
      );
      const got = ft.apply(del).removed;
      if (new Set(got).size !== want.length || !want.every((e) => got.includes(e))) throw new Error('wrong selection');
      if (ft.count() !== before.length - want.length) throw new Error('wrong count');
      // Strict delete of each survivor removes exactly it.
      for (const e of ft.dump()) {
        const r = ft.apply({ command: 'delete_strict', table: e.table, priority: e.priority, match: e.match });
        if (r.removed.length !== 1 || r.removed[0] !== e) throw new Error('strict delete');
      }
      if (ft.count() !== 0) throw new Error('strict deletes left flows');
    }),
    { numRuns: 200 },
  );
  t.pass('200 random tables');
});

t.test('modify: actions change, counters stay, cookies filter and set', async (t) => {
  const clock = { t: 1000 };
  const ft = tables(clock);
  ft.apply(mod('priority=10,cookie=0x1,ip,actions=drop'));
  ft.apply(mod('priority=20,cookie=0x2,tcp,actions=drop'));
  ft.apply(mod('priority=30,cookie=0x3,arp,actions=drop'));
  const [arp, tcp, ip] = ft.dump();
  ft.credit(tcp!, 1, 60);
  clock.t = 5000;
  let r = ft.apply(mod('ip,actions=output:1', 'modify'));
  t.same(new Set(r.modified), new Set([ip, tcp]), 'non-strict takes ip and tcp');
  t.same(tcp!.actions, [{ type: 'output', port: 1 }]);
  t.equal(tcp!.nPackets, 1);
  t.equal(tcp!.modified, 5000);
  t.equal(tcp!.created, 1000);
  t.same(arp!.actions, []);
  r = ft.apply(mod('cookie=0x2/-1,cookie=0x7,actions=output:2', 'modify'));
  t.equal(r.modified.length, 1, 'cookie=V/M filters, cookie=V sets');
  t.equal(tcp!.cookie, 7n);
  r = ft.apply(mod('priority=20,tcp,actions=output:3', 'modify_strict'));
  t.same(r.modified, [tcp]);
  r = ft.apply(mod('priority=21,tcp,actions=output:3', 'modify_strict'));
  t.equal(r.modified.length + r.added.length, 0, 'no match, no cookie: nothing happens');
  r = ft.apply(mod('priority=21,tcp,cookie=0x9,actions=output:3', 'modify_strict'));
  t.equal(r.added.length, 1, 'no match but a new cookie: OVS adds the flow');
  t.equal(r.added[0]!.cookie, 9n);
});

t.test('check_overlap', async (t) => {
  const ft = tables();
  ft.apply(mod('priority=5,ip,nw_src=10.0.0.0/8,actions=drop'));
  t.throws(() => ft.apply(mod('priority=5,check_overlap,ip,nw_dst=1.2.3.4,actions=drop')), { code: 'OFPFMFC_OVERLAP' });
  ft.apply(mod('priority=5,check_overlap,ip,nw_src=11.0.0.0/8,actions=drop'));
  ft.apply(mod('priority=6,check_overlap,ip,actions=drop'));
  ft.apply(mod('priority=5,check_overlap,ip,nw_src=10.0.0.0/8,actions=output:1'));
  t.equal(ft.count(), 3, 'disjoint, other priority, or identical (a replace) are fine');
});

t.test('bundles are all or nothing', async (t) => {
  const good = fc.constantFrom(
    'priority=1,ip,actions=drop',
    'priority=2,ip,nw_src=10.0.0.1,actions=output:1',
    'table=3,priority=2,tcp,tp_dst=80,actions=output:2',
    'priority=5,arp,actions=NORMAL',
  );
  const modArb = fc.oneof(
    good.map((s) => mod(s)),
    good.map((s) => mod(s.replace(/,actions=.*/, ''), 'delete_strict')),
    good.map((s) => mod(s.replace(/,actions=.*/, ''), 'delete')),
    good.map((s) => mod(s.replace(/actions=.*/, 'actions=output:9'), 'modify')),
    good.map((s) => mod(s.replace(/actions=.*/, 'reset_counts,actions=output:8'), 'modify_strict')),
  );
  fc.assert(
    fc.property(fc.array(modArb, { maxLength: 8 }), fc.array(modArb, { maxLength: 8 }), fc.nat(), (setup, mods, where) => {
      const a = tables();
      const b = tables();
      for (const m of setup) {
        a.apply(m);
        b.apply(m);
      }
      for (const e of a.dump()) a.credit(e, 1, 100);
      for (const e of b.dump()) b.credit(e, 1, 100);
      const before = state(a);
      // A failing mod anywhere in the bundle leaves the tables untouched.
      const bad: FlowMod = { command: 'add', table: 254 + 2, match: mods[0]?.match ?? setup[0]?.match ?? mod('actions=drop').match, actions: [] };
      const withBad = [...mods];
      withBad.splice(where % (mods.length + 1), 0, bad);
      let threw = false;
      try {
        a.bundle(withBad);
      } catch (e) {
        threw = e instanceof FlowModError && e.index === where % (mods.length + 1);
      }
      if (!threw) throw new Error('bundle did not fail at the bad mod');
      if (JSON.stringify(state(a)) !== JSON.stringify(before)) throw new Error('failed bundle changed the tables');
      // A good bundle equals applying its mods one by one.
      a.bundle(mods);
      for (const m of mods) b.apply(m);
      if (JSON.stringify(state(a)) !== JSON.stringify(state(b))) throw new Error('bundle differs from sequential application');
    }),
    { numRuns: 200 },
  );
  t.pass('200 random bundles');
});

t.test('bundle with a validator refusing a later mod rolls back replaces and deletes', async (t) => {
  const ft = new FlowTables({
    now: () => 0,
    validate: (m) => {
      if (m.actions?.some((a) => a.type === 'group' && a.group === 99)) throw new FlowModError('OFPBAC_BAD_OUT_GROUP', 'group 99 does not exist');
    },
  });
  ft.apply(mod('priority=1,ip,actions=output:1'));
  ft.apply(mod('priority=2,arp,actions=output:2'));
  const before = state(ft);
  t.throws(() => ft.bundle([mod('priority=1,ip,actions=output:7'), mod('', 'delete'), mod('priority=3,tcp,actions=drop'), mod('priority=4,actions=group:99')]), { code: 'OFPBAC_BAD_OUT_GROUP', index: 3 });
  t.same(state(ft), before);
});

t.test('timeouts', async (t) => {
  const clock = { t: 0 };
  const ft = tables(clock);
  ft.apply(mod('priority=1,idle_timeout=10,ip,actions=drop'));
  ft.apply(mod('priority=2,hard_timeout=5,ip,actions=drop'));
  ft.apply(mod('priority=3,ip,actions=drop'));
  clock.t = 4000;
  t.equal(ft.expire().length, 0);
  const idle = ft.dump().find((e) => e.priority === 1)!;
  ft.credit(idle, 1, 1, 4000);
  clock.t = 5000;
  t.same(ft.expire().map((e) => e.priority), [2], 'hard timeout at 5 s');
  clock.t = 13999;
  t.equal(ft.expire().length, 0, 'idle timer restarted by use at 4 s');
  clock.t = 14000;
  t.same(ft.expire().map((e: FlowEntry) => e.priority), [1]);
  t.equal(ft.count(), 1);
});

t.test('255 tables; the table id 255 means all', async (t) => {
  const ft = tables();
  t.equal(ft.nTables, 255);
  ft.apply(mod('table=254,actions=drop'));
  t.throws(() => ft.apply({ command: 'add', table: 255 + 1, match: mod('actions=drop').match, actions: [] }));
  t.equal(ft.apply(mod('table=255', 'delete')).removed.length, 1);
  const m = mod('table=7,priority=9,reg3=0x5,actions=drop');
  ft.apply(m);
  t.ok(matchEqual(ft.dump({ table: 7 })[0]!.match, m.match));
});
