/** An in-process switch behind the controller's SwitchControl interface (what the control socket gives a daemon). */
import type { FlowKey } from '@ovnts/switch';
import type { Switch } from '@ovnts/switch/dist/src/switch.js';
import type { SwitchControl } from '../../src/controller.js';

export function control(sw: Switch): SwitchControl {
  return {
    bundle: async (mods) => void sw.bundle(mods),
    addGroup: async (group) => void sw.groupMod({ command: 'add', group }),
    modifyGroup: async (group) => void sw.groupMod({ command: 'modify', group, mayCreate: true }),
    deleteGroup: async (id) => void sw.groupMod({ command: 'delete', id }),
    dumpFlows: async () => sw.dumpFlows(),
    dumpGroups: async () => sw.dumpGroups(),
    packetOut: async (frame, actions, opts) => sw.packetOut(frame, actions, opts),
    resume: async (cont, frame, key?: FlowKey) => sw.resume(cont, frame, key),
    onPacketIn: (h) => void sw.onPacketIn(h),
  };
}
