// `ovnts sbctl` connection, SSL and IP multicast commands against ovn-sbctl, on a real
// ovsdb-server and on the ovnts server (see helpers/ctl-diff.ts).
import t from 'tap';
import { SBCTL } from '../src/ctl/sbctl/tool.js';
import { ctlDiff, tools } from './helpers/ctl-diff.js';

const skip = tools.missingTools('ovn-sbctl', 'ovsdb-server', 'ovsdb-tool');

t.test('connections, SSL, ip-multicast-flush', { skip }, async (t) => {
  await ctlDiff(t, 'ovn-sb', 'ovn-sbctl', SBCTL, [
    ['get-connection'],
    ['del-connection'],
    ['set-connection', 'ptcp:6642', 'pssl:6643:127.0.0.1'],
    ['get-connection'],
    ['list', 'Connection'],
    ['set-connection', 'ptcp:6642', 'bogus'],
    ['--inactivity-probe=5000', 'set-connection', 'ptcp:6642', 'punix:/tmp/x.sock'],
    ['--columns=target,inactivity_probe', 'list', 'Connection'],
    ['set-connection', 'ptcp:1', 'ptcp:2', '--', 'set', 'Connection', 'ptcp:2', 'read_only=true', 'role=ovn-controller'],
    ['get-connection'],
    ['get', 'SB_Global', '.', 'connections'],
    ['set-connection'],
    ['del-connection', '--', 'get-connection'],
    ['list', 'Connection'],
    ['get-ssl'],
    ['del-ssl'],
    ['set-ssl', 'key.pem', 'cert.pem', 'ca.pem'],
    ['get-ssl'],
    ['set-ssl', 'k2', 'c2', 'ca2', 'TLSv1.2', 'HIGH'],
    ['get-ssl', '--', 'list', 'SSL'],
    ['--bootstrap', 'set-ssl', 'k3', 'c3', 'ca3', 'TLSv1.3'],
    ['get-ssl'],
    ['list', 'SSL'],
    ['set-ssl', 'a', 'b'],
    ['set-ssl', 'a', 'b', 'c', 'd', 'e', 'f'],
    ['del-ssl', '--', 'get-ssl'],
    ['list', 'SSL'],
    ['get', 'SB_Global', '.', 'ssl'],
    ['--id=@dp', 'create', 'Datapath_Binding', 'tunnel_key=1', 'external_ids:name=sw0', '--', 'create', 'IP_Multicast', 'datapath=@dp', 'seq_no=5', '--', 'create', 'Datapath_Binding', 'tunnel_key=2', 'external_ids:name=sw1'],
    ['ip-multicast-flush', 'sw0'],
    ['ip-multicast-flush', 'sw0', '--', 'ip-multicast-flush', 'sw0'],
    ['--columns=seq_no', 'list', 'IP_Multicast'],
    ['ip-multicast-flush', 'sw1'],
    ['ip-multicast-flush', 'nosuch'],
    ['ip-multicast-flush'],
    ['--columns=seq_no', 'list', 'IP_Multicast'],
    ['ip-multicast-flush', 'sw0', 'sw1'],
  ]);
});
