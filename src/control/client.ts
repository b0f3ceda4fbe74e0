import net from 'node:net';
import path from 'node:path';
import type { Command } from 'commander';
import { dataDirOf } from '../config/config.js';
import { lockHolder } from '../storage/embedded-postgres.js';
import { hostedCommand } from '../hosted-command.js';
import { controlSocketPath, PATH_OPTIONS, type ControlReply, type ControlRequest } from './protocol.js';

/** Commands that are the server itself: never forwarded. */
const SERVER_COMMANDS = new Set(['start', 'worker']);
/** How long a command waits for a starting server's control socket. */
const START_WAIT_MS = 60_000;

/**
 * The CLI's preAction hook. Run alone, an admin command asks a server
 * running on the embedded data directory to run it (there it would find the
 * database locked) and returns that command's exit code; undefined means
 * "run it here" (no server, PostgreSQL, or already inside the server).
 */
export async function forwardIfServerRunning(command: Command, env: NodeJS.ProcessEnv = process.env): Promise<number | undefined> {
  const hosted = hostedCommand();
  if (hosted) {
    // Inside the server: paths are the client's, relative to its directory.
    for (const name of PATH_OPTIONS) {
      const value: unknown = command.getOptionValue(name);
      if (typeof value === 'string') command.setOptionValue(name, path.resolve(hosted.cwd, value));
    }
    return undefined;
  }
  if (SERVER_COMMANDS.has(command.name()) || env.DATABASE_URL) return undefined;
  const dataDir = dataDirOf(env);
  const request: ControlRequest = {
    argv: process.argv.slice(2),
    cwd: process.cwd(),
    env: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string')),
  };
  const socketPath = controlSocketPath(dataDir);
  const exit = await forward(socketPath, request);
  if (exit !== undefined || lockHolder(dataDir) === undefined) return exit;
  // A server holds the database but has no socket yet: it is starting. Wait for it rather than fail.
  process.stderr.write(`nexus: waiting for the server starting on ${dataDir}\n`);
  const deadline = Date.now() + START_WAIT_MS;
  while (Date.now() < deadline && lockHolder(dataDir) !== undefined) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const answered = await forward(socketPath, request);
    if (answered !== undefined) return answered;
  }
  return undefined; // it stopped (the command runs here) or never opened a socket (the command reports the lock)
}


/** Sends a command line to the server; its output goes to this process's stdout/stderr. undefined: no server there. */
export function forward(socketPath: string, request: ControlRequest): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let connected = false;
    let exit: number | undefined;
    let buffered = '';
    socket.on('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify(request)}\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const reply = JSON.parse(buffered.slice(0, newline)) as ControlReply;
        buffered = buffered.slice(newline + 1);
        if ('out' in reply) process.stdout.write(reply.out);
        else if ('err' in reply) process.stderr.write(reply.err);
        else exit = reply.exit;
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // No socket, or one left by a server that is gone: nobody is serving, run the command here.
      if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) resolve(undefined);
      else if (!connected) reject(new Error(`cannot reach the server running on this data directory through ${socketPath} (${err.code ?? err.message}): run the command as the user that runs the server`));
      else reject(new Error(`lost the server's control connection (${err.code ?? err.message})`));
    });
    socket.on('close', () => {
      if (!connected) return;
      if (exit === undefined) reject(new Error('the server closed the control connection before the command finished (was it stopped?)'));
      else resolve(exit);
    });
  });
}
