/**
 * The `ovnts` command. Each subcommand lives in its own module and is imported only when
 * used, so `ovnts nbctl …` does not pay for loading the server or the lab.
 */
import { Command } from 'commander';

const program = new Command();
program.name('ovnts').description('OVN-architecture network virtualization in TypeScript').version('0.1.0');

program
  .command('db')
  .description('OVSDB server and database files: create, serve, query, transact')
  .allowUnknownOption()
  .helpOption(false)
  .argument('[args...]')
  .action(async (args: string[]) => {
    const { runDb } = await import('./commands/db.js');
    process.exitCode = await runDb(args);
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`ovnts: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
