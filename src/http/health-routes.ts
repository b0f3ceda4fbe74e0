import type { FastifyInstance } from 'fastify';
import type { Store } from '../storage/store.js';

/** /healthz: the process answers. /readyz: and its database does too. */
export function registerHealthRoutes(app: FastifyInstance, store: Store): void {
  // Probes run every few seconds; logging each would drown the log.
  app.get('/healthz', { logLevel: 'silent' }, async () => ({ status: 'ok' }));
  app.get('/readyz', { logLevel: 'silent' }, async (_request, reply) => {
    const ok = await store.ping();
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'database unavailable' });
  });
}
