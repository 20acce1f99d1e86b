/**
 * Which Southbound changes can change northd's result. Most SB changes northd sees are echoes
 * of its own writes (the port bindings, datapaths, flows it just wrote); recomputing for them
 * would double the work of every change. A change matters only when it is not what northd
 * itself wants (a tunnel key or datapath other than the desired one, a row someone deleted) or
 * touches the fields controllers own and northd reads (chassis, up, virtual_parent, two
 * options; learnt MAC bindings and FDB entries; service monitor status).
 */
import { Sb, type IdlRowChange, type TypedRow } from '@ovnts/ovsdb';
import type { DesiredSb } from './desired.js';

const T = Sb.tables;
export type Cache = ReadonlyMap<string, ReadonlyMap<string, TypedRow>>;

/** The chassis fields the compute reads (features, encaps, hv_cfg, requested-chassis). */
export function chassisSignature(tables: { get(t: string): ReadonlyMap<string, TypedRow> }): string {
  const parts: string[] = [];
  for (const c of tables.get('Chassis').values() as Iterable<Sb.Chassis>) parts.push(`C${c._uuid}|${c.name}|${c.hostname}|${JSON.stringify(c.other_config)}|${c.encaps.join(',')}`);
  for (const e of tables.get('Encap').values() as Iterable<Sb.Encap>) parts.push(`E${e._uuid}|${e.type}`);
  for (const p of tables.get('Chassis_Private').values() as Iterable<Sb.ChassisPrivate>) parts.push(`P${p.chassis ?? ''}|${p.nb_cfg}|${p.nb_cfg_timestamp}`);
  return parts.sort().join('\n');
}

export interface Relevance {
  /** The change can change some result. */
  readonly compute: boolean;
  /** ... and the logical flows in particular. */
  readonly flows: boolean;
}

const ROUTER_TYPES = new Set(['patch', 'l3gateway', 'chassisredirect']);

/** Port_Binding fields controllers write that northd reads. */
function controllerFields(p: Sb.PortBinding): string {
  return `${p.chassis ?? ''}|${p.up === true}|${p.virtual_parent ?? ''}|${p.options['ipv6_ra_pd_list'] ?? ''}|${p.options['additional-chassis-activated'] ?? ''}`;
}

const dpKeyOfRow = (d: Sb.DatapathBinding): string | undefined => d.external_ids['logical-switch'] ?? d.external_ids['logical-router'];

/**
 * Port_Binding and Datapath_Binding changes, judged against the desired state northd last
 * computed (`want`; undefined: everything matters). `dpKeyOf` maps an SB datapath UUID to its
 * datapath key.
 */
export function bindingRelevance(changes: Iterable<IdlRowChange>, want: DesiredSb | undefined, dpKeyOf: (uuid: string) => string | undefined): Relevance {
  if (!want) return { compute: true, flows: true };
  let compute = false;
  let flows = false;
  for (const c of changes) {
    if (c.table === 'Datapath_Binding') {
      const o = c.old ? T.Datapath_Binding.fromIdlRow(c.old) : undefined;
      const n = c.new ? T.Datapath_Binding.fromIdlRow(c.new) : undefined;
      let rel: boolean;
      if (!n) rel = o !== undefined && dpKeyOfRow(o) !== undefined && want.datapaths.has(dpKeyOfRow(o)!);
      else {
        const k = dpKeyOfRow(n);
        const d = k === undefined ? undefined : want.datapaths.get(k);
        rel = (k !== undefined && (!d || d.tunnel_key !== n.tunnel_key)) || (o !== undefined && dpKeyOfRow(o) !== k);
      }
      if (rel) return { compute: true, flows: true };
      continue;
    }
    if (c.table !== 'Port_Binding') continue;
    const o = c.old ? T.Port_Binding.fromIdlRow(c.old) : undefined;
    const n = c.new ? T.Port_Binding.fromIdlRow(c.new) : undefined;
    const type = (n ?? o)!.type;
    let keyRel = false;
    let ctlRel = false;
    if (!n) {
      // A row northd still wants went away (it will be written again, maybe with a new key).
      keyRel = want.portBindings.has(o!.logical_port);
    } else {
      const d = want.portBindings.get(n.logical_port);
      keyRel = d !== undefined && (d.tunnel_key !== n.tunnel_key || dpKeyOf(n.datapath) !== d.datapath);
      if (o && o.logical_port !== n.logical_port) keyRel = true;
      if (o) ctlRel = controllerFields(o) !== controllerFields(n);
      else {
        // Inserted as northd inserts its rows: no chassis, down, options as desired.
        const fresh = `|false||${d?.options['ipv6_ra_pd_list'] ?? ''}|${d?.options['additional-chassis-activated'] ?? ''}`;
        ctlRel = controllerFields(n) !== fresh;
      }
    }
    if (keyRel || ctlRel) compute = true;
    if ((keyRel && ROUTER_TYPES.has(type)) || (ctlRel && type === 'virtual')) flows = true;
    if (compute && flows) break;
  }
  return { compute, flows };
}

/** MAC_Binding, FDB and Service_Monitor changes: what the compute reads of them. */
export function learnedRelevance(changes: Iterable<IdlRowChange>): Relevance {
  let compute = false;
  let flows = false;
  for (const c of changes) {
    switch (c.table) {
      case 'MAC_Binding': {
        // Stale bindings are found by logical port.
        if (!c.old || !c.new) compute = true;
        else if (T.MAC_Binding.fromIdlRow(c.old).logical_port !== T.MAC_Binding.fromIdlRow(c.new).logical_port) compute = true;
        break;
      }
      case 'FDB': {
        if (!c.old || !c.new) compute = true;
        else {
          const o = T.FDB.fromIdlRow(c.old);
          const n = T.FDB.fromIdlRow(c.new);
          if (o.dp_key !== n.dp_key || o.port_key !== n.port_key) compute = true;
        }
        break;
      }
      case 'Service_Monitor': {
        // Flows use the status (backends offline are left out); a row without one counts as unprobed.
        const o = c.old ? T.Service_Monitor.fromIdlRow(c.old) : undefined;
        const n = c.new ? T.Service_Monitor.fromIdlRow(c.new) : undefined;
        const key = (m: Sb.ServiceMonitor | undefined): string => (m ? `${m.ip}|${m.port}|${m.protocol ?? 'tcp'}|${m.logical_port}` : '');
        if ((o?.status ?? '') !== (n?.status ?? '') || (o?.status !== undefined && n?.status !== undefined && key(o) !== key(n))) {
          compute = true;
          flows = true;
        }
        break;
      }
    }
  }
  return { compute, flows };
}
