import type { TestAuthServer } from './oauth-server.js';
import { RETURN_URL, type Clients } from './test-app.js';

export interface CallbackResult {
  status: number;
  location: string | null;
  body: string;
}

/**
 * A person's browser as far as Nexus's pages go: it keeps the cookies Nexus
 * sets (the consent page's form token, the flow's binding cookie) and sends
 * them back, as a browser would. One per person: the attack tests give the
 * attacker and the victim a browser each.
 */
export class Browser {
  readonly cookies = new Map<string, string>();

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (!value || attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /**
   * The person on Nexus's consent page: opens the link, reads the page,
   * submits its form (what clicking "Continue" does) and returns where Nexus
   * sends the browser: the provider's authorization URL.
   */
  async confirm(link: string): Promise<{ providerUrl: string; page: string }> {
    const res = await this.fetch(link, { headers: { 'sec-fetch-site': 'none' } });
    const page = await res.text();
    if (res.status === 302) return { providerUrl: res.headers.get('location')!, page };
    if (res.status !== 200) throw new Error(`consent page answered ${res.status}: ${errorOf(page)}`);
    const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1];
    const token = /name="form_token" value="([^"]+)"/.exec(page)?.[1];
    if (!action || !token) throw new Error('the consent page has no confirmation form');
    const post = await this.fetch(new URL(action, link).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', origin: new URL(link).origin },
      body: new URLSearchParams({ form_token: token }).toString(),
    });
    if (post.status !== 303) throw new Error(`consent confirmation answered ${post.status}: ${errorOf(await post.text())}`);
    return { providerUrl: post.headers.get('location')!, page };
  }

  /** Opens Nexus's callback URL without following its redirect; returns where it sends the user. */
  async callback(url: string): Promise<CallbackResult> {
    const res = await this.fetch(url);
    return { status: res.status, location: res.headers.get('location'), body: await res.text() };
  }
}

function errorOf(page: string): string {
  return /reason: (ERROR_REASON_[A-Z_]+)/.exec(page)?.[1] ?? page.slice(0, 200);
}

/** The person every single-user test plays. */
export const user = new Browser();

/** Whether a URL is Nexus's consent page (BASE_URL/connect/{secret}) rather than a provider's. */
export function isConsentLink(url: string): boolean {
  return /^\/connect\/[A-Za-z0-9_-]{43}$/.test(new URL(url).pathname);
}

/**
 * The provider URL behind an auth_url: a Nexus consent link is confirmed
 * first by `browser` (the authorization servers' `consent` call this, so
 * every test that consents goes through Nexus's page).
 */
export async function throughNexus(authUrl: string, browser: Browser = user): Promise<string> {
  return isConsentLink(authUrl) ? (await browser.confirm(authUrl)).providerUrl : authUrl;
}

/** Opens Nexus's callback URL in `browser` without following its redirect. */
export function callback(url: string, browser: Browser = user): Promise<CallbackResult> {
  return browser.callback(url);
}

/** CreateConnection, the user's confirmation on Nexus, consent at the authorization server, and the callback on Nexus. */
export async function connectViaConsent(auth: TestAuthServer, api: Clients, workspaceId: string, providerName = 'local-oauth') {
  const created = await api.connections.createConnection({
    workspaceId,
    provider: { case: 'providerName', value: providerName },
    returnUrl: RETURN_URL,
  });
  const { providerUrl } = await user.confirm(created.authUrl);
  const callbackUrl = await auth.consent(providerUrl);
  return { created, providerUrl, callbackUrl, result: await callback(callbackUrl) };
}
