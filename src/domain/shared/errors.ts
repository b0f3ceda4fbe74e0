import type { ErrorReason } from '../../../gen/ts/nexus/v1/errors_pb.js';

/**
 * Typed domain errors. Each failure has its own class; the transport layer
 * maps `kind` to a Connect code and `reason` to `ErrorInfo.reason`
 * (`ERROR_REASON_<reason>`). Messages are written for the caller and never
 * contain a secret.
 */

/**
 * A reason the server may send: the name of a value of the generated
 * `ErrorReason` enum (proto/nexus/v1/errors.proto) without its
 * `ERROR_REASON_` prefix. A reason missing from the proto does not compile.
 * Type-only: the domain does not load generated code at run time.
 */
export type ErrorReasonName = Exclude<keyof typeof ErrorReason, 'UNSPECIFIED'>;

export type ErrorKind =
  | 'invalid_argument'
  | 'not_found'
  | 'already_exists'
  | 'failed_precondition'
  | 'unauthenticated'
  | 'permission_denied'
  | 'unavailable'
  | 'resource_exhausted'
  | 'data_loss';

/** The most characters of one caller-supplied value an error message or ErrorInfo quotes. */
export const ECHO_MAX_CHARS = 64;
/** Field paths are ours, but can end in a caller's map key; a file path can lead them (`nexus providers apply`). */
export const FIELD_PATH_MAX_CHARS = 256;
/** A backstop for a whole message or metadata value, whatever it is built from. */
export const ERROR_TEXT_MAX_CHARS = 2048;

/**
 * A caller-supplied value as an error quotes it: at most `max` characters,
 * then an ellipsis (a 900 KB provider name used to come back whole, in the
 * message, the ErrorInfo metadata and Connect's debug copy of it). Never cuts
 * a surrogate pair in half.
 */
export function echo(value: string, max = ECHO_MAX_CHARS): string {
  if (value.length <= max) return value;
  let end = max;
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${value.slice(0, end)}…`;
}

/** One broken rule of a request: the path to the field and what is wrong with it, never the value. */
export interface FieldViolation {
  /** A request field path, e.g. `credentials.api_key` or `fields["x-y"]`. */
  field: string;
  /** What rule the value breaks, e.g. "is required". */
  description: string;
}

export abstract class NexusError extends Error {
  abstract readonly kind: ErrorKind;
  abstract readonly reason: ErrorReasonName;
  readonly metadata: Record<string, string>;
  /** Set on load-shedding errors: sent as a google.rpc.RetryInfo (how long to wait before retrying). */
  retryDelayMs?: number;
  /** Set on schema refusals: sent as a google.rpc.BadRequest, one field violation each. */
  fieldViolations?: readonly FieldViolation[];

  constructor(message: string, metadata: Record<string, string> = {}) {
    super(echo(message, ERROR_TEXT_MAX_CHARS));
    this.name = new.target.name;
    this.metadata = Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, echo(v, ERROR_TEXT_MAX_CHARS)]));
  }
}

export class UnauthenticatedError extends NexusError {
  readonly kind = 'unauthenticated';
  readonly reason = 'UNAUTHENTICATED';
}

export class ScopeMissingError extends NexusError {
  readonly kind = 'permission_denied';
  readonly reason = 'SCOPE_MISSING';
  constructor(scope: string) {
    super(`this call needs an API key with the "${scope}" scope`, { scope });
  }
}

export class InvalidFieldError extends NexusError {
  readonly kind = 'invalid_argument';
  readonly reason = 'INVALID_FIELD';
  constructor(field: string, problem: string) {
    super(`${echo(field, FIELD_PATH_MAX_CHARS)}: ${problem}`, { field: echo(field, FIELD_PATH_MAX_CHARS) });
  }
}

export class PageTokenInvalidError extends NexusError {
  readonly kind = 'invalid_argument';
  readonly reason = 'PAGE_TOKEN_INVALID';
  constructor() {
    super('page_token is malformed or belongs to another query', { field: 'page_token' });
  }
}

export class ProviderNotFoundError extends NexusError {
  readonly kind = 'not_found';
  readonly reason = 'PROVIDER_NOT_FOUND';
  constructor(idOrName: string) {
    super(`provider "${echo(idOrName)}" not found`, { provider: echo(idOrName) });
  }
}

export class ProviderAlreadyExistsError extends NexusError {
  readonly kind = 'already_exists';
  readonly reason = 'PROVIDER_ALREADY_EXISTS';
  constructor(name: string) {
    super(`a provider named "${echo(name)}" already exists`, { provider: echo(name) });
  }
}

export class ProviderDisabledError extends NexusError {
  readonly kind = 'failed_precondition';
  readonly reason = 'PROVIDER_DISABLED';
  constructor(name: string) {
    super(`provider "${echo(name)}" is disabled`, { provider: echo(name) });
  }
}

export class ProviderMisconfiguredError extends NexusError {
  readonly kind: ErrorKind;
  readonly reason = 'PROVIDER_MISCONFIGURED';
  /** On write it is the caller's input (invalid argument); at use it is a precondition. */
  constructor(problem: string, kind: 'invalid_argument' | 'failed_precondition' = 'invalid_argument') {
    super(problem);
    this.kind = kind;
  }
}

export class ProviderInUseError extends NexusError {
  readonly kind = 'failed_precondition';
  readonly reason = 'PROVIDER_IN_USE';
  constructor(name: string, count: number) {
    super(`provider "${echo(name)}" still has ${count} connection(s); pass force to revoke them`, {
      provider: echo(name),
      field: 'force',
    });
  }
}

export class ProviderUnavailableError extends NexusError {
  readonly kind = 'unavailable';
  readonly reason = 'PROVIDER_UNAVAILABLE';
  constructor(what: string, detail: string) {
    super(`the provider could not ${what}: ${detail}; retry later`);
  }
}

export class ConnectionNotFoundError extends NexusError {
  readonly kind = 'not_found';
  readonly reason = 'CONNECTION_NOT_FOUND';
  constructor(id: string) {
    super(`connection "${echo(id)}" not found`, { connection_id: echo(id) });
  }
}

export class ConnectionNotActiveError extends NexusError {
  readonly kind = 'failed_precondition';
  readonly reason = 'CONNECTION_NOT_ACTIVE';
  constructor(id: string, status: string) {
    super(`connection "${echo(id)}" is ${status}, not ACTIVE`, { connection_id: echo(id), status });
  }
}

export class AttentionRequiredError extends NexusError {
  readonly kind = 'failed_precondition';
  readonly reason = 'ATTENTION_REQUIRED';
  /** `statusReason` refresh_interrupted: a replica died mid-refresh of a rotating token (see refresher.ts). */
  constructor(id: string, statusReason?: string) {
    super(
      statusReason === REFRESH_INTERRUPTED
        ? `connection "${id}" needs the user to reconnect: a refresh was interrupted and its refresh token may already have been used`
        : `connection "${id}" needs the user to reconnect: the provider rejected its refresh`,
      { connection_id: id },
    );
  }
}

/** status_reason of a connection whose refresh outcome was lost with the replica that ran it. */
export const REFRESH_INTERRUPTED = 'refresh_interrupted';

export class StaticCredentialError extends NexusError {
  readonly kind = 'failed_precondition';
  readonly reason = 'STATIC_CREDENTIAL';
  constructor(id: string) {
    super(`connection "${echo(id)}" uses a static credential, which cannot be refreshed`, { connection_id: echo(id) });
  }
}

export class CredentialUnreadableError extends NexusError {
  readonly kind = 'data_loss';
  readonly reason = 'CREDENTIAL_UNREADABLE';
  constructor(id: string) {
    super(`the stored credential of connection "${echo(id)}" cannot be decrypted; the user must reconnect`, { connection_id: echo(id) });
  }
}

export class NoPendingFieldsError extends NexusError {
  readonly kind = 'failed_precondition';
  readonly reason = 'NO_PENDING_FIELDS';
  constructor(id: string) {
    super(`connection "${echo(id)}" is not waiting for post-OAuth fields`, { connection_id: echo(id) });
  }
}

export class StateInvalidError extends NexusError {
  readonly kind = 'invalid_argument';
  readonly reason = 'STATE_INVALID';
  constructor() {
    super('state is malformed or its signature does not verify', { field: 'state' });
  }
}

export class StateExpiredError extends NexusError {
  readonly kind = 'failed_precondition';
  readonly reason = 'STATE_EXPIRED';
  constructor() {
    super('state has expired; start the connection again', { field: 'state' });
  }
}

export class StateAlreadyUsedError extends NexusError {
  readonly kind = 'failed_precondition';
  readonly reason = 'STATE_ALREADY_USED';
  constructor() {
    super('state was already used', { field: 'state' });
  }
}

export class ReturnUrlNotAllowedError extends NexusError {
  readonly kind = 'invalid_argument';
  readonly reason = 'RETURN_URL_NOT_ALLOWED';
  constructor() {
    super("return_url is not on the allow-list (the project's allowed_return_urls, else NEXUS_ALLOWED_RETURN_URLS)", { field: 'return_url' });
  }
}

export class CredentialsInvalidError extends NexusError {
  readonly kind = 'invalid_argument';
  readonly reason = 'CREDENTIALS_INVALID';
  /** One entry per schema rule broken: the field path and the rule, never the submitted value. */
  readonly violations: readonly FieldViolation[];
  /**
   * `violations` go out as a google.rpc.BadRequest. `pointerLines` ("/pointer rule", the
   * same violations as JSON pointers) are ErrorInfo metadata `violations`, "; "-joined,
   * kept for clients that read ErrorInfo only (the web app's form).
   */
  constructor(violations: readonly FieldViolation[], field = 'credentials', pointerLines: readonly string[] = []) {
    const kept = violations.slice(0, MAX_FIELD_VIOLATIONS);
    super(`${field} do not match the schema: ${kept.map((v) => `${v.field} ${v.description}`).join('; ')}`, {
      field,
      violations: pointerLines.slice(0, MAX_FIELD_VIOLATIONS).join('; '),
    });
    this.violations = kept;
    this.fieldViolations = kept;
  }
}

/** The most violations one CREDENTIALS_INVALID answer lists (a schema with many rules cannot grow it unbounded). */
export const MAX_FIELD_VIOLATIONS = 32;

export class ScopesInvalidError extends NexusError {
  readonly kind = 'invalid_argument';
  readonly reason = 'SCOPES_INVALID';
  constructor(problem: string) {
    super(`scopes: ${problem}`, { field: 'scopes' });
  }
}

export class ServiceUnavailableError extends NexusError {
  readonly kind = 'unavailable';
  readonly reason = 'SERVICE_UNAVAILABLE';
}

export class ResumeCursorInvalidError extends NexusError {
  readonly kind = 'invalid_argument';
  readonly reason = 'RESUME_CURSOR_INVALID';
  constructor() {
    super('resume_cursor is malformed: pass the cursor of an event or heartbeat exactly as received', { field: 'resume_cursor' });
  }
}

export class ResumeCursorExpiredError extends NexusError {
  readonly kind = 'failed_precondition';
  readonly reason = 'RESUME_CURSOR_EXPIRED';
  constructor() {
    super('the events after resume_cursor are no longer kept; watch again without a cursor for a fresh snapshot', {
      field: 'resume_cursor',
    });
  }
}

export class TooManyStreamsError extends NexusError {
  readonly kind = 'resource_exhausted';
  readonly reason = 'TOO_MANY_STREAMS';
  constructor(max: number) {
    super(`this server already holds its maximum of ${max} open streams; retry later or on another replica`, { max: String(max) });
  }
}

export class SnapshotTooLargeError extends NexusError {
  readonly kind = 'resource_exhausted';
  readonly reason = 'SNAPSHOT_TOO_LARGE';
  constructor(max: number) {
    super(`more than ${max} connections match this watch; filter by workspace_id or provider, or resume from a cursor`, { max: String(max) });
  }
}

export class ServerShuttingDownError extends NexusError {
  readonly kind = 'unavailable';
  readonly reason = 'SERVER_SHUTTING_DOWN';
  constructor() {
    super('the server is shutting down; reconnect with the last cursor');
  }
}

export class StreamBehindError extends NexusError {
  readonly kind = 'unavailable';
  readonly reason = 'SERVICE_UNAVAILABLE';
  constructor() {
    super('the stream fell too far behind; reconnect with the last cursor');
  }
}

export class UrlTemplateInvalidError extends NexusError {
  readonly kind = 'invalid_argument';
  readonly reason = 'URL_TEMPLATE_INVALID';
  constructor(field: string, problem: string, placeholder = '') {
    super(`${echo(field)}: ${problem}`, placeholder ? { field: echo(field), placeholder: echo(placeholder) } : { field: echo(field) });
  }
}

export class CatalogEntryNotFoundError extends NexusError {
  readonly kind = 'not_found';
  readonly reason = 'CATALOG_ENTRY_NOT_FOUND';
  constructor(name: string) {
    super(`the provider catalog has no entry "${echo(name)}"`, { catalog_name: echo(name) });
  }
}

export class UrlNotAllowedError extends NexusError {
  readonly kind: ErrorKind;
  readonly reason = 'URL_NOT_ALLOWED';
  /**
   * An admin's URL is invalid input; a URL met while fetching (metadata, a
   * redirect) is a precondition the catalog entry fails. The message names
   * the rule, never a response body.
   */
  constructor(
    readonly field: string,
    readonly problem: string,
    kind: 'invalid_argument' | 'failed_precondition' = 'invalid_argument',
  ) {
    super(`${echo(field)} ${problem}`, { field: echo(field) });
    this.kind = kind;
  }

  /** The same refusal, met while fetching rather than on input. */
  atUse(): UrlNotAllowedError {
    return this.kind === 'failed_precondition' ? this : new UrlNotAllowedError(this.field, this.problem, 'failed_precondition');
  }
}

export class McpDiscoveryFailedError extends NexusError {
  readonly kind = 'failed_precondition';
  readonly reason = 'MCP_DISCOVERY_FAILED';
  constructor(problem: string) {
    super(`MCP OAuth discovery failed: ${problem}`);
  }
}

/** Process-wide in-flight limit or database queue reached: the call was refused before any work. */
export class OverloadedError extends NexusError {
  readonly kind = 'unavailable';
  readonly reason = 'OVERLOADED';
  constructor(what: string, retryDelayMs: number) {
    super(`the server is overloaded (${what}); retry after a short delay, with backoff`);
    this.retryDelayMs = retryDelayMs;
  }
}

export class ConnectionBusyError extends NexusError {
  readonly kind = 'resource_exhausted';
  readonly reason = 'CONNECTION_BUSY';
  constructor(max: number, retryDelayMs: number) {
    super(`this connection already has ${max} calls in flight; wait for some to finish`, { max: String(max) });
    this.retryDelayMs = retryDelayMs;
  }
}

export class RateLimitedError extends NexusError {
  readonly kind = 'resource_exhausted';
  readonly reason = 'RATE_LIMITED';
  constructor(retryDelayMs: number) {
    super('too many unauthenticated calls from this address; retry later or authenticate');
    this.retryDelayMs = retryDelayMs;
  }
}

/**
 * An authenticated caller spent a call quota (SECURITY.md, "Quotas"): its API
 * key's (or user session's), or its client IP's within the project. Same
 * reason as the unauthenticated budget; ErrorInfo metadata `quota` says which.
 */
export class QuotaExceededError extends NexusError {
  readonly kind = 'resource_exhausted';
  readonly reason = 'RATE_LIMITED';
  constructor(quota: 'api_key' | 'client_ip', retryDelayMs: number) {
    super(
      quota === 'api_key'
        ? 'this API key (or session) is over its call quota; retry after the delay in RetryInfo'
        : 'this address is over its call quota for the project; retry after the delay in RetryInfo',
      { quota },
    );
    this.retryDelayMs = retryDelayMs;
  }
}

export class StreamQuotaExceededError extends NexusError {
  readonly kind = 'resource_exhausted';
  readonly reason = 'STREAM_QUOTA_EXCEEDED';
  constructor(problem: string, max: number, retryDelayMs: number) {
    super(problem, { max: String(max) });
    this.retryDelayMs = retryDelayMs;
  }
}

export class TooManyNoncesError extends NexusError {
  readonly kind = 'resource_exhausted';
  readonly reason = 'TOO_MANY_NONCES';
  constructor(max: number, retryDelayMs: number) {
    super(`this client already has ${max} unused sign-in nonces; use one or retry after they expire`, { max: String(max) });
    this.retryDelayMs = retryDelayMs;
  }
}

/** The consent link is unknown, or its flow no longer waits for consent (see SECURITY.md, "Consent links"). */
export class ConsentLinkInvalidError extends NexusError {
  readonly kind = 'not_found';
  readonly reason = 'CONSENT_LINK_INVALID';
  constructor() {
    super('this consent link is not valid (unknown, or its connection no longer waits for consent)');
  }
}

/** An OAuth callback for a flow nobody confirmed on Nexus's consent page. */
export class ConsentNotConfirmedError extends NexusError {
  readonly kind = 'failed_precondition';
  readonly reason = 'CONSENT_NOT_CONFIRMED';
  constructor() {
    super('this sign-in was not confirmed on the connection page first');
  }
}

/** The link or callback was opened without the cookie of the browser that started or confirmed the flow. */
export class ConsentBrowserMismatchError extends NexusError {
  readonly kind = 'permission_denied';
  readonly reason = 'CONSENT_BROWSER_MISMATCH';
  constructor() {
    super('this connection was started in another browser; only that browser can complete it');
  }
}

/** The confirmation was not posted from Nexus's own consent page. */
export class ConsentFormInvalidError extends NexusError {
  readonly kind = 'permission_denied';
  readonly reason = 'CONSENT_FORM_INVALID';
  constructor() {
    super('the confirmation did not come from the connection page; open the link again and confirm there');
  }
}

/** A user token reached outside its own workspace (or project). */
export class WorkspaceForbiddenError extends NexusError {
  readonly kind = 'permission_denied';
  readonly reason = 'WORKSPACE_FORBIDDEN';
  constructor(what: string) {
    super(`a user token can only reach its own workspace: ${what}`);
  }
}

/** The audit log's buffer is full (its database is slow or down): the call is refused rather than run unrecorded. */
export class AuditBacklogFullError extends NexusError {
  readonly kind = 'unavailable';
  readonly reason = 'AUDIT_BACKLOG_FULL';
  constructor(retryDelayMs: number) {
    super('the audit log is behind; retry shortly');
    this.retryDelayMs = retryDelayMs;
  }
}

/** WatchAuditEvents: the events after the cursor were pruned. */
export class AuditCursorPrunedError extends NexusError {
  readonly kind = 'failed_precondition';
  readonly reason = 'AUDIT_CURSOR_PRUNED';
  constructor(oldestSeq: number) {
    super(`the audit events after after_seq were pruned; the oldest kept is ${oldestSeq}`, { field: 'after_seq', oldest_seq: String(oldestSeq) });
  }
}

/** WatchAuditEvents: the cursor is past the project's last event. */
export class AuditCursorAheadError extends NexusError {
  readonly kind = 'invalid_argument';
  readonly reason = 'AUDIT_CURSOR_AHEAD';
  constructor() {
    super('after_seq is past the last audit event of this project: pass the seq of an event received', { field: 'after_seq' });
  }
}

export class ProjectNotFoundError extends NexusError {
  readonly kind = 'not_found';
  readonly reason = 'PROJECT_NOT_FOUND';
  constructor(id: string) {
    super(`project "${echo(id)}" not found`, { project_id: echo(id) });
  }
}

export class ProjectAlreadyExistsError extends NexusError {
  readonly kind = 'already_exists';
  readonly reason = 'PROJECT_ALREADY_EXISTS';
  constructor(name: string) {
    super(`a project named "${echo(name)}" already exists`, { name: echo(name) });
  }
}

export class ProjectHasConnectionsError extends NexusError {
  readonly kind = 'failed_precondition';
  readonly reason = 'PROJECT_HAS_CONNECTIONS';
  constructor(id: string, count: number) {
    super(`project "${echo(id)}" still has ${count} connection(s); pass force to revoke them at their providers first`, {
      project_id: echo(id),
      field: 'force',
    });
  }
}

export class ProjectProtectedError extends NexusError {
  readonly kind = 'failed_precondition';
  readonly reason = 'PROJECT_PROTECTED';
  constructor(id: string) {
    super(`project "${echo(id)}" is the installation project (it holds the operator's keys) and cannot be deleted`, { project_id: echo(id) });
  }
}

export class ApiKeyNotFoundError extends NexusError {
  readonly kind = 'not_found';
  readonly reason = 'API_KEY_NOT_FOUND';
  constructor(id: string) {
    super(`API key "${echo(id)}" not found`, { key_id: echo(id) });
  }
}

export class ApiKeyNotActiveError extends NexusError {
  readonly kind = 'failed_precondition';
  readonly reason = 'API_KEY_NOT_ACTIVE';
  constructor(id: string, state: 'revoked' | 'expired') {
    super(`API key "${echo(id)}" is ${state}: create a new key instead`, { key_id: echo(id), state });
  }
}

export class OperatorRequiredError extends NexusError {
  readonly kind = 'permission_denied';
  readonly reason = 'OPERATOR_REQUIRED';
  constructor(what: string) {
    super(`${what} needs the installation operator (an API key of the installation project with the "operator" scope)`);
  }
}

/**
 * A presented API key that is unknown or revoked. The caller gets the same
 * UNAUTHENTICATED answer either way; `refused` is for the audit log only
 * (never sent: not metadata).
 */
export class ApiKeyRefusedError extends UnauthenticatedError {
  readonly refused: { state: 'unknown'; prefix: string } | { state: 'revoked'; projectId: string; keyId: string };
  constructor(refused: ApiKeyRefusedError['refused']) {
    super('API key is not valid');
    this.refused = refused;
  }
}

export class ApiKeyExpiredError extends NexusError {
  readonly kind = 'unauthenticated';
  readonly reason = 'API_KEY_EXPIRED';
  /** Whose key it was: the audit log records the refusal in its project. Never sent to the caller (not metadata). */
  readonly key: { projectId: string; keyId: string } | undefined;
  constructor(key?: { projectId: string; keyId: string }) {
    super('API key expired');
    this.key = key;
  }
}

/** The connection's provider has no api_base_url: the proxy does not know where to forward. */
export class ProxyNotConfiguredError extends NexusError {
  readonly kind = 'failed_precondition';
  readonly reason = 'PROXY_NOT_CONFIGURED';
  constructor(providerName: string) {
    super(`provider "${providerName}" has no api_base_url: the proxy cannot forward its calls (set api_base_url)`);
  }
}

export class WebhookEndpointNotFoundError extends NexusError {
  readonly kind = 'not_found';
  readonly reason = 'WEBHOOK_ENDPOINT_NOT_FOUND';
  constructor(id: string) {
    super(`webhook endpoint "${echo(id)}" not found`, { endpoint_id: echo(id) });
  }
}

export class WebhookDeliveryNotFoundError extends NexusError {
  readonly kind = 'not_found';
  readonly reason = 'WEBHOOK_DELIVERY_NOT_FOUND';
  constructor(id: string) {
    super(`webhook delivery "${echo(id)}" not found`, { delivery_id: echo(id) });
  }
}

export class WebhookDeliveryUnfinishedError extends NexusError {
  readonly kind = 'failed_precondition';
  readonly reason = 'WEBHOOK_DELIVERY_UNFINISHED';
  constructor(id: string, status: string) {
    super(`webhook delivery ${echo(id)} is still ${status}: redeliver it once it has succeeded or is dead`, { delivery_id: echo(id), status });
  }
}

export class WebhookEndpointLimitError extends NexusError {
  readonly kind = 'resource_exhausted';
  readonly reason = 'WEBHOOK_ENDPOINT_LIMIT';
  constructor(max: number) {
    super(`the project already has ${max} webhook endpoints: delete one first`, { max: String(max) });
  }
}
