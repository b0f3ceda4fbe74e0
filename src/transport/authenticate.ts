import type { HandlerContext } from '@connectrpc/connect';
import type { ApiKeys } from '../domain/api-keys.js';
import type { Principal } from '../domain/principal.js';

/** Reads `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
export function presentedKey(headers: Headers): string | undefined {
  const apiKey = headers.get('x-api-key');
  if (apiKey !== null) return apiKey.trim();
  const auth = headers.get('authorization');
  if (auth === null) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(auth.trim());
  return match ? match[1]!.trim() : '';
}

export class Authenticator {
  constructor(private readonly apiKeys: ApiKeys) {}

  /** Undefined when no credentials were sent; throws UNAUTHENTICATED for bad ones. */
  principal(ctx: HandlerContext): Promise<Principal | undefined> {
    return this.apiKeys.authenticate(presentedKey(ctx.requestHeader));
  }
}
