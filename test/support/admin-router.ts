import { createClient, createRouterTransport, type ServiceImpl } from '@connectrpc/connect';
import type { DescService } from '@bufbuild/protobuf';
import type { ApiKeys } from '../../src/domain/access/api-keys.js';
import { accessInterceptor } from '../../src/transport/access.js';
import { Authenticator } from '../../src/transport/authenticate.js';
import { errorInterceptor } from '../../src/transport/error-interceptor.js';

/**
 * A client of one service's real routes over createRouterTransport, behind
 * the real error and access interceptors, authenticating API keys with
 * `apiKeys` (the unit tier's route tests: no server, no database).
 */
export function routeClient<S extends DescService>(service: S, handler: Partial<ServiceImpl<S>>, apiKeys: ApiKeys) {
  const authenticator = new Authenticator(apiKeys);
  const transport = createRouterTransport((router) => router.service(service, handler), {
    router: { interceptors: [errorInterceptor(() => {}), accessInterceptor((ctx) => authenticator.verify(ctx))] },
  });
  return createClient(service, transport);
}

/** Call options presenting `key` as a Bearer token. */
export const bearer = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

/** A service a route under test must never reach: any use throws, naming it. */
export function unreachable<T extends object>(name: string): T {
  return new Proxy({} as T, {
    get(_target, prop) {
      if (typeof prop === 'symbol' || prop === 'then') return undefined;
      throw new Error(`${name}.${String(prop)} was reached, but this test's routes must not use it`);
    },
  });
}
