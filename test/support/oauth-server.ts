import { randomUUID } from 'node:crypto';
import { OAuth2Server } from 'oauth2-mock-server';
import { allowOutbound } from './outbound-hosts.js';
import { throughNexus } from './consent.js';

export type RefreshMode = 'ok' | 'invalid_grant' | 'server_error';

/**
 * A real OAuth 2.0 authorization server on loopback (oauth2-mock-server),
 * made strict: authorization codes and refresh tokens are single-use and
 * must have been issued by it, refresh tokens rotate, and the client must
 * authenticate with the expected secret. Counters let tests see exactly
 * what Nexus sent.
 */
export class TestAuthServer {
  // Alphanumeric: oauth2-mock-server puts the Basic client id into the ID token's aud without form-decoding it.
  readonly clientId = 'nexusTestClient';
  readonly clientSecret = 'test-client-secret-9f8e7d';
  refreshRequests = 0;
  codeExchanges = 0;
  readonly revoked: { token: string; hint: string | undefined }[] = [];
  readonly clientAuthFailures: string[] = [];
  /** What the next code or refresh requests get. */
  denyConsent = false;
  refreshMode: RefreshMode = 'ok';
  expiresIn = 3600;
  rotateRefreshTokens = true;
  /** Claims merged into the ID tokens it issues (who the user is, as this server asserts it). */
  idTokenClaims: Record<string, unknown> = {};
  /** `omit`: token responses carry no ID token (the client must ask userinfo); `forged`: its signature is broken. */
  idTokenMode: 'normal' | 'omit' | 'forged' = 'normal';
  /** What GET /userinfo answers (the mock's default is `{ sub: 'johndoe' }`). */
  userinfoClaims: Record<string, unknown> | undefined;
  authorizeRequests = 0;
  private readonly codes = new Set<string>();
  private readonly refreshTokens = new Set<string>();

  private constructor(private readonly server: OAuth2Server) {}

  static async start(): Promise<TestAuthServer> {
    const server = new OAuth2Server();
    await server.issuer.keys.generate('RS256');
    await server.start(0, '127.0.0.1');
    const auth = new TestAuthServer(server);
    auth.install();
    allowOutbound(new URL(auth.issuer).host);
    return auth;
  }

  get issuer(): string {
    return this.server.issuer.url!;
  }
  get authorizationUrl(): string {
    return `${this.issuer}/authorize`;
  }
  get tokenUrl(): string {
    return `${this.issuer}/token`;
  }
  get revocationUrl(): string {
    return `${this.issuer}/revoke`;
  }

  /** Plays the user at the consent screen: follows auth_url and returns where the server redirects (Nexus's callback). */
  async consent(authUrl: string): Promise<string> {
    // A Nexus consent link is confirmed on Nexus's page first, as the person would.
    const res = await fetch(await throughNexus(authUrl), { redirect: 'manual' });
    const location = res.headers.get('location');
    if (res.status !== 302 || !location) throw new Error(`authorization server answered ${res.status}`);
    return location;
  }

  /** Makes a refresh token unknown, as when the user revokes the app at the provider. */
  forgetRefreshTokens(): void {
    this.refreshTokens.clear();
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }

  private install(): void {
    const service = this.server.service;
    // Two tokens minted in the same second would otherwise be identical.
    service.on('beforeTokenSigning', (token: { payload: Record<string, unknown> }) => {
      token.payload.jti = randomUUID();
      // ID tokens are the ones without a scope claim.
      if (token.payload.scope === undefined) Object.assign(token.payload, this.idTokenClaims);
    });
    service.on('beforeUserinfo', (response: { body: Record<string, unknown> }) => {
      if (this.userinfoClaims) response.body = { ...this.userinfoClaims };
    });
    service.on('beforeAuthorizeRedirect', (redirect: { url: URL }) => {
      this.authorizeRequests++;
      const code = redirect.url.searchParams.get('code');
      if (this.denyConsent) {
        redirect.url.searchParams.delete('code');
        redirect.url.searchParams.set('error', 'access_denied');
      } else if (code) {
        this.codes.add(code);
      }
    });
    service.on(
      'beforeResponse',
      (response: { body: Record<string, unknown>; statusCode: number }, req: { body: Record<string, string>; headers: Record<string, string | undefined> }) => {
        const reject = (error: string, status = 400) => {
          response.statusCode = status;
          response.body = { error };
        };
        if (!this.clientAuthenticated(req)) return reject('invalid_client', 401);
        if (req.body.grant_type === 'authorization_code') {
          this.codeExchanges++;
          if (!this.codes.delete(req.body.code ?? '')) return reject('invalid_grant');
        } else if (req.body.grant_type === 'refresh_token') {
          this.refreshRequests++;
          const presented = req.body.refresh_token ?? '';
          if (this.refreshMode === 'server_error') return reject('temporarily_unavailable', 503);
          if (this.refreshMode === 'invalid_grant' || !this.refreshTokens.has(presented)) return reject('invalid_grant');
          if (this.rotateRefreshTokens) this.refreshTokens.delete(presented);
          else {
            delete response.body.refresh_token;
            response.body.expires_in = this.expiresIn;
            return;
          }
        }
        response.body.expires_in = this.expiresIn;
        if (typeof response.body.refresh_token === 'string') this.refreshTokens.add(response.body.refresh_token);
        if (this.idTokenMode === 'omit') delete response.body.id_token;
        else if (this.idTokenMode === 'forged' && typeof response.body.id_token === 'string') {
          const [h, p] = response.body.id_token.split('.');
          response.body.id_token = `${h}.${p}.${Buffer.from('not the issuer signature').toString('base64url')}`;
        }
      },
    );
    // The revocation route has no body parser; read the form ourselves.
    service.on('beforeRevoke', (_res: unknown, req: NodeJS.ReadableStream & { body?: Record<string, string> }) => {
      if (req.body) {
        this.revoked.push({ token: req.body.token ?? '', hint: req.body.token_type_hint });
        return;
      }
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      req.on('end', () => {
        const form = new URLSearchParams(raw);
        this.revoked.push({ token: form.get('token') ?? '', hint: form.get('token_type_hint') ?? undefined });
      });
    });
  }

  private clientAuthenticated(req: { body: Record<string, string>; headers: Record<string, string | undefined> }): boolean {
    const header = req.headers.authorization;
    if (header?.startsWith('Basic ')) {
      const [id, secret] = Buffer.from(header.slice(6), 'base64').toString().split(':').map(decodeURIComponent);
      if (id === this.clientId && secret === this.clientSecret) return true;
    } else if (req.body.client_id === this.clientId && req.body.client_secret === this.clientSecret) {
      return true;
    }
    this.clientAuthFailures.push(header ? 'basic' : 'post');
    return false;
  }
}
