/**
 * What the compute core reads: the Northbound database and the parts of the Southbound database
 * northd must respect (existing tunnel keys, chassis, learnt bindings), as typed rows by UUID.
 * Both come from an IDL replica in the daemon and from database dumps in tests.
 */
import { Nb, Sb, type RowJson } from '@ovnts/ovsdb';

export type Rows<R> = ReadonlyMap<string, R>;
export type NbTables = { readonly [K in Nb.TableName]: Rows<Nb.Tables[K]> };
export type SbTables = { readonly [K in Sb.TableName]: Rows<Sb.Tables[K]> };

export interface NorthdInput {
  readonly nb: NbTables;
  readonly sb: SbTables;
}

type AnyModel = { readonly tables: Record<string, { fromWire(row: RowJson, uuid?: string): { readonly _uuid: string } }> };

function tablesFromDump<T>(model: AnyModel, dump: Readonly<Record<string, readonly RowJson[]>>): T {
  const out: Record<string, Map<string, unknown>> = {};
  for (const [name, tm] of Object.entries(model.tables)) {
    const m = new Map<string, unknown>();
    for (const row of dump[name] ?? []) {
      const r = tm.fromWire(row);
      m.set(r._uuid, r);
    }
    out[name] = m;
  }
  return out as T;
}

/** NB tables from wire rows (e.g. a `select` of every table). Missing tables are empty. */
export function nbFromDump(dump: Readonly<Record<string, readonly RowJson[]>>): NbTables {
  return tablesFromDump<NbTables>(Nb as unknown as AnyModel, dump);
}

/** SB tables from wire rows. Missing tables are empty. */
export function sbFromDump(dump: Readonly<Record<string, readonly RowJson[]>>): SbTables {
  return tablesFromDump<SbTables>(Sb as unknown as AnyModel, dump);
}

/** Empty tables for every table of a model. */
export function emptySb(): SbTables {
  return sbFromDump({});
}

export function emptyNb(): NbTables {
  return nbFromDump({});
}
