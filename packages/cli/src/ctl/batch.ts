/**
 * Batch mode (an ovnts extension): `ovnts nbctl [GLOBAL-OPTIONS] --batch < FILE` runs one
 * invocation per input line, in one process, so a script of thousands of commands pays Node's
 * start-up once instead of per command. Each line is what would follow the tool's name on a
 * shell command line (quotes and backslashes as a POSIX shell reads them); blank lines and
 * lines starting with # are skipped. The global options given before --batch apply to every
 * line. Output and errors are each line's own; the exit status is 0 if every line succeeded,
 * else that of the first line that failed.
 */
import { scanOptions } from './option-scan.js';
import type { RunIo } from './runner.js';
import type { ToolSpec } from './tool.js';

/** Splits one line into words the way a POSIX shell would (no expansions). */
export function splitShellWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated single quote in: ${line}`);
      cur += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      i++;
      for (; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) i++;
        cur += line[i];
      }
      if (i >= line.length) throw new Error(`unterminated double quote in: ${line}`);
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** Whether argv asks for batch mode; returns the global options that precede --batch. */
export function batchPrefix(argv: readonly string[]): string[] | undefined {
  const i = argv.indexOf('--batch');
  if (i < 0 || argv.slice(0, i).some((a) => !a.startsWith('-'))) return undefined;
  return [...argv.slice(0, i), ...argv.slice(i + 1)];
}

export async function runBatch(tool: ToolSpec, globalArgs: readonly string[], input: string, io?: RunIo): Promise<number> {
  const { runTool, warmTool } = await import('./runner.js');
  await warmTool(tool);
  let status = 0;
  const lines = input.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    let words: string[];
    try {
      words = splitShellWords(line);
    } catch (e) {
      (io?.stderr ?? ((s: string) => process.stderr.write(s)))(`${tool.program}: line ${n + 1}: ${(e as Error).message}\n`);
      status ||= 1;
      continue;
    }
    const rc = await runTool(tool, [...globalArgs, ...words], io);
    if (rc !== 0 && status === 0) status = rc;
  }
  return status;
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Whether the options (up to the first command word) ask for --detach. */
function wantsDetach(tool: ToolSpec, argv: readonly string[]): boolean {
  try {
    return scanOptions(tool, argv).given.some((g) => g.option.name === 'detach');
  } catch {
    return false;
  }
}

/**
 * The entry point each tool's command uses: batch mode when asked; --detach starts a daemon;
 * with OVN_NB_DAEMON (OVN_SB_DAEMON) set, the invocation goes to that daemon; else it runs
 * here. Each path imports only its own modules: start-up time is mostly module loading.
 */
export async function runToolOrBatch(tool: ToolSpec, argv: readonly string[]): Promise<number> {
  const globalArgs = batchPrefix(argv);
  if (globalArgs !== undefined) return runBatch(tool, globalArgs, await readStdin());
  if (tool.daemon) {
    if (wantsDetach(tool, argv)) return (await import('./daemon.js')).detach(tool, argv);
    const target = process.env[tool.daemon.env];
    if (target) {
      const rc = await (await import('./daemon-client.js')).runThroughDaemon(tool, argv, target);
      if (rc !== undefined) return rc;
    }
  }
  prefetchCommands(tool, argv);
  return (await import('./runner.js')).runTool(tool, argv);
}

/**
 * Starts loading the code of the commands named in argv while the runner's modules load (the
 * runner parses and checks them properly later; this only guesses their names).
 */
function prefetchCommands(tool: ToolSpec, argv: readonly string[]): void {
  let rest: readonly string[];
  try {
    rest = scanOptions(tool, argv).rest;
  } catch {
    return;
  }
  let expectName = true;
  for (const w of rest) {
    if (w === '--') expectName = true;
    else if (expectName && !w.startsWith('-')) {
      expectName = false;
      tool.commands.find((c) => c.name === w)?.load().catch(() => undefined);
    }
  }
}
