import type { FastifyInstance } from 'fastify';
import { pageCsp } from './html.js';

/** Documents a browser renders with script: HTML, XHTML and SVG. */
const DOCUMENT_TYPE = /^\s*(text\/html|application\/xhtml\+xml|image\/svg\+xml)\s*(;|$)/i;

const DEFAULT_CSP = pageCsp();

/**
 * The headers every document response carries, set in one place so that a
 * page added later cannot forget them (an `onSend` hook on the root
 * instance, registered before every route and plugin, so each inherits it):
 * - `content-security-policy`: the route's own when it sets one (the web app
 *   does), else the default of html.ts; either way with
 *   `frame-ancestors 'none'` (added when the route's own lacks it);
 * - `x-frame-options: DENY` for browsers that predate frame-ancestors;
 * - `referrer-policy: no-referrer`: handoff codes, capture states and OAuth
 *   codes ride in page URLs and must not leak through a Referer;
 * - `cache-control: no-store`: pages are per user and per flow, never shared
 *   (this replaces, for instance, the year-long public cache the static
 *   file server gives /manage/index.html).
 * Every response, document or not, gets `x-content-type-options: nosniff`,
 * so a JSON or text answer is never sniffed into HTML.
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    const type = reply.getHeader('content-type');
    if (typeof type !== 'string' || !DOCUMENT_TYPE.test(type)) return payload;
    const own = reply.getHeader('content-security-policy');
    let csp = typeof own === 'string' && own.trim() ? own : DEFAULT_CSP;
    if (!/(^|;)\s*frame-ancestors\s/i.test(csp)) csp = `${csp.replace(/;\s*$/, '')}; frame-ancestors 'none'`;
    reply.header('content-security-policy', csp);
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cache-control', 'no-store');
    return payload;
  });
}
