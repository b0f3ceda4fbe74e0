import { openSync, readFileSync, rmSync, statSync, writeFileSync, closeSync } from 'node:fs';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { PGlite } from '@electric-sql/pglite';
import { secureDataDir, tightenQuietly } from './data-dir.js';
import { PGliteWire } from './pglite-wire.js';

/**
 * PostgreSQL compiled to WebAssembly (PGlite), spoken to in-process: the
 * ordinary `pg` driver and TypeORM get a wire-protocol stream instead of a
 * socket, so they talk to it exactly as to a real server (same SQL, same
 * migrations) while no other process can reach it: there is no listener.
 */
export interface EmbeddedPostgres {
  /** A new session: a Duplex for node-postgres's `stream` option. */
  connect(): Duplex;
  /** Makes the files PGlite created since the last call 0600 (it creates them 0666; the 0700 directory guards them meanwhile). */
  tighten(): void;
  stop(): Promise<void>;
}

// Not a NexusError: startup/CLI only (another process holds the data directory).
export class EmbeddedDatabaseLockedError extends Error {}

/** `dataDir` undefined keeps the database in memory (tests). */
export async function startEmbeddedPostgres(dataDir: string | undefined): Promise<EmbeddedPostgres> {
  let db: PGlite;
  let unlock = () => {};
  if (dataDir) {
    const pgdata = path.join(dataDir, 'pgdata');
    secureDataDir(dataDir);
    unlock = lockDataDir(dataDir);
    try {
      db = await PGlite.create(pgdata);
      tightenQuietly(pgdata); // PGlite makes its files 0666
    } catch (err) {
      unlock();
      throw err;
    }
  } else {
    db = await PGlite.create();
  }
  const tighten = () => {
    if (dataDir) tightenQuietly(path.join(dataDir, 'pgdata'));
  };
  return {
    connect: () => new PGliteWire(db),
    tighten,
    async stop() {
      if (!db.closed) await db.close();
      tighten();
      unlock();
    },
  };
}

/**
 * PGlite is a single-process database: a second process opening the same
 * files would silently diverge and corrupt them. A pid file keeps a second
 * Nexus (or a CLI command while the server runs) out; a stale one, left by a
 * process that died, is taken over.
 */
function lockDataDir(dataDir: string): () => void {
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
