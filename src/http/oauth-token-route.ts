import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientCredentials } from '../domain/auth/client-credentials.js';
import { NexusError, type ErrorReasonName } from '../domain/shared/errors.js';
import { GRANT_TYPES, type TokenEndpoint, type TokenGrantResult, type TokenRequest } from '../domain/token-exchange/token-endpoint.js';
import { USER_SCOPES } from '../domain/auth/scopes.js';
import { bucketKeyOfIp, type TokenBuckets } from './token-bucket.js';

export const TOKEN_PATH = '/oauth/token';
export const METADATA_PATH = '/.well-known/oauth-authorization-server';
/** A token request is a handful of short fields; a subject token is a JWT of about 1 KB. */
const FORM_MAX_BYTES = 16 * 1024;
const FIELDS = [
  'grant_type',
  'code',
  'redirect_uri',
  'code_verifier',
  'refresh_token',
  'subject_token',
  'subject_token_type',
  'resource',
  'audience',
  'requested_token_type',
  'client_id',
  'client_secret',
  'scope',
  'actor_token',
  'actor_token_type',
] as const;

/** The reasons of token-endpoint refusals that RFC 6749 5.2 / RFC 8693 2.2.2 name; every other refusal is invalid_request. */
const OAUTH_ERRORS: Partial<Record<ErrorReasonName, string>> = {
  CLIENT_AUTHENTICATION_FAILED: 'invalid_client',
  UNSUPPORTED_GRANT_TYPE: 'unsupported_grant_type',
  EXCHANGE_CLIENT_NOT_ALLOWED: 'unauthorized_client',
  AUTHORIZATION_CODE_INVALID: 'invalid_grant',
  PKCE_VERIFICATION_FAILED: 'invalid_grant',
  REDIRECT_URI_MISMATCH: 'invalid_grant',
  REFRESH_TOKEN_INVALID: 'invalid_grant',
  SUBJECT_TOKEN_INVALID: 'invalid_grant',
  SCOPE_MISSING: 'invalid_grant',
  EXCHANGE_TARGET_NOT_FOUND: 'invalid_target',
  EXCHANGE_TARGET_AMBIGUOUS: 'invalid_target',
  EXCHANGE_STATIC_CREDENTIAL: 'invalid_target',
  WORKSPACE_FORBIDDEN: 'invalid_target',
  CONNECTION_NOT_FOUND: 'invalid_target',
  CONNECTION_NOT_ACTIVE: 'invalid_target',
  ATTENTION_REQUIRED: 'invalid_target',
};

/** A form parameter sent twice (RFC 6749 3.2: MUST NOT) or a body that is not a form. */
class BadForm extends Error {}

/**
 * POST /oauth/token: the standard OAuth token endpoint (RFC 6749 3.2,
 * application/x-www-form-urlencoded, client_secret_basic or
 * client_secret_post, JSON errors of 5.2), serving the grants of
 * AuthService.ExchangeToken through the same domain code (TokenEndpoint),
 * the RFC 8693 token exchange included; and its RFC 8414 metadata. Every
 * answer is Cache-Control: no-store. Requests share the per-IP budget of
 * unauthenticated RPCs.
 */
export function registerOAuthTokenRoute(
  app: FastifyInstance,
  deps: { endpoint: TokenEndpoint; baseUrl: string; buckets: TokenBuckets; clientIp: (request: FastifyRequest) => string; logError: (err: unknown) => void },
): void {
  const issuer = deps.baseUrl.replace(/\/+$/, '');
  app.get(METADATA_PATH, async (_request, reply) =>
    reply.header('cache-control', 'public, max-age=300').send({
      issuer,
      token_endpoint: `${issuer}${TOKEN_PATH}`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      grant_types_supported: GRANT_TYPES,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      // Sign-in (and so the authorization code) is the AuthService.Authenticate RPC: no HTTP authorization endpoint.
      response_types_supported: [],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: USER_SCOPES.map((s) => s.name),
    }),
  );

  app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_MAX_BYTES }, (_req, body, done) => {
      done(null, parseForm(body as string));
    });
    // Any other body is refused as an OAuth error, not fastify's 415.
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null, new BadForm('the body must be application/x-www-form-urlencoded')));

    scope.post<{ Body: unknown }>(TOKEN_PATH, async (request, reply) => {
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      const waitMs = deps.buckets.take(bucketKeyOfIp(deps.clientIp(request)));
      if (waitMs > 0) {
        return reply
          .header('retry-after', String(Math.ceil(waitMs / 1000)))
          .code(429)
          .send({ error: 'slow_down', error_description: 'too many token requests from this address; retry later' });
      }
      try {
        const form = request.body;
        if (form instanceof BadForm) throw form;
        // (fastify's own JSON parser takes application/json before the catch-all above.)
        if (!(form instanceof Map)) throw new BadForm('the body must be application/x-www-form-urlencoded');
        const field = (name: (typeof FIELDS)[number]) => form.get(name) ?? '';
        if (field('actor_token') || field('actor_token_type')) throw new BadForm('actor_token (delegation) is not supported');
        const req: TokenRequest = {
          grantType: field('grant_type'),
          code: field('code'),
          redirectUri: field('redirect_uri'),
          codeVerifier: field('code_verifier'),
          refreshToken: field('refresh_token'),
          subjectToken: field('subject_token'),
          subjectTokenType: field('subject_token_type'),
          resource: field('resource'),
          audience: field('audience'),
          requestedTokenType: field('requested_token_type'),
        };
        if (!req.grantType) throw new BadForm('grant_type is required');
        const credentials = () => clientCredentials(request.headers.authorization ?? null, field('client_id'), field('client_secret'));
        const result = await deps.endpoint.grant(credentials, req, { clientIp: deps.clientIp(request), requestId: request.id });
        return reply.code(200).send(tokenBody(result));
      } catch (err) {
        return sendError(reply, err, request.headers.authorization, deps.logError);
      }
    });
  });
}

/** Parameters sent twice are refused (RFC 6749 3.2; RFC 8693 allows several `resource`s, Nexus takes one). */
function parseForm(body: string): Map<string, string> | BadForm {
  const form = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(body)) {
    if (form.has(name)) return new BadForm(`${name} is sent more than once`);
    form.set(name, value);
  }
  return form;
}

function tokenBody(result: TokenGrantResult): Record<string, unknown> {
  if (result.kind === 'exchange') {
    const t = result.token;
    return {
      access_token: t.accessToken,
      issued_token_type: t.issuedTokenType,
      token_type: t.tokenType,
      ...(t.expiresIn === undefined ? {} : { expires_in: t.expiresIn }),
      ...(t.scopes.length > 0 ? { scope: t.scopes.join(' ') } : {}),
    };
  }
  const t = result.tokens;
  return { access_token: t.accessToken, token_type: 'Bearer', expires_in: t.expiresIn, refresh_token: t.refreshToken, scope: t.scopes.join(' ') };
}

function sendError(reply: FastifyReply, err: unknown, authorization: string | undefined, logError: (err: unknown) => void): FastifyReply {
  if (err instanceof BadForm) return reply.code(400).send({ error: 'invalid_request', error_description: err.message });
  if (!(err instanceof NexusError)) {
    logError(err);
    return reply.code(500).send({ error: 'server_error', error_description: 'the token request failed; retry later' });
  }
  if (err.retryDelayMs !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(err.retryDelayMs / 1000))));
  if (err.kind === 'unavailable') return reply.code(503).send({ error: 'temporarily_unavailable', error_description: err.message });
  if (err.kind === 'resource_exhausted') return reply.code(429).send({ error: 'slow_down', error_description: err.message });
  const error = OAUTH_ERRORS[err.reason] ?? 'invalid_request';
  if (error === 'invalid_client') {
    // RFC 6749 5.2: 401 with the scheme the client tried (Basic), else 400... 401 either way is what libraries expect.
    reply.header('www-authenticate', `Basic realm="nexus"${/^Basic\s/i.test(authorization ?? '') ? ', error="invalid_client"' : ''}`);
    return reply.code(401).send({ error, error_description: err.message });
  }
  return reply.code(400).send({ error, error_description: err.message });
}
