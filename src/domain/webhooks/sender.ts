import type { Readable } from 'node:stream';
import { UrlNotAllowedError } from '../shared/errors.js';
import type { OutboundPolicy } from '../outbound/outbound-policy.js';
import { createSafeStream } from '../outbound/safe-fetch.js';

/** The most of a receiver's answer ever read: a short excerpt for last_error, the rest is never read. */
export const RESPONSE_EXCERPT_BYTES = 512;
/** The excerpt kept in last_error (printable characters only). */
const EXCERPT_CHARS = 200;

export interface WebhookRequest {
  headers: Record<string, string>;
  body: string;
  /** Aborts the attempt (the worker is stopping). */
  signal?: AbortSignal;
}

/** What the receiver answered: its status and, for a failure, a short sanitized excerpt of its body. */
export interface WebhookResponse {
  status: number;
  excerpt: string;
}

/** POSTs one signed webhook; rejects on a network failure, a refused URL or the timeout (see describeFailure). */
export type WebhookSender = (url: string, request: WebhookRequest) => Promise<WebhookResponse>;

/** The attempt ran out of time (NEXUS_WEBHOOK_TIMEOUT_MS). */
export class DeliveryTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
  }
}

/**
 * Webhooks go out through the SSRF-safe stream (safe-fetch.ts): the URL is
 * checked by the outbound policy at delivery time, not only when the
 * endpoint was saved (a name that resolved to a public address then may
 * resolve to an internal one now), and the socket's own lookup refuses
 * internal addresses, so the address checked is the address used. A
 * redirect is never followed (a 3xx is a failed attempt: following it would
 * let a receiver send the signed payload anywhere). One deadline covers
 * connect, headers and the excerpt; at most RESPONSE_EXCERPT_BYTES of the
 * body are read, then the connection is dropped.
 */
export function createWebhookSender(policy: OutboundPolicy, options: { timeoutMs: number }): WebhookSender {
  const { timeoutMs } = options;
  const stream = createSafeStream(policy, { connectTimeoutMs: timeoutMs, headersTimeoutMs: timeoutMs, idleTimeoutMs: timeoutMs });
  return async (url, request) => {
    // Our own controller, disarmed when the attempt ends: a timer or a caller's signal firing later must
    // not reach a finished request (undici would fail its drained body with an unhandled AbortError).
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const stop = () => controller.abort();
    request.signal?.addEventListener('abort', stop, { once: true });
    try {
      const response = await stream(new URL(url), {
        method: 'POST',
        headers: { ...request.headers, 'content-type': 'application/json', 'user-agent': 'Nexus-Webhooks/1' },
        body: Buffer.from(request.body, 'utf8'),
        signal: controller.signal,
      });
      response.body.on('error', () => undefined);
      const ok = response.status >= 200 && response.status < 300;
      const excerpt = ok ? '' : await readExcerpt(response.body);
      response.body.destroy();
      return { status: response.status, excerpt };
    } catch (err) {
      if (timedOut) throw new DeliveryTimeoutError(timeoutMs);
      throw err;
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', stop);
    }
  };
}

async function readExcerpt(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= RESPONSE_EXCERPT_BYTES) break;
    }
  } catch {
    // An excerpt is a courtesy: a body cut short (or timing out) is not the attempt's failure.
  }
  return sanitize(Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8'));
}

/** Printable characters only, whitespace collapsed, bounded: what may go into last_error. */
export function sanitize(text: string): string {
  return text
    .replace(/[^\x20-\x7e]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, EXCERPT_CHARS);
}

/** last_error for an attempt that got no HTTP answer: the kind of failure, never a stack or a header. */
export function describeFailure(err: unknown): string {
  if (err instanceof DeliveryTimeoutError) return err.message;
  if (err instanceof UrlNotAllowedError) return sanitize(`refused by the outbound policy: ${err.message}`);
  const e = err as { code?: unknown; cause?: { code?: unknown }; name?: unknown };
  const code = typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : undefined;
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'timed out';
  if (code) return sanitize(`network error ${code}`);
  if (e.name === 'AbortError') return 'aborted';
  return 'network error';
}
