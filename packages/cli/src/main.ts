/**
 * The `ovnts` command. Each subcommand lives in its own module and is imported only when
 * used, so `ovnts nbctl …` does not pay for loading the server or the lab.
 */

/** The operator CLIs parse ovs-vsctl-style options themselves and skip commander, to start fast. */
const CTL: Record<string, () => Promise<(args: readonly string[]) => Promise<number>>> = {
  nbctl: async () => (await import('./commands/nbctl.js')).runNbctl,
  sbctl: async () => (await import('./commands/sbctl.js')).runSbctl,
  vsctl: async () => (await import('./commands/vsctl.js')).runVsctl,
  trace: async () => (await import('./commands/trace.js')).runTrace,
  controller: async () => (await import('./commands/controller.js')).runController,
  northd: async () => (await import('./commands/northd.js')).runNorthd,
  lab: async () => (await import('./commands/lab.js')).runLab,
  switch: async () => (await import('./commands/switch.js')).runSwitch,
  ofctl: async () => (await import('./commands/ofctl.js')).runOfctl,
};
const ctl = CTL[process.argv[2] ?? ''];
// Exit once stdout and stderr are flushed: a pipe whose reader is slower than us holds output
// in our buffer (beyond the pipe's 64 KB), and exiting at once would lose it.
if (ctl) {
  const code = await (await ctl())(process.argv.slice(3));
  let pending = 2;
  const done = (): void => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
} else await runCommander();

async function runCommander(): Promise<void> {
  const { Command } = await import('commander');

  const program = new Command();
  program.name('ovnts').description('OVN-architecture network virtualization in TypeScript').version('0.1.0');

  program
    .command('db')
    .description('OVSDB server and database files: create, serve, convert, query, transact, codegen')
    .allowUnknownOption()
    .helpOption(false)
    .argument('[args...]')
    .action(async (args: string[]) => {
      const { runDb } = await import('./commands/db.js');
      process.exitCode = await runDb(args);
    });

  for (const [name, what] of [
    ['nbctl', 'Northbound DB commands, with ovn-nbctl syntax and output'],
    ['sbctl', 'Southbound DB commands, with ovn-sbctl syntax and output'],
    ['vsctl', 'Open_vSwitch DB commands, with ovs-vsctl syntax and output'],
    ['trace', 'simulate a packet through the logical flows of a Southbound DB, like ovn-trace'],
    ['northd', 'compile the Northbound DB into the Southbound DB (logical flows, bindings)'],
    ['controller', 'per-host controller: chassis, port binding, logical flows to switch flows'],
    ['lab', 'a multi-host virtual datacenter on this machine: up, vm add, ping, demo, down'],
    ['switch', 'run a switch: ports, Geneve tunnels, flow tables, control socket'],
    ['ofctl', 'OpenFlow tables of a switch, with ovs-ofctl syntax and output'],
  ] as const) {
    program.command(name).description(what).allowUnknownOption().helpOption(false).argument('[args...]');
  }

  /** One line for the user: file errors name the file and say what went wrong in words. */
  function describe(e: unknown): string {
    if (!(e instanceof Error)) return String(e);
    const sys = e as NodeJS.ErrnoException & { address?: string };
    const words: Record<string, string> = {
      EEXIST: 'file already exists',
      ENOENT: 'no such file or directory',
      EACCES: 'permission denied',
      EADDRINUSE: 'address already in use',
      ECONNREFUSED: 'connection refused',
    };
    if (sys.code && words[sys.code]) return `${sys.path ?? sys.address ?? ''}${sys.path || sys.address ? ': ' : ''}${words[sys.code]}`;
    return e.message;
  }

  await program.parseAsync(process.argv).catch((e: unknown) => {
    process.stderr.write(`ovnts: ${describe(e)}\n`);
    process.exitCode = 1;
  });
}
