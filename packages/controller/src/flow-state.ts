/**
 * The controller's view of the switch's flow and group tables: the desired set (what the
 * Southbound DB and local state call for) and the installed set (what the switch has), and the
 * difference between them as flow-mods and group-mods. Only differences are sent, so a change to
 * one port or one logical flow touches only the switch flows it affects.
 *
 * Flows are identified, as OpenFlow identifies them, by (table, priority, match). Two logical
 * flows that compile to the same conjunctive-match clause share one switch flow whose actions
 * list both `conjunction` actions, as OVS requires.
 */
import type { Action } from '@ovnts/switch/dist/src/flow/actions.js';
import { actionsEqual } from '@ovnts/switch/dist/src/flow/actions.js';
import type { Bucket, Group } from '@ovnts/switch/dist/src/flow/group.js';
import type { Match } from '@ovnts/switch/dist/src/flow/match.js';
import type { FlowMod } from '@ovnts/switch/dist/src/flow/table.js';
import type { DesiredFlow } from './compile/lflow.js';

export function flowId(table: number, priority: number, match: Match): string {
  return `${table}/${priority}/${match.value.join(',')}/${match.mask.join(',')}`;
}

/** Ids of flow objects already seen: flows from the compile cache come back as the same objects. */
const ids = new WeakMap<DesiredFlow, string>();

function idOf(f: DesiredFlow): string {
  let id = ids.get(f);
  if (id === undefined) ids.set(f, (id = flowId(f.table, f.priority, f.match)));
  return id;
}

export interface InstalledFlow {
  readonly table: number;
  readonly priority: number;
  readonly match: Match;
  readonly actions: readonly Action[];
  readonly cookie: bigint;
}

/** Builds one desired flow table, merging conjunction clauses that share a match. */
export class DesiredFlows {
  private readonly flows = new Map<string, InstalledFlow>();
  /** Groups by content, so identical bucket lists share one group id across recomputes. */
  private readonly groupIds: Map<string, number>;
  private readonly groups = new Map<number, Group>();
  private nextGroup: number;
  private nextConj = 1;
  conflicts = 0;

  constructor(previousGroupIds: ReadonlyMap<string, number> = new Map()) {
    this.groupIds = new Map(previousGroupIds);
    this.nextGroup = Math.max(0, ...previousGroupIds.values()) + 1;
  }

  allocConjunctionId(): number {
    return this.nextConj++;
  }

  addSelectGroup(buckets: readonly Bucket[]): number {
    const key = JSON.stringify(buckets, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    let id = this.groupIds.get(key);
    if (id === undefined) this.groupIds.set(key, (id = this.nextGroup++));
    this.groups.set(id, { id, type: 'select', selectionMethod: 'dp_hash', buckets });
    return id;
  }

  add(f: DesiredFlow): void {
    const id = idOf(f);
    const old = this.flows.get(id);
    if (!old) {
      this.flows.set(id, f);
      return;
    }
    const isConj = (a: readonly Action[]): boolean => a.length > 0 && a.every((x) => x.type === 'conjunction');
    if (isConj(old.actions) && isConj(f.actions)) {
      this.flows.set(id, { ...old, actions: [...old.actions, ...f.actions] });
      return;
    }
    // Two logical flows with the same match and priority: OVN keeps the first (and warns).
    if (!actionsEqual(old.actions, f.actions)) this.conflicts++;
  }

  get size(): number {
    return this.flows.size;
  }

  entries(): ReadonlyMap<string, InstalledFlow> {
    return this.flows;
  }

  groupTable(): ReadonlyMap<number, Group> {
    return this.groups;
  }

  /** Content key → group id, to keep ids stable in the next recompute. */
  groupIdMap(): ReadonlyMap<string, number> {
    const live = new Set(this.groups.keys());
    return new Map([...this.groupIds].filter(([, id]) => live.has(id)));
  }
}

export interface TableDiff {
  readonly flowMods: FlowMod[];
  readonly addGroups: Group[];
  readonly modifyGroups: Group[];
  readonly deleteGroups: number[];
}

function groupsEqual(a: Group, b: Group): boolean {
  return a.type === b.type && a.buckets.length === b.buckets.length && a.buckets.every((x, i) => x.weight === b.buckets[i]!.weight && actionsEqual(x.actions, b.buckets[i]!.actions));
}

/**
 * What turns `installed` into `desired`: groups first added, then flows (adds replace flows with
 * the same identity, strict deletes remove the rest), then unused groups deleted.
 */
export function diffTables(
  installed: ReadonlyMap<string, InstalledFlow>,
  desired: ReadonlyMap<string, InstalledFlow>,
  installedGroups: ReadonlyMap<number, Group>,
  desiredGroups: ReadonlyMap<number, Group>,
): TableDiff {
  const flowMods: FlowMod[] = [];
  for (const [id, f] of desired) {
    const old = installed.get(id);
    if (old === f || (old && old.cookie === f.cookie && actionsEqual(old.actions, f.actions))) continue;
    flowMods.push({ command: 'add', table: f.table, priority: f.priority, match: f.match, actions: f.actions, cookie: f.cookie });
  }
  for (const [id, f] of installed) {
    if (!desired.has(id)) flowMods.push({ command: 'delete_strict', table: f.table, priority: f.priority, match: f.match });
  }
  const addGroups: Group[] = [];
  const modifyGroups: Group[] = [];
  for (const [id, g] of desiredGroups) {
    const old = installedGroups.get(id);
    if (!old) addGroups.push(g);
    else if (!groupsEqual(old, g)) modifyGroups.push(g);
  }
  const deleteGroups = [...installedGroups.keys()].filter((id) => !desiredGroups.has(id));
  return { flowMods, addGroups, modifyGroups, deleteGroups };
}
