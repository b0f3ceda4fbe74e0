/**
 * Query parameters whose values must not be logged. `message` is Connect's
 * GET encoding of a whole request message (`?encoding=json&message=...`,
 * optionally base64): it can carry a capture `state`, a one-time code or a
 * token, so it is never logged, whichever RPC it is for. Other names are
 * matched by what they contain (state, code, token, key, secret...), so
 * `session_state`, `handoff_code` or `mcp_bearer_token` are covered too.
 */
const SENSITIVE_PARAM = /message|state|code|token|secret|password|passwd|key|credential|signature|assertion|verifier|nonce/i;

/**
 * Values that are secrets whatever their parameter is called: a JWT or JWS
 * (state tokens, access tokens, ID tokens: three base64url segments) or a
 * Nexus API key.
 */
const SENSITIVE_VALUE = /^(?:[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}|nxs_\S+)$/;

export const REDACTED = '[redacted]';

/** Paths that carry a secret: consent links (/connect/{secret}). */
const SECRET_PATH = /^\/connect\/[^/?]{20,}/;

/** A URL safe to log: sensitive query values and path secrets replaced. */
export function redactUrl(url: string): string {
  if (SECRET_PATH.test(url)) url = url.replace(SECRET_PATH, '/connect/[redacted]');
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  const safe = new URLSearchParams();
  for (const [key, value] of params) {
    safe.append(key, SENSITIVE_PARAM.test(key) || SENSITIVE_VALUE.test(value) ? REDACTED : value);
  }
  return `${url.slice(0, q)}?${safe.toString()}`;
}
