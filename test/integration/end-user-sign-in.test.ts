import { Code } from '@connectrpc/connect';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HandoffIntent } from '../../gen/ts/nexus/v1/auth_pb.js';
import { ClientType } from '../../gen/ts/nexus/v1/client_pb.js';
import { ConnectionStatus } from '../../gen/ts/nexus/v1/connection_pb.js';
import { hashSecret } from '../../src/crypto/index.js';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { apiKeyProvider } from '../support/fixtures.js';
import { newWallet, signIn } from '../support/siwe.js';
import { ADMIN_KEY, authClients, clients, startTestApp, type TestApp } from '../support/test-app.js';

const REDIRECT = 'https://app.example.com/back';

describe.each(BACKENDS)('end-user sign-in, tokens and handoff (%s)', (backend) => {
  let nexus: TestApp;
  let clientId: string;
  let clientSecret: string;

  beforeAll(async () => {
    nexus = await startTestApp({ backend });
    const admin = authClients(nexus.baseUrl, ADMIN_KEY);
    const created = await admin.clients.createClient({
      client: {
        type: ClientType.CONFIDENTIAL,
        displayName: 'Acme App',
        redirectUris: [REDIRECT],
        branding: { logoUrl: 'https://app.example.com/logo.png', accentColor: '#1A2B3C' },
      },
    });
    clientId = created.client!.id;
    clientSecret = created.clientSecret;
    await clients(nexus.baseUrl, ADMIN_KEY).providers.createProvider({ provider: apiKeyProvider() });
  });
  afterAll(async () => {
    await nexus?.close();
  });

  async function signedIn(wallet = newWallet()) {
    const basic = Buffer.from(`${clientId}:${clientSecret}`).toString('base64');
    const anon = authClients(nexus.baseUrl);
    const { nonce } = await anon.auth.getNonce({ clientId });
    const siwe = await signIn(wallet, nexus.baseUrl, nonce);
    const res = await anon.auth.authenticate(siwe, { headers: { authorization: `Basic ${basic}` } });
    return { wallet, res };
  }

  it('signs in with SIWE (Basic client auth) and the access token verifies against the JWKS', async () => {
    const { wallet, res } = await signedIn();
    expect(res.tokenType).toBe('Bearer');
    expect(res.account?.address).toBe(wallet.address);
    expect(res.account?.workspaceId).toBe(`eth:${wallet.address}`);
    expect(res.scopes).toEqual(['connections']);
    expect(res.refreshToken).toMatch(/^nxrt_/);
    const jwks = (await (await fetch(`${nexus.baseUrl}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.length).toBeGreaterThan(0);
    const { payload } = await jwtVerify(res.accessToken, createLocalJWKSet(jwks as never), { issuer: nexus.baseUrl });
    expect(decodeProtectedHeader(res.accessToken).kid).toBe(jwks.keys[0]!.kid);
    expect(payload).toMatchObject({ sid: res.sessionId, cid: clientId, wid: `eth:${wallet.address}`, scope: 'connections' });
  });

  it('signs in when the signing-key cache is stale (no deadlock on the one-connection embedded pool)', async () => {
    // Force the "older than a minute" state; signing happens inside the sign-in transaction.
    (nexus.app.signingKeys as unknown as { loadedAt: number }).loadedAt = 0;
    const { res } = await signedIn();
    expect(res.accessToken).toBeTruthy();
  });

  it('a user token creates and lists connections in its own workspace only', async () => {
    const { wallet, res } = await signedIn();
    const user = clients(nexus.baseUrl, res.accessToken);
    const created = await user.connections.createConnection({
      provider: { case: 'providerName', value: 'acme-api' },
      returnUrl: `${nexus.baseUrl}/manage/`,
    });
    expect(created.connection?.workspaceId).toBe(`eth:${wallet.address}`);
    const listed = await user.connections.listConnections({});
    expect(listed.connections.map((c) => c.id)).toEqual([created.connection!.id]);
    expect(listed.connections[0]!.status).toBe(ConnectionStatus.PENDING);
    await expectConnectError(user.connections.listConnections({ workspaceId: 'someone-else' }), Code.PermissionDenied, 'WORKSPACE_FORBIDDEN');
  });

  it('hands off to the web app: the code is redeemed once for a web session limited to connections', async () => {
    const { wallet, res } = await signedIn();
    const user = authClients(nexus.baseUrl, res.accessToken);
    const handoff = await user.auth.initHandoff({ redirectUri: REDIRECT, intent: HandoffIntent.CONNECTIONS });
    expect(handoff.webAppUrl).toBe(`${nexus.baseUrl}/manage/?code=${encodeURIComponent(handoff.code)}`);
    const stored = await nexus.app.store.oneTimeCodes.findByHash('handoff', hashSecret(handoff.code));
    expect(stored?.codeHash).not.toContain(handoff.code);
    const web = await authClients(nexus.baseUrl).auth.redeemHandoff({ code: handoff.code });
    expect(web.scopes).toEqual(['connections']);
    expect(web.redirectUri).toBe(REDIRECT);
    expect(web.branding).toMatchObject({ displayName: 'Acme App', logoUrl: 'https://app.example.com/logo.png', accentColor: '#1a2b3c' });
    expect(web.account?.address).toBe(wallet.address);
    const page = await clients(nexus.baseUrl, web.accessToken).providers.listProviders({});
    expect(page.providers.map((p) => p.name)).toContain('acme-api');
    await expectConnectError(authClients(nexus.baseUrl).auth.redeemHandoff({ code: handoff.code }), Code.FailedPrecondition, 'HANDOFF_CODE_ALREADY_USED');
  });
});
