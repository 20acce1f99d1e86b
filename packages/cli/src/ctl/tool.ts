/**
 * What a ctl tool (ovn-nbctl, ovn-sbctl, ovs-vsctl) is made of, and what its commands see.
 * The shared machinery (options, command parsing, the transaction loop, the generic database
 * commands) is driven by a ToolSpec; each tool contributes its schema, how rows are named,
 * its own commands and hooks.
 */
import type { DatabaseSchema, TableSchema } from './ovsdb.js';
import type { DbTxn } from './db-txn.js';
import type { ConsoleLog } from './errors.js';
import type { SymbolTable } from './symbols.js';
import type { Table } from './table-output.js';

/** Options given to one command: "--if-exists" → null, "--id=@x" → "@x". */
export type CommandOptions = ReadonlyMap<string, string | null>;

/** How a record may be named: by a (string or integer) column, or a map column's key, possibly of a referring table. */
export interface RowId {
  /** The table whose `name` column holds the name (the referring table when `uuidColumn` is set). */
  readonly table: string;
  readonly name: string;
  readonly key?: string;
  /** A reference column of `table` that leads to the row. */
  readonly uuidColumn?: string;
}

/** Before connecting: validates the arguments and names the tables the command reads. */
export interface PreContext {
  readonly argv: readonly string[];
  readonly options: CommandOptions;
  readonly schema: DatabaseSchema;
  readonly tool: ToolSpec;
  readonly log: ConsoleLog;
  /** Fetch this table (and what its rows may be named by). */
  need(table: string | TableSchema): void;
}

/** Running: the database view, the transaction being built, and the command's output. */
export interface CommandContext {
  readonly argv: readonly string[];
  readonly options: CommandOptions;
  readonly schema: DatabaseSchema;
  readonly tool: ToolSpec;
  readonly txn: DbTxn;
  readonly symtab: SymbolTable;
  readonly log: ConsoleLog;
  /** Per-invocation state of the tool's own commands (caches). */
  readonly state: Map<string, unknown>;
  output: string;
  table: Table | undefined;
  /** Set to wait for the database to change and run everything again (wait-until). */
  tryAgain: boolean;
}

/** After a successful commit (create prints the new row's UUID). */
export interface PostContext {
  readonly command: CommandContext;
  insertedUuid(provisional: string): string | undefined;
}

/** What parsing, --help and --commands need of a command. */
export interface CommandInfo {
  readonly name: string;
  readonly minArgs: number;
  readonly maxArgs: number;
  /** Argument syntax for --commands, e.g. "TABLE [RECORD]...". */
  readonly args: string;
  /** Supported options, e.g. "--if-exists,--id=". */
  readonly options: string;
  readonly mode: 'RO' | 'RW';
}

/** A tool's command: its syntax, and its code, loaded on demand (see catalog.ts). */
export interface CommandEntry extends CommandInfo {
  load(): Promise<CommandSpec>;
}

export interface CommandSpec extends CommandInfo {
  pre?(ctx: PreContext): void;
  /** After pre, before connecting: asynchronous checks of things outside the database (sbctl lflow-list --ovs). */
  prepare?(ctx: PreContext): Promise<void>;
  run(ctx: CommandContext): void;
  post?(ctx: PostContext): void;
}

/** A table of the generic "show" command (ovs-vsctl and ovn-sbctl). */
export interface ShowTable {
  readonly table: string;
  readonly nameColumn?: string;
  readonly columns: readonly string[];
  /** Rows of another table that refer to this row weakly, printed as "TABLE NAME". */
  readonly wref?: { readonly table: string; readonly nameColumn: string; readonly wrefColumn: string };
}

export interface ToolSpec {
  /** The real tool's name, used in messages: "ovn-nbctl". */
  readonly program: string;
  /** Bundled schema name. */
  readonly schemaName: 'ovn-nb' | 'ovn-sb' | 'vswitch';
  readonly defaultDb: () => string;
  /** Environment variable holding extra options (OVN_NBCTL_OPTIONS). */
  readonly optionsEnv?: string;
  /** vlog module of the main loop (warnings about unreferenced --id rows). */
  readonly logModule: string;
  readonly rowIds: Readonly<Record<string, readonly RowId[]>>;
  readonly commands: readonly CommandEntry[];
  readonly showTables?: readonly ShowTable[];
  /** Tables every invocation reads (NB_Global, Open_vSwitch). */
  readonly baseTables: readonly string[];
  /** Tool options beyond the common ones: name → takes an argument (true), none (false) or maybe. */
  readonly extraOptions: Readonly<Record<string, boolean | 'optional'>>;
  /**
   * Daemon mode (ovn-nbctl/ovn-sbctl --detach): the environment variable naming a daemon's
   * control socket (OVN_NB_DAEMON) and the directory for its pidfile and socket.
   */
  readonly daemon?: { readonly env: string; readonly rundir: () => string };
  /** Whether --wait/--no-wait are accepted. */
  readonly allowWait: boolean;
  /** Before the commands run in each attempt (e.g. creating NB_Global if missing, --wait increments). */
  preExecute?(ctx: ExecuteContext): void;
  /** After a successful commit: wait for the daemons (vsctl's cur_cfg, nbctl's --wait=sb|hv). */
  postExecute?(ctx: PostExecuteContext): Promise<void>;
}

export interface ExecuteContext {
  readonly txn: DbTxn;
  readonly schema: DatabaseSchema;
  readonly waitMode: string;
  /** The names of the invocation's commands. */
  readonly commands: readonly string[];
}

export interface PostExecuteContext {
  readonly waitMode: string;
  readonly printWaitTime: boolean;
  readonly stdout: (s: string) => void;
  /** The incremented column's new value, when the transaction changed something. */
  readonly incremented: number | undefined;
  /** Resolves with fresh rows of `table` each time the database changes (first at once). */
  watch(table: string): AsyncIterable<DbTxn>;
}
