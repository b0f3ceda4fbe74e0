// The Manage Connections web app, as built by `npm run build:web` and served by a real Nexus,
// driven in headless Debian Chromium (playwright-core). A user signs in through a handoff code
// the way a customer app sends them (OAuth client, SIWE sign-in with viem, InitHandoff from
// 127.0.0.1), connects an OAuth provider against the local authorization server and an API-key
// provider through the form rendered from its JSON Schema, disconnects one, and returns to the
// app. Bad links (missing, reused, expired codes; a bad capture state) get a clear page.
// With UPDATE_SCREENSHOTS=1 the run also refreshes the PNGs in docs/webapp/.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createClient } from '@connectrpc/connect';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthService } from '../../gen/ts/nexus/v1/auth_pb.js';
import { ConnectionStatus } from '../../gen/ts/nexus/v1/connection_pb.js';
import { AuthType } from '../../gen/ts/nexus/v1/provider_pb.js';
import { WEB_APP_DIR } from '../../src/http/web-app-route.js';
import { apiKeyProvider, oauthProvider } from '../support/fixtures.js';
import { TestAuthServer } from '../support/oauth-server.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, transport, type Clients, type TestApp } from '../support/test-app.js';
import {
  BRANDING,
  CHROMIUM,
  createOAuthClient,
  initHandoff,
  accessibilityViolations,
  launchChromium,
  pageLog,
  screenshot,
  signIn,
  startCustomerApp,
  type CustomerApp,
  type SignedInUser,
} from './support.js';

const WAIT_MS = 15_000;
const API_KEY = 'sk_live0123456789abcdef';
const svgLogo = (color: string, letter: string) =>
  `data:image/svg+xml,${encodeURIComponent(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40"><rect width="40" height="40" rx="9" fill="${color}"/><text x="20" y="27" font-family="sans-serif" font-size="20" font-weight="700" fill="#fff" text-anchor="middle">${letter}</text></svg>`,
  )}`;

describe('Manage Connections web app (headless Chromium)', () => {
  let auth: TestAuthServer;
  let nexus: TestApp;
  let admin: Clients;
  let customer: CustomerApp;
  let oauthClient: Promise<{ clientId: string; clientSecret: string }> | undefined;
  /** The customer app's OAuth client, registered on first use. */
  const client = () => (oauthClient ??= createOAuthClient(nexus.baseUrl, customer));
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM} (apt-get install chromium; .ci/run does this)`);
    if (!existsSync(path.join(WEB_APP_DIR, 'index.html'))) throw new Error('web/dist is missing: the test global setup builds it');
    auth = await TestAuthServer.start();
    nexus = await startTestApp({ backend: 'embedded' });
    admin = clients(nexus.baseUrl, ADMIN_KEY);
    customer = await startCustomerApp();
    const providers = [
      oauthProvider(auth, {
        displayName: 'Local Calendar',
        description: 'Calendars and events, through the local OAuth authorization server.',
        categories: ['productivity'],
        logoUrl: svgLogo('#2563eb', 'C'),
      }),
      apiKeyProvider({
        displayName: 'Acme API',
        description: 'Send invoices and read payments with your Acme API key.',
        categories: ['finance', 'developer-tools'],
        logoUrl: svgLogo('#9333ea', 'A'),
        credentialSchema: {
          type: 'object',
          required: ['api_key', 'account_email'],
          additionalProperties: false,
          properties: {
            api_key: {
              type: 'string',
              title: 'API key',
              format: 'password',
              pattern: '^sk_[A-Za-z0-9]{16,}$',
              description: 'Starts with sk_; find it under Settings → API.',
            },
            account_email: { type: 'string', title: 'Account email', format: 'email', maxLength: 200 },
          },
        },
      }),
      apiKeyProvider({
        name: 'weather-data',
        displayName: 'Weather Data',
        description: 'Forecasts and historical weather for any location.',
        categories: ['data'],
        // A logo on another host: the app shows the initials instead of asking that host.
        logoUrl: 'https://logos.example.com/weather-data.png',
        authType: AuthType.BEARER,
        apiKey: undefined,
      }),
    ];
    for (const provider of providers) await admin.providers.createProvider({ provider });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await customer?.close();
    await nexus?.close();
    await auth?.stop();
  });

  async function newPage(viewport = { width: 1100, height: 900 }): Promise<{ page: Page; log: string[]; requests: string[] }> {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1, reducedMotion: 'reduce' });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    // Every request the page makes (documents, scripts, API calls, images), data: URLs aside.
    const requests: string[] = [];
    page.on('request', (r) => void (r.url().startsWith('data:') || requests.push(r.url())));
    return { page, log: pageLog(page), requests };
  }

  /** Runs `steps`; a failure carries the page's console and network log. */
  async function withLog<T>(log: string[], steps: () => Promise<T>): Promise<T> {
    try {
      return await steps();
    } catch (err) {
      (err as Error).message += `\n--- page log:\n${log.join('\n')}`;
      throw err;
    }
  }

  async function openAsNewUser(page: Page): Promise<SignedInUser> {
    const user = await signIn(nexus.baseUrl, await client());
    const { webAppUrl, code } = await initHandoff(nexus.baseUrl, user, customer.redirectUri);
    expect(webAppUrl).toBe(`${nexus.baseUrl}/manage/?code=${encodeURIComponent(code)}`);
    await page.goto(webAppUrl);
    await page.locator('#providers .provider').first().waitFor();
    return user;
  }

  const connectionRow = (page: Page, provider: string) => page.locator(`#connections li[data-provider="${provider}"]`);

  it('signs in through a handoff code and shows the client branding and the providers', async () => {
    const { page, log, requests } = await newPage();
    await withLog(log, async () => {
      await openAsNewUser(page);
      // The single-use code does not stay in the address bar.
      expect(new URL(page.url()).search).toBe('');
      expect(await page.locator('#client-name').textContent()).toBe(BRANDING.displayName);
      expect(await page.title()).toBe(`Manage connections · ${BRANDING.displayName}`);
      const accent = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--accent').trim());
      expect(accent).toBe(BRANDING.accentColor);
      // The client's logo is on the customer app's host, not Nexus's: its initials stand in.
      expect(await page.locator('header img.logo').count()).toBe(0);
      expect(await page.locator('header .logo.placeholder').textContent()).toBe('AN');
      expect(await page.locator('#back-to-app').getAttribute('href')).toBe(customer.redirectUri);

      // Every provider with its logo, description and categories.
      const names = await page.locator('#providers .provider h3').allTextContents();
      expect(names).toEqual(['Acme API', 'Local Calendar', 'Weather Data']);
      const acme = page.locator('#providers li[data-provider="acme-api"]');
      expect(await acme.locator('.description').textContent()).toContain('Send invoices');
      expect(await acme.locator('.categories li').allTextContents()).toEqual(['Finance', 'Developer tools']);
      expect(await acme.locator('img.logo').getAttribute('src')).toMatch(/^data:image\/svg\+xml,/);
      const weather = page.locator('#providers li[data-provider="weather-data"]');
      expect(await weather.locator('img').count()).toBe(0);
      expect(await weather.locator('.logo.placeholder').textContent()).toBe('WD');
      expect(await page.locator('.empty').textContent()).toContain('not connected any service');

      // Search and the category filter.
      await page.fill('#provider-search', 'forecast');
      expect(await page.locator('#providers .provider h3').allTextContents()).toEqual(['Weather Data']);
      expect(await page.locator('#provider-count').textContent()).toBe('1 service');
      await page.fill('#provider-search', '');
      expect(await page.locator('#provider-category option').allTextContents()).toEqual([
        'All categories',
        'Data',
        'Developer tools',
        'Finance',
        'Productivity',
      ]);
      await page.selectOption('#provider-category', 'productivity');
      expect(await page.locator('#providers .provider h3').allTextContents()).toEqual(['Local Calendar']);
      await page.selectOption('#provider-category', '');
      expect(await page.locator('#providers .provider').count()).toBe(3);
      await screenshot(page, 'providers');
      expect(await accessibilityViolations(page)).toEqual([]);

      // Rendering the app asked no host but Nexus for anything: no logo host, font or favicon service.
      expect(requests.length).toBeGreaterThan(3);
      expect(requests.filter((u) => new URL(u).origin !== nexus.baseUrl)).toEqual([]);
    });
  }, 60_000);

  it('connects OAuth and API-key providers, shows validation errors, disconnects with confirmation, returns to the app', async () => {
    const { page, log } = await newPage();
    await withLog(log, async () => {
      const user = await openAsNewUser(page);

      // OAuth: off to the local authorization server and back, ACTIVE.
      await page.click('button[aria-label="Connect Local Calendar"]');
      await page.waitForURL((u) => u.pathname === '/manage/' && u.search === '', { timeout: WAIT_MS });
      await connectionRow(page, 'local-oauth').waitFor();
      expect(await connectionRow(page, 'local-oauth').getAttribute('data-status')).toBe('ACTIVE');
      expect(await page.locator('#notice').getAttribute('role')).toBe('status');
      expect(await page.locator('#notice .notice-text').textContent()).toContain('Connected');
      expect(auth.codeExchanges).toBe(1);
      const oauthRows = (await admin.connections.listConnections({ workspaceId: user.workspaceId, provider: 'local-oauth' })).connections;
      expect(oauthRows.map((c) => c.status)).toEqual([ConnectionStatus.ACTIVE]);
      await screenshot(page, 'connected-oauth');

      // API key: the form rendered from the schema, the secret masked.
      await page.click('button[aria-label="Connect Acme API"]');
      const dialog = page.locator('dialog[open]');
      await dialog.waitFor();
      expect(await dialog.locator('h2').textContent()).toBe('Connect Acme API');
      expect(await page.getAttribute('#credentials-form-api_key', 'type')).toBe('password');
      expect(await page.getAttribute('#credentials-form-account_email', 'type')).toBe('text');
      expect(await page.locator('label[for="credentials-form-api_key"]').textContent()).toContain('API key');
      // Focus starts inside the dialog.
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('credentials-form-api_key');

      // A value the schema's pattern refuses: inline error, focus on the field, nothing sent.
      await page.fill('#credentials-form-api_key', 'not-a-key');
      await page.fill('#credentials-form-account_email', 'not an email');
      await page.click('#credentials-form button[type="submit"]');
      await page.locator('#credentials-form-api_key-error').waitFor();
      expect(await page.locator('#credentials-form-api_key-error').textContent()).toBe('This value does not have the expected format.');
      expect(await page.getAttribute('#credentials-form-api_key', 'aria-invalid')).toBe('true');
      expect(await page.getAttribute('#credentials-form-api_key', 'aria-describedby')).toContain('credentials-form-api_key-error');
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('credentials-form-api_key');
      await screenshot(page, 'credential-form-error');
      expect(await accessibilityViolations(page)).toEqual([]);

      // A valid key but an email only the server checks (format: email): its INVALID_ARGUMENT
      // violation is shown next to the field.
      await page.fill('#credentials-form-api_key', API_KEY);
      await page.click('#credentials-form button[type="submit"]');
      await page.locator('#credentials-form-account_email-error').waitFor();
      expect(await page.locator('#credentials-form-account_email-error').textContent()).toBe('Must match format "email".');
      expect(await page.locator('#credentials-form-api_key-error').count()).toBe(0);
      // Focus moves once the server's violation is rendered (an effect after that render): wait for it, bounded.
      await page.waitForFunction(() => document.activeElement?.id === 'credentials-form-account_email', undefined, { timeout: 2_000 });

      await page.fill('#credentials-form-account_email', 'billing@example.com');
      await page.click('#credentials-form button[type="submit"]');
      await connectionRow(page, 'acme-api').waitFor();
      expect(await page.locator('dialog[open]').count()).toBe(0);
      expect(await connectionRow(page, 'acme-api').getAttribute('data-status')).toBe('ACTIVE');
      expect(await page.locator('#notice .notice-text').textContent()).toBe('Connected Acme API.');
      const acmeId = (await connectionRow(page, 'acme-api').getAttribute('data-connection-id'))!;
      const token = (await admin.tokens.getToken({ connectionId: acmeId })).credential!;
      expect(token.credentials).toMatchObject({ case: 'apiKey', value: { apiKey: API_KEY } });
      await screenshot(page, 'connected-both');
      expect(await accessibilityViolations(page)).toEqual([]);

      // Disconnect: a confirmation dialog; Escape cancels it, focus returns to the button.
      const disconnectButton = 'button[aria-label="Disconnect Acme API"]';
      await page.focus(disconnectButton);
      await page.keyboard.press('Enter');
      await page.locator('dialog[open] #confirm-disconnect').waitFor();
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('cancel-disconnect');
      // Tab and Shift+Tab stay inside the modal dialog (close, cancel, confirm, and around).
      const focused = () =>
        page.evaluate(() =>
          document.activeElement?.closest('dialog[open]') ? document.activeElement.id || document.activeElement.getAttribute('aria-label') : 'outside',
        );
      const forward: (string | null)[] = [];
      for (let i = 0; i < 4; i++) {
        await page.keyboard.press('Tab');
        forward.push(await focused());
      }
      expect(forward).toEqual(['confirm-disconnect', 'Close', 'cancel-disconnect', 'confirm-disconnect']);
      await page.keyboard.press('Shift+Tab');
      expect(await focused()).toBe('cancel-disconnect');
      await page.keyboard.press('Shift+Tab');
      expect(await focused()).toBe('Close');
      await page.keyboard.press('Shift+Tab');
      expect(await focused()).toBe('confirm-disconnect');
      await screenshot(page, 'disconnect-confirm');
      await page.keyboard.press('Escape');
      await page.locator('dialog[open]').waitFor({ state: 'detached' });
      await page.waitForFunction(() => document.activeElement?.getAttribute('aria-label') === 'Disconnect Acme API', undefined, { timeout: 2_000 });
      expect((await admin.connections.getConnection({ connectionId: acmeId })).connection?.status).toBe(ConnectionStatus.ACTIVE);

      await page.click(disconnectButton);
      await page.click('dialog[open] #confirm-disconnect');
      await connectionRow(page, 'acme-api').waitFor({ state: 'detached' });
      expect(await page.locator('#notice .notice-text').textContent()).toBe('Disconnected Acme API.');
      expect((await admin.connections.getConnection({ connectionId: acmeId })).connection?.status).toBe(ConnectionStatus.REVOKED);
      expect(await connectionRow(page, 'local-oauth').getAttribute('data-status')).toBe('ACTIVE');

      // Back to the app's redirect URI.
      await page.click('#back-to-app');
      await page.waitForURL(customer.redirectUri);
      expect(await page.locator('#welcome-back').textContent()).toBe('Welcome back to Acme Notes');
      // The web session was left behind: opening the app again without a code is refused.
      await page.goto(`${nexus.baseUrl}/manage/`);
      expect(await page.locator('main[data-problem]').getAttribute('data-problem')).toBe('missing-code');
    });
  }, 90_000);

  it('shows a denied consent clearly, and reconnects failed and ATTENTION_REQUIRED connections', async () => {
    const { page, log } = await newPage();
    await withLog(log, async () => {
      const user = await openAsNewUser(page);
      auth.denyConsent = true;
      try {
        await page.click('button[aria-label="Connect Local Calendar"]');
        await connectionRow(page, 'local-oauth').waitFor();
      } finally {
        auth.denyConsent = false;
      }
      const notice = page.locator('#notice');
      expect(await notice.getAttribute('role')).toBe('alert');
      expect(await notice.locator('.notice-text').textContent()).toContain('access was denied at the provider');
      expect(await connectionRow(page, 'local-oauth').getAttribute('data-status')).toBe('FAILED');
      await screenshot(page, 'oauth-denied');

      // Try again from the failed row: consent granted this time.
      await connectionRow(page, 'local-oauth').locator('button[aria-label="Reconnect Local Calendar"]').click();
      await page.waitForURL((u) => u.pathname === '/manage/' && u.search === '');
      await page.locator('#connections li[data-provider="local-oauth"][data-status="ACTIVE"]').waitFor();
      expect(await page.locator('#connections li').count()).toBe(1);

      // The provider stops accepting the refresh token: the connection needs attention.
      const [active] = (await admin.connections.listConnections({ workspaceId: user.workspaceId, status: ConnectionStatus.ACTIVE })).connections;
      auth.forgetRefreshTokens();
      await admin.tokens.refreshToken({ connectionId: active!.id }).catch(() => {});
      expect((await admin.connections.getConnection({ connectionId: active!.id })).connection?.status).toBe(ConnectionStatus.ATTENTION_REQUIRED);

      // A reload keeps the web session (sessionStorage) and shows the new status.
      await page.reload();
      const row = page.locator('#connections li[data-provider="local-oauth"][data-status="ATTENTION_REQUIRED"]');
      await row.waitFor();
      expect(await row.locator('.badge').textContent()).toBe('Needs attention');
      await screenshot(page, 'attention-required');
      await row.locator('button[aria-label="Reconnect Local Calendar"]').click();
      await page.waitForURL((u) => u.pathname === '/manage/' && u.search === '');
      await page.locator('#connections li[data-provider="local-oauth"][data-status="ACTIVE"]').waitFor();
      // The new connection superseded the one that needed attention.
      expect((await admin.connections.getConnection({ connectionId: active!.id })).connection?.status).toBe(ConnectionStatus.REVOKED);
      expect(await page.locator('#connections li').count()).toBe(1);
    });
  }, 60_000);

  it('shows a clear page for a missing, reused or expired handoff code', async () => {
    const { page, log } = await newPage();
    await withLog(log, async () => {
      await page.goto(`${nexus.baseUrl}/manage/`);
      await page.locator('main[data-problem="missing-code"]').waitFor();
      expect(await page.locator('h1').textContent()).toBe('Open this page from your app');

      const user = await signIn(nexus.baseUrl, await client());
      const first = await initHandoff(nexus.baseUrl, user, customer.redirectUri);
      await page.goto(first.webAppUrl);
      await page.locator('#providers .provider').first().waitFor();
      // The same link again, in a fresh tab (no web session): already used.
      const second = (await newPage()).page;
      await second.goto(first.webAppUrl);
      await second.locator('main[data-problem="link-used"]').waitFor();
      expect(await second.locator('h1').textContent()).toBe('This link was already used');
      expect(new URL(second.url()).search).toBe('');

      // A code left unused past its 30 seconds.
      const stale = await initHandoff(nexus.baseUrl, user, customer.redirectUri);
      await expireHandoffCodes();
      await second.goto(stale.webAppUrl);
      await second.locator('main[data-problem="link-expired"]').waitFor();
      expect(await second.locator('h1').textContent()).toBe('This link has expired');
      await screenshot(second, 'link-expired');
      expect(await accessibilityViolations(second)).toEqual([]);

      // Garbage.
      await second.goto(`${nexus.baseUrl}/manage/?code=not-a-code`);
      await second.locator('main[data-problem="link-invalid"]').waitFor();
    });
  }, 60_000);

  it('ends the page cleanly when the web session is revoked, with a way back to the app', async () => {
    const { page, log } = await newPage();
    await withLog(log, async () => {
      await openAsNewUser(page);
      const stored = await page.evaluate(
        () => JSON.parse(sessionStorage.getItem('nexus.manage.session') ?? '{}') as { accessToken?: string; redirectUri?: string },
      );
      expect(stored.redirectUri).toBe(customer.redirectUri);
      // The web session holds an access token limited to the intent, and no refresh token.
      expect(Object.keys(stored).sort()).toEqual(['accessToken', 'client', 'expiresAt', 'projectId', 'redirectUri', 'workspaceId']);
      const { clientId, clientSecret } = await client();
      await createClient(AuthService, transport(nexus.baseUrl, 'connect')).revoke({ token: stored.accessToken!, clientId, clientSecret });

      await page.click('button[aria-label="Connect Weather Data"]');
      await page.locator('main[data-problem="session-ended"]').waitFor();
      expect(await page.locator('h1').textContent()).toBe('Your session has ended');
      expect(await page.evaluate(() => sessionStorage.getItem('nexus.manage.session'))).toBeNull();
      await page.click('text=Back to Acme Notes');
      await page.waitForURL(customer.redirectUri);
    });
  }, 60_000);

  it('is readable on a phone-sized screen (360 px)', async () => {
    const { page, log } = await newPage({ width: 360, height: 780 });
    await withLog(log, async () => {
      await openAsNewUser(page);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      // One column of providers, each card within the screen.
      const boxes = await page.locator('#providers .provider').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON() as DOMRect));
      for (const b of boxes) {
        expect(b.left).toBeGreaterThanOrEqual(0);
        expect(b.right).toBeLessThanOrEqual(360);
      }
      expect(new Set(boxes.map((b) => Math.round(b.left))).size).toBe(1);
      await screenshot(page, 'phone');
      expect(await accessibilityViolations(page)).toEqual([]);
    });
  }, 60_000);

  it('serves the capture URL of static providers (and the old URL) with the same form', async () => {
    const { page, log } = await newPage();
    await withLog(log, async () => {
      const created = await admin.connections.createConnection({
        workspaceId: 'capture-user',
        provider: { case: 'providerName', value: 'acme-api' },
        returnUrl: RETURN_URL,
      });
      expect(created.authUrl).toBe(`${nexus.baseUrl}/manage/capture?state=${encodeURIComponent(created.state)}`);
      // The app's return URL is elsewhere; answer it locally.
      await page.route(`${new URL(RETURN_URL).origin}/**`, (route) =>
        route.fulfill({ contentType: 'text/html', body: '<h1 id="returned">Back in the app</h1>' }),
      );
      await page.goto(created.authUrl.replace('/manage/capture', '/connect/capture'));
      await page.waitForURL((u) => u.pathname === '/manage/capture');
      await page.locator('#capture-form').waitFor();
      expect(await page.locator('h1').textContent()).toBe('Connect Acme API');
      // Whose workspace and which app, so that a person sent someone else's link can tell.
      expect(await page.locator('#capture-workspace').textContent()).toBe('capture-user');
      expect(await page.locator('#capture-app').textContent()).toBe('default');
      expect(await page.getAttribute('#capture-form-api_key', 'type')).toBe('password');
      await page.fill('#capture-form-api_key', 'short');
      await page.click('#capture-form button[type="submit"]');
      await page.locator('#capture-form-api_key-error').waitFor();
      await page.fill('#capture-form-api_key', API_KEY);
      await page.fill('#capture-form-account_email', 'ops@example.com');
      await page.click('#capture-form button[type="submit"]');
      await page.locator('#returned').waitFor();
      const back = new URL(page.url());
      expect(back.searchParams.get('status')).toBe('success');
      expect(back.searchParams.get('connection_id')).toBe(created.connection!.id);
      expect((await admin.connections.getConnection({ connectionId: created.connection!.id })).connection?.status).toBe(ConnectionStatus.ACTIVE);

      // The state was used: the same capture URL now explains that.
      await page.goto(created.authUrl);
      await page.locator('main[data-problem="link-used"]').waitFor();
      await page.goto(`${nexus.baseUrl}/manage/capture?state=garbage`);
      await page.locator('main[data-problem="link-invalid"]').waitFor();
    });
  }, 60_000);

  it('deletes the PENDING connection when the credential form is closed without connecting', async () => {
    const { page, log } = await newPage();
    await withLog(log, async () => {
      const user = await openAsNewUser(page);
      const rows = async () => (await admin.connections.listConnections({ workspaceId: user.workspaceId, provider: 'weather-data' })).connections;
      await page.click('button[aria-label="Connect Weather Data"]');
      await page.locator('dialog[open] #credentials-form').waitFor();
      // The form is for a PENDING connection created on Connect.
      expect((await rows()).map((c) => c.status)).toEqual([ConnectionStatus.PENDING]);
      await page.keyboard.press('Escape');
      await page.locator('dialog[open]').waitFor({ state: 'detached' });
      const deadline = Date.now() + WAIT_MS;
      // Deleted: DeleteConnection keeps the row as REVOKED (reason "deleted"), with nothing stored.
      while ((await rows()).some((c) => c.status !== ConnectionStatus.REVOKED)) {
        if (Date.now() > deadline) throw new Error('the abandoned PENDING connection is still there');
        await new Promise((r) => setTimeout(r, 100));
      }
      expect((await rows()).map((c) => [c.status, c.statusReason])).toEqual([[ConnectionStatus.REVOKED, 'deleted']]);
      expect(await page.locator('#notice.error').count()).toBe(0);
    });
  }, 60_000);

  it('asks a templated provider for its connection fields first, then goes to the tenant consent URL', async () => {
    const tenant = 'https://{subdomain}.desk.example.com';
    await admin.providers.createProvider({
      provider: oauthProvider(auth, {
        name: 'tenant-desk',
        displayName: 'Tenant Desk',
        categories: ['support'],
        oauth2: {
          clientId: 'desk',
          clientSecret: 'desk-secret',
          authorizationUrl: `${tenant}/oauth/authorize`,
          tokenUrl: `${tenant}/oauth/token`,
          defaultScopes: ['read'],
        },
        connectionFieldsSchema: {
          type: 'object',
          required: ['subdomain'],
          additionalProperties: false,
          properties: { subdomain: { type: 'string', title: 'Subdomain', pattern: '^[a-z0-9-]{1,63}$', description: 'The part before .desk.example.com' } },
        },
      }),
    });
    const { page, log } = await newPage();
    try {
      await withLog(log, async () => {
        const user = await openAsNewUser(page);
        // The tenant's consent page is not reachable from here; answer it locally.
        await page.route('https://acme.desk.example.com/**', (route) =>
          route.fulfill({ contentType: 'text/html', body: '<h1 id="tenant-consent">Tenant consent</h1>' }),
        );
        await page.click('button[aria-label="Connect Tenant Desk"]');
        const dialog = page.locator('dialog[open]');
        await dialog.waitFor();
        expect(await dialog.locator('h2').textContent()).toBe('Connect Tenant Desk');
        expect(await page.locator('label[for="connection-fields-form-subdomain"]').textContent()).toContain('Subdomain');
        expect(await accessibilityViolations(page)).toEqual([]);

        // Refused in the browser by the schema: nothing is created.
        await page.fill('#connection-fields-form-subdomain', 'Not A Subdomain');
        await page.click('#connection-fields-form button[type="submit"]');
        await page.locator('#connection-fields-form-subdomain-error').waitFor();
        expect((await admin.connections.listConnections({ workspaceId: user.workspaceId, provider: 'tenant-desk' })).connections).toEqual([]);

        await page.fill('#connection-fields-form-subdomain', 'acme');
        await page.click('#connection-fields-form button[type="submit"]');
        await page.locator('#tenant-consent').waitFor();
        const consent = new URL(page.url());
        expect(consent.origin + consent.pathname).toBe('https://acme.desk.example.com/oauth/authorize');
        expect(consent.searchParams.get('client_id')).toBe('desk');
        const [row] = (await admin.connections.listConnections({ workspaceId: user.workspaceId, provider: 'tenant-desk' })).connections;
        expect(row?.status).toBe(ConnectionStatus.PENDING);
        expect(row?.fields).toEqual({ subdomain: 'acme' });
      });
    } finally {
      await admin.providers.deleteProvider({ provider: 'tenant-desk', force: true });
    }
  }, 60_000);

  /** Ages every handoff code past its lifetime (as 30 idle seconds would). */
  async function expireHandoffCodes(): Promise<void> {
    await nexus.app.database.dataSource.query(`UPDATE one_time_codes SET expires_at = now() - interval '1 second' WHERE kind = 'handoff'`);
  }
});
