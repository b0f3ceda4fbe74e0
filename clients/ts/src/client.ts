// Hand-written. Connect clients for the Nexus services, authenticated with an API key.
import { createClient, type Client, type Interceptor, type Transport } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-web';
import { ConnectionService } from './gen/nexus/v1/connection_pb.js';
import { ProviderService } from './gen/nexus/v1/provider_pb.js';
import { TokenService } from './gen/nexus/v1/token_pb.js';
import { toNexusError } from './errors.js';

export interface NexusClientOptions {
  /** The Nexus base URL, e.g. "http://localhost:8080". Ignored when `transport` is given. */
  baseUrl?: string;
  /** An API key (scope `tokens` for GetToken/RefreshToken, `connections` to manage connections). */
  apiKey?: string;
  /**
   * A transport of your own, e.g. `createGrpcTransport` from @connectrpc/connect-node.
   * Default: Connect over fetch (@connectrpc/connect-web), which works in Node 18+ and browsers.
   */
  transport?: Transport;
}

export interface NexusClient {
  providers: Client<typeof ProviderService>;
  connections: Client<typeof ConnectionService>;
  tokens: Client<typeof TokenService>;
  transport: Transport;
}

/** Sends the API key as `Authorization: Bearer <key>`. */
export function nexusInterceptor(apiKey?: string): Interceptor {
  return (next) => (req) => {
    if (apiKey) req.header.set('authorization', `Bearer ${apiKey}`);
    return next(req);
  };
}

/** Wraps a generated client so that its methods reject with NexusError subclasses instead of ConnectError. */
export function withTypedErrors<T extends object>(client: T): T {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (err) {
          throw toNexusError(err);
        }
        if (result instanceof Promise) {
          return result.catch((err: unknown) => {
            throw toNexusError(err);
          });
        }
        return result;
      };
    },
  });
}

/**
 * Clients for ProviderService, ConnectionService and TokenService. Their methods reject with
 * NexusError subclasses (NotFoundError, InvalidArgumentError, AttentionRequiredError, ...).
 */
export function createNexusClient(options: NexusClientOptions): NexusClient {
  let transport = options.transport;
  if (!transport) {
    if (!options.baseUrl) throw new TypeError('createNexusClient: baseUrl or transport is required');
    transport = createConnectTransport({ baseUrl: options.baseUrl, interceptors: [nexusInterceptor(options.apiKey)] });
  }
  return {
    providers: withTypedErrors(createClient(ProviderService, transport)),
    connections: withTypedErrors(createClient(ConnectionService, transport)),
    tokens: withTypedErrors(createClient(TokenService, transport)),
    transport,
  };
}
