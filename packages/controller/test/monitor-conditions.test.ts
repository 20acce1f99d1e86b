// Conditional monitoring: which datapaths are local to a chassis, and the conditions that follow.
import t from 'tap';
import { Sb } from '@ovnts/ovsdb';
import { localDatapaths, monitorConditions, type LocalView } from '../src/monitor-conditions.js';

const pb = (logical_port: string, datapath: string, type = '', options: Record<string, string> = {}, chassis?: string): Sb.PortBinding => ({
  ...Sb.tables.Port_Binding.fromWire({ logical_port, type, options: ['map', Object.entries(options)] } as never),
  _uuid: `pb-${logical_port}`,
  datapath,
  ...(chassis ? { chassis } : {}),
});

// sw1 -- r1 -- sw2; sw3 alone; r2 (a gateway router on hv9) -- sw4.
const PORTS = [
  pb('vm1', 'sw1'), pb('vm2', 'sw2'), pb('vm3', 'sw3', '', {}, 'c-here'), pb('vm4', 'sw4'),
  pb('sw1-r1', 'sw1', 'patch', { peer: 'r1-sw1' }), pb('r1-sw1', 'r1', 'patch', { peer: 'sw1-r1' }),
  pb('sw2-r1', 'sw2', 'patch', { peer: 'r1-sw2' }), pb('r1-sw2', 'r1', 'patch', { peer: 'sw2-r1' }),
  pb('sw4-r2', 'sw4', 'l3gateway', { peer: 'r2-sw4', 'l3gateway-chassis': 'hv9' }), pb('r2-sw4', 'r2', 'l3gateway', { peer: 'sw4-r2', 'l3gateway-chassis': 'hv9' }),
];
const view = (v: Partial<LocalView>): LocalView => ({ ports: PORTS, dpGroups: [], chassisUuid: 'c-here', ifaceIds: new Set(), gateways: new Set(), ...v });

t.test('local datapaths: those with a local port, closed under patch peers', async (t) => {
  t.same([...localDatapaths(view({ ifaceIds: new Set(['vm1']) }))].sort(), ['r1', 'sw1', 'sw2', 'sw3'], 'vm1 reaches sw2 through r1; vm3 is bound here');
  t.same([...localDatapaths(view({ chassisUuid: undefined }))], [], 'nothing local on a chassis without ports');
  t.same([...localDatapaths(view({ chassisUuid: undefined, gateways: new Set(['r2-sw4']) }))].sort(), ['r2', 'sw4'], 'a hosted gateway port makes its router local');
});

t.test('conditions ask for local rows, local VIFs, patch peers and gateway ports', async (t) => {
  const group: Sb.LogicalDPGroup = { ...Sb.tables.Logical_DP_Group.fromWire({} as never), _uuid: 'g1', datapaths: ['sw2', 'sw4'] };
  const other: Sb.LogicalDPGroup = { ...Sb.tables.Logical_DP_Group.fromWire({} as never), _uuid: 'g2', datapaths: ['sw4'] };
  const c = monitorConditions(view({ chassisUuid: undefined, ifaceIds: new Set(['vm2', 'vm-not-yet']), dpGroups: [group, other] }));
  t.same(c['Logical_Flow'], [
    ['logical_datapath', '==', ['uuid', 'r1']], ['logical_datapath', '==', ['uuid', 'sw1']], ['logical_datapath', '==', ['uuid', 'sw2']],
    ['logical_dp_group', '==', ['uuid', 'g1']],
  ]);
  const names = (c['Port_Binding'] ?? []).flatMap((x) => (Array.isArray(x) && x[0] === 'logical_port' ? [x[2]] : []));
  t.same(names, ['r1-sw1', 'r1-sw2', 'sw1-r1', 'sw2-r1', 'vm-not-yet', 'vm2'], 'VIFs (even before their binding is seen) and patch peers by name');
  t.ok((c['Port_Binding'] ?? []).some((x) => Array.isArray(x) && x[0] === 'type' && x[2] === 'chassisredirect'), 'every chassisredirect port (to place gateways)');
  t.same(monitorConditions(view({ chassisUuid: undefined }))['Logical_Flow'], [false], 'no local datapath: no logical flows');
});
