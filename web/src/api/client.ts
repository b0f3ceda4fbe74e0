import { createClient, type Client, type Interceptor, type Transport } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-web';
import { ConnectionService } from '../../../gen/ts/nexus/v1/connection_pb.js';
import { ProviderService } from '../../../gen/ts/nexus/v1/provider_pb.js';

/**
 * Connect-Web to the Nexus that serves this page (same origin, so no CORS).
 * The web session's access token, when there is one, goes in
 * `Authorization: Bearer`; the capture page has none (its state authorizes it).
 */
export function transport(accessToken?: () => string | undefined): Transport {
  const interceptors: Interceptor[] = [
    (next) => (req) => {
      const token = accessToken?.();
      if (token) req.header.set('authorization', `Bearer ${token}`);
      return next(req);
    },
  ];
  return createConnectTransport({ baseUrl: location.origin, interceptors });
}

export interface Api {
  providers: Client<typeof ProviderService>;
  connections: Client<typeof ConnectionService>;
}

export function createApi(t: Transport): Api {
  return { providers: createClient(ProviderService, t), connections: createClient(ConnectionService, t) };
}
