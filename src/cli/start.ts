import cluster from 'node:cluster';
import type http from 'node:http';
import { loadLoadConfig, type Config } from '../config/config.js';
import { createApp, type App } from '../app.js';
import { WEB_APP_PATH } from '../domain/auth/auth-service.js';
import { DualProtocolServer, type FrontLimits } from '../http/dual-protocol-server.js';
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
  const logger = createLogger(config.logLevel, { format: config.logFormat });
  // Signals are handled from the first moment: a stop asked for while the app
  // is still starting (a cluster primary stopping a worker it just forked)
  // lets the start finish, then closes cleanly, instead of dying by signal.
  let stopping = false;
  let starting: Promise<App> | undefined;
  let listener: DualProtocolServer | undefined;
  let control: ControlServer | undefined;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    try {
      await control?.close();
      const app = await starting?.catch(() => undefined);
      if (app) await app.close();
      else if (listener?.listening) await release(listener);
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

  // The port first: a busy one fails here, before migrations run or a once-only key is made. Not in a
  // cluster worker: the primary held the port while it migrated, and a worker counts as serving
  // for the primary (metrics, drain) from the moment it listens.
  if (!cluster.isWorker) listener = await bindPort(config.port, config.host, config.load);
  if (stopping) return;
  starting = createApp(
    config,
    logger,
    mode === 'worker'
      ? { refreshWorker: true, serveApi: false, listener }
      : { generateAdminKey: options.generateAdminKey ?? true, refreshWorker: config.refresh.worker, listener },
  );
  let app: App;
  try {
    app = await starting;
  } catch (err) {
    if (!stopping && listener) await release(listener);
    throw err;
  }
  if (stopping) return; // stop() closes it
  // A `--workers` worker: /metrics serves the sum over every worker (the primary collects them).
  if (cluster.isWorker) app.metrics.serveAggregate(clusterMetricsSource(app.metrics.registry));
  // The embedded database is this process's alone: CLI admin commands reach it through a private socket.
  // On PostgreSQL with the key ring in the data directory, `nexus keys:rotate` comes here too: this
  // process must adopt the new ring before anything is sealed under it. Not in a cluster worker
  // (one socket per data directory; `--workers` with a ring in the data directory: see keys:rotate).
  if (config.dataDir && !cluster.isWorker && (app.database.embedded || config.keyRingSource !== 'env')) {
    control = await startControlServer(config.dataDir, app, config, logger, { exclusive: app.database.embedded });
  }
  if (stopping) return;
  await app.server.listen({ port: config.port, host: config.host });
  if (stopping) return;
  logger.info(
    {
      baseUrl: config.baseUrl,
      database: app.database.embedded ? `embedded (${config.dataDir})` : 'postgresql',
      refreshWorker: app.refreshWorker !== undefined,
      webhookWorker: app.webhookWorker !== undefined,
    },
    mode === 'worker' ? 'nexus refresh worker is ready' : 'nexus is ready',
  );
  if (mode === 'server' && !cluster.isWorker) {
    printFirstScreen({ config, embedded: app.database.embedded, adminKey: app.generatedAdminKey });
  }
}

/**
 * Binds PORT with a server that answers "starting" (/healthz 200, anything
 * else 503) until the app takes it over. Errors name the port and what to do.
 */
export async function bindPort(port: number, host: string, limits: FrontLimits = loadLoadConfig({})): Promise<DualProtocolServer> {
  const server = new DualProtocolServer(answerStarting, limits);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new Error(`port ${port} on ${host} is already in use (another Nexus?): stop that process or set PORT to a free port`);
    }
    if (code === 'EACCES') throw new Error(`not allowed to listen on port ${port} on ${host}: use a port above 1023 or set PORT`);
    if (code === 'EADDRNOTAVAIL') throw new Error(`HOST ${host} is not an address of this machine`);
    throw err;
  }
  return server;
}

/**
 * Closes a server bound by bindPort that no app took over: its connections
 * too (a load balancer polling /readyz keeps one alive, and close() would
 * wait for it forever).
 */
export function release(server: DualProtocolServer): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

const answerStarting: http.RequestListener = (req, res) => {
  const live = req.url === '/healthz';
  res.writeHead(live ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store', 'retry-after': '1' });
  res.end(JSON.stringify({ status: 'starting' }));
};

export interface FirstScreen {
  config: Pick<Config, 'baseUrl' | 'production' | 'dataDir'>;
  embedded: boolean;
  /** The admin key this start generated, if any: shown here once. */
  adminKey: string | undefined;
  heading?: string;
}

/**
 * The block a person reads after `nexus start`: where the API and the web
 * app are, where to go next, and the admin key when it is new. Written to
 * stderr, apart from the (JSON) log stream; in production without a terminal
 * only when there is a new key to show.
 */
export function firstScreen({ config, embedded, adminKey, heading = 'Nexus is ready.' }: FirstScreen): string {
  const lines = [
    '',
    heading,
    `  API          ${config.baseUrl}   (Connect, gRPC and gRPC-Web on one port)`,
    `  Web app      ${config.baseUrl}${WEB_APP_PATH}`,
    `  Walkthrough  README.md, "Walkthrough: your first connections"; running in production: docs/production.md`,
    `  Database     ${embedded ? `embedded, in ${config.dataDir || 'memory'}` : 'PostgreSQL (DATABASE_URL)'}`,
  ];
  if (adminKey) {
    lines.push('', 'Admin API key for the default project (shown once, store it now):', '', `  ${adminKey}`);
  }
  return `${lines.join('\n')}\n\n`;
}

export function printFirstScreen(screen: FirstScreen, stream: NodeJS.WriteStream = process.stderr): void {
  if (!screen.adminKey && screen.config.production && !stream.isTTY) return;
  stream.write(firstScreen(screen));
}
