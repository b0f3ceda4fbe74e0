// The Manage Connections web app, as built by `npm run build:web` and served by a real Nexus,
// driven in headless Debian Chromium (playwright-core). A user signs in through a handoff code
// the way a customer app sends them (OAuth client, SIWE sign-in with viem, InitHandoff from
// 127.0.0.1), connects an OAuth provider against the local authorization server and an API-key
// provider through the form rendered from its JSON Schema, disconnects one, and returns to the
// app. Bad links (missing, reused, expired codes; a bad capture state) get a clear page.
// With UPDATE_SCREENSHOTS=1 the run also refreshes the PNGs in docs/webapp/.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionStatus } from '../../gen/ts/nexus/v1/connection_pb.js';
import { AuthType } from '../../gen/ts/nexus/v1/provider_pb.js';
import { WEB_APP_DIR } from '../../src/http/web-app-route.js';
import { apiKeyProvider, oauthProvider } from '../support/fixtures.js';
import { TestAuthServer } from '../support/oauth-server.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';
import {
  BRANDING,
  CHROMIUM,
  createOAuthClient,
  initHandoff,
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
            api_key: { type: 'string', title: 'API key', format: 'password', pattern: '^sk_[A-Za-z0-9]{16,}$', description: 'Starts with sk_; find it under Settings → API.' },
            account_email: { type: 'string', title: 'Account email', format: 'email', maxLength: 200 },
          },
        },
      }),
      apiKeyProvider({
        name: 'weather-data',
        displayName: 'Weather Data',
        description: 'Forecasts and historical weather for any location.',
        categories: ['data'],
        logoUrl: svgLogo('#ea580c', 'W'),
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

  async function newPage(viewport = { width: 1100, height: 900 }): Promise<{ page: Page; log: string[] }> {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1, reducedMotion: 'reduce' });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    return { page, log: pageLog(page) };
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

  it('says how to get here when opened without a handoff code', async () => {
    const { page, log } = await newPage();
    await withLog(log, async () => {
      await page.goto(`${nexus.baseUrl}/manage/`);
      await page.locator('main[data-problem="missing-code"]').waitFor();
      expect(await page.locator('h1').textContent()).toBe('Open this page from your app');
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
      await page.route(`${new URL(RETURN_URL).origin}/**`, (route) => route.fulfill({ contentType: 'text/html', body: '<h1 id="returned">Back in the app</h1>' }));
      await page.goto(created.authUrl.replace('/manage/capture', '/connect/capture'));
      await page.waitForURL((u) => u.pathname === '/manage/capture');
      await page.locator('#capture-form').waitFor();
      expect(await page.locator('h1').textContent()).toBe('Connect Acme API');
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
      expect((await admin.connections.getConnection({ id: created.connection!.id })).connection?.status).toBe(ConnectionStatus.ACTIVE);

      // The state was used: the same capture URL now explains that.
      await page.goto(created.authUrl);
      await page.locator('main[data-problem="link-used"]').waitFor();
      await page.goto(`${nexus.baseUrl}/manage/capture?state=garbage`);
      await page.locator('main[data-problem="link-invalid"]').waitFor();
    });
  }, 60_000);

  /** Ages every handoff code past its lifetime (as 30 idle seconds would). */
  async function expireHandoffCodes(): Promise<void> {
    await nexus.app.database.dataSource.query(`UPDATE handoff_codes SET expires_at = now() - interval '1 second'`);
  }
});
