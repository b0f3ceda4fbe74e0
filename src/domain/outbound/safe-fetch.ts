import type { LookupAddress, LookupOptions } from 'node:dns';
import type { Readable } from 'node:stream';
import type { Agent, fetch as undiciFetch, request as undiciRequest } from 'undici';
import { NexusError, UrlNotAllowedError } from '../shared/errors.js';
import { internalAddressReason, isIpLiteral } from './address-policy.js';
import type { OutboundPolicy } from './outbound-policy.js';

export interface SafeFetchOptions {
  /** Upper bound on the whole exchange, headers and body. */
  timeoutMs: number;
  /** Largest response body read; larger ones fail. */
  maxBodyBytes?: number;
  /** Redirect hops followed (each one checked) when the caller asks to follow. */
  maxRedirects?: number;
}

export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export interface SafeFetch extends FetchLike {
  /** The same fetch, answering with status and headers only (the body is dropped unread: a probe must not wait on a stream). */
  head(url: string, init?: RequestInit): Promise<Response>;
}

/** An outside server answered with more than we read; to callers, it is unavailable. */
export class ResponseTooLargeError extends NexusError {
  readonly kind = 'unavailable';
  readonly reason = 'PROVIDER_UNAVAILABLE';
  constructor(readonly limit: number) {
    super(`the response is larger than ${limit} bytes`);
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A fetch for URLs that came from untrusted configuration or metadata:
 * - every URL (and every redirect hop) passes OutboundPolicy.checkUrl;
 * - the connection goes to an address checked at connect time, by the
 *   socket's own DNS lookup, so the address checked is the address used
 *   (no window for DNS rebinding);
 * - redirects are never followed blindly: a GET follows at most
 *   maxRedirects hops, each one checked again like the first URL (whatever
 *   `redirect` says: oauth4webapi asks for 'manual' on discovery, where a
 *   checked hop is safe); any other method gets the 3xx back;
 * - a timeout covers the whole exchange and bodies are capped.
 */
export function createSafeFetch(policy: OutboundPolicy, options: SafeFetchOptions): SafeFetch {
  const maxBody = options.maxBodyBytes ?? 512 * 1024;
  const maxRedirects = options.maxRedirects ?? 3;
  // undici (a few MiB of heap) is loaded by the first outbound call, not at start: a server whose
  // tokens are fresh may never make one. One agent per safe fetch, made once.
  let undici: Promise<{ agent: Agent; fetch: typeof undiciFetch }> | undefined;
  const load = () =>
    (undici ??= import('undici').then((lib) => ({
      agent: checkedAgent(lib, policy, { connectTimeoutMs: options.timeoutMs, headersTimeoutMs: options.timeoutMs, bodyTimeoutMs: options.timeoutMs }),
      fetch: lib.fetch,
    })));

  const run = async (input: string, init: RequestInit, discardBody: boolean): Promise<Response> => {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    let url = policy.checkUrl(input, 'url').href;
    const method = (init.method ?? 'GET').toUpperCase();
    const body = init.body;
    const follow = method === 'GET' || method === 'HEAD';
    const { agent, fetch: undiciFetch } = await load();
    for (let hop = 0; ; hop++) {
      let response: Awaited<ReturnType<typeof undiciFetch>>;
      try {
        response = await undiciFetch(url, {
          ...(init as object),
          method,
          body: body as never,
          redirect: 'manual',
          signal,
          dispatcher: agent,
        } as Parameters<typeof undiciFetch>[1]);
      } catch (err) {
        // The connect-time refusal arrives as fetch's TypeError; surface it as itself.
        const cause = (err as { cause?: unknown }).cause;
        if (cause instanceof UrlNotAllowedError) throw cause;
        throw err;
      }
      const location = response.headers.get('location');
      if (follow && response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        if (hop >= maxRedirects) throw new UrlNotAllowedError('url', `redirected more than ${maxRedirects} times`);
        url = policy.checkUrl(new URL(location, url).href, 'redirect').href;
        continue;
      }
      if (discardBody) {
        await response.body?.cancel();
        return new Response(null, { status: response.status, headers: response.headers as unknown as Headers });
      }
      return capped(response as unknown as Response, maxBody);
    }
  };
  return Object.assign((url: string, init: RequestInit = {}) => run(url, init, false), {
    head: (url: string, init: RequestInit = {}) => run(url, init, true),
  });
}

export interface SafeStreamOptions {
  /** TCP (and TLS) connect. */
  connectTimeoutMs: number;
  /** From the request sent to the response's headers. */
  headersTimeoutMs: number;
  /** Longest silence while the response body streams. */
  idleTimeoutMs: number;
}

export interface StreamedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Not decoded (Content-Encoding passes through as sent); the caller reads or destroys it. */
  body: Readable;
}

export interface StreamRequest {
  method: string;
  headers: Record<string, string | string[]>;
  /** A buffer, or a stream read once (never replayed). */
  body?: Buffer | Readable | undefined;
  signal?: AbortSignal;
}

/** A streaming request through the same checks as createSafeFetch: never a redirect followed, bodies never buffered. */
export type SafeStream = (url: URL, init: StreamRequest) => Promise<StreamedResponse>;

/**
 * The SSRF-safe outbound path for the credential-injecting proxy: every URL
 * passes OutboundPolicy.checkUrl and the socket's own DNS lookup refuses
 * internal addresses (the address checked is the address used), as in
 * createSafeFetch; but the request and response bodies stream (undici's
 * `request`, no decoding, no buffering), redirects are handed back to the
 * caller, and the connect, headers and idle-body timeouts are separate so
 * each gets its own error. Errors are undici's (`UND_ERR_CONNECT_TIMEOUT`,
 * `UND_ERR_HEADERS_TIMEOUT`, `UND_ERR_BODY_TIMEOUT`, socket errors) or
 * UrlNotAllowedError.
 */
export function createSafeStream(policy: OutboundPolicy, options: SafeStreamOptions): SafeStream {
  let undici: Promise<{ agent: Agent; request: typeof undiciRequest }> | undefined;
  const load = () =>
    (undici ??= import('undici').then((lib) => ({
      agent: checkedAgent(lib, policy, {
        connectTimeoutMs: options.connectTimeoutMs,
        headersTimeoutMs: options.headersTimeoutMs,
        bodyTimeoutMs: options.idleTimeoutMs,
      }),
      request: lib.request,
    })));
  return async (url, init) => {
    const checked = policy.checkUrl(url.href, 'url');
    const { agent, request } = await load();
    try {
      const response = await request(checked, {
        method: init.method as never,
        headers: init.headers,
        body: init.body ?? null,
        dispatcher: agent,
        ...(init.signal ? { signal: init.signal } : {}),
      } as Parameters<typeof undiciRequest>[1]);
      return { status: response.statusCode, headers: response.headers, body: response.body };
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      if (cause instanceof UrlNotAllowedError) throw cause;
      throw err;
    }
  };
}

/** The socket's DNS lookup: refuses internal addresses unless the host and port are allow-listed (`trusted`). */
/**
 * The undici agent of every outbound call (safe fetch and proxy stream): each new socket's DNS
 * lookup refuses internal addresses unless the endpoint is trusted. The connect-time address check
 * knows the port: an allow-list entry admits its own port only.
 */
function checkedAgent(
  { Agent, buildConnector }: Pick<typeof import('undici'), 'Agent' | 'buildConnector'>,
  policy: OutboundPolicy,
  timeouts: { connectTimeoutMs: number; headersTimeoutMs: number; bodyTimeoutMs: number },
): Agent {
  const checked = buildConnector({ lookup: checkedLookup(policy, false), timeout: timeouts.connectTimeoutMs });
  const trusted = buildConnector({ lookup: checkedLookup(policy, true), timeout: timeouts.connectTimeoutMs });
  return new Agent({
    connect: (opts, callback) => (policy.trustsEndpoint(opts.hostname, opts.port, opts.protocol) ? trusted : checked)(opts, callback),
    headersTimeout: timeouts.headersTimeoutMs,
    bodyTimeout: timeouts.bodyTimeoutMs,
    // Checked connections are not worth keeping: each new one is checked again.
    keepAliveTimeout: 1_000,
  });
}

function checkedLookup(policy: OutboundPolicy, trusted: boolean) {
  return (hostname: string, opts: LookupOptions, callback: LookupCallback): void => {
    // An IP literal is its own answer (a resolver need not know it).
    const literal = isIpLiteral(hostname) ? hostname.replace(/^\[|\]$/g, '') : undefined;
    const resolved = literal ? Promise.resolve([{ address: literal, family: literal.includes(':') ? 6 : 4 }]) : policy.resolve(hostname);
    resolved.then(
      (addresses) => {
        const wanted = opts.family === 4 || opts.family === 6 ? addresses.filter((a) => a.family === opts.family) : addresses;
        if (wanted.length === 0) {
          callback(Object.assign(new Error(`${hostname} has no usable address`), { code: 'ENOTFOUND' }), '');
          return;
        }
        if (!trusted) {
          for (const a of wanted) {
            const reason = internalAddressReason(a.address);
            if (reason) {
              callback(new UrlNotAllowedError('url', `host ${hostname} resolves to ${reason}`) as NodeJS.ErrnoException, '');
              return;
            }
          }
        }
        if (opts.all) callback(null, wanted);
        else callback(null, wanted[0]!.address, wanted[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };
}

/** Reads at most `limit` bytes into a plain (global) Response, so the caller never streams an unbounded body. */
async function capped(response: Response, limit: number): Promise<Response> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > limit) {
    await response.body?.cancel();
    throw new ResponseTooLargeError(limit);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel();
        throw new ResponseTooLargeError(limit);
      }
      chunks.push(value);
    }
  }
  const nullBody = [101, 204, 205, 304].includes(response.status);
  const headers = new Headers(response.headers);
  headers.delete('content-encoding'); // undici has already decoded the body
  headers.delete('content-length');
  return new Response(nullBody ? null : Buffer.concat(chunks), { status: response.status, statusText: response.statusText, headers });
}
