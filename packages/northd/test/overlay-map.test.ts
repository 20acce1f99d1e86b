// OverlayMap (the table cache's copy-on-write maps): any sequence of versions, each made of
// puts and deletes on the previous one, reads exactly like plain Maps built the same way, and
// no version changes when later ones are made.
import t from 'tap';
import fc from 'fast-check';
import { OverlayMap } from '../src/overlay-map.js';

const op = fc.oneof(fc.record({ put: fc.nat(40), v: fc.nat(5) }), fc.record({ del: fc.nat(40) }));

const sorted = (m: ReadonlyMap<number, number>): string => JSON.stringify([...m.entries()].sort((a, b) => a[0] - b[0]));

t.test('versions read like plain maps', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.nat(40), { maxLength: 30 }), fc.array(fc.array(op, { maxLength: 12 }), { maxLength: 25 }), (init, steps) => {
      let plain = new Map(init.map((k) => [k, k]));
      let over: ReadonlyMap<number, number> = new Map(plain);
      const history: [ReadonlyMap<number, number>, string][] = [];
      for (const step of steps) {
        const next = new Map(plain);
        for (const o of step) {
          if ('put' in o) next.set(o.put, o.v);
          else next.delete(o.del);
        }
        over = OverlayMap.with(over, (put, del) => {
          for (const o of step) {
            if ('put' in o) put(o.put, o.v);
            else del(o.del);
          }
        });
        plain = next;
        if (over.size !== plain.size || sorted(over) !== sorted(plain)) return false;
        for (let k = 0; k <= 40; k++) if (over.get(k) !== plain.get(k) || over.has(k) !== plain.has(k)) return false;
        if ([...over.keys()].length !== plain.size || [...over.values()].length !== plain.size) return false;
        history.push([over, sorted(plain)]);
      }
      // Older versions are untouched by newer ones.
      return history.every(([m, want]) => sorted(m) === want);
    }),
    { numRuns: 300 },
  );
  t.pass('300 random histories');
});
