import http from 'node:http';
import type { JsonObject } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorInfoSchema } from '../../gen/ts/google/rpc/error_details_pb.js';
import { AuthType, ProviderService } from '../../gen/ts/nexus/v1/provider_pb.js';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { apiKeyProvider } from '../support/fixtures.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';

type OAuth2Init = {
  clientId?: string;
  clientSecret?: string;
  authorizationUrl?: string;
  tokenUrl?: string;
  issuer?: string;
  revocationUrl?: string;
  authorizeParams?: Record<string, string>;
};

function oauth(name: string, oauth2: OAuth2Init) {
  return { name, authType: AuthType.OAUTH2, enabled: true, oauth2: { clientId: 'client-v', ...oauth2 } };
}

const ENDPOINTS = { authorizationUrl: 'https://auth.example.com/authorize', tokenUrl: 'https://auth.example.com/token' };

/** Catches whatever the call throws, as a ConnectError. */
async function failure(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error('expected the call to fail');
}

describe.each(BACKENDS)('input validation (%s)', (backend) => {
  let nexus: TestApp;
  let admin: Clients;

  beforeAll(async () => {
    nexus = await startTestApp({ backend });
    admin = clients(nexus.baseUrl, ADMIN_KEY);
  });
  afterAll(async () => {
    await nexus?.close();
  });

  async function providerNames(): Promise<string[]> {
    return (await admin.providers.listProviders({ pageSize: 500 })).providers.map((p) => p.name);
  }

  it('refuses a provider name that is not a slug', async () => {
    for (const name of ['', 'Upper', 'has space', '-leading-dash', '_leading', 'dot.name', 'ünicode', 'a'.repeat(64), 'slash/name']) {
      const err = await expectConnectError(admin.providers.createProvider({ provider: apiKeyProvider({ name }) }), Code.InvalidArgument, 'INVALID_FIELD');
      expect(err.findDetails(ErrorInfoSchema)[0]?.metadata.field).toBe('provider.name');
    }
    // The longest valid slug is accepted, so the refusals above are about the shape.
    await admin.providers.createProvider({ provider: apiKeyProvider({ name: 'a'.repeat(63) }) });
    expect(await providerNames()).toEqual(['a'.repeat(63)]);
  });

  it('refuses a missing provider and a missing auth_type', async () => {
    await expectConnectError(admin.providers.createProvider({}), Code.InvalidArgument, 'INVALID_FIELD');
    const err = await expectConnectError(
      admin.providers.createProvider({ provider: { name: 'no-auth-type', enabled: true } }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    expect(err.findDetails(ErrorInfoSchema)[0]?.metadata.field).toBe('provider.auth_type');
    expect(await providerNames()).not.toContain('no-auth-type');
  });

  it('refuses an OAUTH2 provider without endpoints or issuer as PROVIDER_MISCONFIGURED', async () => {
    await expectConnectError(
      admin.providers.createProvider({ provider: { name: 'oauth-no-settings', authType: AuthType.OAUTH2, enabled: true } }),
      Code.InvalidArgument,
      'PROVIDER_MISCONFIGURED',
    );
    await expectConnectError(admin.providers.createProvider({ provider: oauth('oauth-nothing', {}) }), Code.InvalidArgument, 'PROVIDER_MISCONFIGURED');
    await expectConnectError(
      admin.providers.createProvider({ provider: oauth('oauth-no-token', { authorizationUrl: ENDPOINTS.authorizationUrl }) }),
      Code.InvalidArgument,
      'PROVIDER_MISCONFIGURED',
    );
    await expectConnectError(
      admin.providers.createProvider({ provider: oauth('oauth-no-authorize', { tokenUrl: ENDPOINTS.tokenUrl }) }),
      Code.InvalidArgument,
      'PROVIDER_MISCONFIGURED',
    );
    // Either full set is enough.
    await admin.providers.createProvider({ provider: oauth('oauth-endpoints', ENDPOINTS) });
    await admin.providers.createProvider({ provider: oauth('oauth-issuer', { issuer: 'https://issuer.example.com' }) });
    const names = await providerNames();
    expect(names).toContain('oauth-endpoints');
    expect(names).toContain('oauth-issuer');
    expect(names.filter((n) => n.startsWith('oauth-n'))).toEqual([]);
  });

  it('accepts http:// endpoints in development but refuses what is not a URL', async () => {
    expect(nexus.config.production).toBe(false);
    const created = await admin.providers.createProvider({
      provider: oauth('oauth-http', {
        authorizationUrl: 'http://127.0.0.1:9/authorize',
        tokenUrl: 'http://localhost:9/token',
        revocationUrl: 'http://localhost:9/revoke',
      }),
    });
    expect(created.provider?.oauth2?.tokenUrl).toBe('http://localhost:9/token');

    const bad: [keyof OAuth2Init, string][] = [
      ['authorizationUrl', 'not a url'],
      ['tokenUrl', '/relative/token'],
      ['tokenUrl', 'ftp://auth.example.com/token'],
      ['authorizationUrl', 'javascript:alert(1)'],
      ['tokenUrl', 'https://user:pass@auth.example.com/token'],
      ['revocationUrl', 'revoke-here'],
      ['issuer', 'issuer'],
    ];
    for (const [key, value] of bad) {
      const err = await expectConnectError(
        admin.providers.createProvider({ provider: oauth('oauth-bad-url', { ...ENDPOINTS, [key]: value }) }),
        Code.InvalidArgument,
        'INVALID_FIELD',
      );
      expect(err.findDetails(ErrorInfoSchema)[0]?.metadata.field).toMatch(/^provider\.oauth2\./);
    }
    await expectConnectError(
      admin.providers.createProvider({ provider: apiKeyProvider({ name: 'bad-logo', logoUrl: 'logo.png' }) }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    const names = await providerNames();
    expect(names).not.toContain('oauth-bad-url');
    expect(names).not.toContain('bad-logo');
  });

  it('refuses authorize params that would override protocol parameters', async () => {
    for (const reserved of ['state', 'redirect_uri', 'client_id', 'code_challenge', 'code_challenge_method', 'response_type', 'scope']) {
      const err = await expectConnectError(
        admin.providers.createProvider({ provider: oauth('oauth-reserved', { ...ENDPOINTS, authorizeParams: { [reserved]: 'x' } }) }),
        Code.InvalidArgument,
        'INVALID_FIELD',
      );
      expect(err.rawMessage).toContain(reserved);
    }
    const ok = await admin.providers.createProvider({
      provider: oauth('oauth-extra-params', { ...ENDPOINTS, authorizeParams: { access_type: 'offline', prompt: 'consent' } }),
    });
    expect(ok.provider?.oauth2?.authorizeParams).toEqual({ access_type: 'offline', prompt: 'consent' });
    expect(await providerNames()).not.toContain('oauth-reserved');
  });

  it('refuses an invalid credential JSON Schema as PROVIDER_MISCONFIGURED', async () => {
    const schemas: JsonObject[] = [
      { type: 'object', properties: { a: { type: 'nope' } } },
      { type: 'string' },
      { type: 'object' },
      { type: 'object', properties: { a: { type: 'string', minLength: 'three' } } },
      { type: 'object', properties: { a: { type: 'string', pattern: '(' } } },
    ];
    for (const credentialSchema of schemas) {
      await expectConnectError(
        admin.providers.createProvider({ provider: apiKeyProvider({ name: 'bad-schema', credentialSchema }) }),
        Code.InvalidArgument,
        'PROVIDER_MISCONFIGURED',
      );
    }
    // A post-OAuth fields schema is checked the same way.
    await expectConnectError(
      admin.providers.createProvider({
        provider: { ...oauth('bad-fields-schema', ENDPOINTS), postOauthFieldsSchema: { type: 'object', properties: { a: { type: 'nope' } } } },
      }),
      Code.InvalidArgument,
      'PROVIDER_MISCONFIGURED',
    );
    // The api_key field must be a property of the schema.
    await expectConnectError(
      admin.providers.createProvider({
        provider: apiKeyProvider({
          name: 'bad-schema',
          apiKey: { name: 'X-Key', field: 'token' },
          credentialSchema: { type: 'object', properties: { api_key: { type: 'string' } } },
        }),
      }),
      Code.InvalidArgument,
      'PROVIDER_MISCONFIGURED',
    );
    const names = await providerNames();
    expect(names).not.toContain('bad-schema');
    expect(names).not.toContain('bad-fields-schema');
  });

  /** Sends a 2 MiB CreateProvider on its own connection and returns the error. */
  async function oversized(name: string): Promise<ConnectError> {
    // Its own agent without keep-alive: the server answers before reading the body,
    // and the half-written socket must not go back to the shared pool.
    const agent = new http.Agent({ keepAlive: false });
    const providers = createClient(
      ProviderService,
      createConnectTransport({
        baseUrl: nexus.baseUrl,
        httpVersion: '1.1',
        nodeOptions: { agent },
        interceptors: [(next) => (req) => (req.header.set('authorization', `Bearer ${ADMIN_KEY}`), next(req))],
      }),
    );
    try {
      return await failure(providers.createProvider({ provider: apiKeyProvider({ name, description: 'x'.repeat(2 * 1024 * 1024) }) }));
    } finally {
      agent.destroy();
    }
  }

  it('refuses a request larger than 1 MiB with RESOURCE_EXHAUSTED', async () => {
    const err = await oversized('too-big');
    expect(Code[err.code]).toBe(Code[Code.ResourceExhausted]);
    expect(await providerNames()).not.toContain('too-big');
    // Just under the limit is read (and then refused by field validation, not by size).
    await expectConnectError(
      admin.providers.createProvider({ provider: apiKeyProvider({ name: 'big-desc', description: 'x'.repeat(900 * 1024) }) }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
  });

  // Connect enforces readMaxBytes before any interceptor runs; src/transport/protocol-errors.ts
  // gives the error its ErrorInfo.
  it('tags the too-large error with ErrorInfo REQUEST_TOO_LARGE', async () => {
    const err = await oversized('too-big-2');
    await expectConnectError(Promise.reject(err), Code.ResourceExhausted, 'REQUEST_TOO_LARGE');
  });

  const MALFORMED: [string, string, Record<string, string>][] = [
    ['ProviderService/ListProviders', '{not json', {}],
    ['ProviderService/ListProviders', '{"pageSize": "many"}', {}],
    ['ConnectionService/CreateConnection', '[1, 2, 3]', { authorization: `Bearer ${ADMIN_KEY}` }],
    ['TokenService/GetToken', '{"connectionId": ', { authorization: `Bearer ${ADMIN_KEY}` }],
    ['TokenService/GetToken', '{"minRemaining": "soon"}', { authorization: `Bearer ${ADMIN_KEY}` }],
    ['ConnectionService/SubmitCredentials', '{"state": "x", "credentials": "not an object"}', {}],
  ];

  async function postRaw(path: string, body: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${nexus.baseUrl}/nexus.v1.${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'connect-protocol-version': '1', ...headers },
      body,
    });
    const text = await res.text();
    return { status: res.status, text, json: JSON.parse(text) as { code: string; message?: string; details?: { type: string }[] } };
  }

  it('answers INVALID_ARGUMENT, not INTERNAL, to a malformed JSON body', async () => {
    for (const [path, body, headers] of MALFORMED) {
      const res = await postRaw(path, body, headers);
      expect({ path, body, status: res.status, code: res.json.code }).toEqual({ path, body, status: 400, code: 'invalid_argument' });
    }
    // An unknown enum name is not fatal: the request reaches validation, which names the field.
    const res = await postRaw('ProviderService/CreateProvider', '{"provider": {"name": "x", "authType": "NOT_AN_ENUM"}}', {
      authorization: `Bearer ${ADMIN_KEY}`,
    });
    expect(res.status).toBe(400);
    expect(res.json.code).toBe('invalid_argument');
  });

  // Body decoding fails in Connect's protocol layer, before the error interceptor;
  // src/transport/protocol-errors.ts adds the ErrorInfo.
  it('tags a malformed-body error with an ErrorInfo', async () => {
    for (const [path, body, headers] of MALFORMED) {
      const res = await postRaw(path, body, headers);
      expect(res.json.details?.map((d) => d.type) ?? [], `${path} ${body}: ${res.text}`).toContain('google.rpc.ErrorInfo');
    }
  });

  // Connect's JSON decoder quotes the offending value in its message ('cannot decode message
  // google.protobuf.Struct from JSON "sk_live_..."'); docs/architecture.md, "The error contract": no error message ever
  // contains a secret, so protocol-errors.ts replaces it with a generic one.
  it('does not echo a secret from a malformed body back in the error', async () => {
    const secret = 'sk_live_malformed_7f3e9a1b5c';
    const bodies = [
      JSON.stringify({ state: 'x', credentials: secret }),
      JSON.stringify({ state: 'x', credentials: { api_key: secret }, pageSize: secret }),
      JSON.stringify({ state: secret.length, credentials: { api_key: secret } }),
    ];
    for (const body of bodies) {
      const res = await postRaw('ConnectionService/SubmitCredentials', body);
      expect(res.status).toBe(400);
      expect(res.json.code).toBe('invalid_argument');
      expect(res.text, body).not.toContain(secret);
    }
    expect(nexus.logs.join('\n')).not.toContain(secret);
  });

  it('validates CreateConnection input', async () => {
    await admin.providers.createProvider({ provider: apiKeyProvider({ name: 'conn-target' }) });
    await admin.providers.createProvider({ provider: apiKeyProvider({ name: 'conn-disabled', enabled: false }) });
    const create = (over: { workspaceId?: string; provider?: string; scopes?: string[]; returnUrl?: string }) =>
      admin.connections.createConnection({
        workspaceId: over.workspaceId ?? 'ws-valid',
        provider: over.provider === '' ? { case: undefined } : { case: 'providerName', value: over.provider ?? 'conn-target' },
        scopes: over.scopes ?? [],
        returnUrl: over.returnUrl ?? RETURN_URL,
      });

    let err = await expectConnectError(create({ workspaceId: '' }), Code.InvalidArgument, 'INVALID_FIELD');
    expect(err.findDetails(ErrorInfoSchema)[0]?.metadata.field).toBe('workspace_id');
    err = await expectConnectError(create({ workspaceId: 'w'.repeat(300) }), Code.InvalidArgument, 'INVALID_FIELD');
    expect(err.findDetails(ErrorInfoSchema)[0]?.metadata.field).toBe('workspace_id');
    await expectConnectError(create({ workspaceId: 'tab\there' }), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(create({ provider: '' }), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(create({ returnUrl: '' }), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(create({ provider: 'no-such-provider' }), Code.NotFound, 'PROVIDER_NOT_FOUND');
    await expectConnectError(
      admin.connections.createConnection({ workspaceId: 'ws', provider: { case: 'providerId', value: 'prv_nope' }, returnUrl: RETURN_URL }),
      Code.NotFound,
      'PROVIDER_NOT_FOUND',
    );
    await expectConnectError(create({ provider: 'conn-disabled' }), Code.FailedPrecondition, 'PROVIDER_DISABLED');
    for (const scope of ['has space', '', 'quote"', 'back\\slash', 's'.repeat(257)]) {
      await expectConnectError(create({ scopes: ['ok', scope] }), Code.InvalidArgument, 'SCOPES_INVALID');
    }
    // Nothing was stored by the refused calls; the longest workspace id is fine.
    expect((await admin.connections.listConnections({ pageSize: 500 })).connections).toEqual([]);
    const ok = await create({ workspaceId: 'w'.repeat(256) });
    expect(ok.connection?.workspaceId).toBe('w'.repeat(256));
  });

  it('validates GetToken input', async () => {
    await expectConnectError(admin.tokens.getToken({ connectionId: '' }), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(admin.tokens.refreshToken({ connectionId: '' }), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(admin.tokens.getToken({ connectionId: 'c'.repeat(100) }), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(admin.connections.getConnection({ connectionId: '' }), Code.InvalidArgument, 'INVALID_FIELD');

    // A working static connection, so the margin is the only thing wrong below.
    await admin.providers.createProvider({ provider: apiKeyProvider({ name: 'token-target' }) });
    const created = await admin.connections.createConnection({
      workspaceId: 'ws-token',
      provider: { case: 'providerName', value: 'token-target' },
      returnUrl: RETURN_URL,
    });
    await admin.connections.submitCredentials({ state: created.state, credentials: { api_key: 'k_validation_1' } });
    const connectionId = created.connection!.id;
    const err = await expectConnectError(
      admin.tokens.getToken({ connectionId, minRemaining: { seconds: 7200n, nanos: 0 } }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    expect(err.findDetails(ErrorInfoSchema)[0]?.metadata.field).toBe('min_remaining');
    await expectConnectError(admin.tokens.getToken({ connectionId, minRemaining: { seconds: 3601n, nanos: 0 } }), Code.InvalidArgument, 'INVALID_FIELD');
    await expectConnectError(admin.tokens.getToken({ connectionId, minRemaining: { seconds: -1n, nanos: 0 } }), Code.InvalidArgument, 'INVALID_FIELD');
    const token = (await admin.tokens.getToken({ connectionId, minRemaining: { seconds: 3600n, nanos: 0 } })).credential!;
    expect(token.credentials.case).toBe('apiKey');
  });

  it('never answered INTERNAL: no unexpected error was logged', () => {
    const unexpected = nexus.logs.filter((line) => /unexpected error|"level":50/.test(line));
    expect(unexpected).toEqual([]);
  });
});
