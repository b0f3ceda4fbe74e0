import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { AuthType, ClientAuthMethod, ProviderSchema, type Provider } from '../../gen/ts/nexus/v1/provider_pb.js';
import type { TestAuthServer } from './oauth-server.js';

type ProviderInit = MessageInitShape<typeof ProviderSchema>;

function make(base: ProviderInit, overrides: ProviderInit): Provider {
  return create(ProviderSchema, Object.assign({}, base, overrides) as ProviderInit);
}

/** An OAUTH2 provider pointing at the local authorization server. */
export function oauthProvider(auth: TestAuthServer, overrides: ProviderInit = {}): Provider {
  return make(
    {
      name: 'local-oauth',
      displayName: 'Local OAuth',
      description: 'The test authorization server',
      categories: ['testing'],
      authType: AuthType.OAUTH2,
      enabled: true,
      oauth2: {
        clientId: auth.clientId,
        clientSecret: auth.clientSecret,
        authorizationUrl: auth.authorizationUrl,
        tokenUrl: auth.tokenUrl,
        revocationUrl: auth.revocationUrl,
        defaultScopes: ['openid', 'email'],
        clientAuthMethod: ClientAuthMethod.CLIENT_SECRET_BASIC,
      },
    },
    overrides,
  );
}

export function apiKeyProvider(overrides: ProviderInit = {}): Provider {
  return make(
    {
      name: 'acme-api',
      displayName: 'Acme API',
      categories: ['developer-tools'],
      authType: AuthType.API_KEY,
      enabled: true,
      apiKey: { name: 'X-Acme-Key' },
    },
    overrides,
  );
}

export function basicAuthProvider(overrides: ProviderInit = {}): Provider {
  return make(
    {
      name: 'legacy-crm',
      displayName: 'Legacy CRM',
      categories: ['crm'],
      authType: AuthType.BASIC_AUTH,
      enabled: true,
    },
    overrides,
  );
}
