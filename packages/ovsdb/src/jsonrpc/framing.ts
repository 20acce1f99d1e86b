/**
 * OVSDB's wire framing: JSON values written back to back with no delimiter. The splitter
 * tracks nesting depth and string state byte by byte, so a value may be split at any byte
 * (including inside a multi-byte UTF-8 character) across reads.
 */

export class FramingError extends Error {}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

export class JsonStreamSplitter {
  private chunks: Buffer[] = [];
  /** Bytes buffered for the value in progress (all chunks). */
  private pending = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;

  constructor(private readonly maxMessageBytes = 64 * 1024 * 1024) {}

  /** Feeds bytes; calls `onValue` with each complete top-level value's parsed JSON. */
  push(data: Buffer, onValue: (value: unknown) => void): void {
    let start = 0;
    const n = data.length;
    let i = 0;
    if (this.depth === 0 && this.pending === 0) {
      while (i < n && isSpace(data[i]!)) i++;
      start = i;
    }
    for (; i < n; i++) {
      const b = data[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) this.inString = false;
        continue;
      }
      if (this.depth === 0 && b !== OPEN_BRACE && b !== OPEN_BRACKET) {
        if (isSpace(b)) continue;
        throw new FramingError(`unexpected byte 0x${b.toString(16)} outside a JSON object`);
      }
      if (b === QUOTE) {
        this.inString = true;
      } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
        this.depth++;
      } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        if (--this.depth === 0) {
          onValue(this.parse(data, start, i + 1));
          i++;
          while (i < n && isSpace(data[i]!)) i++;
          start = i;
          i--;
        }
      }
    }
    if (start < n) {
      this.chunks.push(start === 0 ? data : data.subarray(start));
      this.pending += n - start;
      if (this.pending > this.maxMessageBytes) {
        throw new FramingError(`message exceeds the limit of ${this.maxMessageBytes} bytes`);
      }
    }
  }

  private parse(data: Buffer, start: number, end: number): unknown {
    let text: string;
    if (this.chunks.length === 0) {
      text = data.toString('utf8', start, end);
    } else {
      this.chunks.push(data.subarray(start, end));
      text = Buffer.concat(this.chunks).toString('utf8');
      this.chunks = [];
      this.pending = 0;
    }
    if (text.length > this.maxMessageBytes) throw new FramingError(`message exceeds the limit of ${this.maxMessageBytes} bytes`);
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new FramingError(`syntax error: ${(e as Error).message}`);
    }
  }

  /** Whether a partial value is buffered (a peer that closes now has torn a message). */
  get hasPartial(): boolean {
    return this.pending > 0 || this.depth > 0;
  }
}
