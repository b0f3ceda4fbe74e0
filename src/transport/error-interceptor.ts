import type { Interceptor } from '@connectrpc/connect';
import { toConnectError } from './error-mapper.js';

/**
 * Server interceptor: every error leaves as a ConnectError with an
 * ErrorInfo, whether a unary handler threw it or a server stream raised it
 * mid-way (those surface while the response messages are iterated, after
 * `next` has returned).
 */
export function errorInterceptor(logUnexpected: (err: unknown, procedure: string) => void): Interceptor {
  return (next) => async (req) => {
    const map = (err: unknown) => toConnectError(err, (e) => logUnexpected(e, req.method.name));
    let res;
    try {
      res = await next(req);
    } catch (err) {
      throw map(err);
    }
    if (!res.stream) return res;
    const messages = res.message;
    return {
      ...res,
      message: (async function* () {
        try {
          yield* messages;
        } catch (err) {
          throw map(err);
        }
      })(),
    };
  };
}
