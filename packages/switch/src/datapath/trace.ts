/**
 * Text for tracing (ofproto/trace style) and for printing what the datapath does: flow keys,
 * megaflows, datapath actions.
 */
import { FIELDS, newKey, type FlowKey } from '../fields.js';
import { CT_STATE_FLAGS, formatFlags } from '../flow/values.js';
import { hex } from '../flow/format.js';
import { printActions } from '../flow/action-syntax.js';
import type { Action } from '../flow/actions.js';
import { printMatch } from '../flow/match-syntax.js';
import { printMatchActions } from '../flow/syntax.js';
import type { FlowEntry } from '../flow/table.js';
import type { TraceStep } from './types.js';
import {
  OP_CONTROLLER, OP_CT, OP_FLOOD, OP_LOADKEY, OP_OUTPUT, OP_RESTORE, OP_SAVE, OP_SET, type CtOp, type Op,
} from './program.js';

interface MutableStep {
  depth: number;
  table: number;
  flow: string | undefined;
  notes: string[];
}

/** Collects the steps and the text lines of one pipeline pass. */
export class TraceBuilder {
  readonly steps: MutableStep[] = [];
  readonly lines: string[] = [];
  private cur: MutableStep | undefined;

  /** A table lookup at nesting `depth`; returns the previous current step (to restore after). */
  table(depth: number, table: number, e: FlowEntry | undefined, extra?: string): MutableStep | undefined {
    const prev = this.cur;
    const step: MutableStep = { depth, table, flow: e === undefined ? undefined : printMatchActions(e), notes: [] };
    this.steps.push(step);
    this.cur = step;
    const pad = ' '.repeat(4 * depth);
    if (e === undefined) {
      this.lines.push(`${pad}${String(table).padStart(2)}. No match.${extra ?? ''}`);
    } else {
      const m = printMatch(e.match);
      this.lines.push(`${pad}${String(table).padStart(2)}. ${m ? `${m}, ` : ''}priority ${e.priority}${e.cookie ? `, cookie ${hex(e.cookie)}` : ''}`);
    }
    return prev;
  }

  restore(step: MutableStep | undefined): void {
    this.cur = step;
  }

  /** A line under the current flow, `depth` levels in. */
  note(depth: number, text: string): void {
    if (this.cur === undefined) {
      this.cur = { depth, table: -1, flow: undefined, notes: [] };
      this.steps.push(this.cur);
    }
    this.cur.notes.push(text);
    this.lines.push(' '.repeat(4 * depth + 4) + text);
  }

  /** A line outside any flow (headers between passes). */
  raw(text: string): void {
    this.lines.push(text);
  }
}

/** One action as ovs-ofctl prints it. */
export function printAction(a: Action, e: FlowEntry | undefined): string {
  return printActions([a], e === undefined ? {} : { match: e.match });
}

export function formatCtState(s: number): string {
  return s === 0 ? '0' : formatFlags(CT_STATE_FLAGS, 0xff, s & 0xff, 0xff);
}

/**
 * A flow key as a match over the fields that are set (plus in_port and dl_type), the way
 * ofproto/trace prints the packet's flow.
 */
export function formatKey(key: FlowKey): string {
  const mask = newKey();
  const value = newKey();
  for (const f of FIELDS) {
    let set = f.name === 'in_port' || f.name === 'dl_type';
    for (let i = 0; i < f.words && !set; i++) if (key[f.word + i] !== 0) set = true;
    if (!set) continue;
    for (let i = 0; i < f.words; i++) {
      const bits = f.bits - 32 * (f.words - 1 - i);
      const m = bits >= 32 ? 0xffffffff : bits > 0 ? (1 << bits) - 1 : 0;
      mask[f.word + i] = m >>> 0;
      value[f.word + i] = (key[f.word + i]! & m) >>> 0;
    }
  }
  return printMatch({ value, mask });
}

/** A megaflow (input key under the translation's wildcards) in match syntax. */
export function formatMegaflow(recirc: number, key: FlowKey, wc: FlowKey): string {
  const value = newKey();
  for (let i = 0; i < value.length; i++) value[i] = (key[i]! & wc[i]!) >>> 0;
  const m = printMatch({ value, mask: wc.slice() });
  return `recirc_id=${hex(recirc)}${m ? `,${m}` : ''}`;
}

function fieldsOfWords(data: Uint32Array): string[] {
  const names: string[] = [];
  for (const f of FIELDS) {
    for (let i = 0; i < data.length; i += 3) {
      const w = data[i]!;
      if (w >= f.word && w < f.word + f.words) {
        names.push(f.name);
        break;
      }
    }
  }
  return names;
}

function formatCt(op: CtOp): string {
  const parts: string[] = [];
  if (op.commit) parts.push('commit');
  if (op.force) parts.push('force');
  if (op.zone) parts.push(`zone=${op.zone}`);
  if (op.markMask) parts.push(`mark=${hex(op.markValue)}/${hex(op.markMask)}`);
  if (op.labelMask && op.labelValue) {
    let v = 0n;
    let m = 0n;
    for (let i = 0; i < 4; i++) {
      v = (v << 32n) | BigInt(op.labelValue[i]!);
      m = (m << 32n) | BigInt(op.labelMask[i]!);
    }
    if (m) parts.push(`label=${hex(v)}/${hex(m)}`);
  }
  if (op.nat) {
    const n = op.nat;
    let s = 'nat';
    if (n.kind) {
      const ip = (x: bigint): string => (n.ipv6 ? `[${x.toString(16)}]` : `${Number((x >> 24n) & 255n)}.${Number((x >> 16n) & 255n)}.${Number((x >> 8n) & 255n)}.${Number(x & 255n)}`);
      s += `(${n.kind}`;
      if (n.ipMin !== undefined) s += `=${ip(n.ipMin)}${n.ipMax !== undefined && n.ipMax !== n.ipMin ? `-${ip(n.ipMax)}` : ''}`;
      if (n.portMin !== undefined) s += `:${n.portMin}${n.portMax !== undefined && n.portMax !== n.portMin ? `-${n.portMax}` : ''}`;
      s += ')';
    }
    parts.push(s);
  }
  if (op.alg !== undefined) parts.push(`helper=${op.alg === 21 ? 'ftp' : op.alg === 69 ? 'tftp' : op.alg}`);
  return `ct(${parts.join(',')})`;
}

/** Datapath actions in the style of OVS's "Datapath actions:" line ("drop" when empty). */
export function formatOps(ops: readonly Op[]): string {
  const out: string[] = [];
  for (const op of ops) {
    switch (op.op) {
      case OP_SET:
        out.push(`set(${fieldsOfWords(op.data).join(',')})`);
        break;
      case OP_OUTPUT:
        out.push(String(op.port));
        break;
      case OP_FLOOD:
        out.push(op.all ? 'all' : 'flood');
        break;
      case OP_CT:
        out.push(formatCt(op));
        if (op.recirc >= 0) out.push(`recirc(${hex(op.recirc)})`);
        break;
      case OP_CONTROLLER:
        out.push(`userspace(controller(reason=${op.reason}${op.userdata ? `,userdata=${op.userdata}` : ''}${op.pause ? ',pause' : ''}))`);
        break;
      case OP_SAVE:
        out.push('clone(');
        break;
      case OP_RESTORE:
        out.push(')');
        break;
      case OP_LOADKEY:
        out.push('restore');
        break;
    }
  }
  if (out.length === 0) return 'drop';
  return out.join(',').replace(/clone\(,/g, 'clone(').replace(/,\)/g, ')');
}

export type { TraceStep };
