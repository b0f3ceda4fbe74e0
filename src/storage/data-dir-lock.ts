import { closeSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// The embedded data directory's pid lock, apart from PGlite (embedded-postgres.ts), so the CLI
// and a server on PostgreSQL can ask who holds it without loading PGlite.

// Not a NexusError: startup/CLI only (another process holds the data directory).
export class EmbeddedDatabaseLockedError extends Error {}

/**
 * PGlite is a single-process database: a second process opening the same
 * files would silently diverge and corrupt them. A pid file keeps a second
 * Nexus (or a CLI command while the server runs) out; a stale one, left by a
 * process that died, is taken over.
 */
export function lockDataDir(dataDir: string): () => void {
  const lockFile = path.join(dataDir, 'pgdata.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx', 0o600);
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = lockHolder(dataDir);
      if (pid !== undefined) {
        throw new EmbeddedDatabaseLockedError(
          `the embedded database in ${dataDir} is in use by ${pid === 'starting' ? 'another process' : `process ${pid}`}; stop it first, or use PostgreSQL (DATABASE_URL) to run several processes`,
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new EmbeddedDatabaseLockedError(`could not lock the embedded database in ${dataDir}`);
}

/**
 * The live process holding the data directory's lock, if any. A lock file
 * still empty is being written by a process that just created it: held
 * (for a few seconds; one left empty by a crash is stale after that).
 */
export function lockHolder(dataDir: string): number | 'starting' | undefined {
  const lockFile = path.join(dataDir, 'pgdata.lock');
  let content: string;
  try {
    content = readFileSync(lockFile, 'utf8').trim();
  } catch {
    return undefined;
  }
  if (content === '') return Date.now() - statSync(lockFile).mtimeMs < 10_000 ? 'starting' : undefined;
  const pid = Number(content);
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
