import { WEBHOOK_EVENT_TYPES } from '../model/webhook.js';
import type { OutboundPolicy } from '../outbound/outbound-policy.js';
import { InvalidFieldError } from '../shared/errors.js';

export const MAX_DESCRIPTION_CHARS = 500;
export const MAX_EVENT_TYPES = 20;

/**
 * An endpoint URL as written (create, update): the outbound policy's rules
 * (https; http only for an allow-listed host outside production; no
 * credentials; no internal address, as a literal in any spelling the URL
 * parser normalizes, e.g. decimal 2130706433, or resolved from the name).
 * Delivery checks the address again at connect time (safe-fetch.ts), so a
 * name that later resolves inward is still refused.
 */
export async function validateEndpointUrl(policy: OutboundPolicy, url: string, field: string): Promise<string> {
  if (!url) throw new InvalidFieldError(field, 'is required');
  return (await policy.checkUrlResolved(url, field)).href;
}

export function validateDescription(description: string, field: string): string {
  if (description.length > MAX_DESCRIPTION_CHARS) throw new InvalidFieldError(field, `is longer than ${MAX_DESCRIPTION_CHARS} characters`);
  return description;
}

/** Known types only, deduplicated, in the order given; empty means every type. */
export function validateEventTypes(types: readonly string[], field: string): string[] {
  const out = [...new Set(types)];
  if (out.length > MAX_EVENT_TYPES) throw new InvalidFieldError(field, `lists more than ${MAX_EVENT_TYPES} types`);
  for (const t of out) {
    if (!(WEBHOOK_EVENT_TYPES as readonly string[]).includes(t)) {
      throw new InvalidFieldError(field, `"${t.slice(0, 64)}" is not an event type (one of ${WEBHOOK_EVENT_TYPES.join(', ')})`);
    }
  }
  return out;
}
