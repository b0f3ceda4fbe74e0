// `nexus webhooks create|list|get|update|delete|rotate-secret|deliveries|redeliver` (docs/webhooks.md).
// Each command is a function of the open services, so it runs the same in a one-shot process or
// behind a control socket. Secrets are printed only by create and rotate-secret, on the last line.
import { WEBHOOK_DELIVERY_STATUSES, type WebhookDeliveryRow, type WebhookDeliveryStatus } from '../domain/model/webhook.js';
import type { WebhookEndpointInput, WebhookEndpointView, WebhookService } from '../domain/webhooks/webhook-service.js';
import type { Store } from '../storage/store.js';

export interface WebhookServices {
  store: Store;
  webhooks: WebhookService;
}

async function requireProject(services: WebhookServices, projectId: string): Promise<void> {
  if (!(await services.store.projects.findById(projectId))) throw new Error(`project ${projectId} does not exist`);
}

/** `a,b` as a list; an empty value (`--events ""`) is every event. */
export function parseList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

const events = (e: WebhookEndpointView) => (e.eventTypes.length ? e.eventTypes.join(',') : 'all');
const secrets = (e: WebhookEndpointView) => e.secrets.map((s) => (s.expiresAt ? `${s.id} (until ${s.expiresAt.toISOString()})` : s.id)).join(', ');

function describe(e: WebhookEndpointView): string {
  return [
    `endpoint ${e.id}`,
    `  url: ${e.url}`,
    `  description: ${e.description}`,
    `  events: ${events(e)}`,
    `  status: ${e.enabled ? 'enabled' : 'disabled'}`,
    `  secrets: ${secrets(e)}`,
    `  created: ${e.createdAt.toISOString()}`,
    `  updated: ${e.updatedAt.toISOString()}`,
  ].join('\n');
}

export async function createWebhook(services: WebhookServices, projectId: string, input: WebhookEndpointInput): Promise<string> {
  await requireProject(services, projectId);
  const { endpoint, secret } = await services.webhooks.create(projectId, input);
  return `created ${endpoint.id} for ${endpoint.url} (events: ${events(endpoint)}); its signing secret, shown only now:\n${secret}`;
}

export async function listWebhooks(services: WebhookServices, projectId: string): Promise<string> {
  await requireProject(services, projectId);
  const all: WebhookEndpointView[] = [];
  let pageToken = '';
  do {
    const page = await services.webhooks.list(projectId, { pageSize: 500, pageToken });
    all.push(...page.endpoints);
    pageToken = page.nextPageToken;
  } while (pageToken);
  if (all.length === 0) return `project ${projectId} has no webhook endpoints`;
  return table([
    ['ID', 'URL', 'EVENTS', 'STATUS', 'CREATED'],
    ...all.map((e) => [e.id, e.url, events(e), e.enabled ? 'enabled' : 'disabled', e.createdAt.toISOString()]),
  ]);
}

export async function getWebhook(services: WebhookServices, projectId: string, id: string): Promise<string> {
  await requireProject(services, projectId);
  return describe(await services.webhooks.get(projectId, id));
}

export async function updateWebhook(services: WebhookServices, projectId: string, id: string, input: WebhookEndpointInput): Promise<string> {
  await requireProject(services, projectId);
  if (Object.values(input).every((v) => v === undefined)) throw new Error('nothing to change: give --url, --events, --description, --enable or --disable');
  return `updated ${id}\n${describe(await services.webhooks.update(projectId, id, input))}`;
}

export async function deleteWebhook(services: WebhookServices, projectId: string, id: string): Promise<string> {
  await requireProject(services, projectId);
  await services.webhooks.delete(projectId, id);
  return `deleted ${id} and its deliveries`;
}

export async function rotateWebhookSecret(services: WebhookServices, projectId: string, id: string, overlapMs: number): Promise<string> {
  await requireProject(services, projectId);
  const { endpoint, secret } = await services.webhooks.rotateSecret(projectId, id, overlapMs);
  const previous = endpoint.secrets.find((s) => s.expiresAt);
  const until = previous ? `the previous secret also signs until ${previous.expiresAt!.toISOString()}` : 'the previous secret no longer signs';
  return `rotated the secret of ${id}; ${until}. The new secret, shown only now:\n${secret}`;
}

export function parseStatus(value: string | undefined): WebhookDeliveryStatus | undefined {
  if (value === undefined) return undefined;
  if (!(WEBHOOK_DELIVERY_STATUSES as readonly string[]).includes(value)) throw new Error(`--status must be one of ${WEBHOOK_DELIVERY_STATUSES.join(', ')}`);
  return value as WebhookDeliveryStatus;
}

function deliveryRow(d: WebhookDeliveryRow): string[] {
  const last = d.lastStatusCode ? `${d.lastStatusCode}${d.lastError ? ` ${d.lastError}` : ''}` : (d.lastError ?? '-') || '-';
  return [
    String(d.id),
    d.eventType,
    d.connectionId,
    d.status,
    String(d.attempts),
    d.status === 'pending' ? new Date(d.nextAttemptAt).toISOString() : '-',
    d.messageId,
    last,
  ];
}

export async function listDeliveries(
  services: WebhookServices,
  projectId: string,
  endpointId: string,
  options: { status?: WebhookDeliveryStatus | undefined; limit: number },
): Promise<string> {
  await requireProject(services, projectId);
  const page = await services.webhooks.listDeliveries(projectId, endpointId, { status: options.status, pageSize: options.limit, pageToken: '' });
  if (page.deliveries.length === 0) return `${endpointId} has no deliveries${options.status ? ` that are ${options.status}` : ''}`;
  const more = page.nextPageToken ? `\n(newest ${options.limit} shown; --limit shows more)` : '';
  return table([['ID', 'EVENT', 'CONNECTION', 'STATUS', 'ATTEMPTS', 'NEXT ATTEMPT', 'MESSAGE ID', 'LAST ERROR'], ...page.deliveries.map(deliveryRow)]) + more;
}

export async function redeliverWebhook(services: WebhookServices, projectId: string, deliveryId: string): Promise<string> {
  await requireProject(services, projectId);
  const d = await services.webhooks.redeliver(projectId, deliveryId);
  return `queued delivery ${d.id} (message ${d.messageId}) to send delivery ${deliveryId} again`;
}
