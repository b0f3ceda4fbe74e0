import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { WEB_APP_PATH } from '../domain/auth/auth-service.js';
import { packagePath } from '../platform/paths.js';
import { escapeHtml, page } from './html.js';

const VERSION = (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;

/** What lives where on this server: the answer to `GET /` (nothing secret, nothing per caller). */
export function serviceIndex(serveApi: boolean) {
  return {
    service: 'nexus',
    version: VERSION,
    ...(serveApi
      ? {
          api: 'Connect, gRPC and gRPC-Web on this origin: nexus.v1.ProviderService, ConnectionService, TokenService, AuthService, ClientService',
          webApp: WEB_APP_PATH,
          oauthCallback: '/oauth/callback',
          jwks: '/.well-known/jwks.json',
        }
      : { mode: 'refresh worker (no API on this process)' }),
    health: '/healthz',
    ready: '/readyz',
    metrics: '/metrics',
    docs: 'README.md ("Walkthrough: your first connections") and docs/production.md in the Nexus repository',
  };
}

/**
 * `GET /`: a short index instead of a 404. Browsers get a page with links,
 * anything else JSON.
 */
export function registerRootRoute(app: FastifyInstance, serveApi: boolean): void {
  const index = serviceIndex(serveApi);
  const html = page(
    'Nexus',
    [
      `<h1>Nexus ${escapeHtml(index.version)}</h1>`,
      '<p>A credential broker for AI agents. This origin serves:</p><ul>',
      ...(serveApi
        ? [
            `<li>the API (Connect, gRPC, gRPC-Web): <code>nexus.v1.*</code> services</li>`,
            `<li><a href="${WEB_APP_PATH}">the Manage Connections web app</a> (opened through a handoff from your app)</li>`,
          ]
        : ['<li>the background refresh worker (no API)</li>']),
      '<li><a href="/healthz">/healthz</a> and <a href="/readyz">/readyz</a>, <a href="/metrics">/metrics</a></li></ul>',
      `<p class="hint">Start with the README's walkthrough; running in production: docs/production.md.</p>`,
    ].join(''),
  );
  app.get('/', { logLevel: 'silent' }, async (request, reply) => {
    const wantsHtml = /\btext\/html\b/.test(String(request.headers.accept ?? ''));
    if (wantsHtml) return reply.type('text/html; charset=utf-8').send(html);
    return reply.header('cache-control', 'no-store').send(index);
  });
}
