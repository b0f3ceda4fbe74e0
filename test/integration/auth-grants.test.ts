import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HandoffIntent } from '../../gen/ts/nexus/v1/auth_pb.js';
import { ClientType, HandoffIpBinding } from '../../gen/ts/nexus/v1/client_pb.js';
import { hashSecret, pkceChallengeS256, pkceVerifier } from '../../src/crypto/index.js';
import { REDIRECT, registerClient, signInUser, siweFor, type TestClient } from '../support/auth-flows.js';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { newWallet } from '../support/siwe.js';
import { authClients, clients, startTestApp, type TestApp } from '../support/test-app.js';

describe.each(BACKENDS)('AuthService grants, revoke and handoff (%s)', (backend) => {
  let nexus: TestApp;
  let offsetMs = 0;
  let confidential: TestClient;
  let pub: TestClient;
  let relaxed: TestClient;
  const anon = () => authClients(nexus.baseUrl);

  beforeAll(async () => {
    nexus = await startTestApp({
      backend,
      clock: () => Date.now() + offsetMs,
      // The test talks from 127.0.0.1: trusting it lets X-Forwarded-For play other client IPs.
      config: { trustedProxies: ['127.0.0.1'] },
    });
    confidential = await registerClient(nexus.baseUrl, ClientType.CONFIDENTIAL);
    pub = await registerClient(nexus.baseUrl, ClientType.PUBLIC);
    relaxed = await registerClient(nexus.baseUrl, ClientType.CONFIDENTIAL, { handoffIpBinding: HandoffIpBinding.RELAXED });
  });
  beforeEach(() => {
    offsetMs = 0;
  });
  afterAll(async () => {
    await nexus?.close();
  });

  describe('client authentication', () => {
    it('accepts a confidential client by Basic header and by client_id/client_secret in the body', async () => {
      expect((await signInUser(nexus.baseUrl, confidential)).accessToken).toBeTruthy();
      const siwe = await siweFor(nexus.baseUrl, confidential.id, newWallet());
      const res = await anon().auth.authenticate({ ...siwe, clientId: confidential.id, clientSecret: confidential.secret });
      expect(res.refreshToken).toMatch(/^nxrt_/);
    });

    it('refuses a wrong secret, a missing secret, an unknown client, and a secret sent by a public client', async () => {
      const wallet = newWallet();
      const attempts = [
        { clientId: confidential.id, clientSecret: 'nxcs_wrong' },
        { clientId: confidential.id, clientSecret: '' },
        { clientId: 'cli_01JZZZZZZZZZZZZZZZZZZZZZZZ', clientSecret: 'x' },
        { clientId: pub.id, clientSecret: 'anything' },
      ];
      for (const creds of attempts) {
        const siwe = await siweFor(nexus.baseUrl, confidential.id, wallet);
        const err = await expectConnectError(
          anon().auth.authenticate({ ...siwe, ...creds, responseType: 'code' }),
          Code.Unauthenticated,
          'CLIENT_AUTHENTICATION_FAILED',
        );
        expect(err.rawMessage).not.toContain('nxcs_wrong');
      }
      const wrongBasic = `Basic ${Buffer.from(`${confidential.id}:nope`).toString('base64')}`;
      const siwe = await siweFor(nexus.baseUrl, confidential.id, wallet);
      await expectConnectError(
        anon().auth.authenticate(siwe, { headers: { authorization: wrongBasic } }),
        Code.Unauthenticated,
        'CLIENT_AUTHENTICATION_FAILED',
      );
    });

    it('a public client authenticates by client_id alone but must use response_type code with PKCE', async () => {
      const siwe = await siweFor(nexus.baseUrl, pub.id, newWallet());
      await expectConnectError(anon().auth.authenticate({ ...siwe, clientId: pub.id }), Code.InvalidArgument, 'INVALID_FIELD');
      const fresh = await siweFor(nexus.baseUrl, pub.id, newWallet());
      await expectConnectError(
        anon().auth.authenticate({ ...fresh, clientId: pub.id, responseType: 'code', redirectUri: REDIRECT }),
        Code.InvalidArgument,
        'INVALID_FIELD',
      );
      await expectConnectError(
        anon().auth.authenticate({
          ...fresh,
          clientId: pub.id,
          responseType: 'code',
          codeChallenge: pkceChallengeS256(pkceVerifier()),
          redirectUri: 'https://evil.example.com/',
        }),
        Code.InvalidArgument,
        'REDIRECT_URI_NOT_ALLOWED',
      );
    });
  });

  describe('SIWE nonces and messages over the wire', () => {
    it('a nonce is single-use: replaying the same signed message is refused', async () => {
      const siwe = await siweFor(nexus.baseUrl, confidential.id, newWallet());
      await anon().auth.authenticate(siwe, { headers: { authorization: confidential.basic } });
      await expectConnectError(anon().auth.authenticate(siwe, { headers: { authorization: confidential.basic } }), Code.Unauthenticated, 'NONCE_INVALID');
    });

    it('refuses a nonce the server never issued, one issued to another client, and one older than 5 minutes', async () => {
      const wallet = newWallet();
      const made = await siweFor(nexus.baseUrl, confidential.id, wallet);
      const invented = { ...made, ...(await import('../support/siwe.js').then((m) => m.signIn(wallet, nexus.baseUrl, 'a1b2c3d4e5f6a7b8'))) };
      await expectConnectError(anon().auth.authenticate(invented, { headers: { authorization: confidential.basic } }), Code.Unauthenticated, 'NONCE_INVALID');
      const otherClients = await siweFor(nexus.baseUrl, relaxed.id, wallet);
      await expectConnectError(
        anon().auth.authenticate(otherClients, { headers: { authorization: confidential.basic } }),
        Code.Unauthenticated,
        'NONCE_INVALID',
      );
      const old = await siweFor(nexus.baseUrl, confidential.id, wallet);
      offsetMs = 5 * 60_000 + 1_000;
      await expectConnectError(anon().auth.authenticate(old, { headers: { authorization: confidential.basic } }), Code.Unauthenticated, 'NONCE_INVALID');
    });

    it('refuses a wrong domain, a wrong URI, a wrong chain, an expired message and a tampered signature, without using up the nonce', async () => {
      const wallet = newWallet();
      const headers = { authorization: confidential.basic };
      const cases: [Parameters<typeof siweFor>[3], string][] = [
        [{ domain: 'evil.example.com' }, 'SIWE_DOMAIN_MISMATCH'],
        [{ uri: 'https://evil.example.com/login' }, 'SIWE_DOMAIN_MISMATCH'],
        [{ chainId: 137 }, 'SIWE_CHAIN_MISMATCH'],
        [{ expirationTime: new Date(Date.now() - 1000), issuedAt: new Date(Date.now() - 60_000) }, 'SIWE_EXPIRED'],
      ];
      for (const [overrides, reason] of cases) {
        const siwe = await siweFor(nexus.baseUrl, confidential.id, wallet, overrides);
        await expectConnectError(anon().auth.authenticate(siwe, { headers }), Code.Unauthenticated, reason);
      }
      const siwe = await siweFor(nexus.baseUrl, confidential.id, wallet);
      const tampered = siwe.signature.slice(0, -4) + (siwe.signature.endsWith('aaaa') ? 'bbbb' : 'aaaa');
      await expectConnectError(anon().auth.authenticate({ ...siwe, signature: tampered }, { headers }), Code.Unauthenticated, 'SIWE_SIGNATURE_INVALID');
      // The refused attempt did not consume the nonce: the genuine signature still works once.
      expect((await anon().auth.authenticate(siwe, { headers })).accessToken).toBeTruthy();
    });
  });

  describe('sessions', () => {
    it("continues a session by session_id, and refuses another account's session", async () => {
      const wallet = newWallet();
      const first = await signInUser(nexus.baseUrl, confidential, [], wallet);
      const siwe = await siweFor(nexus.baseUrl, confidential.id, wallet);
      const again = await anon().auth.authenticate(
        { ...siwe, sessionId: first.sessionId, scopes: ['connections', 'tokens'] },
        { headers: { authorization: confidential.basic } },
      );
      expect(again.sessionId).toBe(first.sessionId);
      expect(again.scopes).toEqual(['connections', 'tokens']);
      expect(again.account?.id).toBe(first.account?.id);
      const stranger = await siweFor(nexus.baseUrl, confidential.id, newWallet());
      await expectConnectError(
        anon().auth.authenticate({ ...stranger, sessionId: first.sessionId }, { headers: { authorization: confidential.basic } }),
        Code.NotFound,
        'SESSION_NOT_FOUND',
      );
    });

    it('an access token stops working when it expires (15 minutes), with a message saying so', async () => {
      const user = await signInUser(nexus.baseUrl, confidential);
      expect(user.expiresIn).toBe(900);
      offsetMs = 901_000;
      const err = await expectConnectError(clients(nexus.baseUrl, user.accessToken).connections.listConnections({}), Code.Unauthenticated, 'UNAUTHENTICATED');
      expect(err.rawMessage).toMatch(/expired/);
    });

    it('refuses unknown scopes and lists the known ones', async () => {
      const siwe = await siweFor(nexus.baseUrl, confidential.id, newWallet());
      await expectConnectError(
        anon().auth.authenticate({ ...siwe, scopes: ['admin'] }, { headers: { authorization: confidential.basic } }),
        Code.InvalidArgument,
        'INVALID_FIELD',
      );
      const { scopes } = await anon().auth.listScopes({});
      expect(scopes.map((s) => s.name)).toEqual(['connections', 'tokens']);
    });
  });

  describe('authorization_code grant (PKCE)', () => {
    async function codeFor(client: TestClient, challenge: string) {
      const siwe = await siweFor(nexus.baseUrl, client.id, newWallet());
      return anon().auth.authenticate({
        ...siwe,
        clientId: client.id,
        responseType: 'code',
        codeChallenge: challenge,
        codeChallengeMethod: 'S256',
        redirectUri: REDIRECT,
      });
    }

    it('exchanges a code once with the right verifier and redirect URI; a second use is refused and ends the session', async () => {
      const verifier = pkceVerifier();
      const issued = await codeFor(pub, pkceChallengeS256(verifier));
      expect(issued.accessToken).toBe('');
      expect(issued.code).toBeTruthy();
      const stored = await nexus.app.store.oneTimeCodes.findByHash('authorization_code', hashSecret(issued.code));
      expect(stored?.codeHash).toBe(hashSecret(issued.code));
      const tokens = await anon().auth.exchangeToken({
        grantType: 'authorization_code',
        clientId: pub.id,
        code: issued.code,
        codeVerifier: verifier,
        redirectUri: REDIRECT,
      });
      expect(tokens.sessionId).toBe(issued.sessionId);
      await clients(nexus.baseUrl, tokens.accessToken).connections.listConnections({});
      await expectConnectError(
        anon().auth.exchangeToken({ grantType: 'authorization_code', clientId: pub.id, code: issued.code, codeVerifier: verifier, redirectUri: REDIRECT }),
        Code.InvalidArgument,
        'AUTHORIZATION_CODE_INVALID',
      );
      await expectConnectError(clients(nexus.baseUrl, tokens.accessToken).connections.listConnections({}), Code.Unauthenticated, 'UNAUTHENTICATED');
    });

    it('refuses a wrong verifier, a different redirect URI, another client, and an expired code', async () => {
      const verifier = pkceVerifier();
      const issued = await codeFor(pub, pkceChallengeS256(verifier));
      const base = { grantType: 'authorization_code', clientId: pub.id, code: issued.code, codeVerifier: verifier, redirectUri: REDIRECT };
      await expectConnectError(anon().auth.exchangeToken({ ...base, codeVerifier: pkceVerifier() }), Code.InvalidArgument, 'PKCE_VERIFICATION_FAILED');
      await expectConnectError(anon().auth.exchangeToken({ ...base, redirectUri: `${REDIRECT}/other` }), Code.InvalidArgument, 'REDIRECT_URI_MISMATCH');
      await expectConnectError(
        anon().auth.exchangeToken({ ...base, clientId: confidential.id, clientSecret: confidential.secret }),
        Code.InvalidArgument,
        'AUTHORIZATION_CODE_INVALID',
      );
      offsetMs = 61_000;
      await expectConnectError(anon().auth.exchangeToken(base), Code.InvalidArgument, 'AUTHORIZATION_CODE_INVALID');
      await expectConnectError(anon().auth.exchangeToken({ ...base, grantType: 'password' }), Code.InvalidArgument, 'UNSUPPORTED_GRANT_TYPE');
    });
  });

  describe('refresh_token grant', () => {
    it('rotates the refresh token on every use and keeps the session', async () => {
      const user = await signInUser(nexus.baseUrl, confidential);
      const headers = { authorization: confidential.basic };
      const next = await anon().auth.exchangeToken({ grantType: 'refresh_token', refreshToken: user.refreshToken }, { headers });
      expect(next.refreshToken).not.toBe(user.refreshToken);
      expect(next.sessionId).toBe(user.sessionId);
      const third = await anon().auth.exchangeToken({ grantType: 'refresh_token', refreshToken: next.refreshToken }, { headers });
      expect(third.refreshToken).not.toBe(next.refreshToken);
      const row = await nexus.app.store.refreshTokens.findByHash(hashSecret(third.refreshToken));
      expect(row?.tokenHash).not.toContain(third.refreshToken);
      expect(row?.sessionId).toBe(user.sessionId);
    });

    it('reuse of a rotated refresh token revokes the whole session', async () => {
      const user = await signInUser(nexus.baseUrl, confidential);
      const headers = { authorization: confidential.basic };
      const next = await anon().auth.exchangeToken({ grantType: 'refresh_token', refreshToken: user.refreshToken }, { headers });
      await expectConnectError(
        anon().auth.exchangeToken({ grantType: 'refresh_token', refreshToken: user.refreshToken }, { headers }),
        Code.InvalidArgument,
        'REFRESH_TOKEN_INVALID',
      );
      // The newest refresh token and every access token of the session are dead too.
      await expectConnectError(
        anon().auth.exchangeToken({ grantType: 'refresh_token', refreshToken: next.refreshToken }, { headers }),
        Code.InvalidArgument,
        'REFRESH_TOKEN_INVALID',
      );
      await expectConnectError(clients(nexus.baseUrl, next.accessToken).connections.listConnections({}), Code.Unauthenticated, 'UNAUTHENTICATED');
      expect((await nexus.app.store.sessions.findById(user.sessionId))?.revokeReason).toBe('refresh_token_reused');
    });

    it("refuses another client's refresh token without revoking it", async () => {
      const user = await signInUser(nexus.baseUrl, confidential);
      await expectConnectError(
        anon().auth.exchangeToken({ grantType: 'refresh_token', refreshToken: user.refreshToken }, { headers: { authorization: relaxed.basic } }),
        Code.InvalidArgument,
        'REFRESH_TOKEN_INVALID',
      );
      await anon().auth.exchangeToken({ grantType: 'refresh_token', refreshToken: user.refreshToken }, { headers: { authorization: confidential.basic } });
    });
  });

  describe('revoke (RFC 7009)', () => {
    const headers = () => ({ authorization: confidential.basic });

    it("revoking the refresh token ends the session's access tokens at once", async () => {
      const user = await signInUser(nexus.baseUrl, confidential);
      await clients(nexus.baseUrl, user.accessToken).connections.listConnections({});
      await anon().auth.revoke({ token: user.refreshToken, tokenTypeHint: 'refresh_token' }, { headers: headers() });
      await expectConnectError(clients(nexus.baseUrl, user.accessToken).connections.listConnections({}), Code.Unauthenticated, 'UNAUTHENTICATED');
      await expectConnectError(
        anon().auth.exchangeToken({ grantType: 'refresh_token', refreshToken: user.refreshToken }, { headers: headers() }),
        Code.InvalidArgument,
        'REFRESH_TOKEN_INVALID',
      );
    });

    it('revoking the access token ends the refresh token too; a wrong hint still finds the token', async () => {
      const user = await signInUser(nexus.baseUrl, confidential);
      await anon().auth.revoke({ token: user.accessToken, tokenTypeHint: 'access_token' }, { headers: headers() });
      await expectConnectError(clients(nexus.baseUrl, user.accessToken).connections.listConnections({}), Code.Unauthenticated, 'UNAUTHENTICATED');
      await expectConnectError(
        anon().auth.exchangeToken({ grantType: 'refresh_token', refreshToken: user.refreshToken }, { headers: headers() }),
        Code.InvalidArgument,
        'REFRESH_TOKEN_INVALID',
      );
      const other = await signInUser(nexus.baseUrl, confidential);
      await anon().auth.revoke({ token: other.accessToken, tokenTypeHint: 'refresh_token' }, { headers: headers() });
      await expectConnectError(clients(nexus.baseUrl, other.accessToken).connections.listConnections({}), Code.Unauthenticated, 'UNAUTHENTICATED');
    });

    it('an unknown token is not an error; another client cannot revoke; a bad hint is refused', async () => {
      await anon().auth.revoke({ token: 'nxrt_never_issued' }, { headers: headers() });
      const user = await signInUser(nexus.baseUrl, confidential);
      await anon().auth.revoke({ token: user.refreshToken }, { headers: { authorization: relaxed.basic } });
      await clients(nexus.baseUrl, user.accessToken).connections.listConnections({});
      await expectConnectError(
        anon().auth.revoke({ token: user.refreshToken, tokenTypeHint: 'id_token' }, { headers: headers() }),
        Code.InvalidArgument,
        'INVALID_FIELD',
      );
      await expectConnectError(anon().auth.revoke({ token: user.refreshToken }), Code.Unauthenticated, 'CLIENT_AUTHENTICATION_FAILED');
    });
  });

  describe('handoff', () => {
    const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });

    async function init(client: TestClient, ip = '198.51.100.7') {
      const user = await signInUser(nexus.baseUrl, client);
      return authClients(nexus.baseUrl, user.accessToken).auth.initHandoff({ redirectUri: REDIRECT, intent: HandoffIntent.CONNECTIONS }, from(ip));
    }

    it('a code still works at 29 s and has expired at 31 s (injected clock)', async () => {
      const early = await init(confidential);
      offsetMs = 29_000;
      await anon().auth.redeemHandoff({ code: early.code }, from('198.51.100.7'));
      offsetMs = 0;
      const late = await init(confidential);
      offsetMs = 31_000;
      await expectConnectError(anon().auth.redeemHandoff({ code: late.code }, from('198.51.100.7')), Code.FailedPrecondition, 'HANDOFF_CODE_EXPIRED');
    });

    it('refuses a second use, an unknown code, and another IP (distinct reasons)', async () => {
      const handoff = await init(confidential);
      await expectConnectError(anon().auth.redeemHandoff({ code: handoff.code }, from('203.0.113.50')), Code.PermissionDenied, 'HANDOFF_IP_MISMATCH');
      // The refused attempt from elsewhere did not use the code up.
      await anon().auth.redeemHandoff({ code: handoff.code }, from('198.51.100.7'));
      await expectConnectError(anon().auth.redeemHandoff({ code: handoff.code }, from('198.51.100.7')), Code.FailedPrecondition, 'HANDOFF_CODE_ALREADY_USED');
      await expectConnectError(anon().auth.redeemHandoff({ code: 'no-such-code' }), Code.NotFound, 'HANDOFF_CODE_INVALID');
    });

    it('a client with RELAXED binding redeems from another IP (server-side initiation)', async () => {
      const handoff = await init(relaxed, '192.0.2.10');
      const web = await anon().auth.redeemHandoff({ code: handoff.code }, from('203.0.113.99'));
      expect(web.clientId).toBe(relaxed.id);
    });

    it('needs a user token, an allowed redirect URI and an intent; a revoked session cannot be handed off', async () => {
      const user = await signInUser(nexus.baseUrl, confidential);
      const auth = authClients(nexus.baseUrl, user.accessToken).auth;
      await expectConnectError(
        auth.initHandoff({ redirectUri: 'https://evil.example.com/', intent: HandoffIntent.CONNECTIONS }),
        Code.InvalidArgument,
        'REDIRECT_URI_NOT_ALLOWED',
      );
      await expectConnectError(auth.initHandoff({ redirectUri: REDIRECT }), Code.InvalidArgument, 'INVALID_FIELD');
      await expectConnectError(
        authClients(nexus.baseUrl, (await import('../support/test-app.js')).ADMIN_KEY).auth.initHandoff({
          redirectUri: REDIRECT,
          intent: HandoffIntent.CONNECTIONS,
        }),
        Code.Unauthenticated,
        'UNAUTHENTICATED',
      );
      const handoff = await auth.initHandoff({ redirectUri: REDIRECT, intent: HandoffIntent.CONNECTIONS });
      await anon().auth.revoke({ token: user.refreshToken }, { headers: { authorization: confidential.basic } });
      await expectConnectError(anon().auth.redeemHandoff({ code: handoff.code }), Code.Unauthenticated, 'SESSION_NOT_FOUND');
    });

    it('the web session token carries only the connections scope and no refresh token', async () => {
      const user = await signInUser(nexus.baseUrl, confidential, ['connections', 'tokens']);
      const handoff = await authClients(nexus.baseUrl, user.accessToken).auth.initHandoff({ redirectUri: REDIRECT, intent: HandoffIntent.CONNECTIONS });
      const web = await anon().auth.redeemHandoff({ code: handoff.code });
      expect(web.scopes).toEqual(['connections']);
      await expectConnectError(
        clients(nexus.baseUrl, web.accessToken).tokens.getToken({ connectionId: 'conn_01JZZZZZZZZZZZZZZZZZZZZZZZ' }),
        Code.PermissionDenied,
        'SCOPE_MISSING',
      );
      // A web session cannot hand itself off again (that would outlive its lifetime).
      await expectConnectError(
        authClients(nexus.baseUrl, web.accessToken).auth.initHandoff({ redirectUri: REDIRECT, intent: HandoffIntent.CONNECTIONS }),
        Code.PermissionDenied,
        'SCOPE_MISSING',
      );
    });
  });

  describe('signing keys and stored secrets', () => {
    it('rotation: tokens signed by the old key keep verifying; new tokens carry the new kid, both in the JWKS', async () => {
      const before = await signInUser(nexus.baseUrl, confidential);
      const kid = await nexus.app.signingKeys.rotate();
      const after = await signInUser(nexus.baseUrl, confidential);
      const header = JSON.parse(Buffer.from(after.accessToken.split('.')[0]!, 'base64url').toString()) as { kid: string; alg: string };
      expect(header).toMatchObject({ kid, alg: 'ES256' });
      await clients(nexus.baseUrl, before.accessToken).connections.listConnections({});
      const jwks = (await (await fetch(`${nexus.baseUrl}/.well-known/jwks.json`)).json()) as { keys: { kid: string; d?: string }[] };
      expect(jwks.keys.map((k) => k.kid)).toContain(kid);
      expect(jwks.keys.length).toBeGreaterThanOrEqual(2);
      expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
    });

    it('stores the client secret, refresh tokens, nonces and codes only as hashes, and the private key sealed', async () => {
      const row = await nexus.app.store.clients.findAnyById(confidential.id);
      expect(row?.secretHash).toBe(hashSecret(confidential.secret));
      expect(JSON.stringify(row)).not.toContain(confidential.secret);
      const { nonce } = await anon().auth.getNonce({ clientId: confidential.id });
      expect(await nexus.app.store.oneTimeCodes.findByHash('nonce', nonce)).toBeNull();
      expect(await nexus.app.store.oneTimeCodes.findByHash('nonce', hashSecret(nonce))).not.toBeNull();
      const user = await signInUser(nexus.baseUrl, confidential);
      expect(await nexus.app.store.refreshTokens.findByHash(user.refreshToken)).toBeNull();
      const keys = await nexus.app.store.signingKeys.listAll();
      for (const k of keys) {
        expect(k.privateKeySealed).not.toContain('"d"');
        expect(k.publicJwk).not.toHaveProperty('d');
      }
      const dump = JSON.stringify(await nexus.app.database.dataSource.query('SELECT * FROM one_time_codes'));
      expect(dump).not.toContain(nonce);
    });
  });
});
