// `ovnts sbctl` against ovn-sbctl, on a real ovsdb-server and on the ovnts server (see
// helpers/ctl-diff.ts).
import t from 'tap';
import { SBCTL } from '../src/ctl/sbctl/tool.js';
import { ctlDiff, tools } from './helpers/ctl-diff.js';

const skip = tools.missingTools('ovn-sbctl', 'ovsdb-server', 'ovsdb-tool');

t.test('chassis and the generic commands', { skip }, async (t) => {
  await ctlDiff(t, 'ovn-sb', 'ovn-sbctl', SBCTL, [
    ['show'],
    ['init'],
    ['chassis-add', 'hv1', 'geneve', '127.0.0.2'],
    ['chassis-add', 'hv1', 'geneve', '127.0.0.2'],
    ['--may-exist', 'chassis-add', 'hv1', 'geneve', '127.0.0.2'],
    ['chassis-add', 'hv2', 'vxlan,geneve', '127.0.0.3'],
    ['chassis-add', 'hv3', 'geneve'],
    ['set', 'Chassis', 'hv1', 'hostname=host1', 'external_ids:ovn-bridge-mappings=physnet1:br-ex'],
    ['--id=@dp', 'create', 'Datapath_Binding', 'tunnel_key=1', 'external_ids:name=sw0', '--', 'create', 'Port_Binding', 'datapath=@dp', 'logical_port=lsp1', 'tunnel_key=1', '--', 'create', 'Port_Binding', 'datapath=@dp', 'logical_port=lsp2', 'tunnel_key=2', 'mac="00:00:00:00:00:02 10.0.0.2"'],
    ['create', 'Port_Binding', 'logical_port=orphan', 'tunnel_key=3'],
    ['set', 'Port_Binding', 'lsp1', 'chassis=hv1'],
    ['--id=@ch', 'get', 'Chassis', 'hv1', '--', 'set', 'Port_Binding', 'lsp1', 'chassis=@ch', 'up=true'],
    ['lsp-bind', 'lsp2', 'hv2'],
    ['lsp-bind', 'lsp2', 'hv1'],
    ['--may-exist', 'lsp-bind', 'lsp2', 'hv2'],
    ['--may-exist', 'lsp-bind', 'lsp2', 'hv1'],
    ['lsp-bind', 'nosuch', 'hv2'],
    ['lsp-bind', 'orphan', 'nosuch'],
    ['show'],
    ['lsp-unbind', 'lsp2'],
    ['lsp-unbind', 'nosuch'],
    ['--if-exists', 'lsp-unbind', 'nosuch'],
    ['list', 'Chassis', 'hv1'],
    ['--columns=logical_port,chassis,tunnel_key,up', 'list', 'Port_Binding'],
    ['find', 'Port_Binding', 'logical_port=lsp1'],
    ['get', 'Port_Binding', 'lsp1', 'chassis', '--', 'get', 'Datapath_Binding', 'sw0', 'tunnel_key'],
    ['--bare', '--columns=type,ip', 'list', 'Encap'],
    ['-f', 'table', '--columns=type,ip,options', 'list', 'Encap'],
    ['list', 'Datapath_Binding', 'nosuch'],
    ['chassis-del', 'hv2'],
    ['chassis-del', 'hv2'],
    ['--if-exists', 'chassis-del', 'hv2'],
    ['list', 'Encap'],
    ['show'],
    ['destroy', 'Datapath_Binding', '@nosuch'],
    ['--no-wait', 'show'],
    ['--wait=sb', 'show'],
  ]);
});
