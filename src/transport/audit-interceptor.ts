import { ConnectError, Code, createContextKey, type ContextValues, type HandlerContext, type Interceptor } from '@connectrpc/connect';
import type { AuditRecorder } from '../domain/audit/audit-recorder.js';
import type { AuditActor, AuditEventInput, AuditLog, AuditOutcome } from '../domain/audit/types.js';
import { ApiKeyExpiredError, NexusError } from '../domain/shared/errors.js';
import { isOperator, type Principal } from '../domain/shared/principal.js';
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

const ACTIONS = new Map<string, string>();
function cachedActionOf(typeName: string, methodName: string): string {
  const key = `${typeName}/${methodName}`;
  let action = ACTIONS.get(key);
  if (action === undefined) ACTIONS.set(key, (action = actionOf(typeName, methodName)));
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
  return undefined;
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
 * expired API key (a refusal where the project is known). Unknown and
 * revoked keys have no project to record into.
 */
async function principalOf(values: ContextValues): Promise<Principal | undefined> {
  const verified = values.get(verifiedPrincipalKey);
  if (!verified) return undefined;
  return verified.then(
    (p) => p,
    (err: unknown) => (err instanceof ApiKeyExpiredError && err.key ? { ...err.key, scopes: new Set() } : undefined),
  );
}

/**
 * Audits every call of the published API, driven by the access table: the
 * action from the method, the target from the request's resource field,
 * the project and actor from the verified credentials, the outcome (with
 * the ErrorReason of a refusal or failure), the client IP and request id.
 * Calls with no verified caller have no project to record into and are
 * skipped here: `public`, `state` and `client` methods (sign-in, token
 * exchange, handoff, revoke, the capture page) are audited by the domain,
 * which knows their project and account; an unknown or revoked key is too.
 *
 * Sits after the rate limiter (which verified the credentials) and before
 * the access interceptor, so it sees access refusals. While the audit
 * buffer is full, calls are refused (UNAVAILABLE, AUDIT_BACKLOG_FULL)
 * before they run.
 */
export function auditInterceptor(audit: AuditRecorder): Interceptor {
  return (next) => async (req) => {
    const policy = policyOf(req.service.typeName, req.method.name);
    if (!policy || policy.kind === 'public' || policy.kind === 'state' || policy.kind === 'client') return next(req);
    audit.admit();
    const noun = NOUNS.get(req.service.typeName)!;
    const action = cachedActionOf(req.service.typeName, req.method.name);
    const base = {
      action,
      clientIp: req.contextValues.get(clientIpKey) || undefined,
      requestId: req.contextValues.get(requestIdKey) || undefined,
    };
    let res;
    try {
      res = await next(req);
    } catch (err) {
      const principal = await principalOf(req.contextValues);
      if (principal)
        audit.record({ ...base, projectId: principal.projectId, actor: actorOf(principal), target: targetOf(req.message, noun), ...outcomeOf(err) });
      throw err;
    }
    const principal = await principalOf(req.contextValues);
    if (principal) {
      const verb = action.slice(noun.length + 1);
      // A created resource is the target (not the workspace it was created in).
      const created = verb === 'create' && !res.stream ? createdTargetOf(res.message, noun) : undefined;
      const target = created ?? targetOf(req.message, noun);
      const event: AuditEventInput = { ...base, projectId: principal.projectId, actor: actorOf(principal), outcome: 'success', ...(target ? { target } : {}) };
      if (READ_VERBS.test(verb)) audit.record(event);
      else await audit.write(event);
    }
    return res;
  };
}
