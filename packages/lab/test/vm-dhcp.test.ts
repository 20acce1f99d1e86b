// The simulated VM's DHCP client against a tiny server built on the switch's DHCP codec (with
// OVN-style option names): a lease and what it configures, retransmission, NAK, giving up,
// renewal, classless static routes.
import t from 'tap';
import { DHCPDISCOVER, DHCPREQUEST } from '@ovnts/switch';
import type { DhcpLease, NetError, SimVm } from '../src/index.js';
import { Hub, TinyDhcpServer, clean, framesWhere, waitFor } from './vm-helpers.js';

const OPTIONS = {
  router: '10.0.0.1', netmask: '255.255.255.0', lease_time: '3600', dns_server: '{8.8.8.8, 1.1.1.1}',
  domain_name: '"lab.test"', mtu: '1400',
};

function setup(t: { teardown(fn: () => void): void }, options: Record<string, string | string[]> = OPTIONS, dhcp = {}) {
  const hub = new Hub();
  const server = new TinyDhcpServer(hub, { mac: '0a:00:00:00:00:fe', ip: '10.0.0.254', pool: ['10.0.0.50', '10.0.0.51'], options });
  // Retransmission after 250 ms: none spurious on a busy machine, yet the retry tests stay short.
  const vm = hub.vm({ name: 'web1', mac: '0a:00:00:00:00:05', dhcp: { timeoutMs: 250, ...dhcp } });
  const peer = hub.vm({ name: 'peer', mac: '0a:00:00:00:00:06', ip4: '10.0.0.6/24' });
  t.teardown(() => {
    vm.close();
    peer.close();
  });
  return { hub, server, vm, peer };
}

t.test('DISCOVER → OFFER → REQUEST → ACK, then the address works', async (t) => {
  const { hub, server, vm, peer } = setup(t);
  const leases: DhcpLease[] = [];
  vm.on('lease', (l) => leases.push(l));
  t.equal(vm.ip4, undefined);
  await vm.start();
  t.equal(vm.ip4, '10.0.0.50');
  t.equal(vm.prefixLength4, 24);
  t.equal(vm.gateway4, '10.0.0.1');
  t.equal(vm.dhcpState, 'bound');
  t.match(vm.lease, {
    ip: '10.0.0.50', prefixLength: 24, subnetMask: '255.255.255.0', routers: ['10.0.0.1'], dnsServers: ['8.8.8.8', '1.1.1.1'],
    domainName: 'lab.test', mtu: 1400, serverId: '10.0.0.254', leaseTime: 3600, renewalTime: 1800, rebindingTime: 3150,
  });
  t.equal(leases.length, 1);
  t.same(server.received.map((m) => m.options.messageType), [DHCPDISCOVER, DHCPREQUEST]);
  const [disc, req] = server.received;
  t.match(disc, { op: 1, chaddr: '0a:00:00:00:00:05', ciaddr: '0.0.0.0', options: { hostname: 'web1' } });
  t.ok(disc!.options.parameterRequestList!.includes(121));
  t.equal(req!.xid, disc!.xid, 'one transaction');
  t.match(req!.options, { requestedIp: '10.0.0.50', serverId: '10.0.0.254' });
  const wire = framesWhere(hub, (d) => d.udp?.dstPort === 67);
  t.same(wire.map((f) => [f.d.ip4!.src, f.d.ip4!.dst, f.d.eth!.dst, f.d.udp!.srcPort]),
    [['0.0.0.0', '255.255.255.255', 'ff:ff:ff:ff:ff:ff', 68], ['0.0.0.0', '255.255.255.255', 'ff:ff:ff:ff:ff:ff', 68]]);
  t.ok(framesWhere(hub, (d) => d.arp?.spa === '10.0.0.50' && d.arp.tpa === '10.0.0.50').length === 1, 'gratuitous ARP for the leased address');
  const p = await vm.ping('10.0.0.6', { count: 1 });
  t.equal(p.received, 1, 'the leased address is usable');
  t.equal(await vm.start().then(() => 'same'), 'same', 'start() again is harmless');
  clean(t, hub, vm, peer);
});

t.test('retransmits a lost DISCOVER, with the same xid and growing secs', async (t) => {
  const { hub, server, vm } = setup(t);
  server.dropDiscovers = 2;
  await vm.start();
  const discovers = server.received.filter((m) => m.options.messageType === DHCPDISCOVER);
  t.equal(discovers.length, 3);
  t.equal(new Set(discovers.map((m) => m.xid)).size, 1);
  t.ok(discovers.every((m, i) => i === 0 || m.secs >= discovers[i - 1]!.secs));
  t.equal(vm.ip4, '10.0.0.50');
  clean(t, hub, vm);
});

t.test('a NAK restarts discovery', async (t) => {
  const { server, vm } = setup(t);
  server.nakRequests = 1;
  await vm.start();
  t.same(server.received.map((m) => m.options.messageType), [DHCPDISCOVER, DHCPREQUEST, DHCPDISCOVER, DHCPREQUEST]);
  t.not(server.received[0]!.xid, server.received[2]!.xid, 'a new transaction');
  t.equal(vm.ip4, '10.0.0.50');
});

t.test('no server: gives up after its attempts', async (t) => {
  const { server, vm } = setup(t, OPTIONS, { attempts: 3, timeoutMs: 20 });
  server.silent = true;
  const failed: NetError[] = [];
  vm.on('dhcpFailed', (e) => failed.push(e));
  await t.rejects(vm.start(), { code: 'timeout', message: /no DHCP offer after 3 attempts/ });
  t.equal(server.received.length, 3);
  t.equal(failed.length, 1);
  t.equal(vm.dhcpState, 'failed');
  t.equal(vm.ip4, undefined);
  await t.rejects(vm.waitForLease(), { code: 'timeout' });
});

t.test('renewal at T1 is unicast to the server; the lease goes on', async (t) => {
  const { hub, server, vm } = setup(t, { ...OPTIONS, lease_time: '4', T1: '1', T2: '3' });
  const leases: DhcpLease[] = [];
  vm.on('lease', (l) => leases.push(l));
  await vm.start();
  await waitFor(() => leases.length === 2);
  t.equal(leases.length, 2, 'renewed');
  const renew = server.received[2]!;
  t.match(renew, { ciaddr: '10.0.0.50', options: { messageType: DHCPREQUEST } });
  t.equal(renew.options.requestedIp, undefined, 'RENEWING carries no requested address');
  t.equal(renew.options.serverId, undefined);
  const f = framesWhere(hub, (d) => d.udp?.dstPort === 67).at(-1)!;
  t.same([f.d.ip4!.src, f.d.ip4!.dst, f.d.eth!.dst], ['10.0.0.50', '10.0.0.254', '0a:00:00:00:00:fe'], 'unicast, server MAC by ARP');
  t.equal(vm.ip4, '10.0.0.50');
  t.equal(vm.dhcpState, 'bound');
  clean(t, hub, vm);
});

t.test('expiry without a server: the address is dropped and discovery restarts', async (t) => {
  const { server, vm } = setup(t, { ...OPTIONS, lease_time: '1', T1: '1', T2: '1' }, { attempts: 50 });
  const lost: string[] = [];
  vm.on('leaseLost', (_l, why) => lost.push(why));
  await vm.start();
  server.silent = true;
  await waitFor(() => lost.length > 0);
  t.same(lost, ['lease expired']);
  t.equal(vm.ip4, undefined);
  t.equal(vm.dhcpState, 'selecting');
  server.silent = false;
  await vm.waitForLease();
  t.equal(vm.ip4, '10.0.0.50', 'bound again');
});

t.test('classless static routes (121) take precedence over the router option', async (t) => {
  const { hub, vm } = setup(t, { ...OPTIONS, classless_static_route: '{10.9.0.0/16,10.0.0.9, 0.0.0.0/0,10.0.0.254}' });
  await vm.start();
  t.same(vm.lease!.routes, [{ prefix: '10.9.0.0', plen: 16, gateway: '10.0.0.9' }, { prefix: '0.0.0.0', plen: 0, gateway: '10.0.0.254' }]);
  t.equal(vm.gateway4, '10.0.0.254');
  // Sending to 10.9.1.1 resolves 10.0.0.9; to 192.0.2.1 the default 10.0.0.254.
  void vm.sendUdp('10.9.1.1', 9, new Uint8Array(1)).catch(() => undefined);
  void vm.sendUdp('192.0.2.1', 9, new Uint8Array(1)).catch(() => undefined);
  await waitFor(() => framesWhere(hub, (d) => d.udp?.dstPort === 9).length > 0);
  const asked = framesWhere(hub, (d) => d.arp?.op === 1 && d.arp.spa === '10.0.0.50' && d.arp.tpa !== '10.0.0.50').map((f) => f.d.arp!.tpa);
  t.same(asked.sort(), ['10.0.0.254', '10.0.0.9']);
  t.ok(framesWhere(hub, (d) => d.udp?.dstPort === 9 && d.ip4?.dst === '192.0.2.1' && d.eth?.dst === '0a:00:00:00:00:fe').length === 1, 'via the server/router');
  clean(t, hub, vm);
});

t.test('two clients get different addresses; broadcast flag honoured', async (t) => {
  const { hub, vm } = setup(t);
  const vm2: SimVm = hub.vm({ name: 'web2', mac: '0a:00:00:00:00:07', dhcp: { timeoutMs: 250, broadcastFlag: true } });
  t.teardown(() => vm2.close());
  await Promise.all([vm.start(), vm2.start()]);
  t.same([vm.ip4, vm2.ip4].sort(), ['10.0.0.50', '10.0.0.51']);
  const toVm2 = framesWhere(hub, (d) => d.udp?.dstPort === 68 && d.ip4?.dst === '255.255.255.255');
  t.equal(toVm2.length, 2, 'OFFER and ACK broadcast for the client that asked');
  t.ok((await vm.ping(vm2.ip4!, { count: 1 })).received === 1);
  clean(t, hub, vm, vm2);
});
