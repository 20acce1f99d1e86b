// The command catalogs (what parsing and --help know of each command without loading its code)
// must say what the implementations say, and name every command they implement.
import t from 'tap';
import { NBCTL } from '../src/ctl/nbctl/tool.js';
import { SBCTL } from '../src/ctl/sbctl/tool.js';
import { VSCTL } from '../src/ctl/vsctl/tool.js';
import type { CommandSpec, ToolSpec } from '../src/ctl/tool.js';

const MODULES: Record<string, readonly (() => Promise<readonly CommandSpec[]>)[]> = {
  'ovn-nbctl': [
    async () => (await import('../src/ctl/nbctl/switch-commands.js')).SWITCH_COMMANDS,
    async () => (await import('../src/ctl/nbctl/port-commands.js')).PORT_COMMANDS,
    async () => (await import('../src/ctl/nbctl/router-commands.js')).ROUTER_COMMANDS,
    async () => (await import('../src/ctl/nbctl/router-port-commands.js')).ROUTER_PORT_COMMANDS,
    async () => (await import('../src/ctl/nbctl/acl-commands.js')).ACL_COMMANDS,
    async () => (await import('../src/ctl/nbctl/lb-commands.js')).LB_COMMANDS,
    async () => (await import('../src/ctl/nbctl/nat-commands.js')).NAT_COMMANDS,
    async () => (await import('../src/ctl/nbctl/gateway-dhcp-commands.js')).GATEWAY_DHCP_COMMANDS,
    async () => (await import('../src/ctl/nbctl/ha-commands.js')).HA_COMMANDS,
    async () => [(await import('../src/ctl/nbctl/show.js')).show],
    async () => (await import('../src/ctl/db-commands.js')).DB_COMMANDS,
  ],
  'ovn-sbctl': [
    async () => (await import('../src/ctl/sbctl/chassis-commands.js')).CHASSIS_COMMANDS,
    async () => (await import('../src/ctl/sbctl/lflow-commands.js')).LFLOW_COMMANDS,
    async () => (await import('../src/ctl/sbctl/connection-commands.js')).CONNECTION_COMMANDS,
    async () => (await import('../src/ctl/ssl-commands.js')).sslCommands('SB_Global', 5),
    async () => [(await import('../src/ctl/generic-show.js')).genericShow()],
    async () => (await import('../src/ctl/db-commands.js')).DB_COMMANDS,
  ],
  'ovs-vsctl': [
    async () => (await import('../src/ctl/vsctl/bridge-commands.js')).BRIDGE_COMMANDS,
    async () => (await import('../src/ctl/vsctl/info-commands.js')).INFO_COMMANDS,
    async () => (await import('../src/ctl/vsctl/controller-commands.js')).CONTROLLER_COMMANDS,
    async () => (await import('../src/ctl/vsctl/more-commands.js')).MORE_COMMANDS,
    async () => (await import('../src/ctl/ssl-commands.js')).sslCommands('Open_vSwitch', 3),
    async () => [(await import('../src/ctl/generic-show.js')).genericShow()],
    async () => (await import('../src/ctl/db-commands.js')).DB_COMMANDS,
  ],
};

const meta = (c: CommandSpec | ToolSpec['commands'][number]): unknown[] => [c.name, c.minArgs, c.maxArgs, c.args, c.options, c.mode];

for (const tool of [NBCTL, SBCTL, VSCTL]) {
  t.test(`${tool.program}: catalog matches the implementations`, async (t) => {
    const names = tool.commands.map((c) => c.name);
    t.same(names, [...new Set(names)], 'no command is listed twice');
    for (const entry of tool.commands) {
      const spec = await entry.load();
      t.same(meta(spec), meta(entry), `${entry.name}: catalog entry equals its implementation`);
      t.equal(typeof spec.run, 'function', `${entry.name}: has code`);
    }
    for (const load of MODULES[tool.program]!) {
      for (const spec of await load()) t.ok(names.includes(spec.name), `${spec.name} (implemented) is in the catalog`);
    }
  });
}
