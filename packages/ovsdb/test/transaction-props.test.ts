/**
 * Property tests for the transaction engine: random transactions run against the engine and
 * against a small reference model written here from RFC 7047 and ovsdb-server's documented
 * behaviour (plain objects, commit checks recomputed from scratch), and, when Debian's
 * ovsdb-server is installed, against the real server too.
 */
import t from 'tap';
import fc from 'fast-check';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Database,
  Transaction,
  compareAtoms,
  datumToJson,
  indexKey,
  parseSchema,
  rowRefs,
  type Atom,
  type ColumnSchema,
  type Datum,
  type MapDatum,
  type Pair,
  type SetDatum,
  type TableSchema,
} from '../src/index.js';
import { RealOvsdb, realOvsdbMissing } from './real-ovsdb.js';

const NUM_RUNS = 120;
const REAL_RUNS = 40;

const SCHEMA_JSON = {
  name: 'P',
  version: '1.0.0',
  tables: {
    R: {
      isRoot: true,
      maxRows: 4,
      indexes: [['name']],
      columns: {
        name: { type: 'string' },
        n: { type: { key: { type: 'integer', minInteger: 0, maxInteger: 9 } } },
        opt: { type: { key: 'integer', min: 0, max: 1 } },
        tags: { type: { key: { type: 'string', enum: ['set', ['a', 'b', 'c', 'd']] }, min: 0, max: 3 } },
        kv: { type: { key: { type: 'string', enum: ['set', ['k1', 'k2', 'k3']] }, value: 'integer', min: 0, max: 'unlimited' } },
        kids: { type: { key: { type: 'uuid', refTable: 'C' }, min: 0, max: 'unlimited' } },
        fav: { type: { key: { type: 'uuid', refTable: 'C', refType: 'weak' }, min: 0, max: 1 } },
        imm: { type: 'string', mutable: false },
      },
    },
    C: {
      columns: {
        label: { type: 'string' },
        next: { type: { key: { type: 'uuid', refTable: 'C' }, min: 0, max: 1 } },
        links: { type: { key: { type: 'string', enum: ['set', ['p', 'q']] }, value: { type: 'uuid', refTable: 'C', refType: 'weak' }, min: 0, max: 'unlimited' } },
        owner: { type: { key: { type: 'uuid', refTable: 'R', refType: 'weak' }, min: 0, max: 1 } },
      },
    },
    W: {
      isRoot: true,
      columns: {
        must: { type: { key: { type: 'uuid', refTable: 'R', refType: 'weak' } } },
        e: { type: { key: { type: 'string', enum: ['set', ['x', 'y']] } } },
        hold: { type: { key: 'string', value: { type: 'uuid', refTable: 'C' }, min: 0, max: 2 } },
      },
    },
  },
} as const;
const schema = parseSchema(SCHEMA_JSON);
const TABLES = ['R', 'C', 'W'] as const;
type TName = (typeof TABLES)[number];
const ts = (name: string): TableSchema => schema.tables.get(name)!;

const poolUuid = (table: TName, i: number) => `${{ R: 'aaaaaaaa', C: 'cccccccc', W: 'eeeeeeee' }[table]}-0000-4000-8000-00000000000${i}`;
const POOL: Record<TName, string[]> = {
  R: [0, 1, 2, 3, 4].map((i) => poolUuid('R', i)),
  C: [0, 1, 2, 3, 4, 5].map((i) => poolUuid('C', i)),
  W: [0, 1, 2].map((i) => poolUuid('W', i)),
};
const POOLED = new Set(Object.values(POOL).flat());
/** uuid-names per table, so that a named reference always means a row of the right table. */
const NAMES: Record<TName, string[]> = { R: ['r1', 'r2'], C: ['c1', 'c2', 'c3'], W: ['w1'] };

// --- generators ------------------------------------------------------------------------------

type J = unknown;

/**
 * A reference to a row of `table`: by UUID, by uuid-name, or (rarely) to a row of another table.
 * The wrong-table UUIDs come from a table the referring row cannot be in, so they are never the
 * row's own UUID (ovsdb-server wrongly accepts that case; see transaction-ops.test.ts).
 */
const refJson = (table: TName, from: TName): fc.Arbitrary<J> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...POOL[table]).map((u) => ['uuid', u]) },
    { weight: 1, arbitrary: fc.constantFrom(...POOL[([...TABLES] as TName[]).find((x) => x !== table && x !== from)!]).map((u) => ['uuid', u]) },
    { weight: 3, arbitrary: fc.constantFrom(...NAMES[table]).map((n) => ['named-uuid', n]) },
  );
/** A set, sometimes written as its only atom. */
const setJson = (elem: fc.Arbitrary<J>, maxLength: number): fc.Arbitrary<J> =>
  fc.tuple(fc.uniqueArray(elem, { maxLength, selector: (x) => JSON.stringify(x) }), fc.boolean()).map(([a, bare]) => (a.length === 1 && bare ? a[0] : ['set', a]));
const mapJson = (k: fc.Arbitrary<J>, v: fc.Arbitrary<J>, maxLength: number): fc.Arbitrary<J> =>
  fc.uniqueArray(fc.tuple(k, v), { maxLength, selector: (p) => JSON.stringify(p[0]) }).map((ps) => ['map', ps]);

const nJson = fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 9 }) }, { weight: 1, arbitrary: fc.constantFrom(-1, 10) });
const tagJson = fc.oneof({ weight: 12, arbitrary: fc.constantFrom('a', 'b', 'c', 'd') }, { weight: 1, arbitrary: fc.constant('zz') });
const kJson = fc.constantFrom('k1', 'k2', 'k3');

/** Values for each column; at most a few are invalid (out of range, not in the enum, too many). */
const VALUES: Record<TName, Record<string, fc.Arbitrary<J>>> = {
  R: {
    name: fc.constantFrom('a', 'b', 'c', 'd'),
    n: nJson,
    opt: setJson(fc.integer({ min: -2, max: 2 }), 1),
    tags: setJson(tagJson, 4),
    kv: mapJson(kJson, fc.integer({ min: -1, max: 2 }), 3),
    kids: setJson(refJson('C', 'R'), 3),
    fav: setJson(refJson('C', 'R'), 1),
    imm: fc.constantFrom('i', 'j'),
  },
  C: {
    label: fc.constantFrom('x', 'y', 'z'),
    next: setJson(refJson('C', 'C'), 1),
    links: mapJson(fc.constantFrom('p', 'q'), refJson('C', 'C'), 2),
    owner: setJson(refJson('R', 'C'), 1),
  },
  W: {
    must: refJson('R', 'W'),
    e: fc.oneof({ weight: 5, arbitrary: fc.constantFrom('x', 'y') }, { weight: 1, arbitrary: fc.constant('w') }),
    hold: mapJson(fc.constantFrom('h1', 'h2', 'h3'), refJson('C', 'W'), 3),
  },
};

const rowJson = (table: TName, columns: readonly string[]): fc.Arbitrary<Record<string, J>> =>
  fc.subarray([...columns]).chain((cols) =>
    fc.record(Object.fromEntries(cols.map((c) => [c, VALUES[table][c]!])) as Record<string, fc.Arbitrary<J>>),
  );

const CLAUSES: Record<TName, fc.Arbitrary<J>[]> = {
  R: [
    fc.tuple(fc.constantFrom('==', '!='), fc.constantFrom('a', 'b', 'c', 'd')).map(([f, v]) => ['name', f, v]),
    fc.tuple(fc.constantFrom('<', '<=', '>', '>=', '==', '!='), fc.integer({ min: 0, max: 9 })).map(([f, v]) => ['n', f, v]),
    fc.tuple(fc.constantFrom('includes', 'excludes'), fc.constantFrom('a', 'b', 'c', 'd')).map(([f, v]) => ['tags', f, v]),
    fc.tuple(fc.constantFrom('<', '>='), fc.integer({ min: -1, max: 1 })).map(([f, v]) => ['opt', f, v]),
    fc.tuple(fc.constantFrom('==', '!='), fc.constantFrom(...POOL.R)).map(([f, u]) => ['_uuid', f, ['uuid', u]]),
  ],
  C: [
    fc.tuple(fc.constantFrom('==', '!='), fc.constantFrom('x', 'y', 'z')).map(([f, v]) => ['label', f, v]),
    fc.tuple(fc.constantFrom('==', '!='), fc.constantFrom(...POOL.C)).map(([f, u]) => ['_uuid', f, ['uuid', u]]),
  ],
  W: [
    fc.tuple(fc.constantFrom('==', '!='), fc.constantFrom('x', 'y')).map(([f, v]) => ['e', f, v]),
    fc.tuple(fc.constantFrom('==', '!='), fc.constantFrom(...POOL.W)).map(([f, u]) => ['_uuid', f, ['uuid', u]]),
  ],
};
const whereJson = (table: TName) => fc.array(fc.oneof(...CLAUSES[table]), { maxLength: 2 });

const MUTATIONS: Record<TName, fc.Arbitrary<J>[]> = {
  R: [
    fc.tuple(fc.constantFrom('+=', '-=', '*=', '/=', '%='), fc.integer({ min: -2, max: 3 })).map(([m, v]) => ['n', m, v]),
    fc.tuple(fc.constantFrom('+=', '*=', '/='), fc.integer({ min: -1, max: 2 })).map(([m, v]) => ['opt', m, v]),
    fc.tuple(fc.constantFrom('insert', 'delete'), setJson(fc.integer({ min: -1, max: 1 }), 1)).map(([m, v]) => ['opt', m, v]),
    fc.tuple(fc.constantFrom('insert', 'delete'), setJson(tagJson, 3)).map(([m, v]) => ['tags', m, v]),
    fc.tuple(fc.constant('insert'), mapJson(kJson, fc.integer({ min: 0, max: 2 }), 2)).map(([m, v]) => ['kv', m, v]),
    fc.tuple(fc.constant('delete'), fc.oneof(mapJson(kJson, fc.integer({ min: 0, max: 2 }), 2), setJson(kJson, 2))).map(([m, v]) => ['kv', m, v]),
    fc.tuple(fc.constantFrom('insert', 'delete'), setJson(refJson('C', 'R'), 2)).map(([m, v]) => ['kids', m, v]),
    fc.constant(['imm', 'insert', 'q']),
  ],
  C: [
    fc.tuple(fc.constantFrom('insert', 'delete'), mapJson(fc.constantFrom('p', 'q'), refJson('C', 'C'), 2)).map(([m, v]) => ['links', m, v]),
    fc.tuple(fc.constantFrom('insert', 'delete'), setJson(refJson('C', 'C'), 1)).map(([m, v]) => ['next', m, v]),
  ],
  W: [fc.tuple(fc.constantFrom('insert', 'delete'), mapJson(fc.constantFrom('h1', 'h2', 'h3'), refJson('C', 'W'), 2)).map(([m, v]) => ['hold', m, v])],
};

const MUTABLE: Record<TName, string[]> = { R: ['name', 'n', 'opt', 'tags', 'kv', 'kids', 'fav'], C: ['label', 'next', 'links', 'owner'], W: ['must', 'e', 'hold'] };

const tableArb = fc.constantFrom<TName>('R', 'R', 'C', 'C', 'W');
const opArb: fc.Arbitrary<J> = fc.oneof(
  {
    weight: 6,
    arbitrary: tableArb.chain((table) =>
      fc.record(
        {
          op: fc.constant('insert'),
          table: fc.constant(table),
          uuid: fc.constantFrom(...POOL[table]),
          'uuid-name': fc.constantFrom(...NAMES[table]),
          row: rowJson(table, Object.keys(VALUES[table])),
        },
        { requiredKeys: ['op', 'table', 'uuid', 'row'] },
      ),
    ),
  },
  {
    weight: 3,
    arbitrary: tableArb.chain((table) =>
      fc.record({
        op: fc.constant('update'),
        table: fc.constant(table),
        where: whereJson(table),
        row: fc.oneof({ weight: 19, arbitrary: rowJson(table, MUTABLE[table]) }, { weight: 1, arbitrary: rowJson(table, [...MUTABLE[table], ...(table === 'R' ? ['imm'] : [])]) }),
      }),
    ),
  },
  {
    weight: 4,
    arbitrary: tableArb.chain((table) =>
      fc.record({ op: fc.constant('mutate'), table: fc.constant(table), where: whereJson(table), mutations: fc.array(fc.oneof(...MUTATIONS[table]), { minLength: 1, maxLength: 2 }) }),
    ),
  },
  { weight: 3, arbitrary: tableArb.chain((table) => fc.record({ op: fc.constant('delete'), table: fc.constant(table), where: whereJson(table) })) },
  {
    weight: 3,
    arbitrary: tableArb.chain((table) =>
      fc.record({ op: fc.constant('select'), table: fc.constant(table), where: whereJson(table), columns: fc.subarray(['_uuid', ...Object.keys(VALUES[table])], { minLength: 1 }) }),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('wait'),
      table: fc.constant('R'),
      where: whereJson('R'),
      columns: fc.constantFrom(['n'], ['name', 'n'], ['tags']),
      until: fc.constantFrom('==', '!='),
      rows: fc.array(fc.record({ n: fc.integer({ min: 0, max: 2 }), name: fc.constantFrom('a', 'b') }, { requiredKeys: [] }), { maxLength: 2 }),
      timeout: fc.constant(0),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'comment', comment: 'hello' }) },
  { weight: 1, arbitrary: fc.constant({ op: 'abort' }) },
);

/** Inserts a chain of child rows and hangs it from a root row, so that non-root rows survive. */
const treeArb: fc.Arbitrary<J[]> = fc
  .record({
    c1: fc.constantFrom(...POOL.C),
    c2: fc.constantFrom(...POOL.C),
    label: VALUES.C['label']!,
    links: VALUES.C['links']!,
    owner: VALUES.C['owner']!,
    second: fc.boolean(),
    root: fc.constantFrom('insertR', 'updateR', 'mutateR', 'insertW'),
    r: fc.constantFrom(...POOL.R),
    w: fc.constantFrom(...POOL.W),
    name: VALUES.R['name']!,
    must: VALUES.W['must']!,
  })
  .map((g) => {
    const ops: J[] = [{ op: 'insert', table: 'C', uuid: g.c1, 'uuid-name': 'c1', row: { label: g.label, links: g.links, owner: g.owner } }];
    if (g.second) ops.push({ op: 'insert', table: 'C', uuid: g.c2, 'uuid-name': 'c2', row: { label: 'y', next: ['named-uuid', 'c1'] } });
    const top = ['named-uuid', g.second ? 'c2' : 'c1'];
    if (g.root === 'insertR') ops.push({ op: 'insert', table: 'R', uuid: g.r, row: { name: g.name, kids: top, fav: ['named-uuid', 'c1'] } });
    else if (g.root === 'updateR') ops.push({ op: 'update', table: 'R', where: [['name', '==', g.name]], row: { kids: top } });
    else if (g.root === 'mutateR') ops.push({ op: 'mutate', table: 'R', where: [['_uuid', '==', ['uuid', g.r]]], mutations: [['kids', 'insert', top]] });
    else ops.push({ op: 'insert', table: 'W', uuid: g.w, row: { e: 'x', must: g.must, hold: ['map', [['h1', top]]] } });
    return ops;
  });

const txnArb = fc
  .array(fc.oneof({ weight: 3, arbitrary: opArb.map((op) => [op]) }, { weight: 2, arbitrary: treeArb }), { minLength: 1, maxLength: 3 })
  // Each tree gets its own uuid-names (c1 → c1g0, …), so trees in one transaction don't collide.
  .map((groups) => groups.flatMap((ops, i) => (ops.length > 1 ? (JSON.parse(JSON.stringify(ops).replace(/"(c[12])"/g, `"$1g${i}"`)) as J[]) : ops)));
const txnsArb = fc.array(txnArb, { minLength: 1, maxLength: 7 });

// --- the reference model -----------------------------------------------------------------------

/** A row: column name → value, each value a sorted array of atoms or of [key, value] pairs. */
type MRow = Record<string, Datum>;
type MState = Record<TName, Map<string, MRow>>;

class ModelError {
  /** Any of these error tags is acceptable (rows are visited in no particular order). */
  constructor(readonly tags: Set<string>) {}
}
const merr = (tag: string) => new ModelError(new Set([tag]));

const cloneState = (s: MState): MState => ({ R: new Map(s.R), C: new Map(s.C), W: new Map(s.W) });
const emptyState = (): MState => ({ R: new Map(), C: new Map(), W: new Map() });

const ENUMS: Record<string, readonly Atom[]> = { tags: ['a', 'b', 'c', 'd'], kv: ['k1', 'k2', 'k3'], links: ['p', 'q'], e: ['x', 'y'] };
const MAXES: Record<string, number> = { opt: 1, tags: 3, fav: 1, next: 1, owner: 1, hold: 2 };
const DEFAULTS: Record<TName, MRow> = {
  R: { name: [''], n: [0], opt: [], tags: [], kv: [], kids: [], fav: [], imm: [''] },
  C: { label: [''], next: [], links: [], owner: [] },
  W: { must: ['00000000-0000-0000-0000-000000000000'], e: [''], hold: [] },
};
/** Strong and weak reference columns: [table, column, target table, where in the datum]. */
const REFS: [TName, string, TName, 'key' | 'value', 'strong' | 'weak'][] = [
  ['R', 'kids', 'C', 'key', 'strong'],
  ['R', 'fav', 'C', 'key', 'weak'],
  ['C', 'next', 'C', 'key', 'strong'],
  ['C', 'links', 'C', 'value', 'weak'],
  ['C', 'owner', 'R', 'key', 'weak'],
  ['W', 'must', 'R', 'key', 'weak'],
  ['W', 'hold', 'C', 'value', 'strong'],
];
const isMapCol = (c: string) => c === 'kv' || c === 'links' || c === 'hold';

const sortSet = (a: Atom[]): Atom[] => [...a].sort(compareAtoms);
const sortMap = (a: Pair[]): Pair[] => [...a].sort((x, y) => compareAtoms(x[0], y[0]));

class ModelTxn {
  readonly state: MState;
  readonly symbols = new Map<string, { uuid: string; defined: boolean }>();
  private dangling = 0;
  constructor(private readonly committed: MState) {
    this.state = cloneState(committed);
  }

  resolveUuid(j: J): Atom {
    const [kind, v] = j as [string, string];
    if (kind === 'uuid') return v;
    let s = this.symbols.get(v);
    if (!s) this.symbols.set(v, (s = { uuid: `dangling-${v}-${this.dangling++}`, defined: false }));
    return s.uuid;
  }

  /** Parses a generated value; throws ModelError for the invalid ones the generators make. */
  value(table: TName, col: string, j: J, sizeCheck = true): Datum {
    const refCol = REFS.find((r) => r[0] === table && r[1] === col);
    const atom = (x: J, isValue: boolean): Atom => {
      if (refCol && (refCol[3] === 'value') === isValue) return this.resolveUuid(x);
      return x as Atom;
    };
    let d: Datum;
    if (isMapCol(col)) {
      const pairs = (j as [string, J[]])[1] as [J, J][];
      if (sizeCheck && pairs.length > (MAXES[col] ?? Infinity)) throw merr('syntax error');
      d = sortMap(pairs.map((p): Pair => [atom(p[0], false), atom(p[1], true)]));
    } else {
      const elems = Array.isArray(j) && j[0] === 'set' ? (j[1] as J[]) : [j];
      const max = MAXES[col] ?? (['name', 'n', 'imm', 'label', 'must', 'e'].includes(col) ? 1 : Infinity);
      if (sizeCheck && elems.length > max) throw merr('syntax error');
      d = sortSet(elems.map((x) => atom(x, false)));
    }
    this.checkAtoms(col, d);
    // Two spellings of one UUID (a named-uuid and its explicit value) make a duplicate.
    const keys = d.map((x) => JSON.stringify(isMapCol(col) ? (x as Pair)[0] : x));
    if (new Set(keys).size !== keys.length) throw merr('ovsdb error');
    return d;
  }

  checkAtoms(col: string, d: Datum): void {
    for (const x of d) {
      const key = isMapCol(col) ? (x as Pair)[0] : (x as Atom);
      if (col === 'n' && ((key as number) < 0 || (key as number) > 9)) throw merr('constraint violation');
      if (ENUMS[col] && !ENUMS[col]!.includes(key)) throw merr('constraint violation');
    }
  }

  matches(table: TName, where: J[]): [string, MRow][] {
    return [...this.state[table]].filter(([uuid, row]) =>
      (where as [string, string, J][]).every(([col, fn, arg]) => {
        const v: Datum = col === '_uuid' ? [uuid] : row[col]!;
        const a: Datum = col === '_uuid' ? [(arg as [string, string])[1]] : Array.isArray(arg) && arg[0] === 'set' ? (arg[1] as Atom[]) : [arg as Atom];
        switch (fn) {
          case '==':
            return JSON.stringify(v) === JSON.stringify(sortSet(a as Atom[]));
          case '!=':
            return JSON.stringify(v) !== JSON.stringify(sortSet(a as Atom[]));
          case 'includes':
            return (a as Atom[]).every((x) => (v as Atom[]).includes(x));
          case 'excludes':
            return (a as Atom[]).every((x) => !(v as Atom[]).includes(x));
          default: {
            if (v.length !== 1) return false;
            const x = v[0] as number;
            const y = a[0] as number;
            return fn === '<' ? x < y : fn === '<=' ? x <= y : fn === '>' ? x > y : x >= y;
          }
        }
      }),
    );
  }

  op(o: Record<string, J>): J {
    const table = o['table'] as TName;
    switch (o['op']) {
      case 'insert': {
        const uuid = o['uuid'] as string;
        if (TABLES.some((tn) => this.state[tn].has(uuid) || this.committed[tn].has(uuid))) throw merr('duplicate uuid');
        const name = o['uuid-name'] as string | undefined;
        if (name !== undefined) {
          let s = this.symbols.get(name);
          if (!s) this.symbols.set(name, (s = { uuid, defined: false }));
          if (s.defined) throw merr('duplicate uuid-name');
          s.uuid = uuid;
          s.defined = true;
        }
        const row: MRow = { ...DEFAULTS[table] };
        for (const [c, v] of Object.entries(o['row'] as Record<string, J>)) row[c] = this.value(table, c, v);
        if (table === 'W' && !ENUMS['e']!.includes(row['e']![0] as Atom)) throw merr('constraint violation');
        this.state[table].set(uuid, row);
        return { uuid: ['uuid', uuid] };
      }
      case 'update': {
        const given = Object.entries(o['row'] as Record<string, J>).map(([c, v]) => [c, this.value(table, c, v)] as const);
        if (given.some(([c]) => c === 'imm')) throw merr('constraint violation');
        const m = this.matches(table, o['where'] as J[]);
        for (const [uuid, row] of m) this.state[table].set(uuid, { ...row, ...Object.fromEntries(given) });
        return { count: m.length };
      }
      case 'mutate': {
        const muts = (o['mutations'] as [string, string, J][]).map(([c, m, arg]) => {
          if (c === 'imm') throw merr('constraint violation');
          if (m === 'insert' || m === 'delete') {
            // A map's delete takes a map or a set of keys; other operands are sets up to the column's max (insert).
            if (isMapCol(c) && !(Array.isArray(arg) && arg[0] === 'map')) {
              return { c, m, keys: Array.isArray(arg) && arg[0] === 'set' ? (arg[1] as Atom[]) : [arg as Atom] };
            }
            return { c, m, arg: this.value(table, c, arg, m === 'insert') };
          }
          return { c, m, n: arg as number };
        });
        const m = this.matches(table, o['where'] as J[]);
        const errors = new Set<string>();
        for (const [uuid, row] of m) {
          try {
            const next = { ...row };
            for (const mu of muts) next[mu.c] = this.mutate(mu, next[mu.c]!);
            this.state[table].set(uuid, next);
          } catch (e) {
            if (!(e instanceof ModelError)) throw e;
            for (const tag of e.tags) errors.add(tag);
          }
        }
        if (errors.size > 0) throw new ModelError(errors);
        return { count: m.length };
      }
      case 'delete': {
        const m = this.matches(table, o['where'] as J[]);
        for (const [uuid] of m) this.state[table].delete(uuid);
        return { count: m.length };
      }
      case 'select': {
        const cols = o['columns'] as string[];
        const rows = this.matches(table, o['where'] as J[]).map(([uuid, row]) =>
          Object.fromEntries(cols.map((c) => [c, c === '_uuid' ? ['uuid', uuid] : datumToJson(row[c]!, ts(table).columns.get(c)!.type)])),
        );
        return { rows: [...new Set(rows.map((r) => JSON.stringify(r)))].map((r) => JSON.parse(r)) };
      }
      case 'wait': {
        const cols = o['columns'] as string[];
        const key = (row: MRow) => JSON.stringify(cols.map((c) => row[c]));
        const expected = new Set((o['rows'] as Record<string, J>[]).map((r) => key({ ...DEFAULTS.R, ...Object.fromEntries(Object.entries(r).map(([c, v]) => [c, [v as Atom]])) })));
        const actual = new Set(this.matches('R', o['where'] as J[]).map(([, row]) => key(row)));
        const equal = actual.size === expected.size && [...actual].every((k) => expected.has(k));
        if ((o['until'] === '==') !== equal) throw merr('timed out');
        return {};
      }
      case 'comment':
        return {};
      case 'abort':
        throw merr('aborted');
      default:
        throw new Error(`model: no op ${String(o['op'])}`);
    }
  }

  mutate(mu: { c: string; m: string; arg?: Datum; keys?: Atom[]; n?: number }, d: Datum): Datum {
    let out: Datum;
    if (mu.n !== undefined) {
      const y = mu.n;
      out = sortSet(
        (d as number[]).map((x) => {
          if ((mu.m === '/=' || mu.m === '%=') && y === 0) throw merr('domain error');
          const r = mu.m === '+=' ? x + y : mu.m === '-=' ? x - y : mu.m === '*=' ? x * y : mu.m === '/=' ? Math.trunc(x / y) : x % y;
          return r + 0;
        }),
      );
      this.checkAtoms(mu.c, out);
    } else if (mu.keys) {
      out = (d as MapDatum).filter((p) => !mu.keys!.includes(p[0]));
    } else if (isMapCol(mu.c)) {
      const arg = mu.arg as MapDatum;
      out =
        mu.m === 'insert'
          ? sortMap([...(d as MapDatum), ...arg.filter((p) => !(d as MapDatum).some((q) => q[0] === p[0]))])
          : (d as MapDatum).filter((p) => !arg.some((q) => q[0] === p[0] && q[1] === p[1]));
    } else {
      const arg = mu.arg as SetDatum;
      out = mu.m === 'insert' ? sortSet([...new Set([...(d as SetDatum), ...arg])]) : (d as SetDatum).filter((x) => !arg.includes(x));
    }
    if (out.length > (MAXES[mu.c] ?? Infinity)) throw merr('constraint violation');
    return out;
  }

  /** Commit checks, recomputed from scratch over the whole database. */
  commit(): MState {
    const s = this.state;
    const refsOf = (row: MRow, col: string, where: 'key' | 'value'): string[] =>
      isMapCol(col) ? (row[col] as MapDatum).map((p) => (where === 'key' ? p[0] : p[1]) as string) : (row[col] as string[]);
    // Every strong reference must point at a row of its refTable.
    for (const [tn, col, target, where, strength] of REFS) {
      if (strength !== 'strong') continue;
      for (const row of s[tn].values()) for (const u of refsOf(row, col, where)) if (!s[target].has(u)) throw merr('referential integrity violation');
    }
    // Garbage collection: repeatedly delete non-root (C) rows that no other row strongly references.
    for (;;) {
      const referenced = new Set<string>();
      for (const [tn, col, , where, strength] of REFS) {
        if (strength !== 'strong') continue;
        for (const [uuid, row] of s[tn]) for (const u of refsOf(row, col, where)) if (u !== uuid) referenced.add(u);
      }
      const garbage = [...s.C.keys()].filter((u) => !referenced.has(u));
      if (garbage.length === 0) break;
      for (const u of garbage) s.C.delete(u);
    }
    if (s.R.size > 4) throw merr('constraint violation');
    // Weak references to rows that are not in their refTable disappear.
    for (const [tn, col, target, where, strength] of REFS) {
      if (strength !== 'weak') continue;
      for (const [uuid, row] of s[tn]) {
        const d = row[col]!;
        const kept = isMapCol(col)
          ? (d as MapDatum).filter((p) => s[target].has((where === 'key' ? p[0] : p[1]) as string))
          : (d as SetDatum).filter((u) => s[target].has(u as string));
        if (kept.length === d.length) continue;
        if (kept.length < ts(tn).columns.get(col)!.type.min) throw merr('constraint violation');
        s[tn].set(uuid, { ...row, [col]: kept });
      }
    }
    const names = [...s.R.values()].map((r) => r['name']![0]);
    if (new Set(names).size !== names.length) throw merr('constraint violation');
    return s;
  }
}

/** Runs one transaction on the model: its expected results (ModelError where an op fails) and the new state. */
function modelTransact(state: MState, ops: J[]): { results: (J | ModelError)[]; state: MState } {
  const txn = new ModelTxn(state);
  const results: (J | ModelError)[] = [];
  for (let i = 0; i < ops.length; i++) {
    try {
      results.push(txn.op(ops[i] as Record<string, J>));
    } catch (e) {
      if (!(e instanceof ModelError)) throw e;
      results.push(e);
      while (results.length < ops.length) results.push(null);
      return { results, state };
    }
  }
  try {
    return { results, state: txn.commit() };
  } catch (e) {
    if (!(e instanceof ModelError)) throw e;
    results.push(e);
    return { results, state };
  }
}

// --- comparison --------------------------------------------------------------------------------

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^dangling-/;

/** Replaces UUIDs outside the pools (named-uuids never inserted) and sorts select results. */
function normalize(j: J): J {
  if (typeof j === 'string') return UUID_TEXT.test(j) && !POOLED.has(j) ? '<other>' : j;
  if (Array.isArray(j)) {
    const a = j.map(normalize);
    // Sets/maps of UUIDs may sort differently once UUIDs are replaced.
    if ((a[0] === 'set' || a[0] === 'map') && Array.isArray(a[1])) return [a[0], (a[1] as J[]).slice().sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1))];
    return a;
  }
  if (j && typeof j === 'object') {
    const o = Object.fromEntries(
      Object.keys(j)
        .sort()
        .map((k) => [k, normalize((j as Record<string, J>)[k])]),
    );
    if (Array.isArray(o['rows'])) o['rows'] = (o['rows'] as J[]).map((r) => JSON.stringify(r)).sort().map((r) => JSON.parse(r));
    return o;
  }
  return j;
}

/** Whether one engine (or server) result fits the model's expectation. */
function resultFits(got: J, want: J | ModelError): boolean {
  if (want instanceof ModelError) return !!got && typeof got === 'object' && want.tags.has((got as { error?: string }).error ?? '');
  return JSON.stringify(normalize(got)) === JSON.stringify(normalize(want));
}

function describeMismatch(ops: J[], got: J[], want: (J | ModelError)[]): string {
  return JSON.stringify({ ops, got, want: want.map((w) => (w instanceof ModelError ? { error: [...w.tags] } : w)) });
}

/** The engine's committed contents, in the model's shape. */
function engineState(db: Database): MState {
  const out = emptyState();
  for (const tn of TABLES) {
    for (const row of db.table(tn).rows.values()) {
      out[tn].set(row.uuid, Object.fromEntries(ts(tn).columnList.map((c) => [c.name, row.values[c.index]!])));
    }
  }
  return out;
}

const stateJson = (s: MState): string =>
  JSON.stringify(normalize(Object.fromEntries(TABLES.map((tn) => [tn, [...s[tn]].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([u, r]) => [u, ts(tn).columnList.map((c) => datumToJson(r[c.name]!, c.type))])]))));

/** Invariants that must hold in the engine after every transaction, whatever it did. */
function checkInvariants(db: Database): string | undefined {
  const strongCount = new Map<string, number>();
  const weakReferrers = new Map<string, Set<string>>();
  for (const td of db.tables.values()) {
    const sch = td.schema;
    if (sch.maxRows !== undefined && td.rows.size > sch.maxRows) return `${sch.name} exceeds maxRows`;
    for (const [i, ix] of sch.indexes.entries()) {
      const keys = new Map<string, string>();
      for (const row of td.rows.values()) {
        const k = indexKey(row.values, ix);
        if (keys.has(k)) return `duplicate index key ${k} in ${sch.name}`;
        keys.set(k, row.uuid);
      }
      if (JSON.stringify([...keys].sort()) !== JSON.stringify([...td.indexes[i]!].sort())) return `index ${i} of ${sch.name} out of sync`;
    }
    for (const row of td.rows.values()) {
      if (db.rowTable.get(row.uuid) !== td) return `rowTable wrong for ${row.uuid}`;
      for (const c of sch.refColumns as ColumnSchema[]) {
        const check = (u: string, refTable: string, strength: string): string | undefined => {
          if (db.table(refTable).rows.get(u) === undefined) return `${strength} ref ${sch.name}.${c.name} -> missing ${u}`;
          return undefined;
        };
        const d = row.values[c.index]!;
        for (const [base, pick] of [
          [c.type.key, (x: Atom | Pair) => (c.isMap ? (x as Pair)[0] : (x as Atom))],
          [c.type.value, (x: Atom | Pair) => (x as Pair)[1]],
        ] as const) {
          if (base?.refTable === undefined) continue;
          for (const x of d) {
            const u = pick(x) as string;
            const bad = check(u, base.refTable, base.refType!);
            if (bad) return bad;
          }
        }
      }
      const strong: string[] = [];
      const weak: string[] = [];
      rowRefs(sch, row.values, strong, weak);
      for (const u of strong) if (u !== row.uuid) strongCount.set(u, (strongCount.get(u) ?? 0) + 1);
      for (const u of weak) {
        let set = weakReferrers.get(u);
        if (!set) weakReferrers.set(u, (set = new Set()));
        set.add(row.uuid);
      }
    }
  }
  for (const td of db.tables.values()) {
    if (td.schema.isRoot) continue;
    for (const u of td.rows.keys()) if (!strongCount.has(u)) return `non-root row ${u} in ${td.schema.name} is unreferenced`;
  }
  if (JSON.stringify([...strongCount].sort()) !== JSON.stringify([...db.strongRefs].sort())) return 'strongRefs out of sync';
  const norm = (m: Map<string, Set<string>>) => JSON.stringify([...m].filter(([, s]) => s.size > 0).map(([k, s]) => [k, [...s].sort()]).sort());
  if (norm(weakReferrers) !== norm(db.weakReferrers)) return 'weakReferrers out of sync';
  return undefined;
}

function runEngine(db: Database, ops: J[]): J[] {
  const out = new Transaction(db).execute(ops);
  if (out.kind !== 'done') throw new Error('blocked');
  return out.results;
}

t.test('property: random transactions agree with the reference model', async (t) => {
  let committed = 0;
  let failed = 0;
  let withChildren = 0;
  const outcomes = new Map<string, number>();
  fc.assert(
    fc.property(txnsArb, (txns) => {
      const db = new Database(schema);
      let state = emptyState();
      for (const ops of txns) {
        const got = runEngine(db, ops);
        const model = modelTransact(state, ops);
        if (got.length !== model.results.length || !got.every((g, i) => resultFits(g, model.results[i]!))) {
          throw new Error(`results differ: ${describeMismatch(ops, got, model.results)}`);
        }
        const err = got.find((g): g is { error: string } => !!g && typeof g === 'object' && 'error' in g);
        if (err) {
          failed++;
          const key = `${got.length > ops.length ? 'commit' : 'op'}: ${err.error}`;
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        } else {
          committed++;
          if (db.table('C').rows.size > 0) withChildren++;
        }
        state = model.state;
        const es = stateJson(engineState(db));
        const ms = stateJson(state);
        if (es !== ms) throw new Error(`contents differ after ${JSON.stringify(ops)}:\nengine ${es}\nmodel  ${ms}`);
        const bad = checkInvariants(db);
        if (bad) throw new Error(`invariant broken after ${JSON.stringify(ops)}: ${bad}`);
      }
    }),
    { numRuns: NUM_RUNS },
  );
  t.comment(`committed ${committed} (${withChildren} leaving non-root rows), failed ${failed}: ${JSON.stringify(Object.fromEntries([...outcomes].sort()))}`);
  t.ok(committed > 50 && failed > 50, `a mix of successful (${committed}) and failed (${failed}) transactions`);
});

t.test('property: random transactions agree with real ovsdb-server', { skip: realOvsdbMissing() ?? false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-props-'));
  const schemaPath = join(dir, 'p.ovsschema');
  writeFileSync(schemaPath, JSON.stringify(SCHEMA_JSON));
  const server = await RealOvsdb.start(schemaPath);
  t.teardown(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const reset = [{ op: 'delete', table: 'W', where: [] }, { op: 'delete', table: 'R', where: [] }, { op: 'delete', table: 'C', where: [] }];
  const dump = TABLES.map((table) => ({ op: 'select', table, where: [], columns: ['_uuid', ...Object.keys(VALUES[table])] }));
  await fc.assert(
    fc.asyncProperty(txnsArb, async (txns) => {
      await server.transact('P', reset);
      const db = new Database(schema);
      for (const ops of txns) {
        const real = await server.transact('P', ops);
        const mine = runEngine(db, ops);
        const fits = real.length === mine.length && real.every((r, i) => {
          const m = mine[i];
          const isErr = (x: J) => !!x && typeof x === 'object' && 'error' in x;
          if (isErr(r) || isErr(m)) return isErr(r) && isErr(m) && (r as { error: string }).error === (m as { error: string }).error;
          return JSON.stringify(normalize(r)) === JSON.stringify(normalize(m));
        });
        if (!fits) throw new Error(`results differ from ovsdb-server: ${JSON.stringify({ ops, real, mine })}`);
        const realRows = await server.transact('P', dump);
        const mineRows = runEngine(db, dump);
        if (JSON.stringify(normalize(realRows)) !== JSON.stringify(normalize(mineRows))) {
          throw new Error(`contents differ from ovsdb-server after ${JSON.stringify(ops)}:\nreal ${JSON.stringify(realRows)}\nmine ${JSON.stringify(mineRows)}`);
        }
      }
    }),
    { numRuns: REAL_RUNS },
  );
  t.pass('engine and ovsdb-server agree');
});
