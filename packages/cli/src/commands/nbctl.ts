/** `ovnts nbctl ...`: ovn-nbctl's commands, options and output over the Northbound database. */
import { runTool } from '../ctl/runner.js';
import { NBCTL } from '../ctl/nbctl/tool.js';

export function runNbctl(args: readonly string[]): Promise<number> {
  return runTool(NBCTL, args);
}
