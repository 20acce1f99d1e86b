/** `ovnts vsctl ...`: ovs-vsctl's commands, options and output over the Open_vSwitch database. */
import { runToolOrBatch } from '../ctl/batch.js';
import { VSCTL } from '../ctl/vsctl/tool.js';

export function runVsctl(args: readonly string[]): Promise<number> {
  return runToolOrBatch(VSCTL, args);
}
