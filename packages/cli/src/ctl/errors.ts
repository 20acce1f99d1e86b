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

/**
 * Warnings on stderr in the format OVS's vlog uses on the console:
 * `2024-05-01T10:00:00Z|00002|db_ctl_base|WARN|message`. Message numbers count every message
 * logged anywhere; like the real tools, an invocation that may write logs "Called as ..." to
 * syslog first, so its first console warning is number 2.
 */
export class ConsoleLog {
  private seq = 0;

  constructor(private readonly write: (s: string) => void = (s) => process.stderr.write(s)) {}

  /** Counts a message that went to a destination other than the console. */
  skip(): void {
    this.seq++;
  }

  warn(module: string, message: string): void {
    this.emit(module, 'WARN', message);
  }

  err(module: string, message: string): void {
    this.emit(module, 'ERR', message);
  }

  private emit(module: string, level: 'WARN' | 'ERR', message: string): void {
    this.seq++;
    const ts = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    this.write(`${ts}|${String(this.seq).padStart(5, '0')}|${module}|${level}|${message}\n`);
  }
}
