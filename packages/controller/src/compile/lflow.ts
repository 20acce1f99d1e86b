/**
 * One logical flow → the switch flows that realize it on one datapath: its match compiled per
 * conjunction (or as conjunctive-match clauses), its actions compiled once. The cookie is the
 * first 32 bits of the logical flow's UUID, as ovn-controller sets it, so `ofctl dump-flows`
 * output leads back to the Logical_Flow row.
 */
import { MatchError, parseActions, parseMatch, type MatchLookup } from '@ovnts/lflow';
import type { Action } from '@ovnts/switch/dist/src/flow/actions.js';
import type { Bucket } from '@ovnts/switch/dist/src/flow/group.js';
import type { Match } from '@ovnts/switch/dist/src/flow/match.js';
import { cloneMatch, setExact } from '@ovnts/switch/dist/src/flow/match.js';
import { ActionCompileError, ActionCompiler } from './actions.js';
import { CONJ_ID_LOC } from './fields.js';
import { ofTable } from './layout.js';
import { compileMatch } from './match.js';

export interface LogicalFlowInput {
  readonly uuid: string;
  readonly pipeline: 'ingress' | 'egress';
  readonly table: number;
  readonly priority: number;
  readonly match: string;
  readonly actions: string;
}

export interface DatapathInput {
  readonly key: number;
  readonly isRouter: boolean;
}

export interface CompileEnv {
  readonly lookup: MatchLookup;
  portKey(datapathKey: number, name: string): number | undefined;
  isChassisResident(port: string): boolean;
  allocConjunctionId(): number;
  addSelectGroup(buckets: readonly Bucket[]): number;
}

/** A flow for the switch. */
export interface DesiredFlow {
  readonly table: number;
  readonly priority: number;
  readonly match: Match;
  readonly actions: readonly Action[];
  readonly cookie: bigint;
}

export interface CompileResult {
  readonly flows: DesiredFlow[];
  /** Why the flow produced nothing, when it could not be compiled. */
  readonly error: string | undefined;
}

export function cookieOf(uuid: string): bigint {
  return BigInt(`0x${uuid.replace(/-/g, '').slice(0, 8) || '0'}`);
}

export function compileLogicalFlow(flow: LogicalFlowInput, dp: DatapathInput, env: CompileEnv): CompileResult {
  const cookie = cookieOf(flow.uuid);
  const table = ofTable(flow.pipeline, flow.table);
  let actions: Action[];
  let compiled: ReturnType<typeof compileMatch>;
  try {
    const expr = parseMatch(flow.match, { lookup: env.lookup });
    compiled = compileMatch(expr, {
      datapathKey: dp.key,
      portKey: (name) => (name === 'none' ? 0 : env.portKey(dp.key, name)),
      isChassisResident: (p) => env.isChassisResident(p),
    });
    actions = new ActionCompiler({
      pipeline: flow.pipeline,
      table: flow.table,
      datapathKey: dp.key,
      isRouter: dp.isRouter,
      portKey: (name) => (name === 'none' ? 0 : env.portKey(dp.key, name)),
      addSelectGroup: (b) => env.addSelectGroup(b),
    }).compile(parseActions(flow.actions));
  } catch (e) {
    if (e instanceof MatchError || e instanceof ActionCompileError) return { flows: [], error: e.message };
    throw e;
  }
  const flows: DesiredFlow[] = compiled.matches.map((match) => ({ table, priority: flow.priority, match, actions, cookie }));
  if (compiled.conjunction) {
    const id = env.allocConjunctionId();
    const n = compiled.conjunction.clauses.length;
    compiled.conjunction.clauses.forEach((alternatives, k) => {
      for (const match of alternatives) {
        flows.push({ table, priority: flow.priority, match, actions: [{ type: 'conjunction', id, clause: k + 1, nClauses: n }], cookie });
      }
    });
    const m = cloneMatch(compiled.conjunction.common);
    setExact(m, CONJ_ID_LOC, id);
    flows.push({ table, priority: flow.priority, match: m, actions, cookie });
  }
  return { flows, error: undefined };
}
