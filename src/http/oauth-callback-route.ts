import type { FastifyInstance } from 'fastify';
import type { ConnectionService } from '../domain/connections/connection-service.js';
import { NexusError } from '../domain/shared/errors.js';
import { cookieReader, setCookie } from './cookies.js';
import type { RouteAudit } from './route-audit.js';
import { escapeHtml, page } from './html.js';

/**
 * GET /oauth/callback: where providers send the user back. A valid state
 * ends in a redirect to the app's return_url (success or error); a state we
 * cannot trust (tampered, expired, replayed) gets an error page and changes
 * nothing, because its return_url cannot be trusted either.
 */
export function registerOAuthCallbackRoute(app: FastifyInstance, connections: ConnectionService, audit: RouteAudit): void {
  app.get('/oauth/callback', async (request, reply) => {
    const params = new URLSearchParams(request.url.slice(request.url.indexOf('?') + 1 || request.url.length));
    try {
      const outcome = await connections.handleCallback(params, cookieReader(request.headers.cookie));
      const c = outcome.connection;
      audit(request, {
        projectId: c.projectId,
        action: 'connection.callback',
        target: { type: 'connection', id: c.id },
        outcome: c.status === 'FAILED' ? 'failed' : 'success',
        // The provider's OAuth error code (access_denied, ...) or where the connection stands.
        detail: c.status === 'FAILED' ? { status: 'failed', oauth_error: c.statusReason ?? '' } : { status: c.status.toLowerCase() },
      });
      // The binding cookie is spent.
      reply.header(
        'set-cookie',
        setCookie(outcome.bindingCookie, '', { maxAgeSeconds: 0, path: '/', sameSite: 'Lax', secure: connections.consent.secureCookies }),
      );
      return reply.redirect(outcome.redirectUrl, 302);
    } catch (err) {
      if (!(err instanceof NexusError)) throw err;
      return (
        reply
          .code(err.kind === 'permission_denied' ? 403 : 400)
          // CSP, framing, referrer and cache headers: security-headers.ts, as for every page.
          .header('content-type', 'text/html; charset=utf-8')
          .send(
            page(
              'Connection failed',
              `<h1>This link cannot be used</h1><p>${escapeHtml(err.message)}.</p>
<p class="hint">Return to the application and start connecting again. (reason: ERROR_REASON_${escapeHtml(err.reason)})</p>`,
            ),
          )
      );
    }
  });
}
