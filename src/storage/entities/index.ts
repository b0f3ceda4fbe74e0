import { ApiKeyEntity } from './api-key.js';
import { AuthStateEntity } from './auth-state.js';
import { ConnectionEventEntity } from './connection-event.js';
import { ConnectionEntity } from './connection.js';
import { ProjectEntity } from './project.js';
import { ProviderEntity } from './provider.js';

export * from './api-key.js';
export * from './auth-state.js';
export * from './connection-event.js';
export * from './connection.js';
export * from './project.js';
export * from './provider.js';

export const entities = [ProjectEntity, ApiKeyEntity, ProviderEntity, ConnectionEntity, AuthStateEntity, ConnectionEventEntity];
