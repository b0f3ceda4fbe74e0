import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientType } from '../../gen/ts/nexus/v1/client_pb.js';
import { HandoffIntent } from '../../gen/ts/nexus/v1/auth_pb.js';
import { ConnectionStatus } from '../../gen/ts/nexus/v1/connection_pb.js';
import { REDIRECT, registerClient, signInUser } from '../support/auth-flows.js';
import { Browser, isConsentLink } from '../support/consent.js';
import { expectConnectError } from '../support/errors.js';
import { apiKeyProvider, oauthProvider } from '../support/fixtures.js';
import { TestAuthServer } from '../support/oauth-server.js';
import { ADMIN_KEY, RETURN_URL, authClients, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';

/**
 * The forwarded-link attack (SECURITY.md, "Consent links"): someone creates a
 * connection in their own workspace and sends its link to someone else, whose
 * consent would land in the sender's workspace. Every "person" here has a
 * browser of their own (cookies), and consents at a real authorization server.
 */
describe('consent links are bound to the person who consents', () => {
  let auth: TestAuthServer;
  let nexus: TestApp;
  let api: Clients;

  beforeAll(async () => {
    auth = await TestAuthServer.start();
    nexus = await startTestApp({ backend: 'postgres' });
    api = clients(nexus.baseUrl, ADMIN_KEY);
    await api.providers.createProvider({ provider: oauthProvider(auth) });
    // The same server as an OpenID Connect provider (configured by its issuer: discovery, JWKS).
    const oidc = oauthProvider(auth, { name: 'local-oidc', displayName: 'Local OIDC' });
    oidc.oauth2 = { ...oidc.oauth2!, authorizationUrl: '', tokenUrl: '', revocationUrl: '', issuer: auth.issuer };
    await api.providers.createProvider({ provider: oidc });
  });
  afterAll(async () => {
    await nexus?.close();
    await auth?.stop();
  });

  const create = (workspaceId: string, providerName = 'local-oauth', caller = api) =>
    caller.connections.createConnection({ workspaceId, provider: { case: 'providerName', value: providerName }, returnUrl: RETURN_URL });
  const statusOf = async (id: string) => (await api.connections.getConnection({ connectionId: id })).connection!;
  /** The person confirms on Nexus's page, consents at the provider and comes back, all in their own browser. */
  const connectAs = async (person: Browser, authUrl: string) => person.callback(await auth.consent((await person.confirm(authUrl)).providerUrl));
  const reasonOf = (body: string) => /reason: (ERROR_REASON_[A-Z_]+)/.exec(body)?.[1];

  it('shows the person who opens a forwarded link the app, provider and workspace, and nothing reaches the provider before they confirm', async () => {
    const created = await create('attacker-workspace');
    expect(isConsentLink(created.authUrl)).toBe(true);
    const authorizeBefore = auth.authorizeRequests;

    const victim = new Browser();
    const res = await victim.fetch(created.authUrl);
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('<code id="consent-workspace">attacker-workspace</code>');
    expect(page).toContain('<dd id="consent-provider">Local OAuth</dd>');
    expect(page).toContain('<dd id="consent-app-name">default</dd>'); // an API key's flow: the project's name
    expect(page).toContain('If someone sent you this link, close this page.');
    // The provider URL (and its state) is not on the page, and the provider saw nothing.
    expect(page).not.toContain(auth.issuer);
    expect(page).not.toContain(created.state);
    expect(auth.authorizeRequests).toBe(authorizeBefore);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect((await statusOf(created.connection!.id)).status).toBe(ConnectionStatus.PENDING);
  });

  it("names the signed-in user's app (its client) on the page", async () => {
    const client = await registerClient(nexus.baseUrl, ClientType.CONFIDENTIAL);
    const signedIn = await signInUser(nexus.baseUrl, client, ['connections']);
    const created = await create('', 'local-oauth', clients(nexus.baseUrl, signedIn.accessToken));
    const page = await (await new Browser().fetch(created.authUrl)).text();
    expect(page).toContain('<dd id="consent-app-name">Acme App</dd>');
    expect(page).toContain(`<code id="consent-workspace">${signedIn.account!.workspaceId}</code>`);
  });

  it('refuses a provider URL confirmed in one browser and completed in another: the sender gets no token', async () => {
    const created = await create('attacker-workspace');
    const id = created.connection!.id;
    // The sender confirms in their own browser and forwards the provider URL instead.
    const attacker = new Browser();
    const { providerUrl } = await attacker.confirm(created.authUrl);
    const exchangesBefore = auth.codeExchanges;
    // The victim consents at the provider; the callback arrives in the victim's browser.
    const victim = new Browser();
    const callbackUrl = await auth.consent(providerUrl);
    const landed = await victim.callback(callbackUrl);
    expect(landed.status).toBe(403);
    expect(reasonOf(landed.body)).toBe('ERROR_REASON_CONSENT_BROWSER_MISMATCH');
    // The code was never exchanged; nothing reached the sender's workspace.
    expect(auth.codeExchanges).toBe(exchangesBefore);
    expect((await statusOf(id)).status).toBe(ConnectionStatus.PENDING);
    await expectConnectError(api.tokens.getToken({ connectionId: id }), Code.FailedPrecondition, 'CONNECTION_NOT_ACTIVE');
    // The victim's browser confirming afresh gets nowhere either: the flow belongs to the attacker's browser.
    const again = await victim.fetch(created.authUrl);
    expect(again.status).toBe(403);
    expect(reasonOf(await again.text())).toBe('ERROR_REASON_CONSENT_BROWSER_MISMATCH');
  });

  it('refuses a callback for a flow nobody confirmed on the page', async () => {
    const created = await create('ws-unconfirmed');
    // The state is in CreateConnection's answer: a callback built from it is refused before any exchange.
    const exchangesBefore = auth.codeExchanges;
    const landed = await new Browser().callback(`${nexus.baseUrl}/oauth/callback?state=${encodeURIComponent(created.state)}&code=anything`);
    expect(landed.status).toBe(400);
    expect(reasonOf(landed.body)).toBe('ERROR_REASON_CONSENT_NOT_CONFIRMED');
    expect(auth.codeExchanges).toBe(exchangesBefore);
    expect((await statusOf(created.connection!.id)).status).toBe(ConnectionStatus.PENDING);
  });

  it('accepts the confirmation only from its own page (form token, same site)', async () => {
    const created = await create('ws-csrf');
    const victim = new Browser();
    const page = await (await victim.fetch(created.authUrl)).text();
    const token = /name="form_token" value="([^"]+)"/.exec(page)![1]!;
    const post = (b: Browser, body: string, headers: Record<string, string> = {}) =>
      b.fetch(created.authUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });

    // A cross-site auto-submitted form: the browser marks it cross-site and sends no SameSite=Strict cookie.
    const crossSite = await post(new Browser(), `form_token=${token}`, { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' });
    expect(crossSite.status).toBe(403);
    expect(reasonOf(await crossSite.text())).toBe('ERROR_REASON_CONSENT_FORM_INVALID');
    // The victim's own cookie but no token, a wrong token, or another origin.
    for (const [body, headers] of [
      ['', {}],
      ['form_token=wrong', {}],
      [`form_token=${token}`, { origin: 'https://evil.example' }],
      [`form_token=${token}`, { 'sec-fetch-site': 'same-site' }],
    ] as const) {
      const res = await post(victim, body, headers);
      expect(res.status, body).toBe(403);
      expect(reasonOf(await res.text())).toBe('ERROR_REASON_CONSENT_FORM_INVALID');
    }
    // None of that confirmed anything: the person can still confirm from the page.
    const { providerUrl } = await victim.confirm(created.authUrl);
    expect(new URL(providerUrl).origin).toBe(new URL(auth.issuer).origin);
    // Back in the same browser, the link goes straight on to the provider.
    const reopened = await victim.fetch(created.authUrl);
    expect(reopened.status).toBe(302);
    expect(reopened.headers.get('location')).toBe(providerUrl);
  });

  it('binds a web-app flow to the browser of the web session: a forwarded link cannot be opened or completed elsewhere', async () => {
    const client = await registerClient(nexus.baseUrl, ClientType.CONFIDENTIAL);
    const signedIn = await signInUser(nexus.baseUrl, client, ['connections']);
    const handoff = await authClients(nexus.baseUrl, signedIn.accessToken).auth.initHandoff({ redirectUri: REDIRECT, intent: HandoffIntent.CONNECTIONS });
    const web = await authClients(nexus.baseUrl).auth.redeemHandoff({ code: handoff.code });

    // The web app's browser calls CreateConnection (Connect JSON, as Connect-Web does) and gets the binding cookie.
    const sessionBrowser = new Browser();
    const createdRes = await sessionBrowser.fetch(`${nexus.baseUrl}/nexus.v1.ConnectionService/CreateConnection`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${web.accessToken}` },
      body: JSON.stringify({ providerName: 'local-oauth', returnUrl: RETURN_URL }),
    });
    expect(createdRes.status).toBe(200);
    const created = (await createdRes.json()) as { authUrl: string; connection: { id: string } };
    const setCookie = createdRes.headers.getSetCookie().join('\n');
    expect(setCookie).toMatch(/nexus_consent_st_[0-9A-Z]+=[A-Za-z0-9_-]{43}; Max-Age=600; Path=\/; HttpOnly; SameSite=Lax/);

    // Forwarded: another browser gets a clear refusal, and the provider is never reached.
    const authorizeBefore = auth.authorizeRequests;
    const other = await new Browser().fetch(created.authUrl);
    expect(other.status).toBe(403);
    const body = await other.text();
    expect(body).toContain('started in another browser');
    expect(reasonOf(body)).toBe('ERROR_REASON_CONSENT_BROWSER_MISMATCH');
    expect(auth.authorizeRequests).toBe(authorizeBefore);

    // The session's browser goes straight on to the provider (its click in the web app was the confirmation)...
    const mine = await sessionBrowser.fetch(created.authUrl);
    expect(mine.status).toBe(302);
    const providerUrl = mine.headers.get('location')!;
    // ...and even that provider URL, forwarded, cannot be completed in another browser.
    const stolen = await new Browser().callback(await auth.consent(providerUrl));
    expect(reasonOf(stolen.body)).toBe('ERROR_REASON_CONSENT_BROWSER_MISMATCH');

    // The happy path: consent again in the session's browser and come back; the binding cookie is cleared.
    const landed = await sessionBrowser.callback(await auth.consent(providerUrl));
    expect(landed.status).toBe(302);
    expect(new URL(landed.location!).searchParams.get('status')).toBe('success');
    expect([...sessionBrowser.cookies.keys()].filter((k) => k.startsWith('nexus_consent_st_'))).toEqual([]);
    expect((await statusOf(created.connection.id)).status).toBe(ConnectionStatus.ACTIVE);
  });

  it('completes the happy path and records who consented, as the OpenID provider asserted it (verified ID token)', async () => {
    auth.idTokenClaims = { sub: 'person-42', email: 'person42@example.com', email_verified: true };
    try {
      const created = await create('ws-oidc', 'local-oidc');
      const person = new Browser();
      const landed = await connectAs(person, created.authUrl);
      expect(new URL(landed.location!).searchParams.get('status')).toBe('success');
      const connection = await statusOf(created.connection!.id);
      expect(connection.status).toBe(ConnectionStatus.ACTIVE);
      expect(connection.providerSubject).toBe('person-42');
      expect(connection.providerEmail).toBe('person42@example.com');
      // An unverified email is not recorded; the subject is.
      auth.idTokenClaims = { sub: 'person-43', email: 'claimed@example.com', email_verified: false };
      const second = await create('ws-oidc-2', 'local-oidc');
      await connectAs(person, second.authUrl);
      const c2 = await statusOf(second.connection!.id);
      expect([c2.status, c2.providerSubject, c2.providerEmail]).toEqual([ConnectionStatus.ACTIVE, 'person-43', '']);
    } finally {
      auth.idTokenClaims = {};
    }
  });

  it("fails the connection when the ID token does not verify against the issuer's keys", async () => {
    auth.idTokenMode = 'forged';
    auth.idTokenClaims = { sub: 'someone-else' };
    try {
      const created = await create('ws-forged', 'local-oidc');
      const person = new Browser();
      const landed = await connectAs(person, created.authUrl);
      expect(new URL(landed.location!).searchParams.get('error')).toBe('invalid_id_token');
      const connection = await statusOf(created.connection!.id);
      expect([connection.status, connection.statusReason, connection.providerSubject]).toEqual([ConnectionStatus.FAILED, 'invalid_id_token', '']);
      await expectConnectError(api.tokens.getToken({ connectionId: created.connection!.id }), Code.FailedPrecondition, 'CONNECTION_NOT_ACTIVE');
    } finally {
      auth.idTokenMode = 'normal';
      auth.idTokenClaims = {};
    }
  });

  it('asks the userinfo endpoint when the OpenID provider returns no ID token', async () => {
    auth.idTokenMode = 'omit';
    auth.userinfoClaims = { sub: 'person-from-userinfo', email: 'ui@example.com' };
    try {
      const created = await create('ws-userinfo', 'local-oidc');
      const person = new Browser();
      await connectAs(person, created.authUrl);
      const connection = await statusOf(created.connection!.id);
      expect([connection.status, connection.providerSubject, connection.providerEmail]).toEqual([
        ConnectionStatus.ACTIVE,
        'person-from-userinfo',
        'ui@example.com',
      ]);
    } finally {
      auth.idTokenMode = 'normal';
      auth.userinfoClaims = undefined;
    }
  });

  it('records nothing for a provider that is not OpenID Connect (explicit endpoints)', async () => {
    auth.idTokenClaims = { sub: 'unverifiable' };
    try {
      const created = await create('ws-plain');
      const person = new Browser();
      await connectAs(person, created.authUrl);
      const connection = await statusOf(created.connection!.id);
      expect([connection.status, connection.providerSubject]).toEqual([ConnectionStatus.ACTIVE, '']);
    } finally {
      auth.idTokenClaims = {};
    }
  });

  it('tells the person who opens a forwarded capture link (static credentials) whose workspace and which app it is for', async () => {
    await api.providers.createProvider({ provider: apiKeyProvider() });
    const client = await registerClient(nexus.baseUrl, ClientType.CONFIDENTIAL);
    const signedIn = await signInUser(nexus.baseUrl, client, ['connections']);
    const created = await create('', 'acme-api', clients(nexus.baseUrl, signedIn.accessToken));
    // What the capture page (the web app) reads with nothing but the link's state.
    const form = await clients(nexus.baseUrl).connections.getCredentialSchema({ state: created.state });
    expect([form.workspaceId, form.appName, form.providerDisplayName]).toEqual([signedIn.account!.workspaceId, 'Acme App', 'Acme API']);
    const byKey = await clients(nexus.baseUrl).connections.getCredentialSchema({ state: (await create('ws-capture', 'acme-api')).state });
    expect([byKey.workspaceId, byKey.appName]).toEqual(['ws-capture', 'default']);
  });

  it('answers unknown, expired and spent links with a clear page', async () => {
    const unknown = await new Browser().fetch(`${nexus.baseUrl}/connect/${'A'.repeat(43)}`);
    expect(unknown.status).toBe(404);
    expect(reasonOf(await unknown.text())).toBe('ERROR_REASON_CONSENT_LINK_INVALID');
    const malformed = await new Browser().fetch(`${nexus.baseUrl}/connect/short`);
    expect(reasonOf(await malformed.text())).toBe('ERROR_REASON_CONSENT_LINK_INVALID');

    const expired = await create('ws-expired');
    await nexus.app.database.dataSource.query(`UPDATE auth_states SET expires_at = now() - interval '1 second' WHERE connection_id = $1`, [
      expired.connection!.id,
    ]);
    const page = await new Browser().fetch(expired.authUrl);
    expect(page.status).toBe(400);
    expect(reasonOf(await page.text())).toBe('ERROR_REASON_STATE_EXPIRED');

    const person = new Browser();
    const done = await create('ws-done');
    await connectAs(person, done.authUrl);
    const spent = await person.fetch(done.authUrl);
    expect(reasonOf(await spent.text())).toBe('ERROR_REASON_STATE_ALREADY_USED');
    // The link's secret never reaches the request log.
    expect(nexus.logs.join('\n')).not.toContain(new URL(done.authUrl).pathname);
  });
});
