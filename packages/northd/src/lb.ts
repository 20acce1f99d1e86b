/**
 * Load balancers as northd reads them (lib/lb.c): each `vips` entry "VIP[:PORT]" (IPv6 in
 * brackets when a port is given) maps to backends "IP[:PORT],IP[:PORT]...".
 */
import type { Nb } from '@ovnts/ovsdb';
import { formatIp4, formatIp6, parseIp4, parseIp6 } from './ip.js';

export interface LbBackend {
  readonly ip: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** As written in ct_lb_mark backends: "IP", "IP:PORT" or "[IP6]:PORT". */
  readonly text: string;
}

export interface LbVip {
  readonly vip: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** The `vips` key as configured. */
  readonly key: string;
  /** The `vips` value as configured. */
  readonly backendsText: string;
  readonly backends: LbBackend[];
  /** Whether the backend list was empty (a reject/event VIP). */
  readonly empty: boolean;
}

export interface Lb {
  readonly uuid: string;
  readonly nb: Nb.LoadBalancer;
  readonly name: string;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  readonly vips: LbVip[];
  readonly options: Readonly<Record<string, string>>;
  readonly selectionFields: readonly string[];
  /** options:template=true: VIPs use chassis template variables; not supported here. */
  readonly template: boolean;
}

/** "IP", "IP:PORT", "[IP6]:PORT" or "IP6" to (canonical IP, port, family). */
export function parseIpPort(s: string): { ip: string; port: number; family: 4 | 6 } | undefined {
  const t = s.trim();
  let host = t;
  let port = 0;
  if (t.startsWith('[')) {
    const close = t.indexOf(']');
    if (close < 0) return undefined;
    host = t.slice(1, close);
    const rest = t.slice(close + 1);
    if (rest !== '') {
      if (!/^:\d+$/.test(rest)) return undefined;
      port = Number(rest.slice(1));
    }
    const v6 = parseIp6(host);
    return v6 === undefined || port > 65535 ? undefined : { ip: formatIp6(v6), port, family: 6 };
  }
  const colons = (t.match(/:/g) ?? []).length;
  if (colons === 1) {
    const i = t.indexOf(':');
    host = t.slice(0, i);
    if (!/^\d+$/.test(t.slice(i + 1))) return undefined;
    port = Number(t.slice(i + 1));
  }
  if (colons <= 1) {
    const v4 = parseIp4(host);
    return v4 === undefined || port > 65535 ? undefined : { ip: formatIp4(v4), port, family: 4 };
  }
  const v6 = parseIp6(t);
  return v6 === undefined ? undefined : { ip: formatIp6(v6), port: 0, family: 6 };
}

export function parseLb(row: Nb.LoadBalancer): Lb {
  const vips: LbVip[] = [];
  for (const [key, value] of Object.entries(row.vips)) {
    const v = parseIpPort(key);
    if (!v) continue;
    const backends: LbBackend[] = [];
    let bad = false;
    for (const b of value.split(',').map((x) => x.trim()).filter((x) => x !== '')) {
      const p = parseIpPort(b);
      if (!p || p.family !== v.family) {
        bad = true;
        break;
      }
      const text = p.port ? (p.family === 6 ? `[${p.ip}]:${p.port}` : `${p.ip}:${p.port}`) : p.ip;
      backends.push({ ...p, text });
    }
    if (bad) continue;
    vips.push({ vip: v.ip, port: v.port, family: v.family, key, backendsText: value, backends, empty: backends.length === 0 });
  }
  return {
    uuid: row._uuid,
    nb: row,
    name: row.name,
    protocol: row.protocol ?? 'tcp',
    vips,
    options: row.options,
    selectionFields: row.selection_fields,
    template: row.options['template'] === 'true',
  };
}
