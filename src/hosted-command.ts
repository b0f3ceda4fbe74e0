import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';
import type { Config } from './config/config.js';

/**
 * A CLI command line being run inside the server for a client of the control
 * socket: the command code is the CLI's own, the database is the server's.
 */
/** The server's running app, as much as this file needs of it (src/app.ts's App; not imported, so the app and this hook form no loop). */
export interface RunningApp {
  close(): Promise<void>;
}

export interface HostedCommand {
  app: RunningApp;
  config: Config;
  /** The client's working directory and environment (paths and `${VAR}` in files it names are its own). */
  cwd: string;
  env: NodeJS.ProcessEnv;
  out(text: string): void;
  err(text: string): void;
}

const current = new AsyncLocalStorage<HostedCommand>();

/** Runs `fn` as a hosted command: console output, createApp and commandEnv() go to `command`. */
export function runHosted<T>(command: HostedCommand, fn: () => Promise<T>): Promise<T> {
  routeConsole();
  return current.run(command, fn);
}

export function hostedCommand(): HostedCommand | undefined {
  return current.getStore();
}

/**
 * createApp's hook: inside a hosted command the server's running app is
 * handed out (closing it is the server's business, not the command's).
 */
export function hostedApp<A extends RunningApp>(config: Config): A | undefined {
  const command = current.getStore();
  if (!command) return undefined;
  if (config.keyRing.toSpec() !== command.config.keyRing.toSpec()) {
    throw new Error(
      'this command needs a different encryption key ring than the running server loaded at start: stop the server, run it, then start the server',
    );
  }
  // The app the server stored is its App (src/control/server.ts), which is both what createApp and createCore return.
  return { ...(command.app as A), close: async () => {} };
}

/** The environment of the command line being run: the client's when hosted. */
export function commandEnv(): NodeJS.ProcessEnv {
  return current.getStore()?.env ?? process.env;
}

let routed = false;

/** console.log and friends write to the hosted command's client when called inside one, as before otherwise. */
function routeConsole(): void {
  if (routed) return;
  routed = true;
  for (const [name, stream] of [
    ['log', 'out'],
    ['info', 'out'],
    ['warn', 'err'],
    ['error', 'err'],
  ] as const) {
    const original = console[name].bind(console);
    console[name] = (...args: unknown[]) => {
      const command = current.getStore();
      if (command) command[stream](`${format(...args)}\n`);
      else original(...args);
    };
  }
}
