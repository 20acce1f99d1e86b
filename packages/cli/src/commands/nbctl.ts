/** `ovnts nbctl ...`: ovn-nbctl's commands, options and output over the Northbound database. */
import { runToolOrBatch } from '../ctl/batch.js';
import { NBCTL } from '../ctl/nbctl/tool.js';

export function runNbctl(args: readonly string[]): Promise<number> {
  return runToolOrBatch(NBCTL, args);
}
