/**
 * Groups in ovs-ofctl syntax: the argument of add-group/mod-group
 * (`group_id=1,type=select,selection_method=dp_hash,bucket=bucket_id:0,weight:100,actions=…`)
 * and dump-groups lines, which print buckets with their ids and the selection method only for
 * OpenFlow 1.5 (as ovs-ofctl does).
 */
import { parseActions, printActions } from './action-syntax.js';
import type { OfVersion } from './action-syntax.js';
import { ofField, lookupOfField } from './catalog.js';
import { ones, parseInteger } from './format.js';
import type { Bucket, Group, GroupField, GroupType } from './group.js';
import { FlowSyntaxError, splitKeyValues, splitTopLevel } from './tokens.js';
import type { PortNames } from './values.js';
import { formatFieldValue, formatPort, parseFieldValue, parsePort } from './values.js';

export interface GroupSyntaxOptions {
  readonly ports?: PortNames;
  /** For printing; default 15 (OVN's version; older ones drop bucket ids and selection methods). */
  readonly version?: OfVersion;
}

const TYPES: Record<string, GroupType> = { all: 'all', select: 'select', indirect: 'indirect', ff: 'ff', fast_failover: 'ff' };

function err(msg: string): never {
  throw new FlowSyntaxError(msg);
}

function uint(s: string, what: string, max = 0xffffffff): number {
  const n = parseInteger(s.trim());
  if (n === undefined || n > BigInt(max)) err(`${s}: invalid ${what}`);
  return Number(n);
}

/** Splits `text` at each top-level `bucket=` (outside parentheses). */
function splitBuckets(text: string): { head: string; buckets: string[] } {
  const parts = splitTopLevel(text);
  let head: string[] = [];
  const buckets: string[][] = [];
  for (const p of parts) {
    const m = /^\s*bucket\s*=(.*)$/s.exec(p);
    if (m) buckets.push([m[1]!]);
    else if (buckets.length) buckets[buckets.length - 1]!.push(p);
    else head.push(p);
  }
  head = head.filter((x) => x.trim() !== '');
  return { head: head.join(','), buckets: buckets.map((b) => b.join(',')) };
}

function parseBucket(text: string, index: number, opts: GroupSyntaxOptions): Bucket {
  const parts = splitTopLevel(text);
  let id = index;
  let weight = 1;
  let watchPort: number | undefined;
  let watchGroup: number | undefined;
  let i = 0;
  for (; i < parts.length; i++) {
    const m = /^\s*(bucket_id|weight|watch_port|watch_group)\s*[:=](.*)$/.exec(parts[i]!);
    if (!m) break;
    const v = m[2]!.trim();
    if (m[1] === 'bucket_id') id = uint(v, 'bucket_id');
    else if (m[1] === 'weight') weight = uint(v, 'weight', 0xffff);
    else if (m[1] === 'watch_port') watchPort = parsePort(v, opts.ports) ?? err(`${v}: invalid watch_port`);
    else watchGroup = uint(v, 'watch_group');
  }
  let acts = parts.slice(i).join(',').trim();
  const am = /^actions\s*[=:](.*)$/s.exec(acts);
  if (am) acts = am[1]!;
  return {
    id,
    weight,
    ...(watchPort !== undefined ? { watchPort } : {}),
    ...(watchGroup !== undefined ? { watchGroup } : {}),
    actions: parseActions(acts, opts.ports ? { ports: opts.ports } : {}),
  };
}

function parseFields(text: string): GroupField[] {
  return splitKeyValues(text).map((kv) => {
    const f = lookupOfField(kv.key) ?? err(`${kv.key}: unknown field in group fields`);
    if (kv.sep === '') return { field: f.name };
    const { value } = parseFieldValue(f, kv.value);
    return { field: f.name, mask: value };
  });
}

/** Parses a group (add-group syntax, or a dump-groups line). */
export function parseGroup(text: string, opts: GroupSyntaxOptions = {}): Group {
  const { head, buckets } = splitBuckets(text);
  let id: number | undefined;
  let type: GroupType | undefined;
  let selectionMethod: 'hash' | 'dp_hash' | undefined;
  let selectionMethodParam: number | undefined;
  let fields: GroupField[] | undefined;
  for (const kv of splitKeyValues(head)) {
    switch (kv.key) {
      case 'group_id':
        id = uint(kv.value, 'group_id', 0xfffffffe);
        break;
      case 'type':
        type = TYPES[kv.value] ?? err(`${kv.value}: invalid group type`);
        break;
      case 'selection_method':
        if (kv.value !== 'hash' && kv.value !== 'dp_hash') err(`${kv.value}: invalid selection method`);
        selectionMethod = kv.value;
        break;
      case 'selection_method_param':
        selectionMethodParam = uint(kv.value, 'selection_method_param');
        break;
      case 'fields':
        fields = parseFields(kv.value);
        break;
      default:
        err(`${kv.key}: unknown keyword in group`);
    }
  }
  if (id === undefined) err('must specify a group_id');
  if (type === undefined) err('must specify a type');
  return {
    id,
    type,
    ...(selectionMethod !== undefined ? { selectionMethod } : {}),
    ...(selectionMethodParam !== undefined ? { selectionMethodParam } : {}),
    ...(fields !== undefined ? { fields } : {}),
    buckets: buckets.map((b, i) => parseBucket(b, i, opts)),
  };
}

/** A group as one line of `ovs-ofctl dump-groups` prints it (without the leading space). */
export function printGroup(g: Group, opts: GroupSyntaxOptions = {}): string {
  const version = opts.version ?? 15;
  let s = `group_id=${g.id},type=${g.type}`;
  if (version >= 15) {
    if (g.selectionMethod) s += `,selection_method=${g.selectionMethod}`;
    if (g.selectionMethodParam) s += `,selection_method_param=${g.selectionMethodParam}`;
    if (g.fields && g.fields.length) {
      const fs = g.fields.map((gf) => {
        const f = ofField(gf.field);
        return gf.mask === undefined ? f.name : `${f.name}=${formatFieldValue(f, gf.mask, ones(f.bits), opts.ports)}`;
      });
      s += `,fields(${fs.join(',')})`;
    }
  }
  for (const b of g.buckets) {
    const parts: string[] = [];
    if (version >= 15) parts.push(`bucket_id:${b.id}`);
    if (g.type === 'select' && b.weight !== 1) parts.push(`weight:${b.weight}`);
    if (b.watchPort !== undefined) parts.push(`watch_port:${formatPort(b.watchPort, opts.ports)}`);
    if (b.watchGroup !== undefined) parts.push(`watch_group:${b.watchGroup}`);
    parts.push(`actions=${printActions(b.actions, { version, ...(opts.ports ? { ports: opts.ports } : {}) })}`);
    s += `,bucket=${parts.join(',')}`;
  }
  return s;
}
