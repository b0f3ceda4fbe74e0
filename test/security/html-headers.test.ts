import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSecurityHeaders } from '../../src/http/security-headers.js';
import { registerWebApp, WEB_APP_DIR } from '../../src/http/web-app-route.js';
import { oauthProvider } from '../support/fixtures.js';
import { TestAuthServer } from '../support/oauth-server.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type TestApp } from '../support/test-app.js';

/** The headers the issue asks of every HTML response. */
function expectPageHeaders(res: Response, what: string): void {
  expect(res.headers.get('content-type'), what).toMatch(/^text\/html/);
  const csp = res.headers.get('content-security-policy') ?? '';
  expect(csp, `${what}: CSP`).toMatch(/default-src 'none'/);
  expect(csp, `${what}: CSP`).toMatch(/frame-ancestors 'none'/);
  expect(csp, `${what}: no inline script`).not.toMatch(/'unsafe-inline'|'unsafe-eval'/);
  expect(res.headers.get('x-frame-options'), what).toBe('DENY');
  expect(res.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(res.headers.get('referrer-policy'), what).toBe('no-referrer');
  expect(res.headers.get('cache-control'), what).toBe('no-store');
}

describe('every HTML response carries CSP, framing, nosniff, referrer and cache headers', () => {
  let nexus: TestApp;
  let auth: TestAuthServer;

  beforeAll(async () => {
    auth = await TestAuthServer.start();
    nexus = await startTestApp({ backend: 'embedded' });
  });
  afterAll(async () => {
    await nexus?.close();
    await auth?.stop();
  });

  it('the consent page (a page added by another line of work) and its error page', async () => {
    const api = clients(nexus.baseUrl, ADMIN_KEY);
    await api.providers.createProvider({ provider: oauthProvider(auth) });
    const created = await api.connections.createConnection({
      workspaceId: 'headers',
      provider: { case: 'providerName', value: 'local-oauth' },
      returnUrl: RETURN_URL,
    });
    const link = new URL(created.authUrl);
    expect(link.origin).toBe(nexus.baseUrl);
    const pageRes = await fetch(link, { headers: { 'sec-fetch-site': 'none' }, redirect: 'manual' });
    expect(pageRes.status).toBe(200);
    expectPageHeaders(pageRes, 'consent page');
    await pageRes.text();
    const unknown = await fetch(`${nexus.baseUrl}/connect/${'A'.repeat(43)}`, { redirect: 'manual' });
    expect(unknown.status).toBeGreaterThanOrEqual(400);
    expectPageHeaders(unknown, 'consent error page');
    await unknown.text();
  });

  it.each([
    ['/manage/', 200],
    ['/manage/capture?state=x', 200],
    // The attack: the same app under its file name had no CSP and a year-long public cache.
    ['/manage/index.html', 200],
    // Callback error pages: no state, a forged state, a provider error with a forged state.
    ['/oauth/callback', 400],
    ['/oauth/callback?state=forged&code=abc', 400],
    ['/oauth/callback?state=forged&error=access_denied', 400],
  ])('GET %s', async (route, status) => {
    const res = await fetch(`${nexus.baseUrl}${route}`, { redirect: 'manual' });
    expect(res.status).toBe(status);
    expectPageHeaders(res, route);
    await res.text();
  });

  it('the web app keeps its own stricter CSP under either URL', async () => {
    for (const route of ['/manage/', '/manage/index.html']) {
      const res = await fetch(`${nexus.baseUrl}${route}`);
      const csp = res.headers.get('content-security-policy')!;
      expect(csp, route).toContain("form-action 'none'");
      expect(csp, route).toContain("style-src 'self';");
      await res.text();
    }
  });

  it('hashed assets keep their long cache and are never sniffed', async () => {
    const asset = readdirSync(path.join(WEB_APP_DIR, 'assets')).find((f) => f.endsWith('.js'))!;
    const res = await fetch(`${nexus.baseUrl}/manage/assets/${asset}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toMatch(/max-age=31536000/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    await res.text();
  });

  it('non-HTML answers are not sniffed either', async () => {
    for (const route of ['/healthz', '/no-such-route', '/.well-known/jwks.json']) {
      const res = await fetch(`${nexus.baseUrl}${route}`);
      expect(res.headers.get('x-content-type-options'), route).toBe('nosniff');
      expect(res.headers.get('content-type'), route).not.toMatch(/html/);
      await res.text();
    }
  });

  it('the default CSP admits the page style by hash, so error pages render styled', async () => {
    const res = await fetch(`${nexus.baseUrl}/oauth/callback?state=forged`);
    const body = await res.text();
    const style = /<style>([\s\S]*?)<\/style>/.exec(body)![1]!;
    const { createHash } = await import('node:crypto');
    const hash = `'sha256-${createHash('sha256').update(style).digest('base64')}'`;
    expect(res.headers.get('content-security-policy')).toContain(`style-src 'self' ${hash}`);
  });
});

describe('pages registered after the hook inherit it', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nexus-empty-web-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the "web app not built" page, and any page a later plugin adds', async () => {
    const app = Fastify();
    registerSecurityHeaders(app);
    await registerWebApp(app, dir);
    await app.register(async (child) => {
      child.get('/later', (_req, reply) => reply.type('text/html').send('<p>later</p>'));
      // A route's own CSP is kept, but never without frame-ancestors.
      child.get('/own-csp', (_req, reply) => reply.type('text/html').header('content-security-policy', "default-src 'none'").send('<p>own</p>'));
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      for (const [route, status] of [
        ['/manage/', 503],
        ['/manage/capture', 503],
        ['/later', 200],
        ['/own-csp', 200],
      ] as const) {
        const res = await fetch(`${base}${route}`);
        expect(res.status, route).toBe(status);
        expectPageHeaders(res, route);
        await res.text();
      }
      const own = await fetch(`${base}/own-csp`);
      expect(own.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    } finally {
      await app.close();
    }
  });
});
