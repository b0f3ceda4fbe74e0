import { createContextKey, type HandlerContext, type Interceptor } from '@connectrpc/connect';
import type { DescService } from '@bufbuild/protobuf';
import { AuditService } from '../../gen/ts/nexus/v1/audit_pb.js';
import { AuthService } from '../../gen/ts/nexus/v1/auth_pb.js';
import { ApiKeyService } from '../../gen/ts/nexus/v1/api_key_pb.js';
import { ClientService } from '../../gen/ts/nexus/v1/client_pb.js';
import { ConnectionService } from '../../gen/ts/nexus/v1/connection_pb.js';
import { ProjectService } from '../../gen/ts/nexus/v1/project_pb.js';
import { ProviderService } from '../../gen/ts/nexus/v1/provider_pb.js';
import { TokenService } from '../../gen/ts/nexus/v1/token_pb.js';
import { WebhookService } from '../../gen/ts/nexus/v1/webhook_pb.js';
import { UnauthenticatedError } from '../domain/shared/errors.js';
import type { ApiKeyScope } from '../domain/model/api-key.js';
import { requireOperator, requireScope, type Principal } from '../domain/shared/principal.js';
import { verifiedPrincipalKey } from './rate-limit.js';

/**
 * Who may call an RPC. The interceptor decides; handlers read the outcome
 * from their context (`callerOf`, `optionalCallerOf`) and never decide again.
 * - `scope`: an API key (or a user token) holding the scope (`admin` implies
 *   every project-level scope); none is UNAUTHENTICATED, a weaker one
 *   PERMISSION_DENIED.
 * - `operator`: the installation operator, an API key of the installation
 *   project holding `operator` (never a user token); anything else is
 *   PERMISSION_DENIED (OPERATOR_REQUIRED). It reaches every project.
 * - `user`: a signed-in end user's access token (the domain then checks the
 *   scopes of what is asked).
 * - `optional`: public, but credentials that are sent must verify, and a
 *   valid caller sees its own project (ListProviders, GetProvider).
 * - `state`: no credentials; the request's signed, single-use state token is
 *   the authorization (the capture page holds nothing else).
 * - `client`: no API key; the request authenticates as an OAuth client
 *   (Basic or client_id/client_secret), checked by the domain.
 * - `public`: no credentials and none looked at (static or rate-limited data).
 */
export type AccessPolicy =
  | { readonly kind: 'scope'; readonly scope: Exclude<ApiKeyScope, 'operator'> }
  | { readonly kind: 'operator' }
  | { readonly kind: 'user' }
  | { readonly kind: 'optional' }
  | { readonly kind: 'state' }
  | { readonly kind: 'client' }
  | { readonly kind: 'public' };

const scope = (s: Exclude<ApiKeyScope, 'operator'>): AccessPolicy => ({ kind: 'scope', scope: s });
const ADMIN = scope('admin');
const CONNECTIONS = scope('connections');
const TOKENS = scope('tokens');
const OPERATOR: AccessPolicy = { kind: 'operator' };
const USER: AccessPolicy = { kind: 'user' };
const OPTIONAL: AccessPolicy = { kind: 'optional' };
const STATE: AccessPolicy = { kind: 'state' };
const CLIENT: AccessPolicy = { kind: 'client' };
const PUBLIC: AccessPolicy = { kind: 'public' };

/** Every published service. `connectRoutes` registers exactly these. */
export const SERVICES = {
  providers: ProviderService,
  connections: ConnectionService,
  tokens: TokenService,
  auth: AuthService,
  clients: ClientService,
  audit: AuditService,
  projects: ProjectService,
  apiKeys: ApiKeyService,
  webhooks: WebhookService,
} as const;

type Services = typeof SERVICES;

/** One policy per method of every published service: a new RPC (or service) does not compile without one. */
export type AccessTable = { readonly [S in keyof Services]: { readonly [M in keyof Services[S]['method']]: AccessPolicy } };

export const ACCESS: AccessTable = {
  providers: {
    listProviders: OPTIONAL,
    getProvider: OPTIONAL,
    createProvider: ADMIN,
    updateProvider: ADMIN,
    deleteProvider: ADMIN,
    listCatalogProviders: PUBLIC,
    getCatalogProvider: PUBLIC,
    enableCatalogProvider: ADMIN,
  },
  connections: {
    createConnection: CONNECTIONS,
    getConnection: CONNECTIONS,
    listConnections: CONNECTIONS,
    deleteConnection: CONNECTIONS,
    getCredentialSchema: STATE,
    submitCredentials: STATE,
    getPendingFields: CONNECTIONS,
    finalizeConnection: CONNECTIONS,
    watchConnection: CONNECTIONS,
    watchConnections: CONNECTIONS,
  },
  tokens: {
    getToken: TOKENS,
    refreshToken: TOKENS,
  },
  auth: {
    getNonce: PUBLIC,
    authenticate: CLIENT,
    exchangeToken: CLIENT,
    revoke: CLIENT,
    listScopes: PUBLIC,
    initHandoff: USER,
    redeemHandoff: PUBLIC,
  },
  clients: {
    createClient: ADMIN,
    getClient: ADMIN,
    listClients: ADMIN,
    updateClient: ADMIN,
    deleteClient: ADMIN,
  },
  audit: {
    listAuditEvents: ADMIN,
    watchAuditEvents: ADMIN,
  },
  projects: {
    createProject: OPERATOR,
    getProject: OPERATOR,
    listProjects: OPERATOR,
    updateProject: OPERATOR,
    deleteProject: OPERATOR,
  },
  // A project's admin, its own keys; the operator (who holds admin too), any project's: the domain decides (ApiKeyAdmin).
  apiKeys: {
    createApiKey: ADMIN,
    listApiKeys: ADMIN,
    revokeApiKey: ADMIN,
    rotateApiKey: ADMIN,
  },
  // A project's admin, its own project's endpoints (the project comes from the key; others are NOT_FOUND).
  webhooks: {
    createWebhookEndpoint: ADMIN,
    getWebhookEndpoint: ADMIN,
    listWebhookEndpoints: ADMIN,
    updateWebhookEndpoint: ADMIN,
    deleteWebhookEndpoint: ADMIN,
    rotateWebhookSecret: ADMIN,
    listWebhookDeliveries: ADMIN,
    redeliverWebhook: ADMIN,
  },
};

/** The policy table by `service.typeName`, then `method.name` (as an interceptor sees a call). */
const BY_PROCEDURE: ReadonlyMap<string, ReadonlyMap<string, AccessPolicy>> = new Map(
  (Object.keys(SERVICES) as (keyof Services)[]).map((key) => {
    const service: DescService = SERVICES[key];
    const policies = ACCESS[key] as Record<string, AccessPolicy>;
    return [service.typeName, new Map(service.methods.map((m) => [m.name, policies[m.localName]!]))];
  }),
);

/** The policy of a method of a published service; undefined for any other procedure. */
export function policyOf(typeName: string, methodName: string): AccessPolicy | undefined {
  return BY_PROCEDURE.get(typeName)?.get(methodName);
}

/** Applies a policy to a verified caller: the caller the handler gets, or an error. */
export function authorize(policy: AccessPolicy, principal: Principal | undefined): Principal | undefined {
  switch (policy.kind) {
    case 'scope':
      return requireScope(principal, policy.scope);
    case 'operator':
      return requireOperator(principal, 'this call');
    case 'user':
      if (!principal?.user) throw new UnauthenticatedError("this call needs a signed-in user's access token (Authorization: Bearer)");
      return principal;
    case 'optional':
      return principal;
    case 'state':
    case 'client':
    case 'public':
      return undefined;
  }
}

/** What the access interceptor settled for a call. */
export interface Grant {
  /** The authorized caller; undefined for the policies that take no credentials. */
  readonly principal: Principal | undefined;
  /**
   * Verifies the call's credentials again (no cached result) under the same
   * policy: long-lived streams call it to end when a key is revoked, a token
   * expires or a scope is taken away.
   */
  readonly recheck: () => Promise<Principal | undefined>;
}

const grantKey = createContextKey<Grant | undefined>(undefined, { description: 'the access grant of the call' });

type Verify = (ctx: Pick<HandlerContext, 'requestHeader' | 'values'>) => Promise<Principal | undefined>;

/**
 * The one place RPCs are authorized: looks the method up in ACCESS, applies
 * its policy to the caller's verified credentials and puts the outcome in
 * the handler context. Procedures outside the table are refused
 * (UNAUTHENTICATED) unless `unguarded` names their service (services
 * registered beside the published API, e.g. the benchmarks' echo).
 * The call's first verification is reused when the rate limiter already
 * made it; `Grant.recheck` always verifies afresh.
 */
export function accessInterceptor(verify: Verify, unguarded: () => ReadonlySet<string> = () => new Set()): Interceptor {
  return (next) => async (req) => {
    const policy = policyOf(req.service.typeName, req.method.name);
    if (!policy) {
      if (unguarded().has(req.service.typeName)) return next(req);
      throw new UnauthenticatedError('this procedure is not part of the API');
    }
    const ctx = { requestHeader: req.header, values: req.contextValues };
    const verified =
      policy.kind === 'scope' || policy.kind === 'operator' || policy.kind === 'user' || policy.kind === 'optional'
        ? await (req.contextValues.get(verifiedPrincipalKey) ?? verify(ctx))
        : undefined;
    const grant: Grant = {
      principal: authorize(policy, verified),
      recheck: async () => authorize(policy, await verify(ctx)),
    };
    req.contextValues.set(grantKey, grant);
    return next(req);
  };
}

function grantOf(ctx: Pick<HandlerContext, 'values'>): Grant {
  const grant = ctx.values.get(grantKey);
  // Unreachable when the interceptor is installed; fail closed if it is not.
  if (!grant) throw new UnauthenticatedError('this call was not authorized');
  return grant;
}

/** The authorized caller of a method whose policy requires credentials (`scope`, `user`). */
export function callerOf(ctx: Pick<HandlerContext, 'values'>): Principal {
  const { principal } = grantOf(ctx);
  if (!principal) throw new UnauthenticatedError('this call needs an API key (Authorization: Bearer or X-API-Key)');
  return principal;
}

/** The caller of an `optional` method: undefined when anonymous. */
export function optionalCallerOf(ctx: Pick<HandlerContext, 'values'>): Principal | undefined {
  return grantOf(ctx).principal;
}

/** See Grant.recheck. */
export function recheckOf(ctx: Pick<HandlerContext, 'values'>): () => Promise<Principal | undefined> {
  return grantOf(ctx).recheck;
}
