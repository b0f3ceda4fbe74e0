import { Writable } from 'node:stream';
import { create, ScalarType, toJsonString, type DescField, type DescMessage, type DescMethod, type DescService } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, type Transport } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorInfoSchema } from '../../gen/ts/google/rpc/error_details_pb.js';
import { AuthService } from '../../gen/ts/nexus/v1/auth_pb.js';
import { ClientService } from '../../gen/ts/nexus/v1/client_pb.js';
import { ConnectionService, ConnectionStatus } from '../../gen/ts/nexus/v1/connection_pb.js';
import { ProviderService } from '../../gen/ts/nexus/v1/provider_pb.js';
import { TokenService } from '../../gen/ts/nexus/v1/token_pb.js';
import { createLogger } from '../../src/logging.js';
import { toConnectError } from '../../src/transport/error-mapper.js';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { apiKeyProvider } from '../support/fixtures.js';
import { ADMIN_KEY, RETURN_URL, clients, startTestApp, transport, type TestApp } from '../support/test-app.js';

/** Every service the server publishes, from the generated descriptors: a new RPC is covered without being listed. */
const SERVICES: DescService[] = [ProviderService, ConnectionService, TokenService, AuthService, ClientService];

/** One place in a request message where a value can go: its path (proto names) and the request that puts `leaf` there. */
interface Slot {
  path: string;
  build: (leaf: unknown) => Record<string, unknown>;
}

/**
 * Every string (or enum) slot of a message type, through nested messages,
 * repeated fields, maps (keys and values) and Struct values, by reflection.
 */
function slots(desc: DescMessage, kind: 'string' | 'enum', depth = 0): Slot[] {
  const out: Slot[] = [];
  for (const f of desc.fields) {
    const put = (inner: (leaf: unknown) => unknown) => (leaf: unknown) =>
      f.oneof ? { [f.oneof.localName]: { case: f.localName, value: inner(leaf) } } : { [f.localName]: inner(leaf) };
    const nested = (message: DescMessage, prefix: string, wrap: (v: unknown) => unknown) => {
      if (depth >= 4) return;
      if (message.typeName === 'google.protobuf.Struct') {
        // A Struct is a JSON object in the generated types; a string member is Value.string_value.
        if (kind === 'string') out.push({ path: `${prefix}.fields["k"].string_value`, build: put((leaf) => wrap({ k: leaf })) });
        return;
      }
      for (const sub of slots(message, kind, depth + 1)) out.push({ path: `${prefix}.${sub.path}`, build: put((leaf) => wrap(sub.build(leaf))) });
    };
    const isString = (scalar: ScalarType | undefined) => kind === 'string' && scalar === ScalarType.STRING;
    switch (f.fieldKind) {
      case 'scalar':
        if (isString(f.scalar)) out.push({ path: f.name, build: put((leaf) => leaf) });
        break;
      case 'enum':
        if (kind === 'enum') out.push({ path: f.name, build: put((leaf) => leaf) });
        break;
      case 'list':
        if (f.listKind === 'message') nested(f.message, `${f.name}[0]`, (v) => [v]);
        else if (isString(f.scalar) || (f.listKind === 'enum' && kind === 'enum')) out.push({ path: `${f.name}[0]`, build: put((leaf) => [leaf]) });
        break;
      case 'map':
        if (isString(f.mapKey)) out.push({ path: `${f.name} key`, build: put((leaf) => ({ [leaf as string]: mapValue(f) })) });
        if (f.mapKind === 'message') nested(f.message, `${f.name}["k"]`, (v) => ({ k: v }));
        else if (isString(f.mapKind === 'scalar' ? f.scalar : undefined) || (f.mapKind === 'enum' && kind === 'enum')) {
          out.push({ path: `${f.name}["k"]`, build: put((leaf) => ({ k: leaf })) });
        }
        break;
      case 'message':
        nested(f.message, f.name, (v) => v);
        break;
    }
  }
  return out;
}

/** A harmless value for a map entry whose key is under test. */
function mapValue(f: DescField & { fieldKind: 'map' }): unknown {
  if (f.mapKind === 'message') return {};
  if (f.mapKind === 'enum') return f.enum.values.at(-1)!.number;
  return f.scalar === ScalarType.STRING ? 'v' : 0;
}

/** Calls any unary or server-streaming method and returns what it threw (undefined when it succeeded). */
async function call(t: Transport, service: DescService, method: DescMethod, message: Record<string, unknown>): Promise<ConnectError | undefined> {
  const client = createClient(service, t) as unknown as Record<string, (m: unknown, o?: unknown) => unknown>;
  const abort = new AbortController();
  try {
    const result = client[method.localName]!(message, { signal: abort.signal });
    if (method.methodKind === 'server_streaming') {
      for await (const _ of result as AsyncIterable<unknown>) break;
    } else {
      await result;
    }
    return undefined;
  } catch (err) {
    return ConnectError.from(err);
  } finally {
    abort.abort();
  }
}

function reasonAndField(err: ConnectError | undefined) {
  const info = err?.findDetails(ErrorInfoSchema)[0];
  return { code: err ? Code[err.code] : 'OK', reason: info?.reason, field: info?.metadata.field };
}

const methods = SERVICES.flatMap((service) => service.methods.map((method) => ({ service, method })));

describe.each(BACKENDS)('bad input (%s)', (backend) => {
  let nexus: TestApp;
  let json: Transport;

  beforeAll(async () => {
    nexus = await startTestApp({ backend });
    json = transport(nexus.baseUrl, 'connect', ADMIN_KEY);
    await clients(nexus.baseUrl, ADMIN_KEY).providers.createProvider({ provider: apiKeyProvider() });
  });
  afterAll(async () => {
    await nexus?.close();
  });

  it('covers every method of every service', () => {
    expect(methods.length).toBeGreaterThanOrEqual(32);
    const withStrings = methods.filter(({ method }) => slots(method.input, 'string').length > 0);
    expect(withStrings.length).toBeGreaterThanOrEqual(25);
  });

  it('every string field of every RPC refuses a NUL and a lone surrogate with INVALID_ARGUMENT naming the field', async () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const { service, method } of methods) {
      for (const slot of slots(method.input, 'string')) {
        const want = { code: 'InvalidArgument', reason: 'ERROR_REASON_INVALID_FIELD', field: slot.path };
        const got = reasonAndField(await call(json, service, method, slot.build('a\u0000b')));
        if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`${method.name} ${slot.path} (NUL): ${JSON.stringify(got)}`);
        checked++;
        // A lone surrogate only travels in JSON text (UTF-8 cannot carry one): sent as a raw Connect JSON body.
        if (method.methodKind !== 'unary') continue;
        const text = toJsonString(method.input, create(method.input, slot.build('a\ud800b')));
        expect(text).toContain('\\ud800');
        const res = await postJson(`${service.name}/${method.name}`, text);
        const surrogate = { code: res.body.code, field: fieldOf(res.body) };
        if (surrogate.code !== 'invalid_argument' || surrogate.field !== slot.path) {
          wrong.push(`${method.name} ${slot.path} (lone surrogate): ${JSON.stringify(surrogate)}`);
        }
        checked++;
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(100);
  });

  it('a NUL sent over gRPC (binary) is refused the same way, unauthenticated calls included', async () => {
    const grpc = transport(nexus.baseUrl, 'grpc');
    const err = await call(grpc, ProviderService, ProviderService.method.getProvider, { provider: 'acme\u0000' });
    expect(reasonAndField(err)).toEqual({ code: 'InvalidArgument', reason: 'ERROR_REASON_INVALID_FIELD', field: 'provider' });
    const anonymous = transport(nexus.baseUrl, 'connect');
    const err2 = await call(anonymous, AuthService, AuthService.method.getNonce, { clientId: 'c\u0000' });
    expect(reasonAndField(err2)).toMatchObject({ code: 'InvalidArgument', reason: 'ERROR_REASON_INVALID_FIELD' });
  });

  it('every enum field of every RPC refuses an unknown number with INVALID_ARGUMENT naming the field', async () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const { service, method } of methods) {
      for (const slot of slots(method.input, 'enum')) {
        const got = reasonAndField(await call(json, service, method, slot.build(99)));
        const want = { code: 'InvalidArgument', reason: 'ERROR_REASON_INVALID_FIELD', field: slot.path };
        if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`${method.name} ${slot.path}: ${JSON.stringify(got)}`);
        checked++;
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(5);
  });

  it('ListConnections with status 99 or a misspelled status name is refused, not answered with every connection', async () => {
    const api = clients(nexus.baseUrl, ADMIN_KEY);
    await api.connections.createConnection({ workspaceId: 'ws-enum', provider: { case: 'providerName', value: 'acme-api' }, returnUrl: RETURN_URL });
    const err = await expectConnectError(api.connections.listConnections({ status: 99 as ConnectionStatus }), Code.InvalidArgument, 'INVALID_FIELD');
    expect(err.findDetails(ErrorInfoSchema)[0]?.metadata.field).toBe('status');
    expect(err.rawMessage).toContain('CONNECTION_STATUS_ACTIVE');
    for (const status of ['CONNECTION_STATUS_ACTIV', 'ACTIVE', 99]) {
      const res = await postJson('ConnectionService/ListConnections', { status });
      expect(res.status, JSON.stringify(status)).toBe(400);
      expect(res.body).toMatchObject({ code: 'invalid_argument' });
      expect(fieldOf(res.body), JSON.stringify(status)).toBe('status');
    }
    // The names that exist still work.
    const ok = await postJson('ConnectionService/ListConnections', { status: 'CONNECTION_STATUS_PENDING' });
    expect(ok.status).toBe(200);
  });

  it('CreateProvider with api_key.location 42, or a misspelled field, is refused; nothing is stored', async () => {
    const provider = { name: 'enum-check', authType: 'AUTH_TYPE_API_KEY', enabled: true, apiKey: { name: 'X-Key', location: 42 } };
    const res = await postJson('ProviderService/CreateProvider', { provider });
    expect(res.status).toBe(400);
    expect(fieldOf(res.body)).toBe('provider.api_key.location');
    const named = await postJson('ProviderService/CreateProvider', {
      provider: { ...provider, apiKey: { name: 'X-Key', location: 'API_KEY_LOCATION_QUERRY' } },
    });
    expect(named.status).toBe(400);
    expect(fieldOf(named.body)).toBe('provider.api_key.location');
    const misspelled = await postJson('ProviderService/CreateProvider', { provider: { ...provider, apiKey: { name: 'X-Key' }, enabld: false } });
    expect(misspelled.status).toBe(400);
    expect(fieldOf(misspelled.body)).toBe('provider.enabld');
    expect(JSON.stringify(misspelled.body)).toContain('enabled');
    const list = await clients(nexus.baseUrl, ADMIN_KEY).providers.listProviders({});
    expect(list.providers.map((p) => p.name)).not.toContain('enum-check');
  });

  it('an error quotes at most a short prefix of a 900 KB value, once per place', async () => {
    const huge = `p${'x'.repeat(900 * 1024)}`;
    for (const [path, body] of [
      ['ProviderService/GetProvider', { provider: huge }],
      ['ProviderService/DeleteProvider', { provider: huge }],
      ['ProviderService/CreateProvider', { provider: { name: huge, authType: 'AUTH_TYPE_API_KEY', apiKey: { name: 'X-Key' } } }],
      ['ConnectionService/CreateConnection', { workspaceId: 'ws', providerName: huge, returnUrl: RETURN_URL }],
      ['ConnectionService/GetConnection', { connectionId: huge }],
      ['TokenService/GetToken', { connectionId: huge }],
    ] as const) {
      const res = await postJson(path, body);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.text.length, `${path}: ${res.text.slice(0, 300)}`).toBeLessThan(2048);
    }
  });

  it('maps the database refusing a value to INVALID_ARGUMENT, and logs no query parameter', async () => {
    const q = (sql: string, params: unknown[]) => nexus.app.database.dataSource.query(sql, params);
    const secret = 'parameter-value-that-must-not-be-logged';
    await q('CREATE TABLE IF NOT EXISTS bad_input_t (v text PRIMARY KEY, short varchar(4))', []);
    const refused: unknown[] = [];
    for (const [sql, params] of [
      ['SELECT $1::text', [`${secret}\u0000`]], // 22021: NUL in text
      ['INSERT INTO bad_input_t VALUES ($1, $2)', ['short', secret]], // 22001: too long for the column
      ['SELECT $1::uuid', [secret]], // 22P02: malformed input
      ["SELECT ('\"\\u0000' || $1 || '\"')::jsonb", [secret]], // 22P05: unsupported Unicode escape
    ] as const) {
      await q(sql, [...params]).catch((err: unknown) => refused.push(err));
    }
    expect(refused.map((e) => (e as { code?: string }).code)).toEqual(['22021', '22001', '22P02', '22P05']);
    const logs: string[] = [];
    const logger = createLogger('debug', new Writable({ write: (chunk, _e, done) => (logs.push(String(chunk)), done()) }));
    for (const err of refused) {
      const mapped = toConnectError(err, () => {
        throw new Error('a database refusal of input is not an unexpected error');
      });
      expect(reasonAndField(mapped)).toEqual({ code: 'InvalidArgument', reason: 'ERROR_REASON_INVALID_FIELD', field: 'request' });
      expect(mapped.rawMessage).not.toContain(secret);
    }
    // An unexpected database error (a unique violation, its detail quoting the row) is logged without the query's values.
    await q('INSERT INTO bad_input_t VALUES ($1)', [secret]);
    const dup = await q('INSERT INTO bad_input_t VALUES ($1)', [secret]).catch((e: unknown) => e);
    expect((dup as { code?: string }).code).toBe('23505');
    let logged: unknown;
    expect(toConnectError(dup, (e) => (logged = e)).code).toBe(Code.Internal);
    logger.error({ err: logged, procedure: 'Test' }, 'unexpected error in RPC');
    const text = logs.join('');
    expect(text).toContain('bad_input_t_pkey');
    expect(text).not.toContain(secret);
    expect(text).not.toContain('INSERT INTO');
  });

  it('never logs a state sent in a Connect GET request, or in a query value named like a state, code or token', async () => {
    const api = clients(nexus.baseUrl, ADMIN_KEY);
    const created = await api.connections.createConnection({
      workspaceId: 'ws-get',
      provider: { case: 'providerName', value: 'acme-api' },
      returnUrl: RETURN_URL,
    });
    const state = created.state;
    expect(state.length).toBeGreaterThan(20);
    const before = nexus.logs.length;
    const base = `${nexus.baseUrl}/nexus.v1.ConnectionService/GetCredentialSchema?connect=v1`;
    const asJson = await fetch(`${base}&encoding=json&message=${encodeURIComponent(JSON.stringify({ state }))}`);
    expect(asJson.status).toBe(200);
    const asBase64 = await fetch(`${base}&encoding=json&base64=1&message=${Buffer.from(JSON.stringify({ state })).toString('base64url')}`);
    expect(asBase64.status).toBe(200);
    await fetch(`${nexus.baseUrl}/oauth/callbak?session_state=${state}&handoff_code=code-value-1234567&x=${state}`);
    await fetch(`${nexus.baseUrl}/manage/capture?state=${state}&mcp_bearer_token=tok-value-1234567`);
    const lines = nexus.logs.slice(before).join('');
    expect(lines).toContain('GetCredentialSchema');
    expect(lines).toContain('callbak');
    for (const secret of [
      state,
      encodeURIComponent(JSON.stringify({ state })),
      Buffer.from(JSON.stringify({ state })).toString('base64url'),
      'code-value-1234567',
      'tok-value-1234567',
    ]) {
      expect(lines).not.toContain(secret);
    }
    // The state's signature alone is not logged either.
    expect(lines).not.toContain(state.split('.')[2]);
  });

  /** A Connect unary call with a JSON body (an object, or JSON text as is). */
  async function postJson(path: string, body: unknown): Promise<{ status: number; text: string; body: Record<string, unknown> }> {
    const res = await fetch(`${nexus.baseUrl}/nexus.v1.${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, body: JSON.parse(text) as Record<string, unknown> };
  }
});

/** ErrorInfo.metadata.field of a Connect JSON error body (the detail's `debug` copy). */
function fieldOf(body: Record<string, unknown>): string | undefined {
  const details = (body.details ?? []) as { type: string; debug?: { metadata?: Record<string, string> } }[];
  return details.find((d) => d.type === 'google.rpc.ErrorInfo')?.debug?.metadata?.field;
}
