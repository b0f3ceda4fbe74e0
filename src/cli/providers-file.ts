import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { ProviderInput } from '../domain/providers/provider-input.js';
import type { AuthTypeName, ClientAuthMethodName } from '../storage/entities/provider.js';

/**
 * Reads a providers YAML file: `providers:` is a list of providers in the
 * same shape as the API's Provider message (snake_case). `${ENV}` in a
 * string is replaced from the environment, so secrets stay out of the file.
 */
export function readProvidersFile(path: string, env: NodeJS.ProcessEnv = process.env): ProviderInput[] {
  const doc = parse(readFileSync(path, 'utf8')) as { providers?: unknown };
  if (!doc || !Array.isArray(doc.providers)) throw new Error(`${path}: expected a top-level "providers:" list`);
  return doc.providers.map((raw, i) => toInput(substitute(raw, env) as Record<string, unknown>, `${path}: providers[${i}]`));
}

function substitute(value: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => {
      const v = env[name];
      if (v === undefined) throw new Error(`environment variable ${name} is not set`);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, env)]));
  }
  return value;
}

function toInput(p: Record<string, unknown>, where: string): ProviderInput {
  const s = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
  const list = (v: unknown) => (Array.isArray(v) ? v.map(s) : []);
  const o = p.oauth2 as Record<string, unknown> | undefined;
  const apiKey = p.api_key as Record<string, unknown> | undefined;
  const aws = p.aws_sigv4 as Record<string, unknown> | undefined;
  if (!p.name) throw new Error(`${where}: name is required`);
  return {
    name: s(p.name),
    displayName: s(p.display_name),
    description: s(p.description),
    logoUrl: s(p.logo_url),
    categories: list(p.categories),
    authType: (s(p.auth_type).toUpperCase() || undefined) as AuthTypeName | undefined,
    enabled: p.enabled === undefined ? true : p.enabled === true,
    oauth2: o
      ? {
          clientId: s(o.client_id),
          clientSecret: s(o.client_secret),
          authorizationUrl: s(o.authorization_url),
          tokenUrl: s(o.token_url),
          revocationUrl: s(o.revocation_url),
          issuer: s(o.issuer),
          defaultScopes: list(o.default_scopes),
          scopeSeparator: s(o.scope_separator),
          authorizeParams: (o.authorize_params ?? {}) as Record<string, string>,
          clientAuthMethod: (s(o.client_auth_method) || undefined) as ClientAuthMethodName | undefined,
        }
      : undefined,
    credentialSchema: p.credential_schema as Record<string, unknown> | undefined,
    postOauthFieldsSchema: p.post_oauth_fields_schema as Record<string, unknown> | undefined,
    apiKey: apiKey
      ? {
          ...(apiKey.location ? { location: s(apiKey.location) as 'header' | 'query' } : {}),
          name: s(apiKey.name),
          prefix: s(apiKey.prefix),
          field: s(apiKey.field),
        }
      : undefined,
    awsSigv4: aws ? { service: s(aws.service), defaultRegion: s(aws.default_region) } : undefined,
  };
}
