// Hand-written. Typed errors for Nexus RPC failures, from the ConnectError's
// google.rpc.ErrorInfo detail (reason "ERROR_REASON_<X>", domain "nexus").
import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorInfoSchema } from './gen/google/rpc/error_details_pb.js';

/** Any error Nexus answered with. `reason` is the ErrorReason name without its prefix, e.g. "CONNECTION_NOT_FOUND". */
export class NexusError extends Error {
  override readonly name: string = 'NexusError';
  /** The Connect / gRPC status code. */
  readonly code: Code;
  /** The ErrorInfo reason without "ERROR_REASON_", or "" when the server sent none. */
  readonly reason: string;
  /** ErrorInfo metadata, e.g. `connection_id` or `field`. */
  readonly metadata: Readonly<Record<string, string>>;
  override readonly cause: ConnectError;

  constructor(cause: ConnectError, reason: string, metadata: Record<string, string>) {
    super(cause.rawMessage || Code[cause.code]);
    this.code = cause.code;
    this.reason = reason;
    this.metadata = metadata;
    this.cause = cause;
  }
}

/** NOT_FOUND: the connection or provider does not exist (in this project). */
export class NotFoundError extends NexusError {
  override readonly name = 'NotFoundError';
}

/** INVALID_ARGUMENT: a field of the request is missing or malformed (see `metadata.field`). */
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

/** UNAVAILABLE: the provider (or Nexus) failed for now; safe to retry later. */
export class UnavailableError extends NexusError {
  override readonly name = 'UnavailableError';
}

/** Turns any error from a Nexus RPC into a typed NexusError (other errors pass through). */
export function toNexusError(err: ConnectError | NexusError): NexusError;
export function toNexusError(err: unknown): unknown;
export function toNexusError(err: unknown): unknown {
  if (err instanceof NexusError) return err;
  if (!(err instanceof ConnectError)) return err;
  const info = err.findDetails(ErrorInfoSchema)[0];
  const reason = (info?.reason ?? '').replace(/^ERROR_REASON_/, '');
  const metadata = { ...(info?.metadata ?? {}) };
  if (reason === 'ATTENTION_REQUIRED') return new AttentionRequiredError(err, reason, metadata);
  switch (err.code) {
    case Code.NotFound:
      return new NotFoundError(err, reason, metadata);
    case Code.InvalidArgument:
      return new InvalidArgumentError(err, reason, metadata);
    case Code.Unauthenticated:
    case Code.PermissionDenied:
      return new AuthenticationError(err, reason, metadata);
    case Code.Unavailable:
      return new UnavailableError(err, reason, metadata);
    default:
      return new NexusError(err, reason, metadata);
  }
}
