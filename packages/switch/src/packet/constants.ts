/** Protocol numbers used by the packet codec (IEEE EtherTypes, IANA protocol numbers, RFC types). */

export const ETH_HEADER_LEN = 14;
export const VLAN_HEADER_LEN = 4;

export const ETH_TYPE_IP4 = 0x0800;
export const ETH_TYPE_ARP = 0x0806;
export const ETH_TYPE_RARP = 0x8035;
export const ETH_TYPE_VLAN = 0x8100;
export const ETH_TYPE_VLAN_8021AD = 0x88a8;
export const ETH_TYPE_IP6 = 0x86dd;
/** EtherType of a Geneve payload that is an Ethernet frame ("Transparent Ethernet Bridging"). */
export const ETH_TYPE_TEB = 0x6558;
/** OVS's dl_type for 802.3 frames without a SNAP header (the EtherType field is a length). */
export const ETH_TYPE_NONE = 0x05ff;
/** Values below this in the EtherType position are 802.3 lengths. */
export const ETH_TYPE_MIN = 0x0600;

/** The bit of `vlan_tci` in a flow key that says "a tag is present" (the tag's CFI/DEI position). */
export const VLAN_PRESENT = 0x1000;
export const VLAN_VID_MASK = 0x0fff;
export const VLAN_PCP_SHIFT = 13;

export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;
export const IPPROTO_SCTP = 132;

/** nw_frag bits. */
export const FRAG_ANY = 1;
export const FRAG_LATER = 2;

export const ARP_OP_REQUEST = 1;
export const ARP_OP_REPLY = 2;

export const ICMP4_ECHO_REPLY = 0;
export const ICMP4_DEST_UNREACH = 3;
export const ICMP4_ECHO_REQUEST = 8;
export const ICMP4_TIME_EXCEEDED = 11;

export const ICMP6_DEST_UNREACH = 1;
export const ICMP6_PACKET_TOO_BIG = 2;
export const ICMP6_TIME_EXCEEDED = 3;
export const ICMP6_ECHO_REQUEST = 128;
export const ICMP6_ECHO_REPLY = 129;
export const ND_ROUTER_SOLICIT = 133;
export const ND_ROUTER_ADVERT = 134;
export const ND_NEIGHBOR_SOLICIT = 135;
export const ND_NEIGHBOR_ADVERT = 136;
export const ND_OPT_SOURCE_LL = 1;
export const ND_OPT_TARGET_LL = 2;

/** TCP flag bits as they sit in `tcp_flags` (the low 12 bits of header bytes 12..13). */
export const TCP_FIN = 0x001;
export const TCP_SYN = 0x002;
export const TCP_RST = 0x004;
export const TCP_PSH = 0x008;
export const TCP_ACK = 0x010;
export const TCP_URG = 0x020;
export const TCP_ECE = 0x040;
export const TCP_CWR = 0x080;
export const TCP_NS = 0x100;

export const GENEVE_PORT = 6081;
