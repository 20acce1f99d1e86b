/**
 * IP and MAC address management (northd's ipam.c): switch ports whose `addresses` say
 * "dynamic" ("dynamic", "MAC dynamic", "dynamic IP", "dynamic IP6", "dynamic IP IP6") get
 * addresses from the switch's other_config (subnet, exclude_ips, ipv6_prefix, mac_only), written
 * to Logical_Switch_Port.dynamic_addresses. Addresses already assigned are kept while still
 * valid. MACs come from NB_Global options:mac_prefix plus a 24-bit suffix derived from the IP.
 *
 * Switches are visited in real northd's hash-map order and ports in `ports` column order, so
 * the same addresses are chosen.
 */
import { extractLspAddresses, isDynamicLspAddress, type LportAddresses } from './addresses.js';
import { formatIp4, formatIp6, formatMac, ip4Mask, ip6Mask, parseCidr, parseIp4, parseIp6, parseMac } from './ip.js';
import type { Datapath, Model, Port } from './model.js';
import { hmapOrder } from './ovs-hash.js';

const MAC_ADDR_SPACE = 0xffffff;

interface IpamInfo {
  startIpv4: number;
  totalIpv4s: number;
  allocated: Uint8Array | undefined;
  ipv6Prefix: bigint | undefined;
  macOnly: boolean;
}

function initIpam(od: Datapath): IpamInfo {
  const oc = od.nbs!.other_config;
  const info: IpamInfo = { startIpv4: 0, totalIpv4s: 0, allocated: undefined, ipv6Prefix: undefined, macOnly: false };
  const subnet = oc['subnet'];
  if (subnet !== undefined) {
    const c = parseCidr(subnet);
    if (c && c.family === 4 && c.plen < 32) {
      const mask = ip4Mask(c.plen);
      info.startIpv4 = ((c.addr & mask) >>> 0) + 1;
      info.totalIpv4s = ~mask >>> 0;
      info.allocated = new Uint8Array(info.totalIpv4s);
      info.allocated[0] = 1; // the first address is the router's
      const ex = oc['exclude_ips'];
      if (ex !== undefined) {
        for (const tok of ex.trim().split(/\s+/)) {
          const [a, b] = tok.split('..');
          const s = parseIp4(a ?? '');
          if (s === undefined) break;
          const e = b !== undefined ? parseIp4(b) : s;
          if (e === undefined) break;
          const start = Math.max(info.startIpv4, s);
          const end = Math.min(info.startIpv4 + info.totalIpv4s, e + 1);
          for (let ip = start; ip < end; ip++) info.allocated[ip - info.startIpv4] = 1;
        }
      }
    }
  }
  const v6 = oc['ipv6_prefix'];
  if (v6 !== undefined) {
    const c = v6.includes('/') ? parseCidr(v6) : (() => {
      const a = parseIp6(v6);
      return a === undefined ? undefined : { family: 6 as const, addr: a, plen: 64 };
    })();
    if (c && c.family === 6 && c.plen === 64) info.ipv6Prefix = c.addr & ip6Mask(64);
  }
  if (subnet === undefined && v6 === undefined) info.macOnly = oc['mac_only'] === 'true';
  return info;
}

function insertIp(info: IpamInfo, ip: number, dynamic: boolean): boolean {
  if (!info.allocated) return true;
  if (ip >= info.startIpv4 && ip < info.startIpv4 + info.totalIpv4s) {
    if (dynamic && info.allocated[ip - info.startIpv4]) return false;
    info.allocated[ip - info.startIpv4] = 1;
  }
  return true;
}

function unusedIp(info: IpamInfo): number {
  if (!info.allocated) return 0;
  for (let i = 0; i < info.totalIpv4s - 1; i++) if (!info.allocated[i]) return info.startIpv4 + i;
  return 0;
}

/** The EUI-64 address of `mac` in a /64 prefix. */
function eui64(mac: bigint, prefix: bigint): bigint {
  const b = [...Array(6)].map((_, i) => Number((mac >> BigInt((5 - i) * 8)) & 0xffn));
  const eui = [b[0]! ^ 2, b[1]!, b[2]!, 0xff, 0xfe, b[3]!, b[4]!, b[5]!];
  let v = prefix;
  for (let i = 0; i < 8; i++) v |= BigInt(eui[i]!) << BigInt((7 - i) * 8);
  return v;
}

type Update = 'none' | 'remove' | 'static' | 'dynamic';

/** The MAC/IP the `addresses` entry pins, if any ("MAC dynamic", "dynamic IP", ...). */
function addrSpec(spec: string): { mac?: bigint; ip4?: number; ip6?: bigint } {
  const w = spec.trim().split(/\s+/);
  const out: { mac?: bigint; ip4?: number; ip6?: bigint } = {};
  if (w.length === 2 && w[1] === 'dynamic') {
    const m = parseMac(w[0]!);
    if (m !== undefined) out.mac = m;
  } else if (w[0] === 'dynamic' && w.length === 2) {
    const a4 = parseIp4(w[1]!);
    if (a4 !== undefined) out.ip4 = a4;
    else {
      const a6 = parseIp6(w[1]!);
      if (a6 !== undefined) out.ip6 = a6;
    }
  } else if (w[0] === 'dynamic' && w.length === 3) {
    const a4 = parseIp4(w[1]!);
    const a6 = parseIp6(w[2]!);
    if (a4 !== undefined && a6 !== undefined) {
      out.ip4 = a4;
      out.ip6 = a6;
    }
  }
  return out;
}

interface PendingUpdate {
  op: Port;
  info: IpamInfo;
  current: LportAddresses | undefined;
  mac: Update;
  ipv4: Update;
  ipv6: Update;
  staticMac?: bigint;
  staticIp?: number;
  staticIpv6?: bigint;
}

/**
 * Runs IPAM over the model: sets each port's `dynamicAddresses` and pushes them into its
 * `lspAddrs`. `macPrefix` is NB_Global options:mac_prefix ("xx:xx:xx").
 */
export function runIpam(model: Model, macPrefix: string): void {
  const prefix = parseMac(`${macPrefix}:00:00:00`) ?? 0n;
  const macam = new Set<bigint>();
  const insertMac = (mac: bigint, check: boolean): void => {
    if ((mac ^ prefix) >> 24n) return;
    if (check && macam.has(mac)) return;
    macam.add(mac);
  };
  const unusedMac = (ip: number): bigint => {
    const base = ip & MAC_ADDR_SPACE;
    for (let i = 0; i < MAC_ADDR_SPACE - 1; i++) {
      const mac = prefix | BigInt(((base + i) % (MAC_ADDR_SPACE - 1)) + 1);
      if (!macam.has(mac)) return mac;
    }
    return 0n;
  };

  // Switches in northd's datapath hash-map order (uuid_hash: the UUID's first 32 bits).
  const switches = hmapOrder(
    model.dpList.filter((od) => od.kind === 'ls').sort((a, b) => (a.key < b.key ? -1 : 1)),
    (od) => parseInt(od.key.slice(0, 8), 16),
  );
  const infos = new Map<string, IpamInfo>();
  for (const od of switches) infos.set(od.key, initIpam(od));

  // Every static address claims its MAC (all switches) and IPv4 (the switch's subnet).
  for (const op of model.ports.values()) {
    if (op.kind === 'lsp') {
      if (op.nbsp!.type === 'router') continue;
      const info = infos.get(op.od.key)!;
      for (const a of op.lspAddrs) {
        insertMac(a.ea, true);
        if (info.allocated) for (const ip of a.ipv4) insertIp(info, ip.addr, false);
      }
    } else if (op.kind === 'lrp') {
      insertMac(op.lrpNetworks!.ea, true);
      const peer = op.peer;
      if (!peer || peer.kind !== 'lsp' || peer.od.nbs?.other_config['subnet'] === undefined) continue;
      const info = infos.get(peer.od.key)!;
      for (const n of op.lrpNetworks!.ipv4) if (n.addr !== info.startIpv4) insertIp(info, n.addr, false);
    }
  }

  const dynamicAddresses = model.dynamicAddressWrites;
  const updates: PendingUpdate[] = [];
  for (const od of switches) {
    const info = infos.get(od.key)!;
    // Ports in the order of the switch's `ports` column.
    for (const op of od.ports) {
      const lsp = op.nbsp!;
      if (!info.allocated && info.ipv6Prefix === undefined && !info.macOnly) {
        if (lsp.dynamic_addresses !== undefined) dynamicAddresses.set(lsp._uuid, undefined);
        continue;
      }
      const specs = lsp.addresses.filter(isDynamicLspAddress);
      if (!specs.length) {
        if (lsp.dynamic_addresses !== undefined) dynamicAddresses.set(lsp._uuid, undefined);
        continue;
      }
      const spec = specs[0]!;
      const pinned = addrSpec(spec);
      const u: PendingUpdate = { op, info, current: undefined, mac: 'none', ipv4: 'none', ipv6: 'none' };
      const cur = lsp.dynamic_addresses !== undefined ? extractLspAddresses(lsp.dynamic_addresses) : undefined;
      if (cur) {
        u.current = cur;
        // MAC: a pinned MAC that differs, or a MAC not from our prefix, must change.
        if (pinned.mac !== undefined) {
          if (pinned.mac !== cur.ea) {
            u.mac = 'static';
            u.staticMac = pinned.mac;
          }
        } else if ((cur.ea ^ prefix) >> 24n) u.mac = 'dynamic';
        // IPv4.
        if (!info.allocated) u.ipv4 = cur.ipv4.length ? 'remove' : 'none';
        else if (!cur.ipv4.length) u.ipv4 = 'dynamic';
        else {
          const ip4 = cur.ipv4[0]!.addr;
          const idx = ip4 - info.startIpv4;
          if (ip4 < info.startIpv4 || idx >= info.totalIpv4s - 1 || info.allocated[idx]) u.ipv4 = 'dynamic';
          else if (pinned.ip4 !== undefined) {
            const ni = pinned.ip4 - info.startIpv4;
            if (pinned.ip4 < info.startIpv4 || ni > info.totalIpv4s || info.allocated[ni]) u.ipv4 = 'dynamic';
            else if (pinned.ip4 !== ip4) {
              u.ipv4 = 'static';
              u.staticIp = pinned.ip4;
            }
          }
        }
        // IPv6.
        if (info.ipv6Prefix === undefined) u.ipv6 = cur.ipv6.length ? 'remove' : 'none';
        else if (!cur.ipv6.length || pinned.mac !== undefined) u.ipv6 = 'dynamic';
        else if (pinned.ip6 !== undefined) {
          if ((pinned.ip6 & info.ipv6Prefix) !== info.ipv6Prefix) u.ipv6 = 'dynamic';
          else if (cur.ipv6[0]!.addr !== pinned.ip6) {
            u.ipv6 = 'static';
            u.staticIpv6 = pinned.ip6;
          }
        } else if (u.mac !== 'none') u.ipv6 = 'dynamic';
        // Unchanged parts are claimed now, before any new address is handed out.
        if (u.mac === 'none') insertMac(cur.ea, false);
        if (u.ipv4 === 'none' && cur.ipv4.length) insertIp(info, cur.ipv4[0]!.addr, true);
        if (u.mac === 'none' && u.ipv4 === 'none' && u.ipv6 === 'none') {
          op.dynamicAddresses = lsp.dynamic_addresses;
          dynamicAddresses.set(lsp._uuid, lsp.dynamic_addresses);
          op.lspAddrs.push(cur);
          continue;
        }
      } else {
        if (pinned.mac !== undefined) {
          u.mac = 'static';
          u.staticMac = pinned.mac;
        } else u.mac = 'dynamic';
        if (pinned.ip4 !== undefined) {
          u.ipv4 = 'static';
          u.staticIp = pinned.ip4;
        } else u.ipv4 = info.allocated ? 'dynamic' : 'none';
        if (pinned.ip6 !== undefined) {
          u.ipv6 = 'static';
          u.staticIpv6 = pinned.ip6;
        } else u.ipv6 = info.ipv6Prefix !== undefined ? 'dynamic' : 'none';
      }
      updates.push(u);
    }
  }

  for (const u of updates) {
    let ip4 = 0;
    if (u.ipv4 === 'none') ip4 = u.current?.ipv4[0]?.addr ?? 0;
    else if (u.ipv4 === 'static') ip4 = u.staticIp!;
    else if (u.ipv4 === 'dynamic') ip4 = unusedIp(u.info);
    let mac: bigint;
    if (u.mac === 'none') mac = u.current!.ea;
    else if (u.mac === 'static') mac = u.staticMac!;
    else mac = unusedMac(ip4);
    let ip6 = 0n;
    if (u.ipv6 === 'none') ip6 = u.current?.ipv6[0]?.addr ?? 0n;
    else if (u.ipv6 === 'static') ip6 = u.staticIpv6!;
    else if (u.ipv6 === 'dynamic') ip6 = eui64(mac, u.info.ipv6Prefix!);
    insertMac(mac, true);
    let text = formatMac(mac);
    if (ip4) {
      insertIp(u.info, ip4, true);
      text += ` ${formatIp4(ip4)}`;
    }
    if (ip6) text += ` ${formatIp6(ip6)}`;
    dynamicAddresses.set(u.op.nbsp!._uuid, text);
    u.op.dynamicAddresses = text;
    const parsed = extractLspAddresses(text);
    if (parsed) u.op.lspAddrs.push(parsed);
  }
}
