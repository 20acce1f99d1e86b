/**
 * The one error type of the ctl tools: what ovs-vsctl/ovn-nbctl report with ctl_fatal() or
 * ctl_error(), printed as "PROGRAM: MESSAGE" with exit status 1.
 */
export class CtlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CtlError';
  }
}

export function fail(message: string): never {
  throw new CtlError(message);
}

/** Ends the invocation with this exit status and no message (ovs-vsctl br-exists). */
export class ExitStatus extends CtlError {
  constructor(readonly status: number) {
    super('');
    this.name = 'ExitStatus';
  }
}
