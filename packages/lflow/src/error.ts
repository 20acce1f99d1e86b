/**
 * The one error type of the logical-flow language. `message` is worded as ovn-controller words
 * it (so logs and tests compare with real OVN); `start`/`end` locate the offending text.
 */
export class MatchError extends Error {
  override readonly name = 'MatchError';

  constructor(
    message: string,
    readonly input: string,
    readonly start: number,
    readonly end: number,
  ) {
    super(message);
  }

  /** The input with a caret line under the offending text, for CLI output. */
  pointer(): string {
    const width = Math.max(1, this.end - this.start);
    return `${this.input}\n${' '.repeat(this.start)}${'^'.repeat(width)}`;
  }
}
