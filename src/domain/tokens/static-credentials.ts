import type { ProviderRow } from '../model/provider.js';
import { credentialSchemaOf } from '../connections/connection-service.js';
import { secretProperties } from '../providers/credential-schema.js';
import type { IssuedCredential } from '../model/issued-credential.js';

/** Maps captured values to the strategy of the provider's auth type. */
export function staticCredential(provider: ProviderRow, captured: Record<string, unknown>): IssuedCredential {
  const str = (k: string) => (typeof captured[k] === 'string' ? (captured[k] as string) : '');
  const used = new Set<string>();
  const take = (k: string) => {
    used.add(k);
    return str(k);
  };
  // The remaining non-secret fields (an account id, a subdomain) travel as `extra`.
  const extra = () => {
    const secret = secretProperties(credentialSchemaOf(provider));
    return Object.fromEntries(Object.entries(captured).filter(([k]) => !used.has(k) && !secret.has(k)));
  };
  switch (provider.authType) {
    case 'API_KEY': {
      const placement = provider.apiKey ?? { location: 'header', name: 'Authorization', prefix: '', field: 'api_key' };
      return { type: 'api_key', apiKey: take(placement.field), placement, extra: extra() };
    }
    case 'BASIC_AUTH':
      return { type: 'basic_auth', username: take('username'), password: take('password'), extra: extra() };
    case 'AWS_SIGV4':
      return {
        type: 'aws_sigv4',
        accessKeyId: take('access_key_id'),
        secretAccessKey: take('secret_access_key'),
        sessionToken: take('session_token'),
        region: take('region') || provider.awsSigv4?.defaultRegion || '',
        service: provider.awsSigv4?.service ?? '',
        extra: extra(),
      };
    case 'BEARER':
      return { type: 'bearer', token: take('token'), extra: extra() };
    case 'OAUTH2':
    case 'MCP':
      throw new Error(`an ${provider.authType} provider has no static credential schema`);
  }
}
