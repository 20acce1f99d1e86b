/**
 * The `ovnts` command. Each subcommand lives in its own module and is imported only when
 * used, so `ovnts nbctl …` does not pay for loading the server or the lab.
 */
import { Command } from 'commander';

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

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`ovnts: ${describe(e)}\n`);
  process.exitCode = 1;
});
