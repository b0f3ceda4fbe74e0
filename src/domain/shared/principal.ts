import type { ApiKeyScope } from '../model/api-key.js';
import { ScopeMissingError, UnauthenticatedError } from './errors.js';

/** Who is calling: the project an API key (or a user token) belongs to and what it may do. */
export interface Principal {
  projectId: string;
  /** The API key id; for a user token, the session id. */
  keyId: string;
  scopes: ReadonlySet<ApiKeyScope>;
  /** Set for a signed-in end user's access token: the caller is confined to this workspace. */
  user?: UserIdentity;
  /** When the credential stops being valid by itself (an access token's expiry, in this process's clock); streams end then. */
  expiresAt?: Date;
}

/** A signed-in end user (AuthService access token). */
export interface UserIdentity {
  accountId: string;
  sessionId: string;
  clientId: string;
  workspaceId: string;
  /** A Manage Connections web session (from a handoff), not a sign-in session. */
  webSession: boolean;
}

export const ALL_SCOPES: readonly ApiKeyScope[] = ['admin', 'connections', 'tokens'];

/** `admin` implies every other scope. */
export function requireScope(principal: Principal | undefined, scope: ApiKeyScope): Principal {
  if (!principal) throw new UnauthenticatedError('this call needs an API key (Authorization: Bearer or X-API-Key)');
  if (!principal.scopes.has(scope) && !principal.scopes.has('admin')) throw new ScopeMissingError(scope);
  return principal;
}

export function parseScopes(values: string[]): ApiKeyScope[] {
  const scopes = new Set<ApiKeyScope>();
  for (const value of values) {
    if (!(ALL_SCOPES as readonly string[]).includes(value)) {
      throw new Error(`unknown scope "${value}" (expected ${ALL_SCOPES.join(', ')})`);
    }
    scopes.add(value as ApiKeyScope);
  }
  return [...scopes];
}
