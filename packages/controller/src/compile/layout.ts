/**
 * OVN's OpenFlow layout (ovn-architecture(7), "Architectural Physical Life Cycle of a Packet"),
 * as ovn-controller 23.03 numbers it: which table does what, and which registers carry the
 * logical datapath, ports, flags and conntrack zones between tables. The controller and the
 * logical-flow compiler share these so that every flow agrees on where things are.
 */

/** OpenFlow table numbers. */
export const OFTABLE = {
  /** Physical to logical: VIF ports and tunnels set metadata/reg14 and enter the ingress pipeline. */
  PHY_TO_LOG: 0,
  /** Logical ingress table N is OpenFlow table 8 + N. */
  LOG_INGRESS_PIPELINE: 8,
  OUTPUT_LARGE_PKT_DETECT: 37,
  OUTPUT_LARGE_PKT_PROCESS: 38,
  /** Logical outport on another chassis: tunnel there. */
  REMOTE_OUTPUT: 39,
  /** Logical outport here (or a multicast group): loop over local ports. */
  LOCAL_OUTPUT: 40,
  /** Drops a packet going back out its logical inport unless flags.loopback. */
  CHECK_LOOPBACK: 41,
  /** Logical egress table N is OpenFlow table 42 + N. */
  LOG_EGRESS_PIPELINE: 42,
  SAVE_INPORT: 64,
  /** Logical to physical: a local VIF, a patch port's peer datapath, a localnet port. */
  LOG_TO_PHY: 65,
  /** get_arp/get_nd: (outport, IP) → eth.dst. */
  MAC_BINDING: 66,
  /** lookup_arp/lookup_nd: (inport, IP, MAC) known? */
  MAC_LOOKUP: 67,
  CHK_LB_HAIRPIN: 68,
  CHK_LB_HAIRPIN_REPLY: 69,
  CT_SNAT_HAIRPIN: 70,
  GET_FDB: 71,
  LOOKUP_FDB: 72,
  CHK_IN_PORT_SEC: 73,
  CHK_IN_PORT_SEC_ND: 74,
  CHK_OUT_PORT_SEC: 75,
  ECMP_NH_MAC: 76,
  ECMP_NH: 77,
} as const;

/** Registers OVN reserves (MFF_LOG_*); logical reg0..reg9 are OpenFlow reg0..reg9. */
export const REG = {
  FLAGS: 'reg10',
  DNAT_ZONE: 'reg11',
  SNAT_ZONE: 'reg12',
  CT_ZONE: 'reg13',
  INPORT: 'reg14',
  OUTPORT: 'reg15',
} as const;

/**
 * Bits of reg10 (MLF_*): the logical `flags` field. Bits the match language names (loopback 0,
 * force_snat_for_dnat 2, force_snat_for_lb 3, skip_snat_for_lb 9, use_snat_zone 11) keep their
 * positions; the controller uses two more for results of table lookups.
 */
export const FLAG_BIT = {
  LOOPBACK: 0,
  /** Result of check_in_port_sec / check_out_port_sec (table 73/75). */
  CHECK_PORT_SEC: 12,
  /** Result of lookup_arp / lookup_nd (table 67), lookup_fdb (table 72). */
  LOOKUP_RESULT: 13,
} as const;

/** Number of logical tables a pipeline may use (ingress 8..36, egress 42..63). */
export const LOG_INGRESS_TABLES = OFTABLE.OUTPUT_LARGE_PKT_DETECT - OFTABLE.LOG_INGRESS_PIPELINE;
export const LOG_EGRESS_TABLES = OFTABLE.SAVE_INPORT - OFTABLE.LOG_EGRESS_PIPELINE;

/** The OpenFlow table of logical table `table` of `pipeline`. */
export function ofTable(pipeline: 'ingress' | 'egress', table: number): number {
  return (pipeline === 'ingress' ? OFTABLE.LOG_INGRESS_PIPELINE : OFTABLE.LOG_EGRESS_PIPELINE) + table;
}
