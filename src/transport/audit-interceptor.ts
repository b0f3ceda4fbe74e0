import { ConnectError, Code, createContextKey, type ContextValues, type HandlerContext, type Interceptor } from '@connectrpc/connect';
import type { AuditRecorder } from '../domain/audit/audit-recorder.js';
import type { AuditActor, AuditEventInput, AuditLog, AuditOutcome } from '../domain/audit/types.js';
import { clientCredentials } from '../domain/auth/client-credentials.js';
import type { RefusalThrottle } from '../domain/audit/refusal-throttle.js';
import { ApiKeyExpiredError, ApiKeyRefusedError, NexusError } from '../domain/shared/errors.js';
import { isOperator, OPERATOR_PROJECT_ID, type Principal } from '../domain/shared/principal.js';
import { policyOf, SERVICES } from './access.js';
import { clientIpKey } from './client-ip.js';
import { verifiedPrincipalKey } from './rate-limit.js';

/** The request id of the request log line (fastify's request id), set per request like the client IP. */
export const requestIdKey = createContextKey<string>('', { description: 'request id' });

const snake = (camel: string) => camel.replace(/(?<=[a-z0-9])(?=[A-Z])/g, '_').toLowerCase();

/** Records an event of a call the interceptor cannot attribute (no verified caller), with the call's client IP and request id. */
export function recordCall(audit: AuditLog | undefined, ctx: Pick<HandlerContext, 'values'>, event: Omit<AuditEventInput, 'clientIp' | 'requestId'>): void {
  const clientIp = ctx.values.get(clientIpKey);
  const requestId = ctx.values.get(requestIdKey);
  audit?.record({ ...event, ...(clientIp ? { clientIp } : {}), ...(requestId ? { requestId } : {}) });
}

/** The noun of each published service's actions: `TokenService.GetToken` is `token.read`, `ApiKeyService` is `api_key`. */
const NOUNS: ReadonlyMap<string, string> = new Map(Object.values(SERVICES).map((s) => [s.typeName, snake(s.name.replace(/Service$/, ''))]));

const VERBS: Readonly<Record<string, string>> = { get: 'read', list: 'list', watch: 'watch', create: 'create', update: 'update', delete: 'delete' };

/**
 * The action of a method: the service's noun, then the method's verb (Get
 * is `read`) and the rest of its name in snake case, the noun itself left
 * out: `GetToken` -> `token.read`, `RefreshToken` -> `token.refresh`,
 * `EnableCatalogProvider` -> `provider.enable_catalog`,
 * `GetPendingFields` -> `connection.read_pending_fields`.
 */
export function actionOf(typeName: string, methodName: string): string {
  const noun =
    NOUNS.get(typeName) ??
    snake(
      typeName
        .split('.')
        .pop()!
        .replace(/Service$/, ''),
    );
  const method = snake(methodName);
  const first = method.split('_')[0]!;
  const rest = method
    .slice(first.length)
    .replace(new RegExp(`(^|_)${noun}s?(?=_|$)`, 'g'), '')
    .replace(/^_+|_+$/g, '');
  const verb = VERBS[first] ?? first;
  return `${noun}.${rest ? `${verb}_${rest}` : verb}`;
}

/** By method descriptor (one object per method for the process's life): no key string built per call. */
const ACTIONS = new WeakMap<object, string>();
function cachedActionOf(method: { parent: { typeName: string }; name: string }): string {
  let action = ACTIONS.get(method);
  if (action === undefined) ACTIONS.set(method, (action = actionOf(method.parent.typeName, method.name)));
  return action;
}

/** Verbs whose events are written before the call returns; reads are batched (see AuditRecorder). */
const READ_VERBS = /^(read|list|watch|refresh)(_|$)/;

/** The request fields that name the call's target, first match wins. */
const TARGET_FIELDS: readonly [string, string | undefined][] = [
  ['connectionId', 'connection'],
  ['providerId', 'provider'],
  ['clientId', 'client'],
  ['keyId', 'api_key'],
  ['endpointId', 'webhook_endpoint'],
  ['deliveryId', 'webhook_delivery'],
  ['projectId', 'project'],
  ['id', undefined],
  ['name', undefined],
  ['workspaceId', 'workspace'],
  ['projectId', 'project'],
];

function targetOf(message: unknown, noun: string): AuditEventInput['target'] {
  if (!message || typeof message !== 'object') return undefined;
  const m = message as Record<string, unknown>;
  for (const [field, type] of TARGET_FIELDS) {
    const value = m[field];
    if (typeof value === 'string' && value !== '') return { type: type ?? noun, id: value };
  }
  return resourceElsewhere(m, noun);
}

/** Services whose resource is not named after them: the message field that holds it, and its target type. */
const RESOURCE_ELSEWHERE: Readonly<Record<string, { field: string; type: string }>> = { webhook: { field: 'endpoint', type: 'webhook_endpoint' } };

/** The resource of a service not named after it (WebhookService's webhook endpoint), in a request or response message field. */
function resourceElsewhere(message: Record<string, unknown>, noun: string): AuditEventInput['target'] {
  const other = RESOURCE_ELSEWHERE[noun];
  const resource = other && message[other.field];
  if (resource && typeof resource === 'object') {
    const id = (resource as Record<string, unknown>).id;
    if (typeof id === 'string' && id !== '') return { type: other.type, id };
  }
  return undefined;
}

/** What a created resource comes back as: its id, on the response's first message field that has one. */
function createdTargetOf(message: unknown, noun: string): AuditEventInput['target'] {
  if (!message || typeof message !== 'object') return undefined;
  const nested = (message as Record<string, unknown>)[noun.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())];
  if (nested && typeof nested === 'object') {
    const id = (nested as Record<string, unknown>).id;
    if (typeof id === 'string' && id !== '') return { type: noun, id };
  }
  return resourceElsewhere(message as Record<string, unknown>, noun);
}

export function actorOf(p: Principal): AuditActor {
  if (p.user) return { kind: 'end_user', accountId: p.user.accountId, workspaceId: p.user.workspaceId, clientId: p.user.clientId };
  // The installation operator's calls are recorded in its own (the installation) project, whatever project they act on.
  if (isOperator(p)) return { kind: 'operator', keyId: p.keyId };
  return { kind: 'api_key', keyId: p.keyId };
}

/** denied: the caller was refused (no or weak credentials, another workspace); failed: anything else that went wrong. */
function outcomeOf(err: unknown): { outcome: AuditOutcome; reason: string } {
  if (err instanceof NexusError) {
    const denied = err.kind === 'unauthenticated' || err.kind === 'permission_denied';
    return { outcome: denied ? 'denied' : 'failed', reason: err.reason };
  }
  if (err instanceof ConnectError) {
    const denied = err.code === Code.Unauthenticated || err.code === Code.PermissionDenied;
    return { outcome: denied ? 'denied' : 'failed', reason: Code[err.code] ?? 'UNKNOWN' };
  }
  return { outcome: 'failed', reason: 'INTERNAL' };
}

/**
 * Who to record a call against: the verified caller, or the owner of an
 * expired API key (a refusal where the project is known).
 */
async function principalOf(values: ContextValues): Promise<Principal | undefined> {
  const verified = values.get(verifiedPrincipalKey);
  if (!verified) return undefined;
  return verified.then(
    (p) => p,
    () => undefined,
  );
}

/** A refused API key as the audit log records it: in its owner's project when known, else the installation's, never the secret. */
export function refusedKeyOf(err: unknown): Pick<AuditEventInput, 'projectId' | 'actor' | 'detail'> | undefined {
  if (err instanceof ApiKeyExpiredError && err.key)
    return { projectId: err.key.projectId, actor: { kind: 'api_key', keyId: err.key.keyId }, detail: { key_state: 'expired' } };
  if (!(err instanceof ApiKeyRefusedError)) return undefined;
  const r = err.refused;
  if (r.state === 'revoked') return { projectId: r.projectId, actor: { kind: 'api_key', keyId: r.keyId }, detail: { key_state: 'revoked' } };
  return { projectId: OPERATOR_PROJECT_ID, actor: { kind: 'anonymous', presented: r.prefix }, detail: { key_state: 'unknown' } };
}

/** The call's refused API key (see refusedKeyOf), when its credentials did not verify. */
async function refusedCallerOf(values: ContextValues): Promise<Pick<AuditEventInput, 'projectId' | 'actor' | 'detail'> | undefined> {
  const verified = values.get(verifiedPrincipalKey);
  if (!verified) return undefined;
  return verified.then(() => undefined, refusedKeyOf);
}

/** Finds an OAuth client by id (ClientRegistry.find), to record a client's refused call in its project. */
export type ClientLookup = (clientId: string) => Promise<{ projectId: string; id: string }>;

export interface AuditInterceptorOptions {
  /** Bounds the refusals of callers that proved nothing (unknown, revoked or expired keys; unauthenticated clients); without it they are not recorded. */
  refusals?: RefusalThrottle;
  /** Places a client-authenticated call's refusal in the client's project (else the installation's). */
  clients?: ClientLookup;
}

/** The refusal of a client-authenticated AuthService call: the client it claimed (its id, never its secret), in its project when it exists. */
async function recordClientRefusal(
  refusals: RefusalThrottle,
  clients: ClientLookup | undefined,
  req: { header: Headers; message: unknown },
  base: Pick<AuditEventInput, 'action' | 'clientIp' | 'requestId'>,
  err: unknown,
): Promise<void> {
  const m = (req.message ?? {}) as { clientId?: unknown; clientSecret?: unknown };
  let claimed = '';
  try {
    claimed = clientCredentials(req.header.get('authorization'), String(m.clientId ?? ''), String(m.clientSecret ?? '')).clientId;
  } catch {
    // Malformed Basic credentials: no client named.
  }
  const client = claimed && clients ? await clients(claimed).catch(() => undefined) : undefined;
  refusals.record({
    ...base,
    projectId: client?.projectId ?? OPERATOR_PROJECT_ID,
    actor: { kind: 'anonymous', presented: claimed.slice(0, 100) },
    ...(client ? { target: { type: 'client', id: client.id } } : {}),
    ...outcomeOf(err),
  });
}

/**
 * Audits every call of the published API, driven by the access table: the
 * action from the method, the target from the request's resource field,
 * the project and actor from the verified credentials, the outcome (with
 * the ErrorReason of a refusal or failure), the client IP and request id.
 * `public` and `state` methods have no caller and are audited by the
 * domain where it matters (the OAuth callback, the capture page).
 *
 * Refusals of callers that proved nothing go through `refusals` (a per-IP
 * bound, counted summaries): an unknown API key (actor `anonymous` with the
 * key's public prefix, in the installation project), a revoked or expired
 * one (its key id, in its project), and a failed client-authenticated
 * AuthService call (the client id claimed, in the client's project when it
 * exists). Successful AuthService calls are audited by the domain, which
 * knows the account.
 *
 * Sits after the rate limiter (which verified the credentials) and before
 * the access interceptor, so it sees access refusals. While the audit
 * buffer is full, calls are refused (UNAVAILABLE, AUDIT_BACKLOG_FULL)
 * before they run.
 */
export function auditInterceptor(audit: AuditRecorder, options: AuditInterceptorOptions = {}): Interceptor {
  const { refusals, clients } = options;
  return (next) => async (req) => {
    const policy = policyOf(req.service.typeName, req.method.name);
    if (!policy || policy.kind === 'public' || policy.kind === 'state') return next(req);
    audit.admit();
    const noun = NOUNS.get(req.service.typeName)!;
    const action = cachedActionOf(req.method);
    const base = {
      action,
      clientIp: req.contextValues.get(clientIpKey) || undefined,
      requestId: req.contextValues.get(requestIdKey) || undefined,
    };
    if (policy.kind === 'client') {
      try {
        return await next(req);
      } catch (err) {
        if (refusals) await recordClientRefusal(refusals, clients, req, base, err);
        throw err;
      }
    }
    let res;
    try {
      res = await next(req);
    } catch (err) {
      const principal = await principalOf(req.contextValues);
      if (principal)
        audit.record({ ...base, projectId: principal.projectId, actor: actorOf(principal), target: targetOf(req.message, noun), ...outcomeOf(err) });
      else {
        const refused = refusals && (await refusedCallerOf(req.contextValues));
        if (refused) refusals.record({ ...base, ...refused, target: targetOf(req.message, noun), ...outcomeOf(err) });
      }
      throw err;
    }
    const principal = await principalOf(req.contextValues);
    if (principal) {
      const verb = action.slice(noun.length + 1);
      // A created resource is the target (not the workspace it was created in).
      const created = /^create(_|$)/.test(verb) && !res.stream ? createdTargetOf(res.message, noun) : undefined;
      const target = created ?? targetOf(req.message, noun);
      const event: AuditEventInput = { ...base, projectId: principal.projectId, actor: actorOf(principal), outcome: 'success', ...(target ? { target } : {}) };
      if (READ_VERBS.test(verb)) audit.record(event);
      else await audit.write(event);
    }
    return res;
  };
}
