/**
 * Address helpers for the VM stack, and the interface its transport modules (ICMP, UDP, TCP,
 * DHCP) use to send: they never build Ethernet or IP headers themselves.
 */
import { formatIp4, formatIp6, parseIp4, parseIp6, type L4Spec } from '@ovnts/switch';
import type { Timers } from './timers.js';

export function isV6(ip: string): boolean {
  return ip.includes(':');
}

/** Canonical text of an IPv4 or IPv6 address (so map keys match decoded packets); throws on bad text. */
export function normIp(ip: string): string {
  return isV6(ip) ? formatIp6(parseIp6(ip)) : formatIp4(parseIp4(ip));
}

export function mask4(plen: number): number {
  return plen === 0 ? 0 : (0xffffffff << (32 - plen)) >>> 0;
}

export function mask6(plen: number): bigint {
  return plen === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - plen)) - 1n);
}

/** "10.0.0.5/24" → address and prefix length (a bare address means /32 or /128). */
export function parseCidr(text: string, v6: boolean): { addr: string; plen: number } {
  const [a, p] = text.split('/');
  const max = v6 ? 128 : 32;
  const plen = p === undefined ? max : Number(p);
  if (!Number.isInteger(plen) || plen < 0 || plen > max || (v6 !== isV6(a!))) throw new Error(`bad ${v6 ? 'IPv6' : 'IPv4'} prefix "${text}"`);
  return { addr: normIp(a!), plen };
}

/** The prefix length of a contiguous netmask, or undefined. */
export function maskToPlen(mask: string): number | undefined {
  const m = parseIp4(mask);
  for (let p = 0; p <= 32; p++) if (mask4(p) === m) return p;
  return undefined;
}

export function inPrefix4(ip: number, net: number, plen: number): boolean {
  return ((ip ^ net) & mask4(plen)) === 0;
}

export function inPrefix6(ip: bigint, net: bigint, plen: number): boolean {
  return ((ip ^ net) & mask6(plen)) === 0n;
}

export interface SendOptions {
  /** TTL / hop limit. Default 64. */
  readonly ttl?: number;
  /** Source address; default the VM's address for the destination. */
  readonly src?: string;
  readonly dontFragment?: boolean;
}

/** What a received datagram's transport handler learns about its IP header. */
export interface RxInfo {
  readonly src: string;
  readonly dst: string;
  readonly ttl: number;
  readonly v6: boolean;
  /** Sent to a broadcast or multicast address (no ICMP errors, no RSTs for these). */
  readonly broadcast: boolean;
}

/** The VM's IP layer as the transport modules see it. */
export interface IpLayer {
  readonly timers: Timers;
  /** Routes, resolves the next hop and transmits; rejects with a NetError. */
  send(dst: string, l4: L4Spec, opts?: SendOptions): Promise<void>;
  /** The VM's address used to reach `dst`, if it has one. */
  sourceFor(dst: string): string | undefined;
  /** The largest IP datagram the interface sends. */
  readonly mtu: number;
}

/** A free port in the dynamic range (RFC 6335), starting at a random place. */
export function ephemeralPort(inUse: (port: number) => boolean): number | undefined {
  const lo = 49152;
  const n = 65536 - lo;
  const start = Math.floor(Math.random() * n);
  for (let i = 0; i < n; i++) {
    const p = lo + ((start + i) % n);
    if (!inUse(p)) return p;
  }
  return undefined;
}
