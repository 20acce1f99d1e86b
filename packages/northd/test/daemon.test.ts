// The northd daemon against the in-process ovnts server: the Southbound DB converges to what
// the compute core wants (also after random Northbound edits and after hand edits of the
// Southbound DB), nb_cfg/sb_cfg/hv_cfg propagate, Logical_Switch_Port.up follows
// Port_Binding.up, tunnel keys survive a restart, and only the holder of the ovn_northd lock
// writes. Needs no OVN tools.
import t from 'tap';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database, Nb, OvsdbClient, OvsdbServer, Sb, loadSchema, ovsUuid, setLogLevel, type RowJson, type UuidJson } from '@ovnts/ovsdb';
import { computeNorthd, nbFromDump, runNorthd, sbFromDump, type NorthdHandle } from '../src/index.js';
import { oursLines, realLines } from './compare.js';
import { dumpDatabase } from './real-northd.js';

setLogLevel('off');

interface Env {
  remote: string;
  client: OvsdbClient;
  close(): Promise<void>;
}

async function startServer(): Promise<Env> {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-northd-daemon-'));
  const server = new OvsdbServer();
  server.addDatabase(new Database(loadSchema('ovn-nb')));
  server.addDatabase(new Database(loadSchema('ovn-sb')));
  const remote = `unix:${join(dir, 'db.sock')}`;
  await server.listen(`p${remote}`);
  const client = new OvsdbClient({ remotes: [remote] });
  await client.connect();
  // ovn-nbctl's first command creates NB_Global; do it here.
  const tx = client.transaction('OVN_Northbound');
  tx.insert('NB_Global', Nb.tables.NB_Global.encode({}));
  await tx.execute();
  return {
    remote,
    client,
    close: async () => {
      await client.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await sleep(25);
  }
  return cond();
}

/** Does the SB hold exactly what a from-scratch compute over the current NB (and SB) wants? */
async function sbMismatch(remote: string): Promise<string[]> {
  const nb = await dumpDatabase(remote, 'OVN_Northbound');
  const sb = await dumpDatabase(remote, 'OVN_Southbound');
  const want = oursLines(computeNorthd({ nb: nbFromDump(nb as Record<string, RowJson[]>), sb: sbFromDump(sb as Record<string, RowJson[]>) }));
  const have = realLines(sb);
  const out: string[] = [];
  for (const table of Object.keys(want)) {
    const a = [...(want[table] ?? [])].sort();
    const b = [...(have[table] ?? [])].sort();
    if (a.join('\n') !== b.join('\n')) {
      const bs = new Set(b);
      const as = new Set(a);
      out.push(`${table}: missing ${a.filter((x) => !bs.has(x)).slice(0, 3).join(' | ')}; extra ${b.filter((x) => !as.has(x)).slice(0, 3).join(' | ')}`);
    }
  }
  return out;
}

async function converged(env: Env, ms = 10_000): Promise<string[]> {
  let last: string[] = [];
  await waitFor(async () => (last = await sbMismatch(env.remote)).length === 0, ms);
  return last;
}

/** NB edits through the client (what ovn-nbctl would do). */
const NB = {
  async addSwitch(c: OvsdbClient, name: string): Promise<void> {
    const tx = c.transaction('OVN_Northbound');
    tx.insert('Logical_Switch', Nb.tables.Logical_Switch.encode({ name }));
    await tx.execute();
  },
  async delSwitch(c: OvsdbClient, name: string): Promise<void> {
    const tx = c.transaction('OVN_Northbound');
    tx.delete('Logical_Switch', [['name', '==', name]]);
    await tx.execute();
  },
  async addPort(c: OvsdbClient, sw: string, name: string, addresses: string[], extra: Record<string, unknown> = {}): Promise<void> {
    const tx = c.transaction('OVN_Northbound');
    const p = tx.insert('Logical_Switch_Port', Nb.tables.Logical_Switch_Port.encode({ name, addresses, ...extra }));
    tx.mutate('Logical_Switch', [['name', '==', sw]], [['ports', 'insert', ['set', [p.ref]]]]);
    await tx.execute();
  },
  async delPort(c: OvsdbClient, sw: string, name: string): Promise<void> {
    const sel = c.transaction('OVN_Northbound');
    const s = sel.select('Logical_Switch_Port', [['name', '==', name]], ['_uuid']);
    const rows = (await sel.execute()).get(s).rows;
    if (!rows.length) return;
    const tx = c.transaction('OVN_Northbound');
    tx.mutate('Logical_Switch', [['name', '==', sw]], [['ports', 'delete', ['set', [rows[0]!['_uuid'] as UuidJson]]]]);
    await tx.execute();
  },
  async addAcl(c: OvsdbClient, sw: string, priority: number, direction: 'from-lport' | 'to-lport', match: string, action: Nb.ACLAction): Promise<void> {
    const tx = c.transaction('OVN_Northbound');
    const a = tx.insert('ACL', Nb.tables.ACL.encode({ priority, direction, match, action }));
    tx.mutate('Logical_Switch', [['name', '==', sw]], [['acls', 'insert', ['set', [a.ref]]]]);
    await tx.execute();
  },
  async addRouter(c: OvsdbClient, name: string, sws: string[]): Promise<void> {
    const tx = c.transaction('OVN_Northbound');
    const lrps = sws.map((sw, i) => {
      const lrp = tx.insert('Logical_Router_Port', Nb.tables.Logical_Router_Port.encode({ name: `${name}-${sw}`, mac: `00:00:00:00:ff:${(i + 1).toString(16).padStart(2, '0')}`, networks: [`10.${i}.0.1/24`] }));
      const lsp = tx.insert('Logical_Switch_Port', Nb.tables.Logical_Switch_Port.encode({ name: `${sw}-${name}`, type: 'router', addresses: ['router'], options: { 'router-port': `${name}-${sw}` } }));
      tx.mutate('Logical_Switch', [['name', '==', sw]], [['ports', 'insert', ['set', [lsp.ref]]]]);
      return lrp.ref;
    });
    tx.insert('Logical_Router', { ...Nb.tables.Logical_Router.encode({ name }), ports: ['set', lrps] });
    await tx.execute();
  },
  async bumpNbCfg(c: OvsdbClient): Promise<number> {
    const tx = c.transaction('OVN_Northbound');
    tx.mutate('NB_Global', [], [['nb_cfg', '+=', 1]]);
    const s = tx.select('NB_Global', [], ['nb_cfg']);
    const r = await tx.execute();
    return r.get(s).rows[0]!['nb_cfg'] as number;
  },
};

async function nbGlobal(c: OvsdbClient): Promise<Nb.NBGlobal> {
  const tx = c.transaction('OVN_Northbound');
  const s = tx.select('NB_Global', []);
  return Nb.tables.NB_Global.fromWire((await tx.execute()).get(s).rows[0]!);
}

async function sbRows<K extends Sb.TableName>(c: OvsdbClient, table: K): Promise<Sb.Tables[K][]> {
  const tx = c.transaction('OVN_Southbound');
  const s = tx.select(table, []);
  const model = Sb.tables[table] as unknown as { fromWire(r: RowJson): Sb.Tables[K] };
  return (await tx.execute()).get(s).rows.map((r) => model.fromWire(r));
}

t.test('the Southbound DB converges and heals', async (t) => {
  const env = await startServer();
  let nd: NorthdHandle | undefined;
  t.teardown(async () => {
    await nd?.stop();
    await env.close();
  });
  nd = await runNorthd({ nbRemote: env.remote, sbRemote: env.remote });
  t.equal(nd.status(), 'active', 'the only northd holds the lock');
  await NB.addSwitch(env.client, 'sw1');
  await NB.addSwitch(env.client, 'sw2');
  await NB.addPort(env.client, 'sw1', 'vm1', ['00:00:00:00:01:01 10.0.0.11']);
  await NB.addPort(env.client, 'sw1', 'vm2', ['00:00:00:00:01:02 10.0.0.12']);
  await NB.addPort(env.client, 'sw2', 'vm3', ['00:00:00:00:02:01 10.1.0.11', 'unknown']);
  await NB.addAcl(env.client, 'sw1', 1000, 'to-lport', 'outport == "vm2" && tcp.dst == 80', 'allow-related');
  await NB.addRouter(env.client, 'lr1', ['sw1', 'sw2']);
  // A DNS record set, a gateway chassis on a router port (HA group), a meter and a static MAC binding.
  const ex = env.client.transaction('OVN_Northbound');
  const dns = ex.insert('DNS', Nb.tables.DNS.encode({ records: { 'vm1.example': '10.0.0.11' } }));
  ex.mutate('Logical_Switch', [['name', '==', 'sw1']], [['dns_records', 'insert', ['set', [dns.ref]]]]);
  const gc = ex.insert('Gateway_Chassis', Nb.tables.Gateway_Chassis.encode({ name: 'lr1-sw2-hv1', chassis_name: 'hv1', priority: 5 }));
  ex.mutate('Logical_Router_Port', [['name', '==', 'lr1-sw2']], [['gateway_chassis', 'insert', ['set', [gc.ref]]]]);
  const band = ex.insert('Meter_Band', Nb.tables.Meter_Band.encode({ action: 'drop', rate: 10 }));
  ex.insert('Meter', { ...Nb.tables.Meter.encode({ name: 'm1', unit: 'pktps' }), bands: ['set', [band.ref]] });
  ex.insert('Static_MAC_Binding', Nb.tables.Static_MAC_Binding.encode({ logical_port: 'lr1-sw1', ip: '10.0.0.99', mac: '00:00:00:00:99:99' }));
  // A port mirror on vm2 and chassis template variables (copied to the SB).
  const mir = ex.insert('Mirror', Nb.tables.Mirror.encode({ name: 'mir1', type: 'gre', filter: 'to-lport', sink: '192.0.2.9', index: 42 }));
  ex.mutate('Logical_Switch_Port', [['name', '==', 'vm2']], [['mirror_rules', 'insert', ['set', [mir.ref]]]]);
  ex.insert('Chassis_Template_Var', Nb.tables.Chassis_Template_Var.encode({ chassis: 'hv1', variables: { VIP: '10.0.0.1' } }));
  const exr = await ex.execute();
  const mirrorNbUuid = exr.uuid(mir);
  t.same(await converged(env), [], 'SB equals the compute of the NB');
  const flows = (await sbRows(env.client, 'Logical_Flow')).length;
  t.ok(flows > 200, `${flows} logical flows written`);
  const mirrors = await sbRows(env.client, 'Mirror');
  t.same(mirrors.map((m) => [m.name, m.index]), [['mir1', 42]], 'the NB mirror is in the SB');
  t.same((await sbRows(env.client, 'Port_Binding')).find((p) => p.logical_port === 'vm2')?.mirror_rules, [mirrors[0]!._uuid], 'vm2 refers to it');
  t.same((await sbRows(env.client, 'Chassis_Template_Var')).map((v) => v.variables), [{ VIP: '10.0.0.1' }], 'template variables synced');

  // nb_cfg: NB -> SB_Global -> NB sb_cfg (and hv_cfg with no chassis).
  const cfg = await NB.bumpNbCfg(env.client);
  t.ok(await waitFor(async () => (await nbGlobal(env.client)).sb_cfg === cfg), `sb_cfg reaches ${cfg}`);
  t.equal((await sbRows(env.client, 'SB_Global'))[0]!.nb_cfg, cfg, 'SB_Global.nb_cfg');
  t.ok(await waitFor(async () => (await nbGlobal(env.client)).hv_cfg === cfg), 'hv_cfg follows with no chassis');
  const g = await nbGlobal(env.client);
  t.match(g.options, { mac_prefix: /^[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/, svc_monitor_mac: /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/, max_tunid: '16711680' }, 'NB_Global options filled in');

  // Hand edits of the SB are undone.
  const [victim] = await sbRows(env.client, 'Logical_Flow');
  const pb = (await sbRows(env.client, 'Port_Binding')).find((p) => p.logical_port === 'vm1')!;
  const tx = env.client.transaction('OVN_Southbound');
  tx.delete('Logical_Flow', [['_uuid', '==', ovsUuid(victim!._uuid)]]);
  tx.update('Port_Binding', [['_uuid', '==', ovsUuid(pb._uuid)]], Sb.tables.Port_Binding.encode({ tunnel_key: 999, mac: ['00:00:00:00:99:99'] }));
  tx.insert('Address_Set', Sb.tables.Address_Set.encode({ name: 'bogus', addresses: ['1.2.3.4'] }));
  await tx.execute();
  t.same(await converged(env), [], 'SB healed after hand edits');
  const pb2 = (await sbRows(env.client, 'Port_Binding')).find((p) => p.logical_port === 'vm1')!;
  t.equal(pb2.tunnel_key, 999, 'a hand-set tunnel key that conflicts with nothing is kept (as OVN keeps SB keys)');

  // Port_Binding.up (written by a controller) is mirrored into Logical_Switch_Port.up.
  const ch = env.client.transaction('OVN_Southbound');
  const encap = ch.insert('Encap', Sb.tables.Encap.encode({ type: 'geneve', ip: '127.0.0.2', chassis_name: 'hv1' }));
  const chassis = ch.insert('Chassis', Sb.tables.Chassis.encode({ name: 'hv1', hostname: 'hv1', encaps: [encap.uuidName] }));
  ch.update('Port_Binding', [['logical_port', '==', 'vm2']], { ...Sb.tables.Port_Binding.encode({ up: true }), chassis: chassis.ref });
  await ch.execute();
  const lspUp = async (name: string): Promise<boolean | undefined> => {
    const q = env.client.transaction('OVN_Northbound');
    const s = q.select('Logical_Switch_Port', [['name', '==', name]], ['up']);
    return Nb.tables.Logical_Switch_Port.fromWire((await q.execute()).get(s).rows[0]!).up;
  };
  t.ok(await waitFor(async () => (await lspUp('vm2')) === true), 'vm2 up mirrored to NB');
  t.equal(await lspUp('vm1'), false, 'vm1 (unbound) is down');
  t.equal(await lspUp('sw1-lr1'), true, 'router ports are up');
  t.same(await converged(env), [], 'still converged with a chassis (features off: ct_lb, ct_label)');

  // hv_cfg: the lowest nb_cfg the chassis have reached (Chassis_Private), with its timestamp.
  const cp = env.client.transaction('OVN_Southbound');
  const cpRef = cp.insert('Chassis_Private', { ...Sb.tables.Chassis_Private.encode({ name: 'hv1', nb_cfg: cfg - 1, nb_cfg_timestamp: 1234 }), chassis: ovsUuid((await sbRows(env.client, 'Chassis'))[0]!._uuid) });
  await cp.execute();
  t.ok(await waitFor(async () => (await nbGlobal(env.client)).hv_cfg === cfg - 1), 'hv_cfg waits for the slowest chassis');
  t.equal((await nbGlobal(env.client)).hv_cfg_timestamp, 1234, 'hv_cfg_timestamp from that chassis');
  const cp2 = env.client.transaction('OVN_Southbound');
  cp2.update('Chassis_Private', [['name', '==', 'hv1']], Sb.tables.Chassis_Private.encode({ nb_cfg: cfg, nb_cfg_timestamp: 5678 }));
  await cp2.execute();
  t.ok(await waitFor(async () => (await nbGlobal(env.client)).hv_cfg === cfg), 'hv_cfg catches up');
  void cpRef;

  // Deletions.
  await NB.delPort(env.client, 'sw1', 'vm1');
  await NB.delSwitch(env.client, 'sw2');
  const dm = env.client.transaction('OVN_Northbound');
  dm.mutate('Logical_Switch_Port', [['name', '==', 'vm2']], [['mirror_rules', 'delete', ['set', [ovsUuid(mirrorNbUuid)]]]]);
  dm.delete('Mirror', [['name', '==', 'mir1']]);
  dm.delete('Chassis_Template_Var', []);
  await dm.execute();
  t.same(await converged(env), [], 'converged after deleting a port, a switch, the mirror and the template variables');
  t.same(await sbRows(env.client, 'Mirror'), [], 'SB mirror gone');
  t.notOk((await sbRows(env.client, 'Port_Binding')).some((p) => p.logical_port === 'vm1' || p.logical_port === 'vm3'), 'their port bindings are gone');
  t.notOk((await sbRows(env.client, 'Datapath_Binding')).some((d) => d.external_ids['name'] === 'sw2'), 'sw2 datapath gone');
  const stats = nd.engine.engine.stats();
  t.ok(stats['lflows']!.recomputes > 0, 'engine counters are kept per node');
  t.match(nd.engine.engine.dumpGraph(), /"topology" -> "lflows"/, 'the graph can be printed');
});

t.test('tunnel keys survive a restart; standby until the lock is free', async (t) => {
  const env = await startServer();
  const handles: NorthdHandle[] = [];
  t.teardown(async () => {
    for (const h of handles) await h.stop();
    await env.close();
  });
  const a = await runNorthd({ nbRemote: env.remote, sbRemote: env.remote });
  handles.push(a);
  await NB.addSwitch(env.client, 'sw1');
  for (let i = 1; i <= 5; i++) await NB.addPort(env.client, 'sw1', `p${i}`, [`00:00:00:00:00:0${i} 10.0.0.${i}`]);
  await NB.delPort(env.client, 'sw1', 'p2');
  t.same(await converged(env), [], 'converged');
  const keys = async (): Promise<string> =>
    JSON.stringify([...(await sbRows(env.client, 'Port_Binding')).map((p) => `${p.logical_port}=${p.tunnel_key}`)].sort().concat((await sbRows(env.client, 'Datapath_Binding')).map((d) => `${d.external_ids['name']}=${d.tunnel_key}`)));
  const before = await keys();

  const b = await runNorthd({ nbRemote: env.remote, sbRemote: env.remote });
  handles.push(b);
  t.equal(b.status(), 'standby', 'a second northd stands by');
  await a.stop();
  t.ok(await waitFor(async () => b.status() === 'active'), 'it takes over when the first stops');
  await NB.addPort(env.client, 'sw1', 'p6', ['00:00:00:00:00:06 10.0.0.6']);
  t.same(await converged(env), [], 'the new active northd keeps the SB converged');
  const after = await keys();
  const was = JSON.parse(before) as string[];
  t.ok(was.every((k) => (JSON.parse(after) as string[]).includes(k)), 'existing tunnel keys unchanged');
  t.ok((JSON.parse(after) as string[]).some((k) => k.startsWith('p6=')), 'new port got a key');
});

t.test('random NB edits: the SB always ends equal to a from-scratch compute', { timeout: 240_000 }, async (t) => {
  const env = await startServer();
  let nd: NorthdHandle | undefined;
  t.teardown(async () => {
    await nd?.stop();
    await env.close();
  });
  nd = await runNorthd({ nbRemote: env.remote, sbRemote: env.remote });
  const sws = ['s1', 's2', 's3'];
  for (const s of sws) await NB.addSwitch(env.client, s);
  let n = 0;
  const edit = fc.oneof(
    fc.record({ k: fc.constant('addPort' as const), sw: fc.constantFrom(...sws), unknown: fc.boolean() }),
    fc.record({ k: fc.constant('delPort' as const), sw: fc.constantFrom(...sws), i: fc.nat(20) }),
    fc.record({ k: fc.constant('acl' as const), sw: fc.constantFrom(...sws), pri: fc.integer({ min: 1, max: 3000 }), action: fc.constantFrom<Nb.ACLAction>('allow', 'allow-related', 'drop', 'reject', 'allow-stateless') }),
    fc.record({ k: fc.constant('editPort' as const), sw: fc.constantFrom(...sws), i: fc.nat(20) }),
    fc.record({ k: fc.constant('pg' as const), sw: fc.constantFrom(...sws), i: fc.nat(20) }),
    fc.record({ k: fc.constant('router' as const), a: fc.constantFrom(...sws), b: fc.constantFrom(...sws) }),
    fc.record({ k: fc.constant('sbHand' as const), what: fc.constantFrom('flow', 'port', 'key'), i: fc.nat(1000) }),
    fc.record({ k: fc.constant('bind' as const), sw: fc.constantFrom(...sws), i: fc.nat(20), up: fc.boolean() }),
  );
  // A chassis for ports to be bound to (as a controller would).
  const ch = env.client.transaction('OVN_Southbound');
  const encap = ch.insert('Encap', Sb.tables.Encap.encode({ type: 'geneve', ip: '127.0.0.9', chassis_name: 'hv9' }));
  const chassis = ch.insert('Chassis', Sb.tables.Chassis.encode({ name: 'hv9', hostname: 'hv9', encaps: [encap.uuidName] }));
  const chassisUuid = (await ch.execute()).uuid(chassis);
  let routers = 0;
  const added = new Map<string, string[]>(sws.map((s) => [s, []]));
  await fc.assert(
    fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 4 }), async (edits) => {
      for (const e of edits) {
        if (e.k === 'addPort') {
          n++;
          const name = `${e.sw}-p${n}`;
          const mac = `00:00:00:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}:01`;
          await NB.addPort(env.client, e.sw, name, e.unknown ? [`${mac} 10.9.${n >> 8}.${n & 255}`, 'unknown'] : [`${mac} 10.9.${n >> 8}.${n & 255}`]);
          added.get(e.sw)!.push(name);
        } else if (e.k === 'delPort') {
          const l = added.get(e.sw)!;
          if (!l.length) continue;
          const [name] = l.splice(e.i % l.length, 1);
          await NB.delPort(env.client, e.sw, name!);
        } else if (e.k === 'acl') {
          await NB.addAcl(env.client, e.sw, e.pri, e.pri % 2 ? 'from-lport' : 'to-lport', `ip4 && udp.dst == ${e.pri}`, e.action);
        } else if (e.k === 'editPort' || e.k === 'pg' || e.k === 'bind') {
          const l = added.get(e.sw)!;
          if (!l.length) continue;
          const name = l[e.i % l.length]!;
          if (e.k === 'editPort') {
            const tx = env.client.transaction('OVN_Northbound');
            tx.update('Logical_Switch_Port', [['name', '==', name]], Nb.tables.Logical_Switch_Port.encode({ addresses: [`00:00:00:aa:00:${(e.i & 255).toString(16).padStart(2, '0')} 10.8.0.${e.i}`, 'unknown'], port_security: e.i % 2 ? [`00:00:00:aa:00:${(e.i & 255).toString(16).padStart(2, '0')}`] : [] }));
            await tx.execute();
          } else if (e.k === 'pg') {
            const sel = env.client.transaction('OVN_Northbound');
            const q = sel.select('Logical_Switch_Port', [['name', '==', name]], ['_uuid']);
            const rows = (await sel.execute()).get(q).rows;
            if (!rows.length) continue;
            n++;
            const tx = env.client.transaction('OVN_Northbound');
            const acl = tx.insert('ACL', Nb.tables.ACL.encode({ priority: 700, direction: 'to-lport', match: `outport == @pg${n} && tcp.dst == ${n}`, action: 'allow-related' }));
            tx.insert('Port_Group', { ...Nb.tables.Port_Group.encode({ name: `pg${n}` }), ports: ['set', [rows[0]!['_uuid'] as UuidJson]], acls: ['set', [acl.ref]] });
            await tx.execute();
          } else {
            // A controller binds (or releases) the port.
            const tx = env.client.transaction('OVN_Southbound');
            tx.update('Port_Binding', [['logical_port', '==', name]], e.up ? { ...Sb.tables.Port_Binding.encode({ up: true }), chassis: ovsUuid(chassisUuid) } : { ...Sb.tables.Port_Binding.encode({ up: false }), chassis: ['set', []] });
            await tx.execute();
          }
        } else if (e.k === 'router') {
          if (e.a === e.b || routers >= 3) continue;
          routers++;
          await NB.addRouter(env.client, `lr${routers}`, [e.a, e.b]);
        } else {
          // Hand edits of the SB: the next run must undo them.
          await nd!.idle();
          const table = e.what === 'flow' ? 'Logical_Flow' : 'Port_Binding';
          const rows = await sbRows(env.client, table);
          if (!rows.length) continue;
          const victim = rows[e.i % rows.length]!;
          const tx = env.client.transaction('OVN_Southbound');
          if (e.what === 'key') tx.update('Port_Binding', [['_uuid', '==', ovsUuid(victim._uuid)]], Sb.tables.Port_Binding.encode({ tunnel_key: 30000 + (e.i % 1000) }));
          else tx.delete(table, [['_uuid', '==', ovsUuid(victim._uuid)]]);
          await tx.execute().catch(() => undefined);
        }
      }
      const m = await converged(env);
      return m.length === 0;
    }),
    { numRuns: 15 },
  );
  t.pass('15 random edit sequences converged');
});
