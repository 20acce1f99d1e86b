// Differential test of ovn-nbctl: the same script run against a real ovsdb-server and against
// the ovnts server must print the same thing (after UUIDs are replaced by labels naming their
// rows), with the same errors and exit codes.
import t from 'tap';
import { setLogLevel } from '../src/index.js';
import { ctlDifferential as differential, missingTools } from './helpers/real-tools.js';

setLogLevel('off');

t.test('ovn-nbctl script: same output, errors and exit codes', { skip: missingTools('ovn-nbctl', 'ovsdb-server', 'ovsdb-tool') }, async (t) => {
  // Successive queries share one invocation (commands joined by "--"); errors get their own.
  const steps: string[][] = [
    ['init'],
    ['ls-add', 'sw0'],
    ['ls-add', 'sw0'],
    ['--may-exist', 'ls-add', 'sw0', '--', 'ls-add', 'sw1'],
    ['ls-list'],
    ['lsp-add', 'sw0', 'p1', '--', 'lsp-set-addresses', 'p1', '00:00:00:00:00:01 10.0.0.1'],
    ['lsp-add', 'sw0', 'p2', '--', 'lsp-set-addresses', 'p2', '00:00:00:00:00:02 10.0.0.2', 'dynamic'],
    ['lsp-add', 'sw0', 'p1'],
    ['lsp-add', 'nosuch', 'p9'],
    ['lsp-set-port-security', 'p1', '00:00:00:00:00:01 10.0.0.1', '--', 'lsp-set-enabled', 'p2', 'disabled'],
    ['lsp-get-addresses', 'p1', '--', 'lsp-get-port-security', 'p1', '--', 'lsp-list', 'sw0', '--', 'lsp-get-ls', 'p2', '--', 'lsp-get-enabled', 'p2'],
    ['lr-add', 'lr0', '--', 'lrp-add', 'lr0', 'lrp0', '00:00:00:00:ff:01', '10.0.0.254/24', '--', 'lrp-add', 'lr0', 'lrp1', '00:00:00:00:ff:02', '192.168.0.1/24'],
    ['lsp-add', 'sw0', 'sw0-lr0', '--', 'lsp-set-type', 'sw0-lr0', 'router', '--', 'lsp-set-addresses', 'sw0-lr0', 'router', '--', 'lsp-set-options', 'sw0-lr0', 'router-port=lrp0'],
    ['lr-route-add', 'lr0', '0.0.0.0/0', '192.168.0.254', '--', 'lr-route-add', 'lr0', '10.1.0.0/16', '10.0.0.100'],
    ['lr-route-add', 'lr0', '10.1.0.0/16', '10.0.0.101'],
    ['lr-nat-add', 'lr0', 'snat', '192.168.0.1', '10.0.0.0/24', '--', 'lr-nat-add', 'lr0', 'dnat_and_snat', '192.168.0.10', '10.0.0.1'],
    ['lr-nat-add', 'lr0', 'snat', '192.168.0.1', '10.0.0.0/24'],
    ['lrp-list', 'lr0', '--', 'lr-route-list', 'lr0', '--', 'lr-nat-list', 'lr0'],
    ['acl-add', 'sw0', 'from-lport', '1000', 'ip4', 'allow-related'],
    ['--log', '--name=acl1', '--severity=info', 'acl-add', 'sw0', 'to-lport', '1001', 'tcp.dst == 22', 'drop'],
    ['acl-add', 'sw0', 'sideways', '1', 'ip', 'drop'],
    ['pg-add', 'pg1', 'p1', 'p2', '--', '--type=port-group', 'acl-add', 'pg1', 'to-lport', '900', 'outport == @pg1 && ip4', 'allow'],
    ['acl-list', 'sw0', '--', 'acl-list', 'pg1'],
    ['pg-set-ports', 'pg1', 'p1'],
    ['lb-add', 'lb0', '10.0.0.10:80', '10.0.0.1:8080,10.0.0.2:8080', 'tcp', '--', 'lb-add', 'lb0', '10.0.0.11:80', '10.0.0.1:8080', 'tcp', '--', 'ls-lb-add', 'sw0', 'lb0'],
    ['lb-add', 'lb0', '10.0.0.11:80', '10.0.0.2:8080', 'tcp'],
    ['ls-lb-list', 'sw0', '--', 'lb-list'],
    ['dhcp-options-create', '10.0.0.0/24'],
    ['dhcp-options-list'],
    ['show'],
    ['show', 'sw0'],
    ['list', 'Logical_Switch', 'sw0', '--', 'list', 'Logical_Router_Port'],
    ['--columns=name,addresses', 'list', 'Logical_Switch_Port'],
    ['find', 'Logical_Switch_Port', 'name=p1', '--', '--bare', '--columns=name', 'find', 'Logical_Switch_Port', 'type=router'],
    ['get', 'Logical_Switch', 'sw0', 'name', '--', 'get', 'Logical_Switch_Port', 'p1', 'addresses', 'port_security'],
    ['set', 'Logical_Switch', 'sw0', 'other_config:foo=bar', 'external_ids:owner="me and you"'],
    ['get', 'Logical_Switch', 'sw0', 'other_config', 'external_ids:owner'],
    ['remove', 'Logical_Switch', 'sw0', 'other_config', 'foo', '--', 'add', 'Logical_Switch', 'sw0', 'other_config', 'a=b', '--', 'clear', 'Logical_Switch', 'sw0', 'acls'],
    ['list', 'ACL'],
    ['set', 'Logical_Switch', 'sw0', 'nosuchcolumn=1'],
    ['get', 'Logical_Switch', 'nosuch', 'name'],
    ['--if-exists', 'get', 'Logical_Switch', 'nosuch', 'name'],
    ['set', 'ACL', 'nosuch', 'priority=1'],
    ['create', 'Address_Set', 'name=as1', 'addresses=10.0.0.1,10.0.0.2'],
    ['create', 'Address_Set', 'name=as1'],
    ['list', 'Address_Set'],
    ['destroy', 'Load_Balancer', 'lb0'],
    ['ls-lb-list', 'sw0'],
    ['ls-del', 'nosuch'],
    ['--if-exists', 'ls-del', 'nosuch', '--', 'lsp-del', 'p2'],
    ['lsp-del', 'p2'],
    ['ls-del', 'sw1', '--', 'lr-route-del', 'lr0', '10.1.0.0/16', '--', 'lr-nat-del', 'lr0', 'snat', '--', 'lrp-del', 'lrp1'],
    ['show'],
    ['lr-del', 'lr0', '--', 'pg-del', 'pg1', '--', 'ls-del', 'sw0'],
    ['show'],
    ['list', 'Logical_Switch_Port'],
  ];
  await differential(t, 'ovn-nb', 'ovn-nbctl', [], steps);
});
