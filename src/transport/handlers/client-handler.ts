import { create } from '@bufbuild/protobuf';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import {
  CreateClientResponseSchema,
  DeleteClientResponseSchema,
  GetClientResponseSchema,
  ClientSchema,
  ListClientsResponseSchema,
  UpdateClientResponseSchema,
  type ClientService as ClientServiceDesc,
  type CreateClientRequest,
  type DeleteClientRequest,
  type GetClientRequest,
  type ListClientsRequest,
  type UpdateClientRequest,
} from '../../../gen/ts/nexus/v1/client_pb.js';
import { CLIENT_MASK_FIELDS, type ClientRegistry } from '../../domain/auth/client-registry.js';
import { InvalidFieldError } from '../../domain/shared/errors.js';
import { callerOf } from '../access.js';
import { clientInputFromProto, clientToProto } from '../mappers/client-mapper.js';
import { impliedMask } from '../mappers/field-mask.js';

/** The admin API for OAuth clients (`admin` API keys only: see ACCESS in access.ts). */
export class ClientHandler implements ServiceImpl<typeof ClientServiceDesc> {
  constructor(private readonly clients: ClientRegistry) {}

  async createClient(req: CreateClientRequest, ctx: HandlerContext) {
    const caller = callerOf(ctx);
    const { client, secret } = await this.clients.create(caller, clientInputFromProto(req.client));
    return create(CreateClientResponseSchema, { client: clientToProto(client), clientSecret: secret });
  }

  async getClient(req: GetClientRequest, ctx: HandlerContext) {
    const caller = callerOf(ctx);
    return create(GetClientResponseSchema, { client: clientToProto(await this.clients.get(caller, req.clientId)) });
  }

  async listClients(req: ListClientsRequest, ctx: HandlerContext) {
    const caller = callerOf(ctx);
    const page = await this.clients.list(caller, req);
    return create(ListClientsResponseSchema, { clients: page.clients.map(clientToProto), nextPageToken: page.nextPageToken });
  }

  async updateClient(req: UpdateClientRequest, ctx: HandlerContext) {
    const caller = callerOf(ctx);
    if (!req.client?.id) throw new InvalidFieldError('client.id', 'identifies the client to update');
    const paths = impliedMask(ClientSchema, req.client, req.updateMask?.paths, CLIENT_MASK_FIELDS);
    const row = await this.clients.update(caller, req.client.id, clientInputFromProto(req.client), paths);
    return create(UpdateClientResponseSchema, { client: clientToProto(row) });
  }

  async deleteClient(req: DeleteClientRequest, ctx: HandlerContext) {
    const caller = callerOf(ctx);
    await this.clients.delete(caller, req.clientId);
    return create(DeleteClientResponseSchema, {});
  }
}
