/**
 * OVN 23.03's logical pipeline stages: name, pipeline and table number (ovn-northd(8)). The
 * tables are an interface with ovn-controller and ovn-trace, so these numbers must not move.
 */
export type Pipeline = 'ingress' | 'egress';

export interface Stage {
  readonly name: string;
  readonly pipeline: Pipeline;
  readonly table: number;
  /** Switch or router pipeline. */
  readonly kind: 'ls' | 'lr';
}

function stages<N extends string>(kind: 'ls' | 'lr', pipeline: Pipeline, prefix: string, names: readonly N[]): { readonly [K in N]: Stage } {
  const out = {} as { [K in N]: Stage };
  names.forEach((n, table) => (out[n] = { name: `${prefix}_${n}`, pipeline, table, kind }));
  return out;
}

/** Logical switch ingress pipeline. */
export const LS_IN = stages('ls', 'ingress', 'ls_in', [
  'check_port_sec', 'apply_port_sec', 'lookup_fdb', 'put_fdb', 'pre_acl', 'pre_lb', 'pre_stateful', 'acl_hint', 'acl',
  'qos_mark', 'qos_meter', 'lb_aff_check', 'lb', 'lb_aff_learn', 'pre_hairpin', 'nat_hairpin', 'hairpin', 'acl_after_lb',
  'stateful', 'arp_rsp', 'dhcp_options', 'dhcp_response', 'dns_lookup', 'dns_response', 'external_port', 'l2_lkup', 'l2_unknown',
] as const);

/** Logical switch egress pipeline. */
export const LS_OUT = stages('ls', 'egress', 'ls_out', [
  'pre_acl', 'pre_lb', 'pre_stateful', 'acl_hint', 'acl', 'qos_mark', 'qos_meter', 'stateful', 'check_port_sec', 'apply_port_sec',
] as const);

/** Logical router ingress pipeline. */
export const LR_IN = stages('lr', 'ingress', 'lr_in', [
  'admission', 'lookup_neighbor', 'learn_neighbor', 'ip_input', 'unsnat', 'defrag', 'lb_aff_check', 'dnat', 'lb_aff_learn',
  'ecmp_stateful', 'nd_ra_options', 'nd_ra_response', 'ip_routing_pre', 'ip_routing', 'ip_routing_ecmp', 'policy', 'policy_ecmp',
  'arp_resolve', 'chk_pkt_len', 'larger_pkts', 'gw_redirect', 'arp_request',
] as const);

/** Logical router egress pipeline. */
export const LR_OUT = stages('lr', 'egress', 'lr_out', [
  'chk_dnat_local', 'undnat', 'post_undnat', 'snat', 'post_snat', 'egr_loop', 'delivery',
] as const);

export const ALL_STAGES: readonly Stage[] = [LS_IN, LS_OUT, LR_IN, LR_OUT].flatMap((s) => Object.values(s));
