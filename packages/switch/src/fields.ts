/**
 * The flow key: every field a flow can match or an action can set, packed into one Uint32Array
 * ("key words"), like OVS's struct flow. One fixed layout for packets, matches and masks lets the
 * classifier hash and compare keys word by word with no per-field dispatch, and lets a mask say
 * exactly which bits a lookup looked at (the megaflow cache relies on that).
 *
 * A field of up to 32 bits sits in the low bits of one word; wider fields (48, 64, 128 bits) take
 * 2 or 4 consecutive words, most significant word first. Names are ovs-ofctl's (dl_src, nw_dst,
 * reg3, tun_metadata0 …) so that flows print and parse in ovs-ofctl's syntax.
 */

export interface FieldDef {
  readonly name: string;
  /** Index of the field's first (most significant) word in the key. */
  readonly word: number;
  readonly bits: number;
  /** Number of key words: ceil(bits / 32). */
  readonly words: number;
}

/** Field names and widths, in key order. */
const LAYOUT: ReadonlyArray<readonly [string, number]> = [
  ['in_port', 32],
  ['metadata', 64],
  ...Array.from({ length: 16 }, (_, i) => [`reg${i}`, 32] as const),
  ['tun_id', 64],
  ['tun_src', 32],
  ['tun_dst', 32],
  // OVN's Geneve option (class 0x0102, type 0x80): logical ingress port in bits 16..30, egress in 0..15.
  ['tun_metadata0', 32],
  ['pkt_mark', 32],
  ['conj_id', 32],
  ['ct_state', 32],
  ['ct_zone', 16],
  ['ct_mark', 32],
  ['ct_label', 128],
  ['ct_nw_proto', 8],
  ['ct_nw_src', 32],
  ['ct_nw_dst', 32],
  ['ct_ipv6_src', 128],
  ['ct_ipv6_dst', 128],
  ['ct_tp_src', 16],
  ['ct_tp_dst', 16],
  ['dl_src', 48],
  ['dl_dst', 48],
  ['dl_type', 16],
  ['vlan_tci', 16],
  ['nw_src', 32],
  ['nw_dst', 32],
  ['ipv6_src', 128],
  ['ipv6_dst', 128],
  ['ipv6_label', 20],
  ['nw_proto', 8],
  /** The whole IPv4 TOS / IPv6 traffic-class byte's DSCP part, as OVS keeps it: DSCP << 2. */
  ['nw_tos', 8],
  ['nw_ecn', 2],
  ['nw_ttl', 8],
  /** Bit 0: a fragment; bit 1: a later fragment (not the first). */
  ['nw_frag', 2],
  ['tp_src', 16],
  ['tp_dst', 16],
  ['tcp_flags', 12],
  ['icmp_type', 8],
  ['icmp_code', 8],
  ['arp_op', 16],
  ['arp_spa', 32],
  ['arp_tpa', 32],
  ['arp_sha', 48],
  ['arp_tha', 48],
  ['nd_target', 128],
  ['nd_sll', 48],
  ['nd_tll', 48],
];

function buildFields(): { byName: Map<string, FieldDef>; list: FieldDef[]; words: number } {
  const byName = new Map<string, FieldDef>();
  const list: FieldDef[] = [];
  let word = 0;
  for (const [name, bits] of LAYOUT) {
    const words = Math.ceil(bits / 32);
    const def: FieldDef = { name, word, bits, words };
    byName.set(name, def);
    list.push(def);
    word += words;
  }
  return { byName, list, words: word };
}

const built = buildFields();

/** Every field, in key order. */
export const FIELDS: readonly FieldDef[] = built.list;
/** The number of 32-bit words in a flow key. */
export const KEY_WORDS: number = built.words;

/** The definition of field `name`; throws for an unknown name. */
export function field(name: string): FieldDef {
  const f = built.byName.get(name);
  if (!f) throw new Error(`unknown field ${name}`);
  return f;
}

export function hasField(name: string): boolean {
  return built.byName.has(name);
}

export type FlowKey = Uint32Array;

export function newKey(): FlowKey {
  return new Uint32Array(KEY_WORDS);
}

/** Bits of a field as a bigint (any width). */
export function getBits(key: FlowKey, f: FieldDef): bigint {
  let v = 0n;
  for (let i = 0; i < f.words; i++) v = (v << 32n) | BigInt(key[f.word + i]!);
  return v;
}

/** Stores `value` (truncated to the field's width) into the field. */
export function setBits(key: FlowKey, f: FieldDef, value: bigint): void {
  const masked = f.bits >= 128 ? value & ((1n << 128n) - 1n) : value & ((1n << BigInt(f.bits)) - 1n);
  for (let i = f.words - 1, v = masked; i >= 0; i--, v >>= 32n) key[f.word + i] = Number(v & 0xffffffffn);
}

/** Fast path for fields of at most 32 bits: the field's word, read as an unsigned number. */
export function getWord(key: FlowKey, f: FieldDef): number {
  return key[f.word]! >>> 0;
}

/** Fast path for fields of at most 32 bits. */
export function setWord(key: FlowKey, f: FieldDef, value: number): void {
  key[f.word] = f.bits === 32 ? value >>> 0 : (value >>> 0) & ((1 << f.bits) - 1);
}
