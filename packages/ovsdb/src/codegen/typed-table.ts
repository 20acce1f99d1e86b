/**
 * A typed view of one IDL table: the replica's rows as a generated model's row type. Rows are
 * converted on first read and memoized per replica row (replica rows are immutable), so
 * iterating twice costs one conversion per changed row.
 *
 *   const switches = typedTable(idl, Nb.tables.Logical_Switch);
 *   for (const ls of switches) ls.ports;              // readonly Uuid[]
 */
import { changeKind, type ChangeKind, type IdlRowChange } from '../client/idl/changes.js';
import type { Idl } from '../client/idl/idl.js';
import type { IdlRow } from '../client/idl/row.js';
import type { TableModel, TypedRow } from './runtime.js';

export interface TypedChange<R> {
  readonly kind: ChangeKind;
  readonly uuid: string;
  readonly old: R | null;
  readonly new: R | null;
}

export class TypedTable<R extends TypedRow> implements Iterable<R> {
  constructor(
    readonly idl: Idl,
    readonly model: TableModel<R>,
  ) {
    if (idl.database !== model.database) throw new Error(`model of ${model.database}.${model.name} used with an IDL of ${idl.database}`);
  }

  get name(): string {
    return this.model.name;
  }

  /** Number of rows replicated (0 before the first sync). */
  get size(): number {
    return this.idl.table(this.model.name)?.size ?? 0;
  }

  get(uuid: string): R | undefined {
    const row = this.idl.get(this.model.name, uuid);
    return row === undefined ? undefined : this.model.fromIdlRow(row);
  }

  *[Symbol.iterator](): Iterator<R> {
    for (const row of this.idl.rows(this.model.name)) yield this.model.fromIdlRow(row);
  }

  /** The rows as an array (a snapshot). */
  rows(): R[] {
    return [...this];
  }

  /** A replica row of this table (from an index, a change, idl.get) in typed form. */
  of(row: IdlRow): R {
    if (row.table.name !== this.model.name) throw new Error(`row of ${row.table.name} given to the typed view of ${this.model.name}`);
    return this.model.fromIdlRow(row);
  }

  /** This table's changes among `changes` (a change batch or takeChanges()), typed. */
  changes(changes: Iterable<IdlRowChange>): TypedChange<R>[] {
    const out: TypedChange<R>[] = [];
    for (const c of changes) {
      if (c.table !== this.model.name) continue;
      out.push({
        kind: changeKind(c),
        uuid: c.uuid,
        old: c.old === null ? null : this.model.fromIdlRow(c.old),
        new: c.new === null ? null : this.model.fromIdlRow(c.new),
      });
    }
    return out;
  }
}

/** A typed view of `model`'s table in `idl` (which must replicate that table). */
export function typedTable<R extends TypedRow>(idl: Idl, model: TableModel<R>): TypedTable<R> {
  return new TypedTable(idl, model);
}
