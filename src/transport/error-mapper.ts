import { Code, ConnectError } from '@connectrpc/connect';
import { create } from '@bufbuild/protobuf';
import { durationFromMs } from '@bufbuild/protobuf/wkt';
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from '../../gen/ts/google/rpc/error_details_pb.js';
import { ErrorReason, ErrorReasonSchema } from '../../gen/ts/nexus/v1/errors_pb.js';
import { NexusError, type ErrorKind, type ErrorReasonName, type FieldViolation } from '../domain/shared/errors.js';

/** ErrorInfo.domain for every Nexus error. */
export const ERROR_DOMAIN = 'nexus';

const CODES: Record<ErrorKind, Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  failed_precondition: Code.FailedPrecondition,
  unauthenticated: Code.Unauthenticated,
  permission_denied: Code.PermissionDenied,
  unavailable: Code.Unavailable,
  resource_exhausted: Code.ResourceExhausted,
  data_loss: Code.DataLoss,
};

/** The full enum value name sent as ErrorInfo.reason, taken from the generated descriptor ("ERROR_REASON_" + name). */
export function errorReasonValueName(reason: ErrorReasonName): string {
  return ErrorReasonSchema.value[ErrorReason[reason]].name;
}

export function errorInfo(reason: ErrorReasonName, metadata: Record<string, string> = {}) {
  return { desc: ErrorInfoSchema, value: create(ErrorInfoSchema, { reason: errorReasonValueName(reason), domain: ERROR_DOMAIN, metadata }) };
}

/** google.rpc.RetryInfo: how long the client should wait before retrying (whole milliseconds, at least 1). */
export function retryInfo(delayMs: number) {
  return { desc: RetryInfoSchema, value: create(RetryInfoSchema, { retryDelay: durationFromMs(Math.max(1, Math.ceil(delayMs))) }) };
}

/** google.rpc.BadRequest: one field violation per broken rule (path and rule, never the value). */
export function badRequest(violations: readonly FieldViolation[]) {
  return {
    desc: BadRequestSchema,
    value: create(BadRequestSchema, { fieldViolations: violations.map((v) => ({ field: v.field, description: v.description })) }),
  };
}

export function connectErrorFrom(err: NexusError): ConnectError {
  const details = [
    errorInfo(err.reason, err.metadata),
    ...(err.retryDelayMs === undefined ? [] : [retryInfo(err.retryDelayMs)]),
    ...(err.fieldViolations === undefined ? [] : [badRequest(err.fieldViolations)]),
  ];
  return new ConnectError(err.message, CODES[err.kind], undefined, details);
}

/** PostgreSQL unreachable, pool exhausted, or a query cancelled by its timeout. */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string; name?: string };
  if (typeof e?.code === 'string') {
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P03', '57014', '08006', '08001', '08003'].includes(e.code)) {
      return true;
    }
  }
  const message = e?.message ?? '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connect ECONNREFUSED/i.test(message);
}

/**
 * SQLSTATEs that mean the database refused a value the caller sent: class 22
 * (data exception: a NUL or invalid byte sequence, 22021; an unsupported
 * Unicode escape in JSON, 22P05; a value too long for its column, 22001;
 * a number or date out of range, 22003/22008; malformed input syntax, 22P02)
 * and 54000 (a value too large to index). The boundary check refuses most of
 * these first; this keeps any that slip through INVALID_ARGUMENT, not INTERNAL.
 */
export function isInputRejectedByDatabase(err: unknown): boolean {
  const code = (err as { code?: unknown; driverError?: { code?: unknown } })?.code ?? (err as { driverError?: { code?: unknown } })?.driverError?.code;
  return typeof code === 'string' && /^(22[0-9A-Z]{3}|54000)$/.test(code);
}

/**
 * Turns anything a handler threw into a ConnectError with an ErrorInfo. An
 * error we did not anticipate becomes INTERNAL with a generic message: its
 * own text may carry data we must not echo.
 */
export function toConnectError(err: unknown, logUnexpected: (err: unknown) => void): ConnectError {
  if (err instanceof NexusError) return connectErrorFrom(err);
  // A ConnectError without an ErrorInfo is given one, with a safe message, by
  // protocol-errors.ts on the way out, whichever layer raised it.
  if (err instanceof ConnectError) return err;
  if (isDatabaseUnavailable(err)) {
    return new ConnectError('the database is unavailable; retry shortly', Code.Unavailable, undefined, [errorInfo('SERVICE_UNAVAILABLE')]);
  }
  if (isInputRejectedByDatabase(err)) {
    // The driver's message may quote the value; the caller gets a fixed one.
    return new ConnectError('a value in the request cannot be stored: it is too long or is not valid text', Code.InvalidArgument, undefined, [
      errorInfo('INVALID_FIELD', { field: 'request' }),
    ]);
  }
  logUnexpected(err);
  return new ConnectError('internal error', Code.Internal);
}
