/**
 * Group table entries (OpenFlow groups as OVN uses them): `all` runs every bucket on its own copy
 * of the packet (multicast, flooding), `select` runs one bucket chosen by a hash of packet fields
 * weighted by bucket weight (load balancing), `indirect` runs its single bucket.
 */
import type { FlowKey } from '../fields.js';
import type { Action } from './actions.js';
import { lookupOfField } from './catalog.js';
import { readBits } from './match.js';
import type { OfField } from './catalog.js';

export type GroupType = 'all' | 'select' | 'indirect' | 'ff';

export interface Bucket {
  readonly id: number;
  /** Relative share for select groups (OpenFlow's default is 1; ovs-ofctl prints 100 for OVN's). */
  readonly weight: number;
  readonly watchPort?: number;
  readonly watchGroup?: number;
  readonly actions: readonly Action[];
}

/** A field a select group hashes, optionally only under a mask (over the field's bits). */
export interface GroupField {
  readonly field: string;
  readonly mask?: bigint;
}

export interface Group {
  readonly id: number;
  readonly type: GroupType;
  /** `hash` hashes `fields`; `dp_hash` (OVN's choice) hashes the 5-tuple. */
  readonly selectionMethod?: 'hash' | 'dp_hash';
  readonly selectionMethodParam?: number;
  readonly fields?: readonly GroupField[];
  readonly buckets: readonly Bucket[];
}

/** What dp_hash covers: addresses, protocol and ports. */
const FIVE_TUPLE: readonly GroupField[] = ['dl_type', 'nw_src', 'nw_dst', 'ipv6_src', 'ipv6_dst', 'nw_proto', 'tp_src', 'tp_dst'].map((field) => ({ field }));

const fieldCache = new Map<string, OfField>();

function resolve(name: string): OfField {
  let f = fieldCache.get(name);
  if (!f) {
    f = lookupOfField(name);
    if (!f) throw new Error(`${name}: unknown field in group selection`);
    fieldCache.set(name, f);
  }
  return f;
}

function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** The hash a select group uses for `key`: over its fields, or the 5-tuple for dp_hash. */
export function groupHash(group: Group, key: FlowKey): number {
  const names = group.selectionMethod === 'hash' && group.fields && group.fields.length ? group.fields : FIVE_TUPLE;
  let h = 0x9747b28c;
  for (const gf of names) {
    const f = resolve(gf.field);
    if (gf.mask !== undefined) {
      // Masked fields are rare (and not OVN's); take the general path.
      let v = readBits(key, f) & gf.mask;
      for (let i = 0; i < f.words; i++, v >>= 32n) h = mix(h, Number(v & 0xffffffffn));
    } else if (f.words === 1) {
      // Views inside one word (ip_dscp, vlan_pcp) hash only their own bits.
      const v = key[f.word]! >>> f.shift;
      h = mix(h, f.bits === 32 ? v : v & ((1 << f.bits) - 1));
    } else {
      // Multi-word fields are whole key fields, whose unused high bits are always zero.
      for (let i = 0; i < f.words; i++) h = mix(h, key[f.word + i]!);
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/**
 * The bucket a select group runs for a packet whose selection hash is `hash`: buckets take
 * shares of the hash space in proportion to their weights (weight 0 never runs).
 */
export function selectBucket(group: Group, hash: number): Bucket | undefined {
  let total = 0;
  for (const b of group.buckets) total += b.weight;
  if (total <= 0) return undefined;
  let point = hash % total;
  for (const b of group.buckets) {
    if (point < b.weight) return b;
    point -= b.weight;
  }
  return undefined;
}

/** The buckets a group runs for `key`. */
export function groupBuckets(group: Group, key: FlowKey): readonly Bucket[] {
  switch (group.type) {
    case 'all':
      return group.buckets;
    case 'indirect':
    case 'ff':
      return group.buckets.slice(0, 1);
    case 'select': {
      const b = selectBucket(group, groupHash(group, key));
      return b ? [b] : [];
    }
  }
}

/** Groups by id (add, modify, delete), as the switch keeps them. */
export class GroupTable {
  private readonly groups = new Map<number, Group>();

  get(id: number): Group | undefined {
    return this.groups.get(id);
  }

  /** Adds a group; throws if the id is taken (OpenFlow's OFPGMFC_GROUP_EXISTS). */
  add(group: Group): void {
    if (this.groups.has(group.id)) throw new Error(`group ${group.id} already exists`);
    this.groups.set(group.id, group);
  }

  /** Replaces a group; with `mayCreate`, adds it if absent (ovs-ofctl --may-create). */
  modify(group: Group, mayCreate = false): void {
    if (!this.groups.has(group.id) && !mayCreate) throw new Error(`group ${group.id} does not exist`);
    this.groups.set(group.id, group);
  }

  /** Deletes one group, or all when `id` is undefined; returns how many went. */
  delete(id?: number): number {
    if (id === undefined) {
      const n = this.groups.size;
      this.groups.clear();
      return n;
    }
    return this.groups.delete(id) ? 1 : 0;
  }

  /** Groups in id order. */
  list(): Group[] {
    return [...this.groups.values()].sort((a, b) => a.id - b.id);
  }

  get size(): number {
    return this.groups.size;
  }
}
