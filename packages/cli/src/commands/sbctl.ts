/** `ovnts sbctl ...`: ovn-sbctl's commands, options and output over the Southbound database. */
import { startCtl } from '../ctl/start.js';

export function runSbctl(args: readonly string[]): Promise<number> {
  return startCtl(async () => (await import('../ctl/sbctl/tool.js')).SBCTL, args, 'OVN_SB_DAEMON');
}
