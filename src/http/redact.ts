/** Query parameters whose values are secrets or one-time codes. */
const SENSITIVE_PARAMS = /^(state|code|access_token|refresh_token|id_token|client_secret|api_key|key|token|password)$/i;

/** A URL safe to log: sensitive query values replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const key of [...params.keys()]) {
    if (SENSITIVE_PARAMS.test(key)) params.set(key, '[redacted]');
  }
  return `${url.slice(0, q)}?${params.toString()}`;
}
