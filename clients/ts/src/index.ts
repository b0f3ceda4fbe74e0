// Hand-written entry point of @nexus-broker/client. The generated code lives in ./gen
// (copied from the repository's gen/ts at build time) and is exported as
// "@nexus-broker/client/gen/nexus/v1/<file>_pb".
export { createNexusClient, nexusInterceptor, withTypedErrors, type NexusClient, type NexusClientOptions } from './client.js';
export {
  AttentionRequiredError,
  AuthenticationError,
  InvalidArgumentError,
  NexusError,
  NotFoundError,
  UnavailableError,
  toNexusError,
} from './errors.js';
export { nexusProxyFetch, type NexusProxyFetchOptions } from './proxy.js';
export { TokenSource, applyCredentials, nexusFetch, type NexusFetchOptions, type OutgoingRequest, type TokenSourceOptions } from './inject.js';
export { VERSION } from './version.js';
export * from './gen/nexus/v1/connection_pb.js';
export * from './gen/nexus/v1/errors_pb.js';
export * from './gen/nexus/v1/provider_pb.js';
export * from './gen/nexus/v1/token_pb.js';
