import { create } from '@bufbuild/protobuf';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import {
  CreateWebhookEndpointResponseSchema,
  DeleteWebhookEndpointResponseSchema,
  GetWebhookEndpointResponseSchema,
  ListWebhookDeliveriesResponseSchema,
  ListWebhookEndpointsResponseSchema,
  RedeliverWebhookResponseSchema,
  RotateWebhookSecretResponseSchema,
  UpdateWebhookEndpointResponseSchema,
  type CreateWebhookEndpointRequest,
  type DeleteWebhookEndpointRequest,
  type GetWebhookEndpointRequest,
  type ListWebhookDeliveriesRequest,
  type ListWebhookEndpointsRequest,
  type RedeliverWebhookRequest,
  type RotateWebhookSecretRequest,
  type UpdateWebhookEndpointRequest,
  type WebhookService as WebhookServiceDesc,
} from '../../../gen/ts/nexus/v1/webhook_pb.js';
import { InvalidFieldError } from '../../domain/shared/errors.js';
import type { WebhookService } from '../../domain/webhooks/webhook-service.js';
import { callerOf } from '../access.js';
import { durationMs } from '../mappers/api-key-mapper.js';
import {
  deliveryStatusFromProto,
  endpointInputFromProto,
  endpointPatchFromProto,
  webhookDeliveryToProto,
  webhookEndpointToProto,
} from '../mappers/webhook-mapper.js';

/** WebhookService: the caller's own project only (`admin` API keys: see ACCESS in access.ts). */
export class WebhookHandler implements ServiceImpl<typeof WebhookServiceDesc> {
  constructor(private readonly webhooks: WebhookService) {}

  async createWebhookEndpoint(req: CreateWebhookEndpointRequest, ctx: HandlerContext) {
    const { projectId } = callerOf(ctx);
    const { endpoint, secret } = await this.webhooks.create(projectId, endpointInputFromProto(req.endpoint));
    return create(CreateWebhookEndpointResponseSchema, { endpoint: webhookEndpointToProto(endpoint), secret });
  }

  async getWebhookEndpoint(req: GetWebhookEndpointRequest, ctx: HandlerContext) {
    const { projectId } = callerOf(ctx);
    return create(GetWebhookEndpointResponseSchema, { endpoint: webhookEndpointToProto(await this.webhooks.get(projectId, req.endpointId)) });
  }

  async listWebhookEndpoints(req: ListWebhookEndpointsRequest, ctx: HandlerContext) {
    const { projectId } = callerOf(ctx);
    const page = await this.webhooks.list(projectId, req);
    return create(ListWebhookEndpointsResponseSchema, { endpoints: page.endpoints.map(webhookEndpointToProto), nextPageToken: page.nextPageToken });
  }

  async updateWebhookEndpoint(req: UpdateWebhookEndpointRequest, ctx: HandlerContext) {
    const { projectId } = callerOf(ctx);
    if (!req.endpoint?.id) throw new InvalidFieldError('endpoint.id', 'identifies the endpoint to update');
    const endpoint = await this.webhooks.update(projectId, req.endpoint.id, endpointPatchFromProto(req));
    return create(UpdateWebhookEndpointResponseSchema, { endpoint: webhookEndpointToProto(endpoint) });
  }

  async deleteWebhookEndpoint(req: DeleteWebhookEndpointRequest, ctx: HandlerContext) {
    const { projectId } = callerOf(ctx);
    await this.webhooks.delete(projectId, req.endpointId);
    return create(DeleteWebhookEndpointResponseSchema, {});
  }

  async rotateWebhookSecret(req: RotateWebhookSecretRequest, ctx: HandlerContext) {
    const { projectId } = callerOf(ctx);
    const { endpoint, secret } = await this.webhooks.rotateSecret(projectId, req.endpointId, durationMs(req.overlap, 'overlap'));
    return create(RotateWebhookSecretResponseSchema, { endpoint: webhookEndpointToProto(endpoint), secret });
  }

  async listWebhookDeliveries(req: ListWebhookDeliveriesRequest, ctx: HandlerContext) {
    const { projectId } = callerOf(ctx);
    const page = await this.webhooks.listDeliveries(projectId, req.endpointId, {
      status: deliveryStatusFromProto(req.status),
      pageSize: req.pageSize,
      pageToken: req.pageToken,
    });
    return create(ListWebhookDeliveriesResponseSchema, { deliveries: page.deliveries.map(webhookDeliveryToProto), nextPageToken: page.nextPageToken });
  }

  async redeliverWebhook(req: RedeliverWebhookRequest, ctx: HandlerContext) {
    const { projectId } = callerOf(ctx);
    return create(RedeliverWebhookResponseSchema, { delivery: webhookDeliveryToProto(await this.webhooks.redeliver(projectId, req.deliveryId)) });
  }
}
