/**
 * Patch ports: pairs of ports inside one switch. A frame sent out of one comes back into the
 * datapath on its peer (through the port table's queue, so never re-entering a datapath call
 * that is still running).
 */
import type { TunnelMetadata } from '../datapath/types.js';
import type { PortDriver } from './types.js';

export interface PatchFabric {
  /** Whether a port named `peer` exists (the patch's link state). */
  hasPeer(peer: string): boolean;
  /** Queues `frame` as received on `peer`; false if there is no such port. */
  deliverToPeer(peer: string, frame: Uint8Array): boolean;
}

export class PatchPort implements PortDriver {
  readonly type = 'patch' as const;

  constructor(
    readonly peer: string,
    private readonly fabric: PatchFabric,
  ) {}

  transmit(frame: Uint8Array, _tunnel: TunnelMetadata | undefined): boolean {
    // Copied: it waits in a queue while the datapath may reuse its buffer.
    return this.fabric.deliverToPeer(this.peer, frame.slice());
  }

  linkUp(): boolean {
    return this.fabric.hasPeer(this.peer);
  }

  options(): Record<string, string> {
    return { peer: this.peer };
  }

  async close(): Promise<void> {}
}
