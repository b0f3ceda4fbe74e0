import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * PostgreSQL compiled to WebAssembly (PGlite), exposed on a loopback socket
 * so the ordinary `pg` driver and TypeORM talk to it exactly as to a real
 * server: same SQL, same migrations.
 */
export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

export class EmbeddedDatabaseLockedError extends Error {}

/** `dataDir` undefined keeps the database in memory (tests). */
export async function startEmbeddedPostgres(dataDir: string | undefined): Promise<EmbeddedPostgres> {
  let db: PGlite;
  let unlock = () => {};
  if (dataDir) {
    const pgdata = path.join(dataDir, 'pgdata');
    mkdirSync(pgdata, { recursive: true });
    unlock = lockDataDir(dataDir);
    try {
      db = await PGlite.create(pgdata);
    } catch (err) {
      unlock();
      throw err;
    }
  } else {
    db = await PGlite.create();
  }
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0 });
  await server.start();
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  return {
    url,
    async stop() {
      await server.stop();
      await db.close();
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
      const fd = openSync(lockFile, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(lockFile, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new EmbeddedDatabaseLockedError(
          `the embedded database in ${dataDir} is in use by process ${pid}; stop it first, or use PostgreSQL (DATABASE_URL) to run several processes`,
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new EmbeddedDatabaseLockedError(`could not lock the embedded database in ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
