import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionStatus } from '../../gen/ts/nexus/v1/connection_pb.js';
import { AuthType, ClientAuthMethod } from '../../gen/ts/nexus/v1/provider_pb.js';
import { callback, throughNexus } from '../support/consent.js';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { MinimalAuthServer } from '../support/minimal-as.js';
import { minimalProvider } from '../support/refresh-fixtures.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';

/** The user: confirms on Nexus's page, then at the server's consent screen; returns the server's redirect back to Nexus. */
async function consent(authUrl: string): Promise<string> {
  const res = await fetch(await throughNexus(authUrl), { redirect: 'manual' });
  const location = res.headers.get('location');
  if (res.status !== 302 || !location) throw new Error(`authorization server answered ${res.status}`);
  return location;
}

describe.each(BACKENDS)('RFC 9207 iss of a provider configured by endpoints, issuer with a path (%s)', (backend) => {
  let as: MinimalAuthServer;
  let nexus: TestApp;
  let api: Clients;
  // A Keycloak realm: the issuer is not the token URL's origin.
  let realm: string;

  const provider = (name: string, expectedIssuer: string) => {
    const p = minimalProvider(as);
    p.name = name;
    p.oauth2!.expectedIssuer = expectedIssuer;
    return p;
  };

  beforeAll(async () => {
    as = await MinimalAuthServer.start();
    realm = `${as.origin}/realms/acme`;
    nexus = await startTestApp({ backend });
    api = clients(nexus.baseUrl, ADMIN_KEY);
    await api.providers.createProvider({ provider: provider('keycloak-realm', realm) });
    await api.providers.createProvider({ provider: provider('undeclared-issuer', '') });
  });
  afterAll(async () => {
    await nexus?.close();
    await as?.stop();
  });

  async function connect(name: string, workspaceId: string) {
    const created = await api.connections.createConnection({ workspaceId, provider: { case: 'providerName', value: name }, returnUrl: RETURN_URL });
    const landed = await callback(await consent(created.authUrl));
    const back = new URL(landed.location!);
    const id = created.connection!.id;
    return {
      id,
      status: back.searchParams.get('status'),
      error: back.searchParams.get('error'),
      connection: (await api.connections.getConnection({ connectionId: id })).connection!,
    };
  }

  it('the declared issuer is returned by GetProvider', async () => {
    const got = await api.providers.getProvider({ provider: 'keycloak-realm' });
    expect(got.provider?.oauth2?.expectedIssuer).toBe(realm);
  });

  it('succeeds when the server sends its issuer as iss (the connection used to FAIL with invalid_request)', async () => {
    as.iss = realm;
    const r = await connect('keycloak-realm', 'iss-ok');
    expect(r.status).toBe('success');
    expect(r.connection.status).toBe(ConnectionStatus.ACTIVE);
  });

  it('refuses a wrong iss (mix-up defence): FAILED issuer_mismatch, logged, no code exchanged', async () => {
    as.iss = `${as.origin}/realms/other`;
    const before = as.issuedByExchange.length;
    const r = await connect('keycloak-realm', 'iss-wrong');
    expect(r).toMatchObject({ status: 'error', error: 'issuer_mismatch' });
    expect(r.connection.status).toBe(ConnectionStatus.FAILED);
    expect(as.issuedByExchange.length).toBe(before);
    const line = nexus.logs.find((l) => l.includes('authorization response refused') && l.includes(r.id));
    expect(line).toBeDefined();
    expect(line).toContain('issuer_mismatch');
    expect(line).toContain(realm);
  });

  it('reports denied consent as access_denied, not invalid_request', async () => {
    as.iss = realm;
    as.denyConsent = true;
    try {
      const r = await connect('keycloak-realm', 'iss-denied');
      expect(r).toMatchObject({ status: 'error', error: 'access_denied' });
      expect(r.connection.status).toBe(ConnectionStatus.FAILED);
    } finally {
      as.denyConsent = false;
    }
  });

  it('without a declared issuer, iss is not compared with an invented one', async () => {
    as.iss = realm;
    const r = await connect('undeclared-issuer', 'iss-undeclared');
    expect(r.status).toBe('success');
    as.denyConsent = true;
    try {
      expect(await connect('undeclared-issuer', 'iss-undeclared-denied')).toMatchObject({ status: 'error', error: 'access_denied' });
    } finally {
      as.denyConsent = false;
    }
  });

  it('GetToken hands out token_type as the provider spelled it', async () => {
    as.iss = realm;
    as.tokenType = 'Bearer';
    const r = await connect('keycloak-realm', 'token-type');
    const token = (await api.tokens.getToken({ connectionId: r.id })).credential!;
    expect(token.credentials.case).toBe('oauth2');
    expect((token.credentials.value as { tokenType: string }).tokenType).toBe('Bearer');
    // And after a refresh.
    as.tokenType = 'BeArEr';
    const refreshed = (await api.tokens.refreshToken({ connectionId: r.id })).credential!;
    expect((refreshed.credentials.value as { tokenType: string }).tokenType).toBe('BeArEr');
    as.tokenType = 'Bearer';
  });

  it('expected_issuer is checked on write', async () => {
    const both = provider('both-issuers', realm);
    both.oauth2!.issuer = realm;
    await expectConnectError(api.providers.createProvider({ provider: both }), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(api.providers.createProvider({ provider: provider('bad-issuer', 'javascript:alert(1)') }), Code.InvalidArgument, 'INVALID_FIELD');
  });
});

describe('production: every provider URL must be https, refused on write naming the field', () => {
  let nexus: TestApp;
  let api: Clients;
  beforeAll(async () => {
    nexus = await startTestApp({ backend: 'embedded', config: { production: true } });
    api = clients(nexus.baseUrl, ADMIN_KEY);
  });
  afterAll(async () => {
    await nexus?.close();
  });

  const https = {
    clientId: 'c',
    clientSecret: 's',
    authorizationUrl: 'https://idp.example.com/authorize',
    tokenUrl: 'https://idp.example.com/token',
    revocationUrl: 'https://idp.example.com/revoke',
    clientAuthMethod: ClientAuthMethod.CLIENT_SECRET_BASIC,
  };

  it.each([
    ['authorization_url', { authorizationUrl: 'http://idp.example.com/authorize' }],
    ['token_url', { tokenUrl: 'http://idp.example.com/token' }],
    ['revocation_url', { revocationUrl: 'http://idp.example.com/revoke' }],
    ['expected_issuer', { expectedIssuer: 'http://idp.example.com/realms/acme' }],
    ['issuer', { issuer: 'http://idp.example.com', authorizationUrl: '', tokenUrl: '' }],
  ])('%s', async (field, change) => {
    const err = await expectConnectError(
      api.providers.createProvider({
        provider: { name: `prod-${field.replace('_', '-')}`, authType: AuthType.OAUTH2, enabled: true, oauth2: { ...https, ...change } },
      }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    expect(err.rawMessage).toContain(`provider.oauth2.${field}`);
    expect(err.rawMessage).toMatch(/https/);
  });

  it('UpdateProvider too', async () => {
    await api.providers.createProvider({ provider: { name: 'prod-ok', authType: AuthType.OAUTH2, enabled: true, oauth2: https } });
    const err = await expectConnectError(
      api.providers.updateProvider({
        provider: { name: 'prod-ok', authType: AuthType.OAUTH2, oauth2: { ...https, tokenUrl: 'http://idp.example.com/token' } },
        updateMask: { paths: ['oauth2.token_url'] },
      }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    expect(err.rawMessage).toContain('provider.oauth2.token_url');
  });
});
