import cluster from 'node:cluster';
import type { Config } from '../config/config.js';
import { createApp, type App } from '../app.js';
import { clusterMetricsSource } from '../observability/cluster-metrics.js';
import { createLogger } from '../logging.js';
import { startControlServer, type ControlServer } from '../control/server.js';

export interface StartOptions {
  /** Generate and print the default project's admin key on first start (false in cluster workers: the primary did it). */
  generateAdminKey?: boolean;
  /** `worker` (`nexus worker`): only the background refresh worker, with health checks and /metrics on PORT, no API. */
  mode?: 'server' | 'worker';
}

/** Runs the server until SIGINT/SIGTERM, then drains in-flight requests and closes the database. */
export async function start(config: Config, options: StartOptions = {}): Promise<void> {
  const mode = options.mode ?? 'server';
  const logger = createLogger(config.logLevel);
  // Signals are handled from the first moment: a stop asked for while the app
  // is still starting (a cluster primary stopping a worker it just forked)
  // lets the start finish, then closes cleanly, instead of dying by signal.
  let stopping = false;
  let starting: Promise<App> | undefined;
  let control: ControlServer | undefined;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    try {
      await control?.close();
      await (await starting)?.close();
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // Logged after the handlers are in place, so once this line is out a stop is
  // handled cleanly (before them a signal takes the OS default: instant death).
  if (config.keyRingSource === 'generated') {
    logger.warn(
      { file: `${config.dataDir}/encryption-keys` },
      'NEXUS_ENCRYPTION_KEYS is not set: generated a development key ring in the data directory. Set it in production.',
    );
  }

  starting = createApp(
    config,
    logger,
    mode === 'worker'
      ? { refreshWorker: true, serveApi: false }
      : { generateAdminKey: options.generateAdminKey ?? true, refreshWorker: config.refresh.worker },
  );
  const app = await starting;
  if (stopping) return; // stop() closes it
  if (app.generatedAdminKey) printAdminKey(app.generatedAdminKey);
  // A `--workers` worker: /metrics serves the sum over every worker (the primary collects them).
  if (cluster.isWorker) app.metrics.serveAggregate(clusterMetricsSource(app.metrics.registry));
  // The embedded database is this process's alone: CLI admin commands reach it through a private socket.
  if (app.database.embedded && config.dataDir) control = await startControlServer(config.dataDir, app, config, logger);
  if (stopping) return;
  await app.server.listen({ port: config.port, host: config.host });
  if (stopping) return;
  logger.info(
    {
      baseUrl: config.baseUrl,
      database: app.database.embedded ? `embedded (${config.dataDir})` : 'postgresql',
      refreshWorker: app.refreshWorker !== undefined,
    },
    mode === 'worker' ? 'nexus refresh worker is ready' : 'nexus is ready',
  );
}

/** Printed once, to the terminal rather than the log stream, and never again. */
export function printAdminKey(key: string): void {
  process.stderr.write(`\nAdmin API key for the default project (shown once, store it now):\n\n  ${key}\n\n`);
}
