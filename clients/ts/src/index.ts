// Hand-written entry point of @nexus-broker/client. The generated code lives in ./gen
// (copied from the repository's gen/ts at build time) and is exported as
// "@nexus-broker/client/gen/nexus/v1/<file>_pb". AWS SigV4 signing is the separate
// "@nexus-broker/client/aws" export (./aws.ts).
export {
  createNexusClient,
  createTypedClient,
  isSafeToRetry,
  nexusInterceptor,
  withTypedErrors,
  type NexusClient,
  type NexusClientOptions,
} from './client.js';
export {
  AttentionRequiredError,
  AuthenticationError,
  InvalidArgumentError,
  NexusError,
  NotFoundError,
  UnavailableError,
  codeName,
  isConnectionReset,
  isNexusError,
  toNexusError,
  type CodeName,
  type FieldViolation,
} from './errors.js';
export { nexusProxyFetch, type NexusProxyFetchOptions } from './proxy.js';
export {
  TokenSource,
  applyCredentials,
  expireDate,
  nexusFetch,
  type ApplyOptions,
  type AwsSigner,
  type NexusFetchOptions,
  type OutgoingRequest,
  type TokenSourceOptions,
} from './inject.js';
export { ConnectionStatusError, waitForConnection, type WaitForConnectionOptions } from './wait.js';
export { VERSION } from './version.js';
export * from './gen/nexus/v1/connection_pb.js';
export * from './gen/nexus/v1/errors_pb.js';
export * from './gen/nexus/v1/provider_pb.js';
export * from './gen/nexus/v1/token_pb.js';
