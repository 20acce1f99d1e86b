/**
 * A control socket in the shape of OVS's unixctl: JSON-RPC 1.0 over a Unix socket, each request
 * a command name with string arguments, each reply a string (or an error string). The real
 * `ovn-appctl -t SOCKET COMMAND [ARG...]` talks to it, as it does to ovn-northd.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { JsonRpcConnection, type JsonRpcRequest } from '@ovnts/ovsdb';

export interface UnixctlCommand {
  readonly usage: string;
  readonly minArgs: number;
  readonly maxArgs: number;
  /** Returns the reply text; throws UnixctlError for an error reply. */
  readonly run: (args: string[]) => string | Promise<string>;
}

/** An error reply (ovs-appctl prints it on stderr and exits with status 2). */
export class UnixctlError extends Error {}

export class UnixctlServer {
  private readonly conns = new Set<JsonRpcConnection>();

  private constructor(
    readonly path: string,
    private readonly server: Server,
    private readonly commands: Map<string, UnixctlCommand>,
  ) {
    this.commands.set('list-commands', { usage: '', minArgs: 0, maxArgs: 0, run: () => this.listCommands() });
    server.on('connection', (s: Socket) => this.accept(s));
  }

  /** Listens on `path` (a stale socket file there is replaced). */
  static async listen(path: string, commands: ReadonlyMap<string, UnixctlCommand>): Promise<UnixctlServer> {
    rmSync(path, { force: true });
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new UnixctlServer(path, server, new Map(commands));
  }

  private listCommands(): string {
    const names = [...this.commands.keys()].sort();
    return 'The available commands are:\n' + names.map((n) => `  ${n.padEnd(24)}${this.commands.get(n)!.usage}`.trimEnd() + '\n').join('');
  }

  private accept(s: Socket): void {
    const conn = new JsonRpcConnection(s, { maxMessageBytes: 1 << 20 }, 'unixctl');
    this.conns.add(conn);
    conn.on('close', () => this.conns.delete(conn));
    conn.on('request', (req: JsonRpcRequest) => void this.handle(conn, req));
  }

  private async handle(conn: JsonRpcConnection, req: JsonRpcRequest): Promise<void> {
    if (req.id === null) return; // notifications get no reply
    const cmd = this.commands.get(req.method);
    if (!cmd) {
      conn.replyError(req.id, `"${req.method}" is not a valid command (use "list-commands" to see a list of valid commands)`);
      return;
    }
    if (!req.params.every((p) => typeof p === 'string')) {
      conn.replyError(req.id, `"${req.method}" command has non-string argument`);
      return;
    }
    const args = req.params as string[];
    if (args.length < cmd.minArgs) {
      conn.replyError(req.id, `"${req.method}" command requires at least ${cmd.minArgs} arguments`);
      return;
    }
    if (args.length > cmd.maxArgs) {
      conn.replyError(req.id, `"${req.method}" command takes at most ${cmd.maxArgs} arguments`);
      return;
    }
    try {
      conn.reply(req.id, await cmd.run(args));
    } catch (e) {
      conn.replyError(req.id, e instanceof Error ? e.message : String(e));
    }
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.path, { force: true });
  }
}
