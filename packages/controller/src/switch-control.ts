/**
 * The controller's switch, reached through the switch's control socket (SwitchClient): the
 * adapter between the controller's SwitchControl needs and the control protocol.
 */
import { SwitchClient } from '@ovnts/switch/dist/src/control/client.js';
import type { SwitchControl } from './controller.js';

export async function connectSwitchSocket(target: string): Promise<SwitchControl> {
  const c = await SwitchClient.connect(target, { reconnect: true, connectTimeoutMs: 30_000 });
  return {
    bundle: async (mods) => {
      await c.bundle(mods);
    },
    addGroup: async (group) => {
      await c.groupMod({ command: 'add', group });
    },
    modifyGroup: async (group) => {
      await c.groupMod({ command: 'modify', group, mayCreate: true });
    },
    deleteGroup: async (id) => {
      await c.groupMod({ command: 'delete', id });
    },
    dumpFlows: async () => [...(await c.dumpFlows()).flows],
    dumpGroups: async () => [...(await c.dumpGroups())],
    packetOut: (frame, actions, opts) => c.packetOut(frame, actions, opts),
    resume: (cont, frame, key) => c.resume(cont, frame, key),
    onPacketIn: (handler) => {
      void c.onPacketIn(handler);
    },
  };
}
