/**
 * `ovnts trace [OPTIONS] [DATAPATH] MICROFLOW`: ovn-trace's interface over any Southbound
 * database (ovnts db or ovsdb-server, built by either northd). It reads the tables the tracer
 * needs with one `select` transaction, simulates the logical pipelines (packages/lflow), and
 * prints the detailed, summary and/or minimal trace, or with --json the packet's fate in the
 * format of the packet-fate oracle.
 */
import { Command, Option } from 'commander';
import { loadSchema } from '@ovnts/ovsdb/dist/src/schemas.js';
import {
  formatDetailed,
  formatMinimal,
  formatSummary,
  southboundFromRows,
  TRACE_TABLES,
  Tracer,
  type SouthboundRows,
} from '@ovnts/lflow';
import { Session } from '../ctl/session.js';
import { CtlError } from '../ctl/errors.js';

interface TraceCliOptions {
  db?: string;
  ct: string[];
  lbDst?: string;
  detailed?: boolean;
  summary?: boolean;
  minimal?: boolean;
  all?: boolean;
  json?: boolean;
  check?: boolean;
  privateKey?: string;
  certificate?: string;
  caCert?: string;
}

function defaultSbDb(): string {
  return process.env['OVN_SB_DB'] || `unix:${process.env['OVN_RUNDIR'] ?? '/var/run/ovn'}/ovnsb_db.sock`;
}

/** Reads the Southbound tables the tracer needs in one transaction. */
export async function readSouthbound(db: string, tls: { privateKey?: string; certificate?: string; caCert?: string } = {}): Promise<SouthboundRows> {
  const session = await Session.open(db, loadSchema('ovn-sb'), tls);
  try {
    const tables = Object.keys(TRACE_TABLES);
    const ops = tables.map((table) => ({ op: 'select', table, where: [], columns: TRACE_TABLES[table] }));
    const result = (await session.request('transact', ['OVN_Southbound', ...ops])) as { rows?: Record<string, unknown>[]; error?: string; details?: string }[];
    const rows: Record<string, Record<string, unknown>[]> = {};
    tables.forEach((t, i) => {
      const r = result[i];
      if (!r || r.error !== undefined) throw new CtlError(`${db}: reading ${t} failed: ${r?.error ?? 'no result'}${r?.details ? ` (${r.details})` : ''}`);
      rows[t] = r.rows ?? [];
    });
    return rows;
  } finally {
    session.close();
  }
}

function command(): Command {
  return new Command('trace')
    .description('simulate a packet through the logical pipelines of a Southbound database, like ovn-trace')
    .argument('[args...]', '[DATAPATH] MICROFLOW')
    .option('--db <remote>', 'Southbound database (default: $OVN_SB_DB or unix:$OVN_RUNDIR/ovnsb_db.sock)')
    .addOption(new Option('--ct <state>', 'conntrack state for the next ct lookup, e.g. new, est, est,rpl, inv (repeatable)').argParser((v: string, prev: string[] = []) => [...prev, v]).default([]))
    .option('--lb-dst <ip[:port]>', 'the backend a load balancer picks')
    .option('--detailed', 'print the detailed trace (the default)')
    .option('--summary', 'print the summary trace')
    .option('--minimal', 'print the minimal trace')
    .option('--all', 'print all three forms')
    .option('--json', "print the packet's fate as one JSON object (the oracle format)")
    .option('--check', 'only parse every logical flow and report errors')
    .option('-p, --private-key <file>', 'SSL private key')
    .option('-c, --certificate <file>', 'SSL certificate')
    .option('-C, --ca-cert <file>', 'SSL CA certificate')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
}

export async function runTrace(argv: readonly string[]): Promise<number> {
  const cmd = command();
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode;
    return code ?? 1;
  }
  const opts = cmd.opts<TraceCliOptions>();
  const args = cmd.args;
  try {
    if (args.length > 2 || (args.length === 0 && !opts.check)) throw new CtlError('expected [DATAPATH] MICROFLOW');
    const db = opts.db ?? defaultSbDb();
    const tls = {
      ...(opts.privateKey ? { privateKey: opts.privateKey } : {}),
      ...(opts.certificate ? { certificate: opts.certificate } : {}),
      ...(opts.caCert ? { caCert: opts.caCert } : {}),
    };
    const tracer = new Tracer(southboundFromRows(await readSouthbound(db, tls)));
    if (opts.check) {
      const errors = tracer.check();
      for (const e of errors) {
        process.stdout.write(`${e.flow.uuid} ${e.flow.stage} (${e.what}): ${e.error.message}\n  ${e.what === 'match' ? e.flow.match : e.flow.actions}\n`);
      }
      return errors.length ? 1 : 0;
    }
    const microflow = args[args.length - 1]!;
    const datapath = args.length === 2 ? args[0] : undefined;
    const result = tracer.trace(datapath, microflow, { ct: opts.ct, ...(opts.lbDst ? { lbDst: opts.lbDst } : {}) });
    if (opts.json) {
      process.stdout.write(JSON.stringify(result.fate) + '\n');
      return 0;
    }
    const forms: string[] = [];
    const all = opts.all === true;
    const wantDetailed = all || opts.detailed === true || (!opts.summary && !opts.minimal);
    if (wantDetailed) forms.push(`${all ? '# Detailed trace.\n' : ''}${formatDetailed(result.root)}`);
    if (all || opts.summary) forms.push(`${all ? '# Summary trace.\n' : ''}${formatSummary(result.root)}`);
    if (all || opts.minimal) forms.push(`${all ? '# Minimal trace.\n' : ''}${formatMinimal(result.root)}`);
    process.stdout.write(`# ${result.flow}\n${forms.join(all ? '' : '\n')}`);
    return 0;
  } catch (e) {
    process.stderr.write(`ovnts trace: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
