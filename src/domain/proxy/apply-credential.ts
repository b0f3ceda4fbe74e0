import type { IssuedCredential } from '../model/issued-credential.js';

/** What the proxy sends upstream once the credential is applied. */
export interface SignedRequest {
  url: URL;
  headers: Record<string, string | string[]>;
  /** The credential's secret values: response headers carrying one are dropped. */
  secrets: string[];
}

/**
 * Applies a connection's credential to an outbound request by its strategy:
 * OAuth2 and bearer tokens as `Authorization: Bearer`, API keys where the
 * provider places them (a header with its prefix, or a query parameter),
 * Basic as `Authorization: Basic`, AWS SigV4 signed here (the agent never
 * sees the secret key). `body` is the buffered body when there is one
 * (SigV4 hashes it); a streamed body is signed as UNSIGNED-PAYLOAD.
 */
export async function applyCredential(
  credential: IssuedCredential,
  method: string,
  url: URL,
  headers: Record<string, string | string[]>,
  body: { buffered: Buffer } | { streamed: true } | undefined,
  now: Date = new Date(),
): Promise<SignedRequest> {
  const out = { ...headers };
  const target = new URL(url);
  switch (credential.type) {
    case 'oauth2': {
      const type = !credential.tokenType || /^bearer$/i.test(credential.tokenType) ? 'Bearer' : credential.tokenType;
      out.authorization = `${type} ${credential.accessToken}`;
      return { url: target, headers: out, secrets: [credential.accessToken] };
    }
    case 'bearer':
      out.authorization = `Bearer ${credential.token}`;
      return { url: target, headers: out, secrets: [credential.token] };
    case 'basic_auth': {
      const encoded = Buffer.from(`${credential.username}:${credential.password}`).toString('base64');
      out.authorization = `Basic ${encoded}`;
      return { url: target, headers: out, secrets: [encoded, credential.password] };
    }
    case 'api_key': {
      const { placement, apiKey } = credential;
      if (placement.location === 'query') {
        target.searchParams.delete(placement.name);
        target.searchParams.append(placement.name, apiKey);
      } else {
        // The agent's own value for the provider's header never goes on.
        for (const name of Object.keys(out)) if (name.toLowerCase() === placement.name.toLowerCase()) delete out[name];
        out[placement.name.toLowerCase()] = `${placement.prefix}${apiKey}`;
      }
      return { url: target, headers: out, secrets: [apiKey] };
    }
    case 'aws_sigv4': {
      const { signSigV4 } = await import('./sigv4.js');
      const signed = signSigV4(credential, method, target, out, body, now);
      return { url: target, headers: signed, secrets: [credential.secretAccessKey, ...(credential.sessionToken ? [credential.sessionToken] : [])] };
    }
  }
}
