import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { WEB_APP_PATH } from '../domain/auth/auth-service.js';
import { packagePath } from '../platform/paths.js';
import { page } from './html.js';

/** Where `npm run build:web` puts the Manage Connections web app (web/vite.config.ts). */
export const WEB_APP_DIR = packagePath('web', 'dist');
export const WEB_APP_PREFIX = WEB_APP_PATH;

/**
 * The app's own CSP, stricter than the default one: scripts, styles and API
 * calls from this origin only (Connect-Web to the same server), images
 * from this origin or data: URLs only (a logo from another host would tell
 * it which services a user looks at), no forms, never framed. Framing, referrer, nosniff and cache
 * headers are set for every HTML response, this one included, by
 * security-headers.ts (also on /manage/index.html, which the static file
 * server answers).
 */
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
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
        .headers({ 'content-type': 'text/html; charset=utf-8' })
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
    // The app's document answered as a file (/manage/index.html) keeps the app's own CSP.
    setHeaders: (reply: FastifyReply, file: string) => {
      if (file.endsWith('.html')) reply.header('content-security-policy', PAGE_HEADERS['content-security-policy']);
    },
  });
  const index = (_: unknown, reply: FastifyReply) => reply.headers(PAGE_HEADERS).sendFile('index.html', { cacheControl: false });
  app.get(WEB_APP_PREFIX, index);
  app.get(`${WEB_APP_PREFIX}capture`, index);
}

function queryOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q);
}
