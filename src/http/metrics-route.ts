import type { FastifyInstance } from 'fastify';
import { hashSecret, secretMatches } from '../crypto/index.js';
import type { Metrics } from '../observability/metrics.js';

/**
 * GET /metrics in the Prometheus text format. Open by default: the metrics
 * carry no secrets and no ids (labels are method names, codes and outcomes),
 * only operational volumes. With NEXUS_METRICS_TOKEN set, a scraper must send
 * `Authorization: Bearer <token>`, compared in constant time.
 */
export function registerMetricsRoute(app: FastifyInstance, metrics: Metrics, token: string | undefined): void {
  const tokenHash = token ? hashSecret(token) : undefined;
  app.get('/metrics', { logLevel: 'silent' }, async (request, reply) => {
    if (tokenHash) {
      const header = request.headers.authorization ?? '';
      const presented = header.startsWith('Bearer ') ? header.slice(7) : '';
      if (!secretMatches(presented, tokenHash)) {
        return reply.code(401).header('www-authenticate', 'Bearer realm="metrics"').send({ error: 'unauthenticated' });
      }
    }
    let text: string;
    try {
      text = await metrics.metricsText();
    } catch (err) {
      // A cluster whose primary could not collect every worker: say so, never serve a partial sum as the whole.
      request.log.warn({ error: (err as Error).message }, 'metrics unavailable');
      return reply.code(503).send({ error: 'metrics_unavailable' });
    }
    return reply.header('content-type', metrics.contentType).send(text);
  });
}
