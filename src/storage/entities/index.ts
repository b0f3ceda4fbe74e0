import { ApiKeyEntity } from './api-key.js';
import { AuthStateEntity } from './auth-state.js';
import { ConnectionEventEntity } from './connection-event.js';
import { ConnectionEntity } from './connection.js';
import { OAuthClientRegistrationEntity } from './oauth-client-registration.js';
import { ProjectEntity } from './project.js';
import { ProjectQuotaEntity } from './project-quotas.js';
import { ProviderEntity } from './provider.js';
import { OAuthClientEntity } from './oauth-client.js';
import { AccountEntity } from './account.js';
import { AuthSessionEntity } from './auth-session.js';
import { RefreshTokenEntity } from './refresh-token.js';
import { OneTimeCodeEntity } from './one-time-code.js';
import { SigningKeyEntity } from './signing-key.js';
import { WebhookDeliveryEntity, WebhookEndpointEntity } from './webhook.js';

export * from './api-key.js';
export * from './auth-state.js';
export * from './connection-event.js';
export * from './connection.js';
export * from './oauth-client-registration.js';
export * from './project.js';
export * from './project-quotas.js';
export * from './provider.js';
export * from './oauth-client.js';
export * from './account.js';
export * from './auth-session.js';
export * from './refresh-token.js';
export * from './one-time-code.js';
export * from './signing-key.js';
export * from './webhook.js';

export const entities = [
  ProjectEntity,
  ApiKeyEntity,
  ProviderEntity,
  ConnectionEntity,
  AuthStateEntity,
  ConnectionEventEntity,
  OAuthClientEntity,
  AccountEntity,
  AuthSessionEntity,
  RefreshTokenEntity,
  OneTimeCodeEntity,
  SigningKeyEntity,
  OAuthClientRegistrationEntity,
  ProjectQuotaEntity,
  WebhookEndpointEntity,
  WebhookDeliveryEntity,
];
