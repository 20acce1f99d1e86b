/**
 * `ovnts switch --name br-int --control punix:PATH --tunnel-ip 127.0.0.x [--tunnel-port 6081]
 * [--verbose]`: one host's switch as its own process. It owns the tunnel socket and the ports,
 * and serves its control socket to the controller and to `ovnts ofctl` until SIGTERM or SIGINT.
 */
import { unlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { ControlServer } from '@ovnts/switch/dist/src/control/index.js';
import { Switch, type DatapathFactory, type SwitchOptions } from '@ovnts/switch/dist/src/switch.js';
import { logger, setLogLevel } from '@ovnts/ovsdb';
import { BridgeSync } from '../vswitchd/bridge-sync.js';

interface SwitchCliOptions {
  name: string;
  control?: string;
  tunnelIp?: string;
  tunnelPort?: string;
  pidfile?: string;
  datapathModule?: string;
  vswitchDb?: string;
  verbose?: boolean;
}

function command(): Command {
  return new Command('switch')
    .description('run a switch: ports, Geneve tunnels, flow tables, and a control socket for the controller and ofctl')
    .option('--name <bridge>', 'bridge name (also the local port name)', 'br-int')
    .option('--control <remote>', 'control socket to serve: punix:PATH')
    .option('--tunnel-ip <ip>', "this host's Geneve tunnel endpoint (127.0.0.x in the lab)")
    .option('--tunnel-port <port>', 'UDP port for Geneve', '6081')
    .option('--pidfile <file>', 'write the process id to FILE (removed on exit)')
    .option('--vswitch-db <remote>', "keep the ports equal to the bridge's Interfaces in this Open_vSwitch database, as ovs-vswitchd does")
    .option('--datapath-module <file>', 'load createDatapath(ports) from this module instead of the built-in datapath (testing)')
    .option('-v, --verbose', 'log ports, control connections and errors to stderr')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
}

async function loadFactory(file: string): Promise<DatapathFactory> {
  const mod = (await import(pathToFileURL(resolve(file)).href)) as { createDatapath?: DatapathFactory };
  const f = mod.createDatapath;
  if (typeof f !== 'function') throw new Error(`${file}: exports no createDatapath`);
  return f;
}

/** Runs the switch until a signal; resolves to the exit status. */
export async function runSwitch(argv: readonly string[]): Promise<number> {
  const cmd = command();
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (e) {
    return (e as { exitCode?: number }).exitCode ?? 1;
  }
  const o = cmd.opts<SwitchCliOptions>();
  const log = o.verbose ? (line: string) => void process.stderr.write(`${new Date().toISOString()}|switch|${line}\n`) : () => undefined;
  let sw: Switch | undefined;
  let server: ControlServer | undefined;
  let bridgeSync: BridgeSync | undefined;
  let wrotePid = false;
  try {
    if (!o.control) throw new Error('--control punix:PATH is required');
    if (!o.control.startsWith('punix:') && o.control.includes(':')) throw new Error(`${o.control}: only punix:PATH control sockets are supported`);
    const tunnelPort = Number(o.tunnelPort);
    if (!Number.isInteger(tunnelPort) || tunnelPort < 0 || tunnelPort > 65535) throw new Error(`${o.tunnelPort}: invalid --tunnel-port`);
    const opts: SwitchOptions = {
      name: o.name,
      ...(o.tunnelIp !== undefined ? { tunnelIp: o.tunnelIp, tunnelPort } : {}),
      ...(o.datapathModule !== undefined ? { datapath: await loadFactory(o.datapathModule) } : {}),
    };
    sw = await Switch.create(opts);
    server = new ControlServer(sw, { log });
    await server.listen(o.control);
    if (o.pidfile) {
      writeFileSync(o.pidfile, `${process.pid}\n`);
      wrotePid = true;
    }
    if (o.vswitchDb) {
      if (o.verbose) setLogLevel('info');
      bridgeSync = new BridgeSync({ vswitchDb: o.vswitchDb, bridge: o.name, sw, log: logger('vswitchd') });
      await bridgeSync.start();
    }
    const info = sw.info();
    log(`${o.name}: serving ${o.control}${info.tunnelIp ? `, Geneve on ${info.tunnelIp}:${info.tunnelPort}` : ''}`);
    if (o.verbose) {
      sw.ports.onChange(() => log(`ports: ${sw!.ports.list().map((p) => `${p.ofport}(${p.name})`).join(' ')}`));
    }
    await new Promise<void>((done) => {
      const stop = (sig: string): void => {
        log(`${sig}: stopping`);
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        done();
      };
      const onTerm = (): void => stop('SIGTERM');
      const onInt = (): void => stop('SIGINT');
      process.on('SIGTERM', onTerm);
      process.on('SIGINT', onInt);
    });
    return 0;
  } catch (e) {
    process.stderr.write(`ovnts switch: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    bridgeSync?.close();
    await server?.close().catch(() => undefined);
    await sw?.close().catch(() => undefined);
    if (o.pidfile && wrotePid) {
      try {
        unlinkSync(o.pidfile);
      } catch {
        // Never written, or already gone.
      }
    }
  }
}
