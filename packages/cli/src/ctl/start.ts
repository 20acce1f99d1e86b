/**
 * How `ovnts nbctl|sbctl|vsctl` starts: most of a one-shot invocation's time is Node's
 * start-up and the loading of ES modules, which the loader fetches level by level of the
 * import graph. So the tool's description, the entry logic and, when the invocation will
 * evidently run here (no daemon to talk to, no --batch or --detach), the runner's modules are
 * all requested at once rather than one after the other.
 */
import type { ToolSpec } from './tool.js';

export async function startCtl(tool: () => Promise<ToolSpec>, argv: readonly string[], daemonEnv: string | undefined): Promise<number> {
  const local = !(daemonEnv && process.env[daemonEnv]) && !argv.some((a) => a === '--batch' || a === '--detach');
  if (local) import('./runner.js').catch(() => undefined);
  const [spec, { runToolOrBatch }] = await Promise.all([tool(), import('./batch.js')]);
  return runToolOrBatch(spec, argv);
}
