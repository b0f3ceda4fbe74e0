import { newId } from '../../src/crypto/index.js';
import type { ConnectionRow, RefreshState } from '../../src/domain/model/connection.js';
import type { ProviderRow } from '../../src/domain/model/provider.js';

/** A provider row for the unit tier's fake ports: an enabled OAuth2 provider with nothing configured, then `over`. */
export function providerRow(over: Partial<ProviderRow> & Pick<ProviderRow, 'projectId'>): Omit<ProviderRow, 'createdAt' | 'updatedAt'> {
  return {
    id: newId('prv'),
    name: 'svc',
    displayName: 'Svc',
    description: '',
    logoUrl: '',
    categories: [],
    authType: 'OAUTH2',
    enabled: true,
    oauth2: null,
    clientSecretSealed: null,
    credentialSchema: null,
    postOauthFieldsSchema: null,
    apiKey: null,
    awsSigv4: null,
    catalogName: null,
    connectionFieldsSchema: null,
    mcp: null,
    apiBaseUrl: '',
    ...over,
  };
}

/** A connection row for the unit tier's fake ports: ACTIVE in workspace `ws`, no credentials, no expiry, then `over`. */
export function activeConnectionRow(
  over: Partial<ConnectionRow> & Pick<ConnectionRow, 'id' | 'projectId' | 'providerId'>,
): Omit<ConnectionRow, 'createdAt' | 'updatedAt' | keyof RefreshState> {
  return {
    workspaceId: 'ws',
    status: 'ACTIVE',
    statusReason: '',
    scopes: [],
    returnUrl: '',
    fields: null,
    supersededBy: null,
    credentialsSealed: null,
    tokenExpiresAt: null,
    ...over,
  };
}
