/** `ovnts vsctl ...`: ovs-vsctl's commands, options and output over the Open_vSwitch database. */
import { runTool } from '../ctl/runner.js';
import { VSCTL } from '../ctl/vsctl/tool.js';

export function runVsctl(args: readonly string[]): Promise<number> {
  return runTool(VSCTL, args);
}
