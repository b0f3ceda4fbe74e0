import { Code, ConnectError } from '@connectrpc/connect';
import { create } from '@bufbuild/protobuf';
import { ErrorInfoSchema } from '../../gen/ts/google/rpc/error_details_pb.js';
import { NexusError, type ErrorKind } from '../domain/errors.js';

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

export function errorInfo(reason: string, metadata: Record<string, string> = {}) {
  return { desc: ErrorInfoSchema, value: create(ErrorInfoSchema, { reason: `ERROR_REASON_${reason}`, domain: ERROR_DOMAIN, metadata }) };
}

export function connectErrorFrom(err: NexusError): ConnectError {
  return new ConnectError(err.message, CODES[err.kind], undefined, [errorInfo(err.reason, err.metadata)]);
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
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connect ECONNREFUSED/i.test(
    message,
  );
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
    return new ConnectError('the database is unavailable; retry shortly', Code.Unavailable, undefined, [
      errorInfo('SERVICE_UNAVAILABLE'),
    ]);
  }
  logUnexpected(err);
  return new ConnectError('internal error', Code.Internal);
}
