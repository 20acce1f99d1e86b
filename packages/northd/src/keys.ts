/**
 * Tunnel keys for datapaths and ports: explicitly requested keys first, then the keys the SB
 * already holds (kept when they do not conflict, so keys stay stable across restarts), then new
 * keys from the allocator. A key in use is never given to another datapath or port.
 */
import type { SbTables } from './input.js';
import type { Datapath, Model } from './model.js';
import { portBindingsByName } from './sb-index.js';
import { KeyAllocator, MAX_DP_KEY, MAX_DP_VXLAN_KEY, MAX_PORT_KEY, MAX_PORT_VXLAN_KEY } from './tunnel-keys.js';

/** SB Datapath_Binding UUID -> datapath key (NB UUID), from external_ids. */
export function sbDatapathKeys(sb: SbTables): Map<string, string> {
  const out = new Map<string, string>();
  for (const dp of sb.Datapath_Binding.values()) {
    const k = dp.external_ids['logical-switch'] ?? dp.external_ids['logical-router'];
    if (k !== undefined) out.set(dp._uuid, k);
  }
  return out;
}

function requestedKey(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

export function assignDatapathKeys(model: Model, sb: SbTables, vxlanMode: boolean): void {
  const alloc = new KeyAllocator(1, vxlanMode ? MAX_DP_VXLAN_KEY : MAX_DP_KEY);
  const existing = new Map<string, number>();
  for (const dp of sb.Datapath_Binding.values()) {
    const k = dp.external_ids['logical-switch'] ?? dp.external_ids['logical-router'];
    if (k !== undefined && !existing.has(k)) existing.set(k, dp.tunnel_key);
  }
  const pending: Datapath[] = [];
  const both: Datapath[] = [];
  for (const od of model.dpList) {
    const req = requestedKey(od.nbs?.other_config['requested-tnl-key'] ?? od.nbr?.options['requested-tnl-key']);
    if (req !== undefined && alloc.reserve(req)) od.tunnelKey = req;
  }
  for (const od of model.dpList) {
    if (od.tunnelKey) continue;
    const k = existing.get(od.key);
    if (k !== undefined) {
      if (alloc.reserve(k)) od.tunnelKey = k;
      else both.push(od);
    } else pending.push(od);
  }
  for (const od of [...both, ...pending]) od.tunnelKey = alloc.allocate() ?? 0;
}

/** The key the SB holds for port `name`, with its datapath key. */
export function existingPortKey(sb: SbTables, dpOfSb: ReadonlyMap<string, string>, name: string): { key: number; dp: string | undefined } | undefined {
  const pb = portBindingsByName(sb.Port_Binding).get(name);
  return pb ? { key: pb.tunnel_key, dp: dpOfSb.get(pb.datapath) } : undefined;
}

export function assignPortKeys(model: Model, sb: SbTables, vxlanMode: boolean): void {
  const dpOfSb = sbDatapathKeys(sb);
  const max = vxlanMode ? MAX_PORT_VXLAN_KEY : MAX_PORT_KEY;
  const allocs = new Map<string, KeyAllocator>();
  const allocOf = (od: Datapath): KeyAllocator => {
    let a = allocs.get(od.key);
    if (!a) {
      a = new KeyAllocator(1, max);
      allocs.set(od.key, a);
    }
    return a;
  };
  const ports = [...model.ports.values()];
  for (const op of ports) {
    const opts = op.nbsp?.options ?? (op.kind === 'lrp' ? op.nbrp!.options : undefined);
    const req = requestedKey(opts?.['requested-tnl-key']);
    if (req !== undefined && allocOf(op.od).reserve(req)) op.tunnelKey = req;
  }
  for (const op of ports) {
    if (op.tunnelKey) continue;
    const e = existingPortKey(sb, dpOfSb, op.name);
    if (e && e.dp === op.od.key && allocOf(op.od).reserve(e.key)) op.tunnelKey = e.key;
  }
  for (const op of ports) if (!op.tunnelKey) op.tunnelKey = allocOf(op.od).allocate() ?? 0;
}

