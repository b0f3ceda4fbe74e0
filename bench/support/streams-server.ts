/**
 * The streams benchmark's server: `nexus start` plus two routes for the
 * benchmark only (never in the product): POST /bench/inject fans a synthetic
 * event out through the hub in memory (the reference: same streams, same
 * handlers and encoding, no PostgreSQL in the path) and GET /bench/memory
 * reports memory after a full GC (run with --expose-gc).
 */
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logging.js';
import { PhaseProfiler } from './phase-profiler.js';
import { serveUntilStopped } from './serve.js';

const config = loadConfig();
const app = await createApp(config, createLogger(config.logLevel));
let injected = 1e12; // above any real event id, so watchers never drop it as already seen

app.server.post('/bench/inject', async (request) => {
  const { projectId, workspaceId, providerId, providerName, connectionId } = request.body as Record<string, string>;
  const now = new Date();
  app.events.dispatchLocal({
    id: String(++injected),
    projectId: projectId!,
    connectionId: connectionId!,
    workspaceId: workspaceId!,
    providerId: providerId!,
    type: 'UPDATED',
    createdAt: now,
    connection: {
      id: connectionId!,
      projectId: projectId!,
      workspaceId: workspaceId!,
      providerId: providerId!,
      providerName: providerName!,
      status: 'PENDING',
      statusReason: 'consent_required',
      scopes: [],
      returnUrl: 'https://app.example.com/connections/return',
      fields: null,
      supersededBy: null,
      tokenExpiresAt: null,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    },
  });
  return { ok: true };
});

app.server.get('/bench/memory', async () => {
  (globalThis as { gc?: () => void }).gc?.();
  return { ...process.memoryUsage(), openStreams: app.watch.openStreams };
});

// NEXUS_BENCH_PROFILE: the benchmark profiles its measuring phases in both processes.
const profiler = new PhaseProfiler();
app.server.post('/bench/profile/start', async () => {
  await profiler.start();
  return { ok: true };
});
app.server.post('/bench/profile/stop', async (request) => {
  await profiler.stop((request.body as { file: string }).file);
  return { ok: true };
});

await serveUntilStopped(app, config);
