/**
 * Column diffs as ovsdb-server (≥ 2.15) writes them in records marked `"_is_diff": true`
 * (OVS's ovsdb_datum_diff / ovsdb_datum_apply_diff_in_place):
 * - a column whose type has max 1 (scalars, optional values, single-pair maps) is not
 *   "composite": its diff is simply the new value;
 * - a set's diff is the symmetric difference: applying it toggles each element;
 * - a map's diff holds removed keys with their old value, added keys and changed keys with
 *   their new value: applying it removes a key whose value matches, replaces one whose value
 *   differs, and adds a missing one.
 * This differs from the monitor diffs in ../updates.ts, where only exactly-one-value columns
 * are replaced whole: in files an optional (min 0, max 1) column's diff is its new value, so
 * clearing it is written as `["set",[]]`.
 */
import { compareAtoms, type Atom, type ColumnType } from '../schema.js';
import { datumsEqual, defaultDatum, type Datum, type MapDatum, type Pair, type SetDatum } from '../datum.js';

export function isComposite(t: ColumnType): boolean {
  return t.max > 1;
}

export function isDefaultDatum(d: Datum, t: ColumnType): boolean {
  if (t.min === 0) return d.length === 0;
  return datumsEqual(d, defaultDatum(t), t.value !== undefined);
}

/** The diff that turns `oldD` into `newD` (both valid datums of type `t`). */
export function fileDatumDiff(oldD: Datum, newD: Datum, t: ColumnType): Datum {
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

/** Applies a diff made by `fileDatumDiff` (the result is not size-checked here). */
export function applyFileDatumDiff(cur: Datum, diff: Datum, t: ColumnType): Datum {
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
        i++; // present in both: toggled off
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
