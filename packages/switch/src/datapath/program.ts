/**
 * Datapath actions: what a translation of the OpenFlow pipeline boils down to for one packet
 * (and, through the megaflow cache, for every packet that agrees with it on the bits the
 * translation looked at). Like OVS's ODP actions, they are the composed effect of the tables:
 * masked key writes, outputs, conntrack steps with recirculation, packets to the controller, and
 * save/restore around clones and group buckets. A cache hit runs them without touching the tables.
 *
 * The values a SET writes are constants: every key bit a translation read to compute a written
 * value (move sources, the TTL before dec_ttl, the VLAN tag …) is part of the megaflow's mask,
 * so all packets of a megaflow end up with the same bits there.
 */
import type { Action, ControllerReason, NatSpec } from '../flow/actions.js';
import { W_DL_SRC } from '../packet/extract.js';

export const OP_SET = 0;
export const OP_OUTPUT = 1;
export const OP_FLOOD = 2;
export const OP_CT = 3;
export const OP_CONTROLLER = 4;
export const OP_SAVE = 5;
export const OP_RESTORE = 6;
export const OP_LOADKEY = 7;

/** Key words from here on are packet header fields (written to the frame on output). */
export const PACKET_WORDS_START = W_DL_SRC;

/** Consumers (outputs, controller, ct) carry this flag, set by `finalize`. */
interface Consumer {
  /** Give the consumer a copy of the frame (something later still needs it). */
  copy: boolean;
}

export interface SetOp {
  readonly op: typeof OP_SET;
  /** Triples (word index, mask, value): key[w] = (key[w] & ~mask) | value. */
  readonly data: Uint32Array;
  /** Does it touch packet header fields (so the frame needs a commit before the next output)? */
  readonly packet: boolean;
}

export interface OutputOp extends Consumer {
  readonly op: typeof OP_OUTPUT;
  readonly port: number;
}

/** OFPP_FLOOD / OFPP_ALL: every port the sink lists except `exclude` (the input port). */
export interface FloodOp extends Consumer {
  readonly op: typeof OP_FLOOD;
  readonly exclude: number;
  readonly all: boolean;
}

export interface CtOp extends Consumer {
  readonly op: typeof OP_CT;
  readonly zone: number;
  readonly commit: boolean;
  readonly force: boolean;
  readonly nat: NatSpec | undefined;
  readonly markMask: number;
  readonly markValue: number;
  readonly labelMask: Uint32Array | undefined;
  readonly labelValue: Uint32Array | undefined;
  /** Recirculation id to continue at (-1: none). */
  readonly recirc: number;
  /** The table the recirculation resumes at (for printing). */
  readonly table: number | undefined;
  readonly alg: number | undefined;
}

/** A frozen position of the pipeline (controller pause): what runs on resume, innermost first. */
export type Frame =
  | {
      readonly kind: 'actions';
      readonly actions: readonly Action[];
      readonly from: number;
      readonly table: number;
      readonly cookie: bigint;
    }
  | { readonly kind: 'restore'; readonly key: Uint32Array; readonly stack: readonly StackEntry[] };

/** An entry of the push/pop stack: `bits` bits, least significant word first. */
export interface StackEntry {
  readonly bits: number;
  readonly words: Uint32Array;
}

export interface ControllerOp extends Consumer {
  readonly op: typeof OP_CONTROLLER;
  readonly reason: ControllerReason;
  readonly table: number;
  readonly cookie: bigint;
  readonly userdata: string | undefined;
  readonly maxLen: number;
  /** With pause: where to continue (filled while the translation unwinds). */
  readonly pause: Frame[] | undefined;
  readonly stack: readonly StackEntry[];
}

export interface SaveOp {
  readonly op: typeof OP_SAVE;
}
export interface RestoreOp {
  readonly op: typeof OP_RESTORE;
}
/** Replaces the whole key (resuming a continuation frozen inside a clone). */
export interface LoadKeyOp {
  readonly op: typeof OP_LOADKEY;
  readonly key: Uint32Array;
}

export type Op = SetOp | OutputOp | FloodOp | CtOp | ControllerOp | SaveOp | RestoreOp | LoadKeyOp;

function isConsumer(op: Op): op is OutputOp | FloodOp | CtOp | ControllerOp {
  return op.op === OP_OUTPUT || op.op === OP_FLOOD || op.op === OP_CT || op.op === OP_CONTROLLER;
}

/**
 * Sets the consumers' flags: only the last consumer may take the frame itself (earlier ones get
 * copies, since the frame is the sink's once transmitted).
 */
export function finalize(ops: Op[]): Op[] {
  // A clone at the very end needs no save/restore: nothing after it sees the key.
  while (ops.length !== 0 && ops[ops.length - 1]!.op === OP_RESTORE) {
    let depth = 0;
    let at = ops.length - 1;
    for (; at >= 0; at--) {
      const o = ops[at]!.op;
      if (o === OP_RESTORE) depth++;
      else if (o === OP_SAVE && --depth === 0) break;
    }
    if (at < 0) break;
    ops.pop();
    ops.splice(at, 1);
  }
  let later = false;
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i]!;
    if (isConsumer(op)) {
      op.copy = later;
      later = true;
    }
  }
  return ops;
}
