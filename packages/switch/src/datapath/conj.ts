/**
 * OpenFlow conjunctive matches (ovs-fields(7), "Conjunctive Match Fields"): flows whose actions
 * are `conjunction(id, k/n)` are clauses, not results. A table lookup first finds the best
 * ordinary ("hard") flow; then, for each priority above it, highest first, at which clause flows
 * match, a conjunction `id` is satisfied when for every k in 1..n some matching flow of that
 * priority is clause k of `id`; the lookup then answers with the best ordinary flow matching
 * `conj_id=id` (ids tried in increasing order). If no satisfied conjunction has such a flow,
 * lower priorities are tried, and finally the hard flow is the answer. This is what OVS's
 * classifier does; the wildcards of every probe, including the conj_id lookups, accumulate.
 */
import { field, type FlowKey } from '../fields.js';
import type { Classifier } from '../flow/classifier.js';
import type { FlowEntry } from '../flow/table.js';

const W_CONJ_ID = field('conj_id').word;

/** Is the flow a conjunction clause (its actions are conjunction actions, and maybe notes)? */
export function isConjunctive(e: FlowEntry): boolean {
  const a = e.actions;
  for (let i = 0; i < a.length; i++) if (a[i]!.type === 'conjunction') return true;
  return false;
}

const byPriorityDesc = (a: FlowEntry, b: FlowEntry): number => b.priority - a.priority || a.seq - b.seq;

/**
 * The flow a packet with `key` gets from table classifier `cls`, conjunctive matches included.
 * `soft` is scratch space (cleared). The key is restored before returning.
 */
export function lookupConjunctive(cls: Classifier<FlowEntry>, key: FlowKey, wc: FlowKey | undefined, soft: FlowEntry[]): FlowEntry | undefined {
  soft.length = 0;
  const hard = cls.lookupSoft(key, wc, isConjunctive, soft);
  if (soft.length === 0) return hard;
  const hardPri = hard === undefined ? -1 : hard.priority;
  let n = 0;
  for (let i = 0; i < soft.length; i++) if (soft[i]!.priority > hardPri) soft[n++] = soft[i]!;
  soft.length = n;
  if (n === 0) return hard;
  soft.sort(byPriorityDesc);
  const saved = key[W_CONJ_ID]!;
  for (let i = 0; i < n; ) {
    const p = soft[i]!.priority;
    let j = i;
    // id → [n clauses, bit set of clauses seen (clause k is bit k-1; at most 64 clauses)]
    const seen = new Map<number, [number, bigint]>();
    for (; j < n && soft[j]!.priority === p; j++) {
      for (const a of soft[j]!.actions) {
        if (a.type !== 'conjunction' || a.clause < 1 || a.clause > a.nClauses || a.nClauses > 64) continue;
        const s = seen.get(a.id);
        if (s === undefined) seen.set(a.id, [a.nClauses, 1n << BigInt(a.clause - 1)]);
        else s[1] |= 1n << BigInt(a.clause - 1);
      }
    }
    const done: number[] = [];
    for (const [id, [nc, bits]] of seen) if (bits === (1n << BigInt(nc)) - 1n) done.push(id);
    done.sort((a, b) => a - b);
    for (const id of done) {
      key[W_CONJ_ID] = id;
      const r = cls.lookupSoft(key, wc, isConjunctive);
      key[W_CONJ_ID] = saved;
      if (r !== undefined) return r;
    }
    i = j;
  }
  return hard;
}
