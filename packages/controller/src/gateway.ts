/**
 * Which gateway ports a chassis hosts. Two kinds of logical router port live on one chassis
 * rather than everywhere (ovn-architecture(7), "Gateway Routers" and "Distributed Gateway
 * Ports"):
 * - `l3gateway` ports, on both sides of a gateway router's links, belong to the chassis named
 *   in their `l3gateway-chassis` option;
 * - a `chassisredirect` port belongs to the chassis of its HA chassis group with the highest
 *   priority. Without BFD between chassis, "alive" means registered in the Southbound DB: a
 *   chassis whose controller exits cleanly deletes its Chassis row, so the next one takes over.
 * The controller claims these ports (Port_Binding.chassis) like VIFs, and the physical flows treat
 * them as local only here; other chassis reach them through the tunnel.
 */
import type { Sb } from '@ovnts/ovsdb';

export interface GatewayInput {
  readonly ports: readonly Sb.PortBinding[];
  readonly chassis: readonly Sb.Chassis[];
  readonly haGroups: readonly Sb.HAChassisGroup[];
  readonly haChassis: readonly Sb.HAChassis[];
}

/** The chassis (by name) that should host each gateway port, for every gateway port. */
export function gatewayPlacement(sb: GatewayInput): Map<string, string> {
  const chassisName = new Map(sb.chassis.map((c) => [c._uuid, c.name]));
  const haByUuid = new Map(sb.haChassis.map((h) => [h._uuid, h]));
  const groupByUuid = new Map(sb.haGroups.map((g) => [g._uuid, g]));
  const out = new Map<string, string>();
  for (const pb of sb.ports) {
    if (pb.type === 'l3gateway') {
      const c = pb.options['l3gateway-chassis'];
      if (c) out.set(pb.logical_port, c);
    } else if (pb.type === 'chassisredirect' && pb.ha_chassis_group !== undefined) {
      const group = groupByUuid.get(pb.ha_chassis_group);
      let best: { name: string; priority: number } | undefined;
      for (const u of group?.ha_chassis ?? []) {
        const h = haByUuid.get(u);
        const name = h?.chassis !== undefined ? chassisName.get(h.chassis) : undefined;
        if (!h || name === undefined) continue;
        // Highest priority wins; equal priorities go to the lower name, so every chassis agrees.
        if (!best || h.priority > best.priority || (h.priority === best.priority && name < best.name)) best = { name, priority: h.priority };
      }
      if (best) out.set(pb.logical_port, best.name);
    }
  }
  return out;
}
