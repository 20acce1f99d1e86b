/**
 * The action model: what OVN's flows ask a switch to do, as plain immutable objects (a
 * discriminated union on `type`). An empty list drops the packet. Fields are named as in
 * catalog.ts (canonical names: reg14, eth_src, xxreg0 …); values are bigints over the field's
 * own width (not shifted into the key word).
 *
 * The legacy OpenFlow 1.0 setters (mod_dl_src, mod_nw_dst, mod_tp_dst, mod_nw_tos …) and `load`
 * all become `set_field`; `load: true` remembers that the flow was written with `load`, which
 * ovs-ofctl keeps when printing (as OVS does, for OpenFlow versions before 1.5).
 */

/** OpenFlow 1.0 port numbers (OVS keeps ports 16-bit internally): 1..0xfeff are switch ports. */
export const OFPP = {
  MAX: 0xff00,
  IN_PORT: 0xfff8,
  TABLE: 0xfff9,
  NORMAL: 0xfffa,
  FLOOD: 0xfffb,
  ALL: 0xfffc,
  CONTROLLER: 0xfffd,
  LOCAL: 0xfffe,
  NONE: 0xffff,
} as const;

/** A bit range of a named field: `field[ofs..ofs+bits-1]`. */
export interface SubField {
  readonly field: string;
  readonly ofs: number;
  readonly bits: number;
}

export type ControllerReason = 'action' | 'no_match' | 'invalid_ttl' | 'action_set' | 'group' | 'packet_out';

/** ct(nat(...)): without `kind`, NAT as already set up for the connection. */
export interface NatSpec {
  readonly kind?: 'src' | 'dst';
  readonly ipv6?: boolean;
  readonly ipMin?: bigint;
  readonly ipMax?: bigint;
  readonly portMin?: number;
  readonly portMax?: number;
  readonly persistent?: boolean;
  readonly hash?: boolean;
  readonly random?: boolean;
}

export interface OutputAction {
  readonly type: 'output';
  /** A port number or one of OFPP (IN_PORT, LOCAL, …). Output to CONTROLLER is a ControllerAction. */
  readonly port: number;
  readonly maxLen?: number;
}
/** output:NXM_NX_REG15[]: to the port number held in a field. */
export interface OutputRegAction {
  readonly type: 'output_reg';
  readonly src: SubField;
  readonly maxLen?: number;
}
export interface ControllerAction {
  readonly type: 'controller';
  readonly maxLen: number;
  readonly reason: ControllerReason;
  readonly id: number;
  /** Hex digits, two per byte. */
  readonly userdata?: string;
  readonly pause?: boolean;
  readonly meterId?: number;
}
/** resubmit([port],[table]): port undefined = the packet's in_port; table undefined = this table. */
export interface ResubmitAction {
  readonly type: 'resubmit';
  readonly port?: number;
  readonly table?: number;
}
export interface GotoTableAction {
  readonly type: 'goto_table';
  readonly table: number;
}
/** Sets the bits of `mask` in `field` to those of `value` (both over the field's width). */
export interface SetFieldAction {
  readonly type: 'set_field';
  readonly field: string;
  readonly value: bigint;
  readonly mask: bigint;
  /** Written as `load:`; only affects printing. */
  readonly load?: boolean;
}
export interface MoveAction {
  readonly type: 'move';
  readonly src: SubField;
  readonly dst: SubField;
}
export interface DecTtlAction {
  readonly type: 'dec_ttl';
  /** Controller ids to notify when the TTL expires (dec_ttl(1,2)); absent = just id 0. */
  readonly ids?: readonly number[];
}
export interface PushVlanAction {
  readonly type: 'push_vlan';
  readonly tpid: number;
}
export interface PopVlanAction {
  readonly type: 'pop_vlan';
}
/** mod_vlan_vid / mod_vlan_pcp: set the VID or PCP, pushing an 802.1Q header if there is none. */
export interface ModVlanVidAction {
  readonly type: 'mod_vlan_vid';
  readonly vid: number;
}
export interface ModVlanPcpAction {
  readonly type: 'mod_vlan_pcp';
  readonly pcp: number;
}
/** conjunction(id, k/n): this flow is clause k (1-based) of n of conjunctive match `id`. */
export interface ConjunctionAction {
  readonly type: 'conjunction';
  readonly id: number;
  readonly clause: number;
  readonly nClauses: number;
}
export interface GroupAction {
  readonly type: 'group';
  readonly group: number;
}
export interface CloneAction {
  readonly type: 'clone';
  readonly actions: readonly Action[];
}
export interface CtAction {
  readonly type: 'ct';
  readonly commit: boolean;
  readonly force: boolean;
  /** A zone number, or the field bits that hold it (zone=NXM_NX_REG13[0..15]). */
  readonly zone?: number | SubField;
  /** Recirculate into this table after conntrack. */
  readonly table?: number;
  /** Application-layer gateway: 21 (ftp) or 69 (tftp). */
  readonly alg?: number;
  readonly nat?: NatSpec;
  /** Only set_field/move of ct_mark and ct_label, applied on commit. */
  readonly exec: readonly Action[];
}
export interface CtClearAction {
  readonly type: 'ct_clear';
}
export interface NoteAction {
  readonly type: 'note';
  /** Hex digits, two per byte. */
  readonly data: string;
}
export interface ExitAction {
  readonly type: 'exit';
}
/** push:FIELD[..]: saves bits on the packet's stack (OVN saves registers around lookups). */
export interface StackPushAction {
  readonly type: 'stack_push';
  readonly src: SubField;
}
/** pop:FIELD[..]: restores the most recently pushed bits. */
export interface StackPopAction {
  readonly type: 'stack_pop';
  readonly dst: SubField;
}

export type Action =
  | OutputAction
  | OutputRegAction
  | ControllerAction
  | ResubmitAction
  | GotoTableAction
  | SetFieldAction
  | MoveAction
  | DecTtlAction
  | PushVlanAction
  | PopVlanAction
  | ModVlanVidAction
  | ModVlanPcpAction
  | ConjunctionAction
  | GroupAction
  | CloneAction
  | CtAction
  | CtClearAction
  | NoteAction
  | ExitAction
  | StackPushAction
  | StackPopAction;

export type ActionType = Action['type'];

/**
 * Does the action list output to `port`? This is the flow-mod `out_port` filter: output,
 * output to the controller (port CONTROLLER), and, as OVS checks them, nested clone actions.
 */
export function outputsTo(actions: readonly Action[], port: number): boolean {
  for (const a of actions) {
    if (a.type === 'output' && a.port === port) return true;
    if (a.type === 'controller' && port === OFPP.CONTROLLER) return true;
    if (a.type === 'clone' && outputsTo(a.actions, port)) return true;
  }
  return false;
}

/** Does the action list send to group `group` (the `out_group` filter)? */
export function outputsToGroup(actions: readonly Action[], group: number): boolean {
  for (const a of actions) {
    if (a.type === 'group' && a.group === group) return true;
    if (a.type === 'clone' && outputsToGroup(a.actions, group)) return true;
  }
  return false;
}

/** Structural equality of action lists (bigint-aware). */
export function actionsEqual(a: readonly Action[], b: readonly Action[]): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return `${x}n`;
    if (x && typeof x === 'object' && !Array.isArray(x)) {
      const entries = Object.entries(x as Record<string, unknown>).filter(([, y]) => y !== undefined);
      return Object.fromEntries(entries.sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0)));
    }
    return x;
  });
}
