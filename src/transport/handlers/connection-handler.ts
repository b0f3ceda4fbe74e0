import { create } from '@bufbuild/protobuf';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import {
  CreateConnectionResponseSchema,
  DeleteConnectionResponseSchema,
  FinalizeConnectionResponseSchema,
  GetConnectionResponseSchema,
  GetCredentialSchemaResponseSchema,
  GetPendingFieldsResponseSchema,
  ListConnectionsResponseSchema,
  SubmitCredentialsResponseSchema,
  type ConnectionService as ConnectionServiceDesc,
  type CreateConnectionRequest,
  type DeleteConnectionRequest,
  type FinalizeConnectionRequest,
  type GetConnectionRequest,
  type GetCredentialSchemaRequest,
  type GetPendingFieldsRequest,
  type ListConnectionsRequest,
  type SubmitCredentialsRequest,
  type WatchConnectionRequest,
  type WatchConnectionsRequest,
} from '../../../gen/ts/nexus/v1/connection_pb.js';
import type { ConnectionService } from '../../domain/connections/connection-service.js';
import type { ConnectionWatch } from '../../domain/connections/connection-watch.js';
import type { Principal } from '../../domain/shared/principal.js';
import type { StreamCredentials } from '../../domain/connections/stream-credentials.js';
import { callerOf } from '../access.js';
import { recordCall } from '../audit-interceptor.js';
import type { AuditLog } from '../../domain/audit/types.js';
import { whileCredentialHolds } from '../stream-guard.js';
import { connectionToProto } from '../mappers/connection-mapper.js';
import { statusToDomain } from '../mappers/enums.js';
import { watchConnectionResponse, watchConnectionsResponse } from '../mappers/watch-mapper.js';
import { setCookie } from '../../http/cookies.js';

type JsonObject = NonNullable<SubmitCredentialsRequest['credentials']>;

export class ConnectionHandler implements ServiceImpl<typeof ConnectionServiceDesc> {
  constructor(
    private readonly connections: ConnectionService,
    private readonly watcher: ConnectionWatch,
    private readonly streamCredentials: StreamCredentials,
    private readonly audit?: AuditLog,
  ) {}

  async createConnection(req: CreateConnectionRequest, ctx: HandlerContext) {
    const caller = callerOf(ctx);
    const result = await this.connections.create(caller, {
      workspaceId: req.workspaceId,
      providerId: req.provider.case === 'providerId' ? req.provider.value : '',
      providerName: req.provider.case === 'providerName' ? req.provider.value : '',
      scopes: req.scopes,
      returnUrl: req.returnUrl,
      fields: req.fields as Record<string, unknown> | undefined,
      mcpBearerToken: req.mcpBearerToken,
    });
    // A web session's flow: only the browser that started it can open the consent link and complete the callback.
    if (result.bindingCookie) {
      const c = result.bindingCookie;
      ctx.responseHeader.append(
        'set-cookie',
        setCookie(c.name, c.value, { maxAgeSeconds: c.maxAgeSeconds, path: '/', sameSite: 'Lax', secure: this.connections.consent.secureCookies }),
      );
    }
    return create(CreateConnectionResponseSchema, {
      connection: connectionToProto(result.connection),
      authUrl: result.authUrl,
      state: result.state,
    });
  }

  async getConnection(req: GetConnectionRequest, ctx: HandlerContext) {
    const caller = callerOf(ctx);
    return create(GetConnectionResponseSchema, { connection: connectionToProto(await this.connections.get(caller, req.connectionId)) });
  }

  async listConnections(req: ListConnectionsRequest, ctx: HandlerContext) {
    const caller = callerOf(ctx);
    const page = await this.connections.list(caller, {
      pageSize: req.pageSize,
      pageToken: req.pageToken,
      workspaceId: req.workspaceId,
      provider: req.provider,
      status: statusToDomain(req.status),
    });
    return create(ListConnectionsResponseSchema, {
      connections: page.connections.map(connectionToProto),
      nextPageToken: page.nextPageToken,
    });
  }

  async deleteConnection(req: DeleteConnectionRequest, ctx: HandlerContext) {
    const caller = callerOf(ctx);
    const result = await this.connections.delete(caller, req.connectionId);
    return create(DeleteConnectionResponseSchema, {
      connection: connectionToProto(result.connection),
      revokedAtProvider: result.revokedAtProvider,
    });
  }

  /** Authorized by the state alone: it is what the capture page holds. */
  async getCredentialSchema(req: GetCredentialSchemaRequest) {
    const result = await this.connections.getCredentialSchema(req.state);
    return create(GetCredentialSchemaResponseSchema, {
      schema: result.schema as JsonObject,
      providerName: result.provider.name,
      providerDisplayName: result.provider.displayName,
      connectionId: result.connectionId,
      workspaceId: result.workspaceId,
      appName: result.appName,
    });
  }

  async submitCredentials(req: SubmitCredentialsRequest, ctx: HandlerContext) {
    const result = await this.connections.submitCredentials(req.state, req.credentials ?? {});
    // The capture page's state is the only authority: the person holding it, as the system sees them.
    const c = result.connection;
    recordCall(this.audit, ctx, {
      projectId: c.projectId,
      actor: { kind: 'system' },
      action: 'connection.submit_credentials',
      target: { type: 'connection', id: c.id },
      outcome: 'success',
    });
    return create(SubmitCredentialsResponseSchema, {
      connection: connectionToProto(result.connection),
      redirectUrl: result.redirectUrl,
    });
  }

  async getPendingFields(req: GetPendingFieldsRequest, ctx: HandlerContext) {
    const caller = callerOf(ctx);
    const schema = await this.connections.getPendingFields(caller, req.connectionId);
    return create(GetPendingFieldsResponseSchema, { schema: schema as JsonObject });
  }

  async finalizeConnection(req: FinalizeConnectionRequest, ctx: HandlerContext) {
    const caller = callerOf(ctx);
    const result = await this.connections.finalize(caller, req.connectionId, req.fields ?? {});
    return create(FinalizeConnectionResponseSchema, {
      connection: connectionToProto(result.connection),
      redirectUrl: result.redirectUrl,
    });
  }

  async *watchConnection(req: WatchConnectionRequest, ctx: HandlerContext) {
    const caller = callerOf(ctx);
    const query = { connectionId: req.connectionId, resumeCursor: req.resumeCursor };
    for await (const item of whileCredentialHolds(this.streamCredentials, caller, ctx, (signal) => this.watcher.watch(caller, query, signal))) {
      yield watchConnectionResponse(item);
    }
  }

  async *watchConnections(req: WatchConnectionsRequest, ctx: HandlerContext) {
    const caller = callerOf(ctx);
    const query = { workspaceId: req.workspaceId, provider: req.provider, resumeCursor: req.resumeCursor };
    for await (const item of whileCredentialHolds(this.streamCredentials, caller, ctx, (signal) => this.watcher.watch(caller, query, signal))) {
      yield watchConnectionsResponse(item);
    }
  }
}
