// Differential test of the operator CLIs: the same ovn-sbctl and ovs-vsctl scripts run against
// a real ovsdb-server and against the ovnts server must print the same thing (after UUIDs are
// replaced by labels naming their rows), with the same errors and exit codes. (ovn-nbctl: see
// interop-nbctl.test.ts.)
import t from 'tap';
import { setLogLevel } from '../src/index.js';
import { ctlDifferential as differential, missingTools } from './helpers/real-tools.js';

setLogLevel('off');

t.test('ovn-sbctl script: same output, errors and exit codes', { skip: missingTools('ovn-sbctl', 'ovsdb-server', 'ovsdb-tool') }, async (t) => {
  const steps: string[][] = [
    ['init'],
    ['chassis-add', 'hv1', 'geneve', '127.0.0.2'],
    ['chassis-add', 'hv1', 'geneve', '127.0.0.2'],
    ['--may-exist', 'chassis-add', 'hv1', 'geneve', '127.0.0.2'],
    ['chassis-add', 'hv2', 'geneve,vxlan', '127.0.0.3'],
    ['--id=@dp', 'create', 'Datapath_Binding', 'tunnel_key=1', 'external_ids:name=sw0', '--', 'create', 'Port_Binding', 'datapath=@dp', 'logical_port=lsp1', 'tunnel_key=1', '--', 'create', 'Port_Binding', 'datapath=@dp', 'logical_port=lsp2', 'tunnel_key=2', 'mac="00:00:00:00:00:02 10.0.0.2"'],
    ['create', 'Port_Binding', 'logical_port=orphan', 'tunnel_key=3'],
    ['lsp-bind', 'lsp1', 'hv1'],
    ['lsp-bind', 'lsp1', 'hv2'],
    ['lsp-bind', 'nosuch', 'hv2'],
    ['lsp-bind', 'lsp2', 'hv2'],
    ['show'],
    ['list', 'Chassis', 'hv1'],
    ['--columns=logical_port,chassis,tunnel_key', 'list', 'Port_Binding'],
    ['find', 'Port_Binding', 'logical_port=lsp1'],
    ['get', 'Port_Binding', 'lsp1', 'chassis'],
    ['--bare', '--columns=type,ip', 'list', 'Encap'],
    ['lsp-unbind', 'lsp1'],
    ['lsp-unbind', 'lsp1'],
    ['--if-exists', 'lsp-unbind', 'lsp1'],
    ['chassis-del', 'hv2'],
    ['chassis-del', 'hv2'],
    ['list', 'Encap'],
    ['show'],
    ['lflow-list'],
    ['destroy', 'Datapath_Binding', '@nosuch'],
  ];
  await differential(t, 'ovn-sb', 'ovn-sbctl', [], steps);
});

t.test('ovs-vsctl script (--no-wait): same output, errors and exit codes', { skip: missingTools('ovs-vsctl', 'ovsdb-server', 'ovsdb-tool') }, async (t) => {
  const steps: string[][] = [
    ['init'],
    ['add-br', 'br0'],
    ['add-br', 'br0'],
    ['--may-exist', 'add-br', 'br0'],
    ['add-port', 'br0', 'p1'],
    ['add-port', 'br0', 'p2', '--', 'set', 'Interface', 'p2', 'type=internal'],
    ['add-port', 'nobr', 'p3'],
    ['set', 'Interface', 'p1', 'external_ids:iface-id=lsp1', 'external_ids:attached-mac="00:00:00:00:00:01"'],
    ['set', 'Open_vSwitch', '.', 'external_ids:system-id=hv1', 'external_ids:ovn-remote=unix:/nowhere', 'external_ids:ovn-encap-type=geneve', 'external_ids:ovn-encap-ip=127.0.0.2'],
    ['get', 'Open_vSwitch', '.', 'external_ids'],
    ['get', 'Open_vSwitch', '.', 'external_ids:system-id'],
    ['list-br'],
    ['list-ports', 'br0'],
    ['list-ifaces', 'br0'],
    ['port-to-br', 'p1'],
    ['iface-to-br', 'p2'],
    ['br-exists', 'br0'],
    ['br-exists', 'nobr'],
    ['list', 'Bridge'],
    ['--columns=name,type,external_ids', 'list', 'Interface'],
    ['find', 'Interface', 'external_ids:iface-id=lsp1'],
    ['--bare', '--columns=name', 'find', 'Interface', 'type=internal'],
    ['get', 'Interface', 'p1', 'external_ids:iface-id'],
    ['get', 'Bridge', 'br0', 'ports'],
    ['show'],
    ['add-br', 'br1', '--', 'set', 'Bridge', 'br1', 'fail-mode=secure'],
    ['add-bond', 'br1', 'bond0', 'e1', 'e2'],
    ['list-ports', 'br1'],
    ['del-port', 'p2'],
    ['del-port', 'nosuch'],
    ['--if-exists', 'del-port', 'nosuch'],
    ['remove', 'Interface', 'p1', 'external_ids', 'attached-mac'],
    ['clear', 'Bridge', 'br1', 'fail_mode'],
    ['show'],
    ['del-br', 'br1'],
    ['del-br', 'br1'],
    ['show'],
  ];
  await differential(t, 'vswitch', 'ovs-vsctl', ['--no-wait', '--timeout=5'], steps);
});
