/**
 * In-process VIFs (simulated VMs) and the bridge's local port. Frames out of the switch are
 * handed to a callback synchronously; the callback gets its own copy, because the datapath may
 * rewrite the same buffer for its next output.
 */
import type { TunnelMetadata } from '../datapath/types.js';
import type { PortDriver, PortType } from './types.js';

export type FrameReceiver = (frame: Uint8Array) => void;

export class CallbackPort implements PortDriver {
  private receiver: FrameReceiver | undefined;
  /** Set when a receiver threw: counted by the table as a tx error. */
  lastError: unknown = undefined;

  constructor(
    readonly type: PortType,
    receiver?: FrameReceiver,
  ) {
    this.receiver = receiver;
  }

  /** Attaches (or with undefined detaches) the VM end. */
  attach(receiver: FrameReceiver | undefined): void {
    this.receiver = receiver;
  }

  transmit(frame: Uint8Array, _tunnel: TunnelMetadata | undefined): boolean {
    const r = this.receiver;
    if (!r) return this.type === 'local';
    try {
      r(frame.slice());
    } catch (e) {
      // A misbehaving VM must not take the switch down; the table counts it.
      this.lastError = e;
      return false;
    }
    return true;
  }

  linkUp(): boolean {
    return this.type === 'local' || this.receiver !== undefined;
  }

  options(): Record<string, string> {
    return {};
  }

  async close(): Promise<void> {
    this.receiver = undefined;
  }
}
