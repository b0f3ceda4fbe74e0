import { Transform, type Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ProxyConfig } from '../config/config.js';
import type { AuditLog } from '../domain/audit/types.js';
import type { SafeStream, StreamedResponse } from '../domain/outbound/safe-fetch.js';
import { applyCredential } from '../domain/proxy/apply-credential.js';
import { ProxyBodyTooLargeError, ProxyRequestTimeoutError, ProxyUpstreamTimeoutError, ProxyUpstreamUnreachableError } from '../domain/proxy/proxy-errors.js';
import { downstreamResponseHeaders, ERROR_HEADER_NAME, upstreamRequestHeaders } from '../domain/proxy/proxy-headers.js';
import { upstreamUrl } from '../domain/proxy/proxy-target.js';
import { NexusError } from '../domain/shared/errors.js';
import type { Principal } from '../domain/shared/principal.js';
import type { IssuedCredential } from '../domain/model/issued-credential.js';
import type { Metrics } from '../observability/metrics.js';
import { authorize } from './access.js';
import { actorOf, refusedKeyOf } from './audit-interceptor.js';
import type { RefusalThrottle } from '../domain/audit/refusal-throttle.js';
import { errorReasonValueName } from './error-mapper.js';
import { enforceHttpQuota, type QuotaCheck } from '../http/quota.js';

/** Request bodies up to this size (declared by Content-Length) are buffered, so a 401 can be retried after a refresh. */
export const PROXY_REPLAY_MAX_BYTES = 64 * 1024;

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export interface ProxyRouteDeps {
  verify: (ctx: { requestHeader: Headers }) => Promise<Principal | undefined>;
  quotas?: QuotaCheck | undefined;
  tokens: {
    forProxy(caller: Principal, connectionId: string, force: boolean): Promise<{ credential: IssuedCredential; apiBaseUrl: string; refreshable: boolean }>;
  };
  stream: SafeStream;
  limits: ProxyConfig;
  audit: AuditLog;
  /** Records the refusals of unknown, revoked and expired keys, bounded per client IP; without it they are not recorded. */
  refusals?: RefusalThrottle | undefined;
  metrics: Metrics;
  clientIp: (request: FastifyRequest) => string;
  /** Unexpected failures (never with a secret: the error only). */
  logError: (err: unknown) => void;
}

/**
 * The credential-injecting proxy: `/proxy/{connection_id}/{path}` on the
 * API port, every method. The caller authenticates as for GetToken (an API
 * key with `tokens`, or an end user's access token with `tokens`, confined
 * to its workspace) and spends one call of its quotas; Nexus applies the
 * connection's credential and forwards to the provider's api_base_url +
 * path + query through the SSRF-safe streaming fetch. Bodies stream both
 * ways under NEXUS_PROXY_MAX_BODY_BYTES; the provider's status, headers and
 * body come back as they are (minus hop-by-hop headers, Set-Cookie and any
 * header carrying the credential). Nexus's own refusals carry
 * `Nexus-Error: ERROR_REASON_...` and a JSON body; the provider's never do.
 * See docs/proxy.md and SECURITY.md "Credential-injecting proxy".
 */
export function registerProxyRoute(app: FastifyInstance, deps: ProxyRouteDeps): void {
  app.register(async (scope) => {
    // Bodies are not parsed: the handler streams request.raw itself.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    for (const url of ['/proxy/:connectionId', '/proxy/:connectionId/*']) {
      scope.route({ method: [...METHODS], url, exposeHeadRoute: false, handler: (request, reply) => proxy(deps, request, reply) });
    }
  });
}

interface CallRecord {
  principal?: Principal;
  connectionId: string;
  method: string;
  path: string;
  upstreamStatus?: number;
  requestBytes: number;
  responseBytes: number;
}

async function proxy(deps: ProxyRouteDeps, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const started = performance.now();
  const { connectionId, path, query } = splitUrl(request.raw.url ?? '/');
  const call: CallRecord = { connectionId, method: request.method, path, requestBytes: 0, responseBytes: 0 };
  const abort = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) abort.abort();
  });
  const finish = (source: 'provider' | 'nexus', err?: unknown) => {
    const status = reply.statusCode;
    deps.metrics.proxyRequests.inc({ status_class: `${Math.floor(status / 100)}xx`, source });
    deps.metrics.proxyDuration.observe((performance.now() - started) / 1000);
    deps.metrics.proxyBytes.inc({ direction: 'request' }, call.requestBytes);
    deps.metrics.proxyBytes.inc({ direction: 'response' }, call.responseBytes);
    audit(deps, request, call, err);
  };
  try {
    const headers = new Headers();
    for (const [k, v] of Object.entries(request.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    const principal = authorize({ kind: 'scope', scope: 'tokens' }, await deps.verify({ requestHeader: headers }))!;
    call.principal = principal;
    if (deps.quotas && !(await enforceHttpQuota(deps.quotas, principal, deps.clientIp(request), reply))) {
      finish('nexus', new QuotaRefused());
      return reply;
    }
    const declared = declaredLength(request);
    const hasBody = declared === undefined ? request.headers['transfer-encoding'] !== undefined : declared > 0;
    if (declared !== undefined && declared > deps.limits.maxBodyBytes) throw new ProxyBodyTooLargeError('request', deps.limits.maxBodyBytes);
    let target = await deps.tokens.forProxy(principal, connectionId, false);
    const url = upstreamUrl(target.apiBaseUrl, path, query);
    // The body: none, buffered (small and declared: it can be replayed) or streamed (read once).
    let body: Buffer | Readable | undefined;
    if (hasBody && declared !== undefined && declared <= PROXY_REPLAY_MAX_BYTES) {
      body = await readAll(request.raw, deps.limits, call);
    } else if (hasBody) {
      body = request.raw.pipe(limiter(deps.limits, 'request', (n) => (call.requestBytes += n)));
    }
    const replayable = !(body && !Buffer.isBuffer(body));
    const forwarded = upstreamRequestHeaders(request.headers);
    if (Buffer.isBuffer(body)) forwarded['content-length'] = String(body.length);
    else if (declared !== undefined && body) forwarded['content-length'] = String(declared);
    const send = async () => {
      const signed = await applyCredential(
        target.credential,
        request.method,
        url,
        forwarded,
        body === undefined ? undefined : Buffer.isBuffer(body) ? { buffered: body } : { streamed: true },
      );
      const response = await deps.stream(signed.url, { method: request.method, headers: signed.headers, body, signal: abort.signal });
      return { response, secrets: signed.secrets };
    };
    let { response, secrets } = await send();
    if (response.status === 401 && replayable && target.refreshable) {
      // One forced refresh (single flight in the Refresher) and one retry.
      discard(response.body);
      target = await deps.tokens.forProxy(principal, connectionId, true);
      ({ response, secrets } = await send());
    }
    call.upstreamStatus = response.status;
    return relay(deps, reply, response, secrets, call, finish);
  } catch (err) {
    const error = classify(err, deps);
    // A body left unread would hold a keep-alive connection: HTTP/1.1 closes it after the answer.
    if (!request.raw.readableEnded && request.raw.httpVersionMajor === 1) reply.header('connection', 'close');
    sendError(reply, error);
    finish('nexus', error);
    return reply;
  }
}

/** Sends the provider's answer: status, filtered headers, the body streamed (and counted against the limit). */
function relay(
  deps: ProxyRouteDeps,
  reply: FastifyReply,
  response: StreamedResponse,
  secrets: string[],
  call: CallRecord,
  finish: (source: 'provider' | 'nexus', err?: unknown) => void,
): FastifyReply {
  const length = Number(response.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(length) && length > deps.limits.maxBodyBytes) {
    discard(response.body);
    throw new ProxyBodyTooLargeError('response', deps.limits.maxBodyBytes);
  }
  reply.code(response.status);
  reply.headers(downstreamResponseHeaders(response.headers, secrets));
  if (Number.isFinite(length)) reply.header('content-length', String(length));
  let failure: unknown;
  const counted = response.body.pipe(limiter(deps.limits, 'response', (n) => (call.responseBytes += n), false));
  response.body.on('error', (err) => {
    failure = err;
    counted.destroy(err);
  });
  reply.raw.on('close', () => finish('provider', failure ?? (reply.raw.writableFinished ? undefined : new Error('the response was cut off'))));
  return reply.send(counted);
}

/** Counts bytes, fails past the limit, and (for the agent's request body) fails after an idle gap. */
function limiter(limits: ProxyConfig, which: 'request' | 'response', count: (n: number) => void, idle = true): Transform {
  let total = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = (t: Transform) => {
    if (!idle) return;
    clearTimeout(timer);
    timer = setTimeout(() => t.destroy(new ProxyRequestTimeoutError()), limits.idleTimeoutMs);
    timer.unref();
  };
  const t: Transform = new Transform({
    transform(chunk: Buffer, _enc, done) {
      total += chunk.length;
      count(chunk.length);
      if (total > limits.maxBodyBytes) return done(new ProxyBodyTooLargeError(which, limits.maxBodyBytes));
      arm(t);
      done(null, chunk);
    },
    flush(done) {
      clearTimeout(timer);
      done();
    },
    destroy(err, done) {
      clearTimeout(timer);
      done(err);
    },
  });
  arm(t);
  return t;
}

async function readAll(source: Readable, limits: ProxyConfig, call: CallRecord): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of source.pipe(limiter(limits, 'request', (n) => (call.requestBytes += n)))) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Drops a response body unread (its abort error is expected, not an uncaught one). */
function discard(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}

function declaredLength(request: FastifyRequest): number | undefined {
  const value = request.headers['content-length'];
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** `/proxy/{id}/{path}?{query}` as sent (the path stays percent-encoded). */
function splitUrl(raw: string): { connectionId: string; path: string; query: string } {
  const q = raw.indexOf('?');
  const pathname = q < 0 ? raw : raw.slice(0, q);
  const query = q < 0 ? '' : raw.slice(q + 1);
  const rest = pathname.slice('/proxy/'.length);
  const slash = rest.indexOf('/');
  const idPart = slash < 0 ? rest : rest.slice(0, slash);
  let connectionId = idPart;
  try {
    connectionId = decodeURIComponent(idPart);
  } catch {
    // Left as sent: the connection id check refuses it.
  }
  return { connectionId, path: slash < 0 ? '' : rest.slice(slash), query };
}

class QuotaRefused extends Error {}

/** Maps a failure to one of Nexus's own errors (never INTERNAL to the agent). */
function classify(err: unknown, deps: ProxyRouteDeps): NexusError {
  if (err instanceof NexusError) return err;
  const code = (err as { code?: string }).code ?? '';
  const cause = (err as { cause?: { code?: string } }).cause;
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || cause?.code === 'UND_ERR_CONNECT_TIMEOUT') return new ProxyUpstreamTimeoutError('connect');
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return new ProxyUpstreamTimeoutError('headers');
  if (code === 'UND_ERR_BODY_TIMEOUT') return new ProxyUpstreamTimeoutError('body');
  if (
    ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'].includes(code) ||
    /^ERR_TLS|CERT|SSL/.test(code)
  ) {
    return new ProxyUpstreamUnreachableError(code);
  }
  deps.logError(err);
  return new ProxyUpstreamUnreachableError('the exchange failed');
}

const STATUS_BY_REASON: Partial<Record<string, number>> = {
  ATTENTION_REQUIRED: 424,
  PROXY_BODY_TOO_LARGE: 413,
  PROXY_UPSTREAM_TIMEOUT: 504,
  PROXY_UPSTREAM_UNREACHABLE: 502,
  PROXY_REQUEST_TIMEOUT: 408,
  PROVIDER_UNAVAILABLE: 502,
  URL_NOT_ALLOWED: 409,
};

const STATUS_BY_KIND: Record<NexusError['kind'], number> = {
  invalid_argument: 400,
  not_found: 404,
  already_exists: 409,
  failed_precondition: 409,
  unauthenticated: 401,
  permission_denied: 403,
  unavailable: 503,
  resource_exhausted: 429,
  data_loss: 500,
};

/** The HTTP status of one of Nexus's own errors on the proxy. */
export function proxyStatusOf(err: NexusError): number {
  return STATUS_BY_REASON[err.reason] ?? STATUS_BY_KIND[err.kind];
}

function sendError(reply: FastifyReply, err: NexusError): void {
  if (reply.sent || reply.raw.headersSent) {
    reply.raw.destroy();
    return;
  }
  const reason = errorReasonValueName(err.reason);
  reply
    .code(proxyStatusOf(err))
    .header(ERROR_HEADER_NAME, reason)
    .header('cache-control', 'no-store')
    .header('content-type', 'application/json; charset=utf-8')
    .send(JSON.stringify({ code: err.kind, reason, message: err.message }));
}

function audit(deps: ProxyRouteDeps, request: FastifyRequest, call: CallRecord, err: unknown): void {
  if (!call.principal) {
    const refused = deps.refusals && refusedKeyOf(err);
    if (!refused) return;
    const ip = deps.clientIp(request);
    deps.refusals!.record({
      ...refused,
      action: 'proxy.request',
      target: { type: 'connection', id: call.connectionId.slice(0, 128) },
      outcome: 'denied',
      reason: (err as NexusError).reason,
      ...(ip ? { clientIp: ip } : {}),
      requestId: request.id,
      detail: { ...refused.detail, method: call.method },
    });
    return;
  }
  const ip = deps.clientIp(request);
  let outcome: 'success' | 'denied' | 'failed' = 'success';
  let reason: string | undefined;
  if (err instanceof NexusError) {
    outcome = err.kind === 'unauthenticated' || err.kind === 'permission_denied' ? 'denied' : 'failed';
    reason = err.reason;
  } else if (err instanceof QuotaRefused) {
    outcome = 'denied';
    reason = 'RATE_LIMITED';
  } else if (err) {
    outcome = 'failed';
    reason = 'PROXY_UPSTREAM_UNREACHABLE';
  }
  deps.audit.record({
    projectId: call.principal.projectId,
    actor: actorOf(call.principal),
    action: 'proxy.request',
    target: { type: 'connection', id: call.connectionId.slice(0, 128) },
    outcome,
    ...(reason ? { reason } : {}),
    ...(ip ? { clientIp: ip } : {}),
    requestId: request.id,
    detail: {
      method: call.method,
      path: call.path.slice(0, 512),
      ...(call.upstreamStatus !== undefined ? { upstream_status: call.upstreamStatus } : {}),
      request_bytes: call.requestBytes,
      response_bytes: call.responseBytes,
    },
  });
}
