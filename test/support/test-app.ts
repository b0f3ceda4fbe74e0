import { Writable } from 'node:stream';
import { createClient, type Client, type Interceptor, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { ApiKeyService } from '../../gen/ts/nexus/v1/api_key_pb.js';
import { AuthService } from '../../gen/ts/nexus/v1/auth_pb.js';
import { ClientService } from '../../gen/ts/nexus/v1/client_pb.js';
import { ConnectionService } from '../../gen/ts/nexus/v1/connection_pb.js';
import { ProjectService } from '../../gen/ts/nexus/v1/project_pb.js';
import { ProviderService } from '../../gen/ts/nexus/v1/provider_pb.js';
import { TokenService } from '../../gen/ts/nexus/v1/token_pb.js';
import { WebhookService } from '../../gen/ts/nexus/v1/webhook_pb.js';
import { createApp, type App } from '../../src/app.js';
import { loadLoadConfig, loadRefreshConfig, type Config } from '../../src/config/config.js';
import { KeyRing } from '../../src/crypto/index.js';
import { createLogger } from '../../src/logging.js';
import type { Resolver } from '../../src/domain/outbound/outbound-policy.js';
import { allowedOutboundHosts } from './outbound-hosts.js';
import { freePort } from './ports.js';
import { createTestDatabase, type Backend, type TestDatabase } from './databases.js';

export const RETURN_URL = 'https://app.example.com/connections/return';
export const ADMIN_KEY = 'nxs_test_admin_key_for_the_default_project';

export interface TestApp {
  app: App;
  config: Config;
  baseUrl: string;
  /** Every log line the server wrote, for the no-secrets checks. */
  logs: string[];
  close(): Promise<void>;
}

export interface StartOptions {
  backend: Backend;
  /** Share a database between apps (two replicas); created fresh otherwise. */
  databaseUrl?: string;
  keyRing?: KeyRing;
  config?: Partial<Config>;
  /** The domain's clock, epoch ms (auth expiries, state and consent links, caches; see CoreOptions.clock). */
  clock?: () => number;
  /** Nexus's outbound DNS resolver (made-up host names on loopback). */
  outboundResolver?: Resolver;
  /** The call quotas' clock (milliseconds). */
  quotaClock?: () => number;
}

export async function startTestApp(options: StartOptions): Promise<TestApp> {
  let db: TestDatabase | undefined;
  let databaseUrl = options.databaseUrl;
  if (options.backend === 'postgres' && !databaseUrl) {
    db = await createTestDatabase();
    databaseUrl = db.url;
  }
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const config: Config = {
    production: false,
    port,
    host: '127.0.0.1',
    baseUrl,
    databaseUrl: options.backend === 'postgres' ? databaseUrl : undefined,
    dataDir: '',
    keyRing: options.keyRing ?? KeyRing.generate('t1'),
    keyRingSource: 'env',
    adminApiKey: ADMIN_KEY,
    allowedReturnUrls: ['https://app.example.com/connections/'],
    corsOrigins: [],
    logLevel: 'debug',
    providerTimeoutMs: 2_000,
    metricsToken: undefined,
    dbPoolSize: 10,
    tokenCacheSize: 10_000,
    tokenCacheMaxAgeMs: 5_000,
    streamHeartbeatMs: 15_000,
    maxStreams: 20_000,
    watchSnapshotMax: 10_000,
    eventRetentionMs: 24 * 3_600_000,
    // Suites that test the background worker turn it on; elsewhere it would refresh behind their backs.
    refresh: { ...loadRefreshConfig({}, 2_000), worker: false },
    discoveryCacheSeconds: 600,
    // Every test client calls from 127.0.0.1: the per-IP budget of unauthenticated calls is the rate-limit tests' business,
    // and the call quotas of authenticated callers (off here) the quota tests'.
    load: { ...loadLoadConfig({}), unauthRatePerSecond: 100_000, unauthBurst: 100_000, quotaKeyRatePerSecond: 0, quotaIpRatePerSecond: 0 },
    ...options.config,
    // The loopback authorization servers this file started (outbound-hosts.ts), and the test's own entries.
    outboundAllowedHosts: [...new Set([...allowedOutboundHosts(), ...(options.config?.outboundAllowedHosts ?? [])])],
  };
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const app = await createApp(config, createLogger('debug', sink), {
    refreshWorker: config.refresh.worker,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.outboundResolver ? { outboundResolver: options.outboundResolver } : {}),
    ...(options.quotaClock ? { quotaClock: options.quotaClock } : {}),
  });
  await app.server.listen({ port, host: '127.0.0.1' });
  return {
    app,
    config,
    baseUrl,
    logs,
    async close() {
      await app.close();
      await db?.drop();
    },
  };
}

export type TransportKind = 'connect' | 'grpc' | 'grpc-web';

export function transport(baseUrl: string, kind: TransportKind, apiKey?: string): Transport {
  const interceptors: Interceptor[] = apiKey
    ? [
        (next) => (req) => {
          req.header.set('authorization', `Bearer ${apiKey}`);
          return next(req);
        },
      ]
    : [];
  if (kind === 'grpc') return createGrpcTransport({ baseUrl, interceptors });
  if (kind === 'grpc-web') return createGrpcWebTransport({ baseUrl, httpVersion: '1.1', interceptors });
  return createConnectTransport({ baseUrl, httpVersion: '1.1', interceptors });
}

export interface Clients {
  providers: Client<typeof ProviderService>;
  connections: Client<typeof ConnectionService>;
  tokens: Client<typeof TokenService>;
}

export function clients(baseUrl: string, apiKey?: string, kind: TransportKind = 'connect'): Clients {
  const t = transport(baseUrl, kind, apiKey);
  return {
    providers: createClient(ProviderService, t),
    connections: createClient(ConnectionService, t),
    tokens: createClient(TokenService, t),
  };
}

export interface AuthClients {
  auth: Client<typeof AuthService>;
  clients: Client<typeof ClientService>;
}

/** AuthService and the OAuth-client admin API; `bearer` is an API key or a user access token. */
export function authClients(baseUrl: string, bearer?: string, kind: TransportKind = 'connect'): AuthClients {
  const t = transport(baseUrl, kind, bearer);
  return { auth: createClient(AuthService, t), clients: createClient(ClientService, t) };
}

export interface GovernanceClients {
  projects: Client<typeof ProjectService>;
  apiKeys: Client<typeof ApiKeyService>;
}

/** ProjectService and ApiKeyService, as `apiKey`. */
export function governanceClients(baseUrl: string, apiKey?: string, kind: TransportKind = 'connect'): GovernanceClients {
  const t = transport(baseUrl, kind, apiKey);
  return { projects: createClient(ProjectService, t), apiKeys: createClient(ApiKeyService, t) };
}

/** WebhookService, as `apiKey`. */
export function webhookClient(baseUrl: string, apiKey?: string, kind: TransportKind = 'connect'): Client<typeof WebhookService> {
  return createClient(WebhookService, transport(baseUrl, kind, apiKey));
}
