// Ports over real UDP sockets on loopback: the datagram VIF (QEMU -netdev dgram / socat style),
// and Geneve tunnels between two switches with their own tunnel IPs, checked on the wire too.
import t from 'tap';
import { createSocket, type Socket } from 'node:dgram';
import { parseFlowMod } from '../src/flow/syntax.js';
import { buildUdp4 } from '../src/packet/build.js';
import { decodeGeneve, encodeGeneve, OVN_GENEVE_CLASS, OVN_GENEVE_TYPE } from '../src/packet/geneve.js';
import { ip4Number } from '../src/ports/address.js';
import { Switch } from '../src/switch.js';
import { fakeDatapath, until, type FakeDatapath } from './ports-fake-datapath.js';

const frame = (n = 1): Uint8Array =>
  buildUdp4({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' }, { src: '10.0.0.1', dst: '10.0.0.2' }, { srcPort: 1000 + n, dstPort: 53, payload: new Uint8Array(20).fill(n) });

async function udp(address: string): Promise<{ sock: Socket; port: number; got: { msg: Buffer; from: string }[] }> {
  const sock = createSocket('udp4');
  const got: { msg: Buffer; from: string }[] = [];
  sock.on('message', (msg, r) => got.push({ msg, from: `${r.address}:${r.port}` }));
  await new Promise<void>((r) => sock.bind(0, address, () => r()));
  return { sock, port: sock.address().port, got };
}

const closeSock = (s: Socket): Promise<void> => new Promise((r) => s.close(() => r()));
const dp = (sw: Switch): FakeDatapath => sw.datapath as unknown as FakeDatapath;

t.test('dgram VIF: frames in and out, one per datagram, no header', async (t) => {
  const peer = await udp('127.0.0.1');
  t.teardown(() => closeSock(peer.sock));
  const sw = new Switch({ name: 'br-int', datapath: fakeDatapath, expireIntervalMs: 0 });
  t.teardown(() => sw.close());
  const vm: Uint8Array[] = [];
  const p = await sw.addPort({ name: 'tap0', type: 'dgram', local: '127.0.0.1:0', remote: `127.0.0.1:${peer.port}` });
  await sw.addPort({ name: 'vm', type: 'internal' }, (f) => vm.push(f));
  t.equal(p.type, 'dgram');
  t.equal(p.linkUp, true);
  const local = p.options['local']!;
  t.match(local, /^127\.0\.0\.1:\d+$/);
  t.not(local, '127.0.0.1:0', 'the bound port is reported');
  sw.flowMod(parseFlowMod('in_port=1,actions=output:2'));
  sw.flowMod(parseFlowMod('in_port=2,actions=output:1'));

  const [, port] = local.split(':');
  const f1 = frame(1);
  peer.sock.send(f1, Number(port), '127.0.0.1');
  await until(() => vm.length === 1, 3000, 'the frame from the socket');
  t.same(Buffer.from(vm[0]!), Buffer.from(f1));

  const f2 = frame(2);
  sw.ports.send('vm', f2);
  await until(() => peer.got.length === 1, 3000, 'the frame to the socket');
  t.same(peer.got[0]!.msg, Buffer.from(f2), 'exactly the frame');
  t.equal(peer.got[0]!.from, local, 'sent from the bound address');

  peer.sock.send(Buffer.from([1, 2, 3]), Number(port), '127.0.0.1');
  await until(() => sw.ports.get('tap0')!.stats.rxErrors === 1, 3000, 'the runt to be counted');
  t.match(sw.ports.get('tap0')!.stats, { rxPackets: 1, rxBytes: f1.length, txPackets: 1, txBytes: f2.length, rxErrors: 1 });
  await t.rejects(sw.addPort({ name: 'tap1', type: 'dgram', local: local }), /EADDRINUSE/, 'an address in use is refused');
  await t.rejects(sw.addPort({ name: 'tap1', type: 'dgram', local: 'nowhere' }), /not IPV4:PORT/);
  t.equal(sw.ports.get('tap1'), undefined, 'nothing half-made is left');
});

t.test('dgram VIF without a fixed remote answers the last sender (socat UDP-RECVFROM style)', async (t) => {
  const peer = await udp('127.0.0.1');
  t.teardown(() => closeSock(peer.sock));
  const sw = new Switch({ name: 'br-int', datapath: fakeDatapath, expireIntervalMs: 0 });
  t.teardown(() => sw.close());
  const p = await sw.addPort({ name: 'tap0', type: 'dgram', local: '127.0.0.1:0' });
  sw.flowMod(parseFlowMod('in_port=1,actions=output:1'));
  sw.ports.send('tap0', frame(3));
  t.equal(sw.ports.get('tap0')!.stats.txDropped, 1, 'nobody to send to yet');
  peer.sock.send(frame(4), Number(p.options['local']!.split(':')[1]), '127.0.0.1');
  await until(() => peer.got.length === 1, 3000, 'the echo');
  t.same(peer.got[0]!.msg, Buffer.from(frame(4)));
  t.equal(sw.ports.get('tap0')!.options['remote'], `127.0.0.1:${peer.port}`);
});

t.test('Geneve between two switches with their own tunnel IPs: VNI and OVN option intact', async (t) => {
  const a = await Switch.create({ name: 'br-a', datapath: fakeDatapath, tunnelIp: '127.0.0.2', tunnelPort: 0, expireIntervalMs: 0 });
  t.teardown(() => a.close());
  const b = await Switch.create({ name: 'br-b', datapath: fakeDatapath, tunnelIp: '127.0.0.3', tunnelPort: 0, expireIntervalMs: 0 });
  t.teardown(() => b.close());
  const aPort = a.info().tunnelPort!;
  const bPort = b.info().tunnelPort!;
  t.ok(aPort > 0 && bPort > 0);

  const vmA: Uint8Array[] = [];
  const vmB: Uint8Array[] = [];
  await a.addPort({ name: 'vm-a', type: 'internal' }, (f) => vmA.push(f));
  await a.addPort({ name: 'to-b', type: 'tunnel', remoteIp: '127.0.0.3', remotePort: bPort });
  await b.addPort({ name: 'to-a', type: 'tunnel', remoteIp: '127.0.0.2', remotePort: aPort });
  await b.addPort({ name: 'vm-b', type: 'internal' }, (f) => vmB.push(f));
  t.match(a.ports.get('to-b')!, { ofport: 2, type: 'tunnel', linkUp: true, options: { remote_ip: '127.0.0.3', key: 'flow', dst_port: String(bPort) } });

  // A: VM frames go to B in VNI 0x123456 with OVN's option (ingress 1, egress 2).
  a.flowMod(parseFlowMod('in_port=1,actions=set_field:0x123456->tun_id,set_field:0x10002->tun_metadata0,output:2'));
  // B: only that VNI and option reach the VM; replies go back in VNI 7 without the option.
  b.flowMod(parseFlowMod('in_port=1,tun_id=0x123456,tun_metadata0=0x10002,actions=output:2'));
  b.flowMod(parseFlowMod('in_port=2,actions=set_field:7->tun_id,output:1'));
  a.flowMod(parseFlowMod('in_port=2,tun_id=7,actions=output:1'));

  const f = frame(5);
  a.ports.send('vm-a', f);
  await until(() => vmB.length === 1, 3000, 'the frame at B');
  t.same(Buffer.from(vmB[0]!), Buffer.from(f), 'inner frame intact');
  const rx = dp(b).received[0]!;
  t.equal(rx.inPort, 1);
  t.same(rx.tunnel, { tunId: 0x123456n, metadata0: 0x10002, src: ip4Number('127.0.0.2'), dst: ip4Number('127.0.0.3') });

  const g = frame(6);
  b.ports.send('vm-b', g);
  await until(() => vmA.length === 1, 3000, 'the reply at A');
  t.same(Buffer.from(vmA[0]!), Buffer.from(g));
  const back = dp(a).received.find((r) => r.inPort === 2)!;
  t.same(back.tunnel, { tunId: 7n, metadata0: undefined, src: ip4Number('127.0.0.3'), dst: ip4Number('127.0.0.2') });
  t.match(a.ports.get('to-b')!.stats, { txPackets: 1, rxPackets: 1 });
  t.match(b.ports.get('to-a')!.stats, { txPackets: 1, rxPackets: 1 });
  t.equal(a.info().tunnelIp, '127.0.0.2');
  await t.rejects(a.addPort({ name: 'dup', type: 'tunnel', remoteIp: '127.0.0.3' }), /already exists/);
});

t.test('Geneve on the wire, unknown senders, malformed packets, remote_ip=flow, closed sockets', async (t) => {
  const sw = await Switch.create({ name: 'br-int', datapath: fakeDatapath, tunnelIp: '127.0.0.2', tunnelPort: 0, expireIntervalMs: 0 });
  t.teardown(() => sw.close());
  const port = sw.info().tunnelPort!;
  const remote = await udp('127.0.0.4');
  t.teardown(() => closeSock(remote.sock));
  const stranger = await udp('127.0.0.5');
  t.teardown(() => closeSock(stranger.sock));
  const vm: Uint8Array[] = [];
  await sw.addPort({ name: 'vm', type: 'internal' }, (f) => vm.push(f));
  await sw.addPort({ name: 'gnv', type: 'tunnel', remoteIp: '127.0.0.4', remotePort: remote.port });
  sw.flowMod(parseFlowMod('in_port=1,actions=set_field:0xabcdef->tun_id,set_field:0x7fff0001->tun_metadata0,output:2'));
  sw.flowMod(parseFlowMod('in_port=2,actions=output:1'));

  const f = frame(7);
  sw.ports.send('vm', f);
  await until(() => remote.got.length === 1, 3000, 'the tunnel packet');
  t.equal(remote.got[0]!.from, `127.0.0.2:${port}`, 'from the tunnel endpoint');
  const g = decodeGeneve(remote.got[0]!.msg)!;
  t.ok(g, 'a Geneve packet');
  t.equal(g.vni, 0xabcdef);
  t.equal(g.tunMetadata0, 0x7fff0001);
  t.same(g.options.map((o) => [o.class, o.type, o.data.length]), [[OVN_GENEVE_CLASS, OVN_GENEVE_TYPE, 4]]);
  t.same(Buffer.from(g.inner), Buffer.from(f));

  // Packets from an address no port has are counted on the endpoint.
  stranger.sock.send(encodeGeneve(1, undefined, frame(8)), port, '127.0.0.2');
  await until(() => sw.info().tunnel!.unknownRemote === 1, 3000, 'the stranger to be counted');
  // Malformed Geneve and unknown critical options from the known remote are counted on its port.
  remote.sock.send(Buffer.from('not geneve'), port, '127.0.0.2');
  remote.sock.send(encodeGeneve(1, 5, frame(9), { extraOptions: [{ class: 0x0999, type: 0x81, data: new Uint8Array(4) }] }), port, '127.0.0.2');
  remote.sock.send(encodeGeneve(2, 0x20003, frame(10)), port, '127.0.0.2');
  await until(() => vm.length === 1, 3000, 'the good packet');
  t.match(sw.ports.get('gnv')!.stats, { rxErrors: 1, rxDropped: 1, rxPackets: 1 });
  t.same(Buffer.from(vm[0]!), Buffer.from(frame(10)));

  // remote_ip=flow takes what no other port takes, and sends to tun_dst.
  await sw.addPort({ name: 'any', type: 'tunnel', remoteIp: 'flow', remotePort: stranger.port });
  sw.flowMod(parseFlowMod('in_port=3,actions=set_field:127.0.0.5->tun_dst,set_field:9->tun_id,output:3'));
  stranger.sock.send(encodeGeneve(3, undefined, frame(11)), port, '127.0.0.2');
  await until(() => stranger.got.length === 1, 3000, 'the flow-port echo');
  t.equal(decodeGeneve(stranger.got[0]!.msg)!.vni, 9);
  t.equal(decodeGeneve(stranger.got[0]!.msg)!.tunMetadata0, undefined, 'no option without tun_metadata0');
  t.equal(sw.ports.get('any')!.options['remote_ip'], 'flow');
  sw.flowMod(parseFlowMod('in_port=1,actions=output:3'));
  sw.ports.send('vm', frame(12));
  t.equal(sw.ports.get('any')!.stats.txDropped, 1, 'flow port without tun_dst drops');

  // A closed tunnel socket: transmit counts drops, nothing throws.
  await sw.ports.tunnel!.stop();
  sw.flowMod(parseFlowMod('in_port=1,actions=output:2'));
  sw.ports.send('vm', frame(13));
  t.equal(sw.ports.get('gnv')!.linkUp, false);
  t.equal(sw.ports.get('gnv')!.stats.txDropped, 1);
  t.ok(await sw.delPort('gnv'));
});

t.test('close() releases every socket', async (t) => {
  const sw = await Switch.create({ name: 'br-int', datapath: fakeDatapath, tunnelIp: '127.0.0.2', tunnelPort: 0, expireIntervalMs: 0 });
  const p = await sw.addPort({ name: 'tap', type: 'dgram', local: '127.0.0.1:0' });
  const tport = sw.info().tunnelPort!;
  await sw.close();
  await sw.close();
  // The addresses are free again.
  const again = await udp('127.0.0.1');
  await closeSock(again.sock);
  const s1 = createSocket('udp4');
  await new Promise<void>((r) => s1.bind(Number(p.options['local']!.split(':')[1]), '127.0.0.1', () => r()));
  await closeSock(s1);
  const s2 = createSocket('udp4');
  await new Promise<void>((r) => s2.bind(tport, '127.0.0.2', () => r()));
  await closeSock(s2);
  t.pass('rebound both addresses');
});

t.test('Geneve between two switches running the project datapath', async (t) => {
  const a = await Switch.create({ name: 'br-a', tunnelIp: '127.0.0.2', tunnelPort: 0, expireIntervalMs: 0 });
  t.teardown(() => a.close());
  const b = await Switch.create({ name: 'br-b', tunnelIp: '127.0.0.3', tunnelPort: 0, expireIntervalMs: 0 });
  t.teardown(() => b.close());
  const vmA: Uint8Array[] = [];
  const vmB: Uint8Array[] = [];
  await a.addPort({ name: 'vm-a', type: 'internal' }, (f) => vmA.push(f));
  await a.addPort({ name: 'to-b', type: 'tunnel', remoteIp: '127.0.0.3', remotePort: b.info().tunnelPort! });
  await b.addPort({ name: 'to-a', type: 'tunnel', remoteIp: '127.0.0.2', remotePort: a.info().tunnelPort! });
  await b.addPort({ name: 'vm-b', type: 'internal' }, (f) => vmB.push(f));
  // OVN's shape: the sender puts the datapath key in the VNI and the port keys in the option;
  // the receiver matches them and restores metadata and reg14/reg15 from them.
  a.flowMod(parseFlowMod('table=0,in_port=1,actions=set_field:0x5->tun_id,set_field:0x10002->tun_metadata0,output:2'));
  a.flowMod(parseFlowMod('table=0,in_port=2,tun_id=0x6,actions=output:1'));
  b.flowMod(parseFlowMod('table=0,priority=100,in_port=1,tun_id=0x5,tun_metadata0=0x10002,actions=move:NXM_NX_TUN_ID[0..23]->OXM_OF_METADATA[0..23],load:0x2->NXM_NX_REG15[],resubmit(,1)'));
  b.flowMod(parseFlowMod('table=1,metadata=0x5,reg15=0x2,actions=output:2'));
  b.flowMod(parseFlowMod('table=0,in_port=2,actions=set_field:0x6->tun_id,output:1'));
  for (let i = 0; i < 3; i++) a.ports.send('vm-a', frame(20 + i));
  await until(() => vmB.length === 3, 3000, 'the frames at B');
  t.same(vmB.map((f) => Buffer.from(f)), [20, 21, 22].map((n) => Buffer.from(frame(n))));
  b.ports.send('vm-b', frame(30));
  await until(() => vmA.length === 1, 3000, 'the reply at A');
  t.same(Buffer.from(vmA[0]!), Buffer.from(frame(30)));
  t.match(b.dumpFlows({ table: 1 })[0]!, { nPackets: 3 });
  t.ok(a.info().datapath.cacheHits >= 1, 'the later frames came from the flow cache');
});
