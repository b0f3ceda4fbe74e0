import type { ConnectRouter } from '@connectrpc/connect';
import { SERVICES } from '../access.js';
import type { AuditHandler } from './audit-handler.js';
import type { ApiKeyHandler } from './api-key-handler.js';
import type { AuthHandler } from './auth-handler.js';
import type { ClientHandler } from './client-handler.js';
import type { ConnectionHandler } from './connection-handler.js';
import type { ProjectHandler } from './project-handler.js';
import type { ProviderHandler } from './provider-handler.js';
import type { TokenHandler } from './token-handler.js';
import type { WebhookHandler } from './webhook-handler.js';

/** One handler per published service (SERVICES in access.ts, where each of their methods has its access policy). */
export interface Handlers {
  providers: ProviderHandler;
  connections: ConnectionHandler;
  tokens: TokenHandler;
  auth: AuthHandler;
  clients: ClientHandler;
  audit: AuditHandler;
  projects: ProjectHandler;
  apiKeys: ApiKeyHandler;
  webhooks: WebhookHandler;
}

export function connectRoutes(handlers: Handlers) {
  return (router: ConnectRouter) => {
    router.service(SERVICES.providers, handlers.providers);
    router.service(SERVICES.connections, handlers.connections);
    router.service(SERVICES.tokens, handlers.tokens);
    router.service(SERVICES.auth, handlers.auth);
    router.service(SERVICES.clients, handlers.clients);
    router.service(SERVICES.audit, handlers.audit);
    router.service(SERVICES.projects, handlers.projects);
    router.service(SERVICES.apiKeys, handlers.apiKeys);
    router.service(SERVICES.webhooks, handlers.webhooks);
  };
}
