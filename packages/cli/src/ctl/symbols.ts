/**
 * The "@name" row ids of one invocation (OVS's ovsdb_symbol_table): `--id=@name create ...`
 * creates one, `@name` in a value refers to it, and commands may refer before they create.
 */
import type { BaseType } from './ovsdb.js';

export interface RowSymbol {
  readonly name: string;
  uuid: string;
  /** Some --id option created it (create, or get of an existing row). */
  created: boolean;
  strongRef: boolean;
  weakRef: boolean;
}

export class SymbolTable {
  readonly symbols = new Map<string, RowSymbol>();

  get(name: string): RowSymbol | undefined {
    return this.symbols.get(name);
  }

  /** The symbol called `name`, made (with a fresh UUID) on first use. */
  insert(name: string): RowSymbol {
    let s = this.symbols.get(name);
    if (!s) {
      s = { name, uuid: globalThis.crypto.randomUUID(), created: false, strongRef: false, weakRef: false };
      this.symbols.set(name, s);
    }
    return s;
  }

  /** Records that a value of type `base` refers to the symbol. */
  referenced(s: RowSymbol, base: BaseType): void {
    if (base.refTable === undefined) return;
    if (base.refType === 'weak') s.weakRef = true;
    else s.strongRef = true;
  }
}
