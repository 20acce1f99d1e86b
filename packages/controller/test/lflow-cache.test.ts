// The compile cache never changes the result: over random sequences of Southbound changes
// (address sets, port groups, port keys, chassis residency, flow text, flows removed), the flows
// computed with one cache kept across rounds equal those computed from scratch each round
// (conjunction ids compared by what they stand for, since the two number them differently).
import t from 'tap';
import fc from 'fast-check';
import { Sb } from '@ovnts/ovsdb';
import { getMask, getValue } from '@ovnts/switch/dist/src/flow/match.js';
import { computeDesired, type SouthboundState } from '../src/desired.js';
import { LflowCache } from '../src/lflow-cache.js';
import { CONJ_ID_LOC } from '../src/compile/fields.js';
import type { InstalledFlow } from '../src/flow-state.js';

const row = <T>(table: { fromWire(r: never): T }, uuid: string, wire: Record<string, unknown>): T => ({ ...table.fromWire(wire as never), _uuid: uuid });
const map = (o: Record<string, string>) => ['map', Object.entries(o)];
const set = (xs: readonly unknown[]) => ['set', xs];

const IPS = Array.from({ length: 8 }, (_, i) => `10.0.0.${i + 1}`);
const PORTS = ['p1', 'p2', 'p3', 'p4', 'p5'];

interface World {
  as1: boolean[];
  pg1: boolean[];
  p2Here: boolean;
  p3Key: number;
  hasP4: boolean;
  f2Variant: number;
  hasF4: boolean;
}

function southbound(w: World): SouthboundState {
  const here = row(Sb.tables.Chassis, 'c-here', { name: 'here' });
  const other = row(Sb.tables.Chassis, 'c-other', { name: 'other' });
  const dp = row(Sb.tables.Datapath_Binding, 'dp1', { tunnel_key: 1, external_ids: map({ 'logical-switch': 'ls1', name: 'sw' }) });
  const ports = PORTS.filter((p) => p !== 'p4' || w.hasP4).map((p, i) =>
    row(Sb.tables.Port_Binding, `pb-${p}`, {
      logical_port: p,
      datapath: ['uuid', 'dp1'],
      tunnel_key: p === 'p3' ? w.p3Key : i + 1,
      ...(p === 'p2' ? { chassis: ['uuid', w.p2Here ? 'c-here' : 'c-other'] } : p === 'p1' ? { chassis: ['uuid', 'c-here'] } : {}),
    }));
  const flow = (uuid: string, pipeline: string, table_id: number, priority: number, match: string, actions: string) =>
    row(Sb.tables.Logical_Flow, uuid, { logical_datapath: ['uuid', 'dp1'], pipeline, table_id, priority, match, actions });
  const flows = [
    flow('f1aaaaaa-0000-0000-0000-000000000001', 'egress', 4, 1001, 'reg0[7] == 1 && (outport == @pg1 && ip4.src == $as1 && tcp.dst == {22, 80})', 'next;'),
    flow('f2aaaaaa-0000-0000-0000-000000000002', 'ingress', 9, 100, ['inport == "p1" && ip4.dst == $as1', 'inport == "p3" && ip4.dst == 10.0.0.9', 'inport == "p4"'][w.f2Variant]!, 'next;'),
    flow('f3aaaaaa-0000-0000-0000-000000000003', 'ingress', 10, 50, 'is_chassis_resident("p2") && eth.type == 0x800', 'next;'),
    flow('f5aaaaaa-0000-0000-0000-000000000005', 'ingress', 12, 120, 'ct.new && ip4.dst == 10.0.0.100 && tcp.dst == 80', 'ct_lb_mark(backends=10.0.0.1:80,10.0.0.2:80);'),
  ];
  if (w.hasF4) flows.push(flow('f4aaaaaa-0000-0000-0000-000000000004', 'ingress', 25, 50, 'outport == "p3" || outport == "p4"', 'output;'));
  return {
    datapaths: [dp],
    ports,
    flows,
    dpGroups: [],
    multicastGroups: [],
    macBindings: [],
    addressSets: [row(Sb.tables.Address_Set, 'as1', { name: 'as1', addresses: set(IPS.filter((_, i) => w.as1[i])) })],
    portGroups: [row(Sb.tables.Port_Group, 'pg1', { name: '1_pg1', ports: set(PORTS.filter((_, i) => w.pg1[i])) })],
    chassis: [here, other],
    haGroups: [],
    haChassis: [],
  };
}

/** Flow texts with each conjunction id replaced by the text of the flow that carries its actions. */
function canonical(flows: ReadonlyMap<string, InstalledFlow>): string[] {
  const owner = new Map<number, string>();
  for (const f of flows.values()) {
    if (getMask(f.match, CONJ_ID_LOC) === 0n) continue;
    owner.set(Number(getValue(f.match, CONJ_ID_LOC)), `${f.table}/${f.priority}/${f.cookie}`);
  }
  const text = (v: unknown): string => JSON.stringify(v, (k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : k === 'id' && typeof x === 'number' && owner.has(x) ? `conj:${owner.get(x)}` : x));
  return [...flows].map(([id, f]) => {
    const conj = getMask(f.match, CONJ_ID_LOC) !== 0n ? `conj:${owner.get(Number(getValue(f.match, CONJ_ID_LOC)))}` : '';
    const key = conj ? id.replace(/^(\d+\/\d+\/)/, `$1${conj}/`) : id;
    return `${conj ? key.split('/').slice(0, 3).join('/') : key} -> ${text(f.actions)}`;
  }).sort();
}

const world = fc.record({
  as1: fc.array(fc.boolean(), { minLength: IPS.length, maxLength: IPS.length }),
  pg1: fc.array(fc.boolean(), { minLength: PORTS.length, maxLength: PORTS.length }),
  p2Here: fc.boolean(),
  p3Key: fc.constantFrom(3, 7),
  hasP4: fc.boolean(),
  f2Variant: fc.integer({ min: 0, max: 2 }),
  hasF4: fc.boolean(),
});

t.test('a cached round computes what a fresh round computes', async (t) => {
  let rounds = 0;
  fc.assert(fc.property(fc.array(world, { minLength: 1, maxLength: 6 }), (worlds) => {
    const cache = new LflowCache();
    const zones = new Map<string, number>();
    const zone = (o: string): number => zones.get(o) ?? (zones.set(o, zones.size + 1), zones.size);
    const vifs = new Map([['p1', 1], ['p2', 2]]);
    let groups: ReadonlyMap<string, number> = new Map();
    for (const w of worlds) {
      const sb = southbound(w);
      const cached = computeDesired(sb, { chassis: 'here', vifs, tunnels: new Map([['other', 9]]), zone, cache }, groups);
      const fresh = computeDesired(sb, { chassis: 'here', vifs, tunnels: new Map([['other', 9]]), zone }, groups);
      groups = cached.flows.groupIdMap();
      rounds++;
      const a = canonical(cached.flows.entries());
      const b = canonical(fresh.flows.entries());
      if (JSON.stringify(a) !== JSON.stringify(b)) {
        t.same(a, b, 'cached and fresh flows');
        return false;
      }
      if (cached.errors.length !== fresh.errors.length) return false;
    }
    return true;
  }), { numRuns: 60 });
  t.ok(rounds > 60, `${rounds} rounds compared`);
});

t.test('an unchanged Southbound compiles nothing again', async (t) => {
  const cache = new LflowCache();
  const w: World = { as1: IPS.map(() => true), pg1: PORTS.map(() => true), p2Here: true, p3Key: 3, hasP4: true, f2Variant: 0, hasF4: true };
  const local = { chassis: 'here', vifs: new Map([['p1', 1]]), tunnels: new Map(), zone: () => 1, cache };
  computeDesired(southbound(w), local);
  t.equal(cache.stats.misses, 5, 'first round compiles every flow');
  computeDesired(southbound(w), local);
  t.same(cache.stats, { hits: 5, misses: 0 }, 'second round compiles none');
  computeDesired(southbound({ ...w, as1: IPS.map((_, i) => i < 2) }), local);
  t.same(cache.stats, { hits: 3, misses: 2 }, 'an address set change recompiles the two flows that use it');
});
