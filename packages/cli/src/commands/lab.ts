/**
 * `ovnts lab …`: the multi-process virtual datacenter (packages/lab).
 *   lab up [--hosts N] [--topology FILE]   start databases, northd, and per host a local DB,
 *                                          switch and controller; apply a topology
 *   lab status | lab down | lab restart DAEMON (a crash and a restart: SIGKILL, same command)
 *   lab vm add NAME --host H [--mac M] [--ip IP/PLEN] [--gw GW] [--port LSP] [--switch LS] [--netns [--mtu N]]
 *   lab vm del NAME
 *   lab exec VM -- CMD ARGS…               run CMD in a netns VM's namespace; exits with its status
 *   lab ping A B [--count N]               A, B: VM names or addresses
 *   lab check FILE                         ping every check of a topology, compare with policy
 *   lab demo                               up + demo topology + checks (what `npm start` runs)
 */
import { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import {
  applyNbctl,
  applyTopology,
  formatChecks,
  formatPing,
  labDown,
  labRestart,
  labStatus,
  labUp,
  loadState,
  loadTopology,
  runChecks,
  runVmDaemon,
  vmAdd,
  vmDel,
  vmExec,
  vmMigrate,
  vmPing,
} from '@ovnts/lab';

// dist/src/commands → the lab package's topologies.
const DEMO = fileURLToPath(new URL('../../../../lab/topologies/demo.yaml', import.meta.url));

function say(line: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 23)}  ${line}\n`);
}

async function up(hosts: number, topology: string | undefined, verbose: boolean): Promise<void> {
  const t = topology ? loadTopology(topology) : undefined;
  // The topology's logical network is written while the hosts start.
  const state = await labUp({ hosts: t?.hosts ?? hosts, progress: say, verbose, ...(t ? { alongside: (db: string) => applyNbctl(db, t) } : {}) });
  if (t) {
    await applyTopology(state, t, say, { nbctlDone: true });
    say('topology applied');
  }
}

export async function runLab(argv: readonly string[]): Promise<number> {
  const program = new Command('lab').description('a multi-host virtual datacenter on this machine').exitOverride().enablePositionalOptions();
  let code = 0;
  program
    .command('up')
    .option('--hosts <n>', 'number of hosts', '2')
    .option('--topology <file>', 'YAML or JSON topology to apply')
    .option('-v, --verbose', 'daemons log more')
    .action(async (o: { hosts: string; topology?: string; verbose?: boolean }) => up(Number(o.hosts), o.topology, !!o.verbose));
  program.command('down').action(async () => {
    const n = await labDown();
    say(`lab down: stopped ${n} process(es)`);
  });
  program
    .command('restart <daemon>')
    .description('kill one daemon (northd, db, hv1-controller, hv1-switch, …) as a crash would, and start it again')
    .action(async (name: string) => {
      const pid = await labRestart(name);
      say(`${name} restarted (pid ${pid})`);
    });
  program.command('status').action(() => {
    process.stdout.write(labStatus());
  });
  const vm = program.command('vm').description('VMs: simulated, or real network namespaces (--netns)');
  vm.command('add <name>')
    .requiredOption('--host <host>')
    .option('--mac <mac>', "the VM's MAC (default: the logical port's)")
    .option('--ip <ip/plen>')
    .option('--gw <ip>')
    .option('--port <lsp>', 'logical switch port (default: the VM name)')
    .option('--switch <ls>', 'create the logical port on this logical switch')
    .option('--netns', 'a real network namespace joined by a TAP device (root; run programs in it with `lab exec`)')
    .option('--mtu <n>', "a netns VM's eth0 MTU (default 1400)")
    .action(async (name: string, o: { host: string; mac?: string; ip?: string; gw?: string; port?: string; switch?: string; netns?: boolean; mtu?: string }) => {
      if (o.mtu !== undefined && !o.netns) throw new Error('--mtu is for netns VMs (--netns)');
      const mtu = o.mtu !== undefined ? Number(o.mtu) : undefined;
      if (mtu !== undefined && !(Number.isInteger(mtu) && mtu >= 576 && mtu <= 9000)) throw new Error(`--mtu ${o.mtu}: expected 576..9000`);
      const rec = await vmAdd({
        name, host: o.host, ...(o.mac ? { mac: o.mac } : {}), ...(o.ip ? { ip: o.ip } : {}), ...(o.gw ? { gw: o.gw } : {}), ...(o.port ? { port: o.port } : {}),
        ...(o.switch ? { lswitch: o.switch } : {}), ...(o.netns ? { netns: true } : {}), ...(mtu !== undefined ? { mtu } : {}),
      });
      say(`vm ${name} on ${o.host}${rec.netns ? ` (netns ${rec.netns}, eth0 ${rec.mac}${rec.ip ? ` ${rec.ip}` : ', unconfigured'}, mtu ${rec.mtu})` : ''}`);
    });
  vm.command('del <name>').action(async (name: string) => vmDel(name));
  program
    .command('vm-daemon')
    .description('(internal) run one simulated VM')
    .requiredOption('--name <name>')
    .requiredOption('--mac <mac>')
    .requiredOption('--local <ip:port>')
    .requiredOption('--remote <ip:port>')
    .requiredOption('--control <path>')
    .option('--ip <ip/plen>')
    .option('--gw <ip>')
    .option('--dhcp')
    .action(async (o: { name: string; mac: string; local: string; remote: string; control: string; ip?: string; gw?: string; dhcp?: boolean }) => {
      code = await runVmDaemon({ name: o.name, mac: o.mac, local: o.local, remote: o.remote, control: o.control, ...(o.ip ? { ip4: o.ip } : {}), ...(o.gw ? { gateway4: o.gw } : {}), ...(o.dhcp ? { dhcp: true } : {}) });
    });
  program
    .command('exec <vm> [command...]')
    .description("run a command in a netns VM's network namespace (ovnts lab exec VM -- CMD ARGS…); exits with its status")
    .passThroughOptions()
    .action(async (name: string, command: string[]) => {
      // passThroughOptions keeps a `--` that follows the VM's name: it only separates.
      code = await vmExec(name, command[0] === '--' ? command.slice(1) : command);
    });
  program
    .command('ping <from> <to>')
    .option('--count <n>', 'echo requests', '3')
    .option('--ttl <n>')
    .action(async (from: string, to: string, o: { count: string; ttl?: string }) => {
      const r = await vmPing(from, to, { count: Number(o.count), ...(o.ttl ? { ttl: Number(o.ttl) } : {}) });
      process.stdout.write(formatPing(from, r));
      if (r.received === 0) code = 1;
    });
  program
    .command('migrate <vm> <host>')
    .option('--ping-from <vm>', 'ping the migrating VM from this one during the move and report the loss')
    .action(async (name: string, host: string, o: { pingFrom?: string }) => {
      const r = await vmMigrate(name, host, o.pingFrom ? { pingFrom: o.pingFrom } : {});
      say(`${name} now on ${host}`);
      if (r) process.stdout.write(formatPing(o.pingFrom!, r));
    });
  program
    .command('trace <from> <to>')
    .description("an ICMP echo's way: logical stages with the Northbound objects behind them, then the switch tables")
    .action(async (from: string, to: string) => {
      const { labTrace } = await import('./lab-trace.js');
      process.stdout.write(await labTrace(from, to));
    });
  program.command('check <topology>').action(async (file: string) => {
    const state = loadState();
    if (!state) throw new Error('no lab is running (ovnts lab up)');
    const results = await runChecks(state, loadTopology(file).checks ?? []);
    process.stdout.write(formatChecks(results));
    if (results.some((r) => !r.ok)) code = 1;
  });
  program
    .command('demo')
    .description('start a 3-host lab with the demo topology and check its policy (npm start)')
    .option('--keep', 'leave the lab running afterwards')
    .action(async (o: { keep?: boolean }) => {
      const started = Date.now();
      await labDown();
      await up(3, DEMO, false);
      const state = loadState()!;
      const t = loadTopology(DEMO);
      // The BRIEF's lab figure: from start to the first successful ping between two hosts.
      const first = t.checks?.find((c) => c.expect === 'reach' && c.tcp === undefined && state.vms.find((v) => v.name === c.from)?.host !== state.vms.find((v) => v.name === c.to)?.host);
      if (first) {
        // A routed first packet is spent on ARP resolution (as in OVN): retry a few times.
        let r: Awaited<ReturnType<typeof vmPing>> | undefined;
        for (let i = 0; i < 5 && !r?.received; i++) r = await vmPing(first.from, first.to, { count: 1 }).catch(() => undefined);
        if (r?.received) say(`first cross-host ping (${first.from} -> ${first.to}) ${((Date.now() - started) / 1000).toFixed(1)} s after start`);
      }
      say('checking what can reach what');
      const results = await runChecks(state, t.checks ?? []);
      process.stdout.write('\n' + formatChecks(results));
      say(`demo done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      if (results.some((r) => !r.ok)) code = 1;
      if (!o.keep) {
        await labDown();
        say('lab stopped (use `ovnts lab demo --keep` to keep it running)');
      }
    });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    const exit = (e as { exitCode?: number }).exitCode;
    if (exit !== undefined) return exit;
    process.stderr.write(`ovnts lab: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  return code;
}
