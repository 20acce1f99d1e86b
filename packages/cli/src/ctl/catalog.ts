/**
 * The tools' command tables without the commands' code: what option and command parsing,
 * --help and --commands need. Each entry loads its implementation on first use, so an
 * invocation imports only the modules of the commands it runs (start-up time is mostly the
 * loading of modules). ctl-catalog.test.ts checks every entry against its implementation.
 */
import type { CommandEntry, CommandInfo, CommandSpec } from './tool.js';

/** name, minArgs, maxArgs, args, options, mode: as the implementation declares them. */
export type CatalogRow = readonly [string, number, number, string, string, 'RO' | 'RW'];

/** Entries for the commands of one module, loaded together when one of them first runs. */
export function catalog(loader: () => Promise<readonly CommandSpec[]>, rows: readonly CatalogRow[]): CommandEntry[] {
  let specs: Promise<readonly CommandSpec[]> | undefined;
  return rows.map(([name, minArgs, maxArgs, args, options, mode]) => ({
    name,
    minArgs,
    maxArgs,
    args,
    options,
    mode,
    async load(): Promise<CommandSpec> {
      specs ??= loader();
      const spec = (await specs).find((c) => c.name === name);
      if (!spec) throw new Error(`command ${name} is missing from its module`);
      return spec;
    },
  }));
}

/** An entry for a command whose code is at hand. */
export function ready(spec: CommandSpec): CommandEntry {
  const info: CommandInfo = spec;
  return { name: info.name, minArgs: info.minArgs, maxArgs: info.maxArgs, args: info.args, options: info.options, mode: info.mode, load: () => Promise.resolve(spec) };
}

/** A command that does nothing but make sure the root row exists (init, sync). */
export function noop(name: string, mode: 'RO' | 'RW'): CommandEntry {
  return ready({ name, minArgs: 0, maxArgs: 0, args: '', options: '', mode, run: () => undefined });
}

/** The generic database commands of all three tools. */
export const DB_CATALOG: readonly CommandEntry[] = catalog(async () => (await import('./db-commands.js')).DB_COMMANDS, [
    ['comment', 0, Infinity, '[ARG]...', '', 'RO'],
    ['get', 2, Infinity, 'TABLE RECORD [COLUMN[:KEY]]...', '--if-exists,--id=', 'RO'],
    ['list', 1, Infinity, 'TABLE [RECORD]...', '--if-exists,--columns=', 'RO'],
    ['find', 1, Infinity, 'TABLE [COLUMN[:KEY]=VALUE]...', '--columns=', 'RO'],
    ['set', 3, Infinity, 'TABLE RECORD COLUMN[:KEY]=VALUE...', '--if-exists', 'RW'],
    ['add', 4, Infinity, 'TABLE RECORD COLUMN [KEY=]VALUE...', '--if-exists', 'RW'],
    ['remove', 4, Infinity, 'TABLE RECORD COLUMN KEY|VALUE|KEY=VALUE...', '--if-exists', 'RW'],
    ['clear', 3, Infinity, 'TABLE RECORD COLUMN...', '--if-exists', 'RW'],
    ['create', 2, Infinity, 'TABLE COLUMN[:KEY]=VALUE...', '--id=', 'RW'],
    ['destroy', 1, Infinity, 'TABLE [RECORD]...', '--if-exists,--all', 'RW'],
    ['wait-until', 2, Infinity, 'TABLE RECORD [COLUMN[:KEY]=VALUE]...', '', 'RO'],
]);

/** The "show" of ovs-vsctl and ovn-sbctl. */
export const GENERIC_SHOW_CATALOG: readonly CommandEntry[] = catalog(async () => [(await import('./generic-show.js')).genericShow()], [['show', 0, 0, '', '', 'RO']]);

/** get-ssl, del-ssl, set-ssl over the root table's "ssl" column (set-ssl takes 3 or, sbctl, up to 5 arguments). */
export function sslCatalog(rootTable: string, maxSetArgs: 3 | 5): CommandEntry[] {
  return catalog(async () => (await import('./ssl-commands.js')).sslCommands(rootTable, maxSetArgs), [
    ['get-ssl', 0, 0, '', '', 'RO'],
    ['del-ssl', 0, 0, '', '', 'RW'],
    ['set-ssl', 3, maxSetArgs, maxSetArgs > 3 ? 'PRIVATE-KEY CERTIFICATE CA-CERT [SSL-PROTOS [SSL-CIPHERS]]' : 'PRIVATE-KEY CERTIFICATE CA-CERT', '--bootstrap', 'RW'],
  ]);
}
