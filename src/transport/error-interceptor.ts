import type { Interceptor } from '@connectrpc/connect';
import { toConnectError } from './error-mapper.js';

/** Server interceptor: every error leaves as a ConnectError with an ErrorInfo. */
export function errorInterceptor(logUnexpected: (err: unknown, procedure: string) => void): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (err) {
      throw toConnectError(err, (e) => logUnexpected(e, req.method.name));
    }
  };
}
