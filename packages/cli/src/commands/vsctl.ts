/** `ovnts vsctl ...`: ovs-vsctl's syntax and output over the Open_vSwitch database. */
import { startCtl } from '../ctl/start.js';

export function runVsctl(args: readonly string[]): Promise<number> {
  return startCtl(async () => (await import('../ctl/vsctl/tool.js')).VSCTL, args, undefined);
}
