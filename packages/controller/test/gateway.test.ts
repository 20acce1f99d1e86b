// Gateway placement: which chassis hosts each l3gateway and chassisredirect port, and the
// physical flows that follow (local on the gateway chassis, through the tunnel elsewhere).
import t from 'tap';
import fc from 'fast-check';
import { Sb } from '@ovnts/ovsdb';
import { gatewayPlacement } from '../src/gateway.js';
import { physicalFlows, type PhysPort } from '../src/physical.js';
import { OFTABLE } from '../src/compile/layout.js';

const chassis = (name: string): Sb.Chassis => ({ ...Sb.tables.Chassis.fromWire({ name } as never), _uuid: `c-${name}` });
const pb = (logical_port: string, type: string, options: Record<string, string>, ha?: string): Sb.PortBinding => ({
  ...Sb.tables.Port_Binding.fromWire({ logical_port, type, options: ['map', Object.entries(options)] } as never),
  _uuid: `pb-${logical_port}`,
  ...(ha ? { ha_chassis_group: ha } : {}),
});

t.test('l3gateway ports belong to their l3gateway-chassis', async (t) => {
  const p = gatewayPlacement({ ports: [pb('gw-in', 'l3gateway', { 'l3gateway-chassis': 'hv2', peer: 'in-gw' }), pb('vm1', '', {})], chassis: [], haGroups: [], haChassis: [] });
  t.same([...p], [['gw-in', 'hv2']]);
});

t.test('a chassisredirect port goes to the registered chassis of highest priority', async () => {
  // Random priorities and registrations: the winner is always the maximum among registered
  // chassis, ties to the lower name; unregistered chassis never win.
  fc.assert(fc.property(
    fc.array(fc.record({ name: fc.constantFrom('hv1', 'hv2', 'hv3', 'hv4'), priority: fc.integer({ min: 0, max: 3 }), registered: fc.boolean() }), { maxLength: 4 }),
    (entries) => {
      const uniq = [...new Map(entries.map((e) => [e.name, e])).values()];
      const registered = uniq.filter((e) => e.registered).map((e) => chassis(e.name));
      const haChassis: Sb.HAChassis[] = uniq.map((e, i) => ({
        ...Sb.tables.HA_Chassis.fromWire({ priority: e.priority } as never),
        _uuid: `ha-${i}`,
        ...(e.registered ? { chassis: `c-${e.name}` } : {}),
      }));
      const group: Sb.HAChassisGroup = { ...Sb.tables.HA_Chassis_Group.fromWire({ name: 'g' } as never), _uuid: 'g1', ha_chassis: haChassis.map((h) => h._uuid) };
      const got = gatewayPlacement({ ports: [pb('cr-lrp', 'chassisredirect', { 'distributed-port': 'lrp' }, 'g1')], chassis: registered, haGroups: [group], haChassis }).get('cr-lrp');
      const best = uniq.filter((e) => e.registered).sort((a, b) => b.priority - a.priority || (a.name < b.name ? -1 : 1))[0];
      return got === best?.name;
    },
  ));
});

t.test('physical flows: the gateway chassis hands a redirected packet to the distributed port; others tunnel it', async (t) => {
  const dp = { key: 5, isRouter: true, dnatZone: 21, snatZone: 22 };
  const port = (name: string, key: number, type: string, extra: Partial<PhysPort> = {}): PhysPort => ({
    name, datapathKey: 5, key, type, peer: undefined, chassis: undefined, portSecurity: [], ofport: undefined, zone: 0, ...extra,
  });
  const lrp = port('lrp', 4, 'patch', { peer: 'ext-r', zone: 6 });
  const onGateway = physicalFlows({
    chassis: 'hv1', datapaths: [dp], multicastGroups: [], macBindings: [], tunnels: new Map([['hv2', 9]]),
    ports: [lrp, port('cr-lrp', 5, 'chassisredirect', { distributedPort: 'lrp', chassis: 'hv1' })],
  });
  const local = onGateway.filter((f) => f.table === OFTABLE.LOCAL_OUTPUT && f.actions.some((a) => a.type === 'set_field' && a.field === 'reg15'));
  t.equal(local.length, 1, 'one redirect flow on the gateway');
  const fields = local[0]!.actions.flatMap((a) => (a.type === 'set_field' ? [[a.field, Number(a.value)]] : []));
  t.same(fields, [['reg15', 4], ['reg13', 6], ['reg11', 21], ['reg12', 22]], 'outport = distributed port, with its zone and the router zones');
  t.notOk(onGateway.some((f) => f.table === OFTABLE.REMOTE_OUTPUT && f.actions.some((a) => a.type === 'output')), 'nothing tunnelled on the gateway');

  const elsewhere = physicalFlows({
    chassis: 'hv2', datapaths: [dp], multicastGroups: [], macBindings: [], tunnels: new Map([['hv1', 7]]),
    ports: [lrp, port('cr-lrp', 5, 'remote', { distributedPort: 'lrp', chassis: 'hv1' })],
  });
  const tunnel = elsewhere.filter((f) => f.table === OFTABLE.REMOTE_OUTPUT && f.actions.some((a) => a.type === 'output' && a.port === 7));
  t.equal(tunnel.length, 1, 'the redirected packet leaves through the tunnel to the gateway');
  t.notOk(elsewhere.some((f) => f.table === OFTABLE.LOCAL_OUTPUT && f.actions.some((a) => a.type === 'set_field' && a.field === 'reg15')), 'no local redirect elsewhere');
});
