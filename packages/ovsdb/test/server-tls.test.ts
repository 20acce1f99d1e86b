// pssl:/ssl: remotes: our client and real ovsdb-client over TLS with mutual certificates.
import t from 'tap';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Database, OvsdbServer, JsonRpcConnection, connectStream, loadSchema, setLogLevel } from '../src/index.js';

setLogLevel('off');
const run = promisify(execFile);

function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A CA, and a server and a client certificate it signed. */
function makePki(dir: string): void {
  const o = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  o('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca-cert.pem', '-days', '2', '-subj', '/CN=ovnts-test-ca');
  for (const who of ['server', 'client']) {
    o('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${who}-key.pem`, '-out', `${who}.csr`, '-subj', `/CN=${who}`);
    o('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca-cert.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', `${who}-cert.pem`, '-days', '2');
  }
}

t.test('pssl with mutual authentication', { skip: haveOpenssl() ? false : 'openssl is not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  makePki(dir);
  const server = new OvsdbServer({
    tls: { privateKey: join(dir, 'server-key.pem'), certificate: join(dir, 'server-cert.pem'), caCert: join(dir, 'ca-cert.pem') },
  });
  server.addDatabase(new Database(loadSchema('ovn-nb')));
  const bound = await server.listen('pssl:0:127.0.0.1');
  t.teardown(() => server.close());
  const port = Number(bound.split(':')[1]);

  const files = { privateKey: join(dir, 'client-key.pem'), certificate: join(dir, 'client-cert.pem'), caCert: join(dir, 'ca-cert.pem') };
  const c = new JsonRpcConnection(await connectStream(`ssl:127.0.0.1:${port}`, files));
  t.same(await c.request('list_dbs', []), ['OVN_Northbound', '_Server']);
  c.close();

  // Without a client certificate the server refuses the handshake.
  const refused = await connectStream(`ssl:127.0.0.1:${port}`, { caCert: files.caCert })
    .then(async (s) => {
      const conn = new JsonRpcConnection(s);
      try {
        await conn.request('list_dbs', []);
        return false;
      } catch {
        return true;
      } finally {
        conn.close();
      }
    })
    .catch(() => true);
  t.ok(refused, 'a client without a certificate is refused');

  const client = ['/usr/bin/ovsdb-client'].find((p) => existsSync(p));
  if (!client) {
    t.comment('ovsdb-client not installed: skipping the real-client check');
    return;
  }
  const out = await run(client, ['--private-key', files.privateKey, '--certificate', files.certificate, '--ca-cert', files.caCert, 'list-dbs', `ssl:127.0.0.1:${port}`], {
    timeout: 10_000,
  });
  t.same(out.stdout.trim().split('\n'), ['OVN_Northbound', '_Server'], 'real ovsdb-client over ssl');
});
