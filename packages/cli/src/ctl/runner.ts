/**
 * The main loop shared by nbctl, sbctl and vsctl, as in OVS's db-ctl tools: parse options and
 * commands, check the commands' arguments before connecting, then read what they need, run
 * all of them against that view and commit their changes as ONE transaction. When another
 * client changed what was read in between (a "verify" wait fails), everything runs again on
 * fresh data; wait-until waits for the database to change. Output is printed only after the
 * commit succeeded.
 */
import { readFileSync } from 'node:fs';
import { parseSchemaText, type DatabaseSchema, type TableSchema } from './ovsdb.js';
import { bundledSchemaPath } from '@ovnts/ovsdb/dist/src/schemas.js';
import { DbTxn } from './db-txn.js';
import { ConsoleLog, CtlError, ExitStatus, fail } from './errors.js';
import { jsonToString } from './json-text.js';
import { parseArgs, type GlobalOptions } from './options.js';
import { loadCommands, parseCommands, type ParsedCommand } from './parse-commands.js';
import { rowIdTables } from './rows.js';
import { Session, type CtlSession } from './session.js';
import { SymbolTable } from './symbols.js';
import { TablePrinter } from './table-output.js';
import type { CommandContext, CommandSpec, PreContext, ToolSpec } from './tool.js';

export interface RunIo {
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  /** Log messages (vlog's console format); default: stderr. */
  readonly log?: (s: string) => void;
  /** Called when --timeout expires (the real tools die of SIGALRM). */
  readonly onTimeout?: () => void;
  /** Daemon mode: the daemon's long-lived connection, instead of one per invocation. */
  readonly session?: () => Promise<CtlSession>;
}

const defaultIo: RunIo = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
};

const schemaCache = new Map<string, DatabaseSchema>();

export function loadSchema(name: ToolSpec['schemaName']): DatabaseSchema {
  let s = schemaCache.get(name);
  if (!s) schemaCache.set(name, (s = parseSchemaText(readFileSync(bundledSchemaPath(name), 'utf8'))));
  return s;
}

/** Shell-quotes an argument for the transaction comment, as OVS's process_escape_args does. */
function escapeArg(a: string): string {
  return /^[-\w=+,.:/@%]+$/.test(a) ? a : `"${a.replace(/(["\\])/g, '\\$1')}"`;
}

const warmed = new WeakMap<ToolSpec, Promise<unknown>>();

/**
 * Loads the code of all the tool's commands, once. A one-shot `ovnts nbctl` loads only the
 * modules of the commands it runs; a process that runs many invocations (batch mode, a daemon,
 * a program calling runTool) pays for all of them at its first invocation instead of at each
 * new command's first use.
 */
export function warmTool(tool: ToolSpec): Promise<unknown> {
  let w = warmed.get(tool);
  if (!w) warmed.set(tool, (w = Promise.all(tool.commands.map((c) => c.load()))));
  return w;
}

/** Runs one invocation; resolves with the exit status. */
export async function runTool(tool: ToolSpec, argv: readonly string[], io: RunIo = defaultIo): Promise<number> {
  if (io !== defaultIo) await warmTool(tool);
  const log = new ConsoleLog(io.log ?? io.stderr);
  let timer: NodeJS.Timeout | undefined;
  let session: CtlSession | undefined;
  let opening: Promise<Session> | undefined;
  try {
    const { opts, local, rest } = parseArgs(tool, argv, io.session ? 'daemon' : 'local');
    if (opts.help) {
      io.stdout((await import('./usage.js')).usage(tool));
      return 0;
    }
    if (opts.version) {
      io.stdout(`${tool.program} (ovnts) 0.1.0\nDB Schema ${loadSchema(tool.schemaName).version}\n`);
      return 0;
    }
    if (opts.listCommands) {
      io.stdout((await import('./usage.js')).commandList(tool));
      return 0;
    }
    const parsed = parseCommands(tool, rest, local);
    // Read the schema and connect while the commands' code loads; the connection is used (and
    // its errors shown) only once the commands' arguments have been checked.
    const loading = loadCommands(parsed);
    loading.catch(() => undefined);
    const schema = loadSchema(tool.schemaName);
    if (!io.session) {
      opening = Session.open(opts.db, schema, opts);
      opening.catch(() => undefined);
    }
    const commands = await loading;
    if (commands.some((c) => c.spec.mode === 'RW')) log.skip();
    const tables = prerequisites(tool, schema, commands, log);
    for (const c of commands) if (c.spec.prepare) await c.spec.prepare(preContext(tool, schema, c, log, tables));
    let expired: Promise<never> = new Promise(() => undefined);
    if (opts.timeout > 0) {
      expired = new Promise((_, reject) => {
        timer = setTimeout(() => {
          // The real tools die of SIGALRM; in-process callers get exit status 128 + 14.
          log.warn('fatal_signal', 'terminating with signal 14 (Alarm clock)');
          (io.onTimeout ?? (() => process.kill(process.pid, 'SIGALRM')))();
          reject(new ExitStatus(142));
        }, opts.timeout * 1000);
      });
    }
    const work = async (): Promise<void> => {
      session = io.session ? await io.session() : await opening!;
      const comment = `${tool.program}: ${[tool.program, ...argv].map(escapeArg).join(' ')}`;
      const done = await mainLoop(tool, schema, session, commands, tables, opts, log, comment);
      io.stdout(formatOutputs(done.contexts, opts));
      if (tool.postExecute) {
        const s = session;
        await tool.postExecute({
          waitMode: opts.waitMode,
          printWaitTime: opts.printWaitTime,
          stdout: io.stdout,
          incremented: done.incremented,
          watch: (table) => watchTable(s, schema, table),
        });
      }
    };
    const running = work();
    running.catch(() => undefined); // after a timeout, the abandoned attempt fails quietly
    await Promise.race([running, expired]);
    return 0;
  } catch (e) {
    if (e instanceof ExitStatus) return e.status;
    if (e instanceof CtlError) {
      io.stderr(`${tool.program}: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    if (timer) clearTimeout(timer);
    if (!io.session) {
      if (session) session.close();
      else opening?.then((s) => s.close(), () => undefined);
    }
  }
}

/** The commands' outputs in order: tables in the chosen format, text as is or (--oneline) one line each. */
function formatOutputs(contexts: readonly CommandContext[], opts: GlobalOptions): string {
  const printer = new TablePrinter(opts.style);
  let out = '';
  for (const c of contexts) {
    if (c.table) out += printer.format(c.table);
    else if (opts.oneline) out += `${c.output.replace(/\n$/, '').replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n`;
    else out += c.output;
  }
  return out;
}

function prerequisites(tool: ToolSpec, schema: DatabaseSchema, commands: readonly ParsedCommand<CommandSpec>[], log: ConsoleLog): Set<string> {
  const tables = new Set<string>(tool.baseTables);
  for (const c of commands) c.spec.pre?.(preContext(tool, schema, c, log, tables));
  return tables;
}

function preContext(tool: ToolSpec, schema: DatabaseSchema, c: ParsedCommand<CommandSpec>, log: ConsoleLog, tables: Set<string>): PreContext {
  const need = (t: string | TableSchema): void => {
    for (const name of rowIdTables(tool, typeof t === 'string' ? t : t.name)) tables.add(name);
  };
  return { argv: c.argv, options: c.options, schema, tool, log, need };
}

interface Done {
  readonly contexts: CommandContext[];
  readonly incremented: number | undefined;
}

async function mainLoop(
  tool: ToolSpec,
  schema: DatabaseSchema,
  session: CtlSession,
  commands: readonly ParsedCommand<CommandSpec>[],
  tables: ReadonlySet<string>,
  opts: GlobalOptions,
  log: ConsoleLog,
  comment: string,
): Promise<Done> {
  for (;;) {
    const seen = session.changeCount;
    const txn = new DbTxn(schema, await session.fetch(tables));
    const symtab = new SymbolTable();
    tool.preExecute?.({ txn, schema, waitMode: opts.waitMode, commands: commands.map((c) => c.spec.name) });
    const state = new Map<string, unknown>();
    const contexts: CommandContext[] = [];
    let tryAgain = false;
    for (const c of commands) {
      const ctx: CommandContext = { argv: c.argv, options: c.options, schema, tool, txn, symtab, log, state, output: '', table: undefined, tryAgain: false };
      c.spec.run(ctx);
      contexts.push(ctx);
      if (ctx.tryAgain) {
        tryAgain = true;
        break;
      }
    }
    if (tryAgain) {
      // A change between our read and the monitor's start would go unnoticed: read again once
      // the monitor runs, and from then on wait for it to report a change.
      if (!(await session.watch(tables))) await session.waitForChange(seen);
      continue;
    }
    for (const sym of symtab.symbols.values()) {
      if (!sym.created) fail(`row id "${sym.name}" is referenced but never created (e.g. with "-- --id=${sym.name} create ...")`);
      if (!sym.strongRef) {
        log.warn(
          tool.logModule,
          sym.weakRef
            ? `row id "${sym.name}" was created but only a weak reference to it was inserted, so it will not actually appear in the database`
            : `row id "${sym.name}" was created but no reference to it was inserted, so it will not actually appear in the database`,
        );
      }
    }
    const plan = txn.operations(comment, opts.dryRun);
    let results: readonly unknown[] = [];
    let incremented: number | undefined;
    if (plan) {
      results = (await session.request('transact', [schema.name, ...plan.ops])) as unknown[];
      const status = classify(results);
      if (status === 'retry') continue;
      if (typeof status === 'object') {
        const text = jsonToString(status.error);
        log.warn('ovsdb_idl', `transaction error: ${text}`);
        fail(`transaction error: ${text}`);
      }
      if (plan.incrementIndex !== undefined) {
        const sel = results[plan.incrementIndex] as { rows?: Record<string, unknown>[] } | undefined;
        const v = sel?.rows?.[0] ? Object.values(sel.rows[0])[0] : undefined;
        if (typeof v === 'number') incremented = v;
      }
    }
    const realUuids = insertResults(plan?.ops ?? [], results);
    contexts.forEach((ctx, i) => {
      commands[i]!.spec.post?.({ command: ctx, insertedUuid: (u) => realUuids.get(u) });
    });
    return { contexts, incremented };
  }
}

/** "ok", "retry" (a verification failed: someone changed what we read) or the first hard error. */
function classify(results: readonly unknown[]): 'ok' | 'retry' | { error: unknown } {
  let soft = false;
  for (const r of results) {
    if (typeof r !== 'object' || r === null || !('error' in r)) continue;
    const err = (r as { error: unknown }).error;
    if (err === 'timed out') soft = true;
    else if (err !== 'aborted') return { error: r };
  }
  return soft ? 'retry' : 'ok';
}

/** Provisional UUID of each inserted row → the UUID the server gave it. */
function insertResults(ops: readonly unknown[], results: readonly unknown[]): Map<string, string> {
  const m = new Map<string, string>();
  ops.forEach((op, i) => {
    const o = op as { op?: string; 'uuid-name'?: string };
    const r = results[i] as { uuid?: [string, string] } | undefined;
    if (o.op === 'insert' && o['uuid-name'] && r?.uuid) m.set(o['uuid-name'].slice(3).replace(/_/g, '-'), r.uuid[1]);
  });
  return m;
}

async function* watchTable(session: CtlSession, schema: DatabaseSchema, table: string): AsyncIterable<DbTxn> {
  await session.watch([table]);
  for (;;) {
    const seen = session.changeCount;
    yield new DbTxn(schema, await session.fetch([table]));
    await session.waitForChange(seen);
  }
}
