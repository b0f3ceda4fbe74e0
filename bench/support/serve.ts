import type { App } from '../../src/app.js';
import type { Config } from '../../src/config/config.js';

/** Listens as `nexus start` does and closes the app on SIGTERM/SIGINT: the end of every benchmark server script. */
export async function serveUntilStopped(app: App, config: Config): Promise<void> {
  await app.server.listen({ port: config.port, host: config.host });
  const stop = async () => {
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}
