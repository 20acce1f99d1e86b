/** `ovnts northd --ovnnb-db REMOTE --ovnsb-db REMOTE`: the NB → SB compiler (packages/northd). */
import { northdMain } from '@ovnts/northd';

export function runNorthd(args: readonly string[]): Promise<number> {
  return northdMain([...args]);
}
