/** Shared test helpers for the lflow tests. */
import type { Expr } from '../src/index.js';

/** Deep equality of ASTs (bigint-aware, key-order-insensitive through JSON with sorted keys). */
export function astEqual(a: Expr, b: Expr): boolean {
  return canon(a) === canon(b);
}

export function canon(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return `${x}n`;
    if (x && typeof x === 'object' && !Array.isArray(x)) {
      return Object.fromEntries(Object.entries(x as Record<string, unknown>).filter(([, y]) => y !== undefined).sort(([p], [q]) => (p < q ? -1 : 1)));
    }
    return x;
  });
}
