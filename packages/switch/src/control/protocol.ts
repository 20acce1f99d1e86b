/**
 * The control socket's messages. A client sends requests `{id, method, params}`; the switch
 * answers each with `{id, result}` or `{id, error: {message, code?, index?}}` (id null when the
 * request itself could not be decoded) and, to clients that subscribed, pushes
 * `{event: 'packet_in', data}`. Methods mirror the Switch API; flow mods, filters and actions
 * may be given structured or as ovs-ofctl text, which the switch parses with its own port names.
 */
import type { Continuation, PacketIn, TraceStep } from '../datapath/types.js';
import type { FlowKey } from '../fields.js';
import type { Action } from '../flow/actions.js';
import type { Group } from '../flow/group.js';
import type { FlowEntry, FlowFilter, FlowMod, FlowModCommand } from '../flow/table.js';
import type { PortInfo, PortSpec } from '../ports/types.js';
import type { GroupMod, SwitchInfo, TableStats } from '../switch.js';

/** A flow mod, structured or as add-flow/mod-flows/del-flows text for `command` (default add). */
export type FlowModParam = { readonly mod: FlowMod } | { readonly text: string; readonly command?: FlowModCommand };

export interface FlowModSummary {
  readonly added: number;
  readonly modified: number;
  readonly removed: number;
}

/** A packet to trace: a frame on a port, or ovs-ofctl flow text (`in_port=1,tcp,nw_dst=…`) to build one from. */
export type TraceParams =
  | { readonly inPort: number | string; readonly frame: Uint8Array; readonly tunId?: bigint; readonly metadata0?: number; readonly tunSrc?: number; readonly tunDst?: number }
  | { readonly flow: string };

export interface TraceResult {
  /** What was traced, as text (the microflow, or the port and frame length). */
  readonly flow: string;
  readonly inPort: number;
  readonly steps: readonly TraceStep[];
  /** ofproto/trace's whole text (flow, tables, final flow, megaflow, datapath actions), when the datapath writes it. */
  readonly text?: string;
  readonly megaflow?: string;
  readonly datapathActions?: string;
}

export interface Methods {
  show: { params: Record<string, never> | undefined; result: SwitchInfo };
  flow_mod: { params: FlowModParam; result: FlowModSummary };
  bundle: { params: { readonly mods: readonly FlowModParam[] }; result: FlowModSummary };
  group_mod: { params: GroupMod | { readonly text: string; readonly command: 'add' | 'modify' | 'delete'; readonly mayCreate?: boolean }; result: { readonly count: number } };
  /** `spec`: a del-flows style flow spec (table, cookie/mask, out_port, match), parsed by the switch. */
  dump_flows: { params: { readonly filter?: FlowFilter; readonly spec?: string; readonly strict?: boolean } | undefined; result: { readonly now: number; readonly flows: readonly FlowEntry[] } };
  dump_groups: { params: { readonly id?: number } | undefined; result: readonly Group[] };
  dump_ports: { params: { readonly port?: number | string } | undefined; result: readonly PortInfo[] };
  dump_tables: { params: Record<string, never> | undefined; result: readonly TableStats[] };
  /** Lines in ovs-appctl dpctl/dump-conntrack format. */
  dump_conntrack: { params: { readonly zone?: number } | undefined; result: readonly string[] };
  add_port: { params: PortSpec; result: PortInfo };
  del_port: { params: { readonly name: string }; result: { readonly removed: boolean } };
  trace: { params: TraceParams; result: TraceResult };
  packet_out: {
    params: { readonly frame: Uint8Array; readonly actions: readonly Action[] | string; readonly inPort?: number | string; readonly key?: FlowKey };
    result: null;
  };
  resume: { params: { readonly continuation: Continuation; readonly frame?: Uint8Array; readonly key?: FlowKey }; result: null };
  /** Starts packet-in pushes to this connection. */
  subscribe: { params: { readonly events: readonly 'packet_in'[] }; result: null };
  unsubscribe: { params: { readonly events: readonly 'packet_in'[] }; result: null };
}

export type Method = keyof Methods;
export type Params<M extends Method> = Methods[M]['params'];
export type Result<M extends Method> = Methods[M]['result'];

export const METHODS: readonly Method[] = [
  'show', 'flow_mod', 'bundle', 'group_mod', 'dump_flows', 'dump_groups', 'dump_ports', 'dump_tables',
  'dump_conntrack', 'add_port', 'del_port', 'trace', 'packet_out', 'resume', 'subscribe', 'unsubscribe',
];

export interface Request {
  readonly id: number;
  readonly method: string;
  readonly params?: unknown;
}

export interface ErrorBody {
  readonly message: string;
  /** An OpenFlow error name (OFPBRC_BAD_TABLE_ID, OFPFMFC_OVERLAP …) for flow-mod failures. */
  readonly code?: string;
  /** For bundles: the failing mod. */
  readonly index?: number;
}

export type Response = { readonly id: number | null; readonly result: unknown } | { readonly id: number | null; readonly error: ErrorBody };

export interface Push {
  readonly event: 'packet_in';
  readonly data: PacketIn;
}

/** An error reply (or a local failure to talk to the switch), with the OpenFlow error name if any. */
export class ControlError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly index?: number,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}
