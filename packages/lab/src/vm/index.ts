/** The simulated VM of the lab: a small host IP stack behind one Ethernet port. */
export { SimVm, type SimVmOptions, type SimVmEvents, type SimVmStats } from './sim-vm.js';
export { NetError, icmp4Reason, icmp6Reason, describeIcmpError, type IcmpErrorReport, type NetErrorCode } from './errors.js';
export type { PingOptions, PingProbe, PingResult } from './icmp.js';
export type { UdpMessage, UdpHandler, UdpSendOptions, UdpRequestOptions, UdpSocket } from './udp.js';
export type { TcpHandler, TcpListener, TcpOptions, TcpRequestInfo, TcpRequestOptions } from './tcp.js';
export type { DhcpClientOptions, DhcpLease, DhcpState } from './dhcp-client.js';
export type { NeighborEntry, NeighborOptions } from './neighbors.js';
export type { SendOptions } from './ip.js';
