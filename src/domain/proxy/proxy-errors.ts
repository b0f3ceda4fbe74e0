import { NexusError } from '../shared/errors.js';

/** A request or response body past NEXUS_PROXY_MAX_BODY_BYTES. */
export class ProxyBodyTooLargeError extends NexusError {
  readonly kind = 'resource_exhausted';
  readonly reason = 'PROXY_BODY_TOO_LARGE';
  constructor(
    readonly which: 'request' | 'response',
    readonly limit: number,
  ) {
    super(`the ${which} body is larger than the proxy's limit of ${limit} bytes (NEXUS_PROXY_MAX_BODY_BYTES)`, { limit: String(limit) });
  }
}

/** The provider could not be reached (refused, reset, DNS, TLS). */
export class ProxyUpstreamUnreachableError extends NexusError {
  readonly kind = 'unavailable';
  readonly reason = 'PROXY_UPSTREAM_UNREACHABLE';
  constructor(detail: string) {
    super(`the provider's API could not be reached: ${detail}`);
  }
}

/** The provider did not connect, answer, or send in time; `phase` says which. */
export class ProxyUpstreamTimeoutError extends NexusError {
  readonly kind = 'unavailable';
  readonly reason = 'PROXY_UPSTREAM_TIMEOUT';
  constructor(readonly phase: 'connect' | 'headers' | 'body') {
    super(`the provider's API did not ${phase === 'connect' ? 'accept the connection' : phase === 'headers' ? 'answer' : 'send or receive the body'} in time`, {
      phase,
    });
  }
}

/** The path after the connection id would leave the provider's API base, or is malformed. */
export class ProxyPathInvalidError extends NexusError {
  readonly kind = 'invalid_argument';
  readonly reason = 'PROXY_PATH_INVALID';
  constructor(problem: string) {
    super(`the proxied path ${problem}`);
  }
}

/** The agent's request body stalled past NEXUS_PROXY_IDLE_TIMEOUT_MS. */
export class ProxyRequestTimeoutError extends NexusError {
  readonly kind = 'unavailable';
  readonly reason = 'PROXY_REQUEST_TIMEOUT';
  constructor() {
    super('the request body stalled: nothing was received for too long (NEXUS_PROXY_IDLE_TIMEOUT_MS)');
  }
}
