import type { HandlerContext } from '@connectrpc/connect';
import type { ApiKeys } from '../domain/access/api-keys.js';
import type { AuthService } from '../domain/auth/auth-service.js';
import type { Principal } from '../domain/shared/principal.js';

/** Reads `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
export function presentedKey(headers: Headers): string | undefined {
  const apiKey = headers.get('x-api-key');
  if (apiKey !== null) return apiKey.trim();
  const auth = headers.get('authorization');
  if (auth === null) return undefined;
  // `Basic` is client authentication for AuthService, not an API key.
  if (/^Basic\s/i.test(auth.trim())) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(auth.trim());
  return match ? match[1]!.trim() : '';
}

/** A JWS compact serialization (header.payload.signature, the header a JSON object): a user access token. */
export function looksLikeJwt(value: string): boolean {
  return /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(value);
}

export class Authenticator {
  constructor(
    private readonly apiKeys: ApiKeys,
    /** Accepts signed-in users' access tokens as Bearer tokens when set. */
    private readonly users?: AuthService,
  ) {}

  /**
   * Verifies the call's credentials (no reuse): undefined when none were
   * sent; throws UNAUTHENTICATED for bad ones. accessInterceptor (access.ts)
   * authorizes calls with it.
   */
  verify(ctx: Pick<HandlerContext, 'requestHeader'>): Promise<Principal | undefined> {
    const presented = presentedKey(ctx.requestHeader);
    if (presented !== undefined && this.users && looksLikeJwt(presented)) return this.users.principalOf(presented);
    return this.apiKeys.authenticate(presented);
  }
}
