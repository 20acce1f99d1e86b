/**
 * Tunnel key allocation as OVN does it (lib/ovn-util.c ovn_allocate_tnlid): keys in [min, max],
 * searched from the one after a moving hint and wrapping around, so a key is never given twice
 * and a freed key is not reused before the search has gone round.
 */
export class KeyAllocator {
  private readonly used = new Set<number>();
  private hint: number;

  constructor(
    readonly min: number,
    readonly max: number,
    hint = 0,
  ) {
    this.hint = hint;
  }

  has(key: number): boolean {
    return this.used.has(key);
  }

  /** Claims `key` if it is in range and free. */
  reserve(key: number): boolean {
    if (!Number.isInteger(key) || key < this.min || key > this.max || this.used.has(key)) return false;
    this.used.add(key);
    return true;
  }

  release(key: number): void {
    this.used.delete(key);
  }

  /** The next free key after the hint, or undefined when every key is taken. */
  allocate(): number | undefined {
    const next = (k: number): number => (k + 1 <= this.max ? k + 1 : this.min);
    const start = this.hint < this.min || this.hint > this.max ? this.max : this.hint;
    for (let k = next(start); ; k = next(k)) {
      if (!this.used.has(k)) {
        this.used.add(k);
        this.hint = k;
        return k;
      }
      if (k === start) return undefined;
    }
  }

  get size(): number {
    return this.used.size;
  }

  get currentHint(): number {
    return this.hint;
  }
}

/** Datapath keys: 24 bits less the range OVN reserves for interconnection (OVN_MAX_DP_GLOBAL_NUM). */
export const MAX_DP_KEY = (1 << 24) - 1 - 65535;
/** Datapath keys when a chassis uses VXLAN (12 bits). */
export const MAX_DP_VXLAN_KEY = (1 << 12) - 1;
/** Logical port keys (15 bits) and, in VXLAN mode, 11 bits. */
export const MAX_PORT_KEY = (1 << 15) - 1;
export const MAX_PORT_VXLAN_KEY = (1 << 11) - 1;

/** Fixed multicast group keys (lib/mcast-group-index.h). */
export const MC_KEYS = {
  _MC_flood: 32768,
  _MC_unknown: 32769,
  _MC_mrouter_flood: 32770,
  _MC_static: 32771,
  _MC_flood_l2: 32772,
} as const;
export type McGroupName = keyof typeof MC_KEYS;
