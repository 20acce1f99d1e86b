/** `IP:PORT` endpoints of the UDP-based ports (IPv4 only: the lab runs on 127.0.0.0/8). */
import { isIPv4 } from 'node:net';

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

export function parseEndpoint(text: string, what: string): Endpoint {
  const i = text.lastIndexOf(':');
  const address = i < 0 ? '' : text.slice(0, i);
  const port = i < 0 ? NaN : Number(text.slice(i + 1));
  if (!isIPv4(address) || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${what}: "${text}" is not IPV4:PORT`);
  }
  return { address, port };
}

export function formatEndpoint(e: Endpoint): string {
  return `${e.address}:${e.port}`;
}

/** Dotted quad to the number tun_src/tun_dst hold. */
export function ip4Number(address: string): number {
  const p = address.split('.').map(Number);
  return (((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0);
}

export function ip4Text(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
