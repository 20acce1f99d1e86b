// Groups: bucket choice for select groups (hash of the chosen fields, by weight), all/indirect,
// and the group table's add/modify/delete.
import t from 'tap';
import fc from 'fast-check';
import { field, newKey } from '../src/fields.js';
import { GroupTable, groupBuckets, groupHash, parseGroup } from '../src/flow/index.js';

function key(src: number, dst: number, sport: number, other: number): Uint32Array {
  const k = newKey();
  k[field('dl_type').word] = 0x800;
  k[field('nw_proto').word] = 6;
  k[field('nw_src').word] = src >>> 0;
  k[field('nw_dst').word] = dst >>> 0;
  k[field('tp_src').word] = sport & 0xffff;
  k[field('reg3').word] = other >>> 0;
  return k;
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });

t.test('select groups hash only their fields', async (t) => {
  const dp = parseGroup('group_id=1,type=select,selection_method=dp_hash,bucket=weight:100,actions=output:1,bucket=weight:100,actions=output:2');
  const byFields = parseGroup('group_id=2,type=select,selection_method=hash,fields(ip_src),bucket=actions=output:1,bucket=actions=output:2,bucket=actions=output:3');
  fc.assert(
    fc.property(u32, u32, u32, u32, u32, (s, d, p, o1, o2) => {
      // Fields outside the hash (reg3 here) never change the choice.
      if (groupBuckets(dp, key(s, d, p, o1))[0] !== groupBuckets(dp, key(s, d, p, o2))[0]) throw new Error('dp_hash depends on reg3');
      // A fields() hash ignores even the 5-tuple fields it does not list.
      if (groupHash(byFields, key(s, d, p, o1)) !== groupHash(byFields, key(s, o2, o1, p))) throw new Error('hash(ip_src) depends on other fields');
    }),
  );
  t.pass('bucket choice depends only on the hashed fields');
});

t.test('select groups spread by weight, never to weight 0', async (t) => {
  const g = parseGroup('group_id=3,type=select,bucket=weight:1,actions=output:1,bucket=weight:3,actions=output:2,bucket=weight:0,actions=output:3');
  const counts = [0, 0, 0];
  for (let i = 0; i < 4000; i++) {
    const b = groupBuckets(g, key(0x0a000000 + i, 0x0a000001, 1000 + (i % 50), 0))[0]!;
    counts[b.id]!++;
  }
  t.equal(counts[2], 0, 'weight 0 is never chosen');
  t.ok(counts[1]! > 2.4 * counts[0]! && counts[1]! < 3.6 * counts[0]!, `3:1 split, got ${counts[1]}:${counts[0]}`);
});

t.test('all and indirect groups', async (t) => {
  const all = parseGroup('group_id=4,type=all,bucket=output:1,bucket=output:2');
  t.equal(groupBuckets(all, key(1, 2, 3, 4)).length, 2);
  const ind = parseGroup('group_id=5,type=indirect,bucket=output:7');
  t.same(groupBuckets(ind, key(1, 2, 3, 4))[0]!.actions, [{ type: 'output', port: 7 }]);
});

t.test('group table', async (t) => {
  const gt = new GroupTable();
  gt.add(parseGroup('group_id=2,type=all,bucket=output:1'));
  gt.add(parseGroup('group_id=1,type=all,bucket=output:1'));
  t.throws(() => gt.add(parseGroup('group_id=1,type=all,bucket=output:2')), /already exists/);
  t.throws(() => gt.modify(parseGroup('group_id=9,type=all,bucket=output:2')), /does not exist/);
  gt.modify(parseGroup('group_id=9,type=all,bucket=output:2'), true);
  gt.modify(parseGroup('group_id=1,type=select,bucket=output:3'));
  t.same(gt.list().map((g) => g.id), [1, 2, 9]);
  t.equal(gt.get(1)?.type, 'select');
  t.equal(gt.delete(2), 1);
  t.equal(gt.delete(2), 0);
  t.equal(gt.delete(), 2);
  t.equal(gt.size, 0);
});
