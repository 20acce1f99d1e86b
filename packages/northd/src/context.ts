/**
 * What every flow builder gets: the topology, NB_Global options that change flows, the chassis
 * features the flows may rely on, per-switch ACL facts, and the table to add flows to.
 */
import type { Nb } from '@ovnts/ovsdb';
import type { LflowTable } from './lflow-table.js';
import type { Datapath, Model } from './model.js';

/** Chassis capabilities (northd's chassis_features): all chassis must have one for flows to use it. */
export interface ChassisFeatures {
  /** ct_mark.blocked / ct_lb_mark instead of ct_label.blocked / ct_lb. */
  readonly ctNoMaskedLabel: boolean;
  readonly macBindingTimestamp: boolean;
  readonly ctLbRelated: boolean;
  readonly fdbTimestamp: boolean;
}

/** Per-switch ACL and load-balancer facts (ls_get_acl_flags, has_lb_vip). */
export interface SwitchAclInfo {
  readonly hasAcls: boolean;
  readonly hasStatefulAcl: boolean;
  readonly hasLbVip: boolean;
  /** ACLs of the switch itself, then of the port groups that hold one of its ports. */
  readonly acls: readonly Nb.ACL[];
}

export interface BuildContext {
  readonly model: Model;
  readonly lflows: LflowTable;
  readonly features: ChassisFeatures;
  readonly nbOptions: Readonly<Record<string, string>>;
  /** options:ignore_lsp_down (default true): ARP/ND replies also for ports that are down. */
  readonly checkLspIsUp: boolean;
  /** Meters by name (for fair ACL log meters). */
  readonly meters: ReadonlyMap<string, Nb.Meter>;
  /** ACL facts per switch (computed when first asked for). */
  readonly aclInfo: { get(key: string): SwitchAclInfo | undefined };
  /** "drop;" (northd's debug_drop_action without a drop-sampling collector). */
  readonly dropAction: string;
}

export function aclInfoOf(ctx: BuildContext, od: Datapath): SwitchAclInfo {
  return ctx.aclInfo.get(od.key) ?? { hasAcls: false, hasStatefulAcl: false, hasLbVip: false, acls: [] };
}
