// Shared pieces of the web app browser tests: headless Debian Chromium (playwright-core, no
// browser download), a stand-in "customer app" on its own origin (the redirect URI and the
// client's logo), and a signed-in user obtained the way a customer app gets one: an OAuth
// client, a SIWE message signed with viem, Authenticate, then InitHandoff.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { createClient } from '@connectrpc/connect';
import { chromium, type Browser, type Page } from 'playwright-core';
import { AuthService, HandoffIntent } from '../../gen/ts/nexus/v1/auth_pb.js';
import { ClientService, ClientType } from '../../gen/ts/nexus/v1/client_pb.js';
import { newWallet, signIn as signSiwe } from '../support/siwe.js';
import { ADMIN_KEY, transport } from '../support/test-app.js';

export const CHROMIUM = '/usr/bin/chromium';
export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'docs/webapp');
/** Screenshots are written into the docs only when asked, so a test run leaves the tree clean. */
export const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    timeout: 30_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs the axe-core accessibility rules (WCAG 2.x A and AA) on the page as it is now and
 * returns each violation as "rule: target". Evaluated through the DevTools protocol, which the
 * page's Content Security Policy does not restrict.
 */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }
    ).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`));
  });
  return violations;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  if (!UPDATE_SCREENSHOTS) return;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true, animations: 'disabled' });
}

/** Collects what the page logged, to explain a failure. */
export function pageLog(page: Page): string[] {
  const log: string[] = [];
  page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => log.push(`requestfailed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`));
  return log;
}

const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#0f766e"/><path d="M18 44V20h6l16 16V20h6v24h-6L24 28v16z" fill="#fff"/></svg>`;

/** The customer's app: where users return (`/done`), and the client's logo. */
export interface CustomerApp {
  origin: string;
  redirectUri: string;
  logoUrl: string;
  close(): Promise<void>;
}

export async function startCustomerApp(): Promise<CustomerApp> {
  const server: Server = createServer((req, res) => {
    const p = new URL(req.url!, 'http://x').pathname;
    if (p === '/logo.svg') return void res.writeHead(200, { 'content-type': 'image/svg+xml' }).end(LOGO_SVG);
    if (p === '/done') {
      return void res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end('<!doctype html><title>Acme Notes</title><h1 id="welcome-back">Welcome back to Acme Notes</h1>');
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    origin,
    redirectUri: `${origin}/done`,
    logoUrl: `${origin}/logo.svg`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export const BRANDING = { displayName: 'Acme Notes', accentColor: '#0f766e' };

/** Registers the customer app as a confidential OAuth client of the default project. */
export async function createOAuthClient(nexusUrl: string, customer: CustomerApp): Promise<{ clientId: string; clientSecret: string }> {
  const clients = createClient(ClientService, transport(nexusUrl, 'connect', ADMIN_KEY));
  const res = await clients.createClient({
    client: {
      type: ClientType.CONFIDENTIAL,
      displayName: BRANDING.displayName,
      redirectUris: [customer.redirectUri],
      branding: { displayName: BRANDING.displayName, logoUrl: customer.logoUrl, accentColor: BRANDING.accentColor },
    },
  });
  return { clientId: res.client!.id, clientSecret: res.clientSecret };
}

export interface SignedInUser {
  address: string;
  workspaceId: string;
  accessToken: string;
}

/** A new end user signs in with Ethereum (EIP-4361) through the customer app's client. */
export async function signIn(nexusUrl: string, client: { clientId: string; clientSecret: string }): Promise<SignedInUser> {
  const auth = createClient(AuthService, transport(nexusUrl, 'connect'));
  const wallet = newWallet();
  const { nonce } = await auth.getNonce({ clientId: client.clientId });
  const { message, signature } = await signSiwe(wallet, nexusUrl, nonce, { statement: 'Sign in to Acme Notes' });
  const res = await auth.authenticate({ clientId: client.clientId, clientSecret: client.clientSecret, message, signature, scopes: ['connections'] });
  return { address: wallet.address, workspaceId: res.account!.workspaceId, accessToken: res.accessToken };
}

/** What the customer app does to send the user to Manage Connections: a one-time code, from this machine's IP. */
export async function initHandoff(nexusUrl: string, user: SignedInUser, redirectUri: string): Promise<{ code: string; webAppUrl: string }> {
  const auth = createClient(AuthService, transport(nexusUrl, 'connect', user.accessToken));
  const res = await auth.initHandoff({ redirectUri, intent: HandoffIntent.CONNECTIONS });
  return { code: res.code, webAppUrl: res.webAppUrl };
}
