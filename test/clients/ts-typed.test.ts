// @nexus-broker/client's error typing, safe-call retry and waitForConnection, from the package
// source (clients/ts/src) against a live Nexus: typed errors on unary calls and server streams,
// network failures as UnavailableError, one retry of a safe call on a reset connection (a TCP
// proxy that resets the first connection it carries), structured CREDENTIALS_INVALID
// violations, expireDate, and waitForConnection with the local authorization server consenting.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiKeyLocation,
  AuthType,
  AuthenticationError,
  ConnectionStatus,
  ConnectionStatusError,
  InvalidArgumentError,
  NexusError,
  NotFoundError,
  UnavailableError,
  codeName,
  createNexusClient,
  expireDate,
  isConnectionReset,
  isNexusError,
  toNexusError,
  waitForConnection,
  withTypedErrors,
  type NexusClient,
} from '../../clients/ts/src/index.js';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-web';
import { ConnectionService } from '../../gen/ts/nexus/v1/connection_pb.js';
import { user } from '../support/consent.js';
import { freePort } from '../support/ports.js';
import { ADMIN_KEY, startTestApp } from '../support/test-app.js';
import { DEMO_KEY, startDocsEnv, type DocsEnv } from './docs-as-tests.js';

/**
 * A TCP proxy to `target` that resets (RST) the first `resets` connections once their
 * request has arrived, as a server closing a keep-alive socket under a request looks to
 * the client, and pipes the others through.
 */
class ResettingProxy {
  connections = 0;
  resets = 0;
  private server!: Server;
  private readonly sockets = new Set<Socket>();
  url = '';
  constructor(
    private readonly target: URL,
    private toReset: number,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      this.connections++;
      this.sockets.add(client);
      client.on('close', () => this.sockets.delete(client));
      client.on('error', () => {});
      if (this.toReset > 0) {
        this.toReset--;
        client.once('data', () => {
          this.resets++;
          client.resetAndDestroy();
        });
        return;
      }
      const upstream = connect(Number(this.target.port), this.target.hostname);
      this.sockets.add(upstream);
      upstream.on('close', () => this.sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  resetNext(n: number): void {
    this.toReset = n;
    // New calls must open new connections: drop the pooled ones.
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describe('TypeScript client: typed errors, retry, waitForConnection', () => {
  let env: DocsEnv;
  let nexus: NexusClient;
  let apiKeyConnection: string;

  beforeAll(async () => {
    env = await startDocsEnv();
    nexus = createNexusClient({ baseUrl: env.nexus.baseUrl, apiKey: ADMIN_KEY });
    const created = await nexus.connections.createConnection({
      workspaceId: 'typed-user',
      provider: { case: 'providerName', value: 'demo-api-key' },
      returnUrl: 'http://localhost:3000/done',
    });
    const submitted = await nexus.connections.submitCredentials({ state: created.state, credentials: { api_key: DEMO_KEY } });
    apiKeyConnection = submitted.connection!.id;
  });
  afterAll(async () => {
    await env?.close();
  });

  it('types unary errors: class, code, string code name, reason, isNexusError', async () => {
    const err = await nexus.connections.getConnection({ connectionId: 'conn_missing' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(isNexusError(err)).toBe(true);
    const e = err as NotFoundError;
    expect(e.code).toBe(Code.NotFound);
    expect(e.codeName).toBe('NOT_FOUND');
    expect(e.reason).toBe('CONNECTION_NOT_FOUND');
    expect(codeName(Code.InvalidArgument)).toBe('INVALID_ARGUMENT');
    expect(isNexusError(new Error('x'))).toBe(false);
    const anonymous = createNexusClient({ baseUrl: env.nexus.baseUrl });
    const denied = await anonymous.tokens.getToken({ connectionId: apiKeyConnection }).catch((x: unknown) => x);
    expect(denied).toBeInstanceOf(AuthenticationError);
    expect((denied as NexusError).codeName).toBe('UNAUTHENTICATED');
  });

  it('toNexusError always returns a NexusError, typed by what happened', () => {
    const plain = toNexusError(new Error('boom'));
    expect(plain).toBeInstanceOf(NexusError);
    expect(plain.codeName).toBe('UNKNOWN');
    expect(toNexusError(plain)).toBe(plain);
    expect(toNexusError(new DOMException('stop', 'AbortError')).codeName).toBe('CANCELLED');
    const network = toNexusError(new TypeError('Failed to fetch'));
    expect(network).toBeInstanceOf(UnavailableError);
    expect(network.code).toBe(Code.Unavailable);
    expect((network as UnavailableError).network).toBe(true);
  });

  it('exposes CREDENTIALS_INVALID violations as (field, description) pairs', async () => {
    const created = await nexus.connections.createConnection({
      workspaceId: 'typed-user-2',
      provider: { case: 'providerName', value: 'demo-api-key' },
      returnUrl: 'http://localhost:3000/done',
    });
    const err = await nexus.connections.submitCredentials({ state: created.state, credentials: { api_key: 42, extra: 'x' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    const e = err as InvalidArgumentError;
    expect(e.reason).toBe('CREDENTIALS_INVALID');
    expect(e.violations).toEqual([
      { field: 'credentials.extra', description: 'is not a known property' },
      { field: 'credentials.api_key', description: 'must be string' },
    ]);
    expect(JSON.stringify(e.violations)).not.toContain('42');
  });

  it('types server-stream errors the same way: when the stream opens and when it breaks', async () => {
    const open = async () => {
      for await (const _ of nexus.connections.watchConnection({ connectionId: 'conn_missing' })) {
        // no event for an unknown connection
      }
    };
    const err = await open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).reason).toBe('CONNECTION_NOT_FOUND');

    // A generated client wrapped by hand gets typed stream errors too.
    const wrapped = withTypedErrors(createClient(ConnectionService, createConnectTransport({ baseUrl: env.nexus.baseUrl, interceptors: [] })));
    const unauthenticated = await (async () => {
      for await (const _ of wrapped.watchConnection({ connectionId: apiKeyConnection })) {
        // refused before any event
      }
    })().catch((e: unknown) => e);
    expect(unauthenticated).toBeInstanceOf(AuthenticationError);

    // Mid-stream: a second server stops while the stream is open.
    const second = await startTestApp({ backend: 'embedded' });
    const client = createNexusClient({ baseUrl: second.baseUrl, apiKey: ADMIN_KEY });
    await client.providers.createProvider({
      provider: { name: 'k', displayName: 'k', authType: AuthType.API_KEY, enabled: true, apiKey: { location: ApiKeyLocation.HEADER, name: 'X-K' } },
    });
    const { state } = await client.connections.createConnection({
      workspaceId: 'w',
      provider: { case: 'providerName', value: 'k' },
      returnUrl: 'https://app.example.com/connections/return',
    });
    const { connection } = await client.connections.submitCredentials({ state, credentials: { api_key: 'k' } });
    let events = 0;
    const broken = (async () => {
      for await (const res of client.connections.watchConnection({ connectionId: connection!.id })) {
        if (res.item.case === 'event') events++;
        if (events === 1) void second.close();
      }
    })().catch((e: unknown) => e);
    const midStream = await broken;
    expect(events).toBe(1);
    expect(midStream).toBeInstanceOf(UnavailableError);
    expect((midStream as NexusError).code).toBe(Code.Unavailable);
  });

  it('maps a refused connection to UnavailableError, without retrying it', async () => {
    const port = await freePort();
    const down = createNexusClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: ADMIN_KEY });
    const err = await down.providers.listProviders({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as UnavailableError).network).toBe(true);
    expect((err as UnavailableError).codeName).toBe('UNAVAILABLE');
    expect(isConnectionReset(err)).toBe(false);
  });

  it('retries a safe call once when the connection is reset under it, and nothing else', async () => {
    const proxy = new ResettingProxy(new URL(env.nexus.baseUrl), 0);
    await proxy.start();
    try {
      const viaProxy = createNexusClient({ baseUrl: proxy.url, apiKey: ADMIN_KEY });
      // Safe calls (NO_SIDE_EFFECTS, IDEMPOTENT): the first connection is reset, the retry succeeds.
      for (const call of [
        () => viaProxy.tokens.getToken({ connectionId: apiKeyConnection }),
        () => viaProxy.connections.getConnection({ connectionId: apiKeyConnection }),
        () => viaProxy.providers.listProviders({}),
      ]) {
        proxy.resetNext(1);
        const before = proxy.resets;
        await expect(call()).resolves.toBeDefined();
        expect(proxy.resets).toBe(before + 1);
      }
      const token = await viaProxy.tokens.getToken({ connectionId: apiKeyConnection });
      expect(token.credential?.credentials.case).toBe('apiKey');

      // Two resets in a row: one retry only, then UnavailableError.
      proxy.resetNext(2);
      const twice = await viaProxy.tokens.getToken({ connectionId: apiKeyConnection }).catch((e: unknown) => e);
      expect(twice).toBeInstanceOf(UnavailableError);
      expect(isConnectionReset(twice)).toBe(true);
      expect(proxy.resets).toBe(5);

      // A call with side effects is never sent twice.
      proxy.resetNext(1);
      const before = proxy.connections;
      const create = await viaProxy.connections
        .createConnection({ workspaceId: 'retry-user', provider: { case: 'providerName', value: 'demo-api-key' }, returnUrl: 'http://localhost:3000/done' })
        .catch((e: unknown) => e);
      expect(create).toBeInstanceOf(UnavailableError);
      expect(proxy.connections).toBe(before + 1);
      const listed = await nexus.connections.listConnections({ workspaceId: 'retry-user' });
      expect(listed.connections).toHaveLength(0);
    } finally {
      await proxy.stop();
    }
  });

  it('expireDate: when OAuth credentials expire; undefined for static ones', async () => {
    const static_ = await nexus.tokens.getToken({ connectionId: apiKeyConnection });
    expect(expireDate(static_.credential!)).toBeUndefined();
    const id = await consentedConnection('expiry-user');
    const oauth = await nexus.tokens.getToken({ connectionId: id });
    const at = expireDate(oauth.credential!)!;
    expect(at).toBeInstanceOf(Date);
    expect(at.getTime()).toBeGreaterThan(Date.now() + 3_000_000);
    expect(at.getTime()).toBeLessThanOrEqual(Date.now() + 3_600_000 + 5_000);
  });

  /** Creates a demo-oauth connection and consents as the user; returns its id. */
  async function consentedConnection(workspaceId: string): Promise<string> {
    const created = await nexus.connections.createConnection({
      workspaceId,
      provider: { case: 'providerName', value: 'demo-oauth' },
      returnUrl: 'http://localhost:3000/done',
    });
    const callbackUrl = await env.auth.consent(created.authUrl);
    expect((await user.fetch(callbackUrl)).status).toBe(302);
    return created.connection!.id;
  }

  it('waitForConnection: resolves when the user has consented', async () => {
    const created = await nexus.connections.createConnection({
      workspaceId: 'wait-user',
      provider: { case: 'providerName', value: 'demo-oauth' },
      returnUrl: 'http://localhost:3000/done',
    });
    const waiting = waitForConnection(nexus, created.connection!.id, { timeoutMs: 30_000 });
    let settled = false;
    void waiting.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false); // still PENDING
    const callbackUrl = await env.auth.consent(created.authUrl);
    await user.fetch(callbackUrl);
    const connection = await waiting;
    expect(connection.id).toBe(created.connection!.id);
    expect(connection.status).toBe(ConnectionStatus.ACTIVE);
    // Already ACTIVE: at once, from the snapshot.
    expect((await waitForConnection(nexus.connections, connection.id, { timeoutMs: 5_000 })).status).toBe(ConnectionStatus.ACTIVE);
  });

  it('waitForConnection: a denied consent ends the wait with ConnectionStatusError (FAILED)', async () => {
    const created = await nexus.connections.createConnection({
      workspaceId: 'deny-user',
      provider: { case: 'providerName', value: 'demo-oauth' },
      returnUrl: 'http://localhost:3000/done',
    });
    const waiting = waitForConnection(nexus, created.connection!.id, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    env.auth.denyConsent = true;
    try {
      const callbackUrl = await env.auth.consent(created.authUrl);
      await user.fetch(callbackUrl);
    } finally {
      env.auth.denyConsent = false;
    }
    const err = await waiting;
    expect(err).toBeInstanceOf(ConnectionStatusError);
    expect((err as ConnectionStatusError).status).toBe(ConnectionStatus.FAILED);
    // Waiting for FAILED itself returns it.
    expect((await waitForConnection(nexus, created.connection!.id, { wanted: [ConnectionStatus.FAILED] })).status).toBe(ConnectionStatus.FAILED);
  });

  it('waitForConnection: times out, can be cancelled, and refuses an unknown id', async () => {
    const created = await nexus.connections.createConnection({
      workspaceId: 'slow-user',
      provider: { case: 'providerName', value: 'demo-oauth' },
      returnUrl: 'http://localhost:3000/done',
    });
    const id = created.connection!.id;
    const started = Date.now();
    const timedOut = await waitForConnection(nexus, id, { timeoutMs: 400 }).catch((e: unknown) => e);
    expect((timedOut as DOMException).name).toBe('TimeoutError');
    expect(Date.now() - started).toBeLessThan(5_000);

    const controller = new AbortController();
    const waiting = waitForConnection(nexus, id, { signal: controller.signal }).catch((e: unknown) => e);
    setTimeout(() => controller.abort(), 200);
    expect(((await waiting) as DOMException).name).toBe('AbortError');
    const already = await waitForConnection(nexus, id, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect((already as DOMException).name).toBe('AbortError');

    const missing = await waitForConnection(nexus, 'conn_missing', { timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
  });
});
