import { create, toJson, type DescMessage, type JsonObject } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { CatalogProviderSchema, ProviderSchema, type CatalogProvider, type Provider } from '../../../gen/ts/nexus/v1/provider_pb.js';
import { catalogTemplateRow, type CatalogEntry } from '../../domain/catalog/provider-catalog.js';
import { InvalidFieldError } from '../../domain/shared/errors.js';
import { providerInputFromDocument, type ProviderDocument } from '../../domain/providers/provider-document.js';
import type { ProviderInput } from '../../domain/providers/provider-input.js';
import type { ProviderRow } from '../../domain/model/provider.js';
import { apiKeyLocationToWire, authTypeToWire, clientAuthToWire, rotationToWire, pkceToWire, tokenFormatToWire } from './enums.js';
import { isOutputOnly } from './field-behavior.js';

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
          pkce: pkceToWire(row.oauth2.pkce),
          userinfoUrl: row.oauth2.userinfoUrl ?? '',
          userinfoPaths: row.oauth2.userinfoPaths ?? {},
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

/**
 * A Provider message into the model's input: through its document form
 * (`providerToDocument`), so that protobuf and YAML/catalog documents take
 * one path into the model, `providerInputFromDocument`.
 */
export function providerInputFromProto(p: Provider | undefined): ProviderInput {
  if (!p) throw new InvalidFieldError('provider', 'is required');
  return providerInputFromDocument(providerToDocument(p), 'provider', { nameRequired: false });
}

/**
 * A Provider message as a provider document (docs/providers.md): the
 * message's JSON with proto field names, enum values without their prefix
 * (`AUTH_TYPE_OAUTH2` -> `OAUTH2`; the others lower-case, as documents write
 * them: `client_secret_post`, `header`), and without the OUTPUT_ONLY fields
 * (google.api.field_behavior). Generic over the descriptor: a field added to
 * the proto needs no change here.
 */
export function providerToDocument(p: Provider): ProviderDocument {
  return documentOf(ProviderSchema, toJson(ProviderSchema, p, { useProtoFieldName: true }) as JsonObject);
}

/** Enums whose document spelling is upper-case; every other enum is written in lower case. */
const UPPER_CASE_ENUMS = new Set(['nexus.v1.AuthType']);

function documentOf(schema: DescMessage, json: JsonObject): ProviderDocument {
  const doc: ProviderDocument = {};
  for (const field of schema.fields) {
    const value = json[field.name];
    if (value === undefined || isOutputOnly(field)) continue;
    if (field.fieldKind === 'enum' && typeof value === 'string') {
      const name = value.slice(field.enum.sharedPrefix?.length ?? 0);
      doc[field.name] = UPPER_CASE_ENUMS.has(field.enum.typeName) ? name : name.toLowerCase();
    } else if (field.fieldKind === 'message' && field.message.typeName !== 'google.protobuf.Struct') {
      doc[field.name] = documentOf(field.message, value as JsonObject);
    } else {
      doc[field.name] = value;
    }
  }
  return doc;
}

/** A catalog entry: the provider template, without id, client id or times. */
export function catalogEntryToProto(entry: CatalogEntry): CatalogProvider {
  const provider = providerToProto(catalogTemplateRow(entry));
  provider.createTime = undefined;
  provider.updateTime = undefined;
  return create(CatalogProviderSchema, { name: entry.name, docsUrl: entry.docsUrl, provider });
}
