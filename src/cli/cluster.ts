import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';
import type { Logger } from 'pino';
import { createCore } from '../core.js';
import { startRefusingControlServer } from '../control/server.js';
import { ConfigError, type Config } from '../config/config.js';
import { createLogger } from '../logging.js';
import { serveClusterMetrics } from '../observability/cluster-metrics.js';
import { bindPort, printFirstScreen, release } from './start.js';

/** How long the primary waits for draining workers before killing them. */
const DRAIN_TIMEOUT_MS = 30_000;
/** A worker that dies sooner than this after starting is replaced only after a pause (no crash loop). */
const RESTART_BACKOFF_MS = 1_000;

/**
 * `--workers` / NEXUS_WORKERS: a number of processes, or `auto` for one per
 * core. Undefined means 1 (a single process, no cluster).
 */
export function parseWorkers(value: string | undefined): number {
  if (value === undefined || value === '') return 1;
  if (value === 'auto') return os.availableParallelism();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new ConfigError(`workers "${value}" must be "auto" or a whole number from 1 to 256`);
  return n;
}

/**
 * The node:cluster primary: prepares the database once (migrations, the
 * first-start admin key), forks `workers` server processes that share the
 * listening port (the primary hands out connections round-robin), replaces a
 * worker that dies, and on SIGTERM/SIGINT lets every worker drain and exits
 * when they have.
 *
 * The embedded database (PGlite) lives in one process, so it is refused here:
 * several processes need DATABASE_URL.
 */
export async function runPrimary(config: Config, workers: number): Promise<void> {
  if (!config.databaseUrl) {
    throw new ConfigError(
      `${workers} workers need DATABASE_URL: the embedded database (PGlite) can only be used by one process. Set DATABASE_URL or run one worker.`,
    );
  }
  const logger = createLogger(config.logLevel, { format: config.logFormat });
  // The port is held while the database is prepared: a busy one fails before migrations or a key.
  const probe = await bindPort(config.port, config.host, config.load);
  let adminKey: string | undefined;
  try {
    adminKey = await prepareDatabase(config, logger);
  } finally {
    await release(probe);
  }

  serveClusterMetrics();
  // Each worker loads its own copy of a key ring kept in the data directory: keys:rotate is refused here.
  const control =
    config.keyRingSource === 'env' || !config.dataDir
      ? undefined
      : await startRefusingControlServer(
          config.dataDir,
          logger,
          `keys:rotate: ${workers} workers run on this data directory, each with its own copy of the key ring, and cannot take a new one while they run. Stop the server, run nexus keys:rotate, start it again; or keep the ring in NEXUS_ENCRYPTION_KEYS and rotate in rolling restarts (docs/security.md, Key rotation).`,
        );
  let stopping = false;
  const startedAt = new Map<number, number>();
  // Workers whose server listens; one stopped before that has served nothing (see stopWorkers).
  const listening = new Set<number>();
  cluster.on('listening', (worker: Worker) => listening.add(worker.id));
  const fork = () => {
    const worker = cluster.fork();
    startedAt.set(worker.id, Date.now());
  };
  cluster.on('exit', (worker: Worker, code: number | null, signal: string | null) => {
    const lived = Date.now() - (startedAt.get(worker.id) ?? 0);
    startedAt.delete(worker.id);
    listening.delete(worker.id);
    if (stopping) return;
    logger.warn({ worker: worker.process.pid, code, signal }, 'worker exited; starting a replacement');
    setTimeout(fork, lived < RESTART_BACKOFF_MS ? RESTART_BACKOFF_MS : 0);
  });
  for (let i = 0; i < workers; i++) fork();
  logger.info({ workers, baseUrl: config.baseUrl }, 'nexus cluster primary started');
  printFirstScreen({ config, embedded: false, adminKey, heading: `Nexus is starting ${workers} workers.` });

  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down workers');
    const clean = await stopWorkers(
      Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined),
      listening,
    );
    await control?.close();
    process.exit(clean ? 0 : 1);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/** Migrations and the admin key once, before any worker starts, so workers never race to create them. */
async function prepareDatabase(config: Config, logger: Logger): Promise<string | undefined> {
  const core = await createCore(config, logger, { generateAdminKey: true });
  await core.close();
  return core.generatedAdminKey;
}

/**
 * SIGTERM to each worker (each drains its requests); SIGKILL after
 * DRAIN_TIMEOUT_MS. True when all exited cleanly: with 0, or, for a worker
 * not yet listening (still loading, before it handles signals), ended by
 * that SIGTERM, having served nothing.
 */
async function stopWorkers(workers: Worker[], listening: Set<number>): Promise<boolean> {
  const exits = workers.map(
    (worker) =>
      new Promise<boolean>((resolve) => {
        if (worker.isDead()) return resolve(true);
        // Whether it was serving is read now: the exit below removes it from `listening`.
        const served = listening.has(worker.id);
        const timer = setTimeout(() => worker.process.kill('SIGKILL'), DRAIN_TIMEOUT_MS);
        worker.once('exit', (code, signal) => {
          clearTimeout(timer);
          resolve(code === 0 || (signal === 'SIGTERM' && !served));
        });
        worker.process.kill('SIGTERM');
      }),
  );
  return (await Promise.all(exits)).every(Boolean);
}
