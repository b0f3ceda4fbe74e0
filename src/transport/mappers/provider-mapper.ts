import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { CatalogProviderSchema, ProviderSchema, type CatalogProvider, type Provider } from '../../../gen/ts/nexus/v1/provider_pb.js';
import { catalogTemplateRow, type CatalogEntry } from '../../domain/catalog/provider-catalog.js';
import { InvalidFieldError } from '../../domain/shared/errors.js';
import type { ProviderInput } from '../../domain/providers/provider-input.js';
import type { ProviderRow } from '../../domain/model/provider.js';
import {
  apiKeyLocationToDomain,
  apiKeyLocationToWire,
  authTypeToDomain,
  authTypeToWire,
  clientAuthToDomain,
  clientAuthToWire,
  tokenFormatToDomain,
  rotationToDomain,
  rotationToWire,
  tokenFormatToWire,
} from './enums.js';

/**
 * The public face of a provider: never the client secret, only whether one
 * is set. `registeredClientId` is the MCP client Nexus registered, if any.
 */
export function providerToProto(row: ProviderRow, registeredClientId = ''): Provider {
  return create(ProviderSchema, {
    id: row.id,
    name: row.name,
    displayName: row.displayName,
    description: row.description,
    logoUrl: row.logoUrl,
    categories: row.categories,
    authType: authTypeToWire(row.authType),
    enabled: row.enabled,
    oauth2: row.oauth2
      ? {
          clientId: row.oauth2.clientId,
          clientSecretSet: row.clientSecretSealed !== null,
          authorizationUrl: row.oauth2.authorizationUrl ?? '',
          tokenUrl: row.oauth2.tokenUrl ?? '',
          revocationUrl: row.oauth2.revocationUrl ?? '',
          issuer: row.oauth2.issuer ?? '',
          expectedIssuer: row.oauth2.expectedIssuer ?? '',
          defaultScopes: row.oauth2.defaultScopes,
          scopeSeparator: row.oauth2.scopeSeparator,
          authorizeParams: row.oauth2.authorizeParams,
          clientAuthMethod: clientAuthToWire(row.oauth2.clientAuthMethod),
          tokenResponseFormat: tokenFormatToWire(row.oauth2.tokenResponseFormat),
          refreshTokenRotation: rotationToWire(row.oauth2.refreshTokenRotation),
          tokenParams: row.oauth2.tokenParams ?? {},
          tokenResponsePaths: row.oauth2.tokenResponsePaths ?? {},
        }
      : undefined,
    credentialSchema: (row.credentialSchema ?? undefined) as Provider['credentialSchema'],
    postOauthFieldsSchema: (row.postOauthFieldsSchema ?? undefined) as Provider['postOauthFieldsSchema'],
    apiKey: row.apiKey
      ? { location: apiKeyLocationToWire(row.apiKey.location), name: row.apiKey.name, prefix: row.apiKey.prefix, field: row.apiKey.field }
      : undefined,
    awsSigv4: row.awsSigv4 ? { service: row.awsSigv4.service, defaultRegion: row.awsSigv4.defaultRegion } : undefined,
    mcp: row.mcp
      ? {
          serverUrl: row.mcp.serverUrl,
          clientId: row.mcp.clientId,
          clientSecretSet: row.clientSecretSealed !== null,
          defaultScopes: row.mcp.defaultScopes,
          registeredClientId,
        }
      : undefined,
    createTime: timestampFromDate(row.createdAt),
    updateTime: timestampFromDate(row.updatedAt),
    catalogName: row.catalogName ?? '',
    connectionFieldsSchema: (row.connectionFieldsSchema ?? undefined) as Provider['connectionFieldsSchema'],
    apiBaseUrl: row.apiBaseUrl,
  });
}

export function providerInputFromProto(p: Provider | undefined): ProviderInput {
  if (!p) throw new InvalidFieldError('provider', 'is required');
  const o = p.oauth2;
  return {
    name: p.name,
    displayName: p.displayName,
    description: p.description,
    logoUrl: p.logoUrl,
    categories: p.categories,
    authType: authTypeToDomain(p.authType),
    enabled: p.enabled ?? true,
    oauth2: o
      ? {
          clientId: o.clientId,
          clientSecret: o.clientSecret,
          authorizationUrl: o.authorizationUrl,
          tokenUrl: o.tokenUrl,
          revocationUrl: o.revocationUrl,
          issuer: o.issuer,
          expectedIssuer: o.expectedIssuer,
          defaultScopes: o.defaultScopes,
          scopeSeparator: o.scopeSeparator,
          authorizeParams: o.authorizeParams,
          clientAuthMethod: clientAuthToDomain(o.clientAuthMethod),
          tokenResponseFormat: tokenFormatToDomain(o.tokenResponseFormat),
          refreshTokenRotation: rotationToDomain(o.refreshTokenRotation),
          tokenParams: o.tokenParams,
          tokenResponsePaths: o.tokenResponsePaths
            ? {
                accessToken: o.tokenResponsePaths.accessToken,
                refreshToken: o.tokenResponsePaths.refreshToken,
                expiresIn: o.tokenResponsePaths.expiresIn,
                scope: o.tokenResponsePaths.scope,
              }
            : undefined,
        }
      : undefined,
    credentialSchema: p.credentialSchema,
    postOauthFieldsSchema: p.postOauthFieldsSchema,
    apiKey: p.apiKey
      ? {
          ...(apiKeyLocationToDomain(p.apiKey.location) ? { location: apiKeyLocationToDomain(p.apiKey.location)! } : {}),
          name: p.apiKey.name,
          prefix: p.apiKey.prefix,
          field: p.apiKey.field,
        }
      : undefined,
    awsSigv4: p.awsSigv4 ? { service: p.awsSigv4.service, defaultRegion: p.awsSigv4.defaultRegion } : undefined,
    connectionFieldsSchema: p.connectionFieldsSchema,
    mcp: p.mcp
      ? { serverUrl: p.mcp.serverUrl, clientId: p.mcp.clientId, clientSecret: p.mcp.clientSecret, defaultScopes: p.mcp.defaultScopes }
      : undefined,
    apiBaseUrl: p.apiBaseUrl,
  };
}

/** A catalog entry: the provider template, without id, client id or times. */
export function catalogEntryToProto(entry: CatalogEntry): CatalogProvider {
  const provider = providerToProto(catalogTemplateRow(entry));
  provider.createTime = undefined;
  provider.updateTime = undefined;
  return create(CatalogProviderSchema, { name: entry.name, docsUrl: entry.docsUrl, provider });
}
