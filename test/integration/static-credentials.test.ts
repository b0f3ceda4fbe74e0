import { randomBytes } from 'node:crypto';
import { Code, type ConnectError } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadRequestSchema, ErrorInfoSchema } from '../../gen/ts/google/rpc/error_details_pb.js';
import { ConnectionStatus } from '../../gen/ts/nexus/v1/connection_pb.js';
import { ApiKeyLocation, AuthType } from '../../gen/ts/nexus/v1/provider_pb.js';
import { StrategyType } from '../../gen/ts/nexus/v1/token_pb.js';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { apiKeyProvider, basicAuthProvider } from '../support/fixtures.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';

/** A fresh secret-looking value; every one is checked against responses, columns and logs. */
const secrets: string[] = [];
function secret(prefix: string): string {
  const value = `${prefix}${randomBytes(12).toString('hex')}`;
  secrets.push(value);
  return value;
}

function encodings(value: string): string[] {
  const b = Buffer.from(value);
  return [value, b.toString('base64'), b.toString('base64url'), b.toString('hex')];
}

/** Capture states are bearer authority over a pending connection: they must not be logged either. */
const states: string[] = [];

/** A custom schema: a secret key, a second secret, and non-secret extras. */
const CUSTOM_SCHEMA = {
  type: 'object',
  required: ['api_key', 'account_id'],
  additionalProperties: false,
  properties: {
    api_key: { type: 'string', title: 'Secret key', format: 'password', pattern: '^sk_' },
    account_id: { type: 'string', title: 'Account ID', minLength: 3 },
    webhook_secret: { type: 'string', title: 'Webhook secret', format: 'password' },
    site: { type: 'string', title: 'Site' },
  },
};

function violationText(err: ConnectError): string {
  const info = err.findDetails(ErrorInfoSchema)[0];
  return `${err.rawMessage} ${JSON.stringify(info?.metadata ?? {})} ${JSON.stringify(fieldViolations(err))}`;
}

/** The google.rpc.BadRequest detail's (field, description) pairs. */
function fieldViolations(err: ConnectError): { field: string; description: string }[] {
  return err.findDetails(BadRequestSchema).flatMap((b) => b.fieldViolations.map((v) => ({ field: v.field, description: v.description })));
}

describe.each(BACKENDS)('static credential capture (%s)', (backend) => {
  let nexus: TestApp;
  let admin: Clients;
  /** The capture page and the schema/submit RPCs carry no API key: the state is the authority. */
  let anon: Clients;

  beforeAll(async () => {
    // oauth-elsewhere's endpoints (127.0.0.1:9) are never called, but an OAuth
    // connection is only created for a provider whose endpoints the outbound policy allows.
    nexus = await startTestApp({ backend, config: { outboundAllowedHosts: ['127.0.0.1:9'] } });
    admin = clients(nexus.baseUrl, ADMIN_KEY);
    anon = clients(nexus.baseUrl);
    await admin.providers.createProvider({ provider: apiKeyProvider() }); // acme-api, X-Acme-Key header
    await admin.providers.createProvider({ provider: basicAuthProvider() }); // legacy-crm
    await admin.providers.createProvider({
      provider: {
        name: 'aws-s3',
        displayName: 'Amazon S3',
        authType: AuthType.AWS_SIGV4,
        enabled: true,
        awsSigv4: { service: 's3', defaultRegion: 'eu-west-1' },
      },
    });
    await admin.providers.createProvider({ provider: { name: 'bearer-svc', authType: AuthType.BEARER, enabled: true } });
    await admin.providers.createProvider({
      provider: apiKeyProvider({
        name: 'custom-api',
        displayName: 'Custom API',
        credentialSchema: CUSTOM_SCHEMA,
        apiKey: { location: ApiKeyLocation.QUERY, name: 'key', prefix: 'Key ' },
      }),
    });
    await admin.providers.createProvider({
      provider: {
        name: 'oauth-elsewhere',
        authType: AuthType.OAUTH2,
        enabled: true,
        oauth2: { clientId: 'c', clientSecret: secret('cs_'), authorizationUrl: 'http://127.0.0.1:9/authorize', tokenUrl: 'http://127.0.0.1:9/token' },
      },
    });
  });
  afterAll(async () => {
    await nexus?.close();
  });

  async function start(provider: string, workspaceId: string) {
    const created = await admin.connections.createConnection({ workspaceId, provider: { case: 'providerName', value: provider }, returnUrl: RETURN_URL });
    states.push(created.state);
    return { created, id: created.connection!.id, state: created.state };
  }

  async function sealedCredentials(id: string): Promise<string | null> {
    const rows = (await nexus.app.database.dataSource.query(`SELECT credentials_sealed FROM connections WHERE id = $1`, [id])) as {
      credentials_sealed: string | null;
    }[];
    expect(rows).toHaveLength(1);
    return rows[0]!.credentials_sealed;
  }

  it('captures an API key: schema, invalid submits that keep the state, success, single use, token', async () => {
    const apiKey = secret('ak_');
    const other = secret('other_');
    const { created, id, state } = await start('acme-api', 'ws-apikey');
    expect(state).not.toBe('');
    expect(created.authUrl).toBe(`${nexus.baseUrl}/manage/capture?state=${encodeURIComponent(state)}`);
    expect(new URL(created.authUrl).searchParams.get('state')).toBe(state);
    expect(created.connection?.status).toBe(ConnectionStatus.PENDING);
    expect(created.connection?.statusReason).toBe('credentials_required');

    // The schema can be read repeatedly: it does not consume the state.
    for (let i = 0; i < 2; i++) {
      const schema = await anon.connections.getCredentialSchema({ state });
      expect(schema.connectionId).toBe(id);
      expect(schema.providerName).toBe('acme-api');
      expect(schema.providerDisplayName).toBe('Acme API');
      expect(schema.schema).toMatchObject({ type: 'object', required: ['api_key'], properties: { api_key: { type: 'string', format: 'password' } } });
    }

    // Missing field, extra property, wrong type: each names the field, never the value.
    const missing = await expectConnectError(anon.connections.submitCredentials({ state, credentials: {} }), Code.InvalidArgument, 'CREDENTIALS_INVALID');
    expect(violationText(missing)).toContain('api_key');
    const extra = await expectConnectError(
      anon.connections.submitCredentials({ state, credentials: { api_key: apiKey, surprise_field: other } }),
      Code.InvalidArgument,
      'CREDENTIALS_INVALID',
    );
    expect(violationText(extra)).toContain('surprise_field');
    const wrongType = await expectConnectError(
      anon.connections.submitCredentials({ state, credentials: { api_key: 4242424242 } }),
      Code.InvalidArgument,
      'CREDENTIALS_INVALID',
    );
    expect(violationText(wrongType)).toContain('api_key');
    expect(wrongType.findDetails(ErrorInfoSchema)[0]?.metadata.violations).toContain('/api_key');
    // Structured violations: one (field path, rule) pair each, in a google.rpc.BadRequest.
    expect(fieldViolations(missing)).toEqual([{ field: 'credentials.api_key', description: 'is required' }]);
    expect(fieldViolations(extra)).toEqual([{ field: 'credentials.surprise_field', description: 'is not a known property' }]);
    expect(fieldViolations(wrongType)).toEqual([{ field: 'credentials.api_key', description: 'must be string' }]);
    for (const err of [missing, extra, wrongType]) {
      for (const v of [apiKey, other, '4242424242']) expect(violationText(err)).not.toContain(v);
    }
    // Still pending, still no token, and nothing sealed yet.
    expect((await admin.connections.getConnection({ connectionId: id })).connection?.status).toBe(ConnectionStatus.PENDING);
    await expectConnectError(admin.tokens.getToken({ connectionId: id }), Code.FailedPrecondition, 'CONNECTION_NOT_ACTIVE');
    expect(await sealedCredentials(id)).toBeNull();

    // The same state, corrected: accepted.
    const submitted = await anon.connections.submitCredentials({ state, credentials: { api_key: apiKey } });
    expect(submitted.redirectUrl).toBe(`${RETURN_URL}?status=success&connection_id=${id}`);
    expect(submitted.connection?.id).toBe(id);
    expect(submitted.connection?.status).toBe(ConnectionStatus.ACTIVE);
    expect((await admin.connections.getConnection({ connectionId: id })).connection?.status).toBe(ConnectionStatus.ACTIVE);

    // Single use.
    await expectConnectError(
      anon.connections.submitCredentials({ state, credentials: { api_key: secret('ak_replay_') } }),
      Code.FailedPrecondition,
      'STATE_ALREADY_USED',
    );
    await expectConnectError(anon.connections.getCredentialSchema({ state }), Code.FailedPrecondition, 'STATE_ALREADY_USED');

    const token = (await admin.tokens.getToken({ connectionId: id })).credential!;
    expect(token.connectionId).toBe(id);
    expect(token.strategy?.type).toBe(StrategyType.API_KEY);
    expect(token.strategy?.apiKey).toMatchObject({ location: ApiKeyLocation.HEADER, name: 'X-Acme-Key', prefix: '', field: 'api_key' });
    expect(token.credentials).toEqual({ case: 'apiKey', value: expect.objectContaining({ apiKey }) });
    expect(token.expireTime).toBeUndefined();
    expect(token.extra ?? {}).toEqual({});

    await expectConnectError(admin.tokens.refreshToken({ connectionId: id }), Code.FailedPrecondition, 'STATIC_CREDENTIAL');

    const sealed = await sealedCredentials(id);
    expect(sealed).toBeTruthy();
    for (const enc of encodings(apiKey)) expect(sealed).not.toContain(enc);
  });

  it('captures basic auth', async () => {
    const password = secret('pw_');
    const { id, state } = await start('legacy-crm', 'ws-basic');
    const schema = await anon.connections.getCredentialSchema({ state });
    expect(schema.schema).toMatchObject({
      required: ['username', 'password'],
      properties: { username: { type: 'string' }, password: { type: 'string', format: 'password' } },
    });
    const err = await expectConnectError(anon.connections.submitCredentials({ state, credentials: { password } }), Code.InvalidArgument, 'CREDENTIALS_INVALID');
    expect(violationText(err)).toContain('username');
    expect(violationText(err)).not.toContain(password);
    const res = await anon.connections.submitCredentials({ state, credentials: { username: 'alice@example.com', password } });
    expect(res.redirectUrl).toBe(`${RETURN_URL}?status=success&connection_id=${id}`);
    const token = (await admin.tokens.getToken({ connectionId: id })).credential!;
    expect(token.strategy?.type).toBe(StrategyType.BASIC_AUTH);
    expect(token.credentials).toEqual({ case: 'basicAuth', value: expect.objectContaining({ username: 'alice@example.com', password }) });
    await expectConnectError(admin.tokens.refreshToken({ connectionId: id }), Code.FailedPrecondition, 'STATIC_CREDENTIAL');
    const sealed = await sealedCredentials(id);
    for (const enc of encodings(password)) expect(sealed).not.toContain(enc);
  });

  it('captures AWS SigV4 credentials, with the captured or the default region and the provider service', async () => {
    const secretKey = secret('aws_secret_');
    const sessionToken = secret('aws_session_');
    const first = await start('aws-s3', 'ws-aws-default');
    await anon.connections.submitCredentials({ state: first.state, credentials: { access_key_id: 'AKIAEXAMPLE1', secret_access_key: secretKey } });
    const t1 = (await admin.tokens.getToken({ connectionId: first.id })).credential!;
    expect(t1.strategy?.type).toBe(StrategyType.AWS_SIGV4);
    expect(t1.credentials).toEqual({
      case: 'awsSigv4',
      value: expect.objectContaining({ accessKeyId: 'AKIAEXAMPLE1', secretAccessKey: secretKey, sessionToken: '', region: 'eu-west-1', service: 's3' }),
    });

    const second = await start('aws-s3', 'ws-aws-region');
    await expectConnectError(
      anon.connections.submitCredentials({
        state: second.state,
        credentials: { access_key_id: 'AKIAEXAMPLE2', secret_access_key: secretKey, region: 'US EAST' },
      }),
      Code.InvalidArgument,
      'CREDENTIALS_INVALID',
    );
    await anon.connections.submitCredentials({
      state: second.state,
      credentials: { access_key_id: 'AKIAEXAMPLE2', secret_access_key: secretKey, session_token: sessionToken, region: 'us-east-2' },
    });
    const t2 = (await admin.tokens.getToken({ connectionId: second.id })).credential!;
    expect(t2.credentials).toEqual({
      case: 'awsSigv4',
      value: expect.objectContaining({ accessKeyId: 'AKIAEXAMPLE2', secretAccessKey: secretKey, sessionToken, region: 'us-east-2', service: 's3' }),
    });
    // The access key id is not secret in the default schema, but it is used, so it is not repeated in extra.
    expect(t2.extra ?? {}).toEqual({});
    await expectConnectError(admin.tokens.refreshToken({ connectionId: second.id }), Code.FailedPrecondition, 'STATIC_CREDENTIAL');
  });

  it('captures a bearer token', async () => {
    const bearer = secret('bt_');
    const { id, state } = await start('bearer-svc', 'ws-bearer');
    const schema = await anon.connections.getCredentialSchema({ state });
    expect(schema.schema).toMatchObject({ required: ['token'], properties: { token: { format: 'password' } } });
    await anon.connections.submitCredentials({ state, credentials: { token: bearer } });
    const token = (await admin.tokens.getToken({ connectionId: id })).credential!;
    expect(token.strategy?.type).toBe(StrategyType.BEARER);
    expect(token.credentials).toEqual({ case: 'bearer', value: expect.objectContaining({ token: bearer }) });
    await expectConnectError(admin.tokens.refreshToken({ connectionId: id }), Code.FailedPrecondition, 'STATIC_CREDENTIAL');
  });

  it("uses the provider's own schema: extras come back, format: password fields do not", async () => {
    const key = secret('sk_');
    const webhook = secret('whsec_');
    const { id, state } = await start('custom-api', 'ws-custom');
    const schema = await anon.connections.getCredentialSchema({ state });
    expect(schema.schema).toEqual(CUSTOM_SCHEMA);
    expect(schema.providerDisplayName).toBe('Custom API');

    // A pattern violation on the secret field names the field, not the value.
    const badKey = secret('pk_');
    const err = await expectConnectError(
      anon.connections.submitCredentials({ state, credentials: { api_key: badKey, account_id: 'acct_42' } }),
      Code.InvalidArgument,
      'CREDENTIALS_INVALID',
    );
    expect(violationText(err)).toContain('api_key');
    expect(violationText(err)).not.toContain(badKey);

    await anon.connections.submitCredentials({
      state,
      credentials: { api_key: key, account_id: 'acct_42', webhook_secret: webhook, site: 'eu' },
    });
    const token = (await admin.tokens.getToken({ connectionId: id })).credential!;
    expect(token.strategy?.type).toBe(StrategyType.API_KEY);
    expect(token.strategy?.apiKey).toMatchObject({ location: ApiKeyLocation.QUERY, name: 'key', prefix: 'Key ', field: 'api_key' });
    expect(token.credentials).toEqual({ case: 'apiKey', value: expect.objectContaining({ apiKey: key }) });
    expect(token.extra).toEqual({ account_id: 'acct_42', site: 'eu' });
    expect(JSON.stringify(token.extra)).not.toContain(webhook);
    const sealed = await sealedCredentials(id);
    for (const v of [key, webhook]) for (const enc of encodings(v)) expect(sealed).not.toContain(enc);
  });

  it('replaces the previous capture of the same workspace and provider', async () => {
    const oldKey = secret('ak_old_');
    const newKey = secret('ak_new_');
    const first = await start('acme-api', 'ws-rotate');
    await anon.connections.submitCredentials({ state: first.state, credentials: { api_key: oldKey } });
    const second = await start('acme-api', 'ws-rotate');
    // Starting a new capture does not disturb the active one.
    expect((await admin.tokens.getToken({ connectionId: first.id })).credential!.credentials.value).toMatchObject({ apiKey: oldKey });
    await anon.connections.submitCredentials({ state: second.state, credentials: { api_key: newKey } });
    const old = (await admin.connections.getConnection({ connectionId: first.id })).connection!;
    expect(old.status).toBe(ConnectionStatus.REVOKED);
    expect(old.supersededBy).toBe(second.id);
    await expectConnectError(admin.tokens.getToken({ connectionId: first.id }), Code.FailedPrecondition, 'CONNECTION_NOT_ACTIVE');
    expect(await sealedCredentials(first.id)).toBeNull();
    expect((await admin.tokens.getToken({ connectionId: second.id })).credential!.credentials.value).toMatchObject({ apiKey: newKey });
  });

  it('serves the capture page (the web app) without the state or any secret in it; the old URL redirects there', async () => {
    const { state } = await start('acme-api', 'ws-page');
    const query = `?state=${encodeURIComponent(state)}`;
    const res = await fetch(`${nexus.baseUrl}/manage/capture${query}`);
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toMatch(/<script type="module"[^>]* src="\/manage\/assets\/[^"]+\.js"/);
    expect(html).not.toContain(state);
    for (const s of [...secrets, ADMIN_KEY]) expect(html).not.toContain(s);

    // Capture URLs handed out before the web app keep working.
    const old = await fetch(`${nexus.baseUrl}/connect/capture${query}`, { redirect: 'manual' });
    expect(old.status).toBe(302);
    expect(old.headers.get('location')).toBe(`/manage/capture${query}`);
  });

  it('refuses a garbage, tampered, foreign or expired state', async () => {
    for (const state of ['', 'garbage', 'a.b.c', 'eyJhbGciOiJIUzI1NiJ9.e30.AAAA']) {
      await expectConnectError(anon.connections.getCredentialSchema({ state }), Code.InvalidArgument, 'STATE_INVALID');
      await expectConnectError(anon.connections.submitCredentials({ state, credentials: { api_key: 'x' } }), Code.InvalidArgument, 'STATE_INVALID');
    }
    const { id, state } = await start('acme-api', 'ws-tamper');
    const [h, p, s] = state.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, prj: 'prj_other' })).toString('base64url')}.${s}`;
    await expectConnectError(anon.connections.submitCredentials({ state: forged, credentials: { api_key: 'x' } }), Code.InvalidArgument, 'STATE_INVALID');
    const flipped = state.slice(0, -2) + (state.endsWith('AA') ? 'BB' : 'AA');
    await expectConnectError(anon.connections.getCredentialSchema({ state: flipped }), Code.InvalidArgument, 'STATE_INVALID');

    // An OAuth state is not a capture state.
    const oauth = await start('oauth-elsewhere', 'ws-oauth-state');
    await expectConnectError(anon.connections.getCredentialSchema({ state: oauth.state }), Code.InvalidArgument, 'STATE_INVALID');
    await expectConnectError(anon.connections.submitCredentials({ state: oauth.state, credentials: { api_key: 'x' } }), Code.InvalidArgument, 'STATE_INVALID');
    expect((await admin.connections.getConnection({ connectionId: oauth.id })).connection?.status).toBe(ConnectionStatus.PENDING);

    // Expired: the server-side row is past its lifetime.
    await nexus.app.database.dataSource.query(`UPDATE auth_states SET expires_at = now() - interval '1 second' WHERE connection_id = $1`, [id]);
    await expectConnectError(anon.connections.submitCredentials({ state, credentials: { api_key: 'x' } }), Code.FailedPrecondition, 'STATE_EXPIRED');
    expect((await admin.connections.getConnection({ connectionId: id })).connection?.status).toBe(ConnectionStatus.PENDING);
  });

  it('refuses a capture state on the OAuth callback route, leaving it usable for capture', async () => {
    const apiKey = secret('ak_cb_');
    const { id, state } = await start('acme-api', 'ws-callback');
    const res = await fetch(`${nexus.baseUrl}/oauth/callback?state=${encodeURIComponent(state)}&code=stolen`, { redirect: 'manual' });
    const body = await res.text();
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(body).toContain('ERROR_REASON_STATE_INVALID');
    expect((await admin.connections.getConnection({ connectionId: id })).connection?.status).toBe(ConnectionStatus.PENDING);
    const ok = await anon.connections.submitCredentials({ state, credentials: { api_key: apiKey } });
    expect(ok.connection?.status).toBe(ConnectionStatus.ACTIVE);
  });

  it('never wrote a captured secret, a state or an API key to the log', () => {
    expect(secrets.length).toBeGreaterThan(10);
    expect(states.length).toBeGreaterThan(10);
    const all = nexus.logs.join('\n');
    expect(all.length).toBeGreaterThan(0);
    // The capture page and the callback were requested with a state in the URL: it is logged redacted.
    expect(all).toContain('/connect/capture?state=');
    for (const value of [...secrets, ADMIN_KEY]) {
      for (const enc of encodings(value)) expect(all).not.toContain(enc);
    }
    for (const state of states) {
      expect(all).not.toContain(state);
      expect(all).not.toContain(encodeURIComponent(state));
      // Nor its signature alone.
      expect(all).not.toContain(state.split('.')[2]!);
    }
  });
});
