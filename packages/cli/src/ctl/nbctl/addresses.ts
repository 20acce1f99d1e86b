/**
 * Logical switch port addresses as ovn-nbctl checks them: "MAC [IP...]", "unknown",
 * "router", "dynamic [IP]"; and the IP addresses an "MAC IP..." entry claims (to refuse
 * duplicates within a switch).
 */
import { isIPv4, isIPv6 } from 'node:net';

const HEX = '\\s*(?:0[xX])?[0-9a-fA-F]+';
const MAC_PREFIX = new RegExp(`^${HEX}:${HEX}:${HEX}:${HEX}:${HEX}:${HEX}`);
const U8 = '\\s*\\+?\\d+';
const DYNAMIC_V4 = new RegExp(`^dynamic\\s*${U8}\\.${U8}\\.${U8}\\.${U8}`);
const DYNAMIC_V6 = /^dynamic\s*[0-9a-fA-F:.]+/;

/** Whether ovn-nbctl accepts `a` as one addresses entry. */
export function isValidLspAddress(a: string): boolean {
  return a === 'unknown' || a === 'dynamic' || a === 'router' || MAC_PREFIX.test(a) || DYNAMIC_V6.test(a) || DYNAMIC_V4.test(a);
}

export interface LspAddresses {
  readonly ipv4: string[];
  readonly ipv6: string[];
}

function normalizeV6(s: string): string {
  return new URL(`http://[${s}]/`).hostname.slice(1, -1);
}

/** The IPs of an "MAC IP[/PLEN]..." entry, normalized; undefined if it is not of that form. */
export function extractLspAddresses(address: string): LspAddresses | undefined {
  const m = /^([0-9a-fA-F]{1,2}(?::[0-9a-fA-F]{1,2}){5})(.*)$/.exec(address.trimStart());
  if (!m) return undefined;
  const out: LspAddresses = { ipv4: [], ipv6: [] };
  for (const tok of m[2]!.split(/\s+/).filter(Boolean)) {
    const [ip, plen, extra] = tok.split('/');
    if (extra !== undefined || (plen !== undefined && !/^\d+$/.test(plen))) return undefined;
    if (isIPv4(ip!)) out.ipv4.push(ip!.split('.').map(Number).join('.'));
    else if (isIPv6(ip!)) out.ipv6.push(normalizeV6(ip!));
    else return undefined;
  }
  return out;
}

/** The first address both entries claim, as "IPv4 address 'x'" / "IPv6 address 'x'". */
export function duplicateIp(a: LspAddresses, b: LspAddresses): string | undefined {
  for (const x of a.ipv4) if (b.ipv4.includes(x)) return `IPv4 address '${x}'`;
  for (const x of a.ipv6) if (b.ipv6.includes(x)) return `IPv6 address '${x}'`;
  return undefined;
}
