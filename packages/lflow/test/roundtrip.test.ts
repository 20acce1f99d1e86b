// Property: printing any valid AST and parsing the text gives back the same AST.
import t from 'tap';
import fc from 'fast-check';
import { parseMatch, printMatch } from '../src/index.js';
import { exprArb, lookup } from './arbitraries.js';
import { astEqual, canon } from './helpers.js';

t.test('parse(print(ast)) == ast', async (t) => {
  fc.assert(
    fc.property(exprArb(true), (e) => {
      const text = printMatch(e);
      const back = parseMatch(text, { lookup });
      if (!astEqual(back, e)) throw new Error(`${text}\n${canon(e)}\n${canon(back)}`);
    }),
    { numRuns: 500 },
  );
  t.pass('500 random ASTs round-trip');
});

t.test('print(parse(text)) is a fixed point', async (t) => {
  for (const s of ['ip4.src == {10.0.0.1 10.0.0.2/31} && !(tcp.dst < 5 || ct.est)', '((a.b))'.replace('a.b', 'ip4'), '2 > reg0[0..3] > 0']) {
    const once = printMatch(parseMatch(s, { lookup }));
    t.equal(printMatch(parseMatch(once, { lookup })), once, s);
  }
});
