/**
 * get-ssl, set-ssl and del-ssl, shared by ovs-vsctl (Open_vSwitch.ssl) and ovn-sbctl
 * (SB_Global.ssl): the root row refers to at most one SSL row.
 */
import type { Atom } from './ovsdb.js';
import type { ViewRow } from './db-txn.js';
import { fail } from './errors.js';
import type { CommandContext, CommandSpec } from './tool.js';

function root(ctx: CommandContext, table: string): ViewRow {
  const r = ctx.txn.first(table);
  if (!r) fail(`no ${table} record`);
  return r;
}

function currentSsl(ctx: CommandContext, rootRow: ViewRow): ViewRow | undefined {
  ctx.txn.verify(rootRow, 'ssl');
  const u = rootRow.scalar('ssl');
  return u === undefined ? undefined : ctx.txn.get('SSL', u as string);
}

/** The three commands over `rootTable`; `maxSetArgs` is 3 (vsctl) or 5 (sbctl: protocols and ciphers too). */
export function sslCommands(rootTable: string, maxSetArgs: number): CommandSpec[] {
  const pre = (ctx: { need(t: string): void }): void => {
    ctx.need(rootTable);
    ctx.need('SSL');
  };
  return [
    {
      name: 'get-ssl',
      minArgs: 0,
      maxArgs: 0,
      args: '',
      options: '',
      mode: 'RO',
      pre,
      run(ctx) {
        const ssl = currentSsl(ctx, root(ctx, rootTable));
        if (!ssl) return;
        for (const c of ['private_key', 'certificate', 'ca_cert', 'bootstrap_ca_cert']) ctx.txn.verify(ssl, c);
        ctx.output +=
          `Private key: ${ssl.string('private_key')}\n` +
          `Certificate: ${ssl.string('certificate')}\n` +
          `CA Certificate: ${ssl.string('ca_cert')}\n` +
          `Bootstrap: ${ssl.scalar('bootstrap_ca_cert') === true ? 'true' : 'false'}\n`;
      },
    },
    {
      name: 'del-ssl',
      minArgs: 0,
      maxArgs: 0,
      args: '',
      options: '',
      mode: 'RW',
      pre,
      run(ctx) {
        const r = root(ctx, rootTable);
        const ssl = currentSsl(ctx, r);
        if (!ssl) return;
        ctx.txn.delete(ssl);
        ctx.txn.write(r, 'ssl', []);
      },
    },
    {
      name: 'set-ssl',
      minArgs: 3,
      maxArgs: maxSetArgs,
      args: maxSetArgs > 3 ? 'PRIVATE-KEY CERTIFICATE CA-CERT [SSL-PROTOS [SSL-CIPHERS]]' : 'PRIVATE-KEY CERTIFICATE CA-CERT',
      options: '--bootstrap',
      mode: 'RW',
      pre,
      run(ctx) {
        const r = root(ctx, rootTable);
        const old = currentSsl(ctx, r);
        if (old) ctx.txn.delete(old);
        const ssl = ctx.txn.insert(ctx.schema.tables.get('SSL')!);
        const [, key, cert, ca, protos, ciphers] = ctx.argv as readonly (string | undefined)[];
        ctx.txn.write(ssl, 'private_key', [key!]);
        ctx.txn.write(ssl, 'certificate', [cert!]);
        ctx.txn.write(ssl, 'ca_cert', [ca!]);
        ctx.txn.write(ssl, 'bootstrap_ca_cert', [ctx.options.has('--bootstrap')]);
        if (protos !== undefined) ctx.txn.write(ssl, 'ssl_protocols', [protos]);
        if (ciphers !== undefined) ctx.txn.write(ssl, 'ssl_ciphers', [ciphers]);
        ctx.txn.write(r, 'ssl', [ssl.uuid] as Atom[]);
      },
    },
  ];
}
