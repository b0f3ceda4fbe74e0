import { newId, type KeyRing } from '../../crypto/index.js';
import type { WebhookDeliveryRow, WebhookDeliveryStatus, WebhookEndpointRow } from '../model/webhook.js';
import type { OutboundPolicy } from '../outbound/outbound-policy.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Persistence, WebhookEndpointPatch } from '../ports/persistence.js';
import { decodePageToken, encodePageToken, pageSize } from '../shared/page-token.js';
import {
  InvalidFieldError,
  WebhookDeliveryNotFoundError,
  WebhookDeliveryUnfinishedError,
  WebhookEndpointLimitError,
  WebhookEndpointNotFoundError,
} from '../shared/errors.js';
import { validateDescription, validateEndpointUrl, validateEventTypes } from './endpoint-validation.js';
import { isLive, newSecretRecord, rotateSecrets } from './secrets.js';

/** At most this many endpoints per project: each event fans out to every one. */
export const MAX_ENDPOINTS_PER_PROJECT = 20;
export const DEFAULT_ROTATION_OVERLAP_MS = 24 * 3_600_000;
export const MAX_ROTATION_OVERLAP_MS = 7 * 24 * 3_600_000;

/** An endpoint as the API shows it: the stored row with its secrets as metadata only, live ones only. */
export type WebhookEndpointView = Omit<WebhookEndpointRow, 'secrets'> & {
  secrets: { id: string; createdAt: Date; expiresAt: Date | null }[];
};

export interface WebhookEndpointInput {
  url?: string | undefined;
  description?: string | undefined;
  eventTypes?: readonly string[] | undefined;
  enabled?: boolean | undefined;
}

const DELIVERY_ID = /^[1-9][0-9]{0,17}$/;

/**
 * A project's webhook endpoints (WebhookService, `nexus webhooks`). Every
 * method takes the project from the caller, so another project's rows are
 * simply not found. Secrets leave this service only as the return value of
 * create and rotateSecret.
 */
export class WebhookService {
  private readonly now: Clock;

  constructor(
    private readonly store: Persistence,
    private readonly keyRing: KeyRing,
    private readonly outbound: OutboundPolicy,
    options: { clock?: Clock | undefined } = {},
  ) {
    this.now = options.clock ?? systemClock;
  }

  async create(projectId: string, input: WebhookEndpointInput): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
    const url = await validateEndpointUrl(this.outbound, input.url ?? '', 'endpoint.url');
    const description = validateDescription(input.description ?? '', 'endpoint.description');
    const eventTypes = validateEventTypes(input.eventTypes ?? [], 'endpoint.event_types');
    const now = new Date(this.now());
    const id = newId('whep', now);
    const { secret, record } = newSecretRecord(this.keyRing, id, now);
    const row = await this.store.transaction(async (tx) => {
      // Count and insert under one per-project lock: concurrent creates cannot pass the cap together.
      await this.store.webhooks.lockProject(projectId, tx);
      if ((await this.store.webhooks.countByProject(projectId, tx)) >= MAX_ENDPOINTS_PER_PROJECT)
        throw new WebhookEndpointLimitError(MAX_ENDPOINTS_PER_PROJECT);
      return this.store.webhooks.insert({ id, projectId, url, description, eventTypes, enabled: input.enabled ?? true, secrets: [record] }, tx);
    });
    return { endpoint: this.view(row), secret };
  }

  async get(projectId: string, id: string): Promise<WebhookEndpointView> {
    return this.view(await this.find(projectId, id));
  }

  async list(projectId: string, page: { pageSize: number; pageToken: string }): Promise<{ endpoints: WebhookEndpointView[]; nextPageToken: string }> {
    const limit = pageSize(page.pageSize);
    const afterId = decodePageToken(page.pageToken, { projectId });
    const rows = await this.store.webhooks.list({ projectId, afterId, limit: limit + 1 });
    const more = rows.length > limit;
    const shown = rows.slice(0, limit);
    return { endpoints: shown.map((r) => this.view(r)), nextPageToken: more ? encodePageToken(shown[shown.length - 1]!.id, { projectId }) : '' };
  }

  async update(projectId: string, id: string, input: WebhookEndpointInput): Promise<WebhookEndpointView> {
    const patch: WebhookEndpointPatch = {};
    if (input.url !== undefined) patch.url = await validateEndpointUrl(this.outbound, input.url, 'endpoint.url');
    if (input.description !== undefined) patch.description = validateDescription(input.description, 'endpoint.description');
    if (input.eventTypes !== undefined) patch.eventTypes = validateEventTypes(input.eventTypes, 'endpoint.event_types');
    if (input.enabled !== undefined) patch.enabled = input.enabled;
    const row = await this.store.webhooks.update(projectId, id, patch);
    if (!row) throw new WebhookEndpointNotFoundError(id);
    return this.view(row);
  }

  async delete(projectId: string, id: string): Promise<void> {
    if (!(await this.store.webhooks.delete(projectId, id))) throw new WebhookEndpointNotFoundError(id);
  }

  /** A new secret, returned once; the previous one keeps signing for `overlapMs` (default 24 h). */
  async rotateSecret(projectId: string, id: string, overlapMs = DEFAULT_ROTATION_OVERLAP_MS): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
    if (!Number.isInteger(overlapMs) || overlapMs < 0 || overlapMs > MAX_ROTATION_OVERLAP_MS) {
      throw new InvalidFieldError('overlap', 'must be between 0 and 7 days');
    }
    const now = new Date(this.now());
    const { secret, record } = newSecretRecord(this.keyRing, id, now);
    const row = await this.store.transaction(async (tx) => {
      // Under the row lock: two rotations at once leave one new secret and one overlapping, never three.
      const locked = await this.store.webhooks.findByIdForUpdate(projectId, id, tx);
      if (!locked) throw new WebhookEndpointNotFoundError(id);
      return (await this.store.webhooks.update(projectId, id, { secrets: rotateSecrets(locked.secrets, record, now, overlapMs) }, tx))!;
    });
    return { endpoint: this.view(row), secret };
  }

  async listDeliveries(
    projectId: string,
    endpointId: string,
    q: { status?: WebhookDeliveryStatus | undefined; pageSize: number; pageToken: string },
  ): Promise<{ deliveries: WebhookDeliveryRow[]; nextPageToken: string }> {
    const limit = pageSize(q.pageSize);
    const filters = { projectId, endpointId, status: q.status ?? null };
    const beforeId = decodePageToken(q.pageToken, filters);
    await this.find(projectId, endpointId);
    const rows = await this.store.webhooks.listDeliveries({ projectId, endpointId, status: q.status, beforeId, limit: limit + 1 });
    const more = rows.length > limit;
    const shown = rows.slice(0, limit);
    return { deliveries: shown, nextPageToken: more ? encodePageToken(shown[shown.length - 1]!.id, filters) : '' };
  }

  /** Queues a finished delivery again (same message id and body, fresh attempts); returns the new delivery. */
  async redeliver(projectId: string, deliveryId: string): Promise<WebhookDeliveryRow> {
    if (!DELIVERY_ID.test(deliveryId)) throw new InvalidFieldError('delivery_id', 'must be a delivery id (a positive number)');
    return this.store.transaction(async (tx) => {
      const original = await this.store.webhooks.findDelivery(projectId, deliveryId, tx);
      if (!original) throw new WebhookDeliveryNotFoundError(deliveryId);
      if (original.status === 'pending' || original.status === 'delivering') throw new WebhookDeliveryUnfinishedError(deliveryId, original.status);
      return this.store.webhooks.redeliver(original, new Date(this.now()), tx);
    });
  }

  private async find(projectId: string, id: string): Promise<WebhookEndpointRow> {
    const row = await this.store.webhooks.findById(projectId, id);
    if (!row) throw new WebhookEndpointNotFoundError(id);
    return row;
  }

  private view(row: WebhookEndpointRow): WebhookEndpointView {
    const now = this.now();
    return {
      id: row.id,
      projectId: row.projectId,
      url: row.url,
      description: row.description,
      eventTypes: row.eventTypes,
      enabled: row.enabled,
      secrets: row.secrets
        .filter((s) => isLive(s, now))
        .map((s) => ({ id: s.id, createdAt: new Date(s.created_at), expiresAt: s.expires_at ? new Date(s.expires_at) : null })),
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }
}
