/**
 * `ovnts controller --vswitch-db REMOTE [--switch TARGET]`: the per-host controller. It reads
 * system-id, ovn-remote, ovn-encap-type, ovn-encap-ip and ovn-bridge from the Open_vSwitch row,
 * registers the chassis, binds local ports and programs the switch whose control socket is
 * TARGET (default unix:$OVS_RUNDIR/<bridge>.mgmt). SIGTERM/SIGINT remove the chassis and exit.
 */
import { Command } from 'commander';
import { logger, setLogLevel, type LogLevel } from '@ovnts/ovsdb';
import { Controller, connectSwitchSocket } from '@ovnts/controller';

function defaultVswitchDb(): string {
  return process.env['OVS_DB'] || `unix:${process.env['OVS_RUNDIR'] ?? '/var/run/openvswitch'}/db.sock`;
}

export async function runController(argv: readonly string[]): Promise<number> {
  const cmd = new Command('controller')
    .description('per-host controller: chassis registration, port binding, flow translation')
    .option('--vswitch-db <remote>', 'local Open_vSwitch database (default: $OVS_DB or unix:$OVS_RUNDIR/db.sock)')
    .option('--switch <target>', 'the switch control socket (default: unix:$OVS_RUNDIR/<bridge>.mgmt)')
    .option('--no-cleanup', 'keep the chassis registered on exit (a restart, not a removal)')
    .option('-v, --verbose', 'log bindings and rounds')
    .option('--log-level <level>', 'debug, info, warn, error or off')
    .exitOverride();
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (e) {
    return (e as { exitCode?: number }).exitCode ?? 1;
  }
  const o = cmd.opts<{ vswitchDb?: string; switch?: string; cleanup: boolean; verbose?: boolean; logLevel?: string }>();
  if (o.logLevel) setLogLevel(o.logLevel as LogLevel);
  else if (o.verbose) setLogLevel('info');
  const log = logger('controller');
  const rundir = process.env['OVS_RUNDIR'] ?? '/var/run/openvswitch';
  const controller = new Controller({
    vswitchDb: o.vswitchDb ?? defaultVswitchDb(),
    connectSwitch: (bridge) => connectSwitchSocket(o.switch ?? `unix:${rundir}/${bridge}.mgmt`),
    log,
  });
  let stopping = false;
  const done = new Promise<number>((resolve) => {
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      log.info('exiting');
      void controller.stop({ cleanup: o.cleanup }).finally(() => resolve(0));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  try {
    await controller.start();
  } catch (e) {
    process.stderr.write(`ovnts controller: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  return done;
}
