import type { ConnectRouter } from '@connectrpc/connect';
import { AuthService } from '../../gen/ts/nexus/v1/auth_pb.js';
import { ClientService } from '../../gen/ts/nexus/v1/client_pb.js';
import { ConnectionService } from '../../gen/ts/nexus/v1/connection_pb.js';
import { ProviderService } from '../../gen/ts/nexus/v1/provider_pb.js';
import { TokenService } from '../../gen/ts/nexus/v1/token_pb.js';
import type { AuthHandler } from './handlers/auth-handler.js';
import type { ClientHandler } from './handlers/client-handler.js';
import type { ConnectionHandler } from './handlers/connection-handler.js';
import type { ProviderHandler } from './handlers/provider-handler.js';
import type { TokenHandler } from './handlers/token-handler.js';

export interface Handlers {
  providers: ProviderHandler;
  connections: ConnectionHandler;
  tokens: TokenHandler;
  auth: AuthHandler;
  clients: ClientHandler;
}

export function connectRoutes(handlers: Handlers) {
  return (router: ConnectRouter) => {
    router.service(ProviderService, handlers.providers);
    router.service(ConnectionService, handlers.connections);
    router.service(TokenService, handlers.tokens);
    router.service(AuthService, handlers.auth);
    router.service(ClientService, handlers.clients);
  };
}
