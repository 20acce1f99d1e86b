/**
 * An immutable map made of a base map and a small set of changes on top of it, so that a new
 * version of a big table after a few row changes costs in proportion to the changes rather
 * than to the table (copying a Map of 10,000 rows costs milliseconds). When the changes grow
 * past a fraction of the base, the next version is flattened into a plain Map.
 */

const GONE: unique symbol = Symbol('gone');
type Change<V> = V | typeof GONE;

export class OverlayMap<K, V> implements ReadonlyMap<K, V> {
  private constructor(
    private readonly base: ReadonlyMap<K, V>,
    private readonly changes: ReadonlyMap<K, Change<V>>,
    readonly size: number,
  ) {}

  /**
   * `prev` with `sets` and `deletes` applied, as an overlay when that is cheap, else as a plain
   * Map. Neither `prev` nor the result is ever modified afterwards.
   */
  static with<K, V>(prev: ReadonlyMap<K, V>, apply: (put: (k: K, v: V) => void, del: (k: K) => void) => void): ReadonlyMap<K, V> {
    const base = prev instanceof OverlayMap ? (prev.base as ReadonlyMap<K, V>) : prev;
    const changes = new Map<K, Change<V>>(prev instanceof OverlayMap ? (prev.changes as ReadonlyMap<K, Change<V>>) : undefined);
    let size = prev.size;
    const has = (k: K): boolean => {
      const c = changes.get(k);
      return c !== undefined ? c !== GONE : base.has(k);
    };
    apply(
      (k, v) => {
        if (!has(k)) size++;
        changes.set(k, v);
      },
      (k) => {
        if (!has(k)) return;
        size--;
        if (base.has(k)) changes.set(k, GONE);
        else changes.delete(k);
      },
    );
    const next = new OverlayMap<K, V>(base, changes, size);
    // Flatten when the overlay has become a sizeable part of the work of reading it.
    if (changes.size > 64 && changes.size * 8 > base.size) return new Map(next);
    return next;
  }

  get(k: K): V | undefined {
    const c = this.changes.get(k);
    if (c !== undefined) return c === GONE ? undefined : c;
    return this.base.get(k);
  }

  has(k: K): boolean {
    const c = this.changes.get(k);
    return c !== undefined ? c !== GONE : this.base.has(k);
  }

  *entries(): MapIterator<[K, V]> {
    for (const [k, v] of this.base) {
      const c = this.changes.get(k);
      if (c === undefined) yield [k, v];
      else if (c !== GONE) yield [k, c];
    }
    for (const [k, c] of this.changes) if (c !== GONE && !this.base.has(k)) yield [k, c];
  }

  *keys(): MapIterator<K> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): MapIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(fn: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }
}
