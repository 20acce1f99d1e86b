/** `ovnts nbctl ...`: ovn-nbctl's commands, options and output over the Northbound database. */
import { startCtl } from '../ctl/start.js';

export function runNbctl(args: readonly string[]): Promise<number> {
  return startCtl(async () => (await import('../ctl/nbctl/tool.js')).NBCTL, args, 'OVN_NB_DAEMON');
}
