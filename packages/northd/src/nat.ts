/** NAT rules of a router, parsed once (northd's ovn_nat). */
import type { Nb } from '@ovnts/ovsdb';
import { formatIp4, formatIp6, parseCidr, parseIp4, parseIp6 } from './ip.js';

export interface NatEntry {
  readonly nb: Nb.NAT;
  readonly type: 'snat' | 'dnat' | 'dnat_and_snat';
  readonly family: 4 | 6;
  /** Canonical external IP. */
  readonly externalIp: string;
  /** logical_ip as written (an address or, for snat, a CIDR). */
  readonly logicalIp: string;
  readonly logicalPlen: number;
  readonly stateless: boolean;
  /** dnat_and_snat with logical_port and external_mac: handled on the port's chassis. */
  readonly distributed: boolean;
}

export function parseNat(nat: Nb.NAT): NatEntry | undefined {
  const ext4 = parseIp4(nat.external_ip);
  const ext6 = ext4 === undefined ? parseIp6(nat.external_ip) : undefined;
  if (ext4 === undefined && ext6 === undefined) return undefined;
  const family: 4 | 6 = ext4 !== undefined ? 4 : 6;
  const lip = parseCidr(nat.logical_ip);
  if (!lip || lip.family !== family) return undefined;
  const type = nat.type;
  return {
    nb: nat,
    type,
    family,
    externalIp: ext4 !== undefined ? formatIp4(ext4) : formatIp6(ext6!),
    logicalIp: nat.logical_ip,
    logicalPlen: lip.plen,
    stateless: nat.options['stateless'] === 'true' && type === 'dnat_and_snat',
    distributed: type === 'dnat_and_snat' && nat.logical_port !== undefined && nat.external_mac !== undefined,
  };
}
