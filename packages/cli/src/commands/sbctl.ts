/** `ovnts sbctl ...`: ovn-sbctl's commands, options and output over the Southbound database. */
import { runToolOrBatch } from '../ctl/batch.js';
import { SBCTL } from '../ctl/sbctl/tool.js';

export function runSbctl(args: readonly string[]): Promise<number> {
  return runToolOrBatch(SBCTL, args);
}
