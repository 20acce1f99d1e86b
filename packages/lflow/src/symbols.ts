/**
 * The symbol table of OVN logical-flow fields (ovn-sb(5), "Logical_Flow" table, match syntax),
 * as ovn-controller 23.03 knows it. Four kinds of symbol:
 *   - field:     a packet or metadata field of `width` bits (an OpenFlow field in the end);
 *   - string:    inport/outport, compared with port names (width 0);
 *   - subfield:  a named bit range of another symbol (reg0 is xxreg0[96..127], ct.est is ct_state[1]);
 *   - predicate: a name for a Boolean expression (ip4 is `eth.type == 0x800`).
 * A field's level decides which operators apply: `nominal` fields (those OpenFlow cannot mask,
 * and the string fields) allow only equality tests; `ordinal` ones allow ordering and masks.
 */
import { Lexer } from './lexer.js';

export type Level = 'nominal' | 'boolean' | 'ordinal';
export type SymbolKind = 'field' | 'string' | 'subfield' | 'predicate';

export interface FieldSymbol {
  readonly name: string;
  readonly kind: SymbolKind;
  /** Bits; 0 for string fields, 1 for predicates. */
  readonly width: number;
  readonly level: Level;
  /** An expression that must hold whenever this symbol is tested (e.g. `tcp` for tcp.dst). */
  readonly prereqs: string | undefined;
  /** Subfields: the symbol they are a bit range of, and the offset of their lowest bit there. */
  readonly parent: string | undefined;
  readonly ofs: number;
  /** Predicates: their definition. */
  readonly expansion: string | undefined;
  /** The root field holding this symbol's bits (itself for fields), and the offset there. */
  readonly base: string;
  readonly baseOfs: number;
}

/** Field definitions: name, width, maskable (ordinal) or not (nominal), prerequisites. */
type FieldDef = readonly [name: string, width: number, level: 'nominal' | 'ordinal', prereqs?: string];
/** Subfield definitions: name, parent, low bit, high bit, prerequisites. */
type SubDef = readonly [name: string, parent: string, lo: number, hi: number, prereqs?: string];
/** Predicate definitions: name, expansion. */
type PredDef = readonly [name: string, expansion: string];

/** OVN keeps ten logical registers (reg0..reg9); reg10 and up hold flags, zones and ports. */
const N_LOG_REGS = 10;

const FIELDS: FieldDef[] = [
  ['flags', 32, 'ordinal'],
  ['ct_mark', 32, 'ordinal'],
  ['ct_label', 128, 'ordinal'],
  ['ct_state', 32, 'ordinal'],
  ['eth.src', 48, 'ordinal'],
  ['eth.dst', 48, 'ordinal'],
  ['eth.type', 16, 'nominal'],
  ['vlan.tci', 16, 'ordinal'],
  ['ip.proto', 8, 'nominal', 'ip'],
  ['ip.dscp', 6, 'nominal', 'ip'],
  ['ip.ecn', 2, 'nominal', 'ip'],
  ['ip.ttl', 8, 'nominal', 'ip'],
  ['ip.frag', 2, 'ordinal', 'ip'],
  ['ip4.src', 32, 'ordinal', 'ip4'],
  ['ip4.dst', 32, 'ordinal', 'ip4'],
  ['icmp4.type', 8, 'nominal', 'icmp4'],
  ['icmp4.code', 8, 'nominal', 'icmp4'],
  ['ip6.src', 128, 'ordinal', 'ip6'],
  ['ip6.dst', 128, 'ordinal', 'ip6'],
  ['ip6.label', 20, 'ordinal', 'ip6'],
  ['icmp6.type', 8, 'nominal', 'icmp6'],
  ['icmp6.code', 8, 'nominal', 'icmp6'],
  ['arp.op', 16, 'nominal', 'arp'],
  ['arp.spa', 32, 'ordinal', 'arp'],
  ['arp.sha', 48, 'ordinal', 'arp'],
  ['arp.tpa', 32, 'ordinal', 'arp'],
  ['arp.tha', 48, 'ordinal', 'arp'],
  ['nd.target', 128, 'ordinal', 'nd'],
  ['nd.sll', 48, 'ordinal', 'nd_ns'],
  ['nd.tll', 48, 'ordinal', 'nd_na'],
  ['tcp.src', 16, 'ordinal', 'tcp'],
  ['tcp.dst', 16, 'ordinal', 'tcp'],
  ['tcp.flags', 12, 'ordinal', 'tcp'],
  ['udp.src', 16, 'ordinal', 'udp'],
  ['udp.dst', 16, 'ordinal', 'udp'],
  ['sctp.src', 16, 'ordinal', 'sctp'],
  ['sctp.dst', 16, 'ordinal', 'sctp'],
  ['pkt.mark', 32, 'ordinal'],
];

/**
 * RARP uses ARP's OpenFlow fields under its own prerequisite: separate fields (not subfields,
 * which would inherit `arp` as a prerequisite) stored in the ARP fields' bits.
 */
const RARP_FIELDS: FieldDef[] = [
  ['rarp.op', 16, 'nominal', 'rarp'],
  ['rarp.spa', 32, 'ordinal', 'rarp'],
  ['rarp.sha', 48, 'ordinal', 'rarp'],
  ['rarp.tpa', 32, 'ordinal', 'rarp'],
  ['rarp.tha', 48, 'ordinal', 'rarp'],
];

/** ct_state bits (OVS CS_*_BIT); every bit but trk requires ct.trk. */
const CT_BITS: readonly (readonly [string, number])[] = [
  ['new', 0], ['est', 1], ['rel', 2], ['rpl', 3], ['inv', 4], ['trk', 5], ['snat', 6], ['dnat', 7],
];

const SUBFIELDS: SubDef[] = [
  ['flags.loopback', 'flags', 0, 0],
  ['flags.force_snat_for_dnat', 'flags', 2, 2],
  ['flags.force_snat_for_lb', 'flags', 3, 3],
  ['flags.skip_snat_for_lb', 'flags', 9, 9],
  ['flags.use_snat_zone', 'flags', 11, 11],
  ['ct_mark.blocked', 'ct_mark', 0, 0],
  ['ct_mark.natted', 'ct_mark', 1, 1],
  ['ct_mark.skip_snat', 'ct_mark', 2, 2],
  ['ct_mark.force_snat', 'ct_mark', 3, 3],
  ['ct_mark.ecmp_reply_port', 'ct_mark', 16, 31],
  // The ct_label bits older northds used before moving them to ct_mark, still accepted.
  ['ct_label.blocked', 'ct_label', 0, 0],
  ['ct_label.natted', 'ct_label', 1, 1],
  ['ct_label.skip_snat', 'ct_label', 2, 2],
  ['ct_label.force_snat', 'ct_label', 3, 3],
  ['ct_label.ecmp_reply_eth', 'ct_label', 32, 79],
  ['ct_label.ecmp_reply_port', 'ct_label', 80, 95],
  ['ct_label.label', 'ct_label', 96, 127],
  ['eth.mcast', 'eth.dst', 40, 40],
  ['vlan.pcp', 'vlan.tci', 13, 15, 'vlan.present'],
  ['vlan.vid', 'vlan.tci', 0, 11, 'vlan.present'],
];

const PREDICATES: PredDef[] = [
  ['eth.bcast', 'eth.dst == ff:ff:ff:ff:ff:ff'],
  ['eth.mcastv6', 'eth.dst[32..47] == 0x3333'],
  ['vlan.present', 'vlan.tci[12]'],
  ['ip4', 'eth.type == 0x800'],
  ['ip6', 'eth.type == 0x86dd'],
  ['ip', 'ip4 || ip6'],
  ['ip4.src_mcast', 'ip4.src[28..31] == 0xe'],
  ['ip4.mcast', 'eth.mcast && ip4.dst[28..31] == 0xe'],
  ['icmp4', 'ip4 && ip.proto == 1'],
  ['igmp', 'ip4.mcast && ip.proto == 2'],
  ['ip6.mcast_rsvd', 'ip6.dst[116..127] == 0xff0 && ip6.dst[0..111] == 0x0'],
  ['ip6.mcast_all_nodes', 'ip6.dst == ff01::1 || ip6.dst == ff02::1'],
  ['ip6.mcast_all_rtrs', 'ip6.dst == ff01::2 || ip6.dst == ff02::2 || ip6.dst == ff05::2'],
  ['ip6.mcast_sol_node', 'ip6.dst == ff02::1:ff00:0000/104'],
  ['ip6.mcast_flood', 'eth.mcastv6 && (ip6.mcast_rsvd || ip6.mcast_all_nodes || ip6.mcast_all_rtrs || ip6.mcast_sol_node)'],
  ['ip6.mcast', 'eth.mcastv6 && ip6.dst[120..127] == 0xff'],
  ['icmp6', 'ip6 && ip.proto == 58'],
  ['icmp', 'icmp4 || icmp6'],
  ['ip.is_frag', 'ip.frag[0]'],
  ['ip.later_frag', 'ip.frag[1]'],
  ['ip.first_frag', 'ip.is_frag && !ip.later_frag'],
  ['arp', 'eth.type == 0x806'],
  ['rarp', 'eth.type == 0x8035'],
  ['nd', 'icmp6.type == {135, 136} && icmp6.code == 0 && ip.ttl == 255'],
  ['nd_ns', 'icmp6.type == 135 && icmp6.code == 0 && ip.ttl == 255'],
  ['nd_na', 'icmp6.type == 136 && icmp6.code == 0 && ip.ttl == 255'],
  ['nd_rs', 'icmp6.type == 133 && icmp6.code == 0 && ip.ttl == 255'],
  ['nd_ra', 'icmp6.type == 134 && icmp6.code == 0 && ip.ttl == 255'],
  ['mldv1', 'eth.mcastv6 && ip6.src == fe80::/10 && icmp6.type == {130, 131, 132}'],
  ['mldv2', 'eth.mcastv6 && ip6.dst == ff02::16 && icmp6.type == 143'],
  ['tcp', 'ip.proto == 6'],
  ['udp', 'ip.proto == 17'],
  ['sctp', 'ip.proto == 132'],
];

/** A read-only map from names to symbols; build one with `ovnSymbols()` or `new SymbolTable(...)`. */
export class SymbolTable {
  private readonly map = new Map<string, FieldSymbol>();

  get(name: string): FieldSymbol | undefined {
    return this.map.get(name);
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  [Symbol.iterator](): IterableIterator<FieldSymbol> {
    return this.map.values();
  }

  get size(): number {
    return this.map.size;
  }

  /** Adds a field; `storage` names another field whose bits it shares (rarp.op lives in arp.op). */
  addField(name: string, width: number, level: 'nominal' | 'ordinal', prereqs?: string, storage?: string): this {
    const base = storage ?? name;
    this.add({ name, kind: 'field', width, level, prereqs, parent: undefined, ofs: 0, expansion: undefined, base, baseOfs: 0 });
    return this;
  }

  addString(name: string, prereqs?: string): this {
    this.add({ name, kind: 'string', width: 0, level: 'nominal', prereqs, parent: undefined, ofs: 0, expansion: undefined, base: name, baseOfs: 0 });
    return this;
  }

  /** Adds `name` as bits lo..hi of `parent`; it inherits the parent's level. */
  addSubfield(name: string, parent: string, lo: number, hi: number, prereqs?: string): this {
    const p = this.map.get(parent);
    if (!p || p.kind === 'string' || p.kind === 'predicate') throw new Error(`${name}: parent ${parent} is not a field`);
    if (lo > hi || hi >= p.width) throw new Error(`${name}: bits ${lo}..${hi} outside ${parent}`);
    this.add({ name, kind: 'subfield', width: hi - lo + 1, level: p.level, prereqs, parent, ofs: lo, expansion: undefined, base: p.base, baseOfs: p.baseOfs + lo });
    return this;
  }

  /**
   * Adds a predicate. Its level is nominal when its definition tests a nominal field, directly or
   * through other predicates (such predicates may only be tested positively), else Boolean.
   */
  addPredicate(name: string, expansion: string): this {
    let nominal = false;
    const lx = new Lexer(expansion);
    for (let t = lx.next(); t.kind !== 'end'; t = lx.next()) {
      if (t.kind !== 'id') continue;
      const s = this.map.get(t.text);
      if (!s) throw new Error(`${name}: unknown symbol ${t.text} in its definition`);
      if (s.level === 'nominal') nominal = true;
    }
    this.add({ name, kind: 'predicate', width: 1, level: nominal ? 'nominal' : 'boolean', prereqs: undefined, parent: undefined, ofs: 0, expansion, base: name, baseOfs: 0 });
    return this;
  }

  private add(s: FieldSymbol): void {
    if (this.map.has(s.name)) throw new Error(`duplicate symbol ${s.name}`);
    this.map.set(s.name, s);
  }
}

/** The chain of prerequisite expressions of a symbol: its own, then its parent's, and so on. */
export function prereqsOf(symtab: SymbolTable, sym: FieldSymbol): string[] {
  const out: string[] = [];
  for (let s: FieldSymbol | undefined = sym; s; s = s.parent ? symtab.get(s.parent) : undefined) {
    if (s.prereqs) out.push(s.prereqs);
  }
  return out;
}

function buildOvnSymbols(): SymbolTable {
  const t = new SymbolTable();
  t.addString('inport').addString('outport');
  // Registers: xxregN (128 bits) overlap xregN (64) and regN (32), so the narrow ones are
  // subfields of the wide ones; the most significant 32 bits of xxreg0 are reg0.
  const nXx = Math.floor(N_LOG_REGS / 4);
  const nX = Math.floor(N_LOG_REGS / 2);
  for (let i = 0; i < nXx; i++) t.addField(`xxreg${i}`, 128, 'ordinal');
  for (let i = 0; i < nX; i++) {
    if (i >> 1 < nXx) {
      const lo = 64 * (1 - (i % 2));
      t.addSubfield(`xreg${i}`, `xxreg${i >> 1}`, lo, lo + 63);
    } else t.addField(`xreg${i}`, 64, 'ordinal');
  }
  for (let i = 0; i < N_LOG_REGS; i++) {
    if (i >> 2 < nXx) {
      const lo = 32 * (3 - (i % 4));
      t.addSubfield(`reg${i}`, `xxreg${i >> 2}`, lo, lo + 31);
    } else if (i >> 1 < nX) {
      const lo = 32 * (1 - (i % 2));
      t.addSubfield(`reg${i}`, `xreg${i >> 1}`, lo, lo + 31);
    } else t.addField(`reg${i}`, 32, 'ordinal');
  }
  // Fields, predicates and subfields refer to each other, so add them in dependency order:
  // base fields, the ct bits, then alternate predicates and subfields as each becomes resolvable.
  for (const [name, width, level, prereqs] of FIELDS) t.addField(name, width, level, prereqs);
  for (const [name, width, level, prereqs] of RARP_FIELDS) t.addField(name, width, level, prereqs, name.replace('rarp.', 'arp.'));
  for (const [name, bit] of CT_BITS) t.addSubfield(`ct.${name}`, 'ct_state', bit, bit, name === 'trk' ? undefined : 'ct.trk');
  const pending: (SubDef | PredDef)[] = [...SUBFIELDS, ...PREDICATES];
  while (pending.length) {
    const before = pending.length;
    for (let i = 0; i < pending.length; ) {
      const d = pending[i]!;
      const ready = d.length === 2 ? idsOf(d[1]).every((id) => t.has(id)) : t.has(d[1]);
      if (!ready) {
        i++;
        continue;
      }
      if (d.length === 2) t.addPredicate(d[0], d[1]);
      else t.addSubfield(d[0], d[1], d[2], d[3], d[4]);
      pending.splice(i, 1);
    }
    if (pending.length === before) throw new Error(`unresolvable symbols: ${pending.map((d) => d[0]).join(', ')}`);
  }
  return t;
}

function idsOf(expansion: string): string[] {
  const out: string[] = [];
  const lx = new Lexer(expansion);
  for (let t = lx.next(); t.kind !== 'end'; t = lx.next()) if (t.kind === 'id') out.push(t.text);
  return out;
}

let ovn: SymbolTable | undefined;

/** OVN's logical-flow symbol table (shared, built on first use). */
export function ovnSymbols(): SymbolTable {
  return (ovn ??= buildOvnSymbols());
}
