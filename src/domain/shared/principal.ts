import type { ApiKeyScope } from '../model/api-key.js';
import { OperatorRequiredError, ScopeMissingError, UnauthenticatedError } from './errors.js';
import { DEFAULT_PROJECT_ID } from '../model/project.js';

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

export const ALL_SCOPES: readonly ApiKeyScope[] = ['admin', 'connections', 'tokens', 'operator'];

/** The installation project's keys alone may hold `operator` (the installation-level role). */
export const OPERATOR_PROJECT_ID = DEFAULT_PROJECT_ID;

/**
 * The installation operator: an API key (never a user token) of the
 * installation project holding `operator`. Both conditions are checked, so
 * an `operator` scope that reached another project's key some other way
 * grants nothing beyond that project.
 */
export function isOperator(principal: Principal | undefined): boolean {
  return principal !== undefined && !principal.user && principal.projectId === OPERATOR_PROJECT_ID && principal.scopes.has('operator');
}

/** `admin` implies every project-level scope; `operator` implies `admin` too; nothing but itself implies `operator`. */
export function requireScope(principal: Principal | undefined, scope: ApiKeyScope): Principal {
  if (!principal) throw new UnauthenticatedError('this call needs an API key (Authorization: Bearer or X-API-Key)');
  if (scope === 'operator') return requireOperator(principal, 'this call');
  if (!principal.scopes.has(scope) && !principal.scopes.has('admin') && !isOperator(principal)) throw new ScopeMissingError(scope);
  return principal;
}

export function requireOperator(principal: Principal | undefined, what: string): Principal {
  if (!principal) throw new UnauthenticatedError('this call needs an API key (Authorization: Bearer or X-API-Key)');
  if (!isOperator(principal)) throw new OperatorRequiredError(what);
  return principal;
}

/**
 * The project a call about keys acts on: the caller's own when none (or its
 * own) is named; another only for the operator.
 */
export function targetProject(caller: Principal, requested: string): string {
  if (!requested || requested === caller.projectId) return caller.projectId;
  requireOperator(caller, "another project's keys");
  return requested;
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
