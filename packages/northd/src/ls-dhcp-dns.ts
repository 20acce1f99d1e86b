/**
 * Native DHCPv4/DHCPv6 and DNS on logical switches (ls_in_dhcp_options, ls_in_dhcp_response,
 * ls_in_dns_lookup, ls_in_dns_response) and the external-port guard (ls_in_external_port).
 * put_dhcp_opts() options are listed sorted by name, as northd does, after the offered address.
 */
import type { Nb } from '@ovnts/ovsdb';
import type { LportAddresses } from './addresses.js';
import type { BuildContext } from './context.js';
import { coppMeter, lsHasDnsRecords } from './ls-acl.js';
import { formatIp4, formatIp6, ip4Mask, ip6LinkLocal, ip6Mask, parseCidr, parseMac } from './ip.js';
import type { Datapath, Port } from './model.js';
import { lspIsEnabled } from './model.js';
import { LS_IN } from './stages.js';

const SRC = 'ls-dhcp-dns.ts';

const byKey = (a: [string, string], b: [string, string]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** ip_parse_masked: "A.B.C.D/N" or "A.B.C.D/MASK" or a host address. */
function parseIp4Masked(s: string): { addr: number; mask: number } | undefined {
  const c = parseCidr(s);
  if (!c || c.family !== 4) return undefined;
  return { addr: c.addr, mask: ip4Mask(c.plen) };
}

function dhcpv4Action(op: Port, d: Nb.DHCPOptions, offer: number): { options: string; response: string; addrMatch: string } | undefined {
  const cidr = parseIp4Masked(d.cidr);
  if (!cidr || ((offer ^ cidr.addr) & cidr.mask) !== 0) return undefined;
  const serverIp = d.options['server_id'];
  const serverMac = d.options['server_mac'];
  const lease = d.options['lease_time'];
  if (serverIp === undefined || serverMac === undefined || lease === undefined) return undefined;
  const opts = new Map(Object.entries(d.options));
  opts.delete('server_mac');
  opts.set('netmask', formatIp4(cidr.mask >>> 0));
  const hostname = op.nbsp!.options['hostname'];
  if (hostname) opts.set('hostname', hostname);
  const parts = [...opts.entries()].sort(byKey).map(([k, v]) => `${k} = ${v}`);
  return {
    options: `reg0[3] = put_dhcp_opts(offerip = ${formatIp4(offer)}, ${parts.join(', ')}); next;`,
    response: `eth.dst = eth.src; eth.src = ${serverMac}; ip4.src = ${serverIp}; udp.src = 67; udp.dst = 68; outport = inport; flags.loopback = 1; output;`,
    addrMatch: `ip4.src == ${formatIp4(offer)} && ip4.dst == {${serverIp}, 255.255.255.255}`,
  };
}

function dhcpv6Action(d: Nb.DHCPOptions, offer: bigint): { options: string; response: string } | undefined {
  const c = parseCidr(d.cidr);
  if (!c || c.family !== 6) return undefined;
  const mask = ip6Mask(c.plen);
  if (((offer ^ c.addr) & mask) !== 0n) return undefined;
  const serverMac = d.options['server_id'];
  const ea = serverMac === undefined ? undefined : parseMac(serverMac);
  if (ea === undefined) return undefined;
  const serverIp = formatIp6(ip6LinkLocal(ea));
  const parts: string[] = [];
  if (d.options['dhcpv6_stateless'] !== 'true') parts.push(`ia_addr = ${formatIp6(offer)}`);
  for (const [k, v] of Object.entries(d.options).sort(byKey)) if (k !== 'dhcpv6_stateless') parts.push(`${k} = ${v}`);
  return {
    options: `reg0[3] = put_dhcpv6_opts(${parts.join(', ')}); next;`,
    response: `eth.dst = eth.src; eth.src = ${serverMac}; ip6.dst = ip6.src; ip6.src = ${serverIp}; udp.src = 547; udp.dst = 546; outport = inport; flags.loopback = 1; output;`,
  };
}

function buildDhcpv4Flows(ctx: BuildContext, op: Port, addrs: LportAddresses, inport: Port, external: boolean): void {
  const d = ctx.model.input.nb.DHCP_Options.get(op.nbsp!.dhcpv4_options ?? '');
  if (!d) return;
  const od = op.od;
  const resident = external ? ` && is_chassis_resident(${op.json})` : '';
  for (const ip of addrs.ipv4) {
    const a = dhcpv4Action(op, d, ip.addr);
    if (!a) continue;
    const o = { hint: d._uuid, ioPort: inport.name, meter: coppMeter(od, 'dhcpv4-opts', ctx), source: SRC };
    ctx.lflows.add(od.key, LS_IN.dhcp_options, 100,
      `inport == ${inport.json} && eth.src == ${addrs.eaS} && ip4.src == 0.0.0.0 && ip4.dst == 255.255.255.255 && udp.src == 68 && udp.dst == 67${resident}`, a.options, o);
    ctx.lflows.add(od.key, LS_IN.dhcp_options, 100,
      `inport == ${inport.json} && eth.src == ${addrs.eaS} && ${a.addrMatch} && udp.src == 68 && udp.dst == 67${resident}`, a.options, o);
    ctx.lflows.add(od.key, LS_IN.dhcp_response, 100,
      `inport == ${inport.json} && eth.src == ${addrs.eaS} && ip4 && udp.src == 68 && udp.dst == 67 && reg0[3]${resident}`, a.response,
      { hint: d._uuid, ioPort: inport.name, source: SRC });
    break;
  }
}

function buildDhcpv6Flows(ctx: BuildContext, op: Port, addrs: LportAddresses, inport: Port, external: boolean): void {
  const d = ctx.model.input.nb.DHCP_Options.get(op.nbsp!.dhcpv6_options ?? '');
  if (!d) return;
  const od = op.od;
  const resident = external ? ` && is_chassis_resident(${op.json})` : '';
  for (const ip of addrs.ipv6) {
    const a = dhcpv6Action(d, ip.addr);
    if (!a) continue;
    const match = `inport == ${inport.json} && eth.src == ${addrs.eaS} && ip6.dst == ff02::1:2 && udp.src == 546 && udp.dst == 547${resident}`;
    ctx.lflows.add(od.key, LS_IN.dhcp_options, 100, match, a.options, { hint: d._uuid, ioPort: inport.name, meter: coppMeter(od, 'dhcpv6-opts', ctx), source: SRC });
    ctx.lflows.add(od.key, LS_IN.dhcp_response, 100, `${match} && reg0[3]`, a.response, { hint: d._uuid, ioPort: inport.name, source: SRC });
    break;
  }
}

export function buildDhcpOptionsAndResponse(ctx: BuildContext, op: Port): void {
  const lsp = op.nbsp;
  if (!lsp || !lspIsEnabled(lsp) || lsp.type === 'router') return;
  if (lsp.dhcpv4_options === undefined && lsp.dhcpv6_options === undefined) return;
  const external = lsp.type === 'external';
  if (external && (op.od.localnetPorts.length === 0 || lsp.ha_chassis_group === undefined)) return;
  for (const addrs of op.lspAddrs) {
    const inports = external ? op.od.localnetPorts : [op];
    for (const inport of inports) {
      buildDhcpv4Flows(ctx, op, addrs, inport, external);
      buildDhcpv6Flows(ctx, op, addrs, inport, external);
    }
  }
}

export function buildDhcpAndDnsDefaults(ctx: BuildContext, od: Datapath): void {
  for (const s of [LS_IN.dhcp_options, LS_IN.dhcp_response, LS_IN.dns_lookup, LS_IN.dns_response, LS_IN.external_port]) {
    ctx.lflows.add(od.key, s, 0, '1', 'next;', { source: SRC });
  }
}

export function buildDnsLookupAndResponse(ctx: BuildContext, od: Datapath): void {
  if (!lsHasDnsRecords(ctx, od)) return;
  ctx.lflows.add(od.key, LS_IN.dns_lookup, 100, 'udp.dst == 53', 'reg0[4] = dns_lookup(); next;', { meter: coppMeter(od, 'dns', ctx), source: SRC });
  const m = 'udp.dst == 53 && reg0[4]';
  ctx.lflows.add(od.key, LS_IN.dns_response, 100, m,
    'eth.dst <-> eth.src; ip4.src <-> ip4.dst; udp.dst = udp.src; udp.src = 53; outport = inport; flags.loopback = 1; output;', { source: SRC });
  ctx.lflows.add(od.key, LS_IN.dns_response, 100, m,
    'eth.dst <-> eth.src; ip6.src <-> ip6.dst; udp.dst = udp.src; udp.src = 53; outport = inport; flags.loopback = 1; output;', { source: SRC });
}

/** External ports: ARP/ND for router IPs from the localnet side is only for the chassis hosting them. */
export function buildExternalPort(ctx: BuildContext, op: Port): void {
  const lsp = op.nbsp;
  if (!lsp || lsp.type !== 'external') return;
  const od = op.od;
  for (const ln of od.localnetPorts) {
    const o = { hint: op.uuid, ioPort: ln.name, source: SRC };
    for (const a of op.lspAddrs) {
      for (const rp of od.routerPorts) {
        for (const ra of rp.lspAddrs) {
          for (const ip of ra.ipv4) {
            ctx.lflows.add(od.key, LS_IN.external_port, 100,
              `inport == ${ln.json} && eth.src == ${a.eaS} && !is_chassis_resident(${op.json}) && arp.tpa == ${ip.addrS} && arp.op == 1`, ctx.dropAction, o);
          }
          for (const ip of ra.ipv6) {
            ctx.lflows.add(od.key, LS_IN.external_port, 100,
              `inport == ${ln.json} && eth.src == ${a.eaS} && !is_chassis_resident(${op.json}) && nd_ns && ip6.dst == {${ip.addrS}, ${ip.snAddrS}} && nd.target == ${ip.addrS}`, ctx.dropAction, o);
          }
          ctx.lflows.add(od.key, LS_IN.external_port, 100,
            `inport == ${ln.json} && eth.src == ${a.eaS} && eth.dst == ${ra.eaS} && !is_chassis_resident(${op.json})`, ctx.dropAction, o);
        }
      }
    }
  }
}
