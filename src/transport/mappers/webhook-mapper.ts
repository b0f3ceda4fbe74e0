import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  WebhookDeliverySchema,
  WebhookDeliveryStatus,
  WebhookEndpointSchema,
  WebhookSecretInfoSchema,
  type UpdateWebhookEndpointRequest,
  type WebhookDelivery,
  type WebhookEndpoint,
} from '../../../gen/ts/nexus/v1/webhook_pb.js';
import type { WebhookDeliveryRow, WebhookDeliveryStatus as StatusName } from '../../domain/model/webhook.js';
import { InvalidFieldError } from '../../domain/shared/errors.js';
import type { WebhookEndpointInput, WebhookEndpointView } from '../../domain/webhooks/webhook-service.js';

const STATUS_TO_WIRE: Record<StatusName, WebhookDeliveryStatus> = {
  pending: WebhookDeliveryStatus.PENDING,
  delivering: WebhookDeliveryStatus.DELIVERING,
  succeeded: WebhookDeliveryStatus.SUCCEEDED,
  dead: WebhookDeliveryStatus.DEAD,
};
const STATUS_FROM_WIRE = new Map<WebhookDeliveryStatus, StatusName>(Object.entries(STATUS_TO_WIRE).map(([k, v]) => [v, k as StatusName]));

/** An endpoint as the API shows it: secrets as metadata only. */
export function webhookEndpointToProto(e: WebhookEndpointView): WebhookEndpoint {
  return create(WebhookEndpointSchema, {
    id: e.id,
    projectId: e.projectId,
    url: e.url,
    description: e.description,
    eventTypes: e.eventTypes,
    disabled: !e.enabled,
    secrets: e.secrets.map((s) =>
      create(WebhookSecretInfoSchema, {
        id: s.id,
        createTime: timestampFromDate(s.createdAt),
        ...(s.expiresAt ? { expireTime: timestampFromDate(s.expiresAt) } : {}),
      }),
    ),
    createTime: timestampFromDate(e.createdAt),
    updateTime: timestampFromDate(e.updatedAt),
  });
}

export function webhookDeliveryToProto(d: WebhookDeliveryRow): WebhookDelivery {
  return create(WebhookDeliverySchema, {
    id: String(d.id),
    endpointId: d.endpointId,
    messageId: d.messageId,
    connectionId: d.connectionId,
    eventType: d.eventType,
    status: STATUS_TO_WIRE[d.status] ?? WebhookDeliveryStatus.UNSPECIFIED,
    attempts: d.attempts,
    lastStatusCode: d.lastStatusCode ?? 0,
    lastError: d.lastError ?? '',
    ...(d.status === 'pending' ? { nextAttemptTime: timestampFromDate(new Date(d.nextAttemptAt)) } : {}),
    createTime: timestampFromDate(new Date(d.createdAt)),
    ...(d.deliveredAt ? { deliverTime: timestampFromDate(new Date(d.deliveredAt)) } : {}),
  });
}

/** A status filter; UNSPECIFIED is every status, an unknown number is refused. */
export function deliveryStatusFromProto(status: WebhookDeliveryStatus): StatusName | undefined {
  if (status === WebhookDeliveryStatus.UNSPECIFIED) return undefined;
  const name = STATUS_FROM_WIRE.get(status);
  if (!name) throw new InvalidFieldError('status', 'is not a delivery status');
  return name;
}

/** The create input: every field as given. */
export function endpointInputFromProto(e: WebhookEndpoint | undefined): WebhookEndpointInput {
  return { url: e?.url ?? '', description: e?.description ?? '', eventTypes: e?.eventTypes ?? [], enabled: !(e?.disabled ?? false) };
}

const MUTABLE = ['url', 'description', 'event_types', 'disabled'] as const;

/** The update input: only the masked fields (or, without a mask, the fields set). */
export function endpointPatchFromProto(req: UpdateWebhookEndpointRequest): WebhookEndpointInput {
  const e = req.endpoint!;
  const paths = req.updateMask?.paths.length ? req.updateMask.paths : impliedPaths(e);
  const input: WebhookEndpointInput = {};
  for (const path of paths) {
    switch (path) {
      case 'url':
        input.url = e.url;
        break;
      case 'description':
        input.description = e.description;
        break;
      case 'event_types':
        input.eventTypes = e.eventTypes;
        break;
      case 'disabled':
        input.enabled = !e.disabled;
        break;
      default:
        throw new InvalidFieldError('update_mask', `"${path.slice(0, 64)}" is not a mutable field (${MUTABLE.join(', ')})`);
    }
  }
  return input;
}

function impliedPaths(e: WebhookEndpoint): string[] {
  const paths: string[] = [];
  if (e.url) paths.push('url');
  if (e.description) paths.push('description');
  if (e.eventTypes.length) paths.push('event_types');
  if (e.disabled) paths.push('disabled');
  return paths;
}
