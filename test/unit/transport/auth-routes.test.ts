import { ACCESS_TOKEN_TYPE, CONNECTION_URN_PREFIX, TOKEN_EXCHANGE_GRANT, TokenEndpoint } from '../../../src/domain/token-exchange/token-endpoint.js';
import type { AuditEventInput } from '../../../src/domain/audit/types.js';
import type { ConnectionRow } from '../../../src/domain/model/connection.js';
import { newId } from '../../../src/crypto/index.js';
import { unreachable } from '../../support/admin-router.js';
import { activeConnectionRow, providerRow } from '../../support/rows.js';
import { TokenService } from '../../../src/domain/tokens/token-service.js';
import type { Refresher } from '../../../src/domain/tokens/refresher.js';
import { sealCredentials } from '../../../src/domain/connections/sealed-credentials.js';
import type { ProviderRow } from '../../../src/domain/model/provider.js';
import { Code, createClient, createRouterTransport } from '@connectrpc/connect';
import { beforeEach, describe, expect, it } from 'vitest';
import { AuthService as AuthServiceDesc } from '../../../gen/ts/nexus/v1/auth_pb.js';
import { KeyRing, pkceChallengeS256, pkceVerifier } from '../../../src/crypto/index.js';
import { ApiKeys } from '../../../src/domain/access/api-keys.js';
import { SiweSignatureInvalidError } from '../../../src/domain/auth/auth-errors.js';
import { AuthService } from '../../../src/domain/auth/auth-service.js';
import { ClientRegistry } from '../../../src/domain/auth/client-registry.js';
import { SigningKeys } from '../../../src/domain/auth/signing-keys.js';
import type { SiweVerifier } from '../../../src/domain/auth/siwe.js';
import { DEFAULT_PROJECT_ID } from '../../../src/domain/shared/workspace-scope.js';
import { accessInterceptor } from '../../../src/transport/access.js';
import { Authenticator } from '../../../src/transport/authenticate.js';
import { errorInterceptor } from '../../../src/transport/error-interceptor.js';
import { AuthHandler } from '../../../src/transport/handlers/auth-handler.js';
import { expectConnectError } from '../../support/errors.js';
import { fakePersistence, type FakePersistence } from '../../support/fake-persistence.js';

// AuthService's routes (sign-in with a nonce, the authorization-code grant
// with PKCE, revocation) over createRouterTransport with in-memory ports and
// a set clock. The SIWE signature check is its own unit test (siwe.test.ts);
// here a scripted verifier accepts the message "<nonce> <address>" signed "ok".

const NOW = Date.parse('2026-01-01T00:00:00Z');
const ADDRESS = '0x52908400098527886E0F7030069857D2E4169EE7';
const REDIRECT = 'https://app.example.com/callback';

describe('AuthService routes over fake ports', () => {
  let now: number;
  let store: FakePersistence;
  let authService: AuthService;
  let clientId: string;
  let publicClientId: string;
  let clientSecret: string;
  let api: ReturnType<typeof createClient<typeof AuthServiceDesc>>;
  let audited: AuditEventInput[];
  let ring: KeyRing;

  beforeEach(async () => {
    now = NOW;
    const clock = () => now;
    store = fakePersistence(clock);
    const registry = new ClientRegistry(store, false);
    const caller = { projectId: DEFAULT_PROJECT_ID, keyId: 'key_admin', scopes: new Set(['admin'] as const) };
    const input = { displayName: 'App', redirectUris: [REDIRECT], branding: {}, siweOrigins: [], siweChainIds: [], handoffIpBinding: undefined };
    const made = await registry.create(caller, { ...input, type: 'CONFIDENTIAL' });
    [clientId, clientSecret] = [made.client.id, made.secret];
    publicClientId = (await registry.create(caller, { ...input, type: 'PUBLIC' })).client.id;
    const keys = new SigningKeys(store, KeyRing.generate('k1'), 'http://nexus.test', clock);
    await keys.ensure();
    const siwe = {
      verify: async (message: string, signature: string) => {
        if (signature !== 'ok') throw new SiweSignatureInvalidError();
        const [nonce, address] = message.split(' ');
        return { nonce, address, chainId: 1 };
      },
    } as unknown as SiweVerifier;
    authService = new AuthService({
      store,
      clients: registry,
      keys,
      siwe,
      settings: {
        baseUrl: 'http://nexus.test',
        accessTokenTtlSeconds: 900,
        sessionTtlSeconds: 86_400,
        webSessionTtlSeconds: 3_600,
        handoffIpBindingRelaxed: false,
        maxLiveNonces: 3,
      },
      clock,
    });
    audited = [];
    ring = KeyRing.generate('k1');
    // Fresh tokens only: a refresh (and so the provider) is never reached.
    const tokens = new TokenService({ store, keyRing: ring, refresher: unreachable<Refresher>('refresher'), clock });
    const endpoint = new TokenEndpoint({
      auth: authService,
      clients: registry,
      tokens,
      store,
      audit: { record: (e) => audited.push(e) },
      clock,
    });
    const authenticator = new Authenticator(new ApiKeys(store, clock), authService);
    const transport = createRouterTransport((router) => router.service(AuthServiceDesc, new AuthHandler(authService, endpoint)), {
      router: { interceptors: [errorInterceptor(() => {}), accessInterceptor((ctx) => authenticator.verify(ctx))] },
    });
    api = createClient(AuthServiceDesc, transport);
  });

  async function signIn(over: Record<string, unknown> = {}) {
    const { nonce } = await api.getNonce({ clientId });
    return api.authenticate({ clientId, clientSecret, message: `${nonce} ${ADDRESS}`, signature: 'ok', scopes: ['connections'], ...over });
  }

  async function code(verifier: string) {
    const { nonce } = await api.getNonce({ clientId: publicClientId });
    const res = await api.authenticate({
      clientId: publicClientId,
      message: `${nonce} ${ADDRESS}`,
      signature: 'ok',
      scopes: ['connections'],
      responseType: 'code',
      codeChallenge: pkceChallengeS256(verifier),
      redirectUri: REDIRECT,
    });
    return res.code;
  }

  it('signs in with a nonce and hands out an access token that names the workspace', async () => {
    const res = await signIn();
    expect(res.tokenType).toBe('Bearer');
    const principal = await authService.principalOf(res.accessToken);
    expect(principal).toMatchObject({ projectId: DEFAULT_PROJECT_ID, user: { accountId: res.account!.id, clientId } });
    expect([...principal.scopes]).toEqual(['connections']);
  });

  it('a nonce is single-use and lasts five minutes of the clock', async () => {
    const { nonce } = await api.getNonce({ clientId });
    const message = `${nonce} ${ADDRESS}`;
    await api.authenticate({ clientId, clientSecret, message, signature: 'ok', scopes: ['connections'] });
    await expectConnectError(
      api.authenticate({ clientId, clientSecret, message, signature: 'ok', scopes: ['connections'] }),
      Code.Unauthenticated,
      'NONCE_INVALID',
    );
    const late = (await api.getNonce({ clientId })).nonce;
    now += 5 * 60_000 + 1;
    await expectConnectError(
      api.authenticate({ clientId, clientSecret, message: `${late} ${ADDRESS}`, signature: 'ok', scopes: ['connections'] }),
      Code.Unauthenticated,
      'NONCE_INVALID',
    );
  });

  it('caps the unused nonces of a client', async () => {
    for (let i = 0; i < 3; i++) await api.getNonce({ clientId });
    await expectConnectError(api.getNonce({ clientId }), Code.ResourceExhausted, 'TOO_MANY_NONCES');
    now += 5 * 60_000 + 1; // they expire and free room
    await api.getNonce({ clientId });
  });

  it('refuses a bad signature, a wrong client secret and an unknown client', async () => {
    await expectConnectError(signIn({ signature: 'forged' }), Code.Unauthenticated, 'SIWE_SIGNATURE_INVALID');
    await expectConnectError(signIn({ clientSecret: `${clientSecret}x` }), Code.Unauthenticated, 'CLIENT_AUTHENTICATION_FAILED');
    await expectConnectError(api.getNonce({ clientId: 'cli_00000000000000000000000000' }), Code.Unauthenticated, 'CLIENT_AUTHENTICATION_FAILED');
    expect(store.rows.sessions.size).toBe(0);
  });

  it('a public client must use the code flow, and its code needs the PKCE verifier', async () => {
    const { nonce } = await api.getNonce({ clientId: publicClientId });
    await expectConnectError(
      api.authenticate({ clientId: publicClientId, message: `${nonce} ${ADDRESS}`, signature: 'ok', scopes: ['connections'] }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    const verifier = pkceVerifier();
    const issued = await code(verifier);
    const exchange = (over: Record<string, unknown> = {}) =>
      api.exchangeToken({ grantType: 'authorization_code', clientId: publicClientId, code: issued, redirectUri: REDIRECT, codeVerifier: verifier, ...over });
    await expectConnectError(exchange({ codeVerifier: pkceVerifier() }), Code.InvalidArgument, 'PKCE_VERIFICATION_FAILED');
    await expectConnectError(exchange({ redirectUri: `${REDIRECT}/other` }), Code.InvalidArgument, 'REDIRECT_URI_MISMATCH');
    const tokens = await exchange();
    expect((await authService.principalOf(tokens.accessToken)).user?.clientId).toBe(publicClientId);
  });

  it('a code replayed ends the session it issued; a code older than a minute is refused', async () => {
    const verifier = pkceVerifier();
    const issued = await code(verifier);
    const req = { grantType: 'authorization_code', clientId: publicClientId, code: issued, redirectUri: REDIRECT, codeVerifier: verifier };
    const tokens = await api.exchangeToken(req);
    await expectConnectError(api.exchangeToken(req), Code.InvalidArgument, 'AUTHORIZATION_CODE_INVALID');
    await expect(authService.principalOf(tokens.accessToken)).rejects.toMatchObject({ reason: 'UNAUTHENTICATED' });
    const late = await code(verifier);
    now += 60_001;
    await expectConnectError(api.exchangeToken({ ...req, code: late }), Code.InvalidArgument, 'AUTHORIZATION_CODE_INVALID');
  });

  it('revocation ends the session; access tokens expire with the clock', async () => {
    const first = await signIn();
    await api.revoke({ clientId, clientSecret, token: first.refreshToken });
    await expect(authService.principalOf(first.accessToken)).rejects.toMatchObject({ reason: 'UNAUTHENTICATED' });
    const second = await signIn();
    now += 900_001;
    await expect(authService.principalOf(second.accessToken)).rejects.toMatchObject({ reason: 'UNAUTHENTICATED', message: /expired/ });
  });

  describe('the token-exchange grant (RFC 8693)', () => {
    const exchange = (subjectToken: string, over: Record<string, unknown> = {}) =>
      api.exchangeToken({
        grantType: TOKEN_EXCHANGE_GRANT,
        clientId,
        clientSecret,
        subjectToken,
        subjectTokenType: ACCESS_TOKEN_TYPE,
        resource: `${CONNECTION_URN_PREFIX}${newId('conn', NOW)}`,
        ...over,
      });
    const withTokens = async () => (await signIn({ scopes: ['tokens'] })).accessToken;
    const lastAudit = () => audited[audited.length - 1];

    async function connect(
      workspaceId: string,
      over: Partial<ProviderRow> = {},
      credentials: unknown = { accessToken: 'at-1', tokenType: 'bearer', expiresAt: now + 1_800_000 },
    ) {
      const provider = providerRow({ projectId: DEFAULT_PROJECT_ID, ...over });
      if (!(await store.providers.findByName(DEFAULT_PROJECT_ID, provider.name))) await store.providers.insert(provider);
      const providerId = (await store.providers.findByName(DEFAULT_PROJECT_ID, provider.name))!.id;
      const id = newId('conn', now);
      await store.connections.insert(
        activeConnectionRow({
          id,
          projectId: DEFAULT_PROJECT_ID,
          workspaceId,
          providerId,
          scopes: ['read'],
          returnUrl: 'https://app.example.com/done',
          credentialsSealed: sealCredentials(ring, id, credentials),
        }),
      );
      return id;
    }

    it("hands out the federated token of the user's own connection, by resource or by audience, audited", async () => {
      const subject = await withTokens();
      const { workspaceId, accountId } = (await authService.principalOf(subject)).user!;
      const id = await connect(workspaceId);
      const byResource = await exchange(subject, { resource: `${CONNECTION_URN_PREFIX}${id}` });
      expect(byResource).toMatchObject({ accessToken: 'at-1', tokenType: 'Bearer', expiresIn: 1800, issuedTokenType: ACCESS_TOKEN_TYPE, refreshToken: '' });
      expect(lastAudit()).toMatchObject({
        action: 'token.exchange',
        outcome: 'success',
        actor: { kind: 'end_user', accountId, workspaceId, clientId },
        target: { type: 'connection', id },
        detail: { by: 'resource', client_id: clientId },
      });
      expect(JSON.stringify(audited)).not.toContain('at-1');
      now += 600_000;
      expect(await exchange(subject, { resource: '', audience: 'svc' })).toMatchObject({ accessToken: 'at-1', expiresIn: 1200 });
    });

    it("refuses another workspace's connection, and a static credential", async () => {
      const subject = await withTokens();
      const { workspaceId } = (await authService.principalOf(subject)).user!;
      const theirs = await connect('another-workspace');
      // Another workspace's connection and one that does not exist get the same answer (no oracle).
      for (const id of [theirs, newId('conn', now)])
        await expectConnectError(exchange(subject, { resource: id }), Code.PermissionDenied, 'WORKSPACE_FORBIDDEN');
      expect(audited.slice(-2).map((e) => [e.outcome, e.reason])).toEqual([
        ['denied', 'WORKSPACE_FORBIDDEN'],
        ['denied', 'WORKSPACE_FORBIDDEN'],
      ]);
      const apiKeyProvider = {
        name: 'keyed',
        authType: 'API_KEY' as const,
        apiKey: { location: 'header' as const, name: 'X-Key', prefix: '', field: 'api_key' },
      };
      const keyed = await connect(workspaceId, apiKeyProvider, { api_key: 'sk-static' });
      const err = await expectConnectError(exchange(subject, { resource: keyed }), Code.FailedPrecondition, 'EXCHANGE_STATIC_CREDENTIAL');
      expect(err.rawMessage).not.toContain('sk-static');
    });

    it('refuses a wrong client secret, before anything is audited', async () => {
      await expectConnectError(exchange(await withTokens(), { clientSecret: `${clientSecret}x` }), Code.Unauthenticated, 'CLIENT_AUTHENTICATION_FAILED');
      expect(audited.filter((e) => e.action === 'token.exchange')).toEqual([]);
    });

    it('refuses a public client, and a malformed request', async () => {
      const subject = await withTokens();
      await expectConnectError(exchange(subject, { clientId: publicClientId, clientSecret: '' }), Code.PermissionDenied, 'EXCHANGE_CLIENT_NOT_ALLOWED');
      expect(lastAudit()).toMatchObject({ action: 'token.exchange', outcome: 'denied', reason: 'EXCHANGE_CLIENT_NOT_ALLOWED', actor: { kind: 'system' } });
      await expectConnectError(exchange(''), Code.InvalidArgument, 'INVALID_FIELD');
      await expectConnectError(
        exchange(subject, { subjectTokenType: 'urn:ietf:params:oauth:token-type:id_token' }),
        Code.InvalidArgument,
        'SUBJECT_TOKEN_TYPE_UNSUPPORTED',
      );
      await expectConnectError(
        exchange(subject, { requestedTokenType: 'urn:ietf:params:oauth:token-type:refresh_token' }),
        Code.InvalidArgument,
        'SUBJECT_TOKEN_TYPE_UNSUPPORTED',
      );
      await expectConnectError(exchange(subject, { audience: 'svc' }), Code.InvalidArgument, 'INVALID_FIELD');
      await expectConnectError(exchange(subject, { resource: '' }), Code.InvalidArgument, 'INVALID_FIELD');
      await expectConnectError(exchange(subject, { resource: `${CONNECTION_URN_PREFIX}${'x'.repeat(65)}` }), Code.NotFound, 'EXCHANGE_TARGET_NOT_FOUND');
      expect(lastAudit()).toMatchObject({ outcome: 'denied', reason: 'EXCHANGE_TARGET_NOT_FOUND', actor: { kind: 'end_user', clientId } });
    });

    it('refuses a subject token that is forged, expired, of an ended session, of another client, or without the tokens scope', async () => {
      await expectConnectError(exchange('not-a-token'), Code.InvalidArgument, 'SUBJECT_TOKEN_INVALID');
      const noTokensScope = (await signIn()).accessToken;
      await expectConnectError(exchange(noTokensScope), Code.PermissionDenied, 'SCOPE_MISSING');
      // Issued to the public client: another client may not spend it.
      const verifier = pkceVerifier();
      const publicTokens = await api.exchangeToken({
        grantType: 'authorization_code',
        clientId: publicClientId,
        code: await code(verifier),
        redirectUri: REDIRECT,
        codeVerifier: verifier,
      });
      const err = await expectConnectError(exchange(publicTokens.accessToken), Code.InvalidArgument, 'SUBJECT_TOKEN_INVALID');
      expect(err.rawMessage).toContain('another client');
      const revoked = await signIn({ scopes: ['tokens'] });
      await api.revoke({ clientId, clientSecret, token: revoked.refreshToken });
      await expectConnectError(exchange(revoked.accessToken), Code.InvalidArgument, 'SUBJECT_TOKEN_INVALID');
      const subject = await withTokens();
      now += 900_001;
      expect((await expectConnectError(exchange(subject), Code.InvalidArgument, 'SUBJECT_TOKEN_INVALID')).rawMessage).toContain('expired');
      expect(lastAudit()).toMatchObject({ outcome: 'denied', reason: 'SUBJECT_TOKEN_INVALID', detail: { client_id: clientId } });
      expect(JSON.stringify(audited)).not.toContain(subject);
    });

    it('refuses an audience naming no provider, no live connection, or more than one', async () => {
      const subject = await withTokens();
      const { workspaceId } = (await authService.principalOf(subject)).user!;
      await expectConnectError(exchange(subject, { resource: '', audience: 'nope' }), Code.NotFound, 'EXCHANGE_TARGET_NOT_FOUND');
      const provider = providerRow({ projectId: DEFAULT_PROJECT_ID, name: 'svc' });
      await store.providers.insert(provider);
      const connect = (ws: string, status: ConnectionRow['status']) => {
        const id = newId('conn', now);
        store.rows.connections.set(id, { id, projectId: DEFAULT_PROJECT_ID, workspaceId: ws, providerId: provider.id, status } as ConnectionRow);
      };
      connect(workspaceId, 'REVOKED');
      connect(workspaceId, 'PENDING');
      connect('another-workspace', 'ACTIVE');
      await expectConnectError(exchange(subject, { resource: '', audience: 'svc' }), Code.NotFound, 'EXCHANGE_TARGET_NOT_FOUND');
      connect(workspaceId, 'ACTIVE');
      connect(workspaceId, 'ATTENTION_REQUIRED');
      await expectConnectError(exchange(subject, { resource: '', audience: provider.id }), Code.FailedPrecondition, 'EXCHANGE_TARGET_AMBIGUOUS');
      expect(lastAudit()).toMatchObject({ projectId: DEFAULT_PROJECT_ID, outcome: 'denied', reason: 'EXCHANGE_TARGET_AMBIGUOUS' });
    });
  });
});
