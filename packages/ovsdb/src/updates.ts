/**
 * The diff algebra shared by monitors (update2/update3 "modify"), the file format (records
 * with `_is_diff`) and clients applying updates, as ovsdb-server computes it:
 *
 * - a column holding at most one value (scalar or optional): the diff is the new value, so
 *   clearing an optional column is `["set", []]`;
 * - a set: the symmetric difference (applying toggles each element);
 * - a map: pairs whose key was removed (with the old value), added, or whose value changed
 *   (with the new value); applying removes a key when the pair matches exactly, replaces its
 *   value when it differs, and adds a missing key.
 */
import { compareAtoms, type Atom, type ColumnType } from './schema.js';
import { datumsEqual, defaultDatum, type Datum, type MapDatum, type Pair, type SetDatum } from './datum.js';

/** Columns that can hold more than one value get element-wise diffs; others are replaced. */
export function isComposite(t: ColumnType): boolean {
  return t.max > 1;
}

export function isDefaultDatum(d: Datum, t: ColumnType): boolean {
  if (t.min === 0) return d.length === 0;
  return datumsEqual(d, defaultDatum(t), t.value !== undefined);
}

/** The diff that turns `oldD` into `newD` (both valid datums of type `t`). */
export function datumDiff(oldD: Datum, newD: Datum, t: ColumnType): Datum {
  if (!isComposite(t)) return newD;
  const isMap = t.value !== undefined;
  const out: (Atom | Pair)[] = [];
  let i = 0;
  let j = 0;
  while (i < oldD.length && j < newD.length) {
    const o = oldD[i]!;
    const n = newD[j]!;
    const c = isMap ? compareAtoms((o as Pair)[0], (n as Pair)[0]) : compareAtoms(o as Atom, n as Atom);
    if (c < 0) {
      out.push(o);
      i++;
    } else if (c > 0) {
      out.push(n);
      j++;
    } else {
      if (isMap && compareAtoms((o as Pair)[1], (n as Pair)[1]) !== 0) out.push(n);
      i++;
      j++;
    }
  }
  while (i < oldD.length) out.push(oldD[i++]!);
  while (j < newD.length) out.push(newD[j++]!);
  return out as Datum;
}

/** Applies a diff made by `datumDiff` (the result is not size-checked here). */
export function applyDatumDiff(cur: Datum, diff: Datum, t: ColumnType): Datum {
  if (!isComposite(t)) return diff;
  if (t.value === undefined) {
    const a = cur as SetDatum;
    const d = diff as SetDatum;
    const out: Atom[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length && j < d.length) {
      const c = compareAtoms(a[i]!, d[j]!);
      if (c < 0) out.push(a[i++]!);
      else if (c > 0) out.push(d[j++]!);
      else {
        i++; // in both: toggled off
        j++;
      }
    }
    while (i < a.length) out.push(a[i++]!);
    while (j < d.length) out.push(d[j++]!);
    return out;
  }
  const a = cur as MapDatum;
  const d = diff as MapDatum;
  const out: Pair[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < d.length) {
    const c = compareAtoms(a[i]![0], d[j]![0]);
    if (c < 0) out.push(a[i++]!);
    else if (c > 0) out.push(d[j++]!);
    else {
      if (compareAtoms(a[i]![1], d[j]![1]) !== 0) out.push(d[j]!); // changed value
      i++; // same value: removed
      j++;
    }
  }
  while (i < a.length) out.push(a[i++]!);
  while (j < d.length) out.push(d[j++]!);
  return out;
}
