/** Opens a byte stream to an active remote (tcp:, unix:, ssl:). */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { parseRemote } from './remote.js';

export interface TlsClientFiles {
  readonly privateKey?: string;
  readonly certificate?: string;
  readonly caCert?: string;
}

export function connectStream(remoteText: string, tlsFiles?: TlsClientFiles, timeoutMs = 10_000): Promise<net.Socket> {
  const r = parseRemote(remoteText);
  return new Promise((resolve, reject) => {
    let sock: net.Socket;
    const onError = (e: Error): void => {
      clearTimeout(timer);
      reject(new Error(`${remoteText}: ${e.message}`));
    };
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`${remoteText}: connection timed out`));
    }, timeoutMs);
    const ready = (): void => {
      clearTimeout(timer);
      sock.off('error', onError);
      resolve(sock);
    };
    switch (r.kind) {
      case 'unix':
        sock = net.connect(r.path, ready);
        break;
      case 'tcp':
        sock = net.connect({ host: r.host, port: r.port, noDelay: true }, ready);
        break;
      case 'ssl':
        sock = tls.connect(
          {
            host: r.host,
            port: r.port,
            ...(tlsFiles?.privateKey ? { key: readFileSync(tlsFiles.privateKey) } : {}),
            ...(tlsFiles?.certificate ? { cert: readFileSync(tlsFiles.certificate) } : {}),
            ...(tlsFiles?.caCert ? { ca: readFileSync(tlsFiles.caCert) } : {}),
            // OVS checks the peer against the CA but not its host name.
            checkServerIdentity: () => undefined,
          },
          ready,
        );
        break;
      default:
        clearTimeout(timer);
        reject(new Error(`${remoteText}: not an active remote (use tcp:, ssl: or unix:)`));
        return;
    }
    sock.once('error', onError);
  });
}
