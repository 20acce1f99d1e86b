import t from 'tap';
import { Lexer, MatchError, tokenize } from '../src/index.js';

const kinds = (s: string): string[] => tokenize(s).map((x) => (x.kind === 'id' || x.kind === 'addrset' || x.kind === 'portgroup' ? `${x.kind}:${x.text}` : x.kind));

function lexError(s: string): { message: string; start: number; end: number } {
  try {
    tokenize(s);
  } catch (e) {
    if (e instanceof MatchError) return { message: e.message, start: e.start, end: e.end };
    throw e;
  }
  throw new Error(`no error for ${s}`);
}

t.test('operators, punctuation, identifiers', async (t) => {
  t.same(kinds('eth.src == 1 && !ct.est || (x != 2) { } , <= >= < > [ ] ..'), [
    'id:eth.src', '==', 'int', '&&', '!', 'id:ct.est', '||', '(', 'id:x', '!=', 'int', ')', '{', '}', ',', '<=', '>=', '<', '>', '[', ']', '..',
  ]);
  t.same(kinds('reg0[0..15]'), ['id:reg0', '[', 'int', '..', 'int', ']']);
  t.same(kinds('$as_1 @pg_web'), ['addrset:as_1', 'portgroup:pg_web']);
  t.same(kinds('a // comment\n b /* c */ c'), ['id:a', 'id:b', 'id:c']);
  t.same(kinds('ct.est'), ['id:ct.est']);
  // An identifier starting with hex letters is not an address unless a colon follows.
  t.same(kinds('fe80 dead'), ['id:fe80', 'id:dead']);
});

t.test('integer constants of every format', async (t) => {
  const one = (s: string): [string, bigint, bigint | undefined] => {
    const [x] = tokenize(s);
    return [x!.format, x!.value, x!.mask];
  };
  t.same(one('0'), ['dec', 0n, undefined]);
  t.same(one('18446744073709551615'), ['dec', (1n << 64n) - 1n, undefined]);
  t.same(one('0x86dd'), ['hex', 0x86ddn, undefined]);
  t.same(one('0x1/0xff'), ['hex', 1n, 0xffn]);
  t.same(one('0/0xf0'), ['hex', 0n, 0xf0n]);
  t.same(one('00:00:00:00:ff:01'), ['mac', 0xff01n, undefined]);
  t.same(one('ff:ff:ff:ff:ff:ff'), ['mac', 0xffffffffffffn, undefined]);
  t.same(one('01:00:00:00:00:00/01:00:00:00:00:00'), ['mac', 1n << 40n, 1n << 40n]);
  t.same(one('10.0.0.1'), ['ipv4', 0x0a000001n, undefined]);
  t.same(one('10.0.0.0/24'), ['ipv4', 0x0a000000n, 0xffffff00n]);
  t.same(one('10.0.0.7/24'), ['ipv4', 0x0a000000n, 0xffffff00n], 'value bits outside the mask are cleared');
  t.same(one('10.0.0.0/255.0.255.0'), ['ipv4', 0x0a000000n, 0xff00ff00n]);
  t.same(one('::'), ['ipv6', 0n, undefined]);
  t.same(one('::1'), ['ipv6', 1n, undefined]);
  t.same(one('fe80::200:ff:fe00:ff01'), ['ipv6', 0xfe80000000000000020000fffe00ff01n, undefined]);
  t.same(one('ff02::1:ff00:0/104'), ['ipv6', 0xff0200000000000000000001ff000000n, ((1n << 104n) - 1n) << 24n]);
  t.same(one('::ffff:192.0.2.128'), ['ipv6', 0xffffc0000280n, undefined]);
  t.same(one('1:2:3:4:5:6:7:8'), ['ipv6', 0x00010002000300040005000600070008n, undefined]);
});

t.test('strings with escapes', async (t) => {
  const [s] = tokenize(String.raw`"a\"b\\c\n\u0041"`);
  t.equal(s!.kind, 'string');
  t.equal(s!.text, 'a"b\\c\nA');
});

t.test('errors carry the offending span', async (t) => {
  t.same(lexError('x == 012'), { message: 'Decimal constants must not have leading zeros.', start: 5, end: 8 });
  t.same(lexError('x == 18446744073709551616'), { message: 'Decimal constants must be less than 2**64.', start: 5, end: 25 });
  t.same(lexError('x == 0x'), { message: 'Hex digits expected following 0x.', start: 5, end: 7 });
  t.same(lexError('x == 0x12g'), { message: 'Invalid syntax in hexadecimal constant.', start: 5, end: 10 });
  t.same(lexError('x == 1.2.3'), { message: 'Invalid numeric constant.', start: 5, end: 10 });
  t.same(lexError('x == 256.1.1.1'), { message: 'Invalid numeric constant.', start: 5, end: 14 });
  t.same(lexError('x == 10.0.0.0/0x8'), { message: 'Value and mask have incompatible formats.', start: 5, end: 17 });
  t.same(lexError('a & b'), { message: "`&' is only valid as part of `&&'.", start: 2, end: 3 });
  t.same(lexError('a | b'), { message: "`|' is only valid as part of `||'.", start: 2, end: 3 });
  t.same(lexError('inport == "vm1'), { message: 'Input ends inside quoted string.', start: 10, end: 14 });
  t.same(lexError('x == $'), { message: "`$' must be followed by a valid identifier.", start: 5, end: 6 });
  t.same(lexError('x # y'), { message: "Invalid character `#' in input.", start: 2, end: 3 });
  t.same(lexError('a /* b'), { message: "`/*' without matching `*/'.", start: 2, end: 6 });
});

t.test('peek does not consume', async (t) => {
  const lx = new Lexer('f(x)');
  t.equal(lx.next().kind, 'id');
  t.equal(lx.peek().kind, '(');
  t.equal(lx.next().kind, '(');
});
