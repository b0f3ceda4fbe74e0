import { create } from '@bufbuild/protobuf';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import {
  CreateApiKeyResponseSchema,
  ListApiKeysResponseSchema,
  RevokeApiKeyResponseSchema,
  RotateApiKeyResponseSchema,
  type ApiKeyService as ApiKeyServiceDesc,
  type CreateApiKeyRequest,
  type ListApiKeysRequest,
  type RevokeApiKeyRequest,
  type RotateApiKeyRequest,
} from '../../../gen/ts/nexus/v1/api_key_pb.js';
import type { ApiKeyAdmin } from '../../domain/access/api-key-admin.js';
import { callerOf } from '../access.js';
import { apiKeyToProto, durationMs, scopesFromProto } from '../mappers/api-key-mapper.js';

/** ApiKeyService: a project's admin keys for their project, the operator for any (ApiKeyAdmin decides). */
export class ApiKeyHandler implements ServiceImpl<typeof ApiKeyServiceDesc> {
  constructor(private readonly keys: ApiKeyAdmin) {}

  async createApiKey(req: CreateApiKeyRequest, ctx: HandlerContext) {
    const created = await this.keys.create(callerOf(ctx), {
      projectId: req.projectId,
      name: req.name,
      scopes: scopesFromProto(req.scopes),
      ttlMs: durationMs(req.ttl, 'ttl'),
    });
    return create(CreateApiKeyResponseSchema, { apiKey: apiKeyToProto(created.listing), secret: created.key });
  }

  async listApiKeys(req: ListApiKeysRequest, ctx: HandlerContext) {
    const page = await this.keys.list(callerOf(ctx), req);
    return create(ListApiKeysResponseSchema, { apiKeys: page.keys.map(apiKeyToProto), nextPageToken: page.nextPageToken });
  }

  async revokeApiKey(req: RevokeApiKeyRequest, ctx: HandlerContext) {
    return create(RevokeApiKeyResponseSchema, { apiKey: apiKeyToProto(await this.keys.revoke(callerOf(ctx), req)) });
  }

  async rotateApiKey(req: RotateApiKeyRequest, ctx: HandlerContext) {
    const { created, previous } = await this.keys.rotate(callerOf(ctx), {
      projectId: req.projectId,
      keyId: req.keyId,
      overlapMs: durationMs(req.overlap, 'overlap'),
    });
    return create(RotateApiKeyResponseSchema, { apiKey: apiKeyToProto(created.listing), secret: created.key, previousApiKey: apiKeyToProto(previous) });
  }
}
