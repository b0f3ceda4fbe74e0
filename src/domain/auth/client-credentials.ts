import { NexusError } from '../shared/errors.js';

/**
 * How a client presents itself: `Authorization: Basic` (RFC 6749 2.3.1:
 * form-urlencoded id and secret, base64) or client_id/client_secret in the
 * request. Parsing only; ClientRegistry.authenticate checks them.
 */
export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** The Authorization header's client credentials do not decode, or disagree with the body's. */
export class MalformedClientCredentials extends NexusError {
  readonly kind = 'unauthenticated';
  readonly reason = 'CLIENT_AUTHENTICATION_FAILED';
  constructor() {
    super('client authentication failed');
  }
}

export function clientCredentials(authorization: string | null, bodyId: string, bodySecret: string): ClientCredentials {
  const basic = authorization ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization) : null;
  if (!basic) return { clientId: bodyId, clientSecret: bodySecret };
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new MalformedClientCredentials();
  let clientId: string;
  let clientSecret: string;
  try {
    clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
    clientSecret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
  } catch {
    throw new MalformedClientCredentials();
  }
  // Two ways at once (RFC 6749 forbids it) is only tolerated when they agree.
  if ((bodyId && bodyId !== clientId) || (bodySecret && bodySecret !== clientSecret)) throw new MalformedClientCredentials();
  return { clientId, clientSecret };
}
