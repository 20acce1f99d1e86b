/**
 * Minimal structured logging: timestamp, level, component, message, to stderr. Quiet by
 * default (warnings and errors); `setLogLevel('info' | 'debug')` or OVNTS_LOG=debug for more.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'off';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, off: 100 };

let threshold: number = ORDER[(process.env['OVNTS_LOG'] as LogLevel | undefined) ?? 'warn'] ?? ORDER.warn;
let sink: (line: string) => void = (line) => process.stderr.write(line + '\n');

export function setLogLevel(level: LogLevel): void {
  threshold = ORDER[level];
}

export function setLogSink(fn: (line: string) => void): void {
  sink = fn;
}

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  enabled(level: LogLevel): boolean;
}

export function logger(component: string): Logger {
  const emit = (level: LogLevel, msg: string): void => {
    if (ORDER[level] < threshold) return;
    sink(`${new Date().toISOString()}|${level.toUpperCase()}|${component}|${msg}`);
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
    enabled: (level) => ORDER[level] >= threshold,
  };
}
