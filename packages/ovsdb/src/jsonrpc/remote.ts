/**
 * OVS remote syntax: active `tcp:IP:PORT`, `unix:PATH`, `ssl:IP:PORT`; passive
 * `ptcp:PORT[:IP]`, `punix:PATH`, `pssl:PORT[:IP]`. IPv6 addresses go in brackets.
 */
export type Remote =
  | { readonly kind: 'tcp' | 'ssl'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'ptcp' | 'pssl'; readonly host: string; readonly port: number }
  | { readonly kind: 'punix'; readonly path: string };

function splitHostPort(s: string): [string, string] {
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) throw new Error(`bad address "${s}"`);
    return [s.slice(1, end), s.slice(end + 2)];
  }
  const i = s.lastIndexOf(':');
  if (i < 0) return [s, ''];
  return [s.slice(0, i), s.slice(i + 1)];
}

function parsePort(s: string, remote: string, dflt?: number): number {
  if (s === '' && dflt !== undefined) return dflt;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${remote}: bad port number "${s}"`);
  return n;
}

export const DEFAULT_OVSDB_PORT = 6640;

export function parseRemote(remote: string): Remote {
  const colon = remote.indexOf(':');
  const kind = colon < 0 ? remote : remote.slice(0, colon);
  const rest = colon < 0 ? '' : remote.slice(colon + 1);
  switch (kind) {
    case 'unix':
    case 'punix':
      if (rest === '') throw new Error(`${remote}: missing socket path`);
      return { kind, path: rest };
    case 'tcp':
    case 'ssl': {
      const [host, port] = splitHostPort(rest);
      if (host === '') throw new Error(`${remote}: missing host`);
      return { kind, host, port: parsePort(port, remote, DEFAULT_OVSDB_PORT) };
    }
    case 'ptcp':
    case 'pssl': {
      // ptcp:PORT[:IP]
      let port = rest;
      let host = '0.0.0.0';
      const i = rest.indexOf(':');
      if (i >= 0) {
        port = rest.slice(0, i);
        host = rest.slice(i + 1).replace(/^\[(.*)\]$/, '$1');
      }
      return { kind, host, port: parsePort(port, remote, DEFAULT_OVSDB_PORT) };
    }
    default:
      throw new Error(`${remote}: unknown remote type "${kind}" (expected tcp, ssl, unix, ptcp, pssl or punix)`);
  }
}

export function formatRemote(r: Remote): string {
  switch (r.kind) {
    case 'unix':
    case 'punix':
      return `${r.kind}:${r.path}`;
    case 'tcp':
    case 'ssl':
      return `${r.kind}:${r.host.includes(':') ? `[${r.host}]` : r.host}:${r.port}`;
    case 'ptcp':
    case 'pssl':
      return `${r.kind}:${r.port}:${r.host.includes(':') ? `[${r.host}]` : r.host}`;
  }
}
