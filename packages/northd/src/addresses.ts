/**
 * Port addresses as OVN reads them (lib/ovn-util.c): a Logical_Switch_Port `addresses` entry
 * ("MAC IP IP..."), a port_security entry, and a Logical_Router_Port's mac + networks (to which
 * the EUI-64 link-local address is always appended).
 */
import {
  formatIp4,
  formatIp6,
  formatMac,
  ip4Mask,
  ip6LinkLocal,
  ip6Mask,
  ip6SolicitedNode,
  parseIp4,
  parseIp6,
  parseMac,
} from './ip.js';

export interface Ip4Net {
  readonly addr: number;
  readonly plen: number;
  readonly mask: number;
  readonly network: number;
  readonly addrS: string;
  readonly networkS: string;
  readonly bcastS: string;
}

export interface Ip6Net {
  readonly addr: bigint;
  readonly plen: number;
  readonly network: bigint;
  readonly addrS: string;
  readonly networkS: string;
  /** Solicited-node multicast address. */
  readonly snAddrS: string;
}

export interface LportAddresses {
  readonly ea: bigint;
  readonly eaS: string;
  readonly ipv4: Ip4Net[];
  readonly ipv6: Ip6Net[];
}

export function ip4Net(addr: number, plen: number): Ip4Net {
  const mask = ip4Mask(plen);
  const network = (addr & mask) >>> 0;
  return {
    addr,
    plen,
    mask,
    network,
    addrS: formatIp4(addr),
    networkS: formatIp4(network),
    bcastS: formatIp4((network | ~mask) >>> 0),
  };
}

export function ip6Net(addr: bigint, plen: number): Ip6Net {
  const network = addr & ip6Mask(plen);
  return { addr, plen, network, addrS: formatIp6(addr), networkS: formatIp6(network), snAddrS: formatIp6(ip6SolicitedNode(addr)) };
}

/**
 * Parses "MAC [IP[/PLEN]]..." (extract_lsp_addresses). Returns undefined when the MAC is bad or
 * an address does not parse.
 */
export function extractLspAddresses(s: string): LportAddresses | undefined {
  const words = s.trim().split(/\s+/);
  const ea = parseMac(words[0] ?? '');
  if (ea === undefined) return undefined;
  const out: LportAddresses = { ea, eaS: formatMac(ea), ipv4: [], ipv6: [] };
  for (const w of words.slice(1)) {
    const slash = w.indexOf('/');
    const a = slash < 0 ? w : w.slice(0, slash);
    const p = slash < 0 ? undefined : Number(w.slice(slash + 1));
    const v4 = parseIp4(a);
    if (v4 !== undefined) {
      const plen = p ?? 32;
      if (!Number.isInteger(plen) || plen > 32) return undefined;
      out.ipv4.push(ip4Net(v4, plen));
      continue;
    }
    const v6 = parseIp6(a);
    if (v6 !== undefined) {
      const plen = p ?? 128;
      if (!Number.isInteger(plen) || plen > 128) return undefined;
      out.ipv6.push(ip6Net(v6, plen));
      continue;
    }
    return undefined;
  }
  return out;
}

/** A router port's MAC and networks, plus the link-local address (extract_lrp_networks). */
export function extractLrpNetworks(mac: string, networks: readonly string[]): LportAddresses | undefined {
  const ea = parseMac(mac);
  if (ea === undefined) return undefined;
  const out: LportAddresses = { ea, eaS: formatMac(ea), ipv4: [], ipv6: [] };
  for (const n of networks) {
    const slash = n.indexOf('/');
    if (slash < 0) continue;
    const a = n.slice(0, slash);
    const plen = Number(n.slice(slash + 1));
    const v4 = parseIp4(a);
    if (v4 !== undefined && Number.isInteger(plen) && plen <= 32) {
      out.ipv4.push(ip4Net(v4, plen));
      continue;
    }
    const v6 = parseIp6(a);
    if (v6 !== undefined && Number.isInteger(plen) && plen <= 128) out.ipv6.push(ip6Net(v6, plen));
  }
  out.ipv6.push(ip6Net(ip6LinkLocal(ea), 64));
  return out;
}

/** A list of IP addresses without a MAC (extract_ip_addresses), e.g. "172.16.0.2 fd00::2". */
export function extractIpAddresses(s: string): LportAddresses | undefined {
  return extractLspAddresses(`00:00:00:00:00:00 ${s.trim()}`);
}

/** Is this LSP address entry one IPAM fills in ("dynamic", "MAC dynamic", "dynamic IP"...)? */
export function isDynamicLspAddress(s: string): boolean {
  const w = s.trim().split(/\s+/);
  if (w[0] === 'dynamic') return true;
  return w.length >= 2 && parseMac(w[0]!) !== undefined && w[1] === 'dynamic';
}
