/**
 * Differential comparison of ovnts northd's compute with real ovn-northd: both Southbound
 * databases reduced to comparable text lines, per datapath name (datapath groups are an
 * encoding detail), and the lines only one side has.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RowJson } from '@ovnts/ovsdb';
import { computeNorthd, nbFromDump, sbFromDump, type ComputeResult } from '../src/index.js';
import { realNorthdDump, loadScenarios, type DbDump, type Scenario } from './real-northd.js';

const uuidOf = (v: unknown): string => (Array.isArray(v) && v[0] === 'uuid' ? (v[1] as string) : '');
const setOf = (v: unknown): unknown[] => (Array.isArray(v) && v[0] === 'set' ? (v[1] as unknown[]) : [v]);
const mapOf = (v: unknown): Record<string, string> => Object.fromEntries(Array.isArray(v) && v[0] === 'map' ? (v[1] as [string, unknown][]).map(([k, x]) => [k, String(Array.isArray(x) ? x[1] : x)]) : []);

/** This package's extra scenarios (flows only, no probes). */
export const LOCAL_SCENARIO_DIR = new URL('../../test/scenarios/', import.meta.url).pathname;

export function allScenarios(): Scenario[] {
  return [...loadScenarios(), ...loadScenarios(LOCAL_SCENARIO_DIR)];
}

/** Real northd's NB+SB for a scenario, cached in the temporary directory by content hash. */
export async function cachedRealDump(s: Scenario): Promise<{ nb: DbDump; sb: DbDump }> {
  const hash = createHash('sha256').update(JSON.stringify([s.nbctl, s.chassis ?? [], s.nbctl_batch ?? false])).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'ovnts-northd-oracle');
  const file = join(dir, `${s.name}-${hash}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as { nb: DbDump; sb: DbDump };
  const d = await realNorthdDump(s);
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, JSON.stringify(d));
  return d;
}

export interface Diff {
  readonly table: string;
  readonly oursOnly: string[];
  readonly theirsOnly: string[];
  readonly common: number;
}

function multisetDiff(table: string, ours: string[], theirs: string[]): Diff {
  const count = new Map<string, number>();
  for (const t of theirs) count.set(t, (count.get(t) ?? 0) + 1);
  const oursOnly: string[] = [];
  let common = 0;
  for (const o of ours) {
    const c = count.get(o) ?? 0;
    if (c > 0) {
      count.set(o, c - 1);
      common++;
    } else oursOnly.push(o);
  }
  const theirsOnly: string[] = [];
  for (const [t, c] of count) for (let i = 0; i < c; i++) theirsOnly.push(t);
  return { table, oursOnly: oursOnly.sort(), theirsOnly: theirsOnly.sort(), common };
}

const flowLine = (dp: string, pipeline: string, table: number, stage: string, priority: number, match: string, actions: string): string =>
  `${dp} ${pipeline === 'ingress' ? 'in' : 'eg'} ${String(table).padStart(2)} ${stage} ${priority} (${match}) => ${actions}`;

/** Real SB flows and other rows as comparable lines. */
export function realLines(sb: DbDump): Record<string, string[]> {
  const dpName = new Map<string, string>();
  for (const d of sb['Datapath_Binding'] ?? []) dpName.set(uuidOf(d['_uuid']), mapOf(d['external_ids'])['name'] ?? '?');
  const groups = new Map<string, string[]>();
  for (const g of sb['Logical_DP_Group'] ?? []) groups.set(uuidOf(g['_uuid']), setOf(g['datapaths']).map((x) => dpName.get(uuidOf(x)) ?? '?'));
  const flows: string[] = [];
  const tags: string[] = [];
  for (const f of sb['Logical_Flow'] ?? []) {
    const ld = setOf(f['logical_datapath']);
    const names = ld.length ? [dpName.get(uuidOf(ld[0])) ?? '?'] : groups.get(uuidOf(setOf(f['logical_dp_group'])[0])) ?? [];
    const ext = mapOf(f['external_ids']);
    const t = mapOf(f['tags']);
    const meter = setOf(f['controller_meter'])[0] as string | undefined;
    for (const n of names) {
      const line = flowLine(n, f['pipeline'] as string, f['table_id'] as number, ext['stage-name'] ?? '', f['priority'] as number, f['match'] as string, f['actions'] as string);
      flows.push(line);
      tags.push(`${line} tags=${JSON.stringify(t)} meter=${meter ?? ''}`);
    }
  }
  const pbName = new Map<string, string>();
  for (const p of sb['Port_Binding'] ?? []) pbName.set(uuidOf(p['_uuid']), p['logical_port'] as string);
  const ports = (sb['Port_Binding'] ?? []).map((p) => pbLine({
    dp: dpName.get(uuidOf(p['datapath'])) ?? '?',
    name: p['logical_port'] as string,
    type: p['type'] as string,
    key: p['tunnel_key'] as number,
    mac: setOf(p['mac']) as string[],
    options: mapOf(p['options']),
    parent: setOf(p['parent_port'])[0] as string | undefined,
    tag: setOf(p['tag'])[0] as number | undefined,
    nat: setOf(p['nat_addresses']) as string[],
    ps: setOf(p['port_security']) as string[],
    ext: mapOf(p['external_ids']),
  }));
  const datapaths = (sb['Datapath_Binding'] ?? []).map((d) => dpLine(mapOf(d['external_ids']), d['tunnel_key'] as number));
  const mcgroups = (sb['Multicast_Group'] ?? []).map((m) => `${dpName.get(uuidOf(m['datapath']))} ${m['name'] as string} ${m['tunnel_key'] as number} [${setOf(m['ports']).map((x) => pbName.get(uuidOf(x))).sort().join(',')}]`);
  const addrsets = (sb['Address_Set'] ?? []).map((a) => `${a['name'] as string} [${(setOf(a['addresses']) as string[]).slice().sort().join(',')}]`);
  const portgroups = (sb['Port_Group'] ?? []).map((a) => `${a['name'] as string} [${(setOf(a['ports']) as string[]).slice().sort().join(',')}]`);
  const lbs = (sb['Load_Balancer'] ?? []).map((l) => `${l['name'] as string} ${JSON.stringify(sortObj(mapOf(l['vips'])))} ${setOf(l['protocol'])[0] as string} ${JSON.stringify(sortObj(mapOf(l['options'])))}`);
  const sbg = (sb['SB_Global'] ?? []).map((g) => JSON.stringify(sortObj(mapOf(g['options']))));
  const chassisName = new Map((sb['Chassis'] ?? []).map((c) => [uuidOf(c['_uuid']), c['name'] as string]));
  const haRows = new Map((sb['HA_Chassis'] ?? []).map((h) => [uuidOf(h['_uuid']), h]));
  const haName = new Map((sb['HA_Chassis_Group'] ?? []).map((g) => [uuidOf(g['_uuid']), g['name'] as string]));
  const hagroups = (sb['HA_Chassis_Group'] ?? []).map((g) =>
    `${g['name'] as string} [${setOf(g['ha_chassis']).map((u) => haRows.get(uuidOf(u))).filter((h) => h).map((h) => `${chassisName.get(uuidOf(h!['chassis'])) ?? '?'}:${h!['priority'] as number}:${JSON.stringify(mapOf(h!['external_ids']))}`).sort().join(',')}]`);
  const pbrefs = (sb['Port_Binding'] ?? []).map((p) => `${p['logical_port'] as string} ha=${haName.get(uuidOf(setOf(p['ha_chassis_group'])[0])) ?? '-'} req=${chassisName.get(uuidOf(setOf(p['requested_chassis'])[0])) ?? '-'}`);
  const bands = new Map((sb['Meter_Band'] ?? []).map((b) => [uuidOf(b['_uuid']), `${b['action'] as string}/${b['rate'] as number}/${b['burst_size'] as number}`]));
  const meters = (sb['Meter'] ?? []).map((m) => `${m['name'] as string} ${m['unit'] as string} [${setOf(m['bands']).map((u) => bands.get(uuidOf(u))).join(',')}]`);
  const dns = (sb['DNS'] ?? []).map((d) => `${mapOf(d['external_ids'])['dns_id']} ${JSON.stringify(sortObj(mapOf(d['records'])))} [${setOf(d['datapaths']).map((u) => dpName.get(uuidOf(u))).sort().join(',')}]`);
  const smb = (sb['Static_MAC_Binding'] ?? []).map((s) => `${s['logical_port'] as string} ${s['ip'] as string} ${s['mac'] as string} ${String(s['override_dynamic_mac'])} ${dpName.get(uuidOf(s['datapath']))}`);
  const ipmc = (sb['IP_Multicast'] ?? []).map((m) => `${dpName.get(uuidOf(m['datapath']))} ${['enabled', 'querier', 'eth_src', 'ip4_src', 'ip6_src', 'table_size', 'idle_timeout', 'query_interval', 'query_max_resp'].map((c) => String(setOf(m[c])[0])).join(' ')}`);
  const dhcp = [...(sb['DHCP_Options'] ?? []).map((o) => `4 ${o['name'] as string} ${o['code'] as number} ${o['type'] as string}`), ...(sb['DHCPv6_Options'] ?? []).map((o) => `6 ${o['name'] as string} ${o['code'] as number} ${o['type'] as string}`)];
  const svcmon = (sb['Service_Monitor'] ?? []).map((m) => `${m['ip'] as string}:${m['port'] as number}/${setOf(m['protocol'])[0] as string} ${m['logical_port'] as string} ${m['src_ip'] as string} ${m['src_mac'] as string} ${JSON.stringify(sortObj(mapOf(m['options'])))}`);
  const mirrorName = new Map((sb['Mirror'] ?? []).map((m) => [uuidOf(m['_uuid']), m['name'] as string]));
  const mirrors = [
    ...(sb['Mirror'] ?? []).map((m) => `${m['name'] as string} ${m['type'] as string} ${m['filter'] as string} ${m['sink'] as string} ${m['index'] as number} ${JSON.stringify(sortObj(mapOf(m['external_ids'])))}`),
    ...(sb['Port_Binding'] ?? []).filter((p) => setOf(p['mirror_rules']).length).map((p) => `pb ${p['logical_port'] as string} [${setOf(p['mirror_rules']).map((u) => mirrorName.get(uuidOf(u))).sort().join(',')}]`),
  ];
  const tvars = (sb['Chassis_Template_Var'] ?? []).map((v) => `${v['chassis'] as string} ${JSON.stringify(sortObj(mapOf(v['variables'])))}`);
  return { flows, tags, ports, datapaths, mcgroups, addrsets, portgroups, lbs, sbg, hagroups, pbrefs, meters, dns, smb, ipmc, dhcp, svcmon, mirrors, tvars };
}

function sortObj(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function pbLine(p: { dp: string; name: string; type: string; key: number; mac: readonly string[]; options: Record<string, string>; parent: string | undefined; tag: number | undefined; nat: readonly string[]; ps: readonly string[]; ext: Record<string, string> }): string {
  return `${p.dp}/${p.name} type=${p.type} key=${p.key} mac=${JSON.stringify([...p.mac].sort())} options=${JSON.stringify(sortObj(p.options))} parent=${p.parent ?? '-'} tag=${p.tag ?? '-'} nat=${JSON.stringify([...p.nat].sort())} ps=${JSON.stringify([...p.ps].sort())} ext=${JSON.stringify(sortObj(p.ext))}`;
}

function dpLine(ids: Record<string, string>, key: number): string {
  const i = { ...ids };
  delete i['logical-switch'];
  delete i['logical-router'];
  return `${ids['name']} key=${key} ${ids['logical-switch'] ? 'ls' : 'lr'} ${JSON.stringify(sortObj(i))}`;
}

/** Our compute's lines, in the same shapes. */
export function oursLines(r: ComputeResult): Record<string, string[]> {
  const name = (k: string): string => r.model.datapaths.get(k)?.name ?? '?';
  const flows: string[] = [];
  const tags: string[] = [];
  for (const f of r.sb.lflows.values()) {
    for (const d of f.datapaths) {
      const line = flowLine(name(d), f.pipeline, f.table_id, f.external_ids['stage-name'] ?? '', f.priority, f.match, f.actions);
      flows.push(line);
      tags.push(`${line} tags=${JSON.stringify(f.tags)} meter=${f.controller_meter ?? ''}`);
    }
  }
  const ports = [...r.sb.portBindings.values()].map((p) =>
    pbLine({ dp: name(p.datapath), name: p.logical_port, type: p.type, key: p.tunnel_key, mac: p.mac, options: { ...p.options }, parent: p.parent_port, tag: p.tag, nat: p.nat_addresses, ps: p.port_security, ext: { ...p.external_ids } }),
  );
  const datapaths = [...r.sb.datapaths.values()].map((d) => dpLine({ ...d.external_ids }, d.tunnel_key));
  const mcgroups = [...r.sb.multicastGroups.values()].map((m) => `${name(m.datapath)} ${m.name} ${m.tunnel_key} [${[...m.ports].sort().join(',')}]`);
  const addrsets = [...r.sb.addressSets].map(([n, a]) => `${n} [${[...a].sort().join(',')}]`);
  const portgroups = [...r.sb.portGroups].map(([n, a]) => `${n} [${[...a].sort().join(',')}]`);
  const lbs = [...r.sb.loadBalancers.values()].map((l) => `${l.name} ${JSON.stringify(sortObj({ ...l.vips }))} ${l.protocol} ${JSON.stringify(sortObj({ ...l.options }))}`);
  const sbg = [JSON.stringify(sortObj({ ...r.sb.sbGlobal.options }))];
  const sbChassis = new Set([...r.model.input.sb.Chassis.values()].map((c) => c.name));
  const hagroups = [...r.sb.haChassisGroups.values()].map((g) =>
    `${g.name} [${Object.entries(g.ha_chassis).filter(([c]) => sbChassis.has(c)).map(([c, p]) => `${c}:${p}:${JSON.stringify({ 'chassis-name': c })}`).sort().join(',')}]`);
  const pbrefs = [...r.sb.portBindings.values()].map((p) => `${p.logical_port} ha=${p.ha_chassis_group ?? '-'} req=${p.requested_chassis !== undefined && sbChassis.has(p.requested_chassis) ? p.requested_chassis : '-'}`);
  const meters = [...r.sb.meters.values()].map((m) => `${m.name} ${m.unit} [${m.bands.map((b) => `${b.action}/${b.rate}/${b.burst_size}`).join(',')}]`);
  const dns = [...r.sb.dns.values()].map((d) => `${d.key} ${JSON.stringify(sortObj({ ...d.records }))} [${d.datapaths.map(name).sort().join(',')}]`);
  const smb = [...r.sb.staticMacBindings.values()].map((s) => `${s.logical_port} ${s.ip} ${s.mac} ${String(s.override_dynamic_mac)} ${name(s.datapath)}`);
  const ipmc = [...r.sb.ipMulticast.values()].map((m) => `${name(m.datapath)} ${[m.enabled, m.querier, m.eth_src, m.ip4_src, m.ip6_src, m.table_size, m.idle_timeout, m.query_interval, m.query_max_resp].map(String).join(' ')}`);
  const dhcp = [...[...r.sb.dhcpOptions].map(([n, o]) => `4 ${n} ${o.code} ${o.type}`), ...[...r.sb.dhcpv6Options].map(([n, o]) => `6 ${n} ${o.code} ${o.type}`)];
  const svcmon = [...r.sb.serviceMonitors.values()].map((m) => `${m.ip}:${m.port}/${m.protocol} ${m.logical_port} ${m.src_ip} ${m.src_mac} ${JSON.stringify(sortObj({ ...m.options }))}`);
  const mirrors = [
    ...[...r.sb.mirrors.values()].map((m) => `${m.name} ${m.type} ${m.filter} ${m.sink} ${m.index} ${JSON.stringify(sortObj({ ...m.external_ids }))}`),
    ...[...r.sb.portBindings.values()].filter((p) => p.mirror_rules.length).map((p) => `pb ${p.logical_port} [${[...p.mirror_rules].sort().join(',')}]`),
  ];
  const tvars = [...r.sb.templateVars].map(([c, v]) => `${c} ${JSON.stringify(sortObj({ ...v }))}`);
  return { flows, tags, ports, datapaths, mcgroups, addrsets, portgroups, lbs, sbg, hagroups, pbrefs, meters, dns, smb, ipmc, dhcp, svcmon, mirrors, tvars };
}

/** Logical_Switch_Port columns northd writes (dynamic_addresses, tag), from an NB dump. */
export function realNbWriteLines(nb: DbDump): string[] {
  return (nb['Logical_Switch_Port'] ?? []).map((p) => `${p['name'] as string} dyn=${(setOf(p['dynamic_addresses'])[0] as string | undefined) ?? '-'} tag=${(setOf(p['tag'])[0] as number | undefined) ?? '-'}`);
}

/** The same columns as our compute wants them (the input had them removed). */
export function oursNbWriteLines(r: ComputeResult): string[] {
  return [...r.model.input.nb.Logical_Switch_Port.values()].map((p) => `${p.name} dyn=${r.nb.lspDynamicAddresses.get(p._uuid) ?? '-'} tag=${r.nb.lspTag.get(p._uuid) ?? p.tag ?? '-'}`);
}

/** Real northd's NB without the columns northd itself writes, so our compute must produce them. */
function withoutNorthdColumns(nb: DbDump): DbDump {
  return { ...nb, Logical_Switch_Port: (nb['Logical_Switch_Port'] ?? []).map((p) => ({ ...p, dynamic_addresses: ['set', []], tag: ['set', []] }) as RowJson) };
}

/**
 * Runs our compute over real northd's input (NB, and SB for keys and chassis) and diffs. With
 * `fresh`, the NB columns northd writes (dynamic_addresses, tag) are removed first, so our IPAM
 * and tag allocation must choose what real northd chose; that is only meaningful when real
 * northd also saw everything in one transaction (a scenario with nbctl_batch).
 */
export function compareWithReal(dump: { nb: DbDump; sb: DbDump }, fresh = false): { result: ComputeResult; diffs: Diff[] } {
  const nb = fresh ? withoutNorthdColumns(dump.nb) : dump.nb;
  const result = computeNorthd({ nb: nbFromDump(nb as Record<string, RowJson[]>), sb: sbFromDump(dump.sb as Record<string, RowJson[]>) });
  const ours: Record<string, string[]> = { ...oursLines(result), nbwrites: oursNbWriteLines(result) };
  const theirs: Record<string, string[]> = { ...realLines(dump.sb), nbwrites: realNbWriteLines(dump.nb) };
  const diffs = Object.keys(theirs).map((t) => multisetDiff(t, ours[t] ?? [], theirs[t] ?? []));
  return { result, diffs };
}
