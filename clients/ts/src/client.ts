// Hand-written. Connect clients for the Nexus services, authenticated with an API key, whose
// calls and streams fail with typed errors and whose safe calls retry once on a reset socket.
import type { DescMethod, DescService } from '@bufbuild/protobuf';
import { MethodOptions_IdempotencyLevel } from '@bufbuild/protobuf/wkt';
import { createClient, type Client, type Interceptor, type Transport } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-web';
import { ConnectionService } from './gen/nexus/v1/connection_pb.js';
import { ProviderService } from './gen/nexus/v1/provider_pb.js';
import { TokenService } from './gen/nexus/v1/token_pb.js';
import { isConnectionReset, toNexusError } from './errors.js';

export interface NexusClientOptions {
  /** The Nexus base URL, e.g. "http://localhost:8080". Ignored when `transport` is given. */
  baseUrl?: string;
  /** An API key (scope `tokens` for GetToken/RefreshToken, `connections` to manage connections). */
  apiKey?: string;
  /**
   * A transport of your own, e.g. `createGrpcTransport` from @connectrpc/connect-node.
   * Default: Connect over fetch (@connectrpc/connect-web), which works in Node 20+ and browsers.
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

/** An async iterable whose errors, when it is opened or mid-stream, are NexusError subclasses. */
async function* typedStream<T>(open: () => AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
  try {
    yield* open();
  } catch (err) {
    throw toNexusError(err);
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && !(value instanceof Promise) && Symbol.asyncIterator in value;
}

/**
 * Wraps a generated client so that its methods reject, and its server streams throw, NexusError
 * subclasses instead of ConnectError. (createNexusClient's clients also retry safe calls once.)
 */
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
        if (isAsyncIterable(result)) return typedStream(() => result as AsyncIterable<unknown>);
        return result;
      };
    },
  });
}

/**
 * Whether a call of `method` may be sent twice: the proto marks it `idempotency_level`
 * NO_SIDE_EFFECTS (Get*, List*) or IDEMPOTENT (GetToken).
 */
export function isSafeToRetry(method: DescMethod): boolean {
  return method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS || method.idempotency === MethodOptions_IdempotencyLevel.IDEMPOTENT;
}

/**
 * A client of `service` on `transport` with typed errors (unary calls and server streams),
 * whose unary calls without side effects are sent once more when the connection was reset
 * under the first attempt (a keep-alive socket the server had just closed). Other failures,
 * and calls with side effects, are never retried.
 */
export function createTypedClient<S extends DescService>(service: S, transport: Transport): Client<S> {
  const inner = createClient(service, transport) as unknown as Record<string, (...args: unknown[]) => unknown>;
  const typed: Record<string, unknown> = {};
  for (const method of service.methods) {
    const call = inner[method.localName]!;
    if (method.methodKind === 'server_streaming') {
      typed[method.localName] = (...args: unknown[]) => typedStream(() => call(...args) as AsyncIterable<unknown>);
    } else if (method.methodKind === 'unary') {
      const retry = isSafeToRetry(method);
      typed[method.localName] = async (...args: unknown[]) => {
        try {
          return await call(...args);
        } catch (err) {
          if (!retry || !isConnectionReset(err)) throw toNexusError(err);
        }
        try {
          return await call(...args);
        } catch (err) {
          throw toNexusError(err);
        }
      };
    } else {
      typed[method.localName] = call;
    }
  }
  return typed as Client<S>;
}

/**
 * Clients for ProviderService, ConnectionService and TokenService. Their methods reject, and
 * their streams throw, NexusError subclasses (NotFoundError, InvalidArgumentError,
 * AttentionRequiredError, UnavailableError for network failures, ...); calls without side
 * effects (Get*, List*, GetToken) are retried once on a reset connection.
 */
export function createNexusClient(options: NexusClientOptions): NexusClient {
  let transport = options.transport;
  if (!transport) {
    if (!options.baseUrl) throw new TypeError('createNexusClient: baseUrl or transport is required');
    transport = createConnectTransport({ baseUrl: options.baseUrl, interceptors: [nexusInterceptor(options.apiKey)] });
  }
  return {
    providers: createTypedClient(ProviderService, transport),
    connections: createTypedClient(ConnectionService, transport),
    tokens: createTypedClient(TokenService, transport),
    transport,
  };
}
