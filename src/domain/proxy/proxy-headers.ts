/**
 * Which headers cross the proxy, each way. Requests: never the agent's own
 * credentials (Authorization, X-API-Key, Cookie, Proxy-*), never hop-by-hop
 * headers (RFC 9110 7.6.1, and those the Connection header names), never
 * Host (the upstream's own is set), never forwarding headers (they would
 * tell the provider about the agent's network). Responses: never hop-by-hop
 * headers, never Set-Cookie (a provider session belongs to the credential,
 * not to the agent, and would land on Nexus's origin), never Nexus-Error
 * (reserved for Nexus's own errors), never a header carrying the credential.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'http2-settings']);

const REQUEST_DROPPED = new Set(['host', 'authorization', 'x-api-key', 'cookie', 'forwarded', 'x-real-ip', 'expect', 'content-length']);

const RESPONSE_DROPPED = new Set(['set-cookie', 'set-cookie2', 'nexus-error', 'content-length']);

/** The header Nexus sets on its own error answers (and only there). */
export const ERROR_HEADER_NAME = 'nexus-error';

type Incoming = Record<string, string | string[] | undefined>;

function connectionNamed(headers: Incoming): Set<string> {
  const value = headers.connection;
  const list = Array.isArray(value) ? value.join(',') : (value ?? '');
  return new Set(
    list
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
}

function isProxyOrForwarding(name: string): boolean {
  return name.startsWith('proxy-') || name.startsWith('x-forwarded-') || name.startsWith('nexus-') || name.startsWith(':');
}

/** The agent's headers that go on to the provider (lower-case names). */
export function upstreamRequestHeaders(incoming: Incoming): Record<string, string | string[]> {
  const named = connectionNamed(incoming);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming)) {
    const n = name.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(n) || REQUEST_DROPPED.has(n) || named.has(n) || isProxyOrForwarding(n)) continue;
    out[n] = value;
  }
  return out;
}

/**
 * The provider's headers that go back to the agent. `secrets` are the
 * credential's values: a header whose value contains one is dropped (a
 * provider echoing the key back must not hand it to the agent).
 */
export function downstreamResponseHeaders(incoming: Incoming, secrets: readonly string[]): Record<string, string | string[]> {
  const named = connectionNamed(incoming);
  const usable = secrets.filter((s) => s.length >= 4);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming)) {
    const n = name.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(n) || RESPONSE_DROPPED.has(n) || named.has(n) || n.startsWith('proxy-')) continue;
    const values = Array.isArray(value) ? value : [value];
    if (values.some((v) => usable.some((s) => v.includes(s)))) continue;
    out[n] = value;
  }
  return out;
}
