/**
 * A local OAuth 2.0 authorization server for trying Nexus without any
 * external account: `npm run demo-provider`.
 *
 * Built on oauth2-mock-server, made to behave like a real provider where it
 * matters to Nexus:
 * - consent is approved automatically: /authorize redirects straight back to
 *   the redirect_uri with a code (there is no login page);
 * - the client must authenticate with the demo client id and secret;
 * - codes and refresh tokens are single-use, and refresh tokens rotate;
 * - access tokens live DEMO_TOKEN_TTL seconds (default 300), so refresh is
 *   easy to observe;
 * - RFC 7009 revocation (/revoke) forgets the refresh token.
 *
 * State lives in memory: restarting the demo provider forgets every refresh
 * token, which is how you can watch a connection go ATTENTION_REQUIRED.
 *
 * Beside it, on DEMO_API_PORT, the demo provider's API (demo/demo-api.ts): the
 * HTTP API the docs' agents call with their credential, or through Nexus's
 * proxy (demo/providers.yaml gives both demo providers it as api_base_url). It
 * accepts the access tokens issued here while they are valid, and the demo key.
 *
 * Environment: DEMO_PROVIDER_PORT (9090), DEMO_API_PORT (9091), DEMO_TOKEN_TTL (300),
 * DEMO_CLIENT_ID (nexus-demo-client), DEMO_CLIENT_SECRET (demo-client-secret),
 * DEMO_API_KEY (demo-key-123).
 * These are demo values, never use them for anything real.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { OAuth2Server } from 'oauth2-mock-server';
import { DemoApi } from './demo-api.js';

const HOST = '127.0.0.1';
const PORT = Number(process.env.DEMO_PROVIDER_PORT ?? 9090);
const API_PORT = Number(process.env.DEMO_API_PORT ?? 9091);
const API_KEY = process.env.DEMO_API_KEY ?? 'demo-key-123';
const TOKEN_TTL = Number(process.env.DEMO_TOKEN_TTL ?? 300);
const CLIENT_ID = process.env.DEMO_CLIENT_ID ?? 'nexus-demo-client';
const CLIENT_SECRET = process.env.DEMO_CLIENT_SECRET ?? 'demo-client-secret';

if (!Number.isInteger(PORT) || PORT <= 0 || PORT > 65535) throw new Error(`DEMO_PROVIDER_PORT "${PORT}" is not a port`);
if (!Number.isInteger(API_PORT) || API_PORT <= 0 || API_PORT > 65535) throw new Error(`DEMO_API_PORT "${API_PORT}" is not a port`);
if (!Number.isInteger(TOKEN_TTL) || TOKEN_TTL <= 0) throw new Error(`DEMO_TOKEN_TTL "${TOKEN_TTL}" is not a number of seconds`);

type Form = Record<string, string | undefined>;
type TokenRequest = IncomingMessage & { body: Form };
type TokenResponse = { statusCode: number; body: Record<string, unknown> };

/** Live grants: the scope each unused code or refresh token stands for. */
const codes = new Map<string, string>();
const refreshTokens = new Map<string, string>();
/** Access tokens issued here, with when they expire (ms): the demo API accepts these. */
const accessTokens = new Map<string, number>();

const log = (message: string) => console.log(`${new Date().toISOString().slice(11, 19)}  ${message}`);
const short = (token: string) => `${token.slice(0, 8)}…`;

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
const service = server.service;

// GET /authorize: no login page, consent is granted at once.
service.on('beforeAuthorizeRedirect', (redirect: { url: URL }, req: IncomingMessage) => {
  const query = new URL(req.url ?? '/', 'http://demo').searchParams;
  const code = redirect.url.searchParams.get('code');
  if (query.get('client_id') !== CLIENT_ID) {
    redirect.url.searchParams.delete('code');
    redirect.url.searchParams.set('error', 'unauthorized_client');
    log(`authorize: unknown client_id "${query.get('client_id')}", redirecting back with error=unauthorized_client`);
    return;
  }
  if (code) codes.set(code, query.get('scope') ?? '');
  log(`authorize: consent AUTO-APPROVED (scope "${query.get('scope') ?? ''}"), redirecting to ${redirect.url.origin}${redirect.url.pathname}`);
});

// The access token (a JWT) carries the granted scope and the demo lifetime.
service.on('beforeTokenSigning', (token: { payload: Record<string, unknown> }, req: TokenRequest) => {
  const now = Math.floor(Date.now() / 1000);
  token.payload.jti = randomUUID(); // two tokens minted in the same second would otherwise be identical
  token.payload.exp = now + TOKEN_TTL;
  token.payload.scope = grantedScope(req.body) ?? token.payload.scope;
});

// POST /token: authenticate the client, then honour only codes and refresh tokens we issued, once each.
service.on('beforeResponse', (response: TokenResponse, req: TokenRequest) => {
  const body = req.body;
  const reject = (error: string, status = 400) => {
    response.statusCode = status;
    response.body = { error };
    log(`token: ${body.grant_type} rejected: ${error}`);
  };
  if (!clientAuthenticated(req)) return reject('invalid_client', 401);
  const scope = grantedScope(body);
  if (body.grant_type === 'authorization_code') {
    if (scope === undefined) return reject('invalid_grant');
    codes.delete(body.code ?? '');
  } else if (body.grant_type === 'refresh_token') {
    if (scope === undefined) return reject('invalid_grant');
    refreshTokens.delete(body.refresh_token ?? ''); // rotated: the old one is spent
  } else {
    return reject('unsupported_grant_type');
  }
  const refreshToken = randomUUID();
  refreshTokens.set(refreshToken, scope);
  const accessToken = response.body.access_token;
  if (typeof accessToken === 'string') accessTokens.set(accessToken, Date.now() + TOKEN_TTL * 1000);
  response.body = { ...response.body, scope, expires_in: TOKEN_TTL, refresh_token: refreshToken };
  log(`token: ${body.grant_type} OK, access token valid ${TOKEN_TTL}s, new refresh token ${short(refreshToken)}`);
});

// POST /revoke (RFC 7009): always 200; a known refresh token stops working.
service.on('beforeRevoke', (response: { statusCode: number }, req: IncomingMessage & { body?: Form }) => {
  if (req.headers.authorization && !clientAuthenticated(req as TokenRequest)) {
    response.statusCode = 401;
    log('revoke: rejected: invalid_client');
    return;
  }
  // The mock parses no form body on this route; read it ourselves.
  let raw = '';
  req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
  req.on('end', () => {
    const token = new URLSearchParams(raw).get('token') ?? '';
    const known = refreshTokens.delete(token);
    log(`revoke: ${known ? `refresh token ${short(token)} revoked` : 'token not a live refresh token (nothing to do)'}`);
  });
});

function grantedScope(body: Form): string | undefined {
  if (body.grant_type === 'authorization_code') return codes.get(body.code ?? '');
  if (body.grant_type === 'refresh_token') return refreshTokens.get(body.refresh_token ?? '');
  return undefined;
}

/** client_secret_basic (Nexus's default) or client_secret_post. */
function clientAuthenticated(req: TokenRequest): boolean {
  const header = req.headers.authorization;
  if (header?.startsWith('Basic ')) {
    const [id, secret] = Buffer.from(header.slice(6), 'base64').toString().split(':').map(decodeURIComponent);
    return id === CLIENT_ID && secret === CLIENT_SECRET;
  }
  return req.body?.client_id === CLIENT_ID && req.body?.client_secret === CLIENT_SECRET;
}

await server.start(PORT, HOST);
const base = `http://${HOST}:${PORT}`;

const api = new DemoApi(API_KEY, {
  acceptBearer(token) {
    const expires = accessTokens.get(token);
    if (expires !== undefined && expires <= Date.now()) accessTokens.delete(token);
    return expires !== undefined && expires > Date.now();
  },
  onRequest: (request, status) => log(`api: ${request.method} ${request.url} -> ${status}${status === 401 ? ' (no valid access token or demo key)' : ''}`),
});
await api.start(API_PORT, HOST);
server.issuer.url = base; // the mock would say "localhost"; keep one spelling
console.log(`
Demo OAuth 2.0 provider (oauth2-mock-server) on ${base}
  authorization endpoint  ${base}/authorize   (consent is AUTO-APPROVED: it redirects straight back)
  token endpoint          ${base}/token       (authorization_code + PKCE, refresh_token with rotation)
  revocation endpoint     ${base}/revoke      (RFC 7009)
  client id               ${CLIENT_ID}
  client secret           ${CLIENT_SECRET}    (a demo value: export DEMO_CLIENT_SECRET=${CLIENT_SECRET})
  access token lifetime   ${TOKEN_TTL}s       (DEMO_TOKEN_TTL)
Demo API on ${api.url} (the providers' api_base_url in demo/providers.yaml)
  accepts                 Authorization: Bearer <an access token issued above>, or X-Demo-Key: ${API_KEY}
Everything is kept in memory; a restart forgets all tokens. Ctrl-C to stop.
`);

const stop = async () => {
  await api.stop();
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
