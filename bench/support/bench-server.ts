/**
 * A Nexus server process for benchmarks: `nexus start` plus the reference echo
 * service. Configured by the same environment as `nexus start`; runs until SIGTERM.
 * It is its own process so the load generator never shares its event loop.
 */
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logging.js';
import { registerEcho } from './echo-service.js';
import { serveUntilStopped } from './serve.js';

const config = loadConfig();
const logger = createLogger(config.logLevel);
// NEXUS_BENCH_AUDIT=off: the audit benchmark's reference server, with RPCs not audited.
const app = await createApp(config, logger, { extraServices: registerEcho, auditRpcs: process.env.NEXUS_BENCH_AUDIT !== 'off' });
await serveUntilStopped(app, config);
