import { ConnectionStatus } from '../../../gen/ts/nexus/v1/connection_pb.js';
import { ApiKeyLocation, AuthType, ClientAuthMethod, Pkce, RefreshTokenRotation, TokenResponseFormat } from '../../../gen/ts/nexus/v1/provider_pb.js';
import type { ConnectionStatusName } from '../../domain/model/connection.js';
import type { AuthTypeName, ClientAuthMethodName, PkceName, RefreshTokenRotationName, TokenResponseFormatName } from '../../domain/model/provider.js';

/**
 * Domain names -> wire enums (and connection statuses both ways). Provider enums come into
 * the domain through the provider document (provider-mapper.ts `providerInputFromProto`).
 */
const AUTH_TYPES: [AuthType, AuthTypeName][] = [
  [AuthType.OAUTH2, 'OAUTH2'],
  [AuthType.API_KEY, 'API_KEY'],
  [AuthType.BASIC_AUTH, 'BASIC_AUTH'],
  [AuthType.AWS_SIGV4, 'AWS_SIGV4'],
  [AuthType.BEARER, 'BEARER'],
  [AuthType.MCP, 'MCP'],
];
const CLIENT_AUTH: [ClientAuthMethod, ClientAuthMethodName][] = [
  [ClientAuthMethod.CLIENT_SECRET_BASIC, 'client_secret_basic'],
  [ClientAuthMethod.CLIENT_SECRET_POST, 'client_secret_post'],
  [ClientAuthMethod.NONE, 'none'],
];
const STATUSES: [ConnectionStatus, ConnectionStatusName][] = [
  [ConnectionStatus.PENDING, 'PENDING'],
  [ConnectionStatus.ACTIVE, 'ACTIVE'],
  [ConnectionStatus.ATTENTION_REQUIRED, 'ATTENTION_REQUIRED'],
  [ConnectionStatus.FAILED, 'FAILED'],
  [ConnectionStatus.REVOKED, 'REVOKED'],
];

function lookup<W, D>(table: [W, D][], value: W | D, from: 0 | 1): W | D | undefined {
  return table.find((pair) => pair[from] === value)?.[from === 0 ? 1 : 0];
}

export const authTypeToWire = (v: AuthTypeName) => lookup(AUTH_TYPES, v, 1) as AuthType;
export const clientAuthToWire = (v: ClientAuthMethodName) => lookup(CLIENT_AUTH, v, 1) as ClientAuthMethod;
export const statusToDomain = (v: ConnectionStatus) => lookup(STATUSES, v, 0) as ConnectionStatusName | undefined;
export const statusToWire = (v: ConnectionStatusName) => lookup(STATUSES, v, 1) as ConnectionStatus;
export const apiKeyLocationToWire = (v: 'header' | 'query'): ApiKeyLocation => (v === 'query' ? ApiKeyLocation.QUERY : ApiKeyLocation.HEADER);
export const rotationToWire = (v: RefreshTokenRotationName | undefined): RefreshTokenRotation =>
  v === 'rotates' ? RefreshTokenRotation.ROTATES : v === 'stable' ? RefreshTokenRotation.STABLE : RefreshTokenRotation.UNSPECIFIED;

export const tokenFormatToWire = (v: TokenResponseFormatName | undefined): TokenResponseFormat =>
  v === 'form' ? TokenResponseFormat.FORM : TokenResponseFormat.JSON;

export const pkceToWire = (v: PkceName | undefined): Pkce => (v === 'unsupported' ? Pkce.UNSUPPORTED : Pkce.S256);
