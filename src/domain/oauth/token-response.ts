import type { OAuth2Config } from '../model/provider.js';

type Json = Record<string, unknown>;

/** The member that carries the token_type as the provider spelled it past oauth4webapi (which lower-cases it). */
export const ORIGINAL_TOKEN_TYPE = 'nexus_original_token_type';

/**
 * Rewrites a provider's token response into the RFC 6749 JSON that
 * oauth4webapi checks, according to the provider's quirk settings:
 * - `tokenResponseFormat: form`: an application/x-www-form-urlencoded body
 *   (numeric strings such as expires_in become numbers);
 * - `tokenResponsePaths`: tokens nested in the body (Slack's
 *   `authed_user.access_token`) are lifted to the top level (a path absent
 *   from an answer keeps the top-level member, as in a flat refresh answer),
 *   and the token is treated as a Bearer token whatever type it is given;
 * - an OAuth error in a 200 answer (GitHub does this) becomes a 400, so it
 *   counts as the server refusing rather than as a malformed answer;
 * - for providers configured by endpoints, an ID token is dropped: there is
 *   no issuer or key set to validate it against, and Nexus does not use it.
 * Anything that cannot be parsed is passed on unchanged, for oauth4webapi
 * to reject. `base` is the fetch underneath (MCP: the SSRF-safe one).
 */
export function tokenResponseAdapter(
  cfg: OAuth2Config,
  base: (url: string, init: RequestInit) => Promise<Response> = fetch,
): (url: string, init: RequestInit) => Promise<Response> {
  return async (url, init) => {
    const response = await base(url, init);
    const body = await parse(response.clone(), cfg);
    if (!body) return response;
    if (!cfg.issuer) delete body.id_token;
    let status = response.status;
    if (status === 200 && typeof body.error === 'string' && body.access_token === undefined) status = 400;
    if (status === 200) lift(body, cfg);
    // oauth4webapi lower-cases token_type; the provider's own spelling is what GetToken hands out.
    delete body[ORIGINAL_TOKEN_TYPE];
    if (typeof body.token_type === 'string') body[ORIGINAL_TOKEN_TYPE] = body.token_type;
    const headers = new Headers(response.headers);
    headers.delete('content-length');
    headers.delete('content-encoding');
    headers.set('content-type', 'application/json');
    return new Response(JSON.stringify(body), { status, headers });
  };
}

async function parse(response: Response, cfg: OAuth2Config): Promise<Json | undefined> {
  const type = response.headers.get('content-type') ?? '';
  try {
    if (type.includes('json')) {
      const value: unknown = await response.json();
      return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
    }
    if (cfg.tokenResponseFormat === 'form') {
      const form = new URLSearchParams(await response.text());
      const body: Json = {};
      for (const [k, v] of form) body[k] = /^(expires_in|refresh_token_expires_in)$/.test(k) && /^\d{1,12}$/.test(v) ? Number(v) : v;
      return body;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function lift(body: Json, cfg: OAuth2Config): void {
  const paths = cfg.tokenResponsePaths ?? {};
  const pairs = [
    ['access_token', paths.accessToken],
    ['refresh_token', paths.refreshToken],
    ['expires_in', paths.expiresIn],
    ['scope', paths.scope],
  ] as const;
  for (const [member, path] of pairs) {
    if (!path) continue;
    let value = valueAt(body, path);
    if (value === undefined) continue; // e.g. a refresh answer that is flat
    if (member === 'expires_in' && typeof value === 'string' && /^\d{1,12}$/.test(value)) value = Number(value);
    body[member] = value;
  }
  // Such providers name their token types their own way (Slack: "bot", "user"); Nexus hands the token out as Bearer.
  if (paths.accessToken || (cfg.tokenResponseFormat === 'form' && body.token_type === undefined)) body.token_type = 'Bearer';
}

function valueAt(body: Json, path: string): unknown {
  let node: unknown = body;
  for (const key of path.split('.')) {
    if (!node || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Json)[key];
  }
  return node;
}
