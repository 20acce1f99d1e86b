/**
 * The diff algebra shared by monitors (update2/update3 "modify"), the file format (records
 * with `_is_diff`) and clients applying updates: the difference between two datums of one
 * column type, and its application.
 *
 * - scalar column (exactly one value): the diff is the new value;
 * - set: the symmetric difference (applying toggles each element);
 * - map: pairs whose key was removed (with the old value), added, or whose value changed
 *   (with the new value); applying removes a key when the pair matches exactly, otherwise
 *   sets it.
 */
import { compareAtoms, type Atom, type ColumnType } from './schema.js';
import { findKey, type Datum, type MapDatum, type Pair, type SetDatum } from './datum.js';

export function isScalarType(t: ColumnType): boolean {
  return t.value === undefined && t.min === 1 && t.max === 1;
}

export function datumDiff(oldD: Datum, newD: Datum, t: ColumnType): Datum {
  if (isScalarType(t)) return newD;
  if (t.value === undefined) {
    const a = oldD as SetDatum;
    const b = newD as SetDatum;
    const out: Atom[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      if (j >= b.length) out.push(a[i++]!);
      else if (i >= a.length) out.push(b[j++]!);
      else {
        const c = compareAtoms(a[i]!, b[j]!);
        if (c < 0) out.push(a[i++]!);
        else if (c > 0) out.push(b[j++]!);
        else {
          i++;
          j++;
        }
      }
    }
    return out;
  }
  const a = oldD as MapDatum;
  const b = newD as MapDatum;
  const out: Pair[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length) out.push(a[i++]!);
    else if (i >= a.length) out.push(b[j++]!);
    else {
      const c = compareAtoms(a[i]![0], b[j]![0]);
      if (c < 0) out.push(a[i++]!);
      else if (c > 0) out.push(b[j++]!);
      else {
        if (compareAtoms(a[i]![1], b[j]![1]) !== 0) out.push(b[j]!);
        i++;
        j++;
      }
    }
  }
  return out;
}

export function applyDatumDiff(oldD: Datum, diff: Datum, t: ColumnType): Datum {
  if (isScalarType(t)) return diff;
  if (t.value === undefined) return datumDiff(oldD, diff, { ...t, min: 0, max: Infinity });
  const out: Pair[] = (oldD as MapDatum).slice();
  for (const p of diff as MapDatum) {
    const i = findKey(out, p[0]);
    if (i < 0) {
      out.push(p);
      out.sort((x, y) => compareAtoms(x[0], y[0]));
    } else if (compareAtoms(out[i]![1], p[1]) === 0) {
      out.splice(i, 1);
    } else {
      out[i] = p;
    }
  }
  return out;
}
