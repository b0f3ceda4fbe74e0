import path from 'node:path';

/**
 * The control channel between the CLI and a server running on the embedded
 * data directory: a Unix socket in a 0700 directory of the data directory.
 *
 * The client sends one JSON line, {"argv": [...], "cwd": "...", "env": {...}}; the server
 * runs that command line with the CLI's own command code against its open
 * database and answers with JSON lines: {"out": text}, {"err": text}, and
 * last {"exit": code}.
 */
export interface ControlRequest {
  argv: string[];
  cwd: string;
  /** The CLI's environment: `${VAR}` in files it names is its own, as when it runs alone. */
  env: Record<string, string>;
}

export type ControlReply = { out: string } | { err: string } | { exit: number };

/** Longest request line the server reads; a command line is far shorter. */
export const MAX_REQUEST_BYTES = 64 * 1024;

/** Unix socket paths are limited to 107 bytes on Linux (103 on macOS). */
export const MAX_SOCKET_PATH = 103;

export function controlDir(dataDir: string): string {
  return path.join(dataDir, 'control');
}

export function controlSocketPath(dataDir: string): string {
  return path.join(controlDir(dataDir), 'nexus.sock');
}

/** Options whose values are paths: resolved against the CLI's working directory, not the server's. */
export const PATH_OPTIONS = new Set(['file']);
