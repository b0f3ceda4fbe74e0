import { DataSource } from 'typeorm';
import { entities } from './entities/index.js';
import { migrations } from './migrations/index.js';
import type { EmbeddedPostgres } from './embedded-postgres.js';

/** The pg pool's counters (what the metrics and load shedding read). */
export interface PoolLike {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  options?: { max?: number };
}

/** The connection pool behind a data source, once it is initialized. */
export function poolOf(dataSource: DataSource): PoolLike | undefined {
  return dataSource.isInitialized ? (dataSource.driver as unknown as { master?: PoolLike }).master : undefined;
}

export interface DatabaseOptions {
  /** PostgreSQL URL; unset means embedded PGlite. */
  url?: string | undefined;
  /** Where the embedded database lives; unset keeps it in memory. */
  dataDir?: string | undefined;
  /** Pool size for a real PostgreSQL. */
  poolSize?: number;
}

export interface Database {
  dataSource: DataSource;
  embedded: boolean;
  /** The PostgreSQL URL in use; undefined when embedded (in-process, nothing to connect to). */
  url: string | undefined;
  close(): Promise<void>;
}

// Any constant works; it only has to be the same in every replica.
const MIGRATION_LOCK_KEY = 7_242_019_001;

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const url = options.url;
  // PGlite (JavaScript and WebAssembly) is loaded only for the embedded database, never on PostgreSQL.
  const embedded: EmbeddedPostgres | undefined = url ? undefined : await (await import('./embedded-postgres.js')).startEmbeddedPostgres(options.dataDir);
  const dataSource = new DataSource({
    type: 'postgres',
    // Embedded: the pool's session is an in-process stream (no host, no port, no password to guess).
    ...(embedded ? { username: 'postgres', database: 'postgres' } : { url }),
    entities,
    migrations,
    synchronize: false,
    migrationsRun: false,
    logging: false,
    extra: {
      // PGlite is one session: two pooled clients would interleave their
      // transactions inside it, so the embedded database gets exactly one.
      max: embedded ? 1 : (options.poolSize ?? 10),
      // The embedded session also carries the event LISTEN (event-listener.ts): keep it, never recycle it.
      ...(embedded ? { idleTimeoutMillis: 0, stream: () => embedded.connect() } : {}),
      connectionTimeoutMillis: 5_000,
      // A query stuck behind a lost lock must not hang a request forever.
      statement_timeout: 15_000,
    },
  });
  try {
    await dataSource.initialize();
    await runMigrations(dataSource, !embedded);
    embedded?.tighten(); // migrations created files
  } catch (err) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
    throw err;
  }
  return {
    dataSource,
    embedded: embedded !== undefined,
    url,
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded?.stop();
    },
  };
}

/**
 * Replicas may start together; an advisory lock makes one of them migrate
 * while the others wait and then find nothing left to do.
 */
async function runMigrations(dataSource: DataSource, lock: boolean): Promise<void> {
  if (!lock) {
    await dataSource.runMigrations({ transaction: 'each' });
    return;
  }
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}
