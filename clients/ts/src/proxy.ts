/** Options of nexusProxyFetch. */
export interface NexusProxyFetchOptions {
  /** Nexus's base URL, e.g. `https://nexus.example.com`. */
  baseUrl: string;
  /** An API key with the `tokens` scope, or an end user's access token with `tokens` (or a function returning one, e.g. a refreshed access token). */
  apiKey: string | (() => string | Promise<string>);
  /** The connection whose credential Nexus applies. */
  connectionId: string;
  /**
   * The provider's API base as the agent's URLs spell it, when it has a path
   * (e.g. `https://www.googleapis.com/calendar/v3`): that prefix is removed,
   * since Nexus appends the rest to the provider's own api_base_url. Without
   * it, the URL's whole path is forwarded.
   */
  apiBaseUrl?: string;
  /** The fetch that reaches Nexus (default: the global fetch). */
  fetch?: typeof fetch;
}

/**
 * A `fetch` that sends every request through Nexus's credential-injecting
 * proxy instead of to the provider: `https://api.provider.com/x?y` becomes
 * `{baseUrl}/proxy/{connectionId}/x?y`, authenticated with the Nexus key.
 * The agent never holds the provider's credential; switching an agent that
 * used `nexusFetch` (token injection) is one line. Nexus's own errors carry
 * the `Nexus-Error` response header (see docs/proxy.md); the provider's
 * answers come back as they are.
 */
export function nexusProxyFetch(options: NexusProxyFetchOptions): typeof fetch {
  const base = options.baseUrl.replace(/\/+$/, '');
  const prefix = options.apiBaseUrl ? new URL(options.apiBaseUrl).pathname.replace(/\/+$/, '') : '';
  const send = options.fetch ?? fetch;
  return async (input: RequestInfo | URL, init?: RequestInit) => {
    // A streamed body needs duplex 'half' (Node's fetch); callers rarely pass it.
    const request = new Request(input, init?.body ? ({ ...init, duplex: 'half' } as RequestInit) : init);
    const url = new URL(request.url);
    let path = url.pathname;
    if (prefix && (path === prefix || path.startsWith(`${prefix}/`))) path = path.slice(prefix.length);
    const key = typeof options.apiKey === 'function' ? await options.apiKey() : options.apiKey;
    const headers = new Headers(request.headers);
    headers.delete('x-api-key');
    headers.set('authorization', `Bearer ${key}`);
    const hasBody = request.body !== null && request.method !== 'GET' && request.method !== 'HEAD';
    return send(`${base}/proxy/${encodeURIComponent(options.connectionId)}${path}${url.search}`, {
      method: request.method,
      headers,
      redirect: 'manual',
      signal: request.signal,
      ...(hasBody ? { body: request.body, duplex: 'half' } : {}),
    } as RequestInit);
  };
}
