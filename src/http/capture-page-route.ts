import type { FastifyInstance } from 'fastify';
import { WEB_APP_PREFIX } from './web-app-route.js';

/**
 * GET /connect/capture?state=…: the capture URL of static providers before
 * the web app existed. Capture URLs already handed out keep working: they
 * redirect, query included, to the web app's capture page.
 */
export function registerCapturePageRoute(app: FastifyInstance): void {
  app.get('/connect/capture', async (request, reply) => {
    const q = request.url.indexOf('?');
    return reply
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .redirect(`${WEB_APP_PREFIX}capture${q < 0 ? '' : request.url.slice(q)}`, 302);
  });
}
