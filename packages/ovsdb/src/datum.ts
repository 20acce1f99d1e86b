/**
 * Column values ("datums", RFC 7047 §5.1) in memory and on the wire.
 *
 * In memory every value is an array: a set is a sorted array of unique atoms (a scalar column
 * is a set of exactly one), a map a key-sorted array of [key, value] pairs. UUIDs are lower-case
 * strings. This uniform shape keeps comparison, mutation and encoding to one code path each.
 */
import { OvsdbError, constraintViolation, syntaxError, withSyntax } from './error.js';
import { compareAtoms, type Atom, type AtomicType, type BaseType, type ColumnType } from './schema.js';

export type Pair = readonly [Atom, Atom];
export type SetDatum = readonly Atom[];
export type MapDatum = readonly Pair[];
export type Datum = SetDatum | MapDatum;

export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
export const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const INT_MIN = -(2 ** 63);
const INT_MAX = 2 ** 63 - 1;

/** Resolves `["named-uuid", NAME]` while parsing a transaction's operations. */
export interface UuidNamer {
  resolve(name: string): string;
}

export function defaultAtom(t: AtomicType): Atom {
  switch (t) {
    case 'integer':
    case 'real':
      return 0;
    case 'boolean':
      return false;
    case 'string':
      return '';
    case 'uuid':
      return ZERO_UUID;
  }
}

/** The empty set/map, shared: datums are never mutated in place. */
export const EMPTY_DATUM: Datum = Object.freeze([]) as Datum;
const defaults = new WeakMap<ColumnType, Datum>();

/** A column's default value; one shared, frozen instance per column type (rows share it). */
export function defaultDatum(t: ColumnType): Datum {
  if (t.min === 0) return EMPTY_DATUM;
  let d = defaults.get(t);
  if (!d) {
    const k = defaultAtom(t.key.type);
    d = Object.freeze(t.value === undefined ? [k] : [Object.freeze([k, defaultAtom(t.value.type)] as const)]) as Datum;
    defaults.set(t, d);
  }
  return d;
}

const ID_RE = /^[_a-zA-Z][_a-zA-Z0-9]*$/;

/** Parses one atom of the given atomic type, without checking constraints. Messages are ovsdb-server's. */
export function parseAtomJson(j: unknown, t: AtomicType, namer?: UuidNamer): Atom {
  switch (t) {
    case 'integer':
      if (typeof j === 'number' && Number.isInteger(j)) return j;
      throw syntaxError('expected integer');
    case 'real':
      if (typeof j === 'number') return j;
      throw syntaxError('expected real');
    case 'boolean':
      if (typeof j === 'boolean') return j;
      throw syntaxError('expected boolean');
    case 'string':
      if (typeof j === 'string') return j;
      throw syntaxError('expected string');
    case 'uuid':
      if (Array.isArray(j) && j.length === 2 && typeof j[1] === 'string') {
        if (j[0] === 'uuid') {
          if (!UUID_RE.test(j[1])) throw syntaxError(`"${j[1]}" is not a valid UUID`);
          return j[1].toLowerCase();
        }
        if (j[0] === 'named-uuid' && namer) {
          if (!ID_RE.test(j[1])) throw syntaxError('named-uuid string is not a valid <id>');
          return namer.resolve(j[1]);
        }
      }
      throw syntaxError('expected ["uuid", <string>]');
  }
}

/** C's printf("%.15g"): how ovsdb-server prints reals in messages. */
export function formatReal(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [mant, expS] = x.toExponential(14).split('e') as [string, string];
  const e = Number(expS);
  const trim = (d: string): string => (d.includes('.') ? d.replace(/\.?0+$/, '') : d);
  if (e < -4 || e >= 15) return `${trim(mant)}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return trim(x.toFixed(14 - e));
}

/** Whether ovsdb-server quotes a string atom when printing it (ovsdb_atom_to_string). */
function stringNeedsQuotes(s: string): boolean {
  // A letter or "_" first, then letters, digits, "_", "-" or "." (ovs-vsctl prints p1 and sw0 bare).
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(s)) return true;
  return s === 'true' || s === 'false' || UUID_RE.test(s);
}

/** An atom in ovsdb-server's human-readable syntax (as in ovs-vsctl and error messages). */
export function atomToString(a: Atom, t: AtomicType): string {
  switch (t) {
    case 'real':
      return formatReal(a as number);
    case 'string':
      return stringNeedsQuotes(a as string) ? JSON.stringify(a) : (a as string);
    default:
      return String(a);
  }
}

/** A datum in ovsdb-server's human-readable syntax: `x`, `[x, y]`, `{k=v}`. */
export function datumToString(d: Datum, t: ColumnType): string {
  const isMap = t.value !== undefined;
  const parts = isMap
    ? (d as MapDatum).map((p) => `${atomToString(p[0], t.key.type)}=${atomToString(p[1], t.value!.type)}`)
    : (d as SetDatum).map((a) => atomToString(a, t.key.type));
  const body = parts.join(', ');
  if (t.max > 1 || d.length === 0) return isMap ? `{${body}}` : `[${body}]`;
  return body;
}

/** A column type in words, as ovsdb-server's messages put it ("set of up to 3 strings"). */
export function typeToEnglish(t: ColumnType): string {
  if (t.value === undefined && t.min === 1 && t.max === 1) return t.key.type;
  let s = t.value === undefined ? 'set' : 'map';
  if (t.max === Infinity) s += t.min > 0 ? ` of ${t.min} or more` : ' of';
  else if (t.min > 0) s += ` of ${t.min} to ${t.max}`;
  else s += ` of up to ${t.max}`;
  return t.value === undefined ? `${s} ${t.key.type}s` : `${s} (${t.key.type}, ${t.value.type}) pairs`;
}

const ENUM_TYPE_MAX = 4294967295;

/** Checks an atom against its base type's constraints (enum, ranges, lengths). Messages are ovsdb-server's. */
export function checkAtomConstraints(a: Atom, b: BaseType): void {
  if (b.enum !== undefined) {
    for (const e of b.enum) if (compareAtoms(e, a) === 0) return;
    const allowed = datumToString(b.enum, { key: { type: b.type }, min: 1, max: ENUM_TYPE_MAX });
    throw constraintViolation(`${atomToString(a, b.type)} is not one of the allowed values (${allowed})`);
  }
  switch (b.type) {
    case 'integer': {
      const n = a as number;
      const lo = b.minInteger ?? INT_MIN;
      const hi = b.maxInteger ?? INT_MAX;
      if (n >= lo && n <= hi) return;
      if (b.minInteger !== undefined && b.maxInteger !== undefined) {
        throw constraintViolation(`${n} is not in the valid range ${lo} to ${hi} (inclusive)`);
      }
      if (b.minInteger !== undefined) throw constraintViolation(`${n} is less than minimum allowed value ${lo}`);
      throw constraintViolation(`${n} is greater than maximum allowed value ${hi}`);
    }
    case 'real': {
      const n = a as number;
      const lo = b.minReal ?? -Number.MAX_VALUE;
      const hi = b.maxReal ?? Number.MAX_VALUE;
      if (n >= lo && n <= hi) return;
      if (b.minReal !== undefined && b.maxReal !== undefined) {
        throw constraintViolation(`${formatReal(n)} is not in the valid range ${formatReal(lo)} to ${formatReal(hi)} (inclusive)`);
      }
      if (b.minReal !== undefined) throw constraintViolation(`${formatReal(n)} is less than minimum allowed value ${formatReal(lo)}`);
      throw constraintViolation(`${formatReal(n)} is greater than maximum allowed value ${formatReal(hi)}`);
    }
    case 'string': {
      if (b.minLength === undefined && b.maxLength === undefined) return;
      const len = codePointLength(a as string);
      if (b.minLength !== undefined && len < b.minLength) {
        throw constraintViolation(`"${a}" length ${len} is less than minimum allowed length ${b.minLength}`);
      }
      if (b.maxLength !== undefined && len > b.maxLength) {
        throw constraintViolation(`"${a}" length ${len} is greater than maximum allowed length ${b.maxLength}`);
      }
      return;
    }
    default:
      return;
  }
}

/** String length constraints count Unicode characters (code points), not UTF-16 units. */
function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export function parseAtom(j: unknown, b: BaseType, namer?: UuidNamer): Atom {
  const a = withSyntax(j, () => parseAtomJson(j, b.type, namer));
  checkAtomConstraints(a, b);
  return a;
}

function sortUniqueAtoms(atoms: Atom[]): Atom[] {
  if (atoms.length < 2) return atoms;
  atoms.sort(compareAtoms);
  for (let i = 1; i < atoms.length; i++) {
    if (compareAtoms(atoms[i - 1]!, atoms[i]!) === 0) throw new OvsdbError('ovsdb error', 'set contains duplicate');
  }
  return atoms;
}

function sortUniquePairs(pairs: Pair[]): Pair[] {
  if (pairs.length < 2) return pairs;
  pairs.sort((x, y) => compareAtoms(x[0], y[0]));
  for (let i = 1; i < pairs.length; i++) {
    if (compareAtoms(pairs[i - 1]![0], pairs[i]![0]) === 0) throw new OvsdbError('ovsdb error', 'map contains duplicate key');
  }
  return pairs;
}

/**
 * Parses a datum with its column type: checks atom types and constraints and, unless
 * `ignoreSize`, the number of elements. Errors are ovsdb-server's: a wrong shape or size is a
 * "syntax error", a duplicate element an "ovsdb error", a bad atom value a "constraint violation".
 */
export function parseDatum(j: unknown, t: ColumnType, namer?: UuidNamer, ignoreSize = false): Datum {
  // Shape first, then size, then atoms, then duplicates: the order in which ovsdb-server reports.
  let elems: unknown[];
  if (t.value !== undefined) {
    if (!Array.isArray(j) || j.length !== 2 || j[0] !== 'map' || !Array.isArray(j[1])) {
      throw new OvsdbError('syntax error', 'expected ["map", <array>]', j);
    }
    elems = j[1] as unknown[];
  } else if (Array.isArray(j) && j.length > 0 && j[0] === 'set') {
    if (j.length !== 2 || !Array.isArray(j[1])) throw new OvsdbError('syntax error', 'expected ["set", <array>]', j);
    elems = j[1] as unknown[];
  } else {
    // A lone atom: the common case (names, numbers, references). One element always fits
    // (min is 0 or 1), and there is nothing to sort.
    if (ignoreSize || (t.min <= 1 && t.max >= 1)) return [parseAtom(j, t.key, namer)];
    elems = [j];
  }
  if (!ignoreSize && (elems.length < t.min || elems.length > t.max)) {
    const kind = t.value !== undefined ? 'map' : 'set';
    throw new OvsdbError(
      'syntax error',
      t.min === 1 && t.max === 1
        ? `${kind} must have exactly one member but ${elems.length} are present`
        : `${kind} must have ${t.min} to ${t.max === Infinity ? ENUM_TYPE_MAX : t.max} members but ${elems.length} are present`,
      j,
    );
  }
  if (t.value !== undefined) {
    const vt = t.value;
    const pairs = elems.map((p): Pair => {
      if (!Array.isArray(p) || p.length !== 2) throw new OvsdbError('syntax error', 'expected 2-element array', p);
      return [parseAtom(p[0], t.key, namer), parseAtom(p[1], vt, namer)];
    });
    return sortUniquePairs(pairs);
  }
  return sortUniqueAtoms(elems.map((e) => parseAtom(e, t.key, namer)));
}

/** Checks that a computed value (a mutation's result) has an allowed number of elements. */
export function checkDatumSize(d: Datum, t: ColumnType): void {
  if (d.length < t.min || d.length > t.max) {
    throw constraintViolation(`Attempted to store ${d.length} elements in ${typeToEnglish(t)}.`);
  }
}

export function atomToJson(a: Atom, t: AtomicType): unknown {
  return t === 'uuid' ? ['uuid', a] : a;
}

/** The wire form: a lone atom for one-element sets, ["set", …] or ["map", …] otherwise. */
export function datumToJson(d: Datum, t: ColumnType): unknown {
  if (t.value !== undefined) {
    const kt = t.key.type;
    const vt = t.value.type;
    return ['map', (d as MapDatum).map((p) => [atomToJson(p[0], kt), atomToJson(p[1], vt)])];
  }
  const kt = t.key.type;
  if (d.length === 1) return atomToJson(d[0] as Atom, kt);
  return ['set', (d as SetDatum).map((a) => atomToJson(a, kt))];
}

function atomJsonText(a: Atom, t: AtomicType): string {
  if (t === 'uuid') return `["uuid","${a as string}"]`;
  return typeof a === 'string' ? JSON.stringify(a) : typeof a === 'boolean' ? (a ? 'true' : 'false') : JSON.stringify(a);
}

/**
 * `JSON.stringify(datumToJson(d, t))` without building the intermediate arrays: the form hot
 * paths (log records, replies) write. UUID atoms are lower-case hex and need no escaping.
 */
export function datumJsonText(d: Datum, t: ColumnType): string {
  const kt = t.key.type;
  if (t.value !== undefined) {
    const vt = t.value.type;
    let s = '["map",[';
    for (let i = 0; i < d.length; i++) {
      const p = d[i] as Pair;
      s += `${i === 0 ? '' : ','}[${atomJsonText(p[0], kt)},${atomJsonText(p[1], vt)}]`;
    }
    return s + ']]';
  }
  if (d.length === 1) return atomJsonText(d[0] as Atom, kt);
  let s = '["set",[';
  for (let i = 0; i < d.length; i++) s += `${i === 0 ? '' : ','}${atomJsonText(d[i] as Atom, kt)}`;
  return s + ']]';
}

/** ovsdb-server's datum order (ovsdb_datum_compare_3way): by size, then keys, then values. */
export function compareDatums(a: Datum, b: Datum, isMap: boolean): number {
  if (a.length !== b.length) return a.length - b.length;
  if (!isMap) {
    for (let i = 0; i < a.length; i++) {
      const c = compareAtoms(a[i] as Atom, b[i] as Atom);
      if (c !== 0) return c;
    }
    return 0;
  }
  for (let i = 0; i < a.length; i++) {
    const c = compareAtoms((a[i] as Pair)[0], (b[i] as Pair)[0]);
    if (c !== 0) return c;
  }
  for (let i = 0; i < a.length; i++) {
    const c = compareAtoms((a[i] as Pair)[1], (b[i] as Pair)[1]);
    if (c !== 0) return c;
  }
  return 0;
}

export function datumsEqual(a: Datum, b: Datum, isMap: boolean): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  return compareDatums(a, b, isMap) === 0;
}

function findAtom(d: SetDatum, a: Atom): number {
  let lo = 0;
  let hi = d.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = compareAtoms(d[mid]!, a);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

export function findKey(d: MapDatum, k: Atom): number {
  let lo = 0;
  let hi = d.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = compareAtoms(d[mid]![0], k);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

export function setContains(d: SetDatum, a: Atom): boolean {
  return findAtom(d, a) >= 0;
}

/** Every element (or key-value pair) of `sub` is in `sup`. */
export function datumIncludes(sup: Datum, sub: Datum, isMap: boolean): boolean {
  if (isMap) {
    for (const p of sub as MapDatum) {
      const i = findKey(sup as MapDatum, p[0]);
      if (i < 0 || compareAtoms((sup as MapDatum)[i]![1], p[1]) !== 0) return false;
    }
    return true;
  }
  for (const a of sub as SetDatum) if (findAtom(sup as SetDatum, a) < 0) return false;
  return true;
}

/** No element (or key-value pair) of `b` is in `a`. */
export function datumExcludes(a: Datum, b: Datum, isMap: boolean): boolean {
  if (isMap) {
    for (const p of b as MapDatum) {
      const i = findKey(a as MapDatum, p[0]);
      if (i >= 0 && compareAtoms((a as MapDatum)[i]![1], p[1]) === 0) return false;
    }
    return true;
  }
  for (const x of b as SetDatum) if (findAtom(a as SetDatum, x) >= 0) return false;
  return true;
}

/** Set union; for maps, pairs whose key is already present are not replaced (RFC 7047 "insert"). */
export function datumUnion(a: Datum, b: Datum, isMap: boolean): Datum {
  if (b.length === 0) return a;
  if (isMap) {
    const out: Pair[] = (a as MapDatum).slice();
    let added = false;
    for (const p of b as MapDatum) {
      if (findKey(a as MapDatum, p[0]) < 0) {
        out.push(p);
        added = true;
      }
    }
    if (!added) return a;
    return out.sort((x, y) => compareAtoms(x[0], y[0]));
  }
  const out: Atom[] = (a as SetDatum).slice();
  let added = false;
  for (const x of b as SetDatum) {
    if (findAtom(a as SetDatum, x) < 0) {
      out.push(x);
      added = true;
    }
  }
  if (!added) return a;
  return out.sort(compareAtoms);
}

/**
 * Set difference; for maps, `b` may be a map (remove pairs that match exactly) or a set of
 * keys (remove those keys), as the RFC's "delete" mutator allows.
 */
export function datumDifference(a: Datum, b: Datum, isMap: boolean, bIsKeySet: boolean): Datum {
  if (b.length === 0 || a.length === 0) return a;
  if (isMap) {
    if (bIsKeySet) {
      const drop = b as SetDatum;
      return (a as MapDatum).filter((p) => findAtom(drop, p[0]) < 0);
    }
    const drop = b as MapDatum;
    return (a as MapDatum).filter((p) => {
      const i = findKey(drop, p[0]);
      return i < 0 || compareAtoms(drop[i]![1], p[1]) !== 0;
    });
  }
  const drop = b as SetDatum;
  return (a as SetDatum).filter((x) => findAtom(drop, x) < 0);
}
