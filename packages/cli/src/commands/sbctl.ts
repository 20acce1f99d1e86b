/** `ovnts sbctl ...`: ovn-sbctl's commands, options and output over the Southbound database. */
import { runTool } from '../ctl/runner.js';
import { SBCTL } from '../ctl/sbctl/tool.js';

export function runSbctl(args: readonly string[]): Promise<number> {
  return runTool(SBCTL, args);
}
