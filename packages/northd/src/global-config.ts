/**
 * Global configuration: NB_Global options northd owns (mac_prefix and svc_monitor_mac picked at
 * random once, max_tunid, northd_internal_version), the SB_Global options derived from them,
 * and the chassis features flows may rely on (a feature counts only if every chassis has it).
 */
import type { ChassisFeatures } from './context.js';
import type { NbTables, SbTables } from './input.js';
import { MAX_DP_KEY, MAX_DP_VXLAN_KEY } from './tunnel-keys.js';
import { NORTHD_INTERNAL_VERSION } from './sb-static.js';

export interface GlobalConfig {
  /** NB_Global.options as they should be (with northd's own keys filled in). */
  readonly nbOptions: Readonly<Record<string, string>>;
  /** True when nbOptions differ from what the NB holds. */
  readonly nbOptionsChanged: boolean;
  readonly sbOptions: Readonly<Record<string, string>>;
  readonly features: ChassisFeatures;
  /** Some chassis uses VXLAN: datapath and port keys are smaller. */
  readonly vxlanMode: boolean;
  readonly nbCfg: number;
  readonly ipsec: boolean;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/** A random locally administered unicast MAC (eth_addr_random). */
export function randomMac(random: () => number): string {
  const b = [...Array(6)].map(() => Math.floor(random() * 256));
  b[0] = (b[0]! & 0xfe) | 0x02;
  return b.map(hex2).join(':');
}

export function computeFeatures(sb: SbTables): ChassisFeatures {
  let ctNoMaskedLabel = true;
  let macBindingTimestamp = true;
  let ctLbRelated = true;
  let fdbTimestamp = true;
  for (const ch of sb.Chassis.values()) {
    const oc = ch.other_config;
    if (oc['is-remote'] === 'true') continue;
    if (oc['ct-no-masked-label'] !== 'true') ctNoMaskedLabel = false;
    if (oc['mac-binding-timestamp'] !== 'true') macBindingTimestamp = false;
    if (oc['ovn-ct-lb-related'] !== 'true') ctLbRelated = false;
    if (oc['fdb-timestamp'] !== 'true') fdbTimestamp = false;
  }
  return { ctNoMaskedLabel, macBindingTimestamp, ctLbRelated, fdbTimestamp };
}

export function isVxlanMode(sb: SbTables): boolean {
  for (const ch of sb.Chassis.values()) {
    for (const e of ch.encaps) if (sb.Encap.get(e)?.type === 'vxlan') return true;
  }
  return false;
}

export function computeGlobalConfig(nb: NbTables, sb: SbTables, random: () => number = Math.random): GlobalConfig {
  const nbg = [...nb.NB_Global.values()][0];
  const old = nbg?.options ?? {};
  const opts: Record<string, string> = { ...old };
  if (!/^[0-9a-fA-F]{2}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}$/.test(opts['mac_prefix'] ?? '') || /^00:00:00$/.test(opts['mac_prefix'] ?? '')) {
    opts['mac_prefix'] = randomMac(random).slice(0, 8);
  }
  if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(opts['svc_monitor_mac'] ?? '')) opts['svc_monitor_mac'] = randomMac(random);
  const vxlanMode = isVxlanMode(sb);
  opts['max_tunid'] = String(vxlanMode ? MAX_DP_VXLAN_KEY : MAX_DP_KEY);
  opts['northd_internal_version'] = NORTHD_INTERNAL_VERSION;
  const changed = Object.keys(opts).length !== Object.keys(old).length || Object.entries(opts).some(([k, v]) => old[k] !== v);
  const features = computeFeatures(sb);
  const sbOptions: Record<string, string> = { ...opts };
  if (!features.ctNoMaskedLabel) sbOptions['lb_hairpin_use_ct_mark'] = 'false';
  return { nbOptions: opts, nbOptionsChanged: changed, sbOptions, features, vxlanMode, nbCfg: nbg?.nb_cfg ?? 0, ipsec: nbg?.ipsec ?? false };
}
