import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { page } from './html.js';

/** Where `npm run build:web` puts the Manage Connections web app (web/vite.config.ts). */
export const WEB_APP_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));
export const WEB_APP_PREFIX = '/manage/';

/**
 * The page's own rules: scripts, styles and API calls from this origin only
 * (Connect-Web to the same server), logos from anywhere, never framed. The
 * handoff code and capture state ride in the URL, so no Referer leaves.
 */
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: http: data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

/**
 * Serves the Manage Connections web app under /manage/: hashed assets with
 * a long cache life, and index.html (no-store) for the app's own pages:
 * /manage/ (handoff session) and /manage/capture (static credential
 * capture). When the app was not built, those pages say how to build it.
 */
export async function registerWebApp(app: FastifyInstance, dir = WEB_APP_DIR): Promise<void> {
  app.get('/manage', (request, reply) => reply.redirect(`${WEB_APP_PREFIX}${queryOf(request.url)}`, 301));
  const built = existsSync(path.join(dir, 'index.html'));
  if (!built) {
    app.log.warn({ dir }, 'the Manage Connections web app is not built (npm run build:web); /manage/ answers 503');
    const notBuilt = (_: unknown, reply: FastifyReply) =>
      reply
        .code(503)
        .headers(PAGE_HEADERS)
        .send(page('Not built', '<h1>The web app is not built</h1><p>Run <code>npm run build:web</code> and restart Nexus.</p>'));
    app.get(WEB_APP_PREFIX, notBuilt);
    app.get(`${WEB_APP_PREFIX}capture`, notBuilt);
    return;
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: WEB_APP_PREFIX,
    index: false,
    // Vite fingerprints every asset name, so a cached copy is never stale.
    maxAge: '365d',
    immutable: true,
    setHeaders: (reply) => reply.header('x-content-type-options', 'nosniff'),
  });
  const index = (_: unknown, reply: FastifyReply) => reply.headers(PAGE_HEADERS).sendFile('index.html', { cacheControl: false });
  app.get(WEB_APP_PREFIX, index);
  app.get(`${WEB_APP_PREFIX}capture`, index);
}

function queryOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q);
}
