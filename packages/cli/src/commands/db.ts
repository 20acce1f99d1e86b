/** `ovnts db …`: filled in as the server and storage land. */
import { Command } from 'commander';

export async function runDb(args: string[]): Promise<number> {
  const cmd = new Command('ovnts db');
  cmd.exitOverride();
  cmd.parse(args, { from: 'user' });
  return 0;
}
