import type { AuditEventInput, AuditLog } from '../audit/types.js';
import { checkConnectionId } from '../connections/connection-id.js';
import type { Persistence } from '../ports/persistence.js';
import { InvalidFieldError, NexusError, UnauthenticatedError } from '../shared/errors.js';
import type { Principal } from '../shared/principal.js';
import type { TokenService } from '../tokens/token-service.js';
import { systemClock, type Clock } from '../ports/clock.js';
import {
  ExchangeClientNotAllowedError,
  ExchangeStaticCredentialError,
  ExchangeTargetAmbiguousError,
  ExchangeTargetNotFoundError,
  SubjectTokenInvalidError,
  SubjectTokenScopeMissingError,
  SubjectTokenTypeUnsupportedError,
} from '../auth/auth-errors.js';
import type { AuthService, IssuedTokens } from '../auth/auth-service.js';
import type { ClientCredentials } from '../auth/client-credentials.js';
import type { ClientRegistry } from '../auth/client-registry.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
/** `resource` may name a connection as this URN plus its id, or by the bare id. */
export const CONNECTION_URN_PREFIX = 'urn:nexus:connection:';
/** The grants of the token endpoint, as RFC 8414 metadata lists them. */
export const GRANT_TYPES = ['authorization_code', 'refresh_token', TOKEN_EXCHANGE_GRANT] as const;
/** Connections in these states count for an `audience` match (PENDING has no token, FAILED/REVOKED never will). */
const MATCHING_STATUSES = new Set(['ACTIVE', 'ATTENTION_REQUIRED']);

/** One OAuth token request, whichever transport carried it (RPC ExchangeToken or POST /oauth/token). */
export interface TokenRequest {
  grantType: string;
  code: string;
  redirectUri: string;
  codeVerifier: string;
  refreshToken: string;
  subjectToken: string;
  subjectTokenType: string;
  resource: string;
  audience: string;
  requestedTokenType: string;
}

/** A federated access token handed out by the token-exchange grant (never a refresh token). */
export interface ExchangedToken {
  accessToken: string;
  issuedTokenType: typeof ACCESS_TOKEN_TYPE;
  tokenType: string;
  /** Seconds left, when the provider said when it expires. */
  expiresIn: number | undefined;
  scopes: string[];
  connectionId: string;
}

export type TokenGrantResult = { kind: 'session'; tokens: IssuedTokens } | { kind: 'exchange'; token: ExchangedToken };

/** Who asked, for the audit log. */
export interface RequestContext {
  clientIp?: string | undefined;
  requestId?: string | undefined;
}

/**
 * The OAuth token endpoint's grants, one implementation for both transports.
 * The session grants (authorization_code, refresh_token) are AuthService's;
 * the RFC 8693 token-exchange grant lives here: a confidential client
 * trades a user access token it was issued (scope `tokens`) for the
 * federated access token of a connection of that user's workspace, through
 * TokenService.getToken (the same workspace check, usability check and
 * refresh path as GetToken). Every exchange that got past client
 * authentication is audited ('token.exchange'), refusals included; a
 * successful session grant is audited as 'auth.exchange_token' (refusals
 * of those happen before we know the project, as for the RPC before).
 */
export class TokenEndpoint {
  private readonly now: Clock;

  constructor(
    private readonly deps: {
      auth: AuthService;
      clients: ClientRegistry;
      tokens: TokenService;
      store: Persistence;
      audit?: AuditLog | undefined;
      clock?: Clock | undefined;
    },
  ) {
    this.now = deps.clock ?? systemClock;
  }

  async grant(credentials: () => ClientCredentials, req: TokenRequest, context: RequestContext = {}): Promise<TokenGrantResult> {
    if (req.grantType !== TOKEN_EXCHANGE_GRANT) {
      const tokens = await this.deps.auth.exchangeToken(credentials, req);
      this.deps.audit?.record({
        projectId: tokens.session.projectId,
        actor: { kind: 'end_user', accountId: tokens.account.id, workspaceId: tokens.account.workspaceId, clientId: tokens.session.clientId },
        action: 'auth.exchange_token',
        target: { type: 'session', id: tokens.session.id },
        outcome: 'success',
        ...(context.clientIp ? { clientIp: context.clientIp } : {}),
        ...(context.requestId ? { requestId: context.requestId } : {}),
        detail: { grant_type: req.grantType },
      });
      return { kind: 'session', tokens };
    }
    return { kind: 'exchange', token: await this.exchange(credentials, req, context) };
  }

  private async exchange(credentials: () => ClientCredentials, req: TokenRequest, context: RequestContext): Promise<ExchangedToken> {
    const client = await this.deps.clients.authenticate(credentials);
    let principal: Principal | undefined;
    let target: string | undefined;
    const record = (event: Pick<AuditEventInput, 'outcome' | 'reason' | 'detail'>) =>
      this.deps.audit?.record({
        ...event,
        projectId: client.projectId,
        actor: principal?.user
          ? { kind: 'end_user', accountId: principal.user.accountId, workspaceId: principal.user.workspaceId, clientId: client.id }
          : { kind: 'system' },
        action: 'token.exchange',
        ...(target ? { target: { type: 'connection', id: target } } : {}),
        ...(context.clientIp ? { clientIp: context.clientIp } : {}),
        ...(context.requestId ? { requestId: context.requestId } : {}),
        detail: { ...event.detail, client_id: client.id },
      });
    try {
      if (client.type === 'PUBLIC') throw new ExchangeClientNotAllowedError();
      checkRequest(req);
      principal = await this.subject(req.subjectToken, client.id);
      if (!principal.scopes.has('tokens')) throw new SubjectTokenScopeMissingError();
      target = await this.target(principal, req);
      const credential = await this.deps.tokens.getToken(principal, target, undefined);
      if (credential.type !== 'oauth2') throw new ExchangeStaticCredentialError();
      const expiresIn = credential.expiresAt ? Math.max(0, Math.floor((credential.expiresAt.getTime() - this.now()) / 1000)) : undefined;
      record({ outcome: 'success', detail: { by: req.resource ? 'resource' : 'audience' } });
      return {
        accessToken: credential.accessToken,
        issuedTokenType: ACCESS_TOKEN_TYPE,
        tokenType: /^bearer$/i.test(credential.tokenType || 'Bearer') ? 'Bearer' : credential.tokenType,
        expiresIn,
        scopes: credential.scopes,
        connectionId: target,
      };
    } catch (err) {
      if (err instanceof NexusError) record({ outcome: err.kind === 'unavailable' ? 'failed' : 'denied', reason: err.reason });
      throw err;
    }
  }

  /** The user principal of the subject token, which must have been issued to this very client. */
  private async subject(token: string, clientId: string): Promise<Principal> {
    let principal: Principal;
    try {
      principal = await this.deps.auth.principalOf(token);
    } catch (err) {
      if (err instanceof UnauthenticatedError) throw new SubjectTokenInvalidError(subjectProblem(err.message));
      throw err;
    }
    if (!principal.user || principal.user.clientId !== clientId) throw new SubjectTokenInvalidError('was issued to another client');
    return principal;
  }

  /** The connection id `resource` or `audience` names; the workspace check is getToken's. */
  private async target(principal: Principal, req: TokenRequest): Promise<string> {
    if (req.resource) {
      const id = req.resource.startsWith(CONNECTION_URN_PREFIX) ? req.resource.slice(CONNECTION_URN_PREFIX.length) : req.resource;
      try {
        checkConnectionId('resource', id);
      } catch {
        throw new ExchangeTargetNotFoundError('resource', `name a connection by its id or as "${CONNECTION_URN_PREFIX}<id>"`);
      }
      return id;
    }
    const provider = req.audience.length <= 200 ? await this.deps.store.providers.findByIdOrName(principal.projectId, req.audience) : null;
    if (!provider) throw new ExchangeTargetNotFoundError('audience', 'no such provider in this project');
    const rows = await this.deps.store.connections.list({
      projectId: principal.projectId,
      workspaceId: principal.user!.workspaceId,
      providerId: provider.id,
      limit: 50,
    });
    const live = rows.filter((r) => MATCHING_STATUSES.has(r.status));
    if (live.length === 0) throw new ExchangeTargetNotFoundError('audience', 'the workspace has no connection to this provider');
    if (live.length > 1) throw new ExchangeTargetAmbiguousError();
    return live[0]!.id;
  }
}

function checkRequest(req: TokenRequest): void {
  if (!req.subjectToken) throw new InvalidFieldError('subject_token', 'is required for the token-exchange grant');
  if (!req.subjectTokenType) throw new InvalidFieldError('subject_token_type', 'is required for the token-exchange grant');
  if (req.subjectTokenType !== ACCESS_TOKEN_TYPE) throw new SubjectTokenTypeUnsupportedError('subject_token_type');
  if (req.requestedTokenType && req.requestedTokenType !== ACCESS_TOKEN_TYPE) throw new SubjectTokenTypeUnsupportedError('requested_token_type');
  if (req.resource && req.audience) throw new InvalidFieldError('audience', 'send resource or audience, not both');
  if (!req.resource && !req.audience) throw new InvalidFieldError('resource', 'resource (a connection) or audience (a provider) is required');
  if (req.subjectToken.length > 4096) throw new SubjectTokenInvalidError('is not valid');
}

/** principalOf's wording, reworded for a subject token. */
function subjectProblem(message: string): string {
  if (message.includes('expired')) return 'has expired';
  if (message.includes('session')) return 'belongs to a session that has ended';
  return 'is not valid';
}
