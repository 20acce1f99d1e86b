// The TCP connection tracker as a table of packet sequences: the ct_state each packet gets and
// the connection state dump-conntrack shows after it, for handshakes, data, closes, resets,
// invalid first packets, bad flag combinations and out-of-window segments; plus timeouts.
import t from 'tap';
import { newKey } from '../src/fields.js';
import { Conntrack, CS_ESTABLISHED, CS_INVALID, CS_NEW, CS_REPLY_DIR, CS_TRACKED, type CtParams } from '../src/conntrack/index.js';
import { extractKey, PacketLayout, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../src/packet/index.js';
import { formatCtState } from '../src/datapath/index.js';
import { tcp } from './datapath-helpers.js';

const COMMIT: CtParams = {
  zone: 0, commit: true, force: false, nat: undefined, markMask: 0, markValue: 0, labelMask: undefined, labelValue: undefined,
};
const LOOKUP: CtParams = { ...COMMIT, commit: false };

function run(ct: Conntrack, frame: Uint8Array, p: CtParams = COMMIT, now = 0): number {
  const key = newKey();
  const layout = new PacketLayout();
  extractKey(frame, key, 1, layout);
  return ct.execute(key, frame, layout, p, now);
}

const C = '10.0.0.1';
const S = '10.0.0.2';
/** A segment from the client (true) or the server. */
type Seg = [fromClient: boolean, flags: number, seq: number, ack: number, len?: number];
const NEW = CS_TRACKED | CS_NEW;
const EST = CS_TRACKED | CS_ESTABLISHED;
const RPL = CS_TRACKED | CS_ESTABLISHED | CS_REPLY_DIR;
const INV = CS_TRACKED | CS_INVALID;

function seg(s: Seg): Uint8Array {
  const [fromClient, flags, seq, ack, len] = s;
  const payload = len ? new Uint8Array(len) : undefined;
  return fromClient ? tcp(C, S, 40000, 80, flags, seq, ack, payload) : tcp(S, C, 80, 40000, flags, seq, ack, payload);
}

interface Case {
  readonly name: string;
  /** Each segment, the ct_state expected, and the dumped state after it ('' = no connection). */
  readonly steps: ReadonlyArray<readonly [Seg, number, string]>;
}

const A = TCP_ACK;
const CASES: Case[] = [
  {
    name: 'handshake, data both ways, client closes first',
    steps: [
      [[true, TCP_SYN, 100, 0], NEW, 'SYN_SENT'],
      [[true, TCP_SYN, 100, 0], NEW, 'SYN_SENT'],
      [[false, TCP_SYN | A, 500, 101], RPL, 'SYN_RECV'],
      [[true, A, 101, 501], EST, 'ESTABLISHED'],
      [[true, A | TCP_PSH, 101, 501, 10], EST, 'ESTABLISHED'],
      [[false, A | TCP_PSH, 501, 111, 20], RPL, 'ESTABLISHED'],
      [[true, A, 111, 521], EST, 'ESTABLISHED'],
      [[true, TCP_FIN | A, 111, 521], EST, 'FIN_WAIT'],
      [[false, A, 521, 112], RPL, 'CLOSE_WAIT'],
      [[false, TCP_FIN | A, 521, 112], RPL, 'LAST_ACK'],
      [[true, A, 112, 522], EST, 'TIME_WAIT'],
      // A new SYN on a closed connection starts a new one.
      [[true, TCP_SYN, 9000, 0], NEW, 'SYN_SENT'],
    ],
  },
  {
    name: 'server closes first; simultaneous-looking FINs',
    steps: [
      [[true, TCP_SYN, 1, 0], NEW, 'SYN_SENT'],
      [[false, TCP_SYN | A, 7, 2], RPL, 'SYN_RECV'],
      [[true, A, 2, 8], EST, 'ESTABLISHED'],
      [[false, TCP_FIN | A, 8, 2], RPL, 'FIN_WAIT'],
      [[true, TCP_FIN | A, 2, 9], EST, 'LAST_ACK'],
      [[false, A, 9, 3], RPL, 'TIME_WAIT'],
    ],
  },
  {
    name: 'connection refused: RST answers the SYN',
    steps: [
      [[true, TCP_SYN, 100, 0], NEW, 'SYN_SENT'],
      [[false, TCP_RST | A, 0, 101], RPL, 'CLOSE'],
      [[true, TCP_SYN, 100, 0], NEW, 'SYN_SENT'],
    ],
  },
  {
    name: 'reset of an established connection',
    steps: [
      [[true, TCP_SYN, 100, 0], NEW, 'SYN_SENT'],
      [[false, TCP_SYN | A, 500, 101], RPL, 'SYN_RECV'],
      [[true, A, 101, 501], EST, 'ESTABLISHED'],
      [[true, TCP_RST, 101, 0], EST, 'CLOSE'],
    ],
  },
  {
    name: 'a first packet that is not a SYN is invalid and creates nothing',
    steps: [
      [[true, A, 100, 5], INV, ''],
      [[true, TCP_SYN | A, 100, 5], INV, ''],
      [[true, TCP_FIN | A, 100, 5], INV, ''],
      [[true, TCP_RST, 100, 0], INV, ''],
    ],
  },
  {
    name: 'impossible flag combinations are invalid',
    steps: [
      [[true, TCP_SYN | TCP_FIN, 100, 0], INV, ''],
      [[true, TCP_SYN | TCP_RST, 100, 0], INV, ''],
      [[true, TCP_SYN, 100, 0], NEW, 'SYN_SENT'],
      [[true, TCP_FIN, 101, 0], INV, 'SYN_SENT'],
      [[true, 0, 101, 0], INV, 'SYN_SENT'],
    ],
  },
  {
    name: 'the client may not talk before the SYN-ACK; the server may not open with a bare SYN',
    steps: [
      [[true, TCP_SYN, 100, 0], NEW, 'SYN_SENT'],
      [[true, A, 101, 501], INV, 'SYN_SENT'],
      [[false, TCP_SYN, 500, 0], INV, 'SYN_SENT'],
      [[false, A, 500, 101], INV, 'SYN_SENT'],
      [[false, TCP_SYN | A, 500, 101], RPL, 'SYN_RECV'],
    ],
  },
  {
    name: 'segments outside the window are invalid; state is unchanged by them',
    steps: [
      [[true, TCP_SYN, 1000, 0], NEW, 'SYN_SENT'],
      [[false, TCP_SYN | A, 5000, 1001], RPL, 'SYN_RECV'],
      [[true, A, 1001, 5001], EST, 'ESTABLISHED'],
      // Far ahead of anything the server allowed.
      [[true, A | TCP_PSH, 1001 + 1_000_000, 5001, 100], INV, 'ESTABLISHED'],
      // Acknowledging data the server never sent.
      [[true, A, 1001, 5001 + 1_000_000], INV, 'ESTABLISHED'],
      // A reset with a wrong sequence number.
      [[false, TCP_RST | A, 5001 + 100_000, 1001], INV, 'ESTABLISHED'],
      [[true, A | TCP_PSH, 1001, 5001, 100], EST, 'ESTABLISHED'],
      // A retransmission is fine.
      [[true, A | TCP_PSH, 1001, 5001, 100], EST, 'ESTABLISHED'],
    ],
  },
];

for (const c of CASES) {
  t.test(c.name, async (t) => {
    const ct = new Conntrack();
    c.steps.forEach(([s, want, state], i) => {
      const got = run(ct, seg(s));
      t.equal(formatCtState(got), formatCtState(want), `step ${i}: ct_state`);
      const dump = ct.dump();
      if (state === '') t.equal(dump.length, 0, `step ${i}: no connection`);
      else t.match(dump[0] ?? '', new RegExp(`protoinfo=\\(state=${state}\\)$`), `step ${i}: ${state}`);
    });
  });
}

t.test('without commit nothing is created; the packet is still new', async (t) => {
  const ct = new Conntrack();
  t.equal(run(ct, seg([true, TCP_SYN, 1, 0]), LOOKUP), NEW);
  t.equal(ct.size, 0);
  t.equal(run(ct, seg([true, TCP_SYN, 1, 0])), NEW);
  t.equal(ct.size, 1);
  // Lookups of an existing connection update it too.
  t.equal(run(ct, seg([false, TCP_SYN | A, 9, 2]), LOOKUP), RPL);
  t.match(ct.dump()[0], /state=SYN_RECV/);
});

t.test('dump format', async (t) => {
  const ct = new Conntrack();
  run(ct, seg([true, TCP_SYN, 100, 0]), { ...COMMIT, zone: 5, markMask: 0xff, markValue: 2 });
  t.same(ct.dump(), ['tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=40000,dport=80),reply=(src=10.0.0.2,dst=10.0.0.1,sport=80,dport=40000),zone=5,mark=2,protoinfo=(state=SYN_SENT)']);
});

t.test('timeouts: opening connections go after 30 s, established ones after a day', async (t) => {
  const ct = new Conntrack();
  const send = (s: Seg, now: number): number => run(ct, seg(s), COMMIT, now);
  send([true, TCP_SYN, 100, 0], 0);
  t.equal(send([true, TCP_SYN, 100, 0], 29_000), NEW);
  t.equal(ct.sweep(58_999), 0);
  t.equal(ct.sweep(59_000), 1);
  send([true, TCP_SYN, 100, 0], 100_000);
  send([false, TCP_SYN | A, 500, 101], 100_001);
  send([true, A, 101, 501], 100_002);
  t.equal(ct.sweep(100_002 + 23 * 3600_000), 0);
  t.equal(send([true, A, 101, 501], 100_002 + 23 * 3600_000), EST);
  t.equal(ct.sweep(100_002 + 47 * 3600_000 - 1), 0);
  // Expired entries are also dropped on lookup: the next segment finds nothing.
  t.equal(send([true, A, 101, 501], 100_002 + 48 * 3600_000), INV);
  t.equal(ct.size, 0);
});

t.test('configurable timeouts', async (t) => {
  const ct = new Conntrack({ timeouts: { tcpOpening: 1000 } });
  run(ct, seg([true, TCP_SYN, 100, 0]), COMMIT, 0);
  t.equal(ct.sweep(1000), 1);
});
