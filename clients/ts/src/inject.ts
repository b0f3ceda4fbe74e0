// Hand-written. Credential injection: a cached token source and a fetch wrapper that
// applies GetToken's credentials to outgoing requests according to the strategy. AWS SigV4
// signing lives in ./aws.ts (the "@nexus-broker/client/aws" export), so that bundles that
// do not sign carry none of its dependencies.
import type { AwsSigV4Credentials, Credential } from './gen/nexus/v1/token_pb.js';
import { StrategyType } from './gen/nexus/v1/token_pb.js';
import { ApiKeyLocation } from './gen/nexus/v1/provider_pb.js';
import { createNexusClient, type NexusClient, type NexusClientOptions } from './client.js';
import { toNexusError } from './errors.js';

/** Signs a request with AWS SigV4 credentials, in place: `awsSigV4` from "@nexus-broker/client/aws". */
export type AwsSigner = (req: OutgoingRequest, credentials: AwsSigV4Credentials) => Promise<void>;

/** The moment `token` expires, or undefined for credentials that do not expire (static ones). */
export function expireDate(token: { expireTime?: { seconds: bigint; nanos: number } | undefined }): Date | undefined {
  if (!token.expireTime) return undefined;
  return new Date(Number(token.expireTime.seconds) * 1000 + Math.floor(token.expireTime.nanos / 1e6));
}

export interface TokenSourceOptions extends NexusClientOptions {
  /** The connection whose credentials to use. */
  connectionId: string;
  /** A client to reuse instead of building one from baseUrl/apiKey/transport. */
  client?: NexusClient;
  /** Fetch a new token when the cached one expires within this many seconds (default 60). */
  refreshMarginSeconds?: number;
  /** The clock, for tests. */
  now?: () => number;
}

/**
 * Gets a connection's credentials with GetToken and caches them until `refreshMarginSeconds`
 * before they expire (static credentials, which do not expire, until `invalidate()`).
 * Concurrent callers share one request.
 */
export class TokenSource {
  readonly connectionId: string;
  readonly client: NexusClient;
  private readonly marginMs: number;
  private readonly now: () => number;
  private cached: Credential | undefined;
  private inflight: Promise<Credential> | undefined;

  constructor(options: TokenSourceOptions) {
    this.connectionId = options.connectionId;
    this.client = options.client ?? createNexusClient(options);
    this.marginMs = (options.refreshMarginSeconds ?? 60) * 1000;
    this.now = options.now ?? Date.now;
  }

  /** The current credentials, from the cache when they are fresh enough. Throws NexusError subclasses. */
  async token(): Promise<Credential> {
    if (this.cached && this.fresh(this.cached)) return this.cached;
    return this.share(async () => {
      const minRemaining = Math.min(3600, Math.ceil(this.marginMs / 1000) + 30);
      const res = await this.client.tokens.getToken({ connectionId: this.connectionId, minRemaining: { seconds: BigInt(minRemaining), nanos: 0 } });
      return credentialOf(res.credential, 'GetToken');
    });
  }

  /**
   * Forces new credentials: RefreshToken for OAuth2 connections, a fresh GetToken for static ones.
   * ATTENTION_REQUIRED (the user must reconnect) is thrown as AttentionRequiredError.
   */
  async refresh(): Promise<Credential> {
    const previous = this.cached;
    this.cached = undefined;
    return this.share(async () => {
      if (previous && previous.strategy?.type !== StrategyType.OAUTH2) {
        const res = await this.client.tokens.getToken({ connectionId: this.connectionId });
        return credentialOf(res.credential, 'GetToken');
      }
      const res = await this.client.tokens.refreshToken({ connectionId: this.connectionId });
      return credentialOf(res.credential, 'RefreshToken');
    });
  }

  /** Drops the cached credentials. */
  invalidate(): void {
    this.cached = undefined;
  }

  private fresh(token: Credential): boolean {
    const expiresAt = expireDate(token);
    return expiresAt === undefined || expiresAt.getTime() - this.marginMs > this.now();
  }

  private share(load: () => Promise<Credential>): Promise<Credential> {
    if (this.inflight) return this.inflight;
    const p = (async () => {
      try {
        const token = await load();
        this.cached = token;
        return token;
      } catch (err) {
        throw toNexusError(err);
      } finally {
        this.inflight = undefined;
      }
    })();
    this.inflight = p;
    return p;
  }
}

function credentialOf(credential: Credential | undefined, rpc: string): Credential {
  if (!credential) throw new Error(`nexus: ${rpc} returned no credential`);
  return credential;
}

/** A request about to be sent: the URL (query parameters may be added) and headers (may be set). */
export interface OutgoingRequest {
  method: string;
  url: URL;
  headers: Headers;
  /** The exact body bytes, for signing. */
  body?: Uint8Array;
}

function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Options of applyCredentials and nexusFetch. */
export interface ApplyOptions {
  /** The AWS SigV4 signer (`awsSigV4` from "@nexus-broker/client/aws"): needed for AWS_SIGV4 connections only. */
  awsSigV4?: AwsSigner;
}

/** Applies `token` to `req` in place, according to its strategy. */
export async function applyCredentials(req: OutgoingRequest, token: Credential, options: ApplyOptions = {}): Promise<void> {
  const type = token.strategy?.type;
  const creds = token.credentials;
  switch (creds.case) {
    case 'oauth2':
      req.headers.set('authorization', `Bearer ${creds.value.accessToken}`);
      return;
    case 'bearer':
      req.headers.set('authorization', `Bearer ${creds.value.token}`);
      return;
    case 'basicAuth':
      req.headers.set('authorization', `Basic ${base64(`${creds.value.username}:${creds.value.password}`)}`);
      return;
    case 'apiKey': {
      const placement = token.strategy?.apiKey;
      const value = `${placement?.prefix ?? ''}${creds.value.apiKey}`;
      if (placement?.location === ApiKeyLocation.QUERY) {
        req.url.searchParams.set(placement.name || 'api_key', value);
      } else {
        req.headers.set(placement?.name || 'x-api-key', value);
      }
      return;
    }
    case 'awsSigv4':
      if (!options.awsSigV4) {
        throw new Error("nexus: AWS SigV4 credentials need the signer: import { awsSigV4 } from '@nexus-broker/client/aws' and pass it as the awsSigV4 option");
      }
      await options.awsSigV4(req, creds.value);
      return;
    default:
      throw new Error(`nexus: unsupported strategy ${type === undefined ? 'none' : StrategyType[type]}`);
  }
}

export interface NexusFetchOptions extends TokenSourceOptions, ApplyOptions {
  /** The fetch to wrap (default: globalThis.fetch). */
  fetch?: typeof fetch;
}

/**
 * A fetch that injects the connection's credentials into every request. On a 401 from the
 * provider it forces one refresh and retries once. Nexus errors are thrown as NexusError
 * subclasses; AttentionRequiredError means the user must reconnect and is never retried.
 */
export function nexusFetch(options: NexusFetchOptions | TokenSource, extra: ApplyOptions & { fetch?: typeof fetch } = {}): typeof fetch {
  const source = options instanceof TokenSource ? options : new TokenSource(options);
  const settings = options instanceof TokenSource ? extra : { ...options, ...extra };
  const inner = settings.fetch ?? globalThis.fetch.bind(globalThis);
  return async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const original = new Request(input, init);
    const body = original.method === 'GET' || original.method === 'HEAD' ? undefined : new Uint8Array(await original.arrayBuffer());
    const send = async (token: Credential): Promise<Response> => {
      const req: OutgoingRequest = { method: original.method, url: new URL(original.url), headers: new Headers(original.headers), body };
      await applyCredentials(req, token, settings);
      return inner(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body as BodyInit | undefined,
        redirect: original.redirect,
        signal: original.signal,
        credentials: original.credentials,
        cache: original.cache,
        mode: original.mode,
      });
    };
    const first = await send(await source.token());
    if (first.status !== 401) return first;
    await first.body?.cancel();
    return send(await source.refresh());
  };
}
