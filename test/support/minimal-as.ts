import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { allowOutbound } from './outbound-hosts.js';

export type MinimalMode = 'ok' | 'server_error' | 'invalid_grant' | 'hang';

/** A refresh request held by the test: before the server looked at it, or after it rotated the token but before it answered. */
export interface Held {
  refreshToken: string;
  /** Lets the request go on: `before` holds then process it; `after` holds then send the answer (to whoever is still there). */
  release(): void;
}

/**
 * A small, fast OAuth 2.0 authorization server for fault tests and the
 * refresh-storm benchmark: authorization code (auto-consent) and refresh
 * grants, client_secret_basic/post, strict single-use codes and (when
 * rotating) single-use refresh tokens. It records every refresh token
 * presented at the token endpoint, and lets a test hold a refresh request
 * before it is processed or after it was processed but before the answer,
 * which is how a replica is killed at a precise moment.
 */
export class MinimalAuthServer {
  readonly clientId = 'nexusMinimalClient';
  readonly clientSecret = 'minimal-client-secret-4c1d';
  /** expires_in of refreshed tokens, and of code exchanges unless exchangeExpiresIn is set. */
  expiresIn = 3600;
  exchangeExpiresIn: number | undefined;
  rotate = true;
  /** Refresh tokens issued by code exchanges (each connection's first). */
  readonly issuedByExchange: string[] = [];
  mode: MinimalMode = 'ok';
  /** RFC 9207: the `iss` parameter added to every authorization response (as Keycloak sends its realm URL); none when unset. */
  iss: string | undefined;
  /** The next authorization responses are `error=access_denied` (the user said no). */
  denyConsent = false;
  /** token_type of token responses, spelled as given. */
  tokenType = 'Bearer';
  /** Refresh tokens presented, in order, for every refresh request the server processed. */
  readonly presented: string[] = [];
  /** When each processed refresh request arrived (ms since epoch). */
  readonly refreshTimes: number[] = [];
  private readonly valid = new Set<string>();
  private readonly codes = new Set<string>();
  private holdNext: 'before' | 'after' | undefined;
  private holdSkip = 0;
  private heldWaiters: ((h: Held) => void)[] = [];
  private seq = 0;

  private constructor(private readonly server: Server) {}

  static async start(): Promise<MinimalAuthServer> {
    const server = createServer();
    server.keepAliveTimeout = 60_000;
    const as = new MinimalAuthServer(server);
    server.on('request', (req, res) => void as.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    allowOutbound(new URL(as.origin).host);
    return as;
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  get authorizationUrl(): string {
    return `${this.origin}/authorize`;
  }
  get tokenUrl(): string {
    return `${this.origin}/token`;
  }

  /** How often each refresh token was presented. */
  uses(token: string): number {
    return this.presented.filter((t) => t === token).length;
  }

  /** Mints valid refresh tokens without a code flow (benchmark seeding). */
  mintRefreshTokens(n: number): string[] {
    return Array.from({ length: n }, () => this.newRefreshToken());
  }

  /**
   * Holds the next refresh request (after letting `skip` through) at `when`;
   * resolves once one arrives. A request held `before` whose client is gone
   * by the time it is released is dropped unprocessed, as if it never came.
   */
  holdNextRefresh(when: 'before' | 'after', skip = 0): Promise<Held> {
    this.holdNext = when;
    this.holdSkip = skip;
    return new Promise((resolve) => this.heldWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private newRefreshToken(): string {
    const token = `rt_${randomBytes(12).toString('hex')}`;
    this.valid.add(token);
    return token;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    if (req.method === 'GET' && url.pathname === '/authorize') {
      const back = new URL(url.searchParams.get('redirect_uri')!);
      if (this.denyConsent) back.searchParams.set('error', 'access_denied');
      else {
        const code = `code_${randomBytes(12).toString('hex')}`;
        this.codes.add(code);
        back.searchParams.set('code', code);
      }
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      if (this.iss !== undefined) back.searchParams.set('iss', this.iss);
      res.writeHead(302, { location: back.href }).end();
      return;
    }
    if (req.method !== 'POST' || url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const form = new URLSearchParams(raw);
    if (!this.authenticated(req, form)) return json(res, 401, { error: 'invalid_client' });
    const grant = form.get('grant_type');
    if (grant === 'authorization_code') {
      if (!this.codes.delete(form.get('code') ?? '')) return json(res, 400, { error: 'invalid_grant' });
      const body = this.tokens(true, this.exchangeExpiresIn);
      this.issuedByExchange.push(body.refresh_token as string);
      return json(res, 200, body);
    }
    if (grant !== 'refresh_token') return json(res, 400, { error: 'unsupported_grant_type' });
    const presented = form.get('refresh_token') ?? '';
    let hold: 'before' | 'after' | undefined;
    if (this.holdNext && this.holdSkip-- <= 0) {
      hold = this.holdNext;
      this.holdNext = undefined;
    }
    if (hold === 'before') {
      // Not processed: nothing recorded, nothing rotated, until released.
      await this.held(presented);
      if (req.socket.destroyed || res.destroyed) return;
    }
    this.presented.push(presented);
    this.refreshTimes.push(Date.now());
    if (this.mode === 'hang') return; // never answers; the client times out
    if (this.mode === 'server_error') return json(res, 503, { error: 'temporarily_unavailable' });
    if (this.mode === 'invalid_grant' || !this.valid.has(presented)) return json(res, 400, { error: 'invalid_grant' });
    if (this.rotate) this.valid.delete(presented);
    const body = this.tokens(this.rotate);
    if (hold === 'after') await this.held(presented);
    json(res, 200, body);
  }

  private held(refreshToken: string): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.heldWaiters;
      this.heldWaiters = [];
      for (const w of waiters) w({ refreshToken, release: resolve });
    });
  }

  private tokens(withRefresh: boolean, expiresIn = this.expiresIn): Record<string, unknown> {
    return {
      access_token: `at_${++this.seq}_${randomBytes(6).toString('hex')}`,
      token_type: this.tokenType,
      expires_in: expiresIn,
      ...(withRefresh ? { refresh_token: this.newRefreshToken() } : {}),
    };
  }

  private authenticated(req: IncomingMessage, form: URLSearchParams): boolean {
    const header = req.headers.authorization;
    if (header?.startsWith('Basic ')) {
      const [id, secret] = Buffer.from(header.slice(6), 'base64').toString().split(':').map(decodeURIComponent);
      return id === this.clientId && secret === this.clientSecret;
    }
    return form.get('client_id') === this.clientId && form.get('client_secret') === this.clientSecret;
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}
