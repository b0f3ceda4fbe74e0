import { createRemoteJWKSet, customFetch, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import * as oauth from 'oauth4webapi';
import type { ProviderRow } from '../model/provider.js';
import { NexusError } from '../shared/errors.js';
import type { FetchLike } from '../outbound/safe-fetch.js';
import type { ConnectionFields, OAuthClient } from './oauth-client.js';
import type { TokenSet } from './token-set.js';

/** Who consented at the provider, as the provider asserted it. */
export interface ProviderIdentity {
  subject: string;
  /** Absent when the provider gave none, or said it is not verified. */
  email?: string;
}

/** The provider's assertion of who consented does not verify (signature, issuer, audience, expiry, shape). */
export class IdentityInvalidError extends NexusError {
  readonly kind = 'failed_precondition';
  readonly reason = 'PROVIDER_IDENTITY_INVALID';

  /** The connection's failure reason: the OpenID assertion, or a plain userinfo endpoint's answer. */
  constructor(
    message: string,
    readonly callbackReason: 'invalid_id_token' | 'invalid_userinfo' = 'invalid_id_token',
  ) {
    super(message);
  }
}

/** The provider's keys or userinfo endpoint could not be reached. */
export class IdentityUnavailableError extends NexusError {
  readonly kind = 'unavailable';
  readonly reason = 'PROVIDER_UNAVAILABLE';
}

const MAX_CLAIM_LENGTH = 255;
const USERINFO_MAX_BYTES = 64 * 1024;

export interface ProviderIdentitiesOptions {
  timeoutMs: number;
  /** Admit http:// endpoints (development and tests). */
  allowInsecureRequests: boolean;
  /** The fetch used for the JWKS and userinfo: the SSRF-safe one of the outbound policy. */
  fetch?: FetchLike;
}

/**
 * Reads who consented, after a code exchange with an OpenID Connect provider
 * (an OAUTH2 provider configured by its issuer): the ID token's `sub` and
 * `email`, its signature verified with jose against the issuer's JWKS (from
 * discovery) and its `iss`, `aud` (our client id) and `exp` checked; without
 * an ID token, the userinfo endpoint (when discovery names one) with the new
 * access token. Providers that are not OpenID Connect assert nothing Nexus
 * can verify: undefined.
 */
export class ProviderIdentities {
  private readonly keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

  constructor(
    private readonly oauthClient: OAuthClient,
    private readonly options: ProviderIdentitiesOptions,
  ) {}

  async of(provider: ProviderRow, tokens: TokenSet, fields?: ConnectionFields): Promise<ProviderIdentity | undefined> {
    const target = await this.oauthClient.openIdTarget(provider, fields);
    if (!target) {
      const userinfo = await this.oauthClient.userinfoTarget(provider, fields);
      return userinfo ? this.fromJsonUserinfo(userinfo, tokens.accessToken) : undefined;
    }
    const { server, clientId } = target;
    if (tokens.idToken) return this.fromIdToken(server, clientId, tokens.idToken);
    if (server.userinfo_endpoint) return this.fromUserinfo(server, clientId, tokens.accessToken);
    return undefined;
  }

  /**
   * A provider that is not OpenID Connect but has a user endpoint (GitHub's
   * https://api.github.com/user): a GET with the new access token, the
   * answer read as JSON (at most 64 KiB, no redirect followed) and the
   * subject and email taken at the configured paths. The subject may be a
   * string or an integer (GitHub's numeric id); the email is recorded as
   * the service returns it (such services say nothing of verification).
   */
  private async fromJsonUserinfo(target: { url: string; subjectPath: string; emailPath: string }, accessToken: string): Promise<ProviderIdentity> {
    const fetcher = this.options.fetch ?? fetch;
    let body: string;
    try {
      const response = await fetcher(target.url, {
        method: 'GET',
        redirect: 'manual',
        headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json', 'user-agent': 'Nexus' },
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      if (response.status >= 400 && response.status < 500) {
        await response.body?.cancel();
        throw new IdentityInvalidError(`the userinfo endpoint refused the token (HTTP ${response.status})`, 'invalid_userinfo');
      }
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new IdentityUnavailableError(`the userinfo endpoint answered HTTP ${response.status}`);
      }
      body = await boundedText(response, USERINFO_MAX_BYTES);
    } catch (err) {
      if (err instanceof IdentityInvalidError || err instanceof IdentityUnavailableError) throw err;
      throw new IdentityUnavailableError('the userinfo endpoint could not be read');
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw new IdentityInvalidError('the userinfo response is not JSON', 'invalid_userinfo');
    }
    const subject = at(json, target.subjectPath);
    const id = typeof subject === 'number' && Number.isSafeInteger(subject) ? String(subject) : subject;
    if (!printable(id)) throw new IdentityInvalidError(`the userinfo response has no usable subject at ${target.subjectPath}`, 'invalid_userinfo');
    const email = at(json, target.emailPath);
    return printable(email) ? { subject: id, email } : { subject: id };
  }

  private async fromIdToken(server: oauth.AuthorizationServer, clientId: string, idToken: string): Promise<ProviderIdentity> {
    if (!server.jwks_uri) throw new IdentityInvalidError('the issuer publishes no jwks_uri to verify its ID token with');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, this.keySet(server.jwks_uri), {
        issuer: server.issuer,
        audience: clientId,
        requiredClaims: ['sub', 'exp', 'iat'],
        clockTolerance: 30,
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWKSTimeout || (err as { name?: string }).name === 'TypeError') {
        throw new IdentityUnavailableError("the issuer's JWKS could not be read");
      }
      if (err instanceof joseErrors.JOSEError) throw new IdentityInvalidError(`the ID token does not verify (${err.code})`);
      throw new IdentityUnavailableError("the issuer's JWKS could not be read");
    }
    // Several audiences: the token must have been issued to us (OIDC Core 3.1.3.7, azp).
    if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== clientId) {
      throw new IdentityInvalidError('the ID token was issued to another client (azp)');
    }
    return identityOf(payload);
  }

  private async fromUserinfo(server: oauth.AuthorizationServer, clientId: string, accessToken: string): Promise<ProviderIdentity> {
    let claims: oauth.UserInfoResponse;
    try {
      const response = await oauth.userInfoRequest(server, { client_id: clientId }, accessToken, {
        signal: AbortSignal.timeout(this.options.timeoutMs),
        [oauth.allowInsecureRequests]: this.options.allowInsecureRequests,
        ...(this.options.fetch ? { [oauth.customFetch]: this.options.fetch } : {}),
      });
      const length = Number(response.headers.get('content-length') ?? 0);
      if (length > USERINFO_MAX_BYTES) throw new IdentityInvalidError('the userinfo response is too large');
      claims = await oauth.processUserInfoResponse(server, { client_id: clientId }, oauth.skipSubjectCheck, response);
    } catch (err) {
      if (err instanceof IdentityInvalidError) throw err;
      if (err instanceof oauth.ResponseBodyError || err instanceof oauth.WWWAuthenticateChallengeError) {
        throw new IdentityInvalidError(`the userinfo endpoint refused the token (HTTP ${err.status})`);
      }
      throw new IdentityUnavailableError('the userinfo endpoint could not be read');
    }
    return identityOf(claims as JWTPayload);
  }

  private keySet(uri: string): ReturnType<typeof createRemoteJWKSet> {
    let set = this.keySets.get(uri);
    if (!set) {
      set = createRemoteJWKSet(new URL(uri), {
        timeoutDuration: this.options.timeoutMs,
        ...(this.options.fetch ? { [customFetch]: this.options.fetch } : {}),
      });
      this.keySets.set(uri, set);
    }
    return set;
  }
}

/** `sub` (required) and `email` (unless the provider says it is unverified), bounded and printable. */
function identityOf(claims: JWTPayload): ProviderIdentity {
  const subject = claims.sub;
  if (!printable(subject)) throw new IdentityInvalidError('the assertion has no usable sub claim');
  const email = claims.email;
  return printable(email) && claims.email_verified !== false ? { subject, email } : { subject };
}

/** The member at a dot path of parsed JSON (own properties of plain objects only). */
function at(json: unknown, path: string): unknown {
  let value = json;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** The body as text, refused past `max` bytes without reading further. */
async function boundedText(response: Response, max: number): Promise<string> {
  if (Number(response.headers.get('content-length') ?? 0) > max) {
    await response.body?.cancel();
    throw new IdentityInvalidError('the userinfo response is too large', 'invalid_userinfo');
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new IdentityInvalidError('the userinfo response is too large', 'invalid_userinfo');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function printable(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_CLAIM_LENGTH && !/[\u0000-\u001f\u007f]/.test(value);
}
