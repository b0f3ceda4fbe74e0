import path from 'node:path';
import type { Duplex } from 'node:stream';
import { PGlite } from '@electric-sql/pglite';
import { lockDataDir } from './data-dir-lock.js';
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
