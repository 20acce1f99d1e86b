/**
 * One simulated VM as its own process (`ovnts lab vm-daemon …`): a SimVm whose Ethernet port is
 * a UDP datagram socket facing the switch's `dgram` port (one frame per datagram, as QEMU's
 * `-netdev dgram` does), and a control socket (one JSON request per line, one JSON reply per
 * line) through which `lab ping` and friends drive it.
 */
import { createSocket } from 'node:dgram';
import { connect, createServer, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { SimVm } from '../vm/index.js';

export interface VmDaemonOptions {
  readonly name: string;
  readonly mac: string;
  readonly ip4?: string;
  readonly gateway4?: string;
  readonly dhcp?: boolean;
  /** VM side of the datagram link, IP:PORT. */
  readonly local: string;
  /** Switch side of the datagram link, IP:PORT. */
  readonly remote: string;
  /** Unix socket path for the control channel. */
  readonly control: string;
}

/** A request on the control socket. */
export type VmRequest =
  | { readonly op: 'status' }
  | { readonly op: 'ping'; readonly dst: string; readonly count?: number; readonly intervalMs?: number; readonly timeoutMs?: number; readonly ttl?: number }
  | { readonly op: 'listen'; readonly port: number; readonly response: string }
  | { readonly op: 'tcp'; readonly dst: string; readonly port: number; readonly payload: string; readonly timeoutMs?: number }
  | { readonly op: 'udp'; readonly dst: string; readonly port: number; readonly payload: string; readonly timeoutMs?: number }
  | { readonly op: 'udp-echo'; readonly port: number };

function hostPort(text: string): { host: string; port: number } {
  const i = text.lastIndexOf(':');
  return { host: text.slice(0, i), port: Number(text.slice(i + 1)) };
}

export async function runVmDaemon(o: VmDaemonOptions): Promise<number> {
  const local = hostPort(o.local);
  const remote = hostPort(o.remote);
  const sock = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(local.port, local.host, () => resolve());
  });
  sock.on('error', () => undefined);
  const vm = new SimVm({
    name: o.name,
    mac: o.mac,
    ...(o.ip4 ? { ip4: o.ip4 } : {}),
    ...(o.gateway4 ? { gateway4: o.gateway4 } : {}),
    // Like dhclient, keep asking (backing off to a minute) until the network is ready: the VIF
    // may be plugged, claimed and given flows well after the VM boots.
    ...(o.dhcp ? { dhcp: { attempts: 1000 } } : {}),
  });
  vm.attach((frame) => sock.send(frame, remote.port, remote.host));
  sock.on('message', (msg) => vm.receive(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength)));
  // A DHCP client gets its lease only once the VIF is plugged in, which happens after this
  // process is up: do not wait for it here.
  const started = vm.start();
  if (o.dhcp) started.catch(() => undefined);
  else await started;

  const handle = async (req: VmRequest): Promise<unknown> => {
    switch (req.op) {
      case 'status':
        return { name: o.name, mac: o.mac, ip4: vm.ip4, gateway4: vm.gateway4, lease: vm.lease, arp: vm.arpTable() };
      case 'ping':
        return vm.ping(req.dst, {
          count: req.count ?? 3,
          intervalMs: req.intervalMs ?? 200,
          timeoutMs: req.timeoutMs ?? 1000,
          ...(req.ttl !== undefined ? { ttl: req.ttl } : {}),
        });
      case 'listen':
        // "{src}" in the response becomes the client's address as this VM saw it (after NAT).
        vm.listen(req.port, (_request, info) => new TextEncoder().encode(req.response.replaceAll('{src}', info.src)));
        return { listening: req.port };
      case 'tcp': {
        const r = await vm.tcpRequest(req.dst, req.port, new TextEncoder().encode(req.payload), { timeoutMs: req.timeoutMs ?? 2000 });
        return { response: new TextDecoder().decode(r) };
      }
      case 'udp': {
        const r = await vm.udpRequest(req.dst, req.port, new TextEncoder().encode(req.payload), { timeoutMs: req.timeoutMs ?? 2000 });
        return { from: r.src, response: new TextDecoder().decode(r.payload) };
      }
      case 'udp-echo':
        // reply() never rejects: an unanswerable sender must not crash the VM process.
        vm.bind(req.port, (m) => void m.reply(m.payload));
        return { echoing: req.port };
    }
  };

  rmSync(o.control, { force: true });
  const server = createServer((conn: Socket) => {
    let buf = '';
    conn.on('data', (chunk) => {
      buf += chunk.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let req: VmRequest;
        try {
          req = JSON.parse(line) as VmRequest;
        } catch {
          conn.write(JSON.stringify({ error: 'malformed request' }) + '\n');
          continue;
        }
        handle(req).then(
          (result) => conn.write(JSON.stringify({ result }) + '\n'),
          (e: unknown) => conn.write(JSON.stringify({ error: e instanceof Error ? e.message : String(e) }) + '\n'),
        );
      }
    });
    conn.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(o.control, resolve));

  return new Promise<number>((resolve) => {
    const stop = (): void => {
      vm.close();
      sock.close();
      server.close();
      rmSync(o.control, { force: true });
      resolve(0);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

/** Sends one request to a VM daemon and returns its result (or throws its error). */
export function vmRequest(control: string, req: VmRequest, timeoutMs = 30_000): Promise<unknown> {
  // A netns VM's record has no control socket: it runs real programs instead (`lab exec`).
  if (control === '') return Promise.reject(new Error(`${req.op}: a netns VM has no control socket (use \`ovnts lab exec VM -- …\`)`));
  return new Promise((resolve, reject) => {
    const c = connect(control);
    let buf = '';
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Error(`${control}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    c.on('connect', () => c.write(JSON.stringify(req) + '\n'));
    c.on('data', (chunk) => {
      buf += chunk.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      c.end();
      const reply = JSON.parse(buf.slice(0, nl)) as { result?: unknown; error?: string };
      if (reply.error !== undefined) reject(new Error(reply.error));
      else resolve(reply.result);
    });
    c.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
