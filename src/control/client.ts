import net from 'node:net';
import path from 'node:path';
import type { Command } from 'commander';
import { dataDirOf } from '../config/config.js';
import { lockHolder } from '../storage/data-dir-lock.js';
import { hostedCommand } from '../hosted-command.js';
import { controlSocketPath, PATH_OPTIONS, type ControlReply, type ControlRequest } from './protocol.js';

/** Commands that are the server itself: never forwarded. */
const SERVER_COMMANDS = new Set(['start', 'worker']);
/** Commands that never open the database: they run in this process whatever runs beside it. */
const LOCAL_COMMANDS = new Set(['catalog check']);
/**
 * On PostgreSQL every admin command runs in its own process beside the servers, except this
 * one: with the key ring in the data directory (no NEXUS_ENCRYPTION_KEYS), a server running on
 * it must adopt the new ring before anything is re-sealed under it, so it runs in that server.
 */
const IN_SERVER_ON_POSTGRES = new Set(['keys:rotate']);
/** How long a command waits for a starting server's control socket. */
const START_WAIT_MS = 60_000;

/** "api-keys list", "keys:rotate": the command's words after the program's name. */
export function commandPath(command: Command): string {
  const words: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) words.unshift(c.name());
  return words.join(' ');
}

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
  const name = commandPath(command);
  if (LOCAL_COMMANDS.has(name)) return undefined;
  const dataDir = dataDirOf(env);
  if (SERVER_COMMANDS.has(name)) {
    if (!env.DATABASE_URL) refuseSecondProcess(name, dataDir);
    return undefined;
  }
  if (env.DATABASE_URL && !(IN_SERVER_ON_POSTGRES.has(name) && !env.NEXUS_ENCRYPTION_KEYS)) return undefined;
  const request: ControlRequest = {
    argv: process.argv.slice(2),
    cwd: process.cwd(),
    env: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string')),
  };
  const socketPath = controlSocketPath(dataDir);
  const exit = await forward(socketPath, request);
  if (exit !== undefined || env.DATABASE_URL || lockHolder(dataDir) === undefined) return exit;
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

/**
 * `start` or `worker` on an embedded data directory a server already holds cannot work: the
 * embedded database belongs to one process. Said before anything is bound or opened, with
 * what to do instead.
 */
function refuseSecondProcess(name: string, dataDir: string): void {
  const holder = lockHolder(dataDir);
  if (holder === undefined) return;
  const who = holder === 'starting' ? 'a Nexus server is starting' : `a Nexus server (process ${holder}) runs`;
  const instead =
    name === 'worker'
      ? 'it runs the background refresh worker itself; a separate worker process needs PostgreSQL (DATABASE_URL)'
      : 'stop it first, or use PostgreSQL (DATABASE_URL) to run several servers';
  throw new SecondProcessError(
    `${who} on the embedded database in ${dataDir}, which only one process can open: ${instead}. Admin commands (nexus api-keys, providers, keys:*, migrate) run through that server.`,
  );
}

export class SecondProcessError extends Error {}

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
      else if (!connected)
        reject(
          new Error(
            `cannot reach the server running on this data directory through ${socketPath} (${err.code ?? err.message}): run the command as the user that runs the server`,
          ),
        );
      else reject(new Error(`lost the server's control connection (${err.code ?? err.message})`));
    });
    socket.on('close', () => {
      if (!connected) return;
      if (exit === undefined) reject(new Error('the server closed the control connection before the command finished (was it stopped?)'));
      else resolve(exit);
    });
  });
}
