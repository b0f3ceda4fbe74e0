import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import type { Command } from 'commander';
import { CommanderError } from 'commander';
import type { Logger } from 'pino';
import type { App } from '../app.js';
import type { Config } from '../config/config.js';
import { runHosted } from '../hosted-command.js';
import { controlDir, controlSocketPath, MAX_REQUEST_BYTES, MAX_SOCKET_PATH, type ControlReply, type ControlRequest } from './protocol.js';

/** How long a client has to send its command line once connected. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Clients connected at once (commands run one at a time; the rest wait their turn). */
const MAX_CLIENTS = 16;

let program: Command | undefined;
let prepared = false;

/** The CLI registers its command program; the control server runs command lines with it. */
export function serveCommands(cli: Command): void {
  program = cli;
}

export interface ControlServer {
  path: string;
  close(): Promise<void>;
}

/**
 * Listens on `<dataDir>/control/nexus.sock` for CLI command lines to run
 * against this server's open embedded database. Only the server's user can
 * reach it: the directory is 0700 and the socket 0600 (the kernel checks
 * both on connect). Returns undefined when no program is registered or the
 * path is too long for a Unix socket (then the CLI reports the database in use).
 */
export async function startControlServer(
  dataDir: string,
  app: App,
  config: Config,
  logger: Logger,
  { exclusive }: { exclusive: boolean },
): Promise<ControlServer | undefined> {
  if (!program) return undefined;
  return openControlSocket(dataDir, logger, exclusive, (request, reply) =>
    runCommandLine(request, { app, config, cwd: request.cwd, env: request.env, out: reply.out, err: reply.err }),
  );
}

/**
 * `start --workers N` on PostgreSQL with the key ring in the data directory: each worker holds
 * its own copy of the ring, and none can take a new one from here. The primary answers
 * `keys:rotate` (the one command the CLI sends on PostgreSQL) with a refusal that says what to
 * do, rather than letting it rotate the file and re-seal under a key no worker holds.
 */
export function startRefusingControlServer(dataDir: string, logger: Logger, refusal: string): Promise<ControlServer | undefined> {
  return openControlSocket(dataDir, logger, false, async (_request, reply) => {
    reply.err(`nexus: ${refusal}\n`);
    return 1;
  });
}

type RunRequest = (request: ControlRequest, reply: { out(text: string): void; err(text: string): void }) => Promise<number>;

async function openControlSocket(dataDir: string, logger: Logger, exclusive: boolean, run: RunRequest): Promise<ControlServer | undefined> {
  const socketPath = controlSocketPath(dataDir);
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    logger.warn(
      { path: socketPath },
      'the control socket path is too long for a Unix socket: CLI commands cannot run while the server runs (use a shorter NEXUS_DATA_DIR)',
    );
    return undefined;
  }
  const dir = controlDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  // On the embedded database this process holds the data directory's lock, so a socket there was
  // left by a server that died. On PostgreSQL several processes may share a data directory: the
  // first one serves the socket, and a live one is left alone.
  if (!exclusive && (await answers(socketPath))) {
    logger.warn({ path: socketPath }, 'another process on this data directory serves the control socket: nexus keys:rotate runs there, not here');
    return undefined;
  }
  rmSync(socketPath, { force: true });

  let queue: Promise<void> = Promise.resolve();
  const server = net.createServer((socket) => {
    const send = (reply: ControlReply) => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(reply)}\n`);
    };
    let buffered = '';
    let received = false;
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => {
      if (!received) socket.destroy();
    });
    socket.on('error', () => {}); // a client that goes away mid-answer is no concern of the server
    socket.on('data', (chunk: Buffer) => {
      if (received) return;
      buffered += chunk.toString('utf8');
      const newline = buffered.indexOf('\n');
      if (newline < 0) {
        if (buffered.length > MAX_REQUEST_BYTES) socket.destroy();
        return;
      }
      received = true;
      socket.setTimeout(0);
      const request = parseRequest(buffered.slice(0, newline));
      if (!request) {
        send({ err: 'nexus: malformed control request\n' });
        send({ exit: 2 });
        socket.end();
        return;
      }
      queue = queue
        .then(async () => {
          const exit = await run(request, { out: (out) => send({ out }), err: (err) => send({ err }) });
          send({ exit });
          socket.end();
        })
        // One command's failure to answer must not stop the ones queued behind it.
        .catch((err: unknown) => {
          logger.warn({ err }, 'a control command could not answer');
          socket.destroy();
        });
    });
  });
  server.maxConnections = MAX_CLIENTS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(socketPath, 0o600);
  logger.info({ path: socketPath }, 'CLI commands run through the control socket while the server runs');
  return {
    path: socketPath,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queue; // a command in progress finishes before the database closes
      rmSync(socketPath, { force: true });
    },
  };
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function runCommandLine(request: ControlRequest, command: Parameters<typeof runHosted>[0]): Promise<number> {
  const cli = program!;
  if (!prepared) {
    // In the server, a command line must never exit the process: commander throws instead, and writes to the client.
    prepared = true;
    const prepare = (c: Command) => {
      c.exitOverride();
      c.configureOutput({ writeOut: (s) => console.log(s.replace(/\n$/, '')), writeErr: (s) => console.error(s.replace(/\n$/, '')) });
      c.commands.forEach(prepare);
    };
    prepare(cli);
  }
  try {
    await runHosted(command, () => cli.parseAsync(request.argv, { from: 'user' }));
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    command.err(`nexus: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

function parseRequest(line: string): ControlRequest | undefined {
  try {
    const value = JSON.parse(line) as { argv?: unknown; cwd?: unknown; env?: unknown };
    const strings = (a: unknown): a is string[] => Array.isArray(a) && a.every((s) => typeof s === 'string');
    if (!strings(value.argv) || typeof value.cwd !== 'string' || !value.env || typeof value.env !== 'object') return undefined;
    const env = Object.fromEntries(Object.entries(value.env).filter((e): e is [string, string] => typeof e[1] === 'string'));
    return { argv: value.argv, cwd: value.cwd, env };
  } catch {
    return undefined;
  }
}
