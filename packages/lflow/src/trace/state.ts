/**
 * The packet as the tracer carries it: field bits by root field (as lflow's Packet), port names,
 * and what the trace learned on the way (which action synthesized it, DHCP options it carries).
 * States are copied, never shared, where OVN would fork the packet (ct recirculation, clone,
 * multicast copies, patch ports).
 */
import type { FieldRef } from '../ast.js';
import { ones } from '../definitions.js';
import type { Packet } from '../interp.js';
import { ovnSymbols, type SymbolTable } from '../symbols.js';

export type OptionValue = string | string[];

export class PacketState implements Packet {
  constructor(
    readonly bits: Map<string, bigint> = new Map(),
    readonly strings: Map<string, string> = new Map(),
    /** The action that built this packet (`arp`, `icmp4`, `put_dhcp_opts` …), if any. */
    public generated: string | undefined = undefined,
    public options: { readonly column: string; readonly values: Record<string, OptionValue> } | undefined = undefined,
    private readonly symtab: SymbolTable = ovnSymbols(),
  ) {}

  copy(): PacketState {
    return new PacketState(new Map(this.bits), new Map(this.strings), this.generated, this.options, this.symtab);
  }

  /** Value of a field or subfield reference. */
  get(ref: FieldRef): bigint {
    const sym = this.symtab.get(ref.symbol)!;
    return ((this.bits.get(sym.base) ?? 0n) >> BigInt(sym.baseOfs + ref.ofs)) & ones(ref.nBits);
  }

  set(ref: FieldRef, value: bigint): void {
    const sym = this.symtab.get(ref.symbol)!;
    const shift = BigInt(sym.baseOfs + ref.ofs);
    const mask = ones(ref.nBits) << shift;
    const old = this.bits.get(sym.base) ?? 0n;
    this.bits.set(sym.base, (old & ~mask) | ((value << shift) & mask));
  }

  /** Value of a whole named field ("eth.src", "reg0", "ct_state"). */
  field(name: string): bigint {
    return this.get(refOf(name, this.symtab));
  }

  setField(name: string, value: bigint): void {
    this.set(refOf(name, this.symtab), value);
  }

  str(name: string): string {
    return this.strings.get(name) ?? '';
  }

  setStr(name: string, value: string): void {
    this.strings.set(name, value);
  }
}

const refCache = new Map<string, FieldRef>();

/** A whole-field reference by name. */
export function refOf(name: string, symtab: SymbolTable = ovnSymbols()): FieldRef {
  let r = refCache.get(name);
  if (!r) {
    const sym = symtab.get(name);
    if (!sym) throw new Error(`unknown field ${name}`);
    r = { symbol: name, ofs: 0, nBits: sym.width, subscript: false };
    refCache.set(name, r);
  }
  return r;
}

// Text forms of values, as the fate format and ovn-trace print them.

export function macText(v: bigint): string {
  return Array.from({ length: 6 }, (_, i) => ((v >> BigInt(8 * (5 - i))) & 0xffn).toString(16).padStart(2, '0')).join(':');
}

export function ip4Text(v: bigint): string {
  return Array.from({ length: 4 }, (_, i) => ((v >> BigInt(8 * (3 - i))) & 0xffn).toString()).join('.');
}

/** RFC 5952 canonical text of an IPv6 address. */
export function ip6Text(v: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(16 * (7 - i))) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]): string => g.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}
