// Hand-written. Typed errors for Nexus RPC failures, from the ConnectError's
// google.rpc.ErrorInfo detail (reason "ERROR_REASON_<X>", domain "nexus"), and for the
// network failures on the way (a refused or reset connection, a browser's CORS refusal).
import { Code, ConnectError } from '@connectrpc/connect';
import { BadRequestSchema, ErrorInfoSchema } from './gen/google/rpc/error_details_pb.js';

/** The gRPC name of a status code, e.g. "NOT_FOUND" for `Code.NotFound`. */
export type CodeName =
  | 'CANCELLED'
  | 'UNKNOWN'
  | 'INVALID_ARGUMENT'
  | 'DEADLINE_EXCEEDED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_EXHAUSTED'
  | 'FAILED_PRECONDITION'
  | 'ABORTED'
  | 'OUT_OF_RANGE'
  | 'UNIMPLEMENTED'
  | 'INTERNAL'
  | 'UNAVAILABLE'
  | 'DATA_LOSS'
  | 'UNAUTHENTICATED';

const CODE_NAMES: Record<Code, CodeName> = {
  [Code.Canceled]: 'CANCELLED',
  [Code.Unknown]: 'UNKNOWN',
  [Code.InvalidArgument]: 'INVALID_ARGUMENT',
  [Code.DeadlineExceeded]: 'DEADLINE_EXCEEDED',
  [Code.NotFound]: 'NOT_FOUND',
  [Code.AlreadyExists]: 'ALREADY_EXISTS',
  [Code.PermissionDenied]: 'PERMISSION_DENIED',
  [Code.ResourceExhausted]: 'RESOURCE_EXHAUSTED',
  [Code.FailedPrecondition]: 'FAILED_PRECONDITION',
  [Code.Aborted]: 'ABORTED',
  [Code.OutOfRange]: 'OUT_OF_RANGE',
  [Code.Unimplemented]: 'UNIMPLEMENTED',
  [Code.Internal]: 'INTERNAL',
  [Code.Unavailable]: 'UNAVAILABLE',
  [Code.DataLoss]: 'DATA_LOSS',
  [Code.Unauthenticated]: 'UNAUTHENTICATED',
};

/** The gRPC name of `code`: `codeName(Code.NotFound) === 'NOT_FOUND'`. */
export function codeName(code: Code): CodeName {
  return CODE_NAMES[code] ?? 'UNKNOWN';
}

/** One broken rule of a CREDENTIALS_INVALID answer (google.rpc.BadRequest): never the submitted value. */
export interface FieldViolation {
  /** The request field path, e.g. `credentials.api_key` or `fields["x-y"]`. */
  field: string;
  /** The rule broken, e.g. "is required". */
  description: string;
}

/** Any error a Nexus call failed with. `reason` is the ErrorReason name without its prefix, e.g. "CONNECTION_NOT_FOUND". */
export class NexusError extends Error {
  override readonly name: string = 'NexusError';
  /** The Connect / gRPC status code (Code.Unavailable for a network failure). */
  readonly code: Code;
  /** The ErrorInfo reason without "ERROR_REASON_", or "" when the server sent none (a network failure, a proxy's answer). */
  readonly reason: string;
  /** ErrorInfo metadata, e.g. `connection_id` or `field`. */
  readonly metadata: Readonly<Record<string, string>>;
  /** The field violations of a CREDENTIALS_INVALID answer (google.rpc.BadRequest); empty otherwise. */
  readonly violations: readonly FieldViolation[];
  override readonly cause: ConnectError;

  constructor(cause: ConnectError, reason: string, metadata: Record<string, string>, code: Code = cause.code) {
    super(cause.rawMessage || Code[code]);
    this.code = code;
    this.reason = reason;
    this.metadata = metadata;
    this.violations = cause.findDetails(BadRequestSchema).flatMap((b) => b.fieldViolations.map((v) => ({ field: v.field, description: v.description })));
    this.cause = cause;
  }

  /** The gRPC name of `code`, e.g. "NOT_FOUND". */
  get codeName(): CodeName {
    return codeName(this.code);
  }
}

/** NOT_FOUND: the connection or provider does not exist (in this project). */
export class NotFoundError extends NexusError {
  override readonly name = 'NotFoundError';
}

/** INVALID_ARGUMENT: a field of the request is missing or malformed (see `metadata.field` and `violations`). */
export class InvalidArgumentError extends NexusError {
  override readonly name = 'InvalidArgumentError';
}

/** UNAUTHENTICATED or PERMISSION_DENIED: the API key is wrong or lacks a scope. */
export class AuthenticationError extends NexusError {
  override readonly name = 'AuthenticationError';
}

/**
 * ATTENTION_REQUIRED: the provider rejected the refresh; the user must reconnect
 * (create a new connection). Show `userMessage` to the user. Never retried.
 */
export class AttentionRequiredError extends NexusError {
  override readonly name = 'AttentionRequiredError';
  get connectionId(): string {
    return this.metadata.connection_id ?? '';
  }
  get userMessage(): string {
    return 'Access to this service has expired or was revoked. Please reconnect your account.';
  }
}

/**
 * UNAVAILABLE: the provider or Nexus failed for now, or Nexus could not be reached (a refused
 * or reset connection; in a browser also a CORS refusal, which the page only sees as
 * "Failed to fetch"). Safe to retry later; `network` tells a network failure apart.
 */
export class UnavailableError extends NexusError {
  override readonly name = 'UnavailableError';
  /** True when no answer arrived from Nexus at all (the request may or may not have been processed). */
  get network(): boolean {
    return this.reason === '' && isNetworkFailure(this.cause);
  }
}

/** Whether `err` is a NexusError (any of its subclasses). */
export function isNexusError(err: unknown): err is NexusError {
  return err instanceof NexusError;
}

/** Error codes of a connection the peer reset or closed under a request (Node, undici). */
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
/** Other error codes of a request that never got an answer. */
const NETWORK_CODES = new Set([
  ...RESET_CODES,
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);
/** What browsers' fetch rejects with when no answer arrives (Chromium, Firefox, Safari). */
const BROWSER_NETWORK_MESSAGES = /^(Failed to fetch|NetworkError when attempting to fetch resource\.|Load failed)$/;

function* causes(err: unknown): Generator<unknown> {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) yield e;
}

function codesOf(err: unknown): string[] {
  return [...causes(err)].map((e) => (e as { code?: unknown }).code).filter((c): c is string => typeof c === 'string');
}

/** A fetch that never got an answer: a network error code anywhere in the cause chain, or a browser's bare TypeError. */
function isNetworkFailure(err: unknown): boolean {
  if (!(err instanceof ConnectError) || err.findDetails(ErrorInfoSchema).length > 0) return false;
  if (codesOf(err).some((c) => NETWORK_CODES.has(c))) return true;
  return [...causes(err)].some((e) => e instanceof TypeError && (e.message === 'fetch failed' || BROWSER_NETWORK_MESSAGES.test(e.message)));
}

/**
 * Whether the call failed because the connection was reset or closed under it (a keep-alive
 * socket the server had just closed), as opposed to refused or answered. Only such failures
 * of calls without side effects are retried. In a browser, where fetch does not say why,
 * every network failure counts.
 */
export function isConnectionReset(err: unknown): boolean {
  const cause = err instanceof NexusError ? err.cause : err;
  if (!isNetworkFailure(cause)) return false;
  const codes = codesOf(cause);
  if (codes.some((c) => RESET_CODES.has(c))) return true;
  return codes.length === 0 && [...causes(cause)].some((e) => e instanceof TypeError && BROWSER_NETWORK_MESSAGES.test(e.message));
}

/**
 * Turns any error of a Nexus call into a typed NexusError: Nexus's answers by code and
 * reason, network failures as UnavailableError (code UNAVAILABLE), anything else as a
 * NexusError with its Connect code (UNKNOWN, CANCELLED for an abort).
 */
export function toNexusError(err: unknown): NexusError {
  if (err instanceof NexusError) return err;
  const connectErr = ConnectError.from(err);
  const info = connectErr.findDetails(ErrorInfoSchema)[0];
  const reason = (info?.reason ?? '').replace(/^ERROR_REASON_/, '');
  const metadata = { ...(info?.metadata ?? {}) };
  if (reason === 'ATTENTION_REQUIRED') return new AttentionRequiredError(connectErr, reason, metadata);
  if (isNetworkFailure(connectErr)) return new UnavailableError(connectErr, reason, metadata, Code.Unavailable);
  switch (connectErr.code) {
    case Code.NotFound:
      return new NotFoundError(connectErr, reason, metadata);
    case Code.InvalidArgument:
      return new InvalidArgumentError(connectErr, reason, metadata);
    case Code.Unauthenticated:
    case Code.PermissionDenied:
      return new AuthenticationError(connectErr, reason, metadata);
    case Code.Unavailable:
      return new UnavailableError(connectErr, reason, metadata);
    default:
      return new NexusError(connectErr, reason, metadata);
  }
}
