/**
 * `ovnts db …`: create database files, serve them, and send raw requests for scripting.
 *   ovnts db serve [FILE...] [--in-memory SCHEMA...] --remote REMOTE...
 *   ovnts db create FILE SCHEMA
 *   ovnts db query|transact REMOTE JSON
 *   ovnts db codegen SCHEMA [--out FILE]
 */
import { Command, Option } from 'commander';
import { writeFileSync, unlinkSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import {
  Database,
  convertDatabase,
  createDatabaseFile,
  generateModels,
  loadDatabaseFile,
  openDatabaseFile,
  parseSchemaText,
  resolveSchemaPath,
  writeDatabaseFile,
  OvsdbServer,
  JsonRpcConnection,
  connectStream,
  loadSchema,
  setLogLevel,
  logger,
  type LogLevel,
} from '@ovnts/ovsdb';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export async function runDb(args: string[]): Promise<number> {
  const cmd = new Command('ovnts db').exitOverride().showHelpAfterError();
  let code = 0;

  cmd
    .command('serve')
    .description('serve database files (and/or in-memory databases) on one or more remotes')
    .argument('[files...]', 'database files created by "ovnts db create" or ovsdb-tool')
    .option('--remote <remote>', 'passive remote: punix:PATH, ptcp:PORT[:IP], pssl:PORT[:IP] (repeatable)', collect, [])
    .option('--in-memory <schema>', 'serve an empty in-memory database of this schema (ovn-nb, ovn-sb, vswitch or a path; repeatable)', collect, [])
    .option('--private-key <file>', 'TLS private key for pssl:')
    .option('--certificate <file>', 'TLS certificate for pssl:')
    .option('--ca-cert <file>', 'CA certificate that clients must be signed by')
    .option('--pidfile <file>', 'write the process id to this file')
    .option('--probe-interval <ms>', 'inactivity probe for tcp/ssl clients in ms (0 disables)', '5000')
    .option('-v, --verbose', 'log connections and more')
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error', 'off']))
    .action(async (files: string[], o: Record<string, unknown>) => {
      code = await serve(files, o);
    });

  cmd
    .command('create')
    .description('create a database file holding only its schema (like ovsdb-tool create)')
    .argument('<file>')
    .argument('<schema>', 'ovn-nb, ovn-sb, vswitch, or a .ovsschema path')
    .action(async (file: string, schema: string) => {
      await createDatabaseFile(file, readFileSync(resolveSchemaPath(schema), 'utf8'));
    });

  cmd
    .command('convert')
    .description('convert a database file to a new schema version (like ovsdb-tool convert); the server does this online for "convert" requests')
    .argument('<file>')
    .argument('<schema>', 'ovn-nb, ovn-sb, vswitch, or a .ovsschema path')
    .argument('[target]', 'write the result here instead of replacing <file>')
    .action(async (file: string, schema: string, target: string | undefined) => {
      const loaded = await loadDatabaseFile(file);
      if (loaded.damage) throw new Error(`${file}: ${loaded.damage.reason} at offset ${loaded.damage.offset}; serve it once to recover the file first`);
      const converted = convertDatabase(loaded.db, parseSchemaText(readFileSync(resolveSchemaPath(schema), 'utf8')));
      await writeDatabaseFile(target ?? file, converted);
    });

  cmd
    .command('query')
    .description('run a read-only transaction (JSON array of operations after the db name) and print the result')
    .argument('<remote>')
    .argument('<json>', 'the transact params: ["DB", op...]')
    .action(async (remote: string, json: string) => {
      code = await rawTransact(remote, json, true);
    });
  cmd
    .command('transact')
    .description('run a transaction (JSON: ["DB", op...]) and print the result')
    .argument('<remote>')
    .argument('<json>')
    .action(async (remote: string, json: string) => {
      code = await rawTransact(remote, json);
    });

  cmd
    .command('codegen')
    .description('generate TypeScript row types and converters for a schema (see docs/client.md, "Typed models")')
    .argument('<schema>', 'ovn-nb, ovn-sb, vswitch, or a .ovsschema path')
    .option('--out <file>', 'write the module to this file instead of stdout')
    .option('--import-from <module>', 'module the generated code imports its runtime from', '@ovnts/ovsdb')
    .action((schema: string, o: { out?: string; importFrom: string }) => {
      const text = generateModels(loadSchema(schema), { importFrom: o.importFrom });
      if (o.out === undefined) process.stdout.write(text);
      else writeFileSync(o.out, text);
    });

  try {
    await cmd.parseAsync(args, { from: 'user' });
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith('commander.')) return (e as { exitCode?: number }).exitCode ?? 1;
    throw e;
  }
  return code;
}

async function serve(files: string[], o: Record<string, unknown>): Promise<number> {
  const log = logger('db');
  if (o['logLevel']) setLogLevel(o['logLevel'] as LogLevel);
  else if (o['verbose']) setLogLevel('info');
  const remotes = o['remote'] as string[];
  if (remotes.length === 0) throw new Error('at least one --remote is required');
  const tlsOpts =
    o['privateKey'] && o['certificate']
      ? { privateKey: o['privateKey'] as string, certificate: o['certificate'] as string, ...(o['caCert'] ? { caCert: o['caCert'] as string } : {}) }
      : undefined;
  const server = new OvsdbServer({ tcpProbeIntervalMs: Number(o['probeInterval']), ...(tlsOpts ? { tls: tlsOpts } : {}) });
  for (const f of files) {
    const opened = await openDatabaseFile(f);
    for (const w of opened.warnings) log.warn(w);
    server.addDatabase(opened.db, opened.storage);
  }
  for (const s of o['inMemory'] as string[]) server.addDatabase(new Database(loadSchema(s)));
  if (server.databases.size === 0) throw new Error('nothing to serve: give database files or --in-memory SCHEMA');
  for (const r of remotes) {
    const bound = await server.listen(r);
    process.stdout.write(`ovnts db: serving ${[...server.databases.keys()].join(', ')} on ${bound}\n`);
  }
  const pidfile = o['pidfile'] as string | undefined;
  if (pidfile) writeFileSync(pidfile, `${process.pid}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await server.close();
  if (pidfile) {
    try {
      unlinkSync(pidfile);
    } catch {
      /* already removed */
    }
  }
  return 0;
}

const READ_ONLY_OPS = new Set(['select', 'wait', 'comment', 'assert']);

async function rawTransact(remote: string, json: string, readOnly = false): Promise<number> {
  let params: unknown;
  try {
    params = JSON.parse(json);
  } catch (e) {
    process.stderr.write(`ovnts db: not valid JSON: ${(e as Error).message}\n`);
    return 1;
  }
  if (!Array.isArray(params)) {
    process.stderr.write('ovnts db: expected a JSON array ["DB", op...]\n');
    return 1;
  }
  const writer = readOnly ? params.slice(1).find((op) => !READ_ONLY_OPS.has(String((op as { op?: unknown } | null)?.op))) : undefined;
  if (writer !== undefined) {
    process.stderr.write(`ovnts db query: only select, wait, comment and assert are allowed (use "ovnts db transact" to write)\n`);
    return 1;
  }
  const conn = new JsonRpcConnection(await connectStream(remote));
  try {
    const result = await conn.request('transact', params);
    process.stdout.write(JSON.stringify(result) + '\n');
    const failed = Array.isArray(result) && result.some((r) => r !== null && typeof r === 'object' && 'error' in r);
    return failed ? 1 : 0;
  } catch (e) {
    process.stderr.write(`ovnts db: ${(e as Error).message}\n`);
    return 1;
  } finally {
    conn.close();
  }
}
