// Incremental flow computation: after random Northbound edits, the engine — told which rows
// changed, rebuilding only the affected datapaths' flows — must want exactly the flows a
// from-scratch compute wants.
import t from 'tap';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { Nb, Sb, type RowJson } from '@ovnts/ovsdb';
import { computeNorthd, createNorthdEngine, emptyNb, emptySb, type ComputeResult, type NbTables, type SbTables } from '../src/index.js';

type Tables = { [K in Nb.TableName]: Map<string, Nb.Tables[K]> };

function row<K extends Nb.TableName>(table: K, values: Record<string, unknown>, uuid = randomUUID()): Nb.Tables[K] {
  const model = Nb.tables[table] as unknown as { encode(v: Record<string, unknown>): RowJson; fromWire(r: RowJson, u?: string): Nb.Tables[K] };
  return model.fromWire(model.encode(values), uuid);
}

function clone(nb: Tables): Tables {
  return Object.fromEntries(Object.entries(nb).map(([k, v]) => [k, new Map(v as Map<string, unknown>)])) as unknown as Tables;
}

/** Rows that differ (by identity) between two snapshots. */
function diff(a: Tables, b: Tables): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const table of Object.keys(b) as Nb.TableName[]) {
    const s = new Set<string>();
    const ma = a[table] as Map<string, unknown>;
    const mb = b[table] as Map<string, unknown>;
    for (const [u, r] of mb) if (ma.get(u) !== r) s.add(u);
    for (const u of ma.keys()) if (!mb.has(u)) s.add(u);
    if (s.size) out.set(table, s);
  }
  return out;
}

/** A small editable topology: switches with ports, routers linking them, ACLs, NATs, routes. */
class Topo {
  nb: Tables;
  private n = 0;
  constructor() {
    this.nb = emptyNb() as unknown as Tables;
    for (const k of Object.keys(this.nb)) (this.nb as unknown as Record<string, Map<string, unknown>>)[k] = new Map();
    const g = row('NB_Global', { options: { mac_prefix: '0a:00:00', svc_monitor_mac: '0a:00:00:00:00:01' } });
    this.nb.NB_Global.set(g._uuid, g);
  }
  private put<K extends Nb.TableName>(table: K, r: Nb.Tables[K]): void {
    (this.nb[table] as Map<string, Nb.Tables[K]>).set(r._uuid, r);
  }
  switches(): Nb.LogicalSwitch[] {
    return [...this.nb.Logical_Switch.values()];
  }
  addSwitch(): void {
    this.put('Logical_Switch', row('Logical_Switch', { name: `s${++this.n}` }));
  }
  addPort(i: number, unknown: boolean): void {
    const sws = this.switches();
    if (!sws.length) return;
    const ls = sws[i % sws.length]!;
    const k = ++this.n;
    const mac = `0a:00:00:00:${(k >> 8).toString(16).padStart(2, '0')}:${(k & 255).toString(16).padStart(2, '0')}`;
    const p = row('Logical_Switch_Port', { name: `p${k}`, addresses: unknown ? [`${mac} 10.${sws.indexOf(ls)}.0.${(k % 200) + 10}`, 'unknown'] : [`${mac} 10.${sws.indexOf(ls)}.0.${(k % 200) + 10}`] });
    this.put('Logical_Switch_Port', p);
    this.put('Logical_Switch', { ...ls, ports: [...ls.ports, p._uuid] });
  }
  delPort(i: number): void {
    const sws = this.switches().filter((s) => s.ports.length);
    if (!sws.length) return;
    const ls = sws[i % sws.length]!;
    const victim = ls.ports[i % ls.ports.length]!;
    const lsp = this.nb.Logical_Switch_Port.get(victim)!;
    if (lsp.type === 'router') return;
    this.nb.Logical_Switch_Port.delete(victim);
    this.put('Logical_Switch', { ...ls, ports: ls.ports.filter((u) => u !== victim) });
    for (const pg of this.nb.Port_Group.values()) if (pg.ports.includes(victim)) this.put('Port_Group', { ...pg, ports: pg.ports.filter((u) => u !== victim) });
  }
  editPort(i: number): void {
    const ports = [...this.nb.Logical_Switch_Port.values()].filter((p) => p.type === '');
    if (!ports.length) return;
    const p = ports[i % ports.length]!;
    this.put('Logical_Switch_Port', { ...p, addresses: p.addresses.includes('unknown') ? p.addresses.filter((a) => a !== 'unknown') : [...p.addresses, 'unknown'] });
  }
  addRouter(i: number): void {
    const sws = this.switches();
    if (sws.length < 2) return;
    const k = ++this.n;
    const lrps: string[] = [];
    for (const [j, ls] of [sws[i % sws.length]!, sws[(i + 1) % sws.length]!].entries()) {
      if (j === 1 && ls === sws[i % sws.length]) break;
      const idx = sws.indexOf(ls);
      const lrp = row('Logical_Router_Port', { name: `r${k}-${ls.name}`, mac: `0a:00:00:ff:${k.toString(16).padStart(2, '0')}:0${j}`, networks: [`10.${idx}.0.${j + 1}/24`] });
      this.put('Logical_Router_Port', lrp);
      lrps.push(lrp._uuid);
      const lsp = row('Logical_Switch_Port', { name: `${ls.name}-r${k}`, type: 'router', addresses: ['router'], options: { 'router-port': lrp.name } });
      this.put('Logical_Switch_Port', lsp);
      const cur = this.nb.Logical_Switch.get(ls._uuid)!;
      this.put('Logical_Switch', { ...cur, ports: [...cur.ports, lsp._uuid] });
    }
    const nat = row('NAT', { type: 'dnat_and_snat', external_ip: `172.16.${k}.10`, logical_ip: '10.0.0.10' });
    this.put('NAT', nat);
    const route = row('Logical_Router_Static_Route', { ip_prefix: `192.168.${k}.0/24`, nexthop: '10.0.0.254' });
    this.put('Logical_Router_Static_Route', route);
    this.put('Logical_Router', row('Logical_Router', { name: `r${k}`, ports: lrps, nat: [nat._uuid], static_routes: [route._uuid], options: i % 2 ? { chassis: 'hv1' } : {} }));
  }
  addAcl(i: number, action: Nb.ACLAction): void {
    const sws = this.switches();
    if (!sws.length) return;
    const ls = sws[i % sws.length]!;
    const acl = row('ACL', { priority: 1000 + (i % 100), direction: i % 2 ? 'from-lport' : 'to-lport', match: `ip4 && udp.dst == ${i}`, action });
    this.put('ACL', acl);
    this.put('Logical_Switch', { ...ls, acls: [...ls.acls, acl._uuid] });
  }
  addPortGroup(i: number): void {
    const ports = [...this.nb.Logical_Switch_Port.values()].filter((p) => p.type === '');
    if (!ports.length) return;
    const acl = row('ACL', { priority: 500, direction: 'to-lport', match: `outport == @pg${i} && tcp`, action: 'allow-related' });
    this.put('ACL', acl);
    this.put('Port_Group', row('Port_Group', { name: `pg${++this.n}`, ports: [ports[i % ports.length]!._uuid], acls: [acl._uuid] }));
  }
  delSwitch(i: number): void {
    const sws = this.switches().filter((s) => !s.ports.some((u) => this.nb.Logical_Switch_Port.get(u)?.type === 'router'));
    if (!sws.length) return;
    const ls = sws[i % sws.length]!;
    this.nb.Logical_Switch.delete(ls._uuid);
    for (const u of ls.ports) this.nb.Logical_Switch_Port.delete(u);
  }
}

const edit = fc.oneof(
  fc.record({ k: fc.constant('addSwitch' as const) }),
  fc.record({ k: fc.constant('addPort' as const), i: fc.nat(50), unknown: fc.boolean() }),
  fc.record({ k: fc.constant('delPort' as const), i: fc.nat(50) }),
  fc.record({ k: fc.constant('editPort' as const), i: fc.nat(50) }),
  fc.record({ k: fc.constant('addRouter' as const), i: fc.nat(50) }),
  fc.record({ k: fc.constant('addAcl' as const), i: fc.nat(50), action: fc.constantFrom<Nb.ACLAction>('allow', 'allow-related', 'drop', 'reject') }),
  fc.record({ k: fc.constant('addPortGroup' as const), i: fc.nat(50) }),
  fc.record({ k: fc.constant('delSwitch' as const), i: fc.nat(50) }),
);

function apply(topo: Topo, e: { k: string }): void {
  const a = e as { k: string; i?: number; unknown?: boolean; action?: Nb.ACLAction };
  if (a.k === 'addSwitch') topo.addSwitch();
  else if (a.k === 'addPort') topo.addPort(a.i!, a.unknown!);
  else if (a.k === 'delPort') topo.delPort(a.i!);
  else if (a.k === 'editPort') topo.editPort(a.i!);
  else if (a.k === 'addRouter') topo.addRouter(a.i!);
  else if (a.k === 'addAcl') topo.addAcl(a.i!, a.action!);
  else if (a.k === 'addPortGroup') topo.addPortGroup(a.i!);
  else if (a.k === 'delSwitch') topo.delSwitch(a.i!);
}

/**
 * The Southbound bindings a writer would have written for a result (datapath and port keys),
 * as the next compute reads them: keys stay where they were put.
 */
function sbFromResult(r: ComputeResult): SbTables {
  const dps = new Map<string, Sb.DatapathBinding>();
  const uuidOf = new Map<string, string>();
  for (const d of r.sb.datapaths.values()) {
    const u = randomUUID();
    uuidOf.set(d.key, u);
    dps.set(u, Sb.tables.Datapath_Binding.fromWire(Sb.tables.Datapath_Binding.encode({ tunnel_key: d.tunnel_key, external_ids: d.external_ids }), u));
  }
  const pbs = new Map<string, Sb.PortBinding>();
  for (const p of r.sb.portBindings.values()) {
    const u = randomUUID();
    pbs.set(u, Sb.tables.Port_Binding.fromWire({ ...Sb.tables.Port_Binding.encode({ logical_port: p.logical_port, tunnel_key: p.tunnel_key, type: p.type, up: false }), datapath: ['uuid', uuidOf.get(p.datapath)!] }, u));
  }
  return { ...emptySb(), Datapath_Binding: dps, Port_Binding: pbs };
}

const sorted = (m: ReadonlyMap<string, unknown>): string[] => [...m.entries()].map(([k, v]) => `${k}\u0001${JSON.stringify(v)}`).sort();

t.test('incremental runs equal from-scratch computes (every SB table, NB write-backs)', async (t) => {
  let incrementalRuns = 0;
  let portRuns = 0;
  let topoRuns = 0;
  fc.assert(
    fc.property(fc.array(edit, { minLength: 3, maxLength: 10 }), fc.array(fc.array(edit, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 6 }), (setup, steps) => {
      const topo = new Topo();
      topo.addSwitch();
      topo.addSwitch();
      for (const e of setup) apply(topo, e);
      const en = createNorthdEngine(() => 0.5);
      let sb = emptySb();
      en.engine.set(en.sbChassis, {});
      en.engine.set(en.sbBindings, {});
      en.engine.set(en.sbLearned, {});
      en.engine.set(en.nb, clone(topo.nb) as unknown as NbTables);
      en.engine.run();
      let prev = clone(topo.nb);
      for (const step of steps) {
        for (const e of step) apply(topo, e);
        const next = clone(topo.nb);
        en.tracker.nb = diff(prev, next);
        en.tracker.sbBindingsForFlows = false;
        en.tracker.sbBindingsChanged = false;
        en.tracker.sbLearned = new Set();
        en.engine.set(en.nb, next as unknown as NbTables);
        // The SB now holds what the last run wanted (the daemon feeds such echoes quietly).
        sb = sbFromResult(en.output.value);
        en.engine.setQuiet(en.sbBindings, { Datapath_Binding: sb.Datapath_Binding, Port_Binding: sb.Port_Binding });
        en.engine.run();
        if (en.engine.stats()['lflows']!.handled > incrementalRuns) incrementalRuns = en.engine.stats()['lflows']!.handled;
        if (en.engine.stats()['port_bindings']!.handled > portRuns) portRuns = en.engine.stats()['port_bindings']!.handled;
        if (en.engine.stats()['topology']!.handled > topoRuns) topoRuns = en.engine.stats()['topology']!.handled;
        const full = computeNorthd({ nb: next as unknown as NbTables, sb }, { random: () => 0.5 });
        const got = en.output.value;
        for (const k of Object.keys(full.sb) as (keyof typeof full.sb)[]) {
          const a = full.sb[k];
          const b = got.sb[k];
          if (a instanceof Map && b instanceof Map) {
            if (sorted(b).join('\n') !== sorted(a).join('\n')) {
              if (process.env['NORTHD_DEBUG']) {
                const sa = new Set(sorted(a));
                const sb2 = new Set(sorted(b));
                console.error(k, 'only incremental:', sorted(b).filter((x) => !sa.has(x)).slice(0, 5), 'only full:', sorted(a).filter((x) => !sb2.has(x)).slice(0, 5));
              }
              return false;
            }
          } else if (JSON.stringify(a) !== JSON.stringify(b)) return false;
        }
        for (const k of ['lspTag', 'lspDynamicAddresses', 'lspUp'] as const) if (sorted(got.nb[k]).join('\n') !== sorted(full.nb[k]).join('\n')) return false;
        prev = next;
      }
      return true;
    }),
    { numRuns: 150 },
  );
  t.ok(incrementalRuns > 0, 'the incremental path was taken');
  t.ok(portRuns > 0, 'port bindings were updated incrementally too');
  t.ok(topoRuns > 0, 'the topology was patched in place');
});
