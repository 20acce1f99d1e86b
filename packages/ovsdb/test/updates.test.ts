// The diff algebra: applying the diff of two values to the first gives the second, for every
// column shape; columns holding at most one value are replaced whole, as ovsdb-server does.
import t from 'tap';
import fc from 'fast-check';
import { applyDatumDiff, datumDiff, type ColumnType, type Datum } from '../src/index.js';

const key = fc.integer({ min: 0, max: 20 });
const val = fc.constantFrom('a', 'b', 'c');

function setOf(maxLen: number): fc.Arbitrary<Datum> {
  return fc.uniqueArray(key, { maxLength: maxLen }).map((a) => a.sort((x, y) => x - y));
}
function mapOf(maxLen: number): fc.Arbitrary<Datum> {
  return fc
    .uniqueArray(fc.tuple(key, val), { maxLength: maxLen, selector: (p) => p[0] })
    .map((a) => a.sort((x, y) => x[0] - y[0]) as unknown as Datum);
}

const shapes: [string, ColumnType, fc.Arbitrary<Datum>][] = [
  ['scalar', { key: { type: 'integer' }, min: 1, max: 1 }, key.map((k) => [k])],
  ['optional', { key: { type: 'integer' }, min: 0, max: 1 }, setOf(1)],
  ['set', { key: { type: 'integer' }, min: 0, max: Infinity }, setOf(8)],
  ['map', { key: { type: 'integer' }, value: { type: 'string' }, min: 0, max: Infinity }, mapOf(8)],
];

for (const [name, type, arb] of shapes) {
  t.test(`${name}: apply(old, diff(old, new)) = new`, async (t) => {
    fc.assert(
      fc.property(arb, arb, (a, b) => {
        t.same(applyDatumDiff(a, datumDiff(a, b, type), type), b);
      }),
      { numRuns: 200 },
    );
  });
}

t.test('optional columns are replaced, not toggled', async (t) => {
  const type: ColumnType = { key: { type: 'boolean' }, min: 0, max: 1 };
  t.same(datumDiff([false], [true], type), [true]);
  t.same(datumDiff([true], [], type), []);
  t.same(applyDatumDiff([false], [true], type), [true]);
});
