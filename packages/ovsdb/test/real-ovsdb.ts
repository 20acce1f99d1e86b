/**
 * Test helper: a real ovsdb-server (Debian's openvswitch build) in a temporary directory, to
 * check this implementation against the reference one. Tests skip when the tools are absent.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const OVSDB_SERVER = '/usr/sbin/ovsdb-server';
export const OVSDB_TOOL = '/usr/bin/ovsdb-tool';
export const OVSDB_CLIENT = '/usr/bin/ovsdb-client';

/** Why the real-server tests cannot run here, or undefined when they can. */
export function realOvsdbMissing(): string | undefined {
  for (const p of [OVSDB_SERVER, OVSDB_TOOL, OVSDB_CLIENT]) {
    if (!existsSync(p)) return `${p} is not installed (Debian package openvswitch-switch / openvswitch-common)`;
  }
  return undefined;
}

export function bundledSchemaPath(name: string): string {
  return fileURLToPath(new URL(`../../schemas/${name}.ovsschema`, import.meta.url));
}

/** Splits a byte stream of back-to-back JSON texts (ovsdb-server's framing) into values. */
class JsonSplitter {
  private buf = '';
  private depth = 0;
  private inString = false;
  private escape = false;
  private start = 0;
  private pos = 0;

  push(chunk: string): unknown[] {
    this.buf += chunk;
    const out: unknown[] = [];
    for (; this.pos < this.buf.length; this.pos++) {
      const ch = this.buf[this.pos]!;
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (ch === '\\') this.escape = true;
        else if (ch === '"') this.inString = false;
        continue;
      }
      if (ch === '"') this.inString = true;
      else if (ch === '{' || ch === '[') {
        if (this.depth === 0) this.start = this.pos;
        this.depth++;
      } else if (ch === '}' || ch === ']') {
        this.depth--;
        if (this.depth === 0) out.push(JSON.parse(this.buf.slice(this.start, this.pos + 1)));
      }
    }
    if (this.depth === 0) {
      this.buf = '';
      this.pos = 0;
    }
    return out;
  }
}

export class RealOvsdb {
  private nextId = 1;
  private readonly pending = new Map<number, (msg: Record<string, unknown>) => void>();

  private constructor(
    readonly dir: string,
    private readonly child: ChildProcess,
    private readonly sock: Socket,
  ) {
    const splitter = new JsonSplitter();
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      for (const msg of splitter.push(chunk) as Record<string, unknown>[]) {
        if (msg['method'] === 'echo') {
          sock.write(JSON.stringify({ result: msg['params'], error: null, id: msg['id'] }));
          continue;
        }
        const cb = this.pending.get(msg['id'] as number);
        if (cb) {
          this.pending.delete(msg['id'] as number);
          cb(msg);
        }
      }
    });
  }

  get socketPath(): string {
    return join(this.dir, 'sock');
  }

  /** Creates a database from `schemaPath` and serves it (in the foreground, as our child). */
  static async start(schemaPath: string): Promise<RealOvsdb> {
    const dir = mkdtempSync(join(tmpdir(), 'ovnts-real-ovsdb-'));
    try {
      execFileSync(OVSDB_TOOL, ['create', join(dir, 'db'), schemaPath], { stdio: 'pipe' });
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    const child = spawn(
      OVSDB_SERVER,
      [
        `--remote=punix:${join(dir, 'sock')}`,
        '--no-chdir',
        `--pidfile=${join(dir, 'pid')}`,
        `--unixctl=${join(dir, 'ctl')}`,
        `--log-file=${join(dir, 'log')}`,
        join(dir, 'db'),
      ],
      { stdio: 'ignore' },
    );
    const sockPath = join(dir, 'sock');
    for (let i = 0; i < 200 && !existsSync(sockPath); i++) {
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    if (!existsSync(sockPath)) {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`ovsdb-server did not create ${sockPath}`);
    }
    const sock = await new Promise<Socket>((resolve, reject) => {
      const s = connect(sockPath, () => resolve(s));
      s.once('error', reject);
    });
    return new RealOvsdb(dir, child, sock);
  }

  request(method: string, params: unknown): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.sock.write(JSON.stringify({ method, params, id }));
    });
  }

  async transact(db: string, ops: readonly unknown[]): Promise<unknown[]> {
    const reply = await this.request('transact', [db, ...ops]);
    if (reply['error'] !== null && reply['error'] !== undefined) throw new Error(`transact failed: ${JSON.stringify(reply['error'])}`);
    return reply['result'] as unknown[];
  }

  /** The schema as `ovsdb-client get-schema` prints it (a separate client process, as a user would run it). */
  getSchemaWithClient(): unknown {
    return JSON.parse(execFileSync(OVSDB_CLIENT, ['get-schema', `unix:${this.socketPath}`], { encoding: 'utf8', stdio: 'pipe' }));
  }

  async stop(): Promise<void> {
    this.sock.destroy();
    if (this.child.exitCode === null && this.child.pid !== undefined) {
      const exited = new Promise((r) => this.child.once('exit', r));
      process.kill(this.child.pid, 'SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
