import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomToken } from '../crypto/index.js';
import type { RouteAudit } from './route-audit.js';
import { CONSENT_PATH, type ConsentLinks, type ConsentView } from '../domain/connections/consent-links.js';
import { ConsentFormInvalidError, NexusError } from '../domain/shared/errors.js';
import { cookieReader, setCookie } from './cookies.js';
import { escapeHtml, page, pageCsp } from './html.js';

/** The form body is one token: anything bigger is not our form. */
const FORM_MAX_BYTES = 1024;
const FORM_COOKIE_TTL_SECONDS = 30 * 60;

/**
 * GET and POST BASE_URL/connect/{secret}: Nexus's consent page (see
 * domain/connections/consent-links.ts). GET shows the app, the provider, the
 * scopes and the workspace, with one button; only the POST of that button
 * (double-submit form token in a SameSite=Strict cookie, same origin) sets
 * the browser-binding cookie and redirects to the provider. Nothing reaches
 * the provider before it. Flows bound to this browser at creation (web app)
 * go straight on; any other browser gets an error page.
 */
export function registerConsentPageRoute(app: FastifyInstance, consent: ConsentLinks, audit: RouteAudit): void {
  const secure = consent.secureCookies;
  const origin = new URL(consent.baseUrl).origin;
  const formCookie = `${secure ? '__Host-' : ''}nexus_consent_form`;

  app.register(async (scope) => {
    // Only this route's scope parses forms, and only small ones.
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_MAX_BYTES }, (_req, body, done) =>
      done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );

    scope.get<{ Params: { secret: string } }>(`${CONSENT_PATH}:secret`, async (request, reply) => {
      try {
        const step = await consent.open(request.params.secret, cookieReader(request.headers.cookie));
        if (step.kind === 'redirect') return reply.header('cache-control', 'no-store').redirect(step.providerUrl, 302);
        // One form token per browser, reused, so two consent tabs both work.
        const token = cookieReader(request.headers.cookie)(formCookie) ?? randomToken(32);
        reply.header('set-cookie', setCookie(formCookie, token, { maxAgeSeconds: FORM_COOKIE_TTL_SECONDS, path: '/', sameSite: 'Strict', secure }));
        return sendPage(reply, 200, consentPage(request.params.secret, token, step.view), step.view.providerOrigin);
      } catch (err) {
        return errorPage(reply, err);
      }
    });

    scope.post<{ Params: { secret: string }; Body: Record<string, string> | undefined }>(`${CONSENT_PATH}:secret`, async (request, reply) => {
      try {
        checkForm(request, formCookie, origin);
        const confirmed = await consent.confirm(request.params.secret, cookieReader(request.headers.cookie));
        audit(request, {
          projectId: confirmed.projectId,
          action: 'connection.consent',
          target: { type: 'connection', id: confirmed.connectionId },
          outcome: 'success',
        });
        if (confirmed.cookie) {
          const c = confirmed.cookie;
          reply.header('set-cookie', setCookie(c.name, c.value, { maxAgeSeconds: c.maxAgeSeconds, path: '/', sameSite: 'Lax', secure }));
        }
        // 303: the browser follows with a GET, never re-posting the form to the provider.
        return reply.header('cache-control', 'no-store').redirect(confirmed.providerUrl, 303);
      } catch (err) {
        return errorPage(reply, err);
      }
    });
  });
}

/** The form token (double submit against the SameSite=Strict cookie) and, when the browser says, the same origin. */
function checkForm(request: FastifyRequest<{ Body: Record<string, string> | undefined }>, formCookie: string, origin: string): void {
  const fetchSite = request.headers['sec-fetch-site'];
  if (fetchSite !== undefined && fetchSite !== 'same-origin') throw new ConsentFormInvalidError();
  // Pages sent with Referrer-Policy: no-referrer post with `Origin: null`; any real origin must be ours.
  const from = request.headers.origin;
  if (from !== undefined && from !== 'null' && from !== origin) throw new ConsentFormInvalidError();
  const cookie = cookieReader(request.headers.cookie)(formCookie);
  const field = typeof request.body?.form_token === 'string' ? request.body.form_token : '';
  if (!cookie || !field || cookie.length !== field.length || !timingSafeEqual(Buffer.from(cookie), Buffer.from(field))) {
    throw new ConsentFormInvalidError();
  }
}

function consentPage(secret: string, token: string, v: ConsentView): string {
  const app = escapeHtml(v.appName);
  const provider = escapeHtml(v.providerName);
  const scopes = v.scopes.length ? `<dt>Access</dt><dd>${v.scopes.map((s) => `<code>${escapeHtml(s)}</code>`).join(' ')}</dd>` : '';
  return page(
    `Connect ${v.providerName}`,
    `<h1>Connect your ${provider} account</h1>
<p><strong id="consent-app">${app}</strong> asks to connect your ${provider} account to this workspace:</p>
<dl>
<dt>App</dt><dd id="consent-app-name">${app}</dd>
<dt>Workspace</dt><dd><code id="consent-workspace">${escapeHtml(v.workspaceId)}</code></dd>
<dt>Provider</dt><dd id="consent-provider">${provider}</dd>
${scopes}
</dl>
<p class="hint">Whoever controls this workspace in ${app} will be able to act with your ${provider} account.
Continue only if you started this yourself, from ${app}, and this is your workspace.
If someone sent you this link, close this page.</p>
<form method="post" action="${CONSENT_PATH}${escapeHtml(secret)}">
<input type="hidden" name="form_token" value="${escapeHtml(token)}">
<button type="submit" id="consent-continue">Continue to ${provider}</button>
</form>`,
  );
}

/**
 * The default page CSP (html.ts: no script, the page style by hash, never
 * framed), with form-action admitting the provider's origin too: browsers
 * apply it to the redirect that follows the POST. An error page posts nowhere.
 * X-Frame-Options, Referrer-Policy and Cache-Control come from
 * security-headers.ts, as for every page.
 */
function sendPage(reply: FastifyReply, status: number, html: string, providerOrigin?: string) {
  const formAction = providerOrigin ? `form-action 'self' ${providerOrigin}` : "form-action 'none'";
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', pageCsp().replace("form-action 'self'", formAction))
    .send(html);
}

function errorPage(reply: FastifyReply, err: unknown) {
  if (!(err instanceof NexusError)) throw err;
  const status = err.kind === 'not_found' ? 404 : err.kind === 'permission_denied' ? 403 : 400;
  return sendPage(
    reply,
    status,
    page(
      'Connection link',
      `<h1>This link cannot be used</h1><p id="consent-error">${escapeHtml(err.message)}.</p>
<p class="hint">Return to the application and start connecting again from there. (reason: ERROR_REASON_${escapeHtml(err.reason)})</p>`,
    ),
  );
}
