import { InvalidFieldError, UrlTemplateInvalidError } from '../shared/errors.js';
import type { JsonSchema } from '../model/provider.js';

/**
 * OAuth2 URLs of providers that live on a per-customer host or path (Zendesk,
 * Shopify, Salesforce, Okta...) are templates such as
 * `https://{subdomain}.zendesk.com/oauth/tokens`, filled from the
 * connection's fields. A placeholder in the host must be followed by a fixed
 * domain, and values are restricted to host-name characters, so that a user
 * filling a field can only pick a tenant of that service: never another host
 * to which Nexus would send the client secret.
 */
const PLACEHOLDER = /\{([a-z][a-z0-9_]{0,62})\}/g;
/** DNS labels joined by dots; also fits tenant ids, GUIDs and "contoso.onmicrosoft.com". */
const VALUE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** Leading placeholder labels, then a literal domain with at least one dot. */
const TEMPLATED_HOST = /^(?:\{[a-z][a-z0-9_]{0,62}\}\.)+[a-z0-9-]+(?:\.[a-z0-9-]+)+$/;

export function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/**
 * Checks a URL template on provider write: well-formed, every placeholder a
 * required string property of the connection fields schema, host
 * placeholders only in front of a fixed domain. Returns the URL with sample
 * values, for the ordinary URL checks.
 */
export function checkUrlTemplate(field: string, template: string, schema: JsonSchema | null | undefined): string {
  const names = placeholders(template);
  if (template.replace(PLACEHOLDER, '').match(/[{}]/)) {
    throw new UrlTemplateInvalidError(field, 'placeholders are written {name} with a lowercase name');
  }
  if (names.length === 0) return template;
  const properties = (schema?.properties ?? {}) as Record<string, { type?: unknown }>;
  const required = new Set(Array.isArray(schema?.required) ? (schema.required as string[]) : []);
  for (const name of names) {
    if (properties[name]?.type !== 'string' || !required.has(name)) {
      throw new UrlTemplateInvalidError(field, `{${name}} is not a required string property of connection_fields_schema`, name);
    }
  }
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(template)?.[1] ?? '';
  const host = authority.replace(/:\d+$/, '');
  if (placeholders(host).length > 0 && !TEMPLATED_HOST.test(host)) {
    throw new UrlTemplateInvalidError(field, 'a placeholder in the host must be whole leading labels followed by a fixed domain');
  }
  return fillUrlTemplate(field, template, Object.fromEntries(names.map((n) => [n, 'x'])));
}

/** Fills a template from connection fields; a value that does not fit a URL is refused. */
export function fillUrlTemplate(field: string, template: string, values: Record<string, unknown> | null | undefined): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    const value = values?.[name];
    if (typeof value !== 'string' || !VALUE.test(value) || value.length > 253) {
      throw new InvalidFieldError(`fields.${name}`, `is needed for ${field} and must be a host name or identifier (letters, digits, "-", ".")`);
    }
    return value;
  });
}
